/* One DynamoDB table's stream: a record per change to an item (INSERT,
 * MODIFY, REMOVE, with the images its view type keeps), in the order the
 * changes were made, on one shard. Each record keeps the trace header of
 * the write that made it, so a function it triggers joins that write's
 * chain. Records go after 24 hours, or when the stream passes
 * LK_DDB_STREAM_MAX_BYTES, but never one a reader still needs. The
 * stream owns its records; what it hands out are copies. */
#ifndef LK_DDB_STREAM_H
#define LK_DDB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define LK_DDB_STREAM_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define LK_DDB_STREAM_RETENTION_MS ((uint64_t)24 * 3600 * 1000)
/* The longest sequence number and its NUL. */
#define LK_DDB_SEQ_MAX 24

typedef struct lk_ddb_stream lk_ddb_stream_t;

/* view is StreamViewType (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE,
 * NEW_AND_OLD_IMAGES); label names the stream in its ARN. */
lk_ddb_stream_t *lk_ddb_stream_new(const char *table_arn, const char *label,
                                   const char *view, const char *region);
void lk_ddb_stream_free(lk_ddb_stream_t *s);
const char *lk_ddb_stream_arn(const lk_ddb_stream_t *s);
const char *lk_ddb_stream_label(const lk_ddb_stream_t *s);
const char *lk_ddb_stream_view(const lk_ddb_stream_t *s);
const char *lk_ddb_stream_shard(const lk_ddb_stream_t *s);

/* Makes room for the records of n more changes, dropping old records
 * numbered below keep_from (the oldest one a reader has not had): 0, or
 * LK_ENOSPC when the records readers still need leave no room (a write
 * is then refused, so that no record is lost). */
int lk_ddb_stream_reserve(lk_ddb_stream_t *s, int n, uint64_t keep_from);
/* Records one change, made after lk_ddb_stream_reserve, as number seq
 * (above any before it): old NULL for a new item, now NULL for a removed
 * one; by_ttl: a removal by Time to Live (its record names DynamoDB as
 * the user). 1, or 0 when old and now are equal: no record then. */
int lk_ddb_stream_add(lk_ddb_stream_t *s, uint64_t seq, const cJSON *keys,
                      const cJSON *old, const cJSON *now, const char *trace,
                      int by_ttl);
/* The oldest number held, and the one after the newest. */
uint64_t lk_ddb_stream_first(const lk_ddb_stream_t *s);
/* Records numbered below this one have gone. */
uint64_t lk_ddb_stream_trimmed(const lk_ddb_stream_t *s);
uint64_t lk_ddb_stream_end(const lk_ddb_stream_t *s);
/* Records numbered from `from` on into out, as GetRecords answers them
 * (with_arn: as Lambda sends them, with eventSourceARN), at most max of
 * them and about max_bytes; with traces, each one's trace header ("" for
 * none) into it, in step. Returns the number after the last one given
 * (from when none). */
uint64_t lk_ddb_stream_read(const lk_ddb_stream_t *s, uint64_t from, int max,
                            size_t max_bytes, int with_arn, cJSON *out,
                            cJSON *traces);

/* --state: the stream's shard and records as JSON, and back into a new,
 * empty stream. */
cJSON *lk_ddb_stream_save(const lk_ddb_stream_t *s);
void lk_ddb_stream_load(lk_ddb_stream_t *s, const cJSON *saved);

/* The Lambda event a stream mapping delivers for one change to an item
 * of table (keys, old and now as for lk_ddb_stream_add): {"Records":
 * [...]}, built by the same code. The caller frees it. */
char *lk_ddb_stream_event(const char *region, const char *account,
                          const char *table, const char *view,
                          const cJSON *keys, const cJSON *old,
                          const cJSON *now);

/* A sample of the above (`lambkin event dynamodb`, the fuzzer's seeds):
 * an item {id: key, message: text} of table, inserted, modified (from
 * message "old") or removed as event is INSERT, MODIFY or REMOVE, with
 * both images. NULL for another event name. */
char *lk_ddb_sample_event(const char *region, const char *account,
                          const char *table, const char *event, const char *key,
                          const char *message);

/* Sequence numbers as DynamoDB writes them (21 digits, ordered as text
 * and as numbers), and back: 0, or -1 when text is not one. */
void lk_ddb_seq_format(uint64_t seq, char out[LK_DDB_SEQ_MAX]);
int lk_ddb_seq_parse(const char *text, uint64_t *seq);

#endif
