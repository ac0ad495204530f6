/* Emulated Kinesis Data Streams over JSON 1.1 ("X-Amz-Target:
 * Kinesis_20131202.*"): streams of shards that split the 128-bit hash
 * key space evenly, records placed by the MD5 of their partition key (or
 * an ExplicitHashKey), kept in order per shard with increasing sequence
 * numbers and the trace of the call that put them; PutRecord(s),
 * GetShardIterator and GetRecords as the SDKs and the aws CLI call them.
 * Records go after 24 hours, or past LK_KIN_MAX_BYTES a stream. The store
 * owns its streams and records. */
#ifndef LK_KINESIS_H
#define LK_KINESIS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"

#define LK_KIN_MAX_STREAMS 100
#define LK_KIN_MAX_SHARDS 64 /* a stream's */
#define LK_KIN_MAX_RECORD (1024 * 1024)
#define LK_KIN_MAX_BYTES ((size_t)64 * 1024 * 1024)

typedef struct lk_kin lk_kin_t;

lk_kin_t *lk_kin_new(const char *region, const char *account);
void lk_kin_free(lk_kin_t *k);
/* A stream of shards (0 for on-demand: 4, as Kinesis starts one). 0,
 * LK_EEXIST, or LK_EINVAL for a name or count Kinesis refuses. */
int lk_kin_create_stream(lk_kin_t *k, const char *name, int shards);

/* ---- readers, for event source mappings ---- */

/* Hears of each record put, by its stream's name. */
typedef void (*lk_kin_put_cb)(void *ud, const char *stream);
void lk_kin_on_put(lk_kin_t *k, lk_kin_put_cb cb, void *ud);
/* How many shards the stream a name or ARN names has, or LK_ENOENT. */
int lk_kin_shards(const lk_kin_t *k, const char *stream);
/* A reader of one shard of a stream, and of the records in it whose
 * partition key falls to slot of n_slots (a ParallelizationFactor of
 * n_slots: order is kept per partition key). The records it has not had
 * are kept for it: a put is refused at the ceiling rather than one of
 * them dropped. It starts with the oldest record held, or (latest) the
 * next one put. One of the same name already there is that one. Its id
 * (>= 0), or LK_ENOENT. */
int lk_kin_reader(lk_kin_t *k, const char *name, const char *stream, int shard,
                  int slot, int n_slots, int latest);
/* At most max records (about max_bytes) the reader has not had, in
 * order, as Lambda sends them, into records; each one's trace header
 * ("" for none) into traces, in step. Returns how many. They stay the
 * reader's until lk_kin_reader_done. */
int lk_kin_read(lk_kin_t *k, int reader, int max, size_t max_bytes,
                cJSON *records, cJSON *traces);
/* The reader is done with the records up to and including the one of
 * sequence number seq. */
void lk_kin_reader_done(lk_kin_t *k, int reader, const char *seq);
/* The id of the shard the reader reads ("" when its stream is gone). */
const char *lk_kin_reader_shard(const lk_kin_t *k, int reader);
/* Lambda's Kinesis event with one record of data (text, sent base64) on
 * partition key key, as `lambkin event kinesis` and the fuzzer's seeds
 * show it. The caller frees it. */
char *lk_kin_sample_event(const char *region, const char *account,
                          const char *stream, const char *key,
                          const char *data);
/* --state: streams, their records and the readers' places, to one
 * snapshot (holding everything before state log generation gen) and to
 * the state log as they change ({"kinesis": "stream"|"unstream"|"put"
 * (durable) | "done" (not: after a crash a record may come again)});
 * lk_kin_apply replays one. */
void lk_kin_on_record(lk_kin_t *k, lk_record_cb cb, void *ud);
int lk_kin_save(const lk_kin_t *k, const char *path, uint64_t gen);
int lk_kin_load(lk_kin_t *k, const char *path, uint64_t *gen);
void lk_kin_apply(lk_kin_t *k, const cJSON *record);

/* One JSON 1.1 call without HTTP: the status and, in *out, the answer
 * (the caller's to free). */
int lk_kin_call(lk_kin_t *k, const char *target, const char *trace,
                const char *body, size_t len, char **out);
void lk_kin_serve(lk_kin_t *k, lk_http_req_t *req);

#endif
