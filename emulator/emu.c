/* The one place that wires lambkin together (see emu.h): the services,
 * the runtime with its hooks into the guard and CloudWatch Logs, the
 * event sources, API Gateway, and the endpoint that routes each request
 * to its service after the guard has seen it. The emulator owns all of
 * them; the app stays the caller's. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "buf.h"
#include "emu.h"
#include "fs.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "dynamodb.h"
#include "logs.h"
#include "loops.h"
#include "mem.h"
#include "s3.h"
#include "sources.h"
#include "eventbridge.h"
#include "kinesis.h"
#include "sns.h"
#include "sqs.h"
#include "sts.h"
#include "state.h"

struct lk_emu {
  uv_loop_t *loop;
  lk_app_t *app;
  lk_emu_opts_t opts;
  lk_http_server_t *api;
  lk_journal_t *journal;
  lk_s3_t *s3;
  lk_sqs_t *sqs;
  lk_logs_t *logs;
  lk_ddb_t *ddb;
  lk_sns_t *sns;
  lk_eb_t *eb;
  lk_kin_t *kin;
  lk_runtime_t *rt;
  lk_loops_t *loops;
  lk_access_t *access;
  lk_sources_t *sources;
  lk_apigw_t *apigw;
  lk_state_t *state;    /* --state */
  uv_timer_t *ttl_tick; /* DynamoDB's Time to Live sweep, each second */
  int closing;
  char endpoint[64];
  struct retired *retired; /* what a reload replaced (lk_emu_reload) */
};

/* An app's runtime, sources and API Gateway replaced by a reload: closed
 * at once, freed with the emulator, once their handles are long gone. */
typedef struct retired {
  struct retired *next;
  lk_app_t *app;
  lk_runtime_t *rt;
  lk_access_t *access;
  lk_sources_t *sources;
  lk_apigw_t *apigw;
} retired_t;

/* A JSON-protocol call to a service lambkin does not emulate gets the
 * error shape its SDK parses (a JSON __type), not S3's XML, which the
 * SDKs report as a response they cannot read. */
static void unemulated(lk_http_req_t *req, const char *target) {
  const char *ct = lk_http_header(req, "Content-Type");
  lk_http_header_t h[2];
  char rid[37], msg[160];
  lk_buf_t b;

  lk_uuid(rid);
  snprintf(msg, sizeof(msg), "lambkin does not emulate %.100s", target);
  lk_buf_init(&b, 1024);
  lk_buf_adds(&b, "{\"__type\":\"UnknownOperationException\",\"message\":");
  lk_buf_add_json_str(&b, msg, strlen(msg));
  lk_buf_adds(&b, "}");
  h[0] = (lk_http_header_t){"x-amzn-RequestId", rid};
  h[1] = (lk_http_header_t){
      "Content-Type", ct && strncmp(ct, "application/x-amz-json-1.", 25) == 0
                          ? ct
                          : "application/x-amz-json-1.1"};
  lk_http_respond(req, 400, h, 2, b.data, b.len);
  lk_buf_free(&b);
}

static void serve_sts(lk_emu_t *emu, lk_http_req_t *req,
                      const lk_function_t *caller) {
  lk_sts_caller_t who = {emu->app->account, caller ? caller->name : NULL};

  lk_sts_serve(req, &who);
}

/* lambkin fuzz: what a function sent to a service (the call, and its
 * body up to 8000 bytes) goes into the sink report of the invocation that
 * sent it, for the secret-leak oracle. */
static void note_request(lk_emu_t *emu, lk_http_req_t *req,
                         const char *target) {
  size_t len = req->body.len < 8000 ? req->body.len : 8000, an;
  char call[300], *body = lk_xstrndup(req->body.data, len);
  const char *fields[] = {call, body}, *action = strstr(body, "Action=");

  /* X-Amz-Target, a query protocol's Action, or the REST call */
  if (target) {
    snprintf(call, sizeof(call), "%.200s", target);
  } else if (action) {
    an = strcspn(action + 7, "&");
    snprintf(call, sizeof(call), "%.*s", (int)(an < 200 ? an : 200),
             action + 7);
  } else {
    snprintf(call, sizeof(call), "%s %.200s", req->method, req->path);
  }
  lk_runtime_sink_note(emu->rt, lk_http_header(req, "X-Amzn-Trace-Id"), "out",
                       fields, 2);
  free(body);
}

/* One endpoint for every service, as LocalStack does: the Invoke API by
 * its path, JSON protocols by X-Amz-Target, STS's and SQS's query
 * protocol by their form, and S3 owns every other path. */
static void on_request(lk_http_req_t *req, void *ud) {
  lk_emu_t *emu = ud;
  const char *target = lk_http_header(req, "X-Amz-Target");
  const lk_function_t *caller;

  if (lk_access_check(emu->access, req, &caller) != 0)
    return; /* refused: a signature, or --enforce-policies */
  if (emu->opts.sink_dir && caller && req->body.len)
    note_request(emu, req, target);
  lk_state_hold(emu->state, req); /* answered once its change is on disk */
  if (strncmp(req->path, LK_LAMBDA_API_PREFIX,
              sizeof(LK_LAMBDA_API_PREFIX) - 1) == 0)
    lk_runtime_serve(emu->rt, req);
  else if (target && strncmp(target, "AmazonSQS.", 10) == 0)
    lk_sqs_serve(emu->sqs, req, 1);
  else if (target && strncmp(target, "Logs_20140328.", 14) == 0)
    lk_logs_serve(emu->logs, req);
  else if (target && strncmp(target, "AWSEvents.", 10) == 0)
    lk_eb_serve(emu->eb, req);
  else if (target && strncmp(target, "Kinesis_20131202.", 17) == 0)
    lk_kin_serve(emu->kin, req);
  else if (target && (strncmp(target, "DynamoDB_20120810.", 18) == 0 ||
                      strncmp(target, "DynamoDBStreams_20120810.", 25) == 0))
    lk_ddb_serve(emu->ddb, req);
  else if (target)
    unemulated(req, target);
  else if (lk_sns_is_request(req))
    lk_sns_serve(emu->sns, req);
  else if (lk_sts_is_request(req))
    serve_sts(emu, req, caller);
  else if (lk_sqs_is_query(req))
    lk_sqs_serve(emu->sqs, req, 0);
  else
    lk_s3_serve(emu->s3, req);
  lk_state_settle(emu->state);
}

/* The runtime's log hook: each function line into /aws/lambda/<name>. */
static void on_log(void *ud, const char *group, const char *stream,
                   const char *line, size_t len, const char *trace) {
  lk_emu_t *emu = ud;

  lk_logs_put(emu->logs, group, stream, (int64_t)lk_now_ms(), line, len, trace);
}

/* The runtime's placement hook: the guard's loop watch. */
static int on_place(void *ud, const lk_placement_t *p, char *trace, char *why,
                    size_t why_cap) {
  lk_emu_t *emu = ud;

  return lk_loops_place(emu->loops, p, trace, why, why_cap);
}

/* ---- start-up, one part each ---- */

static void on_journal_rotate(void *ud) {
  lk_emu_t *emu = ud;

  lk_access_rejournal(emu->access);
}

/* The state directory, private to this user, and its journal. */
static int open_state(lk_emu_t *emu) {
  const char *dir = emu->opts.state_dir;
  char why[PATH_MAX + 128];
  int rc;

  if (lk_private_dir(dir, why, sizeof(why))) {
    fprintf(stderr, "lambkin: state directory %s\n", why);
    return LK_EINVAL;
  }
  rc = lk_journal_open(dir, &emu->journal);
  if (rc)
    fprintf(stderr, "lambkin: cannot open the journal in %s: %s%s\n", dir,
            strerror(-rc), rc == -ELOOP ? " (journal.jsonl is a symlink)" : "");
  return rc;
}

static int start_endpoint(lk_emu_t *emu) {
  const char *host = emu->opts.host ? emu->opts.host : "127.0.0.1";
  lk_http_opts_t ho = {
      host, emu->opts.port, LK_S3_MAX_OBJECT, &emu->opts.browser, NULL, NULL};
  int rc;

  if (emu->opts.port < 0)
    return 0;
  rc = lk_http_server_new(emu->loop, &ho, on_request, emu, &emu->api);
  if (rc) {
    fprintf(stderr, "lambkin: cannot listen on %s:%d: %s\n", host,
            emu->opts.port, lk_strerror(rc));
    return rc;
  }
  snprintf(emu->endpoint, sizeof(emu->endpoint), "http://%s:%d", host,
           lk_http_server_port(emu->api));
  return 0;
}

/* ---- EventBridge rules (their schedules: sources/schedules.c) ---- */

/* One rule of the template (or of a function's event) and its target:
 * what lambkin cannot make is a warning, and the rest of the app
 * serves. */
static void add_rule(lk_emu_t *emu, const char *bus, const cJSON *spec,
                     const cJSON *target, int line) {
  const char *name = lk_json_str(spec, "Name");
  char why[512];
  int rc = lk_eb_put_rule(emu->eb, bus, spec, why, sizeof(why));

  if (rc == 0 && target)
    rc = lk_eb_put_target(emu->eb, bus, name, target, why, sizeof(why));
  if (rc) {
    fprintf(stderr, "lambkin: warning: %s:%d: rule %s is not served: %s\n",
            emu->app->path, line, name ? name : "?", why);
  }
}

/* A function's EventBridgeRule, CloudWatchEvent, Schedule or ScheduleV2
 * event: its rule (named RuleName, Name, or FUNCTION-EVENT) and the
 * function as its target. */
static void add_function_rule(lk_emu_t *emu, const lk_function_t *f,
                              const cJSON *ev) {
  static const char *const passed[] = {"Input", "InputPath",
                                       "InputTransformer"};
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
  const char *type = lk_json_str(ev, "Type");
  const char *schedule = lk_json_str(p, "Schedule")
                             ? lk_json_str(p, "Schedule")
                             : lk_json_str(p, "ScheduleExpression");
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "Enabled");
  cJSON *spec = cJSON_CreateObject(), *target = cJSON_CreateObject();
  char name[128];
  size_t k;

  lk_app_rule_name(f, ev, name, sizeof(name));
  cJSON_AddStringToObject(spec, "Name", name);
  if (strncmp(type, "Schedule", 8) == 0) {
    cJSON_AddStringToObject(spec, "ScheduleExpression",
                            schedule ? schedule : "");
    if (cJSON_IsFalse(en) || (lk_json_str(p, "State") &&
                              strcmp(lk_json_str(p, "State"), "DISABLED") == 0))
      cJSON_AddStringToObject(spec, "State", "DISABLED");
    if (lk_json_str(p, "ScheduleExpressionTimezone"))
      cJSON_AddStringToObject(spec, "ScheduleExpressionTimezone",
                              lk_json_str(p, "ScheduleExpressionTimezone"));
  } else if (cJSON_GetObjectItemCaseSensitive(p, "Pattern")) {
    cJSON_AddItemToObject(
        spec, "EventPattern",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, "Pattern"), 1));
  }
  cJSON_AddStringToObject(
      target, "Id",
      lk_json_str(cJSON_GetObjectItemCaseSensitive(p, "Target"), "Id")
          ? lk_json_str(cJSON_GetObjectItemCaseSensitive(p, "Target"), "Id")
          : "lambkin-target");
  cJSON_AddStringToObject(target, "Arn", f->arn);
  for (k = 0; k < sizeof(passed) / sizeof(passed[0]); k++)
    if (cJSON_GetObjectItemCaseSensitive(p, passed[k]))
      cJSON_AddItemToObject(
          target, passed[k],
          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, passed[k]), 1));
  add_rule(emu, lk_json_str(p, "EventBusName"), spec, target, f->line);
  cJSON_Delete(spec);
  cJSON_Delete(target);
}

static void add_rules(lk_emu_t *emu) {
  const lk_app_t *app = emu->app;
  const cJSON *ev, *t;
  int i;

  for (i = 0; i < app->n_buses; i++)
    if (lk_eb_create_bus(emu->eb, app->buses[i].name) == LK_EINVAL)
      fprintf(stderr, "lambkin: warning: %s:%d: event bus %s is not served\n",
              app->path, app->buses[i].line, app->buses[i].name);
  for (i = 0; i < app->n_rules; i++) {
    cJSON *spec = cJSON_Duplicate(app->rules[i].spec, 1);

    cJSON_DeleteItemFromObjectCaseSensitive(spec, "Name");
    cJSON_AddStringToObject(spec, "Name", app->rules[i].name);
    add_rule(emu, lk_json_str(spec, "EventBusName"), spec, NULL,
             app->rules[i].line);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(spec, "Targets")) {
      char why[512];

      if (lk_eb_put_target(emu->eb, lk_json_str(spec, "EventBusName"),
                           app->rules[i].name, t, why,
                           sizeof(why)) == LK_EINVAL)
        fprintf(stderr, "lambkin: warning: %s:%d: a target of rule %s: %s\n",
                app->path, app->rules[i].line, app->rules[i].name, why);
    }
    cJSON_Delete(spec);
  }
  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      const char *type = lk_json_str(ev, "Type");

      if (type &&
          (strcmp(type, "EventBridgeRule") == 0 ||
           strcmp(type, "CloudWatchEvent") == 0 ||
           strcmp(type, "Schedule") == 0 || strcmp(type, "ScheduleV2") == 0))
        add_function_rule(emu, &app->functions[i], ev);
    }
}

/* One subscription of the template; what lambkin cannot make is a
 * warning, and the rest of the app serves. */
static void sns_subscribe(lk_emu_t *emu, const char *topic_arn,
                          const char *protocol, const char *endpoint,
                          const cJSON *attrs, int line) {
  char arn[700], why[512];
  int rc = lk_sns_subscribe(emu->sns, topic_arn, protocol, endpoint, attrs, arn,
                            sizeof(arn), why, sizeof(why));

  if (rc)
    fprintf(stderr, "lambkin: warning: %s:%d: SNS subscription to %s: %s\n",
            emu->app->path, line, topic_arn ? topic_arn : "(no TopicArn)",
            rc == LK_ENOENT ? "no such topic here" : why);
}

/* The template's topics (and their Subscription lists), its
 * AWS::SNS::Subscription resources, and Events of type SNS. */
static void add_sns(lk_emu_t *emu) {
  static const char *const sub_attrs[] = {"FilterPolicy", "FilterPolicyScope",
                                          "RawMessageDelivery",
                                          "RedrivePolicy"};
  const lk_app_t *app = emu->app;
  char arn[600];
  const cJSON *e, *ev;
  int i;
  size_t k;

  for (i = 0; i < app->n_topics; i++) {
    const lk_res_t *t = &app->topics[i];
    const cJSON *fifo = cJSON_GetObjectItemCaseSensitive(t->spec, "FifoTopic");

    if (lk_sns_create_topic(emu->sns, t->name,
                            cJSON_IsTrue(fifo) ||
                                lk_json_long(t->spec, "FifoTopic", 0),
                            arn, sizeof(arn)) != 0) {
      fprintf(stderr, "lambkin: warning: %s:%d: topic %s is not served\n",
              app->path, t->line, t->name);
      continue;
    }
    cJSON_ArrayForEach(
        e, cJSON_GetObjectItemCaseSensitive(t->spec, "Subscription")) {
      sns_subscribe(emu, arn, lk_json_str(e, "Protocol"),
                    lk_json_str(e, "Endpoint"), NULL, t->line);
    }
  }
  for (i = 0; i < app->n_sns_subs; i++) {
    const lk_res_t *u = &app->sns_subs[i];
    cJSON *attrs = cJSON_CreateObject();

    for (k = 0; k < sizeof(sub_attrs) / sizeof(sub_attrs[0]); k++)
      if (cJSON_GetObjectItemCaseSensitive(u->spec, sub_attrs[k]))
        cJSON_AddItemToObject(
            attrs, sub_attrs[k],
            cJSON_Duplicate(
                cJSON_GetObjectItemCaseSensitive(u->spec, sub_attrs[k]), 1));
    sns_subscribe(emu, lk_json_str(u->spec, "TopicArn"),
                  lk_json_str(u->spec, "Protocol"),
                  lk_json_str(u->spec, "Endpoint"), attrs, u->line);
    cJSON_Delete(attrs);
  }
  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      const char *type = lk_json_str(ev, "Type");
      cJSON *attrs;

      if (type == NULL || strcmp(type, "SNS") != 0)
        continue;
      attrs = cJSON_CreateObject();
      for (k = 0; k < 2; k++) /* FilterPolicy, FilterPolicyScope */
        if (cJSON_GetObjectItemCaseSensitive(p, sub_attrs[k]))
          cJSON_AddItemToObject(
              attrs, sub_attrs[k],
              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p, sub_attrs[k]),
                              1));
      sns_subscribe(emu, lk_json_str(p, "Topic"), "lambda",
                    app->functions[i].arn, attrs, app->functions[i].line);
      cJSON_Delete(attrs);
    }
}

/* The template's buckets, log groups (each function's own too),
 * subscription filters and queues; one that is there already (a reload,
 * or a log group the template names too) stays as it is. */
static int add_resources(lk_emu_t *emu) {
  const lk_app_t *app = emu->app;
  char group[300];
  int i, rc = 0;

  for (i = 0; rc == 0 && i < app->n_buckets; i++) {
    rc = lk_s3_create_bucket(emu->s3, app->buckets[i].name);
    if (rc && rc != LK_EEXIST)
      fprintf(stderr, "lambkin: bucket %s: %s\n", app->buckets[i].name,
              lk_strerror(rc));
    rc = rc == LK_EEXIST ? 0 : rc;
  }
  for (i = 0; rc == 0 && i < app->n_log_groups; i++) {
    rc = lk_logs_create_group(emu->logs, app->log_groups[i].name);
    rc = rc == LK_EEXIST ? 0 : rc;
  }
  for (i = 0; rc == 0 && i < app->n_functions; i++) {
    snprintf(group, sizeof(group), "/aws/lambda/%s", app->functions[i].name);
    rc = lk_logs_create_group(emu->logs, group);
    rc = rc == LK_EEXIST ? 0 : rc;
  }
  for (i = 0; rc == 0 && i < app->n_subscriptions; i++) {
    const lk_subscription_t *sub = &app->subscriptions[i];

    rc = lk_logs_subscribe(emu->logs, sub->log_group, sub->logical_id,
                           sub->pattern, sub->destination_arn);
    if (rc && rc != LK_EEXIST)
      fprintf(stderr, "lambkin: %s:%d: subscription %s: %s\n", app->path,
              sub->line, sub->logical_id, lk_strerror(rc));
    rc = rc == LK_EEXIST ? 0 : rc;
  }
  for (i = 0; rc == 0 && i < app->n_tables; i++) {
    char why[512];

    /* one lambkin cannot make is not served; the rest of the app is */
    if (lk_ddb_create_table(emu->ddb, app->tables[i].spec, why, sizeof(why)) ==
        LK_EINVAL)
      fprintf(stderr, "lambkin: warning: %s:%d: table %s is not served: %s\n",
              app->path, app->tables[i].line, app->tables[i].name, why);
  }
  for (i = 0; rc == 0 && i < app->n_queues; i++) {
    const lk_queue_t *q = &app->queues[i];
    lk_sqs_queue_def_t d = {q->name,    q->fifo,    q->visibility_timeout_s,
                            q->delay_s, q->dlq_arn, q->max_receive_count};

    rc = lk_sqs_create_queue(emu->sqs, &d);
    if (rc && rc != LK_EEXIST)
      fprintf(stderr, "lambkin: queue %s: %s\n", q->name, lk_strerror(rc));
    rc = rc == LK_EEXIST ? 0 : rc;
  }
  if (rc == 0)
    add_sns(emu);
  if (rc == 0)
    add_rules(emu);
  for (i = 0; rc == 0 && i < app->n_kstreams; i++) {
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(app->kstreams[i].spec,
                                                         "StreamModeDetails");
    const char *m = lk_json_str(mode, "StreamMode");
    long shards = lk_json_long(app->kstreams[i].spec, "ShardCount",
                               m && strcmp(m, "PROVISIONED") == 0 ? 1 : 0);

    if (lk_kin_create_stream(emu->kin, app->kstreams[i].name,
                             shards > 0 && shards <= LK_KIN_MAX_SHARDS
                                 ? (int)shards
                                 : 0) == LK_EINVAL)
      fprintf(stderr, "lambkin: warning: %s:%d: stream %s is not served\n",
              app->path, app->kstreams[i].line, app->kstreams[i].name);
  }
  return rc;
}

static int start_services(lk_emu_t *emu) {
  const lk_app_t *app = emu->app;

  emu->s3 = lk_s3_new(app->region, app->account);
  emu->logs = lk_logs_new(app->region, app->account);
  emu->ddb = lk_ddb_new(app->region, app->account);
  emu->sns = lk_sns_new(app->region, app->account);
  emu->eb = lk_eb_new(app->region, app->account);
  emu->kin = lk_kin_new(app->region, app->account);
  emu->sqs = lk_sqs_new(emu->loop, app->region, app->account, emu->endpoint);
  return add_resources(emu);
}

static int start_runtime(lk_emu_t *emu) {
  const lk_emu_opts_t *o = &emu->opts;
  lk_runtime_opts_t ro;

  memset(&ro, 0, sizeof(ro));
  ro.loop = emu->loop;
  ro.app = emu->app;
  ro.journal = emu->journal;
  ro.endpoint = emu->endpoint;
  ro.state_dir = o->state_dir;
  ro.max_instances = o->max_instances;
  ro.idle_timeout_s = o->idle_timeout_s;
  ro.retry_delay_ms = o->retry_delay_ms;
  ro.scale_delay_ms = o->scale_delay_ms;
  ro.quiet = o->quiet;
  ro.watch = o->watch;
  ro.sandbox = o->sandbox;
  ro.install = o->install;
  ro.read_only = o->read_only;
  ro.fork_server = !o->no_fork_server;
  ro.max_memory = o->max_memory;
  ro.debug_port = o->debug_port;
  ro.debug_function = o->debug_function;
  ro.sink_lib = o->sink_lib;
  ro.sink_dir = o->sink_dir;
  ro.bin_dir = o->bin_dir;
  ro.sink_units = o->sink_units;
  ro.browser = &emu->opts.browser;
  ro.hooks.place = on_place;
  ro.hooks.log = on_log;
  ro.hooks.ud = emu;
  return lk_runtime_new(&ro, &emu->rt);
}

static int start_apigw(lk_emu_t *emu) {
  const char *host = emu->opts.host ? emu->opts.host : "127.0.0.1";
  lk_apigw_opts_t ao;
  int rc;

  if (emu->opts.api_port < 0)
    return 0;
  ao.host = emu->opts.host;
  ao.port = emu->opts.api_port;
  ao.timeout_s = emu->opts.api_timeout_s;
  ao.browser = &emu->opts.browser;
  rc = lk_apigw_new(emu->loop, emu->app, emu->rt, &ao, &emu->apigw);
  if (rc)
    fprintf(stderr, "lambkin: API Gateway cannot listen on %s:%d: %s\n", host,
            emu->opts.api_port, lk_strerror(rc));
  return rc;
}

/* What an app needs besides the runtime: observed access, the event
 * sources; then the runtime starts. */
static void on_ttl_tick(uv_timer_t *t) {
  lk_emu_t *emu = t->data;

  lk_ddb_expire(emu->ddb, lk_now_ms());
}

/* Expired items go within a second (DynamoDB takes up to days). */
static void start_ttl(lk_emu_t *emu) {
  emu->ttl_tick = lk_xmalloc(sizeof(*emu->ttl_tick));
  uv_timer_init(emu->loop, emu->ttl_tick);
  emu->ttl_tick->data = emu;
  uv_timer_start(emu->ttl_tick, on_ttl_tick, 1000, 1000);
  uv_unref((uv_handle_t *)emu->ttl_tick);
}

/* lambkin fuzz: a DynamoDB expression goes into the sink report of the
 * invocation that sent it, for the nosql-injection oracle. */
static void on_ddb_expression(void *ud, const char *trace, const char *member,
                              const char *text) {
  lk_emu_t *emu = ud;
  const char *fields[] = {member, text};

  lk_runtime_sink_note(emu->rt, trace, "nosql", fields, 2);
}

static void start_app(lk_emu_t *emu) {
  lk_sources_deps_t deps = {emu->loop, emu->app,  emu->rt,      emu->s3,
                            emu->sqs,  emu->logs, emu->ddb,     emu->sns,
                            emu->eb,   emu->kin,  emu->endpoint};
  lk_access_opts_t ao;

  ao.enforce = emu->opts.enforce_policies;
  ao.require_signature = emu->opts.require_signature;
  ao.credentials = emu->opts.credentials;
  ao.n_credentials = emu->opts.n_credentials;
  emu->access = lk_access_new(emu->app, emu->rt, emu->journal, &ao);
  emu->sources = lk_sources_new(&deps);
  if (emu->opts.sink_dir)
    lk_ddb_on_expression(emu->ddb, on_ddb_expression, emu);
  lk_runtime_start(emu->rt);
}

int lk_emu_new(uv_loop_t *loop, lk_app_t *app, const lk_emu_opts_t *opts,
               lk_emu_t **out) {
  lk_emu_t *emu = lk_xcalloc(1, sizeof(*emu));
  int rc;

  emu->loop = loop;
  emu->app = app;
  emu->opts = *opts;
  if (emu->opts.state_dir == NULL)
    emu->opts.state_dir = ".lambkin";
  rc = open_state(emu);
  emu->loops =
      lk_loops_new(emu->opts.max_depth, emu->opts.allow_loops, emu->journal,
                   emu->opts.on_loop, emu->opts.on_loop_ud);
  if (rc == 0)
    rc = start_endpoint(emu);
  if (rc == 0)
    rc = start_services(emu);
  if (rc == 0)
    rc = start_runtime(emu);
  if (rc == 0 && emu->opts.persist) {
    lk_state_svcs_t svcs = {emu->s3,  emu->sqs, emu->logs, emu->ddb,
                            emu->sns, emu->eb,  emu->kin};

    rc = lk_state_open(loop, emu->opts.state_dir, &svcs, emu->api, &emu->state);
  }
  if (rc == 0)
    rc = start_apigw(emu);
  if (rc) {
    /* Only servers and the SQS timer ran: they close themselves and free
     * their memory from their close callbacks. */
    lk_emu_close(emu);
    lk_emu_free(emu);
    return rc;
  }
  /* Nothing fails from here on. */
  lk_journal_on_rotate(emu->journal, on_journal_rotate, emu);
  start_ttl(emu);
  start_app(emu);
  *out = emu;
  return 0;
}

int lk_emu_reload(lk_emu_t *emu, lk_app_t *app, char *err, size_t errlen) {
  retired_t *old;
  lk_runtime_t *rt = emu->rt;
  lk_app_t *prev = emu->app;
  int rc;

  /* The new runtime first: it runs nothing until started, so a C
   * handler that does not build leaves the old app serving. */
  emu->app = app;
  rc = start_runtime(emu);
  if (rc) {
    snprintf(err, errlen, "its functions cannot be prepared (%s)",
             lk_strerror(rc));
    emu->app = prev; /* lk_runtime_new left emu->rt as it was */
    emu->rt = rt;
    return rc;
  }
  old = lk_xcalloc(1, sizeof(*old));
  old->app = prev;
  old->rt = rt;
  old->access = emu->access;
  old->sources = emu->sources;
  old->apigw = emu->apigw;
  lk_runtime_close(old->rt);
  lk_sources_close(old->sources);
  lk_apigw_close(old->apigw); /* its port is free again at once */
  emu->apigw = NULL;
  old->next = emu->retired;
  emu->retired = old;
  rc = add_resources(emu);
  if (rc == 0)
    rc = start_apigw(emu);
  if (rc)
    snprintf(err, errlen, "%s; the functions serve without it",
             lk_strerror(rc));
  start_app(emu);
  return rc;
}

lk_app_t *lk_emu_app(const lk_emu_t *emu) {
  return emu->app;
}

lk_apigw_t *lk_emu_apigw(const lk_emu_t *emu) {
  return emu->apigw;
}

const char *lk_emu_task_root(const lk_emu_t *emu, const lk_function_t *fn) {
  return lk_runtime_task_root(emu->rt, fn);
}

lk_journal_t *lk_emu_journal(const lk_emu_t *emu) {
  return emu->journal;
}

const char *lk_emu_secret(const lk_emu_t *emu, const lk_function_t *fn) {
  return lk_runtime_secret(emu->rt, fn);
}

const char *lk_emu_token(const lk_emu_t *emu, const lk_function_t *fn) {
  return lk_runtime_token(emu->rt, fn);
}

int lk_emu_invoke(lk_emu_t *emu, const lk_function_t *fn, const char *payload,
                  size_t len, int async, const char *source,
                  const char *incoming_trace, const char *edge, lk_invoke_cb cb,
                  void *ud) {
  return lk_runtime_invoke(emu->rt, fn, payload, len, async, source,
                           incoming_trace, edge, cb, ud);
}

int lk_emu_loops(const lk_emu_t *emu) {
  return lk_loops_count(emu->loops);
}

int lk_emu_busy(const lk_emu_t *emu) {
  return lk_runtime_busy(emu->rt);
}

int lk_emu_port(const lk_emu_t *emu) {
  return emu->api ? lk_http_server_port(emu->api) : -1;
}

/* Stops everything: the runtime first (callers still connected hear of
 * it), then the endpoint, the sources and the services. Callers run the
 * loop afterwards so the close callbacks can fire. */
void lk_emu_close(lk_emu_t *emu) {
  if (emu->closing)
    return;
  emu->closing = 1;
  if (emu->rt)
    lk_runtime_close(emu->rt);
  lk_state_close(emu->state); /* the held answers go, then the snapshots */
  if (emu->api) {
    lk_http_server_free(emu->api);
    emu->api = NULL;
  }
  lk_sources_close(emu->sources);
  lk_apigw_close(emu->apigw);
  if (emu->sqs)
    lk_sqs_close(emu->sqs);
  if (emu->ttl_tick) {
    uv_close((uv_handle_t *)emu->ttl_tick, lk_free_handle);
    emu->ttl_tick = NULL;
  }
}

void lk_emu_free(lk_emu_t *emu) {
  retired_t *r;

  if (emu == NULL)
    return;
  while ((r = emu->retired) != NULL) {
    emu->retired = r->next;
    lk_sources_free(r->sources);
    lk_apigw_free(r->apigw);
    lk_access_free(r->access);
    lk_runtime_free(r->rt);
    lk_app_free(r->app);
    free(r);
  }
  lk_sources_free(emu->sources);
  lk_apigw_free(emu->apigw);
  lk_access_free(emu->access);
  lk_runtime_free(emu->rt);
  lk_s3_free(emu->s3);
  lk_sqs_free(emu->sqs);
  lk_logs_free(emu->logs);
  lk_ddb_free(emu->ddb);
  lk_sns_free(emu->sns);
  lk_eb_free(emu->eb);
  lk_kin_free(emu->kin);
  lk_loops_free(emu->loops);
  lk_journal_free(emu->journal);
  lk_state_free(emu->state);
  free(emu);
}

static void close_forgotten(uv_handle_t *h, void *arg) {
  (void)arg;
#ifdef LK_STRICT_LOOP
  fprintf(stderr, "lambkin: a %s handle is still open at exit\n",
          uv_handle_type_name(h->type));
#endif
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int lk_emu_loop_close(uv_loop_t *loop) {
  int rc = uv_loop_close(loop);

  if (rc == 0)
    return 0;
  uv_walk(loop, close_forgotten, NULL);
#ifdef LK_STRICT_LOOP
  abort();
#endif
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop);
}
