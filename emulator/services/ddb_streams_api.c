/* DynamoDB Streams (see ddb_int.h): the Streams API's calls, on the
 * tables' streams (ddb_stream.c), and the readers event source mappings
 * use, whose places keep records in their streams. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_int.h"
#include "ddb_value.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

/* ---- DynamoDB Streams ---- */

#define STREAM_PAGE 1000 /* GetRecords' most */

static table_t *stream_table(const lk_ddb_t *d, const char *arn) {
  int i;

  for (i = 0; arn && i < d->n; i++)
    if (d->tables[i]->stream &&
        strcmp(lk_ddb_stream_arn(d->tables[i]->stream), arn) == 0)
      return d->tables[i];
  return NULL;
}

static table_t *need_stream(ctx_t *c, const char *arn) {
  table_t *t = stream_table(c->d, arn);

  if (t == NULL)
    lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                "Requested resource not found: Stream: %.300s not found",
                arn ? arn : "null");
  return t;
}

static int op_list_streams(ctx_t *c) {
  const char *table = lk_json_str(c->in, "TableName");
  const char *start = lk_json_str(c->in, "ExclusiveStartStreamArn");
  long limit = lk_json_long(c->in, "Limit", 100);
  cJSON *list = cJSON_AddArrayToObject(c->out, "Streams");
  int i, n = 0, past = start == NULL;

  for (i = 0; i < c->d->n; i++) {
    const table_t *t = c->d->tables[i];
    cJSON *o;

    if (t->stream == NULL || (table && strcmp(table, t->name) != 0))
      continue;
    if (!past) {
      past = strcmp(lk_ddb_stream_arn(t->stream), start) == 0;
      continue;
    }
    if (n == limit) {
      cJSON_AddStringToObject(c->out, "LastEvaluatedStreamArn",
                              lk_ddb_stream_arn(t->stream));
      break;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "StreamArn", lk_ddb_stream_arn(t->stream));
    cJSON_AddStringToObject(o, "TableName", t->name);
    cJSON_AddStringToObject(o, "StreamLabel", lk_ddb_stream_label(t->stream));
    cJSON_AddItemToArray(list, o);
    n++;
  }
  return 0;
}

static int op_describe_stream(ctx_t *c) {
  table_t *t = need_stream(c, lk_json_str(c->in, "StreamArn"));
  cJSON *o, *sh, *range;
  char first[LK_DDB_SEQ_MAX];

  if (t == NULL)
    return -1;
  o = cJSON_AddObjectToObject(c->out, "StreamDescription");
  cJSON_AddStringToObject(o, "StreamArn", lk_ddb_stream_arn(t->stream));
  cJSON_AddStringToObject(o, "StreamLabel", lk_ddb_stream_label(t->stream));
  cJSON_AddStringToObject(o, "StreamStatus", "ENABLED");
  cJSON_AddStringToObject(o, "StreamViewType", lk_ddb_stream_view(t->stream));
  cJSON_AddNumberToObject(o, "CreationRequestDateTime", t->created);
  cJSON_AddStringToObject(o, "TableName", t->name);
  lk_ddb_copy_field(o, t->spec, "KeySchema");
  sh = cJSON_CreateObject();
  cJSON_AddStringToObject(sh, "ShardId", lk_ddb_stream_shard(t->stream));
  range = cJSON_AddObjectToObject(sh, "SequenceNumberRange");
  lk_ddb_seq_format(lk_ddb_stream_first(t->stream), first);
  cJSON_AddStringToObject(range, "StartingSequenceNumber", first);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "Shards"), sh);
  return 0;
}

/* A shard iterator is the stream's ARN and the number to read from. */
static void add_iterator(ctx_t *c, const char *field, const table_t *t,
                         uint64_t at) {
  char *it = lk_xasprintf("%s|%" PRIu64, lk_ddb_stream_arn(t->stream), at);

  cJSON_AddStringToObject(c->out, field, it);
  free(it);
}

static int trimmed(ctx_t *c, const table_t *t, uint64_t at) {
  if (at >= lk_ddb_stream_trimmed(t->stream))
    return 0;
  return lk_ddb_fail(
      c, ERR_DDB "TrimmedDataAccessException",
      "The operation attempted to read past the oldest stream record "
      "in a shard");
}

static int op_get_shard_iterator(ctx_t *c) {
  table_t *t = need_stream(c, lk_json_str(c->in, "StreamArn"));
  const char *shard = lk_json_str(c->in, "ShardId");
  const char *type = lk_json_str(c->in, "ShardIteratorType");
  const char *num = lk_json_str(c->in, "SequenceNumber");
  uint64_t at = 0;

  if (t == NULL)
    return -1;
  if (shard == NULL || strcmp(shard, lk_ddb_stream_shard(t->stream)) != 0)
    return lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                       "Requested resource not found: Shard does not exist");
  if (type && strcmp(type, "TRIM_HORIZON") == 0)
    at = lk_ddb_stream_first(t->stream);
  else if (type && strcmp(type, "LATEST") == 0)
    at = lk_ddb_stream_end(t->stream);
  else if (type && strncmp(type, "A", 1) == 0 &&
           (strcmp(type, "AT_SEQUENCE_NUMBER") == 0 ||
            strcmp(type, "AFTER_SEQUENCE_NUMBER") == 0)) {
    if (lk_ddb_seq_parse(num, &at) != 0)
      return lk_ddb_fail(c, ERR_VALIDATION, "Invalid SequenceNumber: %.64s",
                         num ? num : "null");
    at += type[1] == 'F'; /* AFTER_ */
    if (trimmed(c, t, at))
      return -1;
  } else {
    return lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value '%.64s' at "
        "'shardIteratorType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [TRIM_HORIZON, LATEST, "
        "AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]",
        type ? type : "null");
  }
  add_iterator(c, "ShardIterator", t, at);
  return 0;
}

static int op_get_records(ctx_t *c) {
  const char *it = lk_json_str(c->in, "ShardIterator");
  const char *bar = it ? strrchr(it, '|') : NULL;
  long limit = lk_json_long(c->in, "Limit", STREAM_PAGE);
  char arn[600], *end;
  unsigned long long at;
  table_t *t;

  if (bar == NULL || bar - it >= (long)sizeof(arn) || bar[1] < '0' ||
      bar[1] > '9')
    return lk_ddb_fail(c, ERR_VALIDATION, "Invalid ShardIterator");
  snprintf(arn, sizeof(arn), "%.*s", (int)(bar - it), it);
  at = strtoull(bar + 1, &end, 10);
  if (*end != '\0')
    return lk_ddb_fail(c, ERR_VALIDATION, "Invalid ShardIterator");
  if (limit < 1 || limit > STREAM_PAGE)
    return lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value '%ld' at 'limit' failed "
        "to satisfy constraint: Member must have value less than or "
        "equal to 1000",
        limit);
  t = stream_table(c->d, arn);
  if (t == NULL)
    return lk_ddb_fail(c, ERR_DDB "ExpiredIteratorException",
                       "Iterator expired: the stream is gone");
  if (trimmed(c, t, at))
    return -1;
  at = lk_ddb_stream_read(t->stream, at, (int)limit, 1024 * 1024, 0,
                          cJSON_AddArrayToObject(c->out, "Records"), NULL);
  add_iterator(c, "NextShardIterator", t, at);
  return 0;
}

/* ---- readers, for event source mappings ---- */

void lk_ddb_on_stream(lk_ddb_t *d, lk_ddb_stream_cb cb, void *ud) {
  d->stream_cb = cb;
  d->stream_ud = ud;
}

/* The table an ARN names: "...:table/NAME" or "...:table/NAME/stream/L". */
static int arn_table(const char *arn, char *out, size_t cap) {
  const char *p = arn ? strstr(arn, ":table/") : NULL;
  size_t n;

  if (p == NULL)
    return -1;
  p += 7;
  n = strcspn(p, "/");
  if (n == 0 || n >= cap)
    return -1;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}

int lk_ddb_add_reader(lk_ddb_t *d, const char *name, const char *table,
                      uint64_t next) {
  follower_t *r;

  d->readers =
      lk_xrealloc(d->readers, sizeof(*d->readers) * (size_t)(d->n_readers + 1));
  r = &d->readers[d->n_readers];
  r->name = lk_xstrdup(name);
  r->table = lk_xstrdup(table);
  r->next = next;
  return d->n_readers++;
}

int lk_ddb_reader(lk_ddb_t *d, const char *name, const char *arn, int latest) {
  char table[256];
  const table_t *t;
  int i;

  if (arn_table(arn, table, sizeof(table)) != 0)
    return LK_EINVAL;
  for (i = 0; i < d->n_readers; i++)
    if (strcmp(d->readers[i].name, name) == 0)
      return i;
  t = lk_ddb_find_table(d, table);
  return lk_ddb_add_reader(
      d, name, table,
      latest && t && t->stream ? lk_ddb_stream_end(t->stream) : 0);
}

int lk_ddb_read(lk_ddb_t *d, int reader, int max, size_t max_bytes,
                cJSON *records, cJSON *traces) {
  const follower_t *r = &d->readers[reader];
  const table_t *t = lk_ddb_find_table(d, r->table);

  if (t == NULL || t->stream == NULL)
    return 0;
  lk_ddb_stream_read(t->stream, r->next, max, max_bytes, 1, records, traces);
  return cJSON_GetArraySize(records);
}

const char *lk_ddb_reader_shard(const lk_ddb_t *d, int reader) {
  const table_t *t = lk_ddb_find_table(d, d->readers[reader].table);

  return t && t->stream ? lk_ddb_stream_shard(t->stream) : "";
}

void lk_ddb_reader_done(lk_ddb_t *d, int reader, const char *seq) {
  follower_t *r = &d->readers[reader];
  uint64_t n;

  if (lk_ddb_seq_parse(seq, &n) != 0 || n + 1 <= r->next)
    return;
  r->next = n + 1;
  if (d->rec_cb) {
    cJSON *rec = lk_ddb_new_record("done", r->table);

    cJSON_AddStringToObject(rec, "reader", r->name);
    cJSON_AddNumberToObject(rec, "next", (double)r->next);
    lk_ddb_record(d, rec, 0);
  }
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} stream_ops[] = {
    {"ListStreams", op_list_streams},
    {"DescribeStream", op_describe_stream},
    {"GetShardIterator", op_get_shard_iterator},
    {"GetRecords", op_get_records},
};

int lk_ddb_streams_call(ctx_t *c, const char *op) {
  size_t i;

  for (i = 0; i < sizeof(stream_ops) / sizeof(stream_ops[0]); i++)
    if (strcmp(stream_ops[i].name, op) == 0) {
      stream_ops[i].fn(c);
      return 0;
    }
  return -1;
}
