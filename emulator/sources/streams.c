/* Stream event source mappings (see streams.h). A mapping holds the
 * records it took and has not finished ("pending", in order); the next
 * invoke sends the first `cut` of them. Success drops what was sent;
 * failure retries it, halved first when bisecting, until the retries
 * run out and it goes to OnFailure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ddb_stream.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "pattern.h"
#include "streams.h"

#define BATCH_BYTES ((size_t)4 * 1024 * 1024) /* under the 6 MB payload */
#define RETRY_MS 100                          /* doubled each time */
#define RETRY_MAX_MS 5000

typedef struct smap {
  struct lk_streams *owner;
  const lk_function_t *def;
  char *name, *arn, *table, *on_failure;
  int reader;
  int batch, window_s, report, bisect, max_retries; /* -1: until done */
  cJSON *filters; /* checked patterns; NULL: every record */
  cJSON *pending, *traces;
  char last[LK_DDB_SEQ_MAX]; /* the last record taken, filtered or not */
  int cut, attempts, in_flight;
  uint64_t first_seen_ms;
  uv_timer_t *timer; /* a retry's backoff, or the batching window */
} smap_t;

struct lk_streams {
  const lk_app_t *app;
  lk_runtime_t *rt;
  lk_ddb_t *ddb;
  lk_sqs_t *sqs;
  smap_t **maps;
  int n, closing;
};

static void pump(smap_t *m);

static void on_timer(uv_timer_t *t) {
  pump(t->data);
}

/* ---- what a mapping takes ---- */

static const char *seq_of(const cJSON *rec) {
  return lk_json_str(cJSON_GetObjectItemCaseSensitive(rec, "dynamodb"),
                     "SequenceNumber");
}

static int passes(const smap_t *m, const cJSON *rec) {
  const cJSON *f;

  if (m->filters == NULL)
    return 1;
  cJSON_ArrayForEach(f, m->filters) {
    if (lk_pattern_match(f, rec))
      return 1;
  }
  return 0;
}

/* Takes the next records that pass the filters; those that do not are
 * done with once the batch is. 1 when a batch is in hand, 0 when there
 * is none (or the batching window is open), -1 when every record read
 * was filtered out. */
static int take(smap_t *m) {
  lk_streams_t *s = m->owner;
  cJSON *recs = cJSON_CreateArray(), *traces = cJSON_CreateArray();
  cJSON *r, *t, *next_r, *next_t;
  int n = lk_ddb_read(s->ddb, m->reader, m->batch, BATCH_BYTES, recs, traces);
  uint64_t now = lk_now_ms();

  if (n > 0 && n < m->batch && m->window_s > 0) {
    if (m->first_seen_ms == 0)
      m->first_seen_ms = now;
    if (now - m->first_seen_ms < (uint64_t)m->window_s * 1000) {
      uv_timer_start(m->timer, on_timer,
                     m->first_seen_ms + (uint64_t)m->window_s * 1000 - now, 0);
      n = 0; /* MaximumBatchingWindowInSeconds: wait for a fuller batch */
    }
  }
  if (n > 0) {
    m->first_seen_ms = 0;
    snprintf(m->last, sizeof(m->last), "%s",
             seq_of(cJSON_GetArrayItem(recs, n - 1)));
    for (r = recs->child, t = traces->child; r; r = next_r, t = next_t) {
      next_r = r->next;
      next_t = t->next;
      if (!passes(m, r)) {
        cJSON_Delete(cJSON_DetachItemViaPointer(recs, r));
        cJSON_Delete(cJSON_DetachItemViaPointer(traces, t));
      }
    }
    if (recs->child == NULL) { /* nothing passed: done with all of it */
      lk_ddb_reader_done(s->ddb, m->reader, m->last);
      n = -1;
    }
  }
  if (n <= 0) {
    cJSON_Delete(recs);
    cJSON_Delete(traces);
    return n;
  }
  m->pending = recs;
  m->traces = traces;
  m->cut = cJSON_GetArraySize(recs);
  m->attempts = 0;
  return 1;
}

/* The first k pending records (of the cut sent) are done with. */
static void finish(smap_t *m, int k) {
  lk_streams_t *s = m->owner;
  const char *seq = NULL;
  int i;

  for (i = 0; i < k && m->pending->child; i++) {
    cJSON *r = cJSON_DetachItemViaPointer(m->pending, m->pending->child);

    if (m->pending->child == NULL) /* the batch's filtered records too */
      lk_ddb_reader_done(s->ddb, m->reader, m->last);
    else if ((seq = seq_of(r)) != NULL)
      lk_ddb_reader_done(s->ddb, m->reader, seq);
    cJSON_Delete(r);
    cJSON_DeleteItemFromArray(m->traces, 0);
  }
  if (k == 0)
    return;
  m->attempts = 0;
  /* What is left of the records sent goes again; after all of them,
   * everything pending. */
  m->cut = m->cut > k ? m->cut - k : cJSON_GetArraySize(m->pending);
  if (m->cut == 0) {
    cJSON_Delete(m->pending);
    cJSON_Delete(m->traces);
    m->pending = m->traces = NULL;
  }
}

/* ---- giving up: OnFailure ---- */

static void iso_now(char *out, size_t cap) {
  uint64_t ms = lk_now_ms();
  time_t sec = (time_t)(ms / 1000);
  struct tm tm;

  gmtime_r(&sec, &tm);
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)(ms % 1000));
}

static void arrival(cJSON *to, const char *name, const cJSON *rec) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "dynamodb");
  time_t t = (time_t)lk_json_long(d, "ApproximateCreationDateTime", 0);
  struct tm tm;
  char when[40];

  gmtime_r(&t, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  cJSON_AddStringToObject(to, name, when);
}

/* The invocation record Lambda sends OnFailure for a stream batch. */
static char *failure_record(const smap_t *m, const char *condition,
                            const char *error) {
  cJSON *o = cJSON_CreateObject(), *rc, *resp, *info;
  const cJSON *first = m->pending->child;
  const cJSON *last = cJSON_GetArrayItem(m->pending, m->cut - 1);
  char id[37], when[80], *text;

  lk_uuid(id);
  iso_now(when, sizeof(when));
  rc = cJSON_AddObjectToObject(o, "requestContext");
  cJSON_AddStringToObject(rc, "requestId", id);
  cJSON_AddStringToObject(rc, "functionArn", m->def->arn);
  cJSON_AddStringToObject(rc, "condition", condition);
  cJSON_AddNumberToObject(rc, "approximateInvokeCount", m->attempts);
  resp = cJSON_AddObjectToObject(o, "responseContext");
  cJSON_AddNumberToObject(resp, "statusCode", 200);
  cJSON_AddStringToObject(resp, "executedVersion", "$LATEST");
  cJSON_AddStringToObject(resp, "functionError", error ? error : "Unhandled");
  cJSON_AddStringToObject(o, "version", "1.0");
  cJSON_AddStringToObject(o, "timestamp", when);
  info = cJSON_AddObjectToObject(o, "DDBStreamBatchInfo");
  cJSON_AddStringToObject(info, "shardId",
                          lk_ddb_reader_shard(m->owner->ddb, m->reader));
  cJSON_AddStringToObject(info, "startSequenceNumber", seq_of(first));
  cJSON_AddStringToObject(info, "endSequenceNumber", seq_of(last));
  arrival(info, "approximateArrivalOfFirstRecord", first);
  arrival(info, "approximateArrivalOfLastRecord", last);
  cJSON_AddNumberToObject(info, "batchSize", m->cut);
  cJSON_AddStringToObject(info, "streamArn",
                          lk_json_str(first, "eventSourceARN"));
  text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

/* The records sent last are given up on: to OnFailure when there is
 * one, then done with either way, so the shard moves on. */
static void give_up(smap_t *m, const char *condition, const char *error) {
  lk_streams_t *s = m->owner;
  const char *trace = cJSON_GetArrayItem(m->traces, 0)->valuestring;

  if (m->on_failure) {
    char *rec = failure_record(m, condition, error);

    if (lk_sqs_send(s->sqs, m->on_failure, rec, strlen(rec),
                    trace[0] ? trace : NULL, NULL) != 0)
      fprintf(stderr,
              "lambkin: %s: OnFailure destination %s is not a queue "
              "lambkin serves; the batch is dropped\n",
              m->def->name, m->on_failure);
    free(rec);
  } else {
    fprintf(stderr,
            "lambkin: %s: %d DynamoDB stream record(s) dropped after %d "
            "attempt(s) (%s); set DestinationConfig.OnFailure to keep them\n",
            m->def->name, m->cut, m->attempts, condition);
  }
  finish(m, m->cut);
}

/* ---- one batch ---- */

/* The position, in the batch sent, of the first record the function's
 * batchItemFailures names: the records before it succeeded. -1 when it
 * names none; cut when its answer is not one (the whole batch failed). */
static int first_failure(const smap_t *m, const lk_result_t *res) {
  cJSON *body = cJSON_ParseWithLength(res->body ? res->body : "", res->len);
  const cJSON *fails =
      cJSON_GetObjectItemCaseSensitive(body, "batchItemFailures");
  const cJSON *f, *r;
  int first = -1;

  if (fails && !cJSON_IsArray(fails))
    first = m->cut;
  cJSON_ArrayForEach(f, fails) {
    const char *id = lk_json_str(f, "itemIdentifier");
    int i = 0, found = -1;

    for (r = m->pending->child; r && i < m->cut && id; r = r->next, i++)
      if (strcmp(seq_of(r), id) == 0)
        found = i;
    if (found < 0) {
      first = 0; /* an identifier not in the batch fails all of it */
      break;
    }
    if (first < 0 || found < first)
      first = found;
  }
  cJSON_Delete(body);
  return first;
}

static void retry_later(smap_t *m) {
  uint64_t delay = RETRY_MS;
  int i;

  for (i = 1; i < m->attempts && delay < RETRY_MAX_MS; i++)
    delay *= 2;
  uv_timer_start(m->timer, on_timer,
                 delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS, 0);
}

static void on_done(const lk_result_t *res, void *ud) {
  smap_t *m = ud;
  int failed_at = res->error_type ? 0 : -1;

  m->in_flight = 0;
  if (failed_at < 0 && m->report)
    failed_at = first_failure(m, res);
  if (failed_at < 0 || failed_at >= m->cut) {
    if (failed_at < 0) {
      finish(m, m->cut);
      pump(m);
      return;
    }
    failed_at = 0;
  }
  finish(m, failed_at); /* those before the failure succeeded */
  m->attempts++;
  if (m->bisect && m->cut > 1) {
    m->cut = (m->cut + 1) / 2; /* a split is not a retry */
    m->attempts--;
  } else if (m->max_retries >= 0 && m->attempts > m->max_retries) {
    give_up(m, "RetryAttemptsExhausted", res->error_type);
  }
  if (m->owner->closing)
    return;
  if (m->pending)
    retry_later(m);
  else
    pump(m);
}

static void send_batch(smap_t *m) {
  lk_streams_t *s = m->owner;
  cJSON *ev = cJSON_CreateObject(),
        *recs = cJSON_AddArrayToObject(ev, "Records");
  const cJSON *r;
  const char *trace = cJSON_GetArrayItem(m->traces, 0)->valuestring;
  char *payload, edge[300];
  int i = 0, rc;

  for (r = m->pending->child; r && i < m->cut; r = r->next, i++)
    cJSON_AddItemToArray(recs, cJSON_Duplicate(r, 1));
  payload = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  snprintf(edge, sizeof(edge), "dynamodb://%s", m->table);
  m->in_flight = 1;
  rc = lk_runtime_invoke(s->rt, m->def, payload, strlen(payload), 0, "dynamodb",
                         trace[0] ? trace : NULL, edge, on_done, m);
  free(payload);
  if (rc) { /* a loop stopped, or the function refused: not retried */
    m->in_flight = 0;
    m->attempts++;
    give_up(m, rc == LK_ELOOP ? "RecursiveInvocationStopped" : "Refused", NULL);
  }
}

/* The next batch, unless one is in flight or waits for its retry. */
static void pump(smap_t *m) {
  int turns = 100; /* a long run of filtered records is read in turns */

  while (!m->owner->closing && !m->in_flight) {
    if (m->pending && uv_is_active((uv_handle_t *)m->timer))
      return;
    if (m->pending == NULL) {
      int got = take(m);

      if (got == 0)
        return;
      if (got < 0 && --turns > 0)
        continue;
      if (got < 0) {
        uv_timer_start(m->timer, on_timer, 1, 0);
        return;
      }
    }
    send_batch(m);
  }
}

static void on_stream(void *ud, const char *table) {
  lk_streams_t *s = ud;
  int i;

  for (i = 0; i < s->n; i++)
    if (strcmp(s->maps[i]->table, table) == 0)
      pump(s->maps[i]);
}

/* ---- set-up ---- */

static const char *on_failure_of(const cJSON *p) {
  const cJSON *dc = cJSON_GetObjectItemCaseSensitive(p, "DestinationConfig");

  return lk_json_str(cJSON_GetObjectItemCaseSensitive(dc, "OnFailure"),
                     "Destination");
}

/* FilterCriteria.Filters[].Pattern: JSON text each. -1 (with a warning)
 * when one is not a pattern: Lambda would refuse the mapping. */
static int load_filters(smap_t *m, const cJSON *p) {
  const cJSON *fc = cJSON_GetObjectItemCaseSensitive(p, "FilterCriteria");
  const cJSON *f;
  char err[256];

  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(fc, "Filters")) {
    const char *text = lk_json_str(f, "Pattern");
    cJSON *pat = text ? cJSON_Parse(text) : NULL;

    if (lk_pattern_check(pat, err, sizeof(err)) != 0) {
      fprintf(stderr,
              "lambkin: warning: %s: a DynamoDB filter is not "
              "used: %s\n",
              m->def->name, pat ? err : "Pattern is not JSON");
      cJSON_Delete(pat);
      return -1;
    }
    if (m->filters == NULL)
      m->filters = cJSON_CreateArray();
    cJSON_AddItemToArray(m->filters, pat);
  }
  return 0;
}

static void smap_free(smap_t *m) {
  free(m->name);
  free(m->arn);
  free(m->table);
  free(m->on_failure);
  cJSON_Delete(m->filters);
  cJSON_Delete(m->pending);
  cJSON_Delete(m->traces);
  free(m);
}

static int has(const cJSON *list, const char *what) {
  const cJSON *e;

  cJSON_ArrayForEach(e, list) {
    if (cJSON_IsString(e) && strcmp(e->valuestring, what) == 0)
      return 1;
  }
  return 0;
}

static void add_map(lk_streams_t *s, uv_loop_t *loop, const lk_function_t *f,
                    const char *event, const cJSON *p) {
  const char *arn = lk_json_str(p, "Stream");
  const char *start = lk_json_str(p, "StartingPosition");
  const char *tab = arn ? strstr(arn, ":table/") : NULL;
  const char *dest = on_failure_of(p);
  smap_t *m;

  if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "Enabled")) || !tab)
    return;
  m = lk_xcalloc(1, sizeof(*m));
  m->owner = s;
  m->def = f;
  m->name = lk_xasprintf("%s/%s", f->name, event);
  m->arn = lk_xstrdup(arn);
  m->table = lk_xasprintf("%.*s", (int)strcspn(tab + 7, "/"), tab + 7);
  m->on_failure = dest ? lk_xstrdup(dest) : NULL;
  m->batch = (int)lk_json_long(p, "BatchSize", 100);
  if (m->batch < 1 || m->batch > 10000)
    m->batch = 100;
  m->window_s = (int)lk_json_long(p, "MaximumBatchingWindowInSeconds", 0);
  if (m->window_s < 0 || m->window_s > 300)
    m->window_s = 0;
  m->report = has(cJSON_GetObjectItemCaseSensitive(p, "FunctionResponseTypes"),
                  "ReportBatchItemFailures");
  m->bisect = cJSON_IsTrue(
      cJSON_GetObjectItemCaseSensitive(p, "BisectBatchOnFunctionError"));
  m->max_retries = (int)lk_json_long(p, "MaximumRetryAttempts", -1);
  m->reader = lk_ddb_reader(s->ddb, m->name, arn,
                            start && strcmp(start, "LATEST") == 0);
  if (m->reader < 0 || load_filters(m, p) != 0) {
    smap_free(m);
    return;
  }
  m->timer = lk_xmalloc(sizeof(*m->timer));
  uv_timer_init(loop, m->timer);
  m->timer->data = m;
  uv_unref((uv_handle_t *)m->timer);
  s->maps = lk_xrealloc(s->maps, sizeof(*s->maps) * (size_t)(s->n + 1));
  s->maps[s->n++] = m;
}

lk_streams_t *lk_streams_new(uv_loop_t *loop, const lk_app_t *app,
                             lk_runtime_t *rt, lk_ddb_t *ddb, lk_sqs_t *sqs) {
  lk_streams_t *s = lk_xcalloc(1, sizeof(*s));
  const cJSON *ev;
  int i;

  s->app = app;
  s->rt = rt;
  s->ddb = ddb;
  s->sqs = sqs;
  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      const char *type = lk_json_str(ev, "Type");

      if (type && strcmp(type, "DynamoDB") == 0)
        add_map(s, loop, &app->functions[i], ev->string,
                cJSON_GetObjectItemCaseSensitive(ev, "Properties"));
    }
  lk_ddb_on_stream(ddb, on_stream, s);
  for (i = 0; i < s->n; i++) /* records a --state folder kept */
    pump(s->maps[i]);
  return s;
}

void lk_streams_close(lk_streams_t *s) {
  int i;

  if (s == NULL || s->closing)
    return;
  s->closing = 1;
  lk_ddb_on_stream(s->ddb, NULL, NULL);
  for (i = 0; i < s->n; i++) {
    uv_close((uv_handle_t *)s->maps[i]->timer, lk_free_handle);
    s->maps[i]->timer = NULL;
  }
}

void lk_streams_free(lk_streams_t *s) {
  int i;

  if (s == NULL)
    return;
  for (i = 0; i < s->n; i++) {
    free(s->maps[i]->timer); /* only set when never closed */
    smap_free(s->maps[i]);
  }
  free(s->maps);
  free(s);
}
