/* Stream event source mappings (see streams.h). A mapping reads one
 * shard (one per slot of a Kinesis ParallelizationFactor) through its
 * kind's reader; it holds the records it took and has not finished
 * ("pending", in order), and the next invoke sends the first `cut` of
 * them. Success drops what was sent; failure retries it, halved first
 * when bisecting, until the retries run out and it goes to OnFailure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "codec.h"
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
#define SEQ_MAX 64 /* a sequence number's text, either kind */

/* What differs between DynamoDB streams and Kinesis: the reader, and
 * where a record keeps its number and arrival time. */
typedef struct kind {
  const char *name;  /* the invoke's source, and the loop edge's scheme */
  const char *label; /* in messages */
  const char *info;  /* the OnFailure record's batch member */
  const char *inner; /* the record's member that holds the two below */
  const char *seq_key, *at_key;
  int (*read)(void *svc, int reader, int max, size_t max_bytes, cJSON *records,
              cJSON *traces);
  void (*done)(void *svc, int reader, const char *seq);
  const char *(*shard)(const void *svc, int reader);
} kind_t;

typedef struct smap {
  struct lk_streams *owner;
  const kind_t *kind;
  void *svc;
  const lk_function_t *def;
  char *name, *arn, *source, *on_failure; /* source: the table or stream */
  int reader;
  int batch, window_s, report, bisect, max_retries; /* -1: until done */
  cJSON *filters; /* checked patterns; NULL: every record */
  cJSON *pending, *traces;
  char last[SEQ_MAX]; /* the last record taken, filtered or not */
  int cut, attempts, in_flight;
  uint64_t first_seen_ms;
  uv_timer_t *timer; /* a retry's backoff, or the batching window */
} smap_t;

struct lk_streams {
  const lk_app_t *app;
  lk_runtime_t *rt;
  lk_ddb_t *ddb;
  lk_kin_t *kin;
  lk_sqs_t *sqs;
  smap_t **maps;
  int n, closing;
};

static void pump(smap_t *m);

static void on_timer(uv_timer_t *t) {
  pump(t->data);
}

/* ---- the two kinds ---- */

static int ddb_read(void *svc, int reader, int max, size_t max_bytes,
                    cJSON *records, cJSON *traces) {
  return lk_ddb_read(svc, reader, max, max_bytes, records, traces);
}

static void ddb_done(void *svc, int reader, const char *seq) {
  lk_ddb_reader_done(svc, reader, seq);
}

static const char *ddb_shard(const void *svc, int reader) {
  return lk_ddb_reader_shard(svc, reader);
}

static int kin_read(void *svc, int reader, int max, size_t max_bytes,
                    cJSON *records, cJSON *traces) {
  return lk_kin_read(svc, reader, max, max_bytes, records, traces);
}

static void kin_done(void *svc, int reader, const char *seq) {
  lk_kin_reader_done(svc, reader, seq);
}

static const char *kin_shard(const void *svc, int reader) {
  return lk_kin_reader_shard(svc, reader);
}

static const kind_t ddb_kind = {
    "dynamodb", "DynamoDB stream", "DDBStreamBatchInfo",
    "dynamodb", "SequenceNumber",  "ApproximateCreationDateTime",
    ddb_read,   ddb_done,          ddb_shard};
static const kind_t kin_kind = {
    "kinesis", "Kinesis",        "KinesisBatchInfo",
    "kinesis", "sequenceNumber", "approximateArrivalTimestamp",
    kin_read,  kin_done,         kin_shard};

/* ---- what a mapping takes ---- */

static const char *seq_of(const smap_t *m, const cJSON *rec) {
  return lk_json_str(cJSON_GetObjectItemCaseSensitive(rec, m->kind->inner),
                     m->kind->seq_key);
}

/* What a Kinesis filter sees: the record's "kinesis" member, its data
 * decoded when it is JSON (Lambda's rule for filtering on data). */
static cJSON *kinesis_view(const cJSON *rec) {
  cJSON *v =
      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "kinesis"), 1);
  const char *data = lk_json_str(v, "data");
  cJSON *parsed = NULL;
  lk_buf_t raw;

  lk_buf_init(&raw, LK_KIN_MAX_RECORD + 1);
  if (data && lk_b64_decode(&raw, data, strlen(data)) == 0 && raw.len > 0)
    parsed = cJSON_ParseWithLength(raw.data, raw.len);
  lk_buf_free(&raw);
  if (parsed)
    cJSON_ReplaceItemInObjectCaseSensitive(v, "data", parsed);
  return v;
}

static int passes(const smap_t *m, const cJSON *rec) {
  const cJSON *f;
  cJSON *view;
  int ok = 0;

  if (m->filters == NULL)
    return 1;
  view = m->kind == &kin_kind ? kinesis_view(rec) : NULL;
  cJSON_ArrayForEach(f, m->filters) {
    if (lk_pattern_match(f, view ? view : rec)) {
      ok = 1;
      break;
    }
  }
  cJSON_Delete(view);
  return ok;
}

/* Takes the next records that pass the filters; those that do not are
 * done with once the batch is. 1 when a batch is in hand, 0 when there
 * is none (or the batching window is open), -1 when every record read
 * was filtered out. */
static int take(smap_t *m) {
  cJSON *recs = cJSON_CreateArray(), *traces = cJSON_CreateArray();
  cJSON *r, *t, *next_r, *next_t;
  int n = m->kind->read(m->svc, m->reader, m->batch, BATCH_BYTES, recs, traces);
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
             seq_of(m, cJSON_GetArrayItem(recs, n - 1)));
    for (r = recs->child, t = traces->child; r; r = next_r, t = next_t) {
      next_r = r->next;
      next_t = t->next;
      if (!passes(m, r)) {
        cJSON_Delete(cJSON_DetachItemViaPointer(recs, r));
        cJSON_Delete(cJSON_DetachItemViaPointer(traces, t));
      }
    }
    if (recs->child == NULL) { /* nothing passed: done with all of it */
      m->kind->done(m->svc, m->reader, m->last);
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
  const char *seq = NULL;
  int i;

  for (i = 0; i < k && m->pending->child; i++) {
    cJSON *r = cJSON_DetachItemViaPointer(m->pending, m->pending->child);

    if (m->pending->child == NULL) /* the batch's filtered records too */
      m->kind->done(m->svc, m->reader, m->last);
    else if ((seq = seq_of(m, r)) != NULL)
      m->kind->done(m->svc, m->reader, seq);
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

static void arrival(const smap_t *m, cJSON *to, const char *name,
                    const cJSON *rec) {
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(rec, m->kind->inner), m->kind->at_key);
  double sec = cJSON_IsNumber(at) ? at->valuedouble : 0;
  time_t t = (time_t)sec;
  struct tm tm;
  char when[40], full[48];

  gmtime_r(&t, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(full, sizeof(full), "%s.%03dZ", when,
           (int)((sec - (double)t) * 1000) % 1000);
  cJSON_AddStringToObject(to, name, full);
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
  info = cJSON_AddObjectToObject(o, m->kind->info);
  cJSON_AddStringToObject(info, "shardId", m->kind->shard(m->svc, m->reader));
  cJSON_AddStringToObject(info, "startSequenceNumber", seq_of(m, first));
  cJSON_AddStringToObject(info, "endSequenceNumber", seq_of(m, last));
  arrival(m, info, "approximateArrivalOfFirstRecord", first);
  arrival(m, info, "approximateArrivalOfLastRecord", last);
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
            "lambkin: %s: %d %s record(s) dropped after %d "
            "attempt(s) (%s); set DestinationConfig.OnFailure to keep them\n",
            m->def->name, m->cut, m->kind->label, m->attempts, condition);
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
      if (strcmp(seq_of(m, r), id) == 0)
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
  snprintf(edge, sizeof(edge), "%s://%s", m->kind->name, m->source);
  m->in_flight = 1;
  rc = lk_runtime_invoke(s->rt, m->def, payload, strlen(payload), 0,
                         m->kind->name, trace[0] ? trace : NULL, edge, on_done,
                         m);
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

static void wake(lk_streams_t *s, const kind_t *kind, const char *source) {
  int i;

  for (i = 0; i < s->n; i++)
    if (s->maps[i]->kind == kind && strcmp(s->maps[i]->source, source) == 0)
      pump(s->maps[i]);
}

static void on_stream(void *ud, const char *table) {
  wake(ud, &ddb_kind, table);
}

static void on_put(void *ud, const char *stream) {
  wake(ud, &kin_kind, stream);
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
      fprintf(stderr, "lambkin: warning: %s: a %s filter is not used: %s\n",
              m->def->name, m->kind->label, pat ? err : "Pattern is not JSON");
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
  free(m->source);
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

/* A mapping of a kind over one table or stream, with the settings of
 * the event's Properties; the caller gives it its reader. */
static smap_t *new_map(lk_streams_t *s, const kind_t *kind, void *svc,
                       const lk_function_t *f, char *name, const char *source,
                       const cJSON *p) {
  const char *dest = on_failure_of(p);
  smap_t *m = lk_xcalloc(1, sizeof(*m));

  m->owner = s;
  m->kind = kind;
  m->svc = svc;
  m->def = f;
  m->name = name;
  m->arn = lk_xstrdup(lk_json_str(p, "Stream"));
  m->source = lk_xstrdup(source);
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
  return m;
}

/* Keeps a mapping that has its reader and usable filters. */
static void keep_map(lk_streams_t *s, uv_loop_t *loop, smap_t *m,
                     const cJSON *p) {
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

static int latest(const cJSON *p) {
  const char *start = lk_json_str(p, "StartingPosition");

  return start && strcmp(start, "LATEST") == 0;
}

static void add_ddb(lk_streams_t *s, uv_loop_t *loop, const lk_function_t *f,
                    const char *event, const cJSON *p) {
  const char *arn = lk_json_str(p, "Stream");
  const char *tab = arn ? strstr(arn, ":table/") : NULL;
  char table[256];
  smap_t *m;

  if (tab == NULL)
    return;
  snprintf(table, sizeof(table), "%.*s", (int)strcspn(tab + 7, "/"), tab + 7);
  m = new_map(s, &ddb_kind, s->ddb, f, lk_xasprintf("%s/%s", f->name, event),
              table, p);
  m->reader = lk_ddb_reader(s->ddb, m->name, arn, latest(p));
  keep_map(s, loop, m, p);
}

/* One mapping per shard and per slot of its ParallelizationFactor: each
 * has a batch in flight of its own, in order per partition key. */
static void add_kinesis(lk_streams_t *s, uv_loop_t *loop,
                        const lk_function_t *f, const char *event,
                        const cJSON *p) {
  const char *arn = lk_json_str(p, "Stream");
  const char *at = arn ? strstr(arn, ":stream/") : NULL;
  int factor = (int)lk_json_long(p, "ParallelizationFactor", 1);
  int shards, i, j;
  char stream[200];

  if (at == NULL)
    return;
  snprintf(stream, sizeof(stream), "%.*s", (int)strcspn(at + 8, "/"), at + 8);
  shards = lk_kin_shards(s->kin, stream);
  if (shards < 0) {
    fprintf(stderr,
            "lambkin: warning: %s: Kinesis stream %s is not one the template "
            "makes; its event %s is not used\n",
            f->name, stream, event);
    return;
  }
  if (factor < 1 || factor > 10)
    factor = 1;
  for (i = 0; i < shards; i++)
    for (j = 0; j < factor; j++) {
      smap_t *m =
          new_map(s, &kin_kind, s->kin, f,
                  lk_xasprintf("%s/%s/%d/%d", f->name, event, i, j), stream, p);

      m->reader =
          lk_kin_reader(s->kin, m->name, stream, i, j, factor, latest(p));
      keep_map(s, loop, m, p);
    }
}

lk_streams_t *lk_streams_new(uv_loop_t *loop, const lk_app_t *app,
                             lk_runtime_t *rt, lk_ddb_t *ddb, lk_kin_t *kin,
                             lk_sqs_t *sqs) {
  lk_streams_t *s = lk_xcalloc(1, sizeof(*s));
  const cJSON *ev;
  int i;

  s->app = app;
  s->rt = rt;
  s->ddb = ddb;
  s->kin = kin;
  s->sqs = sqs;
  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      const char *type = lk_json_str(ev, "Type");
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");

      if (type == NULL ||
          cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "Enabled")))
        continue;
      if (strcmp(type, "DynamoDB") == 0)
        add_ddb(s, loop, &app->functions[i], ev->string, p);
      else if (strcmp(type, "Kinesis") == 0)
        add_kinesis(s, loop, &app->functions[i], ev->string, p);
    }
  lk_ddb_on_stream(ddb, on_stream, s);
  lk_kin_on_put(kin, on_put, s);
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
  lk_kin_on_put(s->kin, NULL, NULL);
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
