/* The resources lambkin models, each read from its template node into
 * the app: functions (with Globals.Function), buckets, queues, log groups
 * and subscription filters. One loader per type, chosen from a table;
 * what each loader reads is owned by the app. */
#include <ctype.h>
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

static int runtime_kind(const char *rt, lk_runtime_kind_t *kind) {
  const char *p;

  if (strncmp(rt, "python3.", 8) == 0) {
    for (p = rt + 8; isdigit((unsigned char)*p); p++)
      ;
    *kind = LK_RT_PYTHON;
    return *p == '\0' && p > rt + 8 ? 0 : LK_EINVAL;
  }
  if (strncmp(rt, "nodejs", 6) == 0) {
    for (p = rt + 6; isdigit((unsigned char)*p); p++)
      ;
    *kind = LK_RT_NODE;
    return strcmp(p, ".x") == 0 && p > rt + 6 ? 0 : LK_EINVAL;
  }
  *kind = LK_RT_PROVIDED;
  if (strcmp(rt, "provided") == 0 || strcmp(rt, "provided.al2") == 0 ||
      strcmp(rt, "provided.al2023") == 0)
    return 0;
  return LK_EINVAL;
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

  return v ? v : lk_app_get(c, lk_app_get(c, c->globals, "Function"), k);
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

/* Runtime and Handler, and what kind of process runs them. */
static int fn_runtime(ctx_t *c, const char *id, yaml_node_t *res,
                      yaml_node_t *props, lk_function_t *f) {
  yaml_node_t *n = fprop(c, props, "Runtime");
  int err;

  if (n == NULL)
    return lk_app_fail(c, res, "function %s has no Runtime", id);
  f->runtime = lk_app_str_prop(c, n, &err);
  if (err)
    return err;
  if (runtime_kind(f->runtime, &f->kind))
    return lk_app_fail(c, n,
                       "unknown Runtime '%s' (python3.x, nodejs*.x, provided, "
                       "provided.al2, provided.al2023)",
                       f->runtime);
  n = fprop(c, props, "Handler");
  if (n == NULL)
    return lk_app_fail(c, res, "function %s has no Handler", id);
  f->handler = lk_app_str_prop(c, n, &err);
  if (err)
    return err;
  if (f->handler[0] == '\0')
    return lk_app_fail(c, n, "function %s has an empty Handler", id);
  if ((f->kind == LK_RT_PYTHON || f->kind == LK_RT_NODE) &&
      strchr(f->handler, '.') == NULL)
    return lk_app_fail(c, n, "Handler '%s' must be module.function",
                       f->handler);
  return 0;
}

/* CodeUri: a local folder, relative to the template. A provided runtime
 * runs its bootstrap, or lambkin's own for C sources. */
static int fn_code(ctx_t *c, const char *id, yaml_node_t *res,
                   yaml_node_t *props, lk_function_t *f) {
  yaml_node_t *n = fprop(c, props, "CodeUri"), *arg;
  char path[PATH_MAX], name[LK_APP_NAME_MAX], *code;
  struct stat st;
  int err = 0;

  if (n && n->type != YAML_SCALAR_NODE && !lk_app_local_tag(n) &&
      !lk_app_intrinsic(c, n, name, &arg))
    return lk_app_fail(c, n,
                       "CodeUri must be a local folder, not an S3 "
                       "location");
  code = n ? lk_app_str_prop(c, n, &err) : lk_xstrdup(".");
  if (err)
    return err;
  if (strncmp(code, "s3://", 5) == 0) {
    free(code);
    return lk_app_fail(c, n,
                       "CodeUri must be a local folder, not an S3 "
                       "location");
  }
  if (code[0] == '/')
    err = lk_path_join(path, sizeof(path), "", code);
  else
    err = lk_path_join(path, sizeof(path), c->app->dir, code);
  if (err || stat(path, &st) || !S_ISDIR(st.st_mode)) {
    err = lk_app_fail(c, n ? n : res,
                      "CodeUri '%s' does not exist or is not a folder", code);
    free(code);
    return err;
  }
  free(code);
  f->code_dir = realpath(path, NULL);
  if (f->code_dir == NULL)
    return lk_app_fail(c, n ? n : res, "CodeUri of %s cannot be resolved", id);
  if (f->kind != LK_RT_PROVIDED)
    return 0;
  if (lk_path_join(path, sizeof(path), f->code_dir, "bootstrap") == 0 &&
      access(path, X_OK) == 0)
    return 0;
  if (has_c_sources(f->code_dir)) {
    f->kind = LK_RT_C;
    return 0;
  }
  return lk_app_fail(c, n ? n : res,
                     "CodeUri of %s has neither an executable bootstrap nor C "
                     "sources",
                     id);
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

/* DeadLetterQueue and EventInvokeConfig: where failed async events go. */
static int fn_async(ctx_t *c, yaml_node_t *props, lk_function_t *f) {
  yaml_node_t *n = fprop(c, props, "DeadLetterQueue");
  int err = 0;

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

static int load_function(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  yaml_node_t *n;
  lk_function_t *f = APPEND(app->functions, app->n_functions);
  int err;

  f->line = (int)res->start_mark.line + 1;
  f->logical_id = lk_xstrdup(id);
  f->reserved_concurrency = -1;
  f->max_retry_attempts = -1;
  f->max_event_age_s = -1;
  if (lk_app_get(c, props, "InlineCode"))
    return lk_app_fail(c, lk_app_get(c, props, "InlineCode"),
                       "InlineCode is not supported; use CodeUri");
  n = fprop(c, props, "PackageType");
  if (lk_app_scalar(n) && strcmp(lk_app_scalar(n), "Image") == 0)
    return lk_app_fail(c, n, "%s: PackageType Image is not supported", id);
  err = name_of(c, id, res, &f->name);
  if (err)
    return err;
  f->arn = lk_xasprintf("arn:aws:lambda:%s:%s:function:%s", app->region,
                        app->account, f->name);
  err = fn_runtime(c, id, res, props, f);
  if (err == 0)
    err = fn_code(c, id, res, props, f);
  if (err == 0)
    err = fn_limits(c, props, f);
  /* Globals first, then the function's own variables override them. */
  if (err == 0)
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

/* The resource types lambkin models. Other types (roles, APIs,
 * permissions) are accepted and ignored. */
static const struct {
  const char *type;
  int (*load)(ctx_t *c, const char *id, yaml_node_t *res);
} loaders[] = {
    {"AWS::Serverless::Function", load_function},
    {"AWS::S3::Bucket", load_bucket},
    {"AWS::SQS::Queue", load_queue},
    {"AWS::Logs::LogGroup", load_log_group},
    {"AWS::Logs::SubscriptionFilter", load_subscription},
};

int lk_app_load_resource(ctx_t *c, const char *id, yaml_node_t *res,
                         const char *type) {
  size_t i;

  for (i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++)
    if (strcmp(type, loaders[i].type) == 0)
      return loaders[i].load(c, id, res);
  return 0;
}
