/* Event sources: what turns a service change into an invocation, with the
 * exact event shape Lambda sends.
 * - S3: Events of type S3 in the template, the bucket's
 *   NotificationConfiguration (template or PUT through the API), to a
 *   function (async invoke) or a queue (an SQS message);
 * - SQS: event source mappings (Events of type SQS), polled on a timer,
 *   batches deleted on success, left to the visibility timeout (and the
 *   queue's redrive) on failure, ReportBatchItemFailures honoured;
 * - CloudWatch Logs: subscription filters to a function, delivered as
 *   {"awslogs":{"data": base64(gzip(json))}};
 * - DynamoDB streams and Kinesis: streams.c;
 * - SNS deliveries and EventBridge targets, here; schedules: schedules.c.
 * Every invocation carries the trace of the call that caused it, so the
 * lineage tracker sees each chain whatever path it takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "events.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "s3filter.h"
#include "schedules.h"
#include "sns_http.h"
#include "sources.h"
#include "streams.h"

#define POLL_MS 50
#define MAX_POLLERS 5     /* concurrent batches per mapping, as Lambda starts */
#define VIA_TRACE_MAX 512 /* a trace header with the hops it went through */

typedef struct mapping {
  struct lk_sources *src;
  int src_closing; /* lambkin is stopping: no new batches */
  const lk_function_t *def;
  char *queue_arn;
  int batch;
  int window_s;
  int report_failures;
  int in_flight;
  uint64_t first_seen_ms;
} mapping_t;

struct lk_sources {
  const lk_app_t *app;
  const char *endpoint;
  lk_runtime_t *rt;
  lk_s3_t *s3;
  lk_sqs_t *sqs;
  lk_logs_t *logs;
  mapping_t *maps;
  int n_maps;
  lk_streams_t *streams;
  lk_schedules_t *schedules;
  lk_sns_http_t *sns_http;
  lk_sns_t *sns;
  uv_timer_t *tick;
  unsigned long long seq;
};

typedef struct batch {
  lk_sources_t *src;
  mapping_t *map;
  char **receipts; /* by position in the event */
  char **ids;
  int n;
} batch_t;

/* ---- S3 ---- */

/* One change to an object, as S3 tells its notifications. */
typedef struct change {
  const char *bucket, *event, *key, *etag, *trace;
  size_t size;
} change_t;

/* "s3:ObjectCreated:*" matches "ObjectCreated:Put"; an exact name itself. */
static int event_matches(const char *pattern, const char *event) {
  size_t pl;

  if (pattern == NULL)
    return 0;
  if (strncmp(pattern, "s3:", 3) == 0)
    pattern += 3;
  pl = strlen(pattern);
  if (pl && pattern[pl - 1] == '*')
    return strncmp(pattern, event, pl - 1) == 0;
  return strcmp(pattern, event) == 0;
}

/* Events: a name or a list of names. */
static int events_match(const cJSON *events, const char *event) {
  const cJSON *e;

  if (cJSON_IsString(events))
    return event_matches(events->valuestring, event);
  cJSON_ArrayForEach(e, events) {
    if (cJSON_IsString(e) && event_matches(e->valuestring, event))
      return 1;
  }
  return 0;
}

/* Does the key pass the Filter (S3Key rules) of a template entry? */
static int key_passes(const cJSON *filter, const char *key) {
  lk_s3_filter_t f;

  lk_s3_filter_json(filter, &f);
  return lk_s3_filter_match(&f, key);
}

/* The event to a function (async invoke) or a queue (a message). */
static void deliver_s3(lk_sources_t *src, const char *kind, const char *arn,
                       const char *config_id, const change_t *c) {
  char *payload = lk_event_s3(src->app->region, c->bucket, c->event, c->key,
                              c->size, c->etag, config_id, ++src->seq);
  char edge[600];

  if (payload == NULL)
    return;
  snprintf(edge, sizeof(edge), "s3://%s/%.500s", c->bucket, c->key);
  if (strcmp(kind, "function") == 0) {
    const lk_function_t *def = lk_app_function(src->app, arn);

    if (def)
      lk_runtime_invoke(src->rt, def, payload, strlen(payload), 1, "s3",
                        c->trace, edge, NULL, NULL);
  } else {
    lk_sqs_send(src->sqs, arn, payload, strlen(payload), c->trace, NULL);
  }
  free(payload);
}

/* The FilterRules of one XML configuration, and its key. */
static int xml_key_passes(const char *conf, const char *end, const char *key) {
  const char *cur = conf, *rule;
  lk_s3_filter_t f;
  size_t rl;

  f.prefix[0] = f.suffix[0] = '\0';
  while ((rule = lk_xml_next(&cur, end, "FilterRule", &rl)) != NULL) {
    const char *c = rule, *n, *v;
    size_t nl, vl;

    n = lk_xml_next(&c, rule + rl, "Name", &nl);
    c = rule;
    v = lk_xml_next(&c, rule + rl, "Value", &vl);
    if (n && v)
      lk_s3_filter_rule(&f, n, nl, v, vl);
  }
  return lk_s3_filter_match(&f, key);
}

/* Any <Event> of one XML configuration that matches. */
static int xml_event_matches(const char *conf, const char *end,
                             const char *event) {
  const char *cur = conf, *ev;
  size_t el;
  char e[128];

  while ((ev = lk_xml_next(&cur, end, "Event", &el)) != NULL) {
    snprintf(e, sizeof(e), "%.*s", (int)el, ev);
    if (event_matches(e, event))
      return 1;
  }
  return 0;
}

/* The text of <tag> in one XML configuration into out ("" if none). */
static void xml_text(const char *conf, const char *end, const char *tag,
                     char *out, size_t cap) {
  const char *cur = conf, *t;
  size_t tl;

  t = lk_xml_next(&cur, end, tag, &tl);
  snprintf(out, cap, "%.*s", t ? (int)tl : 0, t ? t : "");
}

/* <LambdaFunctionConfiguration>/<CloudFunctionConfiguration>/
 * <QueueConfiguration> entries of a NotificationConfiguration document. */
static void xml_targets(lk_sources_t *src, const char *doc, const change_t *c) {
  static const struct {
    const char *tag, *target, *kind;
  } kinds[] = {
      {"CloudFunctionConfiguration", "CloudFunction", "function"},
      {"LambdaFunctionConfiguration", "LambdaFunctionArn", "function"},
      {"QueueConfiguration", "Queue", "queue"},
  };
  const char *end = doc + strlen(doc), *cur, *conf;
  char target[512], id[256];
  size_t k, cl;

  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
    for (cur = doc, conf = lk_xml_next(&cur, end, kinds[k].tag, &cl); conf;
         conf = lk_xml_next(&cur, end, kinds[k].tag, &cl)) {
      xml_text(conf, conf + cl, kinds[k].target, target, sizeof(target));
      xml_text(conf, conf + cl, "Id", id, sizeof(id));
      if (target[0] && xml_event_matches(conf, conf + cl, c->event) &&
          xml_key_passes(conf, conf + cl, c->key))
        deliver_s3(src, kinds[k].kind, target,
                   id[0] ? id : "lambkin-notification", c);
    }
}

/* Events: {Type: S3, Properties: {Bucket, Events, Filter}}. */
static void function_events(lk_sources_t *src, const change_t *c) {
  const lk_app_t *app = src->app;
  const cJSON *ev, *p;
  const char *type, *bucket;
  int i;

  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      type = lk_json_str(ev, "Type");
      bucket = lk_json_str(p, "Bucket");
      if (type && strcmp(type, "S3") == 0 && bucket &&
          strcmp(bucket, c->bucket) == 0 &&
          events_match(cJSON_GetObjectItemCaseSensitive(p, "Events"),
                       c->event) &&
          key_passes(cJSON_GetObjectItemCaseSensitive(p, "Filter"), c->key))
        deliver_s3(src, "function", app->functions[i].name, ev->string, c);
    }
}

/* The template's own NotificationConfiguration on the bucket. */
static void bucket_config(lk_sources_t *src, const lk_bucket_t *b,
                          const change_t *c) {
  const cJSON *n = b->notification, *e;
  const char *fn, *q;

  cJSON_ArrayForEach(
      e, cJSON_GetObjectItemCaseSensitive(n, "LambdaConfigurations")) {
    fn = lk_json_str(e, "Function");
    if (fn && event_matches(lk_json_str(e, "Event"), c->event) &&
        key_passes(cJSON_GetObjectItemCaseSensitive(e, "Filter"), c->key))
      deliver_s3(src, "function", fn, "template", c);
  }
  cJSON_ArrayForEach(
      e, cJSON_GetObjectItemCaseSensitive(n, "QueueConfigurations")) {
    q = lk_json_str(e, "Queue");
    if (q && event_matches(lk_json_str(e, "Event"), c->event))
      deliver_s3(src, "queue", q, "template", c);
  }
}

static void on_s3_event(void *ud, const char *bucket, const char *event,
                        const char *key, const lk_s3_object_t *obj, size_t size,
                        const char *etag, const char *trace) {
  lk_sources_t *src = ud;
  change_t c = {bucket, event, key, etag, trace, size};
  const char *doc;
  int i;

  (void)obj;
  function_events(src, &c);
  for (i = 0; i < src->app->n_buckets; i++)
    if (strcmp(src->app->buckets[i].name, bucket) == 0)
      bucket_config(src, &src->app->buckets[i], &c);
  /* What a client PUT with PutBucketNotificationConfiguration. */
  doc = lk_s3_notification(src->s3, bucket);
  if (doc)
    xml_targets(src, doc, &c);
}

/* ---- SQS event source mappings ---- */

static void poll_mapping(lk_sources_t *src, mapping_t *m);

static void batch_free(batch_t *b) {
  int i;

  for (i = 0; i < b->n; i++) {
    free(b->receipts[i]);
    free(b->ids[i]);
  }
  free(b->receipts);
  free(b->ids);
  free(b);
}

/* Is message i of the batch one the function's answer names as failed? */
static int item_failed(const batch_t *b, int i, const cJSON *fails) {
  const cJSON *f;
  const char *id;

  cJSON_ArrayForEach(f, fails) {
    id = lk_json_str(f, "itemIdentifier");
    if (id && strcmp(id, b->ids[i]) == 0)
      return 1;
  }
  return 0;
}

/* On success the batch is deleted, less what ReportBatchItemFailures
 * names; on any failure nothing is: the messages come back after the
 * visibility timeout and the queue's redrive policy takes over. */
static void on_batch_done(const lk_result_t *res, void *ud) {
  batch_t *b = ud;
  mapping_t *m = b->map;
  cJSON *body = NULL, *fails = NULL;
  int i, keep_all = res->error_type != NULL;

  m->in_flight--;
  if (!keep_all && m->report_failures) {
    body = cJSON_ParseWithLength(res->body ? res->body : "", res->len);
    fails = cJSON_GetObjectItemCaseSensitive(body, "batchItemFailures");
    /* A response that names failures badly fails the whole batch. */
    keep_all = fails && !cJSON_IsArray(fails);
  }
  for (i = 0; !keep_all && i < b->n; i++)
    if (!item_failed(b, i, fails))
      lk_sqs_delete(b->src->sqs, m->queue_arn, b->receipts[i]);
  cJSON_Delete(body);
  batch_free(b);
  /* The next batch now, not at the next tick: a backlog drains at the
   * speed of the function, not of the poll timer. */
  if (!m->src_closing)
    poll_mapping(m->src, m);
}

/* Is a batch due: are messages visible, and either enough of them or the
 * batching window over? */
static int batch_due(lk_sources_t *src, mapping_t *m) {
  int visible, in_flight, delayed;
  int cap = MAX_POLLERS, reserved = m->def->reserved_concurrency;
  uint64_t now = lk_now_ms();

  if (reserved >= 0 && reserved < cap)
    cap = reserved;
  if (m->in_flight >= cap ||
      lk_sqs_counts(src->sqs, m->queue_arn, &visible, &in_flight, &delayed))
    return 0;
  if (visible == 0) {
    m->first_seen_ms = 0;
    return 0;
  }
  if (m->first_seen_ms == 0)
    m->first_seen_ms = now;
  /* MaximumBatchingWindowInSeconds: wait for a fuller batch. */
  return visible >= m->batch ||
         now - m->first_seen_ms >= (uint64_t)m->window_s * 1000;
}

/* The SQS event of the received messages; the batch remembers each
 * message's receipt, and *trace is the first one's AWSTraceHeader. */
static char *batch_event(lk_sources_t *src, mapping_t *m, const cJSON *msgs,
                         batch_t *b, const char **trace) {
  cJSON *ev = cJSON_CreateObject();
  cJSON *recs = cJSON_AddArrayToObject(ev, "Records");
  const cJSON *msg;
  char *payload;

  *trace = NULL;
  cJSON_ArrayForEach(msg, msgs) {
    cJSON_AddItemToArray(
        recs, lk_event_sqs_record(src->app->region, m->queue_arn, msg));
    b->receipts[b->n] = lk_xstrdup(lk_json_str(msg, "ReceiptHandle"));
    b->ids[b->n++] = lk_xstrdup(lk_json_str(msg, "MessageId"));
    if (*trace == NULL)
      *trace = lk_json_str(cJSON_GetObjectItemCaseSensitive(msg, "Attributes"),
                           "AWSTraceHeader");
  }
  payload = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  return payload;
}

static void poll_mapping(lk_sources_t *src, mapping_t *m) {
  cJSON *msgs;
  const char *trace;
  char *payload, edge[300];
  batch_t *b;
  int n;

  if (!batch_due(src, m))
    return;
  msgs = cJSON_CreateArray();
  n = lk_sqs_receive(src->sqs, m->queue_arn, m->batch, msgs);
  if (n <= 0) {
    cJSON_Delete(msgs);
    return;
  }
  m->first_seen_ms = 0;
  b = lk_xcalloc(1, sizeof(*b));
  b->receipts = lk_xcalloc((size_t)n, sizeof(char *));
  b->ids = lk_xcalloc((size_t)n, sizeof(char *));
  b->src = src;
  b->map = m;
  /* The trace lives in msgs, which outlives the invoke call. */
  payload = batch_event(src, m, msgs, b, &trace);
  snprintf(edge, sizeof(edge), "sqs://%s", strrchr(m->queue_arn, ':') + 1);
  m->in_flight++;
  if (lk_runtime_invoke(src->rt, m->def, payload, strlen(payload), 0, "sqs",
                        trace, edge, on_batch_done, b)) {
    m->in_flight--;
    batch_free(b); /* stopped (a loop) or refused: left in the queue */
  }
  free(payload);
  cJSON_Delete(msgs);
}

static void on_poll(uv_timer_t *t) {
  lk_sources_t *src = t->data;
  int i;

  for (i = 0; i < src->n_maps; i++)
    poll_mapping(src, &src->maps[i]);
}

static void on_sqs_send(void *ud, const char *queue_arn, const char *trace) {
  lk_sources_t *src = ud;
  int i;

  (void)trace; /* it travels with the message as AWSTraceHeader */
  for (i = 0; i < src->n_maps; i++)
    if (strcmp(src->maps[i].queue_arn, queue_arn) == 0 &&
        src->maps[i].window_s == 0)
      poll_mapping(src, &src->maps[i]);
}

/* ---- CloudWatch Logs subscriptions ---- */

static void on_logs_match(void *ud, const char *group, const char *stream,
                          const char *filter, const char *dest,
                          const cJSON *events, const char *trace) {
  lk_sources_t *src = ud;
  const lk_function_t *def = lk_app_function(src->app, dest);
  char *payload, edge[600];

  if (def == NULL)
    return; /* a destination lambkin does not run */
  payload = lk_event_logs(src->app->account, group, stream, filter, events);
  if (payload) {
    snprintf(edge, sizeof(edge), "logs:%.500s", group);
    lk_runtime_invoke(src->rt, def, payload, strlen(payload), 1, "logs", trace,
                      edge, NULL, NULL);
  }
  free(payload);
}

/* ---- SNS ---- */

/* trace, and that what it caused went through hop on its way (a topic
 * or rule that hands on to a queue or topic, where the next invocation
 * cannot see it): "Via=" lists such hops, so a loop's path names them.
 * Without a trace nothing is in a chain; one that would grow too long
 * keeps what it had. */
static const char *via(const char *trace, const char *hop, char *out,
                       size_t cap) {
  int n;

  if (trace == NULL)
    return NULL;
  n = snprintf(out, cap, "%s%s%s", trace,
               strstr(trace, ";Via=") ? "," : ";Via=", hop);
  return n > 0 && (size_t)n < cap ? out : trace;
}

/* A message for a FIFO queue keeps its group, and (SNS having
 * deduplicated it already) its message id as the deduplication id. */
static int send_to_queue(lk_sources_t *src, const lk_sns_delivery_t *d,
                         const char *queue, const char *body,
                         const char *trace) {
  return lk_sqs_send_fifo(src->sqs, queue, body, strlen(body), trace,
                          d->group_id, d->group_id ? d->message_id : NULL,
                          NULL);
}

/* A notification to a function (async, as SNS invokes) or a queue (the
 * JSON envelope, or the message alone when raw). One SNS cannot hand on
 * (the function or queue is not there) goes to the subscription's
 * RedrivePolicy queue, or is dropped with a line, as SNS drops it. */
static void on_sns_deliver(void *ud, const lk_sns_delivery_t *d) {
  lk_sources_t *src = ud;
  const char *topic = strrchr(d->topic_arn, ':') + 1;
  char *payload = NULL, edge[300], trace[VIA_TRACE_MAX];
  const char *body = d->message, *hops;
  int delivered = 0;

  snprintf(edge, sizeof(edge), "sns://%s", topic);
  hops = via(d->trace, edge, trace, sizeof(trace));
  if (strcmp(d->protocol, "lambda") == 0) {
    const lk_function_t *def = lk_app_function(src->app, d->endpoint);

    payload = lk_event_sns(d, src->endpoint);
    body = payload;
    delivered = def != NULL;
    if (def)
      lk_runtime_invoke(src->rt, def, payload, strlen(payload), 1, "sns",
                        d->trace, edge, NULL, NULL);
  } else if (strcmp(d->protocol, "sqs") == 0) {
    payload = d->raw ? NULL : lk_event_sns_envelope(d, src->endpoint);
    body = payload ? payload : d->message;
    delivered = send_to_queue(src, d, d->endpoint, body, hops) == 0;
  } else if (strncmp(d->protocol, "http", 4) == 0) {
    payload = d->raw && d->token == NULL
                  ? NULL
                  : lk_event_sns_envelope(d, src->endpoint);
    lk_sns_http_post(src->sns_http, d, payload ? payload : d->message);
    delivered = 1; /* it retries, and keeps or drops what never goes */
  } else {
    delivered = 1; /* email, sms...: not delivered anywhere, not failed */
  }
  if (!delivered && d->dead_letter &&
      send_to_queue(src, d, d->dead_letter, body, hops) == 0)
    delivered = 1;
  if (!delivered)
    fprintf(stderr,
            "lambkin: SNS %s: cannot deliver to %s (%s); the message is "
            "dropped%s\n",
            topic, d->endpoint, d->protocol,
            d->dead_letter ? ", and its RedrivePolicy queue is not there"
                           : ": a RedrivePolicy would keep it");
  free(payload);
}

/* ---- EventBridge ---- */

/* A rule's target: a function (async, as EventBridge invokes), a queue
 * or a topic, by its ARN. An event EventBridge cannot hand on (the
 * target is not there) goes to the target's DeadLetterConfig queue, or
 * is dropped with a line; one to a kind of target lambkin does not run
 * is neither. */
static void on_eb_deliver(void *ud, const lk_eb_delivery_t *d) {
  lk_sources_t *src = ud;
  const char *rule = strrchr(d->rule_arn, '/') + 1, *hops;
  const char *arn = d->target_arn;
  char edge[300], trace[VIA_TRACE_MAX];
  int delivered = 1;

  snprintf(edge, sizeof(edge), "events://%s", rule);
  hops = via(d->trace, edge, trace, sizeof(trace));
  if (strncmp(arn, "arn:aws:lambda:", 15) == 0) {
    const lk_function_t *def = lk_app_function(src->app, arn);

    delivered = def != NULL;
    if (def)
      lk_runtime_invoke(src->rt, def, d->payload, strlen(d->payload), 1,
                        "eventbridge", d->trace, edge, NULL, NULL);
  } else if (strncmp(arn, "arn:aws:sqs:", 12) == 0) {
    delivered = lk_sqs_send(src->sqs, arn, d->payload, strlen(d->payload), hops,
                            NULL) == 0;
  } else if (strncmp(arn, "arn:aws:sns:", 12) == 0) {
    delivered = lk_sns_publish(src->sns, arn, d->payload, hops) == 0;
  }
  if (!delivered && d->dead_letter &&
      lk_sqs_send(src->sqs, d->dead_letter, d->payload, strlen(d->payload),
                  hops, NULL) == 0)
    return;
  if (!delivered)
    fprintf(stderr,
            "lambkin: EventBridge rule %s: target %s is not there; the "
            "event is dropped%s\n",
            rule, arn,
            d->dead_letter ? ", and its DeadLetterConfig queue is not there"
                           : ": a DeadLetterConfig would keep it");
}

/* ---- set-up ---- */

/* An SQS event of the template: a mapping polled for its function. */
static void add_mapping(lk_sources_t *src, const lk_function_t *f,
                        const cJSON *p) {
  const cJSON *t;
  mapping_t *m;

  if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "Enabled")))
    return;
  src->maps =
      lk_xrealloc(src->maps, sizeof(*src->maps) * (size_t)(src->n_maps + 1));
  m = &src->maps[src->n_maps++];
  memset(m, 0, sizeof(*m));
  m->def = f;
  m->src = src;
  m->queue_arn = lk_xstrdup(lk_json_str(p, "Queue"));
  m->batch = (int)lk_json_long(p, "BatchSize", 10);
  if (m->batch < 1 || m->batch > 10)
    m->batch = 10; /* lambkin receives at most 10 at a time */
  m->window_s = (int)lk_json_long(p, "MaximumBatchingWindowInSeconds", 0);
  if (m->window_s < 0 || m->window_s > 300)
    m->window_s = 0;
  cJSON_ArrayForEach(
      t, cJSON_GetObjectItemCaseSensitive(p, "FunctionResponseTypes")) {
    m->report_failures |=
        cJSON_IsString(t) &&
        strcmp(t->valuestring, "ReportBatchItemFailures") == 0;
  }
}

/* A CloudWatchLogs event of the template: a subscription filter. */
static void add_subscription(lk_sources_t *src, const lk_function_t *f,
                             const char *event_name, const cJSON *p) {
  const char *group = lk_json_str(p, "LogGroupName");
  const char *pattern = lk_json_str(p, "FilterPattern");
  char name[300];

  lk_logs_create_group(src->logs, group);
  snprintf(name, sizeof(name), "%s-%s", f->name, event_name);
  lk_logs_subscribe(src->logs, group, name, pattern ? pattern : "", f->arn);
}

lk_sources_t *lk_sources_new(const lk_sources_deps_t *deps) {
  lk_sources_t *src = lk_xcalloc(1, sizeof(*src));
  const lk_app_t *app = deps->app;
  uv_loop_t *loop = deps->loop;
  const cJSON *ev, *p;
  const char *type;
  int i;

  src->app = app;
  src->endpoint = deps->endpoint;
  src->rt = deps->rt;
  src->s3 = deps->s3;
  src->sqs = deps->sqs;
  src->logs = deps->logs;
  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      type = lk_json_str(ev, "Type");
      if (type && strcmp(type, "SQS") == 0 && lk_json_str(p, "Queue"))
        add_mapping(src, &app->functions[i], p);
      else if (type && strcmp(type, "CloudWatchLogs") == 0 &&
               lk_json_str(p, "LogGroupName"))
        add_subscription(src, &app->functions[i], ev->string, p);
    }
  src->tick = lk_xmalloc(sizeof(*src->tick));
  uv_timer_init(loop, src->tick);
  src->tick->data = src;
  if (src->n_maps) {
    uv_timer_start(src->tick, on_poll, POLL_MS, POLL_MS);
    uv_unref((uv_handle_t *)src->tick);
  }
  lk_s3_on_event(src->s3, on_s3_event, src);
  lk_sqs_on_send(src->sqs, on_sqs_send, src);
  lk_logs_on_match(src->logs, on_logs_match, src);
  src->sns = deps->sns;
  src->sns_http = lk_sns_http_new(loop, src->sqs);
  lk_sns_on_deliver(deps->sns, on_sns_deliver, src);
  lk_eb_on_deliver(deps->eb, on_eb_deliver, src);
  src->streams =
      lk_streams_new(loop, app, src->rt, deps->ddb, deps->kin, src->sqs);
  src->schedules = lk_schedules_new(loop, deps->eb);
  return src;
}

void lk_sources_close(lk_sources_t *src) {
  int i;

  for (i = 0; src && i < src->n_maps; i++)
    src->maps[i].src_closing = 1;
  if (src) {
    lk_streams_close(src->streams);
    lk_schedules_close(src->schedules);
    lk_sns_http_close(src->sns_http);
  }
  if (src && src->tick) {
    uv_close((uv_handle_t *)src->tick, lk_free_handle);
    src->tick = NULL;
  }
}

void lk_sources_free(lk_sources_t *src) {
  int i;

  if (src == NULL)
    return;
  for (i = 0; i < src->n_maps; i++)
    free(src->maps[i].queue_arn);
  lk_streams_free(src->streams);
  lk_schedules_free(src->schedules);
  lk_sns_http_free(src->sns_http);
  free(src->maps);
  free(src->tick); /* only set when never started */
  free(src);
}
