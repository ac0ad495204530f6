/* Emulated DynamoDB (see dynamodb.h): the table catalogue and the JSON
 * 1.0 wire protocol; a table's items live in ddb_table.c, values are
 * checked by ddb_value.c. One table_t per table, in creation order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ddb_table.h"
#include "ddb_value.h"
#include "dynamodb.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

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
} table_t;

struct lk_ddb {
  char *region, *account;
  table_t *tables[LK_DDB_MAX_TABLES];
  int n;
};

lk_ddb_t *lk_ddb_new(const char *region, const char *account) {
  lk_ddb_t *d = lk_xcalloc(1, sizeof(*d));

  d->region = lk_xstrdup(region);
  d->account = lk_xstrdup(account);
  return d;
}

static void table_free(table_t *t) {
  free(t->name);
  free(t->arn);
  cJSON_Delete(t->spec);
  lk_ddb_table_free(t->items);
  free(t);
}

void lk_ddb_free(lk_ddb_t *d) {
  int i;

  if (d == NULL)
    return;
  for (i = 0; i < d->n; i++)
    table_free(d->tables[i]);
  free(d->region);
  free(d->account);
  free(d);
}

static table_t *find_table(const lk_ddb_t *d, const char *name) {
  int i;

  for (i = 0; name && i < d->n; i++)
    if (strcmp(d->tables[i]->name, name) == 0)
      return d->tables[i];
  return NULL;
}

static int failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return LK_EINVAL;
}

/* ---- CreateTable ---- */

static int valid_table_name(const char *s) {
  size_t n = s ? strlen(s) : 0;

  return n >= 3 && n <= 255 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_.-") == n;
}

/* The type AttributeDefinitions gives name, or 0. */
static char defined_type(const cJSON *defs, const char *name) {
  const cJSON *d;

  cJSON_ArrayForEach(d, defs) {
    const char *n = lk_json_str(d, "AttributeName");
    const char *t = lk_json_str(d, "AttributeType");

    if (n && t && strcmp(n, name) == 0 && strlen(t) == 1 && strchr("SNB", t[0]))
      return t[0];
  }
  return 0;
}

/* A KeySchema: one HASH, then at most one RANGE, each defined. The
 * names used go into `used`. */
static int key_schema(const cJSON *ks, const cJSON *defs, cJSON *used,
                      lk_ddb_key_def_t out[2], int *n, char *err,
                      size_t errlen) {
  const cJSON *k;

  *n = 0;
  if (!cJSON_IsArray(ks) || cJSON_GetArraySize(ks) < 1 ||
      cJSON_GetArraySize(ks) > 2)
    return failf(err, errlen,
                 "1 validation error detected: Value null at 'keySchema' "
                 "failed to satisfy constraint: Member must have length "
                 "less than or equal to 2");
  cJSON_ArrayForEach(k, ks) {
    const char *name = lk_json_str(k, "AttributeName");
    const char *type = lk_json_str(k, "KeyType");
    const char *want = *n == 0 ? "HASH" : "RANGE";

    if (name == NULL || type == NULL || strcmp(type, want) != 0)
      return failf(err, errlen,
                   "Invalid KeySchema: The first KeySchemaElement is not a "
                   "HASH key type");
    out[*n].name = (char *)name;
    out[*n].type = defined_type(defs, name);
    if (out[*n].type == 0)
      return failf(err, errlen,
                   "One or more parameter values were invalid: Some index "
                   "key attributes are not defined in AttributeDefinitions. "
                   "Keys: [%s]",
                   name);
    if (!cJSON_GetObjectItemCaseSensitive(used, name))
      cJSON_AddTrueToObject(used, name);
    (*n)++;
  }
  return 0;
}

static int index_schemas(const cJSON *list, const cJSON *defs, cJSON *used,
                         char *err, size_t errlen) {
  const cJSON *ix;
  lk_ddb_key_def_t k[2];
  int n, rc = 0;

  cJSON_ArrayForEach(ix, list) {
    if (rc == 0 && lk_json_str(ix, "IndexName") == NULL)
      rc = failf(err, errlen, "An index must have an IndexName");
    if (rc == 0)
      rc = key_schema(cJSON_GetObjectItemCaseSensitive(ix, "KeySchema"), defs,
                      used, k, &n, err, errlen);
  }
  return rc;
}

/* The table's spec checked as CreateTable checks it; its key into k. */
static int check_spec(const cJSON *spec, lk_ddb_key_def_t k[2], int *nk,
                      char *err, size_t errlen) {
  const char *name = lk_json_str(spec, "TableName");
  const cJSON *defs =
      cJSON_GetObjectItemCaseSensitive(spec, "AttributeDefinitions");
  cJSON *used = cJSON_CreateObject();
  int rc = 0;

  if (!valid_table_name(name))
    rc = failf(err, errlen,
               "1 validation error detected: Value '%.255s' at 'tableName' "
               "failed to satisfy constraint: Member must satisfy regular "
               "expression pattern: [a-zA-Z0-9_.-]+ and have length from 3 "
               "to 255",
               name ? name : "null");
  if (rc == 0 && !cJSON_IsArray(defs))
    rc = failf(err, errlen,
               "1 validation error detected: Value null at "
               "'attributeDefinitions' failed to satisfy constraint: Member "
               "must not be null");
  if (rc == 0)
    rc = key_schema(cJSON_GetObjectItemCaseSensitive(spec, "KeySchema"), defs,
                    used, k, nk, err, errlen);
  if (rc == 0)
    rc = index_schemas(
        cJSON_GetObjectItemCaseSensitive(spec, "GlobalSecondaryIndexes"), defs,
        used, err, errlen);
  if (rc == 0)
    rc = index_schemas(
        cJSON_GetObjectItemCaseSensitive(spec, "LocalSecondaryIndexes"), defs,
        used, err, errlen);
  if (rc == 0 && cJSON_GetArraySize(used) != cJSON_GetArraySize(defs))
    rc = failf(err, errlen,
               "One or more parameter values were invalid: Number of "
               "attributes in KeySchema does not exactly match number of "
               "attributes defined in AttributeDefinitions");
  cJSON_Delete(used);
  return rc;
}

int lk_ddb_create_table(lk_ddb_t *d, const cJSON *spec, char *err,
                        size_t errlen) {
  lk_ddb_key_def_t k[2];
  table_t *t;
  int nk = 0, rc = check_spec(spec, k, &nk, err, errlen);

  if (rc)
    return rc;
  if (find_table(d, lk_json_str(spec, "TableName"))) {
    snprintf(err, errlen, "Table already exists: %s",
             lk_json_str(spec, "TableName"));
    return LK_EEXIST;
  }
  if (d->n == LK_DDB_MAX_TABLES)
    return failf(err, errlen,
                 "Subscriber limit exceeded: lambkin holds at most %d tables",
                 LK_DDB_MAX_TABLES);
  t = lk_xcalloc(1, sizeof(*t));
  t->name = lk_xstrdup(lk_json_str(spec, "TableName"));
  t->arn = lk_xasprintf("arn:aws:dynamodb:%s:%s:table/%s", d->region,
                        d->account, t->name);
  lk_uuid(t->id);
  t->created = (double)time(NULL);
  t->spec = cJSON_Duplicate(spec, 1);
  t->items = lk_ddb_table_new(&k[0], nk == 2 ? &k[1] : NULL);
  d->tables[d->n++] = t;
  return 0;
}

/* ---- describing a table ---- */

static cJSON *throughput(const cJSON *given) {
  cJSON *o = cJSON_CreateObject();

  cJSON_AddNumberToObject(o, "NumberOfDecreasesToday", 0);
  cJSON_AddNumberToObject(o, "ReadCapacityUnits",
                          lk_json_long(given, "ReadCapacityUnits", 0));
  cJSON_AddNumberToObject(o, "WriteCapacityUnits",
                          lk_json_long(given, "WriteCapacityUnits", 0));
  return o;
}

static cJSON *indexes(const table_t *t, const char *which, int global) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(t->spec, which), *ix;
  cJSON *out = cJSON_CreateArray();

  cJSON_ArrayForEach(ix, list) {
    cJSON *o = cJSON_CreateObject();
    const char *name = lk_json_str(ix, "IndexName");
    char *arn;

    cJSON_AddStringToObject(o, "IndexName", name);
    cJSON_AddItemToObject(
        o, "KeySchema",
        cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ix, "KeySchema"), 1));
    if (cJSON_GetObjectItemCaseSensitive(ix, "Projection"))
      cJSON_AddItemToObject(
          o, "Projection",
          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ix, "Projection"),
                          1));
    if (global) {
      cJSON_AddStringToObject(o, "IndexStatus", "ACTIVE");
      cJSON_AddItemToObject(o, "ProvisionedThroughput",
                            throughput(cJSON_GetObjectItemCaseSensitive(
                                ix, "ProvisionedThroughput")));
    }
    cJSON_AddNumberToObject(o, "IndexSizeBytes", 0);
    cJSON_AddNumberToObject(o, "ItemCount", 0);
    arn = lk_xasprintf("%s/index/%s", t->arn, name ? name : "");
    cJSON_AddStringToObject(o, "IndexArn", arn);
    free(arn);
    cJSON_AddItemToArray(out, o);
  }
  return out;
}

static void copy_field(cJSON *to, const cJSON *from, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);

  if (v)
    cJSON_AddItemToObject(to, name, cJSON_Duplicate(v, 1));
}

static cJSON *describe(const table_t *t, const char *status) {
  cJSON *o = cJSON_CreateObject(), *b;
  const char *mode = lk_json_str(t->spec, "BillingMode");

  copy_field(o, t->spec, "AttributeDefinitions");
  cJSON_AddStringToObject(o, "TableName", t->name);
  copy_field(o, t->spec, "KeySchema");
  cJSON_AddStringToObject(o, "TableStatus", status);
  cJSON_AddNumberToObject(o, "CreationDateTime", t->created);
  cJSON_AddItemToObject(o, "ProvisionedThroughput",
                        throughput(cJSON_GetObjectItemCaseSensitive(
                            t->spec, "ProvisionedThroughput")));
  cJSON_AddNumberToObject(o, "TableSizeBytes",
                          (double)lk_ddb_table_bytes(t->items));
  cJSON_AddNumberToObject(o, "ItemCount", (double)lk_ddb_table_count(t->items));
  cJSON_AddStringToObject(o, "TableArn", t->arn);
  cJSON_AddStringToObject(o, "TableId", t->id);
  b = cJSON_AddObjectToObject(o, "BillingModeSummary");
  cJSON_AddStringToObject(b, "BillingMode", mode ? mode : "PROVISIONED");
  if (cJSON_GetObjectItemCaseSensitive(t->spec, "GlobalSecondaryIndexes"))
    cJSON_AddItemToObject(o, "GlobalSecondaryIndexes",
                          indexes(t, "GlobalSecondaryIndexes", 1));
  if (cJSON_GetObjectItemCaseSensitive(t->spec, "LocalSecondaryIndexes"))
    cJSON_AddItemToObject(o, "LocalSecondaryIndexes",
                          indexes(t, "LocalSecondaryIndexes", 0));
  copy_field(o, t->spec, "StreamSpecification");
  cJSON_AddBoolToObject(o, "DeletionProtectionEnabled", 0);
  return o;
}

/* ---- the wire protocol ---- */

typedef struct ctx {
  lk_ddb_t *d;
  cJSON *in, *out;
  const char *err_type;
  char err_msg[1024];
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

static table_t *need_table(ctx_t *c) {
  const char *name = lk_json_str(c->in, "TableName");
  table_t *t = find_table(c->d, name);

  if (name == NULL)
    fail(c, ERR_VALIDATION,
         "1 validation error detected: Value null at 'tableName' failed to "
         "satisfy constraint: Member must not be null");
  else if (t == NULL)
    fail(c, ERR_DDB "ResourceNotFoundException",
         "Requested resource not found: Table: %.255s not found", name);
  return t;
}

static int op_create_table(ctx_t *c) {
  char err[512];
  int rc = lk_ddb_create_table(c->d, c->in, err, sizeof(err));

  if (rc == LK_EEXIST)
    return fail(c, ERR_DDB "ResourceInUseException", "%s", err);
  if (rc)
    return fail(c, ERR_VALIDATION, "%s", err);
  cJSON_AddItemToObject(c->out, "TableDescription",
                        describe(c->d->tables[c->d->n - 1], "ACTIVE"));
  return 0;
}

static int op_describe_table(ctx_t *c) {
  table_t *t = need_table(c);

  if (t == NULL)
    return -1;
  cJSON_AddItemToObject(c->out, "Table", describe(t, "ACTIVE"));
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(table_t *const *)a)->name, (*(table_t *const *)b)->name);
}

static int op_list_tables(ctx_t *c) {
  const char *start = lk_json_str(c->in, "ExclusiveStartTableName");
  long limit = lk_json_long(c->in, "Limit", 100);
  table_t *sorted[LK_DDB_MAX_TABLES];
  cJSON *names = cJSON_AddArrayToObject(c->out, "TableNames");
  int i, n = 0;

  if (limit < 1 || limit > 100)
    return fail(c, ERR_VALIDATION,
                "1 validation error detected: Value '%ld' at 'limit' failed "
                "to satisfy constraint: Member must have value less than or "
                "equal to 100",
                limit);
  memcpy(sorted, c->d->tables, sizeof(table_t *) * (size_t)c->d->n);
  qsort(sorted, (size_t)c->d->n, sizeof(table_t *), by_name);
  for (i = 0; i < c->d->n; i++) {
    if (start && strcmp(sorted[i]->name, start) <= 0)
      continue;
    if (n == limit) {
      cJSON_AddStringToObject(c->out, "LastEvaluatedTableName",
                              sorted[i - 1]->name);
      break;
    }
    cJSON_AddItemToArray(names, cJSON_CreateString(sorted[i]->name));
    n++;
  }
  return 0;
}

static int op_delete_table(ctx_t *c) {
  table_t *t = need_table(c);
  int i;

  if (t == NULL)
    return -1;
  cJSON_AddItemToObject(c->out, "TableDescription", describe(t, "DELETING"));
  for (i = 0; c->d->tables[i] != t; i++)
    ;
  memmove(&c->d->tables[i], &c->d->tables[i + 1],
          sizeof(table_t *) * (size_t)(c->d->n - i - 1));
  c->d->n--;
  table_free(t);
  return 0;
}

/* ReturnValues: NONE, or the one other value the operation allows. */
static int return_values(ctx_t *c, const char *allowed, int *want) {
  const char *rv = lk_json_str(c->in, "ReturnValues");

  *want = rv && strcmp(rv, allowed) == 0;
  if (rv && !*want && strcmp(rv, "NONE") != 0)
    return fail(c, ERR_VALIDATION, "ReturnValues can only be %s or NONE",
                allowed);
  return 0;
}

/* Condition and update expressions are parsed by a module still to come:
 * a call that sends one is refused rather than half done. */
static int no_expressions(ctx_t *c) {
  static const char *const names[] = {"ConditionExpression", "Expected",
                                      "ProjectionExpression", "AttributesToGet",
                                      NULL};
  int i;

  for (i = 0; names[i]; i++)
    if (cJSON_GetObjectItemCaseSensitive(c->in, names[i]))
      return fail(c, ERR_VALIDATION, "lambkin does not evaluate %s yet",
                  names[i]);
  return 0;
}

static int op_put_item(ctx_t *c) {
  table_t *t = need_table(c);
  cJSON *item = cJSON_GetObjectItemCaseSensitive(c->in, "Item"), *old = NULL;
  char err[512];
  int want_old;

  if (t == NULL || return_values(c, "ALL_OLD", &want_old) || no_expressions(c))
    return -1;
  if (item == NULL)
    return fail(c, ERR_VALIDATION,
                "1 validation error detected: Value null at 'item' failed to "
                "satisfy constraint: Member must not be null");
  if (lk_ddb_item_check(item, err, sizeof(err)) != 0)
    return fail(c, ERR_VALIDATION, "%s", err);
  if (lk_ddb_item_size(item) > LK_DDB_MAX_ITEM)
    return fail(c, ERR_VALIDATION,
                "Item size has exceeded the maximum allowed size");
  item = cJSON_DetachItemViaPointer(c->in, item);
  if (lk_ddb_table_put(t->items, item, &old, err, sizeof(err)) != 0) {
    cJSON_Delete(item);
    return fail(c, ERR_VALIDATION, "%s", err);
  }
  if (want_old && old)
    cJSON_AddItemToObject(c->out, "Attributes", old);
  else
    cJSON_Delete(old);
  return 0;
}

static int checked_key(ctx_t *c, cJSON **key) {
  char err[512];

  *key = cJSON_GetObjectItemCaseSensitive(c->in, "Key");
  if (*key == NULL)
    return fail(c, ERR_VALIDATION,
                "1 validation error detected: Value null at 'key' failed to "
                "satisfy constraint: Member must not be null");
  if (lk_ddb_item_check(*key, err, sizeof(err)) != 0)
    return fail(c, ERR_VALIDATION, "%s", err);
  return 0;
}

static int op_get_item(ctx_t *c) {
  table_t *t = need_table(c);
  const cJSON *item;
  cJSON *key;
  char err[512];

  if (t == NULL || no_expressions(c) || checked_key(c, &key))
    return -1;
  if (lk_ddb_table_get(t->items, key, &item, err, sizeof(err)) != 0)
    return fail(c, ERR_VALIDATION, "%s", err);
  if (item)
    cJSON_AddItemToObject(c->out, "Item", cJSON_Duplicate(item, 1));
  return 0;
}

static int op_delete_item(ctx_t *c) {
  table_t *t = need_table(c);
  cJSON *key, *old = NULL;
  char err[512];
  int want_old;

  if (t == NULL || return_values(c, "ALL_OLD", &want_old) ||
      no_expressions(c) || checked_key(c, &key))
    return -1;
  if (lk_ddb_table_delete(t->items, key, &old, err, sizeof(err)) != 0)
    return fail(c, ERR_VALIDATION, "%s", err);
  if (want_old && old)
    cJSON_AddItemToObject(c->out, "Attributes", old);
  else
    cJSON_Delete(old);
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} ops[] = {
    {"CreateTable", op_create_table}, {"DescribeTable", op_describe_table},
    {"ListTables", op_list_tables},   {"DeleteTable", op_delete_table},
    {"PutItem", op_put_item},         {"GetItem", op_get_item},
    {"DeleteItem", op_delete_item},
};

static void dispatch(ctx_t *c, const char *op) {
  size_t i;

  for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
    if (strcmp(ops[i].name, op) == 0) {
      ops[i].fn(c);
      return;
    }
  fail(c, ERR_UNKNOWN_OP, "lambkin does not emulate dynamodb.%.64s", op);
}

void lk_ddb_serve(lk_ddb_t *d, lk_http_req_t *req) {
  const char *target = lk_http_header(req, "X-Amz-Target");
  const char *op = target ? strchr(target, '.') : NULL;
  ctx_t c = {0};
  lk_http_header_t h[2];
  char rid[37], *text = NULL;
  lk_buf_t b;

  lk_uuid(rid);
  c.d = d;
  c.in = cJSON_ParseWithLength(req->body.len ? req->body.data : "{}",
                               req->body.len ? req->body.len : 2);
  c.out = cJSON_CreateObject();
  if (!cJSON_IsObject(c.in) || req->body_too_large)
    fail(&c, ERR_SERIAL, "Start of structure or map found where not expected");
  else
    dispatch(&c, op ? op + 1 : "");
  lk_buf_init(&b, 4096);
  if (c.err_type) {
    lk_buf_printf(&b, "{\"__type\":\"%s\",\"message\":", c.err_type);
    lk_buf_add_json_str(&b, c.err_msg, strlen(c.err_msg));
    lk_buf_adds(&b, "}");
  } else {
    text = cJSON_PrintUnformatted(c.out);
  }
  h[0] = (lk_http_header_t){"x-amzn-RequestId", rid};
  h[1] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.0"};
  if (text)
    lk_http_respond(req, 200, h, 2, text, strlen(text));
  else /* a bounded message: it fits */
    lk_http_respond(req, 400, h, 2, lk_buf_str(&b), b.len);
  free(text);
  lk_buf_free(&b);
  cJSON_Delete(c.in);
  cJSON_Delete(c.out);
}
