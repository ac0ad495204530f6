/* A DynamoDB stream (see ddb_stream.h): its records in an array, oldest
 * first, from `head` on; the slots before head are reused once they are
 * half the array. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddb_stream.h"
#include "ddb_value.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

typedef struct record {
  uint64_t seq, at_ms;
  cJSON *rec; /* as GetRecords answers it */
  char *trace;
  size_t bytes;
} record_t;

struct lk_ddb_stream {
  char *arn, *label, *view, *region;
  char shard[64];
  record_t *recs;
  size_t head, n, cap; /* recs[head..n) are held */
  size_t bytes;
  uint64_t end;     /* the number after the newest ever added */
  uint64_t trimmed; /* the records below it have gone */
};

lk_ddb_stream_t *lk_ddb_stream_new(const char *table_arn, const char *label,
                                   const char *view, const char *region) {
  lk_ddb_stream_t *s = lk_xcalloc(1, sizeof(*s));
  char hex[9];

  s->arn = lk_xasprintf("%s/stream/%s", table_arn, label);
  s->label = lk_xstrdup(label);
  s->view = lk_xstrdup(view ? view : "NEW_AND_OLD_IMAGES");
  s->region = lk_xstrdup(region);
  lk_hex(hex, 8);
  snprintf(s->shard, sizeof(s->shard), "shardId-%020" PRIu64 "-%s", lk_now_ms(),
           hex);
  return s;
}

static void record_free(record_t *r) {
  cJSON_Delete(r->rec);
  free(r->trace);
}

void lk_ddb_stream_free(lk_ddb_stream_t *s) {
  size_t i;

  if (s == NULL)
    return;
  for (i = s->head; i < s->n; i++)
    record_free(&s->recs[i]);
  free(s->recs);
  free(s->arn);
  free(s->label);
  free(s->view);
  free(s->region);
  free(s);
}

const char *lk_ddb_stream_arn(const lk_ddb_stream_t *s) {
  return s->arn;
}

const char *lk_ddb_stream_label(const lk_ddb_stream_t *s) {
  return s->label;
}

const char *lk_ddb_stream_view(const lk_ddb_stream_t *s) {
  return s->view;
}

const char *lk_ddb_stream_shard(const lk_ddb_stream_t *s) {
  return s->shard;
}

void lk_ddb_seq_format(uint64_t seq, char out[LK_DDB_SEQ_MAX]) {
  snprintf(out, LK_DDB_SEQ_MAX, "1%020" PRIu64, seq);
}

int lk_ddb_seq_parse(const char *text, uint64_t *seq) {
  uint64_t v = 0;
  int i;

  if (text == NULL || strlen(text) != 21 || text[0] != '1')
    return -1;
  for (i = 1; i < 21; i++) {
    if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(text[i] - '0');
  }
  *seq = v;
  return 0;
}

/* ---- adding ---- */

static void add_image(cJSON *to, const char *name, const cJSON *img,
                      size_t *bytes) {
  if (img == NULL)
    return;
  cJSON_AddItemToObject(to, name, cJSON_Duplicate(img, 1));
  *bytes += lk_ddb_item_size(img);
}

/* Two items with the same attributes, equal as DynamoDB compares them. */
static int same_item(const cJSON *a, const cJSON *b) {
  const cJSON *v;

  if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
    return 0;
  cJSON_ArrayForEach(v, a) {
    if (!lk_ddb_value_eq(v, cJSON_GetObjectItemCaseSensitive(b, v->string)))
      return 0;
  }
  return 1;
}

/* The record as GetRecords answers it. */
static cJSON *make_record(const lk_ddb_stream_t *s, uint64_t seq,
                          const cJSON *keys, const cJSON *old, const cJSON *now,
                          size_t *bytes) {
  cJSON *r = cJSON_CreateObject(), *d;
  char id[33], num[LK_DDB_SEQ_MAX];
  int keys_only = strcmp(s->view, "KEYS_ONLY") == 0;

  lk_hex(id, 32);
  lk_ddb_seq_format(seq, num);
  cJSON_AddStringToObject(r, "eventID", id);
  cJSON_AddStringToObject(r, "eventName",
                          old == NULL   ? "INSERT"
                          : now == NULL ? "REMOVE"
                                        : "MODIFY");
  cJSON_AddStringToObject(r, "eventVersion", "1.1");
  cJSON_AddStringToObject(r, "eventSource", "aws:dynamodb");
  cJSON_AddStringToObject(r, "awsRegion", s->region);
  d = cJSON_AddObjectToObject(r, "dynamodb");
  cJSON_AddNumberToObject(d, "ApproximateCreationDateTime",
                          (double)(lk_now_ms() / 1000));
  *bytes = 0;
  add_image(d, "Keys", keys, bytes);
  if (!keys_only && strcmp(s->view, "OLD_IMAGE") != 0)
    add_image(d, "NewImage", now, bytes);
  if (!keys_only && strcmp(s->view, "NEW_IMAGE") != 0)
    add_image(d, "OldImage", old, bytes);
  cJSON_AddStringToObject(d, "SequenceNumber", num);
  cJSON_AddNumberToObject(d, "SizeBytes", (double)*bytes);
  cJSON_AddStringToObject(d, "StreamViewType", s->view);
  return r;
}

/* The largest record one change makes: keys and two images. */
#define RECORD_MAX (2 * LK_DDB_MAX_ITEM + 4096)

/* Drops the oldest record when it has passed retention, or when room for
 * need bytes is wanted, and no reader needs it; 1 when one went. */
static int drop_oldest(lk_ddb_stream_t *s, size_t need, uint64_t keep_from) {
  record_t *r;

  if (s->head == s->n)
    return 0;
  r = &s->recs[s->head];
  if (r->seq >= keep_from)
    return 0;
  if (s->bytes + need <= LK_DDB_STREAM_MAX_BYTES &&
      lk_now_ms() - r->at_ms < LK_DDB_STREAM_RETENTION_MS)
    return 0;
  s->bytes -= r->bytes;
  s->trimmed = r->seq + 1;
  record_free(r);
  s->head++;
  return 1;
}

int lk_ddb_stream_reserve(lk_ddb_stream_t *s, int n, uint64_t keep_from) {
  size_t need = (size_t)(n > 0 ? n : 0) * RECORD_MAX;

  while (drop_oldest(s, need, keep_from))
    ;
  return s->bytes + need > LK_DDB_STREAM_MAX_BYTES ? LK_ENOSPC : 0;
}

static void make_room(lk_ddb_stream_t *s) {
  if (s->head > 0 && s->head >= s->n / 2) {
    memmove(s->recs, s->recs + s->head, (s->n - s->head) * sizeof(*s->recs));
    s->n -= s->head;
    s->head = 0;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->recs = lk_xrealloc(s->recs, s->cap * sizeof(*s->recs));
  }
}

int lk_ddb_stream_add(lk_ddb_stream_t *s, uint64_t seq, const cJSON *keys,
                      const cJSON *old, const cJSON *now, const char *trace,
                      int by_ttl) {
  record_t *r;
  size_t bytes;

  if ((old == NULL && now == NULL) || (old && now && same_item(old, now)))
    return 0; /* DynamoDB writes no record for a write that changed nothing */
  make_room(s);
  r = &s->recs[s->n++];
  r->rec = make_record(s, seq, keys, old, now, &bytes);
  if (by_ttl) { /* as DynamoDB marks the deletions of its sweeper */
    cJSON *who = cJSON_AddObjectToObject(r->rec, "userIdentity");

    cJSON_AddStringToObject(who, "PrincipalId", "dynamodb.amazonaws.com");
    cJSON_AddStringToObject(who, "Type", "Service");
  }
  r->seq = seq;
  r->at_ms = lk_now_ms();
  r->trace = trace ? lk_xstrdup(trace) : NULL;
  r->bytes = bytes;
  s->bytes += bytes;
  s->end = seq + 1;
  return 1;
}

/* ---- --state ---- */

cJSON *lk_ddb_stream_save(const lk_ddb_stream_t *s) {
  cJSON *o = cJSON_CreateObject(), *list;
  size_t i;

  cJSON_AddStringToObject(o, "shard", s->shard);
  cJSON_AddNumberToObject(o, "trimmed", (double)s->trimmed);
  cJSON_AddNumberToObject(o, "end", (double)s->end);
  list = cJSON_AddArrayToObject(o, "records");
  for (i = s->head; i < s->n; i++) {
    const record_t *r = &s->recs[i];
    cJSON *j = cJSON_CreateObject();

    cJSON_AddNumberToObject(j, "seq", (double)r->seq);
    cJSON_AddNumberToObject(j, "at", (double)r->at_ms);
    cJSON_AddNumberToObject(j, "bytes", (double)r->bytes);
    if (r->trace)
      cJSON_AddStringToObject(j, "trace", r->trace);
    cJSON_AddItemToObject(j, "rec", cJSON_Duplicate(r->rec, 1));
    cJSON_AddItemToArray(list, j);
  }
  return o;
}

static uint64_t u64(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e18
             ? (uint64_t)v->valuedouble
             : 0;
}

/* Records out of order, or without their JSON, are left out. */
void lk_ddb_stream_load(lk_ddb_stream_t *s, const cJSON *saved) {
  const cJSON *j;
  const char *shard = lk_json_str(saved, "shard");

  if (shard && strlen(shard) < sizeof(s->shard))
    snprintf(s->shard, sizeof(s->shard), "%s", shard);
  s->trimmed = u64(saved, "trimmed");
  s->end = u64(saved, "end");
  cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(saved, "records")) {
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "rec");
    uint64_t seq = u64(j, "seq");
    record_t *r;

    if (!cJSON_IsObject(rec) ||
        (s->n > s->head && seq <= s->recs[s->n - 1].seq))
      continue;
    make_room(s);
    r = &s->recs[s->n++];
    r->seq = seq;
    r->at_ms = u64(j, "at");
    r->bytes = (size_t)u64(j, "bytes");
    if (r->bytes > RECORD_MAX) /* what one change can make */
      r->bytes = RECORD_MAX;
    r->rec = cJSON_Duplicate(rec, 1);
    r->trace =
        lk_json_str(j, "trace") ? lk_xstrdup(lk_json_str(j, "trace")) : NULL;
    s->bytes += r->bytes;
  }
  if (s->n > s->head && s->recs[s->n - 1].seq >= s->end)
    s->end = s->recs[s->n - 1].seq + 1;
}

/* ---- reading ---- */

uint64_t lk_ddb_stream_first(const lk_ddb_stream_t *s) {
  return s->head < s->n ? s->recs[s->head].seq : s->end;
}

uint64_t lk_ddb_stream_trimmed(const lk_ddb_stream_t *s) {
  return s->trimmed;
}

uint64_t lk_ddb_stream_end(const lk_ddb_stream_t *s) {
  return s->end;
}

/* The index of the first record numbered from `from` on. */
static size_t find(const lk_ddb_stream_t *s, uint64_t from) {
  size_t lo = s->head, hi = s->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (s->recs[mid].seq < from)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* A record as Lambda's event has it: its source's ARN, and the
 * userIdentity of a Time to Live removal in lower camel case. */
static void as_lambda_sends(cJSON *rec, const char *arn) {
  cJSON_AddStringToObject(rec, "eventSourceARN", arn);
  if (cJSON_GetObjectItemCaseSensitive(rec, "userIdentity")) {
    cJSON *lower = cJSON_CreateObject();

    cJSON_AddStringToObject(lower, "type", "Service");
    cJSON_AddStringToObject(lower, "principalId", "dynamodb.amazonaws.com");
    cJSON_ReplaceItemInObjectCaseSensitive(rec, "userIdentity", lower);
  }
}

uint64_t lk_ddb_stream_read(const lk_ddb_stream_t *s, uint64_t from, int max,
                            size_t max_bytes, int with_arn, cJSON *out,
                            cJSON *traces) {
  size_t i = find(s, from), bytes = 0;
  int n = 0;

  for (; i < s->n && n < max; i++, n++) {
    const record_t *r = &s->recs[i];
    cJSON *copy;

    if (n > 0 && bytes + r->bytes > max_bytes)
      break;
    copy = cJSON_Duplicate(r->rec, 1);
    if (with_arn)
      as_lambda_sends(copy, s->arn);
    cJSON_AddItemToArray(out, copy);
    if (traces)
      cJSON_AddItemToArray(traces,
                           cJSON_CreateString(r->trace ? r->trace : ""));
    bytes += r->bytes;
    from = r->seq + 1;
  }
  return from;
}

char *lk_ddb_stream_event(const char *region, const char *account,
                          const char *table, const char *view,
                          const cJSON *keys, const cJSON *old,
                          const cJSON *now) {
  char *arn =
      lk_xasprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, table);
  lk_ddb_stream_t *s =
      lk_ddb_stream_new(arn, LK_APP_STREAM_LABEL, view, region);
  cJSON *ev = cJSON_CreateObject();
  char *text;

  lk_ddb_stream_add(s, 1, keys, old, now, NULL, 0);
  lk_ddb_stream_read(s, 1, 1, LK_DDB_STREAM_MAX_BYTES, 1,
                     cJSON_AddArrayToObject(ev, "Records"), NULL);
  text = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  lk_ddb_stream_free(s);
  free(arn);
  return text;
}

static cJSON *sample_item(const char *key, const char *message) {
  cJSON *item = cJSON_CreateObject();

  cJSON_AddStringToObject(cJSON_AddObjectToObject(item, "id"), "S", key);
  if (message)
    cJSON_AddStringToObject(cJSON_AddObjectToObject(item, "message"), "S",
                            message);
  return item;
}

char *lk_ddb_sample_event(const char *region, const char *account,
                          const char *table, const char *event, const char *key,
                          const char *message) {
  int insert = strcmp(event, "INSERT") == 0,
      remove = !insert && strcmp(event, "REMOVE") == 0;
  cJSON *keys, *old, *now;
  char *text;

  if (!insert && !remove && strcmp(event, "MODIFY") != 0)
    return NULL;
  keys = sample_item(key, NULL);
  old = insert ? NULL : sample_item(key, remove ? message : "old");
  now = remove ? NULL : sample_item(key, message);
  text = lk_ddb_stream_event(region, account, table, "NEW_AND_OLD_IMAGES", keys,
                             old, now);
  cJSON_Delete(keys);
  cJSON_Delete(old);
  cJSON_Delete(now);
  return text;
}
