/* Template loader: SAM template.yaml or CloudFormation JSON -> lk_app_t.
 * Works on libyaml's document tree so every error can name file:line.
 * This file reads the document and walks its Resources; intrinsics.c
 * resolves values, resources.c turns each resource into the app model.
 * The returned app owns all of its strings. */
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app_int.h"
#include "fs.h"
#include "lambkin/lambkin.h"
#include "json.h"
#include "mem.h"
#include "params.h"

#define MAX_TEMPLATE_BYTES (8 * 1024 * 1024)
#define MAX_NODES (1 << 20) /* bounds alias expansion ("billion laughs") */
#define MAX_WARNINGS 256
#define MAX_CONFIG_BYTES (1024 * 1024)
#define SAM_TRANSFORM "AWS::Serverless-2016-10-31"

int lk_app_fail(ctx_t *c, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  int off;

  if (c->err[0]) /* keep the first, innermost error */
    return LK_EINVAL;
  off = snprintf(c->err, c->errlen, "%s:%lu: ", c->file,
                 n ? (unsigned long)n->start_mark.line + 1 : 1UL);
  if (off < 0 || (size_t)off >= c->errlen)
    return LK_EINVAL;
  va_start(ap, fmt);
  vsnprintf(c->err + off, c->errlen - (size_t)off, fmt, ap);
  va_end(ap);
  return LK_EINVAL;
}

void lk_app_warn(ctx_t *c, const yaml_node_t *n, const char *fmt, ...) {
  lk_app_t *app = c->app;
  char line[1024];
  va_list ap;
  int off, i;

  if (n)
    off = snprintf(line, sizeof(line), "%s:%lu: ", c->file,
                   (unsigned long)n->start_mark.line + 1);
  else
    off = snprintf(line, sizeof(line), "%s: ", c->file);
  if (off < 0 || (size_t)off >= sizeof(line))
    off = 0;
  va_start(ap, fmt);
  vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
  va_end(ap);
  for (i = 0; i < app->n_warnings; i++)
    if (strcmp(app->warnings[i], line) == 0)
      return;
  if (app->n_warnings >= MAX_WARNINGS)
    return;
  app->warnings = lk_xrealloc(app->warnings,
                              sizeof(char *) * (size_t)(app->n_warnings + 1));
  app->warnings[app->n_warnings++] = lk_xstrdup(line);
}

/* ---- the yaml tree ---- */

yaml_node_t *lk_app_node(ctx_t *c, int id) {
  return yaml_document_get_node(&c->doc, id);
}

const char *lk_app_scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                          : NULL;
}

int lk_app_local_tag(const yaml_node_t *n) {
  return n->tag && n->tag[0] == '!' && n->tag[1] != '!';
}

/* From the end: a key given twice has its last value, as in PyYAML. */
yaml_node_t *lk_app_get(ctx_t *c, const yaml_node_t *map, const char *k) {
  yaml_node_pair_t *p;

  if (map == NULL || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (p = map->data.mapping.pairs.top; p-- > map->data.mapping.pairs.start;) {
    const char *key = lk_app_scalar(lk_app_node(c, p->key));

    if (key && strcmp(key, k) == 0)
      return lk_app_node(c, p->value);
  }
  return NULL;
}

int lk_app_seq_len(const yaml_node_t *n) {
  return n && n->type == YAML_SEQUENCE_NODE
             ? (int)(n->data.sequence.items.top - n->data.sequence.items.start)
             : 0;
}

yaml_node_t *lk_app_seq_at(ctx_t *c, const yaml_node_t *n, int i) {
  return i < lk_app_seq_len(n) ? lk_app_node(c, n->data.sequence.items.start[i])
                               : NULL;
}

/* A resource's Condition: 0 when it names a false condition (the
 * resource is not created). One that cannot be evaluated is a warning,
 * and the resource stays. */
static int wanted(ctx_t *c, yaml_node_t *res) {
  const char *name = lk_app_scalar(lk_app_get(c, res, "Condition"));
  yaml_node_t *cond = name ? lk_app_get(c, c->conditions, name) : NULL;
  cJSON *v;
  int yes = 1;

  if (name == NULL)
    return 1;
  if (cond == NULL) {
    lk_app_warn(c, res, "unknown condition '%s'; the resource is kept", name);
    return 1;
  }
  v = lk_app_json(c, cond);
  if (v == NULL) {
    lk_app_warn(c, res, "condition %s: %s; the resource is kept", name, c->err);
    c->err[0] = '\0';
  } else {
    yes = !cJSON_IsFalse(v);
  }
  cJSON_Delete(v);
  return yes;
}

/* One line for every type lambkin does not emulate, with counts. */
static void say_not_emulated(ctx_t *c) {
  lk_buf_t b;
  cJSON *t;

  if (cJSON_GetArraySize(c->not_emulated) == 0)
    return;
  lk_buf_init(&b, 900);
  cJSON_ArrayForEach(t, c->not_emulated) {
    lk_buf_printf(&b, "%s%s", b.len ? ", " : "", t->string);
    if (t->valueint > 1)
      lk_buf_printf(&b, " x%d", t->valueint);
  }
  lk_app_warn(c, NULL, "not emulated (loaded for check and policy): %s",
              lk_buf_error(&b) ? "too many types to list" : lk_buf_str(&b));
  lk_buf_free(&b);
}

static int load_resources(ctx_t *c) {
  yaml_node_pair_t *p;
  int err = 0;

  if (c->resources == NULL || c->resources->type != YAML_MAPPING_NODE) {
    lk_app_warn(c, c->resources, "template has no Resources mapping");
    return 0;
  }
  for (p = c->resources->data.mapping.pairs.start;
       err == 0 && p < c->resources->data.mapping.pairs.top; p++) {
    const char *id = lk_app_scalar(lk_app_node(c, p->key));
    yaml_node_t *res = lk_app_node(c, p->value);
    const char *type = lk_app_res_type(c, res);

    if (id == NULL || res->type != YAML_MAPPING_NODE)
      return lk_app_fail(c, res, "a resource must be a mapping under its name");
    if (type == NULL)
      return lk_app_fail(c, res, "resource %s has no Type", id);
    if (wanted(c, res))
      err = lk_app_load_resource(c, id, res, type);
  }
  say_not_emulated(c);
  if (err && c->err[0] == '\0')
    lk_app_fail(c, NULL, "%s", lk_strerror(err));
  return err;
}

/* Parses the text into c->doc; 0, or LK_EINVAL with the error written. */
static int parse(ctx_t *c, const char *text, size_t len) {
  yaml_parser_t parser;
  int ok;

  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  ok = yaml_parser_load(&parser, &c->doc);
  if (!ok)
    snprintf(c->err, c->errlen, "%s:%lu: YAML error: %s", c->file,
             (unsigned long)parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "malformed");
  yaml_parser_delete(&parser);
  return ok ? 0 : LK_EINVAL;
}

/* SAM's transform is what lambkin reads; any other (a macro,
 * AWS::LanguageExtensions) is not applied, which a user should know. */
static void check_transform(ctx_t *c, yaml_node_t *t) {
  int i, n = lk_app_seq_len(t);

  for (i = 0; i < (n ? n : 1); i++) {
    yaml_node_t *one = n ? lk_app_seq_at(c, t, i) : t;
    const char *name = lk_app_scalar(one);

    if (one && (name == NULL || strcmp(name, SAM_TRANSFORM) != 0))
      lk_app_warn(c, one, "Transform %s is not applied by lambkin",
                  name ? name : "(not a name)");
  }
}

/* The document's top-level sections, then its resources. */
static int load_document(ctx_t *c) {
  yaml_node_t *root = yaml_document_get_root_node(&c->doc);

  if (root == NULL || root->type != YAML_MAPPING_NODE)
    return lk_app_fail(c, root, "template must be a mapping with Resources");
  check_transform(c, lk_app_get(c, root, "Transform"));
  c->params = lk_app_get(c, root, "Parameters");
  c->conditions = lk_app_get(c, root, "Conditions");
  c->mappings = lk_app_get(c, root, "Mappings");
  c->globals = lk_app_get(c, root, "Globals");
  c->resources = lk_app_get(c, root, "Resources");
  return load_resources(c);
}

static lk_app_t *app_new(const char *path) {
  lk_app_t *app = lk_xcalloc(1, sizeof(*app));
  const char *region = getenv("AWS_REGION");
  char *slash;

  app->region = lk_xstrdup(region ? region : "us-east-1");
  app->account = lk_xstrdup("123456789012");
  app->path = realpath(path, NULL);
  if (app->path) {
    app->dir = lk_xstrdup(app->path);
    slash = strrchr(app->dir, '/');
    if (slash)
      *slash = '\0';
  }
  return app;
}

/* The samconfig beside the template, as SAM CLI looks for it: .toml,
 * then .yaml, then .yml. */
static const char *find_config(ctx_t *c, char *path, size_t cap) {
  static const char *const names[] = {"samconfig.toml", "samconfig.yaml",
                                      "samconfig.yml", NULL};
  int i;

  for (i = 0; c->app->dir && names[i]; i++)
    if (lk_path_join(path, cap, c->app->dir, names[i]) == 0 &&
        access(path, F_OK) == 0)
      return path;
  return NULL;
}

static int is_yaml(const char *path) {
  size_t n = strlen(path);

  return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
         (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* samconfig's parameter_overrides, then the command line's, into
 * c->values. A samconfig lambkin cannot read is a warning; overrides it
 * cannot read are the user's error. */
static int load_values(ctx_t *c, const lk_app_opts_t *o) {
  char path[PATH_MAX], why[512];
  const char *cfg = o ? o->config_file : NULL;
  const char *env = o ? o->config_env : NULL, *cmd = o ? o->command : NULL;
  size_t len;
  char *text;

  c->values = cJSON_CreateObject();
  if (cfg == NULL)
    cfg = find_config(c, path, sizeof(path));
  text = cfg ? lk_read_file(cfg, MAX_CONFIG_BYTES, &len) : NULL;
  if (text &&
      (is_yaml(cfg) ? lk_samconfig_yaml_parse(text, len, env, cmd, c->values,
                                              why, sizeof(why))
                    : lk_samconfig_parse(text, len, env, cmd, c->values, why,
                                         sizeof(why))))
    lk_app_warn(c, NULL, "%s: %s; its parameters are not used", cfg, why);
  else if (text == NULL && o && o->config_file)
    lk_app_warn(c, NULL, "cannot read %s", o->config_file);
  free(text);
  if (o && o->overrides &&
      lk_params_parse(o->overrides, strlen(o->overrides), c->values, why,
                      sizeof(why))) {
    snprintf(c->err, c->errlen, "--parameter-overrides: %s", why);
    return LK_EINVAL;
  }
  return 0;
}

/* Reads the file; 0, or the error written as the load's. */
static int read_template(ctx_t *c, const char *path, char **text, size_t *len) {
  struct stat st;
  int big;

  *text = lk_read_file(path, MAX_TEMPLATE_BYTES, len);
  if (*text && c->app->path)
    return 0;
  big = stat(path, &st) == 0 && st.st_size > MAX_TEMPLATE_BYTES;
  if (big)
    snprintf(c->err, c->errlen, "%s:1: template larger than %d bytes", path,
             MAX_TEMPLATE_BYTES);
  else
    snprintf(c->err, c->errlen, "%s:1: cannot read template", path);
  free(*text);
  return big ? LK_E2BIG : LK_ENOENT;
}

int lk_app_load(const char *path, const lk_app_opts_t *opts, lk_app_t **out,
                char *err, size_t errlen) {
  ctx_t c;
  char *text = NULL;
  size_t len = 0;
  int rc;

  memset(&c, 0, sizeof(c));
  c.file = path;
  c.err = err;
  c.errlen = errlen;
  c.budget = MAX_NODES;
  err[0] = '\0';
  *out = NULL;
  c.app = app_new(path);
  c.not_emulated = cJSON_CreateObject();
  rc = read_template(&c, path, &text, &len);
  if (rc == 0)
    rc = load_values(&c, opts);
  if (rc == 0)
    rc = parse(&c, text, len);
  free(text);
  if (rc == 0) {
    rc = load_document(&c);
    yaml_document_delete(&c.doc);
  }
  cJSON_Delete(c.values);
  cJSON_Delete(c.not_emulated);
  if (rc) {
    lk_app_free(c.app);
    return rc;
  }
  *out = c.app;
  return 0;
}

static void function_free(lk_function_t *f) {
  int j;

  free(f->logical_id);
  free(f->name);
  free(f->arn);
  free(f->handler);
  free(f->runtime);
  free(f->code_dir);
  for (j = 0; j < f->n_env; j++)
    free(f->env[j]);
  free(f->env);
  cJSON_Delete(f->events);
  cJSON_Delete(f->policies);
  cJSON_Delete(f->destinations);
  free(f->dlq_type);
  free(f->dlq_target);
  free(f->unrunnable);
  for (j = 0; j < f->n_layers; j++) {
    free(f->layers[j]);
    free(f->layer_builds[j]);
  }
  free(f->layers);
  free(f->layer_builds);
  cJSON_Delete(f->build);
}

void lk_app_free(lk_app_t *app) {
  int i;

  if (app == NULL)
    return;
  for (i = 0; i < app->n_functions; i++)
    function_free(&app->functions[i]);
  for (i = 0; i < app->n_buckets; i++) {
    free(app->buckets[i].logical_id);
    free(app->buckets[i].name);
    cJSON_Delete(app->buckets[i].notification);
  }
  for (i = 0; i < app->n_queues; i++) {
    free(app->queues[i].logical_id);
    free(app->queues[i].name);
    free(app->queues[i].arn);
    free(app->queues[i].dlq_arn);
  }
  for (i = 0; i < app->n_log_groups; i++) {
    free(app->log_groups[i].logical_id);
    free(app->log_groups[i].name);
  }
  for (i = 0; i < app->n_tables; i++) {
    free(app->tables[i].logical_id);
    free(app->tables[i].name);
    cJSON_Delete(app->tables[i].spec);
  }
  for (i = 0; i < app->n_subscriptions; i++) {
    free(app->subscriptions[i].logical_id);
    free(app->subscriptions[i].log_group);
    free(app->subscriptions[i].pattern);
    free(app->subscriptions[i].destination_arn);
  }
  free(app->functions);
  free(app->buckets);
  free(app->queues);
  free(app->log_groups);
  free(app->tables);
  for (i = 0; i < app->n_topics; i++) {
    free(app->topics[i].logical_id);
    free(app->topics[i].name);
    cJSON_Delete(app->topics[i].spec);
  }
  free(app->topics);
  for (i = 0; i < app->n_sns_subs; i++) {
    free(app->sns_subs[i].logical_id);
    cJSON_Delete(app->sns_subs[i].spec);
  }
  free(app->sns_subs);
  for (i = 0; i < app->n_rules; i++) {
    free(app->rules[i].logical_id);
    free(app->rules[i].name);
    cJSON_Delete(app->rules[i].spec);
  }
  free(app->rules);
  for (i = 0; i < app->n_buses; i++) {
    free(app->buses[i].logical_id);
    free(app->buses[i].name);
    cJSON_Delete(app->buses[i].spec);
  }
  free(app->buses);
  for (i = 0; i < app->n_kstreams; i++) {
    free(app->kstreams[i].logical_id);
    free(app->kstreams[i].name);
    cJSON_Delete(app->kstreams[i].spec);
  }
  free(app->kstreams);
  free(app->subscriptions);
  for (i = 0; i < app->n_warnings; i++)
    free(app->warnings[i]);
  free(app->warnings);
  if (app->inline_dir)
    lk_remove_tree(app->inline_dir);
  free(app->inline_dir);
  free(app->path);
  free(app->dir);
  free(app->region);
  free(app->account);
  free(app);
}

void lk_app_say_warnings(const lk_app_t *app, FILE *f) {
  int i;

  for (i = 0; i < app->n_warnings; i++)
    fprintf(f, "lambkin: warning: %s\n", app->warnings[i]);
}

lk_function_t *lk_app_function(const lk_app_t *app, const char *name) {
  const char *p = name;
  size_t n;
  int i;

  /* arn:aws:lambda:region:acct:function:NAME[:qualifier] */
  if (strncmp(name, "arn:", 4) == 0) {
    p = strstr(name, ":function:");
    if (p == NULL)
      return NULL;
    p += 10;
  }
  n = strcspn(p, ":");
  for (i = 0; i < app->n_functions; i++) {
    lk_function_t *f = &app->functions[i];

    if ((strlen(f->name) == n && strncmp(f->name, p, n) == 0) ||
        (strlen(f->logical_id) == n && strncmp(f->logical_id, p, n) == 0))
      return f;
  }
  return NULL;
}

void lk_app_rule_name(const lk_function_t *f, const cJSON *event, char *out,
                      size_t cap) {
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(event, "Properties");
  const char *name = lk_json_str(p, "RuleName") ? lk_json_str(p, "RuleName")
                                                : lk_json_str(p, "Name");

  if (name && name[0])
    snprintf(out, cap, "%s", name);
  else
    snprintf(out, cap, "%.60s-%.60s", f->name,
             event->string ? event->string : "");
}
