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

#include <cjson/cJSON.h>

#include "http.h"

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
/* One JSON 1.1 call without HTTP: the status and, in *out, the answer
 * (the caller's to free). */
int lk_kin_call(lk_kin_t *k, const char *target, const char *trace,
                const char *body, size_t len, char **out);
void lk_kin_serve(lk_kin_t *k, lk_http_req_t *req);

#endif
