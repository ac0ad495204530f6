/* Event sources: what turns a service change into an invocation, with the
 * exact event shape Lambda sends.
 * - S3: Events of type S3 in the template, the bucket's
 *   NotificationConfiguration (template or PUT through the API), to a
 *   function (async invoke) or a queue (an SQS message);
 * - SQS: event source mappings (Events of type SQS), polled on a timer,
 *   batches deleted on success, left to the visibility timeout (and the
 *   queue's redrive) on failure, ReportBatchItemFailures honoured;
 * - CloudWatch Logs: subscription filters to a function, delivered as
 *   {"awslogs":{"data": base64(gzip(json))}}.
 * Every invocation carries the trace of the call that caused it, so the
 * lineage tracker sees each chain whatever path it takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "emu.h"
#include "events.h"
#include "lambkin/lambkin.h"
#include "logs.h"
#include "s3.h"
#include "sources.h"
#include "sqs.h"

#define POLL_MS 50
#define MAX_POLLERS 5 /* concurrent batches per mapping, as Lambda starts */

typedef struct mapping {
  struct lk_sources *src;
  int src_closing; /* lambkin is stopping: no new batches */
  lk_function_t *def;
  char *queue_arn;
  int batch;
  int window_s;
  int report_failures;
  int in_flight;
  uint64_t first_seen_ms;
} mapping_t;

struct lk_sources {
  lk_emu_t *emu;
  mapping_t *maps;
  int n_maps;
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

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- S3 ---- */

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

static int events_match(const cJSON *events, const char *event) {
  const cJSON *e;

  if (cJSON_IsString(events))
    return event_matches(events->valuestring, event);
  cJSON_ArrayForEach(e,
                     events) if (cJSON_IsString(e) &&
                                 event_matches(e->valuestring, event)) return 1;
  return 0;
}

/* Rules: [{Name: prefix|suffix, Value}] (any capitalisation of the keys). */
static int key_passes(const cJSON *rules, const char *key) {
  const cJSON *r;
  size_t kl = strlen(key);

  cJSON_ArrayForEach(r, rules) {
    const char *name = str(r, "Name") ? str(r, "Name") : str(r, "name");
    const char *v = str(r, "Value") ? str(r, "Value") : str(r, "value");
    size_t vl = v ? strlen(v) : 0;

    if (name == NULL || v == NULL)
      continue;
    if (strcasecmp(name, "prefix") == 0 && strncmp(key, v, vl) != 0)
      return 0;
    if (strcasecmp(name, "suffix") == 0 &&
        (vl > kl || strcmp(key + kl - vl, v) != 0))
      return 0;
  }
  return 1;
}

static void deliver_s3(lk_sources_t *src, const char *kind, const char *arn,
                       const char *config_id, const char *bucket,
                       const char *event, const char *key, size_t size,
                       const char *etag, const char *trace) {
  char *payload = lk_event_s3(src->emu->app->region, bucket, event, key, size,
                              etag, config_id, ++src->seq);
  char edge[600];

  if (payload == NULL)
    return;
  snprintf(edge, sizeof(edge), "s3://%s/%.500s", bucket, key);
  if (strcmp(kind, "function") == 0) {
    lk_function_t *def = lk_app_function(src->emu->app, arn);

    if (def)
      lk_emu_invoke(src->emu, def, payload, strlen(payload), 1, "s3", trace,
                    edge, NULL, NULL);
  } else {
    lk_sqs_send(src->emu->sqs, arn, payload, strlen(payload), trace, NULL);
  }
  free(payload);
}

/* <LambdaFunctionConfiguration>/<CloudFunctionConfiguration>/
 * <QueueConfiguration> entries of a NotificationConfiguration document. */
static void xml_targets(lk_sources_t *src, const char *doc, const char *bucket,
                        const char *event, const char *key, size_t size,
                        const char *etag, const char *trace) {
  static const struct {
    const char *tag, *target, *kind;
  } kinds[] = {
      {"CloudFunctionConfiguration", "CloudFunction", "function"},
      {"LambdaFunctionConfiguration", "LambdaFunctionArn", "function"},
      {"QueueConfiguration", "Queue", "queue"},
  };
  const char *end = doc + strlen(doc);
  size_t k;

  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    const char *cur = doc, *conf;
    size_t cl;

    while ((conf = lk_xml_next(&cur, end, kinds[k].tag, &cl)) != NULL) {
      const char *c2 = conf, *ev, *t, *rule, *id;
      size_t el, tl, rl, il;
      int match = 0, pass = 1;
      char target[512], idbuf[256];

      while ((ev = lk_xml_next(&c2, conf + cl, "Event", &el)) != NULL) {
        char e[128];

        snprintf(e, sizeof(e), "%.*s", (int)el, ev);
        match |= event_matches(e, event);
      }
      c2 = conf;
      t = lk_xml_next(&c2, conf + cl, kinds[k].target, &tl);
      c2 = conf;
      id = lk_xml_next(&c2, conf + cl, "Id", &il);
      c2 = conf;
      while ((rule = lk_xml_next(&c2, conf + cl, "FilterRule", &rl)) != NULL) {
        const char *c3 = rule, *n, *v;
        size_t nl, vl;
        char nm[16], val[1024];

        n = lk_xml_next(&c3, rule + rl, "Name", &nl);
        c3 = rule;
        v = lk_xml_next(&c3, rule + rl, "Value", &vl);
        if (n == NULL || v == NULL)
          continue;
        snprintf(nm, sizeof(nm), "%.*s", (int)nl, n);
        snprintf(val, sizeof(val), "%.*s", (int)vl, v);
        if (strcasecmp(nm, "prefix") == 0 &&
            strncmp(key, val, strlen(val)) != 0)
          pass = 0;
        if (strcasecmp(nm, "suffix") == 0 &&
            (strlen(val) > strlen(key) ||
             strcmp(key + strlen(key) - strlen(val), val) != 0))
          pass = 0;
      }
      if (!match || !pass || t == NULL)
        continue;
      snprintf(target, sizeof(target), "%.*s", (int)tl, t);
      snprintf(idbuf, sizeof(idbuf), "%.*s", id ? (int)il : 0, id ? id : "");
      deliver_s3(src, kinds[k].kind, target,
                 idbuf[0] ? idbuf : "lambkin-notification", bucket, event, key,
                 size, etag, trace);
    }
  }
}

static void on_s3_event(void *ud, const char *bucket, const char *event,
                        const char *key, const lk_s3_object_t *obj, size_t size,
                        const char *etag, const char *trace) {
  lk_sources_t *src = ud;
  lk_app_t *app = src->emu->app;
  const char *doc;
  int i;

  (void)obj;
  /* Events: {Type: S3, Properties: {Bucket, Events, Filter}} */
  for (i = 0; i < app->n_functions; i++) {
    const cJSON *ev;

    cJSON_ArrayForEach(ev, app->functions[i].events) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      const cJSON *rules = cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(p, "Filter"), "S3Key"),
          "Rules");

      if (str(ev, "Type") == NULL || strcmp(str(ev, "Type"), "S3") != 0 ||
          str(p, "Bucket") == NULL || strcmp(str(p, "Bucket"), bucket) != 0 ||
          !events_match(cJSON_GetObjectItemCaseSensitive(p, "Events"), event) ||
          !key_passes(rules, key))
        continue;
      deliver_s3(src, "function", app->functions[i].name, ev->string, bucket,
                 event, key, size, etag, trace);
    }
  }
  /* The template's own NotificationConfiguration on the bucket. */
  for (i = 0; i < app->n_buckets; i++) {
    const cJSON *lc, *c;

    if (strcmp(app->buckets[i].name, bucket) != 0)
      continue;
    lc = cJSON_GetObjectItemCaseSensitive(app->buckets[i].notification,
                                          "LambdaConfigurations");
    cJSON_ArrayForEach(c, lc) {
      const cJSON *rules = cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(c, "Filter"), "S3Key"),
          "Rules");

      if (event_matches(str(c, "Event"), event) && key_passes(rules, key) &&
          str(c, "Function"))
        deliver_s3(src, "function", str(c, "Function"), "template", bucket,
                   event, key, size, etag, trace);
    }
    lc = cJSON_GetObjectItemCaseSensitive(app->buckets[i].notification,
                                          "QueueConfigurations");
    cJSON_ArrayForEach(c, lc) {
      if (event_matches(str(c, "Event"), event) && str(c, "Queue"))
        deliver_s3(src, "queue", str(c, "Queue"), "template", bucket, event,
                   key, size, etag, trace);
    }
  }
  /* What a client PUT with PutBucketNotificationConfiguration. */
  doc = lk_s3_notification(src->emu->s3, bucket);
  if (doc)
    xml_targets(src, doc, bucket, event, key, size, etag, trace);
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

/* On success the batch is deleted, less what ReportBatchItemFailures
 * names; on any failure nothing is: the messages come back after the
 * visibility timeout and the queue's redrive policy takes over. */
static void on_batch_done(const lk_result_t *res, void *ud) {
  batch_t *b = ud;
  mapping_t *m = b->map;
  lk_sqs_t *sqs = b->src->emu->sqs;
  cJSON *body = NULL, *fails = NULL;
  int i, keep_all = 0;

  m->in_flight--;
  if (res->error_type == NULL && m->report_failures) {
    body = cJSON_ParseWithLength(res->body ? res->body : "", res->len);
    fails = cJSON_GetObjectItemCaseSensitive(body, "batchItemFailures");
    /* A response that names failures badly fails the whole batch. */
    if (fails && !cJSON_IsArray(fails))
      keep_all = 1;
  }
  for (i = 0; res->error_type == NULL && !keep_all && i < b->n; i++) {
    const cJSON *f;
    int failed = 0;

    cJSON_ArrayForEach(f, fails) {
      const char *id = str(f, "itemIdentifier");

      failed |= id && strcmp(id, b->ids[i]) == 0;
    }
    if (!failed)
      lk_sqs_delete(sqs, m->queue_arn, b->receipts[i]);
  }
  cJSON_Delete(body);
  batch_free(b);
  /* The next batch now, not at the next tick: a backlog drains at the
   * speed of the function, not of the poll timer. */
  if (!m->src_closing)
    poll_mapping(m->src, m);
}

static void poll_mapping(lk_sources_t *src, mapping_t *m) {
  lk_sqs_t *sqs = src->emu->sqs;
  int visible, in_flight, delayed, n, i;
  uint64_t now = lk_now_ms();
  cJSON *msgs, *ev, *recs;
  const cJSON *msg;
  const char *trace = NULL;
  batch_t *b;
  char *payload, edge[300];
  int cap = MAX_POLLERS;

  if (m->def->reserved_concurrency >= 0 && m->def->reserved_concurrency < cap)
    cap = m->def->reserved_concurrency;
  if (m->in_flight >= cap ||
      lk_sqs_counts(sqs, m->queue_arn, &visible, &in_flight, &delayed))
    return;
  if (visible == 0) {
    m->first_seen_ms = 0;
    return;
  }
  if (m->first_seen_ms == 0)
    m->first_seen_ms = now;
  if (visible < m->batch &&
      now - m->first_seen_ms < (uint64_t)m->window_s * 1000)
    return; /* MaximumBatchingWindowInSeconds: wait for a fuller batch */
  msgs = cJSON_CreateArray();
  n = lk_sqs_receive(sqs, m->queue_arn, m->batch, msgs);
  if (n <= 0) {
    cJSON_Delete(msgs);
    return;
  }
  m->first_seen_ms = 0;
  b = calloc(1, sizeof(*b));
  ev = cJSON_CreateObject();
  recs = cJSON_AddArrayToObject(ev, "Records");
  if (b) {
    b->receipts = calloc((size_t)n, sizeof(char *));
    b->ids = calloc((size_t)n, sizeof(char *));
  }
  i = 0;
  cJSON_ArrayForEach(msg, msgs) {
    cJSON_AddItemToArray(
        recs, lk_event_sqs_record(src->emu->app->region, m->queue_arn, msg));
    if (b && b->receipts && b->ids) {
      b->receipts[i] = strdup(str(msg, "ReceiptHandle"));
      b->ids[i] = strdup(str(msg, "MessageId"));
      b->n = ++i;
    }
    if (trace == NULL)
      trace = str(cJSON_GetObjectItemCaseSensitive(msg, "Attributes"),
                  "AWSTraceHeader");
  }
  payload = cJSON_PrintUnformatted(ev);
  snprintf(edge, sizeof(edge), "sqs://%s", strrchr(m->queue_arn, ':') + 1);
  if (b == NULL || b->n != n || payload == NULL) {
    if (b)
      batch_free(b); /* nothing deleted: the messages come back */
  } else {
    b->src = src;
    b->map = m;
    m->in_flight++;
    if (lk_emu_invoke(src->emu, m->def, payload, strlen(payload), 0, "sqs",
                      trace, edge, on_batch_done, b)) {
      m->in_flight--;
      batch_free(b); /* stopped (a loop) or refused: left in the queue */
    }
  }
  free(payload);
  cJSON_Delete(ev);
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
  lk_function_t *def = lk_app_function(src->emu->app, dest);
  char *payload, edge[600];

  if (def == NULL)
    return; /* a destination lambkin does not run */
  payload =
      lk_event_logs(src->emu->app->account, group, stream, filter, events);
  if (payload) {
    snprintf(edge, sizeof(edge), "logs:%.500s", group);
    lk_emu_invoke(src->emu, def, payload, strlen(payload), 1, "logs", trace,
                  edge, NULL, NULL);
  }
  free(payload);
}

/* ---- set-up ---- */

static long num(const cJSON *o, const char *k, long def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  if (cJSON_IsNumber(v))
    return (long)v->valuedouble;
  if (cJSON_IsString(v))
    return strtol(v->valuestring, NULL, 10);
  return def;
}

int lk_sources_new(lk_emu_t *emu, lk_sources_t **out) {
  lk_sources_t *src = calloc(1, sizeof(*src));
  lk_app_t *app = emu->app;
  int i, err = 0;

  if (src == NULL)
    return LK_ENOMEM;
  src->emu = emu;
  for (i = 0; i < app->n_functions && err == 0; i++) {
    lk_function_t *f = &app->functions[i];
    const cJSON *ev;

    cJSON_ArrayForEach(ev, f->events) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      const char *type = str(ev, "Type");

      if (type && strcmp(type, "SQS") == 0 && str(p, "Queue")) {
        mapping_t *nm, *m;
        const cJSON *frt, *t;
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "Enabled");

        if (cJSON_IsFalse(en))
          continue;
        nm = realloc(src->maps, sizeof(*nm) * (size_t)(src->n_maps + 1));
        if (nm == NULL) {
          err = LK_ENOMEM;
          break;
        }
        src->maps = nm;
        m = &src->maps[src->n_maps++];
        memset(m, 0, sizeof(*m));
        m->def = f;
        m->src = src;
        m->queue_arn = strdup(str(p, "Queue"));
        m->batch = (int)num(p, "BatchSize", 10);
        if (m->batch < 1 || m->batch > 10)
          m->batch = 10; /* lambkin receives at most 10 at a time */
        m->window_s = (int)num(p, "MaximumBatchingWindowInSeconds", 0);
        if (m->window_s < 0 || m->window_s > 300)
          m->window_s = 0;
        frt = cJSON_GetObjectItemCaseSensitive(p, "FunctionResponseTypes");
        cJSON_ArrayForEach(t, frt) m->report_failures |=
            cJSON_IsString(t) &&
            strcmp(t->valuestring, "ReportBatchItemFailures") == 0;
      } else if (type && strcmp(type, "CloudWatchLogs") == 0 &&
                 str(p, "LogGroupName")) {
        char name[300];

        lk_logs_create_group(emu->logs, str(p, "LogGroupName"));
        snprintf(name, sizeof(name), "%s-%s", f->name, ev->string);
        lk_logs_subscribe(
            emu->logs, str(p, "LogGroupName"), name,
            str(p, "FilterPattern") ? str(p, "FilterPattern") : "", f->arn);
      }
    }
  }
  if (err == 0) {
    src->tick = malloc(sizeof(*src->tick));
    if (src->tick == NULL)
      err = LK_ENOMEM;
  }
  if (err) {
    lk_sources_free(src);
    return err;
  }
  uv_timer_init(emu->loop, src->tick);
  src->tick->data = src;
  if (src->n_maps) {
    uv_timer_start(src->tick, on_poll, POLL_MS, POLL_MS);
    uv_unref((uv_handle_t *)src->tick);
  }
  lk_s3_on_event(emu->s3, on_s3_event, src);
  lk_sqs_on_send(emu->sqs, on_sqs_send, src);
  lk_logs_on_match(emu->logs, on_logs_match, src);
  *out = src;
  return 0;
}

void lk_sources_close(lk_sources_t *src) {
  int i;

  for (i = 0; src && i < src->n_maps; i++)
    src->maps[i].src_closing = 1;
  if (src && src->tick) {
    uv_close((uv_handle_t *)src->tick, (uv_close_cb)free);
    src->tick = NULL;
  }
}

void lk_sources_free(lk_sources_t *src) {
  int i;

  if (src == NULL)
    return;
  for (i = 0; i < src->n_maps; i++)
    free(src->maps[i].queue_arn);
  free(src->maps);
  free(src->tick); /* only set when never started */
  free(src);
}
