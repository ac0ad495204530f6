/* The resources lambkin models, each read from its template node into
 * the app: functions (with Globals.Function), buckets, queues, log groups
 * and subscription filters. One loader per type, chosen from a table;
 * what each loader reads is owned by the app. */
#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app_int.h"
#include "fs.h"
#include "lambkin/lambkin.h"
#include "mem.h"

/* A new zeroed element at the end of one of the app's arrays. */
#define APPEND(arr, n)                                                         \
  ((arr) = lk_xrealloc((arr), sizeof(*(arr)) * (size_t)((n) + 1)),             \
   memset(&(arr)[(n)], 0, sizeof(*(arr))), &(arr)[(n)++])

/* The resource's physical name, as a new string. */
static int name_of(ctx_t *c, const char *id, yaml_node_t *res, char **out) {
  lk_buf_t b;
  int err;

  lk_buf_init(&b, 1024);
  err = lk_app_physical_name(c, id, res, &b);
  *out = lk_buf_steal(&b, NULL);
  if (*out == NULL)
    *out = lk_xstrdup("");
  return err;
}

/* ---- functions ---- */

/* The runtimes lambkin runs, and those Lambda no longer supports (they
 * run on the local interpreter, with a warning). */
static const struct {
  const char *prefix;
  lk_runtime_kind_t kind;
} families[] = {
    {"python", LK_RT_PYTHON},
    {"nodejs", LK_RT_NODE},
    {"provided", LK_RT_PROVIDED},
};
static const char *const deprecated[] = {
    "python2.7",  "python3.6",  "python3.7",      "python3.8",  "python3.9",
    "nodejs",     "nodejs4.3",  "nodejs4.3-edge", "nodejs6.10", "nodejs8.10",
    "nodejs10.x", "nodejs12.x", "nodejs14.x",     "nodejs16.x", "nodejs18.x",
};

/* 0 with the kind, or LK_EINVAL for a runtime lambkin does not run. */
static int runtime_kind(const char *rt, lk_runtime_kind_t *kind) {
  size_t i;

  for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
    if (strncmp(rt, families[i].prefix, strlen(families[i].prefix)) == 0) {
      *kind = families[i].kind;
      return 0;
    }
  *kind = LK_RT_NONE;
  return LK_EINVAL;
}

static int is_deprecated(const char *rt) {
  size_t i;

  for (i = 0; i < sizeof(deprecated) / sizeof(deprecated[0]); i++)
    if (strcmp(rt, deprecated[i]) == 0)
      return 1;
  return 0;
}

/* Marks the function as one lambkin loads but does not run, and why. */
static void unrunnable(lk_function_t *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void unrunnable(lk_function_t *f, const char *fmt, ...) {
  char why[1024];
  va_list ap;

  if (f->unrunnable)
    return;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  f->unrunnable = lk_xstrdup(why);
}

static int has_c_sources(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int found = 0;

  if (d == NULL)
    return 0;
  for (e = readdir(d); !found && e; e = readdir(d)) {
    size_t n = strlen(e->d_name);

    found = n > 2 && strcmp(e->d_name + n - 2, ".c") == 0;
  }
  closedir(d);
  return found;
}

/* Function property from the resource, else from Globals.Function. */
static yaml_node_t *fprop(ctx_t *c, yaml_node_t *props, const char *k) {
  yaml_node_t *v = lk_app_get(c, props, k);

  if (v || c->cfn) /* SAM's Globals are not CloudFormation's */
    return v;
  return lk_app_get(c, lk_app_get(c, c->globals, "Function"), k);
}

/* KEY=VALUE into the function's environment; a later value for the same
 * key replaces the earlier one. */
static void set_env(lk_function_t *f, const char *key, char *kv) {
  size_t kl = strlen(key);
  int i;

  for (i = 0; i < f->n_env; i++)
    if (strncmp(f->env[i], kv, kl + 1) == 0) {
      free(f->env[i]);
      f->env[i] = kv;
      return;
    }
  f->env = lk_xrealloc(f->env, sizeof(*f->env) * (size_t)(f->n_env + 1));
  f->env[f->n_env++] = kv;
}

static int add_env(ctx_t *c, lk_function_t *f, yaml_node_t *vars) {
  yaml_node_pair_t *p;

  if (vars == NULL)
    return 0;
  if (vars->type != YAML_MAPPING_NODE)
    return lk_app_fail(c, vars, "Environment.Variables must be a mapping");
  for (p = vars->data.mapping.pairs.start; p < vars->data.mapping.pairs.top;
       p++) {
    const char *k = lk_app_scalar(lk_app_node(c, p->key));
    cJSON *v;
    lk_buf_t kv;
    int err;

    if (k == NULL)
      return lk_app_fail(c, vars, "variable names must be strings");
    v = lk_app_json(c, lk_app_node(c, p->value));
    if (v == NULL)
      return LK_EINVAL;
    err = cJSON_IsRaw(v); /* AWS::NoValue: no variable */
    cJSON_Delete(v);
    if (err)
      continue;
    lk_buf_init(&kv, 64 * 1024);
    lk_buf_printf(&kv, "%s=", k);
    err = lk_app_str(c, lk_app_node(c, p->value), &kv);
    if (err) {
      lk_buf_free(&kv);
      return err == LK_E2BIG ? lk_app_fail(c, vars, "variable %s too long", k)
                             : err;
    }
    set_env(f, k, lk_buf_steal(&kv, NULL));
  }
  return 0;
}

/* The Properties of the template's AWS::IAM::Role that a function's Role
 * names (!GetAtt R.Arn, !Ref R or their Fn:: forms); NULL for a role
 * from outside the template. */
static yaml_node_t *role_props(ctx_t *c, yaml_node_t *role) {
  yaml_node_t *arg = NULL, *res;
  const char *type;
  char fn[LK_APP_NAME_MAX], id[256];

  if (role == NULL || !lk_app_intrinsic(c, role, fn, &arg) ||
      (strcmp(fn, "GetAtt") != 0 && strcmp(fn, "Ref") != 0))
    return NULL;
  if (lk_app_scalar(lk_app_seq_at(c, arg, 0)))
    snprintf(id, sizeof(id), "%s", lk_app_scalar(lk_app_seq_at(c, arg, 0)));
  else if (lk_app_scalar(arg))
    snprintf(id, sizeof(id), "%s", lk_app_scalar(arg));
  else
    return NULL;
  if (strchr(id, '.'))
    *strchr(id, '.') = '\0';
  res = lk_app_get(c, c->resources, id);
  type = res ? lk_app_res_type(c, res) : NULL;
  return type && strcmp(type, "AWS::IAM::Role") == 0
             ? lk_app_get(c, res, "Properties")
             : NULL;
}

/* A role's ManagedPolicyArns and its inline Policies' PolicyDocuments, as
 * the items of a function's Policies. */
static cJSON *role_policies(ctx_t *c, yaml_node_t *props) {
  yaml_node_t *arns = lk_app_get(c, props, "ManagedPolicyArns");
  yaml_node_t *docs = lk_app_get(c, props, "Policies");
  cJSON *out = cJSON_CreateArray(), *j;
  int i;

  for (i = 0; i < lk_app_seq_len(arns); i++) {
    j = lk_app_json(c, lk_app_seq_at(c, arns, i));
    if (j == NULL) {
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddItemToArray(out, j);
  }
  for (i = 0; i < lk_app_seq_len(docs); i++) {
    yaml_node_t *doc =
        lk_app_get(c, lk_app_seq_at(c, docs, i), "PolicyDocument");

    if (doc == NULL)
      continue;
    j = lk_app_json(c, doc);
    if (j == NULL) {
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddItemToArray(out, j);
  }
  return out;
}

/* Runtime and Handler, and what kind of process runs them. A runtime
 * lambkin does not run, or no Runtime at all, still loads. */
static int fn_runtime(ctx_t *c, const char *id, yaml_node_t *props,
                      lk_function_t *f) {
  yaml_node_t *n = fprop(c, props, "Runtime");
  int err;

  f->runtime = lk_app_str_prop(c, n, &err);
  if (err)
    return err;
  if (f->runtime == NULL) {
    f->runtime = lk_xstrdup("");
    unrunnable(f, "%s has no Runtime", id);
  } else if (runtime_kind(f->runtime, &f->kind)) {
    unrunnable(f,
               "runtime %s is not run by lambkin (it runs python3.x, "
               "nodejs*.x and provided*); check and policy cover it",
               f->runtime);
  } else if (is_deprecated(f->runtime)) {
    lk_app_warn(c, n,
                "%s: runtime %s is deprecated in Lambda; it runs on "
                "the local %s",
                id, f->runtime, f->kind == LK_RT_NODE ? "node" : "python3");
  }
  n = fprop(c, props, "Handler");
  f->handler = lk_app_str_prop(c, n, &err);
  if (err)
    return err;
  if (f->handler == NULL)
    f->handler = lk_xstrdup("");
  if ((f->kind == LK_RT_PYTHON || f->kind == LK_RT_NODE) &&
      strchr(f->handler, '.') == NULL)
    unrunnable(f, "%s: Handler '%s' must be module.function", id, f->handler);
  return 0;
}

/* sam build's output for the function into out, when there is one. */
static int built_dir(ctx_t *c, const char *id, char *out, size_t cap) {
  char sub[PATH_MAX];
  struct stat st;

  if ((size_t)snprintf(sub, sizeof(sub), ".aws-sam/build/%s", id) >=
          sizeof(sub) ||
      lk_path_join(out, cap, c->app->dir, sub) || stat(out, &st) ||
      !S_ISDIR(st.st_mode))
    return -1;
  return 0;
}

static int has_bootstrap(const char *dir) {
  char path[PATH_MAX];

  return lk_path_join(path, sizeof(path), dir, "bootstrap") == 0 &&
         access(path, X_OK) == 0;
}

/* 1 when dir holds what runs the function: an executable bootstrap or C
 * sources (provided), or the handler's module (python, node). */
static int runs_from(const lk_function_t *f, const char *dir) {
  static const char *const py[] = {".py", "/__init__.py", NULL};
  static const char *const js[] = {".js", ".mjs", ".cjs", NULL};
  const char *const *ext = f->kind == LK_RT_PYTHON ? py : js;
  const char *dot = strrchr(f->handler, '.');
  char path[PATH_MAX], file[PATH_MAX];

  if (f->kind == LK_RT_PROVIDED)
    return has_bootstrap(dir) || has_c_sources(dir);
  if (dot == NULL)
    return 0;
  for (; *ext; ext++)
    if ((size_t)snprintf(file, sizeof(file), "%.*s%s", (int)(dot - f->handler),
                         f->handler, *ext) < sizeof(file) &&
        lk_path_join(path, sizeof(path), dir, file) == 0 &&
        access(path, R_OK) == 0)
      return 1;
  return 0;
}

/* CodeUri as text: a local folder, relative to the template; NULL for
 * an S3 location (s3:// or a Bucket/Key mapping). */
static int code_uri(ctx_t *c, yaml_node_t *n, char **out) {
  char name[LK_APP_NAME_MAX];
  yaml_node_t *arg;
  int err = 0;

  *out = NULL;
  if (n && n->type == YAML_MAPPING_NODE && !lk_app_intrinsic(c, n, name, &arg))
    return 0;
  *out = n ? lk_app_str_prop(c, n, &err) : lk_xstrdup(".");
  if (err == 0 && *out && strncmp(*out, "s3://", 5) == 0) {
    free(*out);
    *out = NULL;
  }
  return err;
}

/* The folder the function runs from: CodeUri, or sam build's output when
 * CodeUri does not hold what runs it (an S3 location, not built yet, a
 * bootstrap built elsewhere, TypeScript compiled by sam build). */
static int fn_code(ctx_t *c, const char *id, yaml_node_t *uri,
                   lk_function_t *f) {
  char path[PATH_MAX] = "", built[PATH_MAX];
  char *code;
  struct stat st;
  int err = code_uri(c, uri, &code);
  int has_built = built_dir(c, id, built, sizeof(built)) == 0;

  if (err)
    return err;
  if (code &&
      lk_path_join(path, sizeof(path), code[0] == '/' ? "" : c->app->dir,
                   code) == 0 &&
      stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    f->code_dir = realpath(path, NULL);
  if (has_built && (f->code_dir == NULL ||
                    (f->kind != LK_RT_NONE && !runs_from(f, f->code_dir) &&
                     runs_from(f, built)))) {
    free(f->code_dir);
    f->code_dir = realpath(built, NULL);
  }
  if (f->code_dir == NULL) {
    if (code)
      unrunnable(f, "%s: CodeUri '%s' does not exist (not built yet?)", id,
                 code);
    else
      unrunnable(f,
                 "%s: its code is in S3; lambkin runs local code or "
                 "sam build's output",
                 id);
    f->code_dir = lk_xstrdup(path[0] ? path : c->app->dir);
  }
  free(code);
  if (f->kind != LK_RT_PROVIDED || f->unrunnable)
    return 0;
  if (!runs_from(f, f->code_dir))
    unrunnable(f,
               "%s: CodeUri has neither an executable bootstrap nor C "
               "sources, and there is no .aws-sam/build/%s/bootstrap",
               id, id);
  else if (!has_bootstrap(f->code_dir))
    f->kind = LK_RT_C;
  return 0;
}

/* ---- layers ---- */

/* The folder of a layer resource of the template: its ContentUri (or a
 * local Content), or sam build's output for it, which wins since a
 * layer's source is often a requirements.txt that only a build makes
 * into python/. NULL when neither is there. */
static char *layer_dir(ctx_t *c, const char *id, yaml_node_t *res) {
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  yaml_node_t *n = lk_app_get(c, props, "ContentUri");
  char path[PATH_MAX], *uri;
  struct stat st;
  int err = 0;

  if (built_dir(c, id, path, sizeof(path)) == 0)
    return realpath(path, NULL);
  if (n == NULL)
    n = lk_app_get(c, props, "Content");
  if (code_uri(c, n, &uri) || uri == NULL)
    return NULL;
  err = lk_path_join(path, sizeof(path), uri[0] == '/' ? "" : c->app->dir, uri);
  free(uri);
  return err == 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)
             ? realpath(path, NULL)
             : NULL;
}

/* The template's layer resource an item of Layers names (!Ref L, or the
 * ARN such a Ref gives), or NULL for a layer from outside. */
static yaml_node_t *layer_res(ctx_t *c, yaml_node_t *item, const char **id) {
  char fn[LK_APP_NAME_MAX];
  yaml_node_t *arg, *res;
  const char *type;

  if (!lk_app_intrinsic(c, item, fn, &arg) || strcmp(fn, "Ref") != 0 ||
      lk_app_scalar(arg) == NULL)
    return NULL;
  *id = lk_app_scalar(arg);
  res = lk_app_get(c, c->resources, *id);
  type = res ? lk_app_res_type(c, res) : NULL;
  return type && strstr(type, "::LayerVersion") ? res : NULL;
}

/* A layer's BuildMethod (python3.12, nodejs20.x, makefile...), or NULL
 * when it has none or its folder is sam build's output. */
static char *build_method(ctx_t *c, yaml_node_t *res, const char *dir) {
  const char *m = lk_app_scalar(
      lk_app_get(c, lk_app_get(c, res, "Metadata"), "BuildMethod"));

  return m && strstr(dir, "/.aws-sam/build/") == NULL ? lk_xstrdup(m) : NULL;
}

static void add_layer(ctx_t *c, lk_function_t *f, char *dir, yaml_node_t *res) {
  size_t n = sizeof(char *) * (size_t)(f->n_layers + 1);

  f->layers = lk_xrealloc(f->layers, n);
  f->layer_builds = lk_xrealloc(f->layer_builds, n);
  f->layers[f->n_layers] = dir;
  f->layer_builds[f->n_layers++] = build_method(c, res, dir);
}

/* Layers: the local ones, last first (a later layer's files win, as
 * they overwrite earlier ones in /opt); one from outside is a warning. */
static int fn_layers(ctx_t *c, const char *id, yaml_node_t *props,
                     lk_function_t *f) {
  yaml_node_t *list = fprop(c, props, "Layers");
  int i, n = lk_app_seq_len(list), err = 0;

  for (i = n - 1; i >= 0 && err == 0; i--) {
    yaml_node_t *item = lk_app_seq_at(c, list, i);
    const char *lid = NULL;
    yaml_node_t *res = layer_res(c, item, &lid);
    char *dir = res ? layer_dir(c, lid, res) : NULL, *what;

    if (dir) {
      add_layer(c, f, dir, res);
      continue;
    }
    what = lk_app_str_prop(c, item, &err);
    if (err == 0)
      lk_app_warn(c, item,
                  "%s: layer %s is not available here (%s); the "
                  "function runs without it",
                  id, what ? what : "?",
                  res ? "its content folder does not exist"
                      : "only a layer of the template, with a local "
                        "ContentUri, is");
    free(what);
  }
  return err;
}

/* InlineCode (python and node), written where the function runs from:
 * a private folder of the app's, removed with it. */
static int fn_inline(ctx_t *c, const char *id, yaml_node_t *code,
                     lk_function_t *f) {
  const char *dot = strrchr(f->handler, '.');
  char dir[PATH_MAX], file[PATH_MAX], name[PATH_MAX];
  char *text;
  int err;

  f->code_dir = lk_xstrdup(c->app->dir);
  if ((f->kind != LK_RT_PYTHON && f->kind != LK_RT_NODE) || f->unrunnable ||
      dot == NULL || strstr(f->handler, "..")) {
    unrunnable(f, "%s: InlineCode runs for python and nodejs handlers only",
               id);
    return 0;
  }
  text = lk_app_str_prop(c, code, &err);
  if (err)
    return err;
  if (c->app->inline_dir == NULL) {
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/lambkin-inline-XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    c->app->inline_dir = mkdtemp(dir) ? lk_xstrdup(dir) : NULL;
  }
  snprintf(name, sizeof(name), "%.*s.%s", (int)(dot - f->handler), f->handler,
           f->kind == LK_RT_PYTHON ? "py" : "js");
  err = c->app->inline_dir == NULL ||
        lk_path_join(dir, sizeof(dir), c->app->inline_dir, id) ||
        lk_path_join(file, sizeof(file), dir, name) || lk_mkdirs(dir) ||
        lk_write_file_atomic(file, text, strlen(text));
  free(text);
  if (err)
    return lk_app_fail(c, code, "cannot write %s's InlineCode", id);
  free(f->code_dir);
  f->code_dir = realpath(dir, NULL);
  f->inline_code = 1;
  return f->code_dir ? 0 : lk_app_fail(c, code, "InlineCode of %s lost", id);
}

/* Timeout, MemorySize and ReservedConcurrentExecutions. */
static int fn_limits(ctx_t *c, yaml_node_t *props, lk_function_t *f) {
  int err;

  err =
      lk_app_int_prop(c, fprop(c, props, "Timeout"), 1, 900, 3, &f->timeout_s);
  if (err == 0)
    err = lk_app_int_prop(c, fprop(c, props, "MemorySize"), 128, 10240, 128,
                          &f->memory_mb);
  if (err == 0)
    err = lk_app_int_prop(c, fprop(c, props, "ReservedConcurrentExecutions"), 0,
                          1000, -1, &f->reserved_concurrency);
  return err;
}

/* Events and Policies as resolved trees; a Role of the template's own
 * replaces the Policies, as SAM does. */
static int fn_events_policies(ctx_t *c, yaml_node_t *props, lk_function_t *f) {
  yaml_node_t *n = fprop(c, props, "Events");

  f->events = n ? lk_app_json(c, n) : cJSON_CreateObject();
  if (f->events == NULL)
    return LK_EINVAL;
  if (!cJSON_IsObject(f->events))
    return lk_app_fail(c, n, "Events must be a mapping");
  n = fprop(c, props, "Policies");
  f->policies = n ? lk_app_json(c, n) : cJSON_CreateArray();
  if (f->policies == NULL)
    return LK_EINVAL;
  n = role_props(c, fprop(c, props, "Role"));
  if (n) { /* SAM ignores Policies when Role is given: the role's apply */
    cJSON_Delete(f->policies);
    f->policies = role_policies(c, n);
    if (f->policies == NULL)
      return LK_EINVAL;
  }
  if (!cJSON_IsArray(f->policies)) {
    cJSON *a = cJSON_CreateArray();

    cJSON_AddItemToArray(a, f->policies);
    f->policies = a;
  }
  return 0;
}

static int cfn_dead_letter(ctx_t *c, yaml_node_t *n, lk_function_t *f) {
  int err = 0;

  f->dlq_target = lk_app_str_prop(c, lk_app_get(c, n, "TargetArn"), &err);
  if (err == 0 && f->dlq_target)
    f->dlq_type = lk_xstrdup(strstr(f->dlq_target, ":sns:") ? "SNS" : "SQS");
  return err;
}

/* DeadLetterQueue and EventInvokeConfig: where failed async events go. */
static int fn_async(ctx_t *c, yaml_node_t *props, lk_function_t *f) {
  yaml_node_t *n = fprop(c, props, "DeadLetterQueue");
  int err = 0;

  if (c->cfn) /* DeadLetterConfig: {TargetArn}, the type in the ARN */
    return cfn_dead_letter(c, lk_app_get(c, props, "DeadLetterConfig"), f);
  if (n) {
    f->dlq_type = lk_app_str_prop(c, lk_app_get(c, n, "Type"), &err);
    if (err == 0)
      f->dlq_target = lk_app_str_prop(c, lk_app_get(c, n, "TargetArn"), &err);
    if (err)
      return err;
    if (f->dlq_type == NULL || f->dlq_target == NULL)
      return lk_app_fail(c, n, "DeadLetterQueue needs Type and TargetArn");
  }
  n = fprop(c, props, "EventInvokeConfig");
  if (n == NULL)
    return 0;
  err = lk_app_int_prop(c, lk_app_get(c, n, "MaximumRetryAttempts"), 0, 2, -1,
                        &f->max_retry_attempts);
  if (err == 0)
    err = lk_app_int_prop(c, lk_app_get(c, n, "MaximumEventAgeInSeconds"), 60,
                          21600, -1, &f->max_event_age_s);
  if (err == 0 && lk_app_get(c, n, "DestinationConfig")) {
    f->destinations = lk_app_json(c, lk_app_get(c, n, "DestinationConfig"));
    if (f->destinations == NULL)
      err = LK_EINVAL;
  }
  return err;
}

/* Metadata of a node function that sam build bundles with esbuild
 * (TypeScript, usually), unless its code is sam build's output. */
static int fn_build(ctx_t *c, yaml_node_t *res, lk_function_t *f) {
  yaml_node_t *meta = lk_app_get(c, res, "Metadata");
  const char *m = lk_app_scalar(lk_app_get(c, meta, "BuildMethod"));

  if (m == NULL || strcmp(m, "esbuild") != 0 || f->kind != LK_RT_NODE ||
      f->inline_code || strstr(f->code_dir, "/.aws-sam/build/"))
    return 0;
  f->build = lk_app_json(c, meta);
  return f->build ? 0 : LK_EINVAL;
}

static int load_function(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  yaml_node_t *n, *code;
  lk_function_t *f = APPEND(app->functions, app->n_functions);
  int err, image;

  f->line = (int)res->start_mark.line + 1;
  f->logical_id = lk_xstrdup(id);
  f->reserved_concurrency = -1;
  f->max_retry_attempts = -1;
  f->max_event_age_s = -1;
  n = fprop(c, props, "PackageType");
  image = lk_app_scalar(n) && strcmp(lk_app_scalar(n), "Image") == 0;
  if (image)
    unrunnable(f,
               "%s: PackageType Image is not run by lambkin (it runs zip "
               "functions); check and policy cover it",
               id);
  err = name_of(c, id, res, &f->name);
  if (err)
    return err;
  f->arn = lk_xasprintf("arn:aws:lambda:%s:%s:function:%s", app->region,
                        app->account, f->name);
  err = fn_runtime(c, id, props, f);
  if (image)
    f->kind = LK_RT_NONE;
  code = c->cfn ? lk_app_get(c, props, "Code") : fprop(c, props, "CodeUri");
  n = c->cfn ? lk_app_get(c, code, "ZipFile")
             : lk_app_get(c, props, "InlineCode");
  if (err == 0)
    err = n ? fn_inline(c, id, n, f) : fn_code(c, id, code, f);
  if (err == 0)
    err = fn_layers(c, id, props, f);
  if (err == 0)
    err = fn_build(c, res, f);
  if (err == 0)
    err = fn_limits(c, props, f);
  /* Globals first, then the function's own variables override them. */
  if (err == 0 && !c->cfn)
    err =
        add_env(c, f,
                lk_app_get(c,
                           lk_app_get(c, lk_app_get(c, c->globals, "Function"),
                                      "Environment"),
                           "Variables"));
  if (err == 0)
    err = add_env(
        c, f, lk_app_get(c, lk_app_get(c, props, "Environment"), "Variables"));
  if (err == 0)
    err = fn_events_policies(c, props, f);
  if (err == 0)
    err = fn_async(c, props, f);
  return err;
}

/* ---- buckets, queues, log groups, subscriptions ---- */

static int load_bucket(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *nc = lk_app_get(c, lk_app_get(c, res, "Properties"),
                               "NotificationConfiguration");
  lk_bucket_t *b = APPEND(app->buckets, app->n_buckets);
  int err;

  b->logical_id = lk_xstrdup(id);
  b->line = (int)res->start_mark.line + 1;
  err = name_of(c, id, res, &b->name);
  if (err == 0 && nc) {
    b->notification = lk_app_json(c, nc);
    if (b->notification == NULL)
      err = LK_EINVAL;
  }
  return err;
}

/* RedrivePolicy, which may be a mapping or a JSON string. */
static int queue_redrive(ctx_t *c, yaml_node_t *rp, lk_queue_t *q) {
  cJSON *j = lk_app_json(c, rp), *arn, *max;
  int err = 0;

  if (j && cJSON_IsString(j)) {
    cJSON *parsed = cJSON_Parse(j->valuestring);

    cJSON_Delete(j);
    j = parsed;
  }
  arn = cJSON_GetObjectItemCaseSensitive(j, "deadLetterTargetArn");
  max = cJSON_GetObjectItemCaseSensitive(j, "maxReceiveCount");
  if (cJSON_IsString(max))
    q->max_receive_count = (int)strtol(max->valuestring, NULL, 10);
  else if (cJSON_IsNumber(max))
    q->max_receive_count = max->valueint;
  if (!cJSON_IsString(arn) || q->max_receive_count < 1)
    err = lk_app_fail(c, rp,
                      "RedrivePolicy needs deadLetterTargetArn and "
                      "maxReceiveCount >= 1");
  else
    q->dlq_arn = lk_xstrdup(arn->valuestring);
  cJSON_Delete(j);
  return err;
}

static int load_queue(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  yaml_node_t *rp = lk_app_get(c, props, "RedrivePolicy");
  lk_queue_t *q = APPEND(app->queues, app->n_queues);
  size_t len;
  int err;

  q->logical_id = lk_xstrdup(id);
  q->line = (int)res->start_mark.line + 1;
  err = name_of(c, id, res, &q->name);
  if (err)
    return err;
  q->arn =
      lk_xasprintf("arn:aws:sqs:%s:%s:%s", app->region, app->account, q->name);
  len = strlen(q->name);
  q->fifo = len > 5 && strcmp(q->name + len - 5, ".fifo") == 0;
  err = lk_app_int_prop(c, lk_app_get(c, props, "VisibilityTimeout"), 0, 43200,
                        30, &q->visibility_timeout_s);
  if (err == 0)
    err = lk_app_int_prop(c, lk_app_get(c, props, "DelaySeconds"), 0, 900, 0,
                          &q->delay_s);
  if (err == 0 && rp)
    err = queue_redrive(c, rp, q);
  return err;
}

static int load_log_group(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  lk_log_group_t *g = APPEND(app->log_groups, app->n_log_groups);
  int err;

  g->logical_id = lk_xstrdup(id);
  g->line = (int)res->start_mark.line + 1;
  err = name_of(c, id, res, &g->name);
  if (err == 0)
    err = lk_app_int_prop(
        c, lk_app_get(c, lk_app_get(c, res, "Properties"), "RetentionInDays"),
        0, 3653, 0, &g->retention_days);
  return err;
}

/* AWS::DynamoDB::Table: its Properties are a CreateTable request, with
 * the table's name (given or made) in TableName. */
static int load_table(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  lk_table_t *t = APPEND(app->tables, app->n_tables);
  int err;

  t->logical_id = lk_xstrdup(id);
  t->line = (int)res->start_mark.line + 1;
  err = name_of(c, id, res, &t->name);
  t->spec = props ? lk_app_json(c, props) : cJSON_CreateObject();
  if (err == 0 && !cJSON_IsObject(t->spec))
    err = LK_EINVAL;
  if (err == 0) {
    cJSON_DeleteItemFromObjectCaseSensitive(t->spec, "TableName");
    cJSON_AddStringToObject(t->spec, "TableName", t->name);
  }
  return err;
}

/* AWS::Serverless::SimpleTable: PrimaryKey {Name, Type: String | Number
 * | Binary}, id of String when absent, as SAM expands it. */
static int load_simple_table(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  yaml_node_t *pk = lk_app_get(c, props, "PrimaryKey");
  lk_table_t *t = APPEND(app->tables, app->n_tables);
  char *name = NULL, *type = NULL;
  cJSON *ks, *defs, *k;
  int err;

  t->logical_id = lk_xstrdup(id);
  t->line = (int)res->start_mark.line + 1;
  err = name_of(c, id, res, &t->name);
  if (err == 0 && pk)
    name = lk_app_str_prop(c, lk_app_get(c, pk, "Name"), &err);
  if (err == 0 && pk)
    type = lk_app_str_prop(c, lk_app_get(c, pk, "Type"), &err);
  t->spec = cJSON_CreateObject();
  cJSON_AddStringToObject(t->spec, "TableName", t->name);
  ks = cJSON_AddArrayToObject(t->spec, "KeySchema");
  k = cJSON_CreateObject();
  cJSON_AddStringToObject(k, "AttributeName", name ? name : "id");
  cJSON_AddStringToObject(k, "KeyType", "HASH");
  cJSON_AddItemToArray(ks, k);
  defs = cJSON_AddArrayToObject(t->spec, "AttributeDefinitions");
  k = cJSON_CreateObject();
  cJSON_AddStringToObject(k, "AttributeName", name ? name : "id");
  cJSON_AddStringToObject(k, "AttributeType",
                          type && strcmp(type, "Number") == 0   ? "N"
                          : type && strcmp(type, "Binary") == 0 ? "B"
                                                                : "S");
  cJSON_AddItemToArray(defs, k);
  cJSON_AddStringToObject(t->spec, "BillingMode",
                          lk_app_get(c, props, "ProvisionedThroughput")
                              ? "PROVISIONED"
                              : "PAY_PER_REQUEST");
  free(name);
  free(type);
  return err;
}

/* A named resource read as its resolved Properties into t. */
static int load_named(ctx_t *c, const char *id, yaml_node_t *res, lk_res_t *t) {
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  int err;

  t->logical_id = lk_xstrdup(id);
  t->line = (int)res->start_mark.line + 1;
  err = name_of(c, id, res, &t->name);
  t->spec = props ? lk_app_json(c, props) : cJSON_CreateObject();
  if (err == 0 && !cJSON_IsObject(t->spec))
    err = LK_EINVAL;
  return err;
}

static int load_rule(ctx_t *c, const char *id, yaml_node_t *res) {
  return load_named(c, id, res, APPEND(c->app->rules, c->app->n_rules));
}

static int load_kstream(ctx_t *c, const char *id, yaml_node_t *res) {
  return load_named(c, id, res, APPEND(c->app->kstreams, c->app->n_kstreams));
}

static int load_bus(ctx_t *c, const char *id, yaml_node_t *res) {
  return load_named(c, id, res, APPEND(c->app->buses, c->app->n_buses));
}

/* AWS::SNS::Topic: its name and Properties. */
static int load_topic(ctx_t *c, const char *id, yaml_node_t *res) {
  return load_named(c, id, res, APPEND(c->app->topics, c->app->n_topics));
}

static int load_sns_subscription(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  lk_res_t *u = APPEND(app->sns_subs, app->n_sns_subs);

  u->logical_id = lk_xstrdup(id);
  u->line = (int)res->start_mark.line + 1;
  u->spec = props ? lk_app_json(c, props) : cJSON_CreateObject();
  return cJSON_IsObject(u->spec) ? 0 : LK_EINVAL;
}

static int load_subscription(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  lk_subscription_t *s = APPEND(app->subscriptions, app->n_subscriptions);
  int err = 0;

  s->logical_id = lk_xstrdup(id);
  s->line = (int)res->start_mark.line + 1;
  s->log_group = lk_app_str_prop(c, lk_app_get(c, props, "LogGroupName"), &err);
  if (err == 0)
    s->pattern =
        lk_app_str_prop(c, lk_app_get(c, props, "FilterPattern"), &err);
  if (err == 0)
    s->destination_arn =
        lk_app_str_prop(c, lk_app_get(c, props, "DestinationArn"), &err);
  if (err == 0 && (s->log_group == NULL || s->destination_arn == NULL))
    err = lk_app_fail(c, res,
                      "SubscriptionFilter %s needs LogGroupName and "
                      "DestinationArn",
                      id);
  if (err == 0 && s->pattern == NULL)
    s->pattern = lk_xstrdup("");
  return err;
}

/* The resource types lambkin models. */
/* A CloudFormation function: Code (ZipFile, a local folder, or S3)
 * where SAM has CodeUri, no Globals, no Events. */
static int load_cfn_function(ctx_t *c, const char *id, yaml_node_t *res) {
  int err;

  c->cfn = 1;
  err = load_function(c, id, res);
  c->cfn = 0;
  return err;
}

static const struct {
  const char *type;
  int (*load)(ctx_t *c, const char *id, yaml_node_t *res);
} loaders[] = {
    {"AWS::Serverless::Function", load_function},
    {"AWS::Lambda::Function", load_cfn_function},
    {"AWS::S3::Bucket", load_bucket},
    {"AWS::SQS::Queue", load_queue},
    {"AWS::Logs::LogGroup", load_log_group},
    {"AWS::Logs::SubscriptionFilter", load_subscription},
    {"AWS::DynamoDB::Table", load_table},
    {"AWS::Serverless::SimpleTable", load_simple_table},
    {"AWS::SNS::Topic", load_topic},
    {"AWS::SNS::Subscription", load_sns_subscription},
    {"AWS::Events::Rule", load_rule},
    {"AWS::Events::EventBus", load_bus},
    {"AWS::Kinesis::Stream", load_kstream},
};

/* Types check and policy read (roles, permissions, APIs) or functions
 * use (layers), though no service of lambkin's is behind them: not
 * worth a warning. */
static const char *const understood[] = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    "AWS::Serverless::Api",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::LayerVersion",
    "AWS::Lambda::LayerVersion",
};

int lk_app_load_resource(ctx_t *c, const char *id, yaml_node_t *res,
                         const char *type) {
  cJSON *count;
  size_t i;

  (void)id;
  for (i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++)
    if (strcmp(type, loaders[i].type) == 0)
      return loaders[i].load(c, id, res);
  for (i = 0; i < sizeof(understood) / sizeof(understood[0]); i++)
    if (strcmp(type, understood[i]) == 0)
      return 0;
  count = cJSON_GetObjectItemCaseSensitive(c->not_emulated, type);
  if (count)
    cJSON_SetNumberValue(count, count->valuedouble + 1);
  else
    cJSON_AddNumberToObject(c->not_emulated, type, 1);
  return 0;
}

/* ---- --env-vars ---- */

/* Sets the declared variable key of f to v (a string, number or bool). */
static int env_override(lk_function_t *f, const cJSON *v, char *err,
                        size_t errlen) {
  const char *key = v->string;
  size_t kl = strlen(key);
  int i;

  for (i = 0; i < f->n_env; i++)
    if (strncmp(f->env[i], key, kl) == 0 && f->env[i][kl] == '=')
      break;
  if (i == f->n_env)
    return 0; /* not declared: SAM CLI does not add it either */
  free(f->env[i]);
  if (cJSON_IsString(v))
    f->env[i] = lk_xasprintf("%s=%s", key, v->valuestring);
  else if (cJSON_IsBool(v))
    f->env[i] = lk_xasprintf("%s=%s", key, cJSON_IsTrue(v) ? "true" : "false");
  else if (cJSON_IsNumber(v) &&
           v->valuedouble == (double)(long long)v->valuedouble)
    f->env[i] = lk_xasprintf("%s=%lld", key, (long long)v->valuedouble);
  else if (cJSON_IsNumber(v))
    f->env[i] = lk_xasprintf("%s=%g", key, v->valuedouble);
  else {
    f->env[i] = lk_xasprintf("%s=", key);
    snprintf(err, errlen,
             "--env-vars: %s of %s must be a string, number or "
             "boolean",
             key, f->logical_id);
    return LK_EINVAL;
  }
  return 0;
}

static int env_section(lk_function_t *f, const cJSON *vars, char *err,
                       size_t errlen) {
  const cJSON *v;
  int rc = 0;

  if (vars == NULL)
    return 0;
  if (!cJSON_IsObject(vars)) {
    snprintf(err, errlen, "--env-vars: the entry of %s must be an object",
             f->logical_id);
    return LK_EINVAL;
  }
  cJSON_ArrayForEach(v, vars) {
    if (rc == 0)
      rc = env_override(f, v, err, errlen);
  }
  return rc;
}

int lk_app_env_vars(lk_app_t *app, const cJSON *doc, char *err, size_t errlen) {
  int i, rc = 0;

  if (!cJSON_IsObject(doc)) {
    snprintf(err, errlen, "--env-vars: the file must hold a JSON object");
    return LK_EINVAL;
  }
  for (i = 0; i < app->n_functions && rc == 0; i++) {
    lk_function_t *f = &app->functions[i];
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(doc, f->logical_id);

    if (own == NULL)
      own = cJSON_GetObjectItemCaseSensitive(doc, f->name);
    rc = env_section(f, cJSON_GetObjectItemCaseSensitive(doc, "Parameters"),
                     err, errlen);
    if (rc == 0)
      rc = env_section(f, own, err, errlen);
  }
  return rc;
}
