/* Emulated DynamoDB over JSON 1.0 ("X-Amz-Target: DynamoDB_20120810.*"):
 * tables (from the template and CreateTable) and their items in memory,
 * answered in the shapes the SDKs parse, errors included
 * (ValidationException with DynamoDB's messages, ResourceNotFound,
 * ResourceInUse, ConditionalCheckFailed). The store owns every table and
 * item. */
#ifndef LK_DYNAMODB_H
#define LK_DYNAMODB_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"

#define LK_DDB_MAX_TABLES 256
/* Items of all tables together, as DynamoDB counts their size: past it,
 * a write that adds bytes is refused (LimitExceededException). */
#define LK_DDB_MAX_BYTES ((size_t)512 * 1024 * 1024)

typedef struct lk_ddb lk_ddb_t;

lk_ddb_t *lk_ddb_new(const char *region, const char *account);
void lk_ddb_free(lk_ddb_t *d);
/* A table from a CreateTable request (the Properties of an
 * AWS::DynamoDB::Table have the same shape): 0, LK_EEXIST when a table
 * of that name is there, or LK_EINVAL with DynamoDB's message in err. */
int lk_ddb_create_table(lk_ddb_t *d, const cJSON *spec, char *err,
                        size_t errlen);
/* Answers DynamoDB ("DynamoDB_20120810.*") and DynamoDB Streams
 * ("DynamoDBStreams_20120810.*") requests. */
void lk_ddb_serve(lk_ddb_t *d, lk_http_req_t *req);
/* The same without HTTP: one call of an X-Amz-Target with a JSON body
 * (NULL: one too large to read), made by trace's caller (or NULL). The
 * HTTP status (200, 400) and, in *out, the body to answer (the
 * caller's to free). */
int lk_ddb_call(lk_ddb_t *d, const char *target, const char *trace,
                const char *body, size_t len, char **out);

/* Time to Live: removes the items whose time has passed (a sweep of at
 * most a thousand items a call, going on where the last one stopped),
 * each a REMOVE record by DynamoDB in its table's stream. */
void lk_ddb_expire(lk_ddb_t *d, uint64_t now_ms);

/* --state: every table, item, stream record and reader's place to one
 * file, and back (a table the template made keeps its definition, and
 * gets its items). */
int lk_ddb_save(lk_ddb_t *d, const char *path, uint64_t gen);
int lk_ddb_load(lk_ddb_t *d, const char *path, uint64_t *gen);
/* Every change made through the API from now on goes to cb as a record
 * ({"ddb": op, ...}): durable for a table or an item, not for a reader's
 * place (a record is then delivered again, at least once, as Lambda
 * does). lk_ddb_apply replays one. */
void lk_ddb_on_record(lk_ddb_t *d, lk_record_cb cb, void *ud);
void lk_ddb_apply(lk_ddb_t *d, const cJSON *record);

/* lambkin fuzz: each expression a request carries (ConditionExpression,
 * UpdateExpression... inside TransactItems and RequestItems too) goes to
 * cb, with the member's name and the caller's X-Amzn-Trace-Id (or NULL),
 * before it is parsed. */
typedef void (*lk_ddb_expr_cb)(void *ud, const char *trace, const char *member,
                               const char *text);
void lk_ddb_on_expression(lk_ddb_t *d, lk_ddb_expr_cb cb, void *ud);

/* ---- streams, for event source mappings ---- */

/* Hears of each stream record made, by its table's name. */
typedef void (*lk_ddb_stream_cb)(void *ud, const char *table);
void lk_ddb_on_stream(lk_ddb_t *d, lk_ddb_stream_cb cb, void *ud);
/* A reader of the stream of the table an ARN names (its stream's or its
 * own), which need not exist yet: the records it has not had are kept
 * for it. latest: it starts with the next record, else with the oldest
 * held. One of the same name already there is that one. Returns its id
 * (>= 0), or LK_EINVAL when the ARN names no table. */
int lk_ddb_reader(lk_ddb_t *d, const char *name, const char *arn, int latest);
/* At most max records (about max_bytes) the reader has not had, in
 * order, as Lambda sends them, into records; each one's trace header
 * ("" for none) into traces, in step. Returns how many (0: none, or no
 * stream). They stay the reader's until lk_ddb_reader_done. */
int lk_ddb_read(lk_ddb_t *d, int reader, int max, size_t max_bytes,
                cJSON *records, cJSON *traces);
/* The shard the reader's records come from ("" while there is none). */
const char *lk_ddb_reader_shard(const lk_ddb_t *d, int reader);
/* The reader is done with the records up to and including the one of
 * sequence number seq. */
void lk_ddb_reader_done(lk_ddb_t *d, int reader, const char *seq);

#endif
