/* Inside DynamoDB: the state its files share. dynamodb.c owns the
 * catalogue, the wire protocol, the item calls and batches, and every
 * change to an item (lk_ddb_changed); ddb_read.c Query and Scan;
 * ddb_txn.c transactions; ddb_admin.c UpdateTable and Time to Live;
 * ddb_streams_api.c the Streams API and the readers of streams;
 * ddb_state.c --state. Nothing outside these files
 * includes this. */
#ifndef LK_DDB_INT_H
#define LK_DDB_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ddb_expr.h"
#include "ddb_stream.h"
#include "ddb_table.h"
#include "dynamodb.h"

#define ERR_DDB "com.amazonaws.dynamodb.v20120810#"
#define ERR_VALIDATION "com.amazon.coral.validate#ValidationException"
#define ERR_SERIAL "com.amazon.coral.service#SerializationException"
#define ERR_UNKNOWN_OP "com.amazon.coral.service#UnknownOperationException"

typedef struct table {
  char *name, *arn;
  char id[37];
  double created; /* seconds since the epoch */
  cJSON *spec;    /* the CreateTable request, as given */
  lk_ddb_table_t *items;
  lk_ddb_stream_t *stream; /* NULL: none */
  lk_ddb_table_t **ix;     /* its secondary indexes, kept with the items */
  char **ix_names;
  int n_ix;
  cJSON *ttl_at; /* the key Time to Live's sweep stopped at */
} table_t;

/* A reader of a table's stream (an event source mapping): the records it
 * has not had are kept for it. */
typedef struct follower {
  char *name, *table;
  uint64_t next; /* the first record it has not had */
} follower_t;

struct lk_ddb {
  char *region, *account;
  table_t *tables[LK_DDB_MAX_TABLES];
  int n;
  uint64_t seq; /* the last stream record's number, across tables */
  follower_t *readers;
  int n_readers;
  lk_ddb_stream_cb stream_cb;
  void *stream_ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
  int ttl_turn;           /* the table Time to Live's next sweep starts with */
  lk_ddb_expr_cb expr_cb; /* lambkin fuzz: every expression, or NULL */
  void *expr_ud;
};

/* One request being answered: a failure sets err_type and err_msg. */
typedef struct ctx {
  lk_ddb_t *d;
  cJSON *in, *out;
  const char *trace; /* the caller's X-Amzn-Trace-Id: its stream records' */
  const char *err_type;
  char err_msg[1024];
  cJSON *err_more; /* more fields of the error (an Item...), or NULL */
} ctx_t;

/* A request's expressions, parsed once. */
typedef struct exprs {
  lk_ddb_names_t names;
  lk_ddb_expr_t *cond, *update, *proj, *key, *filter;
} exprs_t;

/* ---- dynamodb.c ---- */

table_t *lk_ddb_find_table(const lk_ddb_t *d, const char *name);
/* Fails the request with a DynamoDB error: always -1. */
int lk_ddb_fail(ctx_t *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The request's TableName's table, or NULL (the request failed). */
table_t *lk_ddb_need_table(ctx_t *c);
/* A table from a CreateTable request, its stream labelled label: 0,
 * LK_EEXIST or LK_EINVAL (with DynamoDB's message in err). */
int lk_ddb_make_table(lk_ddb_t *d, const cJSON *spec, const char *label,
                      char *err, size_t errlen);
void lk_ddb_drop_table(lk_ddb_t *d, table_t *t);
/* The table's secondary indexes built again from its spec, each holding
 * every item that has its key. */
void lk_ddb_reindex(table_t *t);
/* The index of that name, or NULL. */
lk_ddb_table_t *lk_ddb_index_of(const table_t *t, const char *name);
/* A CreateTable-shaped spec checked as CreateTable checks it: 0, or -1
 * with DynamoDB's message in err. */
int lk_ddb_check_spec(const cJSON *spec, char *err, size_t errlen);
/* The spec's StreamSpecification: *view NULL when it has no stream. 0,
 * or LK_EINVAL with the message in err. */
int lk_ddb_stream_spec(const cJSON *spec, const char **view, char *err,
                       size_t errlen);
/* A stream label for now: "2026-11-30T08:00:00.000". */
void lk_ddb_label_now(char *out, size_t cap);
/* DescribeTable's TableDescription, with the status given. */
cJSON *lk_ddb_describe(const table_t *t, const char *status);
void lk_ddb_copy_field(cJSON *to, const cJSON *from, const char *name);
/* The expressions of in (a request, or one part of a batch or a
 * transaction), parsed, its legacy parameters first rewritten as
 * expressions; lk_ddb_exprs_free even after a failure. */
int lk_ddb_parse(ctx_t *c, cJSON *in, exprs_t *x);
int lk_ddb_parse_exprs(ctx_t *c, exprs_t *x);
void lk_ddb_exprs_free(exprs_t *x);
/* Room in t's stream for the records of n changes, else the request
 * fails (a throttle the SDKs retry). */
int lk_ddb_room(ctx_t *c, table_t *t, int n);
/* Every change to an item, once made: the state log and the stream. */
void lk_ddb_changed(lk_ddb_t *d, table_t *t, const cJSON *old, const cJSON *now,
                    const char *trace);
/* The same for an item Time to Live removed. */
void lk_ddb_expired(lk_ddb_t *d, table_t *t, const cJSON *old);
/* Item bytes held in all tables. */
size_t lk_ddb_held_bytes(const lk_ddb_t *d);
/* Fails the request when an update changed a key attribute. */
int lk_ddb_same_key(ctx_t *c, table_t *t, const cJSON *key, const cJSON *item);
/* A record for the state log (--state), deleted here. */
void lk_ddb_record(lk_ddb_t *d, cJSON *rec, int durable);
cJSON *lk_ddb_new_record(const char *op, const char *table);

/* ---- the other files: their calls ---- */

int lk_ddb_op_query(ctx_t *c);
int lk_ddb_op_scan(ctx_t *c);
int lk_ddb_op_transact_write(ctx_t *c);
int lk_ddb_op_transact_get(ctx_t *c);
int lk_ddb_op_update_table(ctx_t *c);
int lk_ddb_op_describe_ttl(ctx_t *c);
int lk_ddb_op_update_ttl(ctx_t *c);
/* A table's new spec (it becomes the table's), its stream made (with
 * label) or dropped to match: UpdateTable, UpdateTimeToLive, replays. */
void lk_ddb_alter(lk_ddb_t *d, table_t *t, cJSON *spec, const char *label);
/* A DynamoDB Streams call: 0 when op is one, else -1 (nothing done). */
int lk_ddb_streams_call(ctx_t *c, const char *op);
int lk_ddb_add_reader(lk_ddb_t *d, const char *name, const char *table,
                      uint64_t next);

#endif
