/* Emulated Kinesis (see kinesis.h): a stream's shards each hold their
 * records in an array, oldest first from `head`; hash keys are 128-bit
 * integers (unsigned __int128), written in decimal as Kinesis writes
 * them. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "ids.h"
#include "json.h"
#include "kinesis.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define RETENTION_MS ((uint64_t)24 * 3600 * 1000)
#define PUT_MAX 500    /* PutRecords */
#define READ_MAX 10000 /* GetRecords */
#define PAGE_BYTES ((size_t)10 * 1024 * 1024)

__extension__ typedef unsigned __int128 u128; /* hash keys: 128 bits */

typedef struct record {
  uint64_t seq, at_ms;
  char *data; /* base64, as it came */
  char *key;  /* the partition key */
  char *trace;
  size_t bytes;
  uint32_t key_hash; /* picks a reader's slot: order per partition key */
} record_t;

typedef struct shard {
  char id[32];
  u128 start, end; /* its hash keys */
  record_t *recs;
  size_t head, n, cap;
} shard_t;

typedef struct stream {
  char *name, *arn;
  double created;
  int on_demand;
  shard_t shards[LK_KIN_MAX_SHARDS];
  int n_shards;
  size_t bytes;
} stream_t;

/* A mapping's place in one shard (and slot) of a stream. */
typedef struct follower {
  char *name, *stream;
  int shard, slot, n_slots;
  uint64_t next; /* the first sequence number it has not had */
} follower_t;

struct lk_kin {
  char *region, *account;
  stream_t *streams[LK_KIN_MAX_STREAMS];
  int n;
  uint64_t seq; /* the last sequence number given, across streams */
  follower_t *readers;
  int n_readers;
  lk_kin_put_cb put_cb;
  void *put_ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
};

lk_kin_t *lk_kin_new(const char *region, const char *account) {
  lk_kin_t *k = lk_xcalloc(1, sizeof(*k));

  k->region = lk_xstrdup(region);
  k->account = lk_xstrdup(account);
  return k;
}

static void record_free(record_t *r) {
  free(r->data);
  free(r->key);
  free(r->trace);
}

static void stream_free(stream_t *s) {
  int i;
  size_t j;

  for (i = 0; i < s->n_shards; i++) {
    for (j = s->shards[i].head; j < s->shards[i].n; j++)
      record_free(&s->shards[i].recs[j]);
    free(s->shards[i].recs);
  }
  free(s->name);
  free(s->arn);
  free(s);
}

void lk_kin_free(lk_kin_t *k) {
  int i;

  if (k == NULL)
    return;
  for (i = 0; i < k->n; i++)
    stream_free(k->streams[i]);
  for (i = 0; i < k->n_readers; i++) {
    free(k->readers[i].name);
    free(k->readers[i].stream);
  }
  free(k->readers);
  free(k->region);
  free(k->account);
  free(k);
}

/* ---- hash keys ---- */

static void u128_dec(u128 v, char out[48]) {
  char tmp[48];
  int n = 0, i;

  do {
    tmp[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  for (i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = '\0';
}

/* A decimal hash key of at most 39 digits below 2^128: 0, or -1. */
static int u128_parse(const char *s, u128 *out) {
  u128 v = 0, max = ~(u128)0;
  size_t i, n = s ? strlen(s) : 0;

  if (n == 0 || n > 39)
    return -1;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || v > (max - (u128)(s[i] - '0')) / 10)
      return -1;
    v = v * 10 + (u128)(s[i] - '0');
  }
  *out = v;
  return 0;
}

static u128 md5_key(const char *key) {
  char hex[33];
  u128 v = 0;
  int i;

  lk_md5_hex(key, strlen(key), hex);
  for (i = 0; i < 32; i++)
    v = (v << 4) | (u128)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
  return v;
}

static int shard_of(const stream_t *s, u128 h) {
  int i;

  for (i = 0; i < s->n_shards; i++)
    if (h >= s->shards[i].start && h <= s->shards[i].end)
      return i;
  return s->n_shards - 1;
}

/* Sequence numbers: 56 digits, "49" and the number, in order as text. */
static void seq_text(uint64_t seq, char out[64]) {
  snprintf(out, 64, "49%054" PRIu64, seq);
}

static int seq_parse(const char *s, uint64_t *out) {
  char *end;

  if (s == NULL || strlen(s) != 56 || strncmp(s, "49", 2) != 0)
    return -1;
  *out = strtoull(s + 2, &end, 10);
  return *end == '\0' ? 0 : -1;
}

static void record(const lk_kin_t *k, const char *op, cJSON *o, int durable);
static cJSON *stream_state(const stream_t *s);

/* ---- streams ---- */

static stream_t *find_stream(const lk_kin_t *k, const char *name) {
  int i;

  for (i = 0; name && i < k->n; i++)
    if (strcmp(k->streams[i]->name, name) == 0 ||
        strcmp(k->streams[i]->arn, name) == 0)
      return k->streams[i];
  return NULL;
}

int lk_kin_create_stream(lk_kin_t *k, const char *name, int shards) {
  size_t n = name ? strlen(name) : 0;
  u128 step;
  stream_t *s;
  int i;

  if (n < 1 || n > 128 ||
      strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_.-") != n ||
      shards < 0 || shards > LK_KIN_MAX_SHARDS)
    return LK_EINVAL;
  if (find_stream(k, name))
    return LK_EEXIST;
  if (k->n == LK_KIN_MAX_STREAMS)
    return LK_ENOSPC;
  s = lk_xcalloc(1, sizeof(*s));
  s->name = lk_xstrdup(name);
  s->arn = lk_xasprintf("arn:aws:kinesis:%s:%s:stream/%s", k->region,
                        k->account, name);
  s->created = (double)time(NULL);
  s->on_demand = shards == 0;
  s->n_shards = shards ? shards : 4;
  step = ~(u128)0 / (u128)s->n_shards;
  for (i = 0; i < s->n_shards; i++) {
    snprintf(s->shards[i].id, sizeof(s->shards[i].id), "shardId-%012d", i);
    s->shards[i].start = step * (u128)i + (i ? (u128)i : 0);
    s->shards[i].end =
        i + 1 == s->n_shards ? ~(u128)0 : step * (u128)(i + 1) + (u128)i;
  }
  k->streams[k->n++] = s;
  if (k->rec_cb)
    record(k, "stream", stream_state(s), 1);
  return 0;
}

/* The first sequence number a reader of the shard has not had. */
static uint64_t kept_from(const lk_kin_t *k, const stream_t *s, int shard) {
  uint64_t from = UINT64_MAX;
  int i;

  for (i = 0; i < k->n_readers; i++)
    if (k->readers[i].shard == shard &&
        strcmp(k->readers[i].stream, s->name) == 0 && k->readers[i].next < from)
      from = k->readers[i].next;
  return from;
}

/* Drops a shard's oldest records past retention, or (need bytes wanted)
 * past the stream's ceiling, but none a reader has not had. */
static void trim(const lk_kin_t *k, stream_t *s, shard_t *sh, size_t need) {
  uint64_t now = lk_now_ms(), keep = kept_from(k, s, (int)(sh - s->shards));

  while (sh->head < sh->n) {
    record_t *r = &sh->recs[sh->head];

    if (r->seq >= keep ||
        (now - r->at_ms < RETENTION_MS && s->bytes + need <= LK_KIN_MAX_BYTES))
      break;
    s->bytes -= r->bytes;
    record_free(r);
    sh->head++;
  }
  if (sh->head > 0 && sh->head >= sh->n / 2) {
    memmove(sh->recs, sh->recs + sh->head,
            (sh->n - sh->head) * sizeof(*sh->recs));
    sh->n -= sh->head;
    sh->head = 0;
  }
}

/* ---- records, and --state ---- */

static double num(const cJSON *n, double def) {
  return cJSON_IsNumber(n) ? n->valuedouble : def;
}

/* A whole number a snapshot holds (a count, a time, a generation), or 0
 * when it is none: never a cast of what no integer holds. */
static uint64_t whole(const cJSON *n) {
  double v = num(n, 0);

  return v >= 0 && v < 9e15 ? (uint64_t)v : 0;
}

/* A record placed at the end of a shard. */
static const record_t *append(stream_t *s, shard_t *sh, uint64_t seq,
                              uint64_t at_ms, const char *data, const char *key,
                              const char *trace) {
  record_t *r;

  if (sh->n == sh->cap) {
    sh->cap = sh->cap ? sh->cap * 2 : 64;
    sh->recs = lk_xrealloc(sh->recs, sh->cap * sizeof(*sh->recs));
  }
  r = &sh->recs[sh->n++];
  r->seq = seq;
  r->at_ms = at_ms;
  r->data = lk_xstrdup(data);
  r->key = lk_xstrdup(key);
  r->trace = trace ? lk_xstrdup(trace) : NULL;
  r->bytes = strlen(data) / 4 * 3 + strlen(key);
  r->key_hash = (uint32_t)(md5_key(key) & 0xffffffffu);
  s->bytes += r->bytes;
  return r;
}

static void record(const lk_kin_t *k, const char *op, cJSON *o, int durable) {
  cJSON_AddStringToObject(o, "kinesis", op);
  k->rec_cb(k->rec_ud, o, durable);
  cJSON_Delete(o);
}

static cJSON *stream_state(const stream_t *s) {
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "name", s->name);
  cJSON_AddNumberToObject(o, "shards", s->on_demand ? 0 : s->n_shards);
  cJSON_AddNumberToObject(o, "created", s->created);
  return o;
}

/* [shard, seq, at, data, key, trace] */
static cJSON *record_state(const stream_t *s, const shard_t *sh,
                           const record_t *r) {
  cJSON *o = cJSON_CreateArray();

  cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(sh - s->shards)));
  cJSON_AddItemToArray(o, cJSON_CreateNumber((double)r->seq));
  cJSON_AddItemToArray(o, cJSON_CreateNumber((double)r->at_ms));
  cJSON_AddItemToArray(o, cJSON_CreateString(r->data));
  cJSON_AddItemToArray(o, cJSON_CreateString(r->key));
  cJSON_AddItemToArray(o, cJSON_CreateString(r->trace ? r->trace : ""));
  return o;
}

static void record_put(const lk_kin_t *k, const stream_t *s, const shard_t *sh,
                       const record_t *r) {
  cJSON *o;

  if (k->rec_cb == NULL)
    return;
  o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "stream", s->name);
  cJSON_AddItemToObject(o, "record", record_state(s, sh, r));
  record(k, "put", o, 1);
}

static cJSON *reader_state(const follower_t *f) {
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "reader", f->name);
  cJSON_AddStringToObject(o, "stream", f->stream);
  cJSON_AddNumberToObject(o, "shard", f->shard);
  cJSON_AddNumberToObject(o, "slot", f->slot);
  cJSON_AddNumberToObject(o, "slots", f->n_slots);
  cJSON_AddNumberToObject(o, "next", (double)f->next);
  return o;
}

static void drop_stream(lk_kin_t *k, stream_t *s) {
  int i;

  if (k->rec_cb) {
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", s->name);
    record(k, "unstream", o, 1);
  }
  for (i = 0; k->streams[i] != s; i++)
    ;
  memmove(&k->streams[i], &k->streams[i + 1],
          sizeof(stream_t *) * (size_t)(k->n - i - 1));
  k->n--;
  stream_free(s);
}

void lk_kin_on_record(lk_kin_t *k, lk_record_cb cb, void *ud) {
  k->rec_cb = cb;
  k->rec_ud = ud;
}

int lk_kin_save(const lk_kin_t *k, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject(), *list;
  int i, j;
  size_t r;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  cJSON_AddNumberToObject(root, "seq", (double)k->seq);
  list = cJSON_AddArrayToObject(root, "streams");
  for (i = 0; i < k->n; i++) {
    const stream_t *s = k->streams[i];
    cJSON *o = stream_state(s), *recs = cJSON_AddArrayToObject(o, "records");

    for (j = 0; j < s->n_shards; j++)
      for (r = s->shards[j].head; r < s->shards[j].n; r++)
        cJSON_AddItemToArray(
            recs, record_state(s, &s->shards[j], &s->shards[j].recs[r]));
    cJSON_AddItemToArray(list, o);
  }
  list = cJSON_AddArrayToObject(root, "readers");
  for (i = 0; i < k->n_readers; i++)
    cJSON_AddItemToArray(list, reader_state(&k->readers[i]));
  i = lk_save_json(path, root);
  cJSON_Delete(root);
  return i;
}

/* A saved record, put back where it was unless its shard already holds
 * it (or a later one). */
static void load_record(lk_kin_t *k, stream_t *s, const cJSON *a) {
  double shard = num(cJSON_GetArrayItem(a, 0), -1);
  uint64_t seq = whole(cJSON_GetArrayItem(a, 1));
  uint64_t at = whole(cJSON_GetArrayItem(a, 2));
  const cJSON *data = cJSON_GetArrayItem(a, 3), *key = cJSON_GetArrayItem(a, 4);
  const cJSON *trace = cJSON_GetArrayItem(a, 5);
  shard_t *sh;

  if (s == NULL || !(shard >= 0 && shard < s->n_shards) || seq < 1 ||
      !cJSON_IsString(data) || !cJSON_IsString(key) || !cJSON_IsString(trace))
    return;
  sh = &s->shards[(int)shard];
  if (sh->n > sh->head && sh->recs[sh->n - 1].seq >= seq)
    return;
  append(s, sh, seq, at, data->valuestring, key->valuestring,
         trace->valuestring[0] ? trace->valuestring : NULL);
  if (seq > k->seq)
    k->seq = seq;
}

static stream_t *load_stream(lk_kin_t *k, const cJSON *o) {
  const char *name = lk_json_str(o, "name");
  double shards = num(cJSON_GetObjectItemCaseSensitive(o, "shards"), -1);
  stream_t *s;

  if (find_stream(k, name) == NULL &&
      (!(shards >= 0 && shards <= LK_KIN_MAX_SHARDS) ||
       lk_kin_create_stream(k, name, (int)shards) != 0))
    return NULL;
  s = find_stream(k, name);
  s->created = num(cJSON_GetObjectItemCaseSensitive(o, "created"), s->created);
  return s;
}

/* A reader's place, made (ahead of its mapping, which then finds it by
 * name) or moved on. */
static void load_reader(lk_kin_t *k, const cJSON *o) {
  const char *name = lk_json_str(o, "reader");
  uint64_t next = whole(cJSON_GetObjectItemCaseSensitive(o, "next"));
  int id = name ? lk_kin_reader(k, name, lk_json_str(o, "stream"),
                                (int)lk_json_long(o, "shard", -1),
                                (int)lk_json_long(o, "slot", -1),
                                (int)lk_json_long(o, "slots", 0), 0)
                : LK_ENOENT;

  if (id >= 0 && next > 0)
    k->readers[id].next = next;
}

int lk_kin_load(lk_kin_t *k, const char *path, uint64_t *gen) {
  cJSON *root;
  const cJSON *o, *r;
  int err = lk_load_json(path, &root);
  uint64_t seq;

  if (err)
    return err;
  *gen = whole(cJSON_GetObjectItemCaseSensitive(root, "aof"));
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "streams")) {
    stream_t *s = load_stream(k, o);

    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o, "records")) {
      load_record(k, s, r);
    }
  }
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "readers")) {
    load_reader(k, o);
  }
  seq = whole(cJSON_GetObjectItemCaseSensitive(root, "seq"));
  if (seq > k->seq)
    k->seq = seq;
  cJSON_Delete(root);
  return 0;
}

void lk_kin_apply(lk_kin_t *k, const cJSON *rec) {
  const char *op = lk_json_str(rec, "kinesis");
  stream_t *s;

  if (op && strcmp(op, "stream") == 0)
    load_stream(k, rec);
  else if (op && strcmp(op, "put") == 0)
    load_record(k, find_stream(k, lk_json_str(rec, "stream")),
                cJSON_GetObjectItemCaseSensitive(rec, "record"));
  else if (op && strcmp(op, "done") == 0)
    load_reader(k, rec);
  else if (op && strcmp(op, "unstream") == 0 &&
           (s = find_stream(k, lk_json_str(rec, "name"))) != NULL)
    drop_stream(k, s);
}

/* ---- readers, for event source mappings ---- */

void lk_kin_on_put(lk_kin_t *k, lk_kin_put_cb cb, void *ud) {
  k->put_cb = cb;
  k->put_ud = ud;
}

int lk_kin_shards(const lk_kin_t *k, const char *stream) {
  const stream_t *s = find_stream(k, stream);

  return s ? s->n_shards : LK_ENOENT;
}

int lk_kin_reader(lk_kin_t *k, const char *name, const char *stream, int shard,
                  int slot, int n_slots, int latest) {
  const stream_t *s = find_stream(k, stream);
  follower_t *r;
  int i;

  if (s == NULL || shard < 0 || shard >= s->n_shards || n_slots < 1 ||
      slot < 0 || slot >= n_slots)
    return LK_ENOENT;
  for (i = 0; i < k->n_readers; i++)
    if (strcmp(k->readers[i].name, name) == 0)
      return i;
  k->readers =
      lk_xrealloc(k->readers, sizeof(*k->readers) * (size_t)(k->n_readers + 1));
  r = &k->readers[k->n_readers];
  r->name = lk_xstrdup(name);
  r->stream = lk_xstrdup(s->name);
  r->shard = shard;
  r->slot = slot;
  r->n_slots = n_slots;
  r->next = latest ? k->seq + 1 : 0;
  return k->n_readers++;
}

/* A record as Lambda's Kinesis event carries it. */
static cJSON *lambda_record(const char *region, const char *arn,
                            const char *shard, const record_t *r) {
  cJSON *o = cJSON_CreateObject(), *in = cJSON_AddObjectToObject(o, "kinesis");
  char seq[64], id[100];

  seq_text(r->seq, seq);
  cJSON_AddStringToObject(in, "kinesisSchemaVersion", "1.0");
  cJSON_AddStringToObject(in, "partitionKey", r->key);
  cJSON_AddStringToObject(in, "sequenceNumber", seq);
  cJSON_AddStringToObject(in, "data", r->data);
  cJSON_AddNumberToObject(in, "approximateArrivalTimestamp",
                          (double)r->at_ms / 1000);
  cJSON_AddStringToObject(o, "eventSource", "aws:kinesis");
  cJSON_AddStringToObject(o, "eventVersion", "1.0");
  snprintf(id, sizeof(id), "%s:%s", shard, seq);
  cJSON_AddStringToObject(o, "eventID", id);
  cJSON_AddStringToObject(o, "eventName", "aws:kinesis:record");
  cJSON_AddStringToObject(o, "awsRegion", region);
  cJSON_AddStringToObject(o, "eventSourceARN", arn);
  return o;
}

char *lk_kin_sample_event(const char *region, const char *account,
                          const char *stream, const char *key,
                          const char *data) {
  cJSON *ev = cJSON_CreateObject(),
        *recs = cJSON_AddArrayToObject(ev, "Records");
  char *arn =
      lk_xasprintf("arn:aws:kinesis:%s:%s:stream/%s", region, account, stream);
  record_t r = {0};
  lk_buf_t b64;
  char *text;

  lk_buf_init(&b64, 2 * LK_KIN_MAX_RECORD);
  lk_b64_encode(&b64, data, strlen(data));
  r.seq = lk_now_ms();
  r.at_ms = lk_now_ms();
  r.key = (char *)key;
  r.data = (char *)lk_buf_str(&b64);
  cJSON_AddItemToArray(recs,
                       lambda_record(region, arn, "shardId-000000000000", &r));
  text = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  lk_buf_free(&b64);
  free(arn);
  return text;
}

int lk_kin_read(lk_kin_t *k, int reader, int max, size_t max_bytes,
                cJSON *records, cJSON *traces) {
  const follower_t *f = &k->readers[reader];
  const stream_t *s = find_stream(k, f->stream);
  const shard_t *sh;
  size_t i, bytes = 0;
  int n = 0;

  if (s == NULL || f->shard >= s->n_shards)
    return 0;
  sh = &s->shards[f->shard];
  for (i = sh->head; i < sh->n && n < max; i++) {
    const record_t *r = &sh->recs[i];

    if (r->seq < f->next ||
        r->key_hash % (uint32_t)f->n_slots != (uint32_t)f->slot)
      continue;
    if (n > 0 && bytes + r->bytes > max_bytes)
      break;
    cJSON_AddItemToArray(records, lambda_record(k->region, s->arn, sh->id, r));
    cJSON_AddItemToArray(traces, cJSON_CreateString(r->trace ? r->trace : ""));
    bytes += r->bytes * 4 / 3 + 400; /* as the event carries it */
    n++;
  }
  return n;
}

void lk_kin_reader_done(lk_kin_t *k, int reader, const char *seq) {
  uint64_t n;

  if (seq_parse(seq, &n) != 0 || n + 1 <= k->readers[reader].next)
    return;
  k->readers[reader].next = n + 1;
  if (k->rec_cb) /* not durable: after a crash, at least once */
    record(k, "done", reader_state(&k->readers[reader]), 0);
}

const char *lk_kin_reader_shard(const lk_kin_t *k, int reader) {
  const follower_t *f = &k->readers[reader];
  const stream_t *s = find_stream(k, f->stream);

  return s && f->shard < s->n_shards ? s->shards[f->shard].id : "";
}

/* ---- the wire protocol ---- */

typedef struct ctx {
  lk_kin_t *k;
  cJSON *in, *out;
  const char *trace;
  const char *err_type;
  char err_msg[512];
  stream_t *put; /* a stream a record went to */
} ctx_t;

static int fail(ctx_t *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ctx_t *c, const char *type, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
  va_end(ap);
  c->err_type = type;
  return -1;
}

static stream_t *need_stream(ctx_t *c) {
  const char *name = lk_json_str(c->in, "StreamName")
                         ? lk_json_str(c->in, "StreamName")
                         : lk_json_str(c->in, "StreamARN");
  stream_t *s = find_stream(c->k, name);

  if (s == NULL)
    fail(c, "ResourceNotFoundException",
         "Stream %.128s under account %s not found.", name ? name : "null",
         c->k->account);
  return s;
}

static int op_create_stream(ctx_t *c) {
  const char *mode =
      lk_json_str(cJSON_GetObjectItemCaseSensitive(c->in, "StreamModeDetails"),
                  "StreamMode");
  long shards = lk_json_long(c->in, "ShardCount",
                             mode && strcmp(mode, "ON_DEMAND") == 0 ? 0 : 1);
  int rc;

  if (shards < 0 || shards > LK_KIN_MAX_SHARDS)
    return fail(c, "LimitExceededException",
                "lambkin serves at most %d shards a stream", LK_KIN_MAX_SHARDS);
  rc =
      lk_kin_create_stream(c->k, lk_json_str(c->in, "StreamName"), (int)shards);
  if (rc == LK_EEXIST)
    return fail(c, "ResourceInUseException",
                "Stream %.128s under account %s "
                "already exists.",
                lk_json_str(c->in, "StreamName"), c->k->account);
  if (rc)
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'streamName' failed "
                "to satisfy constraint: Member must satisfy regular "
                "expression pattern: [a-zA-Z0-9_.-]+");
  return 0;
}

static int op_delete_stream(ctx_t *c) {
  stream_t *s = need_stream(c);

  if (s == NULL)
    return -1;
  drop_stream(c->k, s);
  return 0;
}

static cJSON *shards_json(const stream_t *s) {
  cJSON *list = cJSON_CreateArray();
  int i;

  for (i = 0; i < s->n_shards; i++) {
    const shard_t *sh = &s->shards[i];
    cJSON *o = cJSON_CreateObject(), *r;
    char num[48], seq[64];

    cJSON_AddStringToObject(o, "ShardId", sh->id);
    r = cJSON_AddObjectToObject(o, "HashKeyRange");
    u128_dec(sh->start, num);
    cJSON_AddStringToObject(r, "StartingHashKey", num);
    u128_dec(sh->end, num);
    cJSON_AddStringToObject(r, "EndingHashKey", num);
    r = cJSON_AddObjectToObject(o, "SequenceNumberRange");
    seq_text(sh->head < sh->n ? sh->recs[sh->head].seq : 0, seq);
    cJSON_AddStringToObject(r, "StartingSequenceNumber", seq);
    cJSON_AddItemToArray(list, o);
  }
  return list;
}

static void describe(const stream_t *s, cJSON *o, int summary) {
  cJSON *mode;

  cJSON_AddStringToObject(o, "StreamName", s->name);
  cJSON_AddStringToObject(o, "StreamARN", s->arn);
  cJSON_AddStringToObject(o, "StreamStatus", "ACTIVE");
  mode = cJSON_AddObjectToObject(o, "StreamModeDetails");
  cJSON_AddStringToObject(mode, "StreamMode",
                          s->on_demand ? "ON_DEMAND" : "PROVISIONED");
  cJSON_AddNumberToObject(o, "RetentionPeriodHours", 24);
  cJSON_AddNumberToObject(o, "StreamCreationTimestamp", s->created);
  cJSON_AddArrayToObject(o, "EnhancedMonitoring");
  cJSON_AddStringToObject(o, "EncryptionType", "NONE");
  if (summary) {
    cJSON_AddNumberToObject(o, "OpenShardCount", s->n_shards);
    cJSON_AddNumberToObject(o, "ConsumerCount", 0);
  } else {
    cJSON_AddItemToObject(o, "Shards", shards_json(s));
    cJSON_AddBoolToObject(o, "HasMoreShards", 0);
  }
}

static int op_describe_stream(ctx_t *c) {
  stream_t *s = need_stream(c);

  if (s == NULL)
    return -1;
  describe(s, cJSON_AddObjectToObject(c->out, "StreamDescription"), 0);
  return 0;
}

static int op_describe_stream_summary(ctx_t *c) {
  stream_t *s = need_stream(c);

  if (s == NULL)
    return -1;
  describe(s, cJSON_AddObjectToObject(c->out, "StreamDescriptionSummary"), 1);
  return 0;
}

static int op_list_streams(ctx_t *c) {
  cJSON *names = cJSON_AddArrayToObject(c->out, "StreamNames");
  cJSON *sums = cJSON_AddArrayToObject(c->out, "StreamSummaries");
  int i;

  for (i = 0; i < c->k->n; i++) {
    cJSON *o = cJSON_CreateObject(), *mode;

    cJSON_AddItemToArray(names, cJSON_CreateString(c->k->streams[i]->name));
    cJSON_AddStringToObject(o, "StreamName", c->k->streams[i]->name);
    cJSON_AddStringToObject(o, "StreamARN", c->k->streams[i]->arn);
    cJSON_AddStringToObject(o, "StreamStatus", "ACTIVE");
    mode = cJSON_AddObjectToObject(o, "StreamModeDetails");
    cJSON_AddStringToObject(mode, "StreamMode",
                            c->k->streams[i]->on_demand ? "ON_DEMAND"
                                                        : "PROVISIONED");
    cJSON_AddNumberToObject(o, "StreamCreationTimestamp",
                            c->k->streams[i]->created);
    cJSON_AddItemToArray(sums, o);
  }
  cJSON_AddBoolToObject(c->out, "HasMoreStreams", 0);
  return 0;
}

static int op_list_shards(ctx_t *c) {
  stream_t *s = need_stream(c);

  if (s == NULL)
    return -1;
  cJSON_AddItemToObject(c->out, "Shards", shards_json(s));
  return 0;
}

/* One record put: checked, placed, numbered; its shard and number into
 * o. -1 (with the request failed) when it is not one Kinesis takes. */
static int put_one(ctx_t *c, stream_t *s, const cJSON *rec, cJSON *o) {
  const char *data = lk_json_str(rec, "Data");
  const char *key = lk_json_str(rec, "PartitionKey");
  const char *explicit_key = lk_json_str(rec, "ExplicitHashKey");
  size_t keylen = key ? strlen(key) : 0, dlen = data ? strlen(data) : 0;
  size_t bytes = dlen / 4 * 3 + keylen;
  char seq[64];
  shard_t *sh;
  const record_t *r;
  u128 h;

  if (data == NULL || keylen < 1 || keylen > 256)
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'partitionKey' failed "
                "to satisfy constraint: Member must have length less than or "
                "equal to 256 and greater than or equal to 1");
  if (bytes > LK_KIN_MAX_RECORD)
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'data' failed to "
                "satisfy constraint: Member must have length less than or "
                "equal to 1048576");
  if (explicit_key && u128_parse(explicit_key, &h) != 0)
    return fail(c, "InvalidArgumentException",
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the "
                "range: [0, 2^128-1]. Specified value was %.64s",
                explicit_key);
  if (!explicit_key)
    h = md5_key(key);
  sh = &s->shards[shard_of(s, h)];
  trim(c->k, s, sh, bytes);
  if (s->bytes + bytes > LK_KIN_MAX_BYTES)
    return fail(c, "ProvisionedThroughputExceededException",
                "Rate exceeded for stream %s: lambkin holds %zu MB a stream",
                s->name, LK_KIN_MAX_BYTES >> 20);
  r = append(s, sh, ++c->k->seq, lk_now_ms(), data, key, c->trace);
  record_put(c->k, s, sh, r);
  c->put = s;
  seq_text(r->seq, seq);
  cJSON_AddStringToObject(o, "SequenceNumber", seq);
  cJSON_AddStringToObject(o, "ShardId", sh->id);
  return 0;
}

static int op_put_record(ctx_t *c) {
  stream_t *s = need_stream(c);

  if (s == NULL || put_one(c, s, c->in, c->out))
    return -1;
  cJSON_AddStringToObject(c->out, "EncryptionType", "NONE");
  return 0;
}

/* PutRecords: each record on its own; a failed one is listed with its
 * error, the others go. */
static int op_put_records(ctx_t *c) {
  stream_t *s = need_stream(c);
  const cJSON *recs = cJSON_GetObjectItemCaseSensitive(c->in, "Records");
  const cJSON *rec;
  cJSON *out;
  int n = cJSON_GetArraySize(recs), failed = 0;

  if (s == NULL)
    return -1;
  if (!cJSON_IsArray(recs) || n < 1 || n > PUT_MAX)
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'records' failed to "
                "satisfy constraint: Member must have length less than or "
                "equal to 500");
  out = cJSON_AddArrayToObject(c->out, "Records");
  cJSON_ArrayForEach(rec, recs) {
    cJSON *o = cJSON_CreateObject();

    if (put_one(c, s, rec, o) != 0) {
      cJSON_AddStringToObject(o, "ErrorCode", c->err_type);
      cJSON_AddStringToObject(o, "ErrorMessage", c->err_msg);
      c->err_type = NULL;
      failed++;
    }
    cJSON_AddItemToArray(out, o);
  }
  cJSON_AddNumberToObject(c->out, "FailedRecordCount", failed);
  cJSON_AddStringToObject(c->out, "EncryptionType", "NONE");
  return 0;
}

static shard_t *need_shard(ctx_t *c, stream_t *s, const char *id) {
  int i;

  for (i = 0; id && i < s->n_shards; i++)
    if (strcmp(s->shards[i].id, id) == 0)
      return &s->shards[i];
  fail(c, "ResourceNotFoundException",
       "Shard %.64s in stream %s under account %s does not exist",
       id ? id : "null", s->name, c->k->account);
  return NULL;
}

/* An iterator: the stream, the shard and the number to read from. */
static void add_iterator(ctx_t *c, const char *field, const stream_t *s,
                         const shard_t *sh, uint64_t from) {
  char *it = lk_xasprintf("%s|%s|%" PRIu64, s->name, sh->id, from);
  lk_buf_t b;

  lk_buf_init(&b, 1024);
  lk_b64_encode(&b, it, strlen(it));
  cJSON_AddStringToObject(c->out, field, lk_buf_str(&b));
  lk_buf_free(&b);
  free(it);
}

static int op_get_shard_iterator(ctx_t *c) {
  stream_t *s = need_stream(c);
  shard_t *sh = s ? need_shard(c, s, lk_json_str(c->in, "ShardId")) : NULL;
  const char *type = lk_json_str(c->in, "ShardIteratorType");
  uint64_t from = 0;

  if (sh == NULL)
    return -1;
  if (type && strcmp(type, "TRIM_HORIZON") == 0) {
    from = 0;
  } else if (type && strcmp(type, "LATEST") == 0) {
    from = c->k->seq + 1;
  } else if (type && (strcmp(type, "AT_SEQUENCE_NUMBER") == 0 ||
                      strcmp(type, "AFTER_SEQUENCE_NUMBER") == 0)) {
    if (seq_parse(lk_json_str(c->in, "StartingSequenceNumber"), &from) != 0)
      return fail(c, "InvalidArgumentException",
                  "StartingSequenceNumber is not a sequence number");
    from += type[1] == 'F';
  } else if (type && strcmp(type, "AT_TIMESTAMP") == 0) {
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(c->in, "Timestamp");
    double at = cJSON_IsNumber(ts) ? ts->valuedouble * 1000 : 0;
    size_t i;

    from = c->k->seq + 1;
    for (i = sh->head; i < sh->n; i++)
      if ((double)sh->recs[i].at_ms >= at) {
        from = sh->recs[i].seq;
        break;
      }
  } else {
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'shardIteratorType' "
                "failed to satisfy constraint: Member must satisfy enum value "
                "set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, "
                "TRIM_HORIZON, LATEST, AT_TIMESTAMP]");
  }
  add_iterator(c, "ShardIterator", s, sh, from);
  return 0;
}

/* "stream|shard|number", as add_iterator writes it: 0, or -1. */
static int iterator_parts(const char *text, char *name, size_t ncap,
                          char *shard, size_t scap, unsigned long long *from) {
  const char *a = strchr(text, '|'), *b = strrchr(text, '|');
  char *end;

  if (a == NULL || b == a || (size_t)(a - text) >= ncap ||
      (size_t)(b - a - 1) >= scap || b[1] < '0' || b[1] > '9')
    return -1;
  snprintf(name, ncap, "%.*s", (int)(a - text), text);
  snprintf(shard, scap, "%.*s", (int)(b - a - 1), a + 1);
  *from = strtoull(b + 1, &end, 10);
  return *end == '\0' ? 0 : -1;
}

static int op_get_records(ctx_t *c) {
  const char *it = lk_json_str(c->in, "ShardIterator");
  long limit = lk_json_long(c->in, "Limit", READ_MAX);
  char name[200], shard[40];
  unsigned long long from;
  cJSON *recs;
  stream_t *s;
  shard_t *sh;
  size_t i, bytes = 0;
  lk_buf_t raw;
  int n = 0;

  lk_buf_init(&raw, 512);
  if (it == NULL || lk_b64_decode(&raw, it, strlen(it)) != 0 ||
      iterator_parts(lk_buf_str(&raw), name, sizeof(name), shard, sizeof(shard),
                     &from) != 0) {
    lk_buf_free(&raw);
    return fail(c, "InvalidArgumentException", "Invalid ShardIterator.");
  }
  lk_buf_free(&raw);
  if (limit < 1 || limit > READ_MAX)
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'limit' failed to "
                "satisfy constraint: Member must have value less than or "
                "equal to 10000");
  s = find_stream(c->k, name);
  sh = s ? need_shard(c, s, shard) : NULL;
  if (sh == NULL)
    return fail(c, "ExpiredIteratorException", "Iterator expired.");
  recs = cJSON_AddArrayToObject(c->out, "Records");
  for (i = sh->head; i < sh->n && n < limit && bytes < PAGE_BYTES; i++) {
    const record_t *r = &sh->recs[i];
    cJSON *o;
    char seq[64];

    if (r->seq < from)
      continue;
    o = cJSON_CreateObject();
    seq_text(r->seq, seq);
    cJSON_AddStringToObject(o, "SequenceNumber", seq);
    cJSON_AddNumberToObject(o, "ApproximateArrivalTimestamp",
                            (double)r->at_ms / 1000);
    cJSON_AddStringToObject(o, "Data", r->data);
    cJSON_AddStringToObject(o, "PartitionKey", r->key);
    cJSON_AddItemToArray(recs, o);
    from = r->seq + 1;
    bytes += r->bytes;
    n++;
  }
  add_iterator(c, "NextShardIterator", s, sh, from);
  cJSON_AddNumberToObject(c->out, "MillisBehindLatest", 0);
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} ops[] = {
    {"CreateStream", op_create_stream},
    {"DeleteStream", op_delete_stream},
    {"DescribeStream", op_describe_stream},
    {"DescribeStreamSummary", op_describe_stream_summary},
    {"ListStreams", op_list_streams},
    {"ListShards", op_list_shards},
    {"PutRecord", op_put_record},
    {"PutRecords", op_put_records},
    {"GetShardIterator", op_get_shard_iterator},
    {"GetRecords", op_get_records},
};

int lk_kin_call(lk_kin_t *k, const char *target, const char *trace,
                const char *body, size_t len, char **out) {
  const char *op = target ? strchr(target, '.') : NULL;
  ctx_t c = {0};
  cJSON *e;
  size_t i;

  c.k = k;
  c.trace = trace;
  c.in = cJSON_ParseWithLength(len ? body : "{}", len ? len : 2);
  c.out = cJSON_CreateObject();
  for (i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
    if (strcmp(ops[i].name, op + 1) == 0)
      break;
  if (!cJSON_IsObject(c.in) || body == NULL)
    fail(&c, "SerializationException",
         "Start of structure or map found "
         "where not expected");
  else if (op == NULL || i == sizeof(ops) / sizeof(ops[0]))
    fail(&c, "UnknownOperationException",
         "lambkin does not emulate kinesis.%.64s", op ? op + 1 : "");
  else
    ops[i].fn(&c);
  if (c.put && k->put_cb)
    k->put_cb(k->put_ud, c.put->name);
  if (c.err_type) {
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "__type", c.err_type);
    cJSON_AddStringToObject(e, "message", c.err_msg);
  } else {
    e = c.out;
    c.out = NULL;
  }
  *out = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  cJSON_Delete(c.in);
  cJSON_Delete(c.out);
  return c.err_type ? 400 : 200;
}

void lk_kin_serve(lk_kin_t *k, lk_http_req_t *req) {
  lk_http_header_t h[2];
  char rid[37], *text;
  int status = lk_kin_call(
      k, lk_http_header(req, "X-Amz-Target"),
      lk_http_header(req, "X-Amzn-Trace-Id"),
      req->body_too_large ? NULL : (req->body.len ? req->body.data : ""),
      req->body.len, &text);

  lk_uuid(rid);
  h[0] = (lk_http_header_t){"x-amzn-RequestId", rid};
  h[1] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.1"};
  lk_http_respond(req, status, h, 2, text, strlen(text));
  free(text);
}
