/* Emulated DynamoDB (see dynamodb.h): the table catalogue and the JSON
 * 1.0 wire protocol; a table's items live in ddb_table.c, values are
 * checked by ddb_value.c. One table_t per table, in creation order. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "buf.h"
#include "ddb_int.h"
#include "ddb_legacy.h"
#include "ddb_value.h"
#include "dynamodb.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

lk_ddb_t *lk_ddb_new(const char *region, const char *account) {
  lk_ddb_t *d = lk_xcalloc(1, sizeof(*d));

  d->region = lk_xstrdup(region);
  d->account = lk_xstrdup(account);
  return d;
}

static void indexes_free(table_t *t) {
  int i;

  for (i = 0; i < t->n_ix; i++) {
    lk_ddb_table_free(t->ix[i]);
    free(t->ix_names[i]);
  }
  free(t->ix);
  free(t->ix_names);
  t->ix = NULL;
  t->ix_names = NULL;
  t->n_ix = 0;
}

static void table_free(table_t *t) {
  free(t->name);
  free(t->arn);
  cJSON_Delete(t->spec);
  indexes_free(t); /* before the items they borrow */
  lk_ddb_table_free(t->items);
  lk_ddb_stream_free(t->stream);
  cJSON_Delete(t->ttl_at);
  free(t);
}

void lk_ddb_free(lk_ddb_t *d) {
  int i;

  if (d == NULL)
    return;
  for (i = 0; i < d->n; i++)
    table_free(d->tables[i]);
  for (i = 0; i < d->n_readers; i++) {
    free(d->readers[i].name);
    free(d->readers[i].table);
  }
  free(d->readers);
  free(d->region);
  free(d->account);
  free(d);
}

table_t *lk_ddb_find_table(const lk_ddb_t *d, const char *name) {
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

/* A record of a change for the state log (--state). */
void lk_ddb_record(lk_ddb_t *d, cJSON *rec, int durable) {
  if (d->rec_cb)
    d->rec_cb(d->rec_ud, rec, durable);
  cJSON_Delete(rec);
}

cJSON *lk_ddb_new_record(const char *op, const char *table) {
  cJSON *rec = cJSON_CreateObject();

  cJSON_AddStringToObject(rec, "ddb", op);
  cJSON_AddStringToObject(rec, "table", table);
  return rec;
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

/* StreamSpecification: CreateTable's {StreamEnabled, StreamViewType},
 * or a template's {StreamViewType}. *view is NULL when there is no
 * stream. */
int lk_ddb_stream_spec(const cJSON *spec, const char **view, char *err,
                       size_t errlen) {
  static const char *const views[] = {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
                                      "NEW_AND_OLD_IMAGES"};
  const cJSON *ss =
      cJSON_GetObjectItemCaseSensitive(spec, "StreamSpecification");
  const cJSON *on = cJSON_GetObjectItemCaseSensitive(ss, "StreamEnabled");
  const char *v = lk_json_str(ss, "StreamViewType");
  size_t i;

  *view = NULL;
  if (ss == NULL || cJSON_IsFalse(on))
    return 0;
  for (i = 0; v && i < sizeof(views) / sizeof(views[0]); i++)
    if (strcmp(v, views[i]) == 0)
      *view = views[i];
  if (*view == NULL)
    return failf(err, errlen,
                 "1 validation error detected: Value '%.64s' at "
                 "'streamSpecification.streamViewType' failed to satisfy "
                 "constraint: Member must satisfy enum value set: "
                 "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]",
                 v ? v : "null");
  return 0;
}

int lk_ddb_check_spec(const cJSON *spec, char *err, size_t errlen) {
  lk_ddb_key_def_t k[2];
  int nk = 0;

  return check_spec(spec, k, &nk, err, errlen) ? -1 : 0;
}

void lk_ddb_label_now(char *out, size_t cap) {
  time_t now = time(NULL);
  struct tm tm;

  gmtime_r(&now, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000", &tm);
}

int lk_ddb_make_table(lk_ddb_t *d, const cJSON *spec, const char *label,
                      char *err, size_t errlen) {
  lk_ddb_key_def_t k[2];
  const char *view;
  table_t *t;
  int nk = 0, rc = check_spec(spec, k, &nk, err, errlen);

  if (rc == 0)
    rc = lk_ddb_stream_spec(spec, &view, err, errlen);
  if (rc)
    return rc;
  if (lk_ddb_find_table(d, lk_json_str(spec, "TableName"))) {
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
  if (view)
    t->stream = lk_ddb_stream_new(t->arn, label, view, d->region);
  lk_ddb_reindex(t);
  d->tables[d->n++] = t;
  return 0;
}

/* One index of the spec: its key, typed by AttributeDefinitions. */
static void add_index(table_t *t, const cJSON *ix, const cJSON *defs) {
  lk_ddb_key_def_t k[2] = {{NULL, 0}, {NULL, 0}};
  const cJSON *e;
  const cJSON *it;
  int n = 0;

  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ix, "KeySchema")) {
    const char *name = lk_json_str(e, "AttributeName");

    if (name && n < 2) {
      k[n].name = (char *)name;
      k[n++].type = defined_type(defs, name);
    }
  }
  if (n == 0 || lk_json_str(ix, "IndexName") == NULL)
    return; /* the spec was checked: not reached */
  t->ix = lk_xrealloc(t->ix, sizeof(*t->ix) * (size_t)(t->n_ix + 1));
  t->ix_names =
      lk_xrealloc(t->ix_names, sizeof(*t->ix_names) * (size_t)(t->n_ix + 1));
  t->ix[t->n_ix] = lk_ddb_index_new(t->items, &k[0], n == 2 ? &k[1] : NULL);
  t->ix_names[t->n_ix] = lk_xstrdup(lk_json_str(ix, "IndexName"));
  for (it = lk_ddb_table_first(t->items); it;
       it = lk_ddb_table_next(t->items, it))
    lk_ddb_index_add(t->ix[t->n_ix], it);
  t->n_ix++;
}

void lk_ddb_reindex(table_t *t) {
  static const char *const lists[] = {"GlobalSecondaryIndexes",
                                      "LocalSecondaryIndexes"};
  const cJSON *defs =
      cJSON_GetObjectItemCaseSensitive(t->spec, "AttributeDefinitions");
  const cJSON *ix;
  size_t i;

  indexes_free(t);
  for (i = 0; i < 2; i++)
    cJSON_ArrayForEach(ix,
                       cJSON_GetObjectItemCaseSensitive(t->spec, lists[i])) {
      add_index(t, ix, defs);
    }
}

lk_ddb_table_t *lk_ddb_index_of(const table_t *t, const char *name) {
  int i;

  for (i = 0; name && i < t->n_ix; i++)
    if (strcmp(t->ix_names[i], name) == 0)
      return t->ix[i];
  return NULL;
}

int lk_ddb_create_table(lk_ddb_t *d, const cJSON *spec, char *err,
                        size_t errlen) {
  return lk_ddb_make_table(d, spec, LK_APP_STREAM_LABEL, err, errlen);
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

void lk_ddb_copy_field(cJSON *to, const cJSON *from, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);

  if (v)
    cJSON_AddItemToObject(to, name, cJSON_Duplicate(v, 1));
}

cJSON *lk_ddb_describe(const table_t *t, const char *status) {
  cJSON *o = cJSON_CreateObject(), *b;
  const char *mode = lk_json_str(t->spec, "BillingMode");

  lk_ddb_copy_field(o, t->spec, "AttributeDefinitions");
  cJSON_AddStringToObject(o, "TableName", t->name);
  lk_ddb_copy_field(o, t->spec, "KeySchema");
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
  if (t->stream) {
    cJSON *ss = cJSON_AddObjectToObject(o, "StreamSpecification");

    cJSON_AddBoolToObject(ss, "StreamEnabled", 1);
    cJSON_AddStringToObject(ss, "StreamViewType",
                            lk_ddb_stream_view(t->stream));
    cJSON_AddStringToObject(o, "LatestStreamLabel",
                            lk_ddb_stream_label(t->stream));
    cJSON_AddStringToObject(o, "LatestStreamArn", lk_ddb_stream_arn(t->stream));
  }
  cJSON_AddBoolToObject(o, "DeletionProtectionEnabled", 0);
  return o;
}

/* ---- the wire protocol ---- */

int lk_ddb_fail(ctx_t *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int lk_ddb_fail(ctx_t *c, const char *type, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
  va_end(ap);
  c->err_type = type;
  return -1;
}

table_t *lk_ddb_need_table(ctx_t *c) {
  const char *name = lk_json_str(c->in, "TableName");
  table_t *t = lk_ddb_find_table(c->d, name);

  if (name == NULL)
    lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value null at 'tableName' failed to "
        "satisfy constraint: Member must not be null");
  else if (t == NULL)
    lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                "Requested resource not found: Table: %.255s not found", name);
  return t;
}

static int op_create_table(ctx_t *c) {
  char err[512], label[32];
  int rc;

  lk_ddb_label_now(label, sizeof(label));
  rc = lk_ddb_make_table(c->d, c->in, label, err, sizeof(err));
  if (rc == LK_EEXIST)
    return lk_ddb_fail(c, ERR_DDB "ResourceInUseException", "%s", err);
  if (rc)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  if (c->d->rec_cb) {
    cJSON *rec = lk_ddb_new_record("create", lk_json_str(c->in, "TableName"));

    cJSON_AddItemToObject(rec, "spec", cJSON_Duplicate(c->in, 1));
    cJSON_AddStringToObject(rec, "label", label);
    lk_ddb_record(c->d, rec, 1);
  }
  cJSON_AddItemToObject(c->out, "TableDescription",
                        lk_ddb_describe(c->d->tables[c->d->n - 1], "ACTIVE"));
  return 0;
}

static int op_describe_table(ctx_t *c) {
  table_t *t = lk_ddb_need_table(c);

  if (t == NULL)
    return -1;
  cJSON_AddItemToObject(c->out, "Table", lk_ddb_describe(t, "ACTIVE"));
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
    return lk_ddb_fail(
        c, ERR_VALIDATION,
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

void lk_ddb_drop_table(lk_ddb_t *d, table_t *t) {
  int i;

  for (i = 0; d->tables[i] != t; i++)
    ;
  memmove(&d->tables[i], &d->tables[i + 1],
          sizeof(table_t *) * (size_t)(d->n - i - 1));
  d->n--;
  table_free(t);
}

static int op_delete_table(ctx_t *c) {
  table_t *t = lk_ddb_need_table(c);

  if (t == NULL)
    return -1;
  cJSON_AddItemToObject(c->out, "TableDescription",
                        lk_ddb_describe(t, "DELETING"));
  lk_ddb_record(c->d, lk_ddb_new_record("drop", t->name), 1);
  lk_ddb_drop_table(c->d, t);
  return 0;
}

/* ReturnValues: NONE or one of those the operation allows. */
static int return_values(ctx_t *c, const char *const *allowed,
                         const char **want) {
  const char *rv = lk_json_str(c->in, "ReturnValues");
  int i;

  *want = NULL;
  if (rv == NULL || strcmp(rv, "NONE") == 0)
    return 0;
  for (i = 0; allowed[i]; i++)
    if (strcmp(rv, allowed[i]) == 0) {
      *want = allowed[i];
      return 0;
    }
  return lk_ddb_fail(
      c, ERR_VALIDATION,
      "1 validation error detected: Value '%.32s' at 'returnValues' "
      "failed to satisfy constraint: Member must satisfy enum value "
      "set",
      rv);
}

/* The parameters DynamoDB still takes from before expressions become
 * the expressions that replace them. */
static int legacy(ctx_t *c, cJSON *in) {
  char err[512];

  if (lk_ddb_legacy_rewrite(in, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  return 0;
}

static int parse_one(ctx_t *c, const cJSON *in, exprs_t *x, const char *field,
                     lk_ddb_expr_kind_t kind, lk_ddb_expr_t **out) {
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(in, field);
  char err[512];

  if (text == NULL)
    return 0;
  if (!cJSON_IsString(text))
    return lk_ddb_fail(c, ERR_SERIAL, "%s must be a string", field);
  if (lk_ddb_expr_parse(text->valuestring, kind, field, &x->names, out, err,
                        sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  return 0;
}

/* The expressions of a request (in: the request, or one table's part of
 * a batch). */
int lk_ddb_parse(ctx_t *c, cJSON *in, exprs_t *x) {
  char err[512];

  memset(x, 0, sizeof(*x));
  x->names.used = cJSON_CreateObject();
  if (legacy(c, in)) /* first: it adds names and values */
    return -1;
  x->names.names =
      cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeNames");
  x->names.values =
      cJSON_GetObjectItemCaseSensitive(in, "ExpressionAttributeValues");
  if (x->names.values) {
    cJSON *v;

    cJSON_ArrayForEach(v, (cJSON *)x->names.values) {
      if (lk_ddb_value_check(v, err, sizeof(err)) != 0)
        return lk_ddb_fail(
            c, ERR_VALIDATION,
            "ExpressionAttributeValues contains invalid value: %s "
            "for key %s",
            err, v->string);
    }
  }
  if (parse_one(c, in, x, "ConditionExpression", LK_DDB_CONDITION, &x->cond) ||
      parse_one(c, in, x, "UpdateExpression", LK_DDB_UPDATE, &x->update) ||
      parse_one(c, in, x, "ProjectionExpression", LK_DDB_PROJECTION,
                &x->proj) ||
      parse_one(c, in, x, "KeyConditionExpression", LK_DDB_CONDITION,
                &x->key) ||
      parse_one(c, in, x, "FilterExpression", LK_DDB_CONDITION, &x->filter))
    return -1;
  if (lk_ddb_names_check_unused(&x->names, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  return 0;
}

int lk_ddb_parse_exprs(ctx_t *c, exprs_t *x) {
  return lk_ddb_parse(c, c->in, x);
}

void lk_ddb_exprs_free(exprs_t *x) {
  cJSON_Delete(x->names.used);
  lk_ddb_expr_free(x->cond);
  lk_ddb_expr_free(x->update);
  lk_ddb_expr_free(x->proj);
  lk_ddb_expr_free(x->key);
  lk_ddb_expr_free(x->filter);
}

/* ConditionExpression on the item there now (NULL: none): 0 when it
 * holds, else ConditionalCheckFailedException (with the item when
 * ReturnValuesOnConditionCheckFailure is ALL_OLD). */
static int condition(ctx_t *c, const exprs_t *x, const cJSON *old) {
  const char *rv = lk_json_str(c->in, "ReturnValuesOnConditionCheckFailure");
  char err[512];
  int r;

  if (x->cond == NULL)
    return 0;
  r = lk_ddb_expr_test(x->cond, old, err, sizeof(err));
  if (r < 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  if (r)
    return 0;
  if (rv && strcmp(rv, "ALL_OLD") == 0 && old) {
    c->err_more = cJSON_CreateObject();
    cJSON_AddItemToObject(c->err_more, "Item", cJSON_Duplicate(old, 1));
  }
  return lk_ddb_fail(c, ERR_DDB "ConditionalCheckFailedException",
                     "The conditional request failed");
}

static int checked_key(ctx_t *c, cJSON **key) {
  char err[512];

  *key = cJSON_GetObjectItemCaseSensitive(c->in, "Key");
  if (*key == NULL)
    return lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value null at 'key' failed to "
        "satisfy constraint: Member must not be null");
  if (lk_ddb_item_check(*key, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  return 0;
}

/* The item of the request's Key, or NULL; -1 on a bad key. */
static int current(ctx_t *c, table_t *t, cJSON **key, const cJSON **item) {
  char err[512];

  if (checked_key(c, key))
    return -1;
  if (lk_ddb_table_get(t->items, *key, item, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  return 0;
}

/* ---- every change to an item ---- */

/* The oldest record of t's stream that some reader has not had. */
static uint64_t kept_from(const lk_ddb_t *d, const table_t *t) {
  uint64_t m = UINT64_MAX;
  int i;

  for (i = 0; i < d->n_readers; i++)
    if (strcmp(d->readers[i].table, t->name) == 0 && d->readers[i].next < m)
      m = d->readers[i].next;
  return m;
}

/* Room in t's stream for the records of n changes; when readers are so
 * far behind that there is none, the write is refused as a throttle the
 * SDKs retry, rather than a record being lost. */
int lk_ddb_room(ctx_t *c, table_t *t, int n) {
  if (t->stream == NULL ||
      lk_ddb_stream_reserve(t->stream, n, kept_from(c->d, t)) == 0)
    return 0;
  return lk_ddb_fail(c, ERR_DDB "ProvisionedThroughputExceededException",
                     "The stream of table %s is full: a function reading it is "
                     "behind (lambkin keeps %zu MB of records not yet read)",
                     t->name, LK_DDB_STREAM_MAX_BYTES >> 20);
}

/* Every change to an item passes here once it is made: the state log
 * keeps it, and the table's stream records it, with the trace of the
 * call that made it. */
static void item_change(lk_ddb_t *d, table_t *t, const cJSON *old,
                        const cJSON *now, const char *trace, int by_ttl) {
  cJSON *keys;
  int i;

  if (old == NULL && now == NULL)
    return;
  for (i = 0; i < t->n_ix; i++) {
    if (old)
      lk_ddb_index_remove(t->ix[i], old);
    if (now)
      lk_ddb_index_add(t->ix[i], now);
  }
  keys = lk_ddb_table_key_of(t->items, now ? now : old);
  if (d->rec_cb) {
    cJSON *rec = lk_ddb_new_record(now ? "put" : "del", t->name);

    cJSON_AddItemToObject(rec, now ? "item" : "key",
                          cJSON_Duplicate(now ? now : keys, 1));
    if (trace)
      cJSON_AddStringToObject(rec, "trace", trace);
    if (by_ttl)
      cJSON_AddTrueToObject(rec, "ttl");
    lk_ddb_record(d, rec, 1);
  }
  if (t->stream &&
      lk_ddb_stream_add(t->stream, d->seq + 1, keys, old, now, trace, by_ttl)) {
    d->seq++;
    if (d->stream_cb)
      d->stream_cb(d->stream_ud, t->name);
  }
  cJSON_Delete(keys);
}

void lk_ddb_changed(lk_ddb_t *d, table_t *t, const cJSON *old, const cJSON *now,
                    const char *trace) {
  item_change(d, t, old, now, trace, 0);
}

void lk_ddb_expired(lk_ddb_t *d, table_t *t, const cJSON *old) {
  item_change(d, t, old, NULL, NULL, 1);
}

/* item stored (it becomes the table's); *old is what it replaced. */
size_t lk_ddb_held_bytes(const lk_ddb_t *d) {
  size_t n = 0;
  int i;

  for (i = 0; i < d->n; i++)
    n += lk_ddb_table_bytes(d->tables[i]->items);
  return n;
}

static int store(ctx_t *c, table_t *t, cJSON *item, cJSON **old) {
  char err[512];

  if (lk_ddb_held_bytes(c->d) + lk_ddb_item_size(item) > LK_DDB_MAX_BYTES) {
    cJSON_Delete(item);
    return lk_ddb_fail(c, ERR_DDB "LimitExceededException",
                       "lambkin holds at most %zu MB of items in all tables",
                       LK_DDB_MAX_BYTES >> 20);
  }
  if (lk_ddb_item_check(item, err, sizeof(err)) != 0 ||
      lk_ddb_item_size(item) > LK_DDB_MAX_ITEM ||
      lk_ddb_table_put(t->items, item, old, err, sizeof(err)) != 0) {
    if (lk_ddb_item_size(item) > LK_DDB_MAX_ITEM)
      snprintf(err, sizeof(err),
               "Item size has exceeded the maximum allowed size");
    cJSON_Delete(item);
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  }
  lk_ddb_changed(c->d, t, *old, item, c->trace);
  return 0;
}

static void answer_old(ctx_t *c, const char *want, cJSON *old) {
  if (want && old)
    cJSON_AddItemToObject(c->out, "Attributes", old);
  else
    cJSON_Delete(old);
}

static int op_put_item(ctx_t *c) {
  static const char *const rv[] = {"ALL_OLD", NULL};
  table_t *t = lk_ddb_need_table(c);
  cJSON *item = cJSON_GetObjectItemCaseSensitive(c->in, "Item"), *old = NULL;
  const cJSON *there = NULL;
  const char *want;
  char err[512];
  exprs_t x = {0};
  int rc = -1;

  if (t == NULL || return_values(c, rv, &want) || lk_ddb_parse_exprs(c, &x) ||
      lk_ddb_room(c, t, 1))
    goto done;
  if (item == NULL) {
    lk_ddb_fail(c, ERR_VALIDATION,
                "1 validation error detected: Value null at 'item' failed to "
                "satisfy constraint: Member must not be null");
    goto done;
  }
  if (lk_ddb_item_check(item, err, sizeof(err)) != 0) {
    lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
    goto done;
  }
  if (x.cond) { /* the item there now, by the new item's key */
    cJSON *key = lk_ddb_table_key_of(t->items, item);

    lk_ddb_table_get(t->items, key, &there, err, sizeof(err));
    cJSON_Delete(key);
  }
  if (condition(c, &x, there) ||
      store(c, t, cJSON_DetachItemViaPointer(c->in, item), &old))
    goto done;
  answer_old(c, want, old);
  rc = 0;
done:
  lk_ddb_exprs_free(&x);
  return rc;
}

static int op_get_item(ctx_t *c) {
  table_t *t = lk_ddb_need_table(c);
  const cJSON *item;
  cJSON *key;
  exprs_t x;
  int rc = -1;

  if (t == NULL)
    return -1;
  if (lk_ddb_parse_exprs(c, &x) == 0 && current(c, t, &key, &item) == 0) {
    if (item)
      cJSON_AddItemToObject(c->out, "Item",
                            x.proj ? lk_ddb_expr_project(x.proj, item)
                                   : cJSON_Duplicate(item, 1));
    rc = 0;
  }
  lk_ddb_exprs_free(&x);
  return rc;
}

static int op_delete_item(ctx_t *c) {
  static const char *const rv[] = {"ALL_OLD", NULL};
  table_t *t = lk_ddb_need_table(c);
  const cJSON *there;
  cJSON *key, *old = NULL;
  const char *want;
  char err[512];
  exprs_t x;
  int rc = -1;

  if (t == NULL || return_values(c, rv, &want) || lk_ddb_room(c, t, 1))
    return -1;
  if (lk_ddb_parse_exprs(c, &x) == 0 && current(c, t, &key, &there) == 0 &&
      condition(c, &x, there) == 0 &&
      lk_ddb_table_delete(t->items, key, &old, err, sizeof(err)) == 0) {
    lk_ddb_changed(c->d, t, old, NULL, c->trace);
    answer_old(c, want, old);
    rc = 0;
  }
  lk_ddb_exprs_free(&x);
  return rc;
}

/* The top-level attributes of a that b does not have the same. */
static cJSON *changed(const cJSON *a, const cJSON *b) {
  cJSON *out = cJSON_CreateObject();
  const cJSON *v;

  cJSON_ArrayForEach(v, a) {
    if (!lk_ddb_value_eq(v, cJSON_GetObjectItemCaseSensitive(b, v->string)))
      cJSON_AddItemToObject(out, v->string, cJSON_Duplicate(v, 1));
  }
  return out;
}

/* The key attributes of an update's result must be the key's. */
int lk_ddb_same_key(ctx_t *c, table_t *t, const cJSON *key, const cJSON *item) {
  const lk_ddb_key_def_t *k[2] = {lk_ddb_table_hash(t->items),
                                  lk_ddb_table_range(t->items)};
  int i;

  for (i = 0; i < 2 && k[i]; i++)
    if (!lk_ddb_value_eq(cJSON_GetObjectItemCaseSensitive(key, k[i]->name),
                         cJSON_GetObjectItemCaseSensitive(item, k[i]->name)))
      return lk_ddb_fail(
          c, ERR_VALIDATION,
          "One or more parameter values were invalid: Cannot update "
          "attribute %s. This attribute is part of the key",
          k[i]->name);
  return 0;
}

/* ReturnValues of UpdateItem; UPDATED_* never name the key, which an
 * update cannot change. */
static void answer_update(ctx_t *c, const char *want, const cJSON *key,
                          const cJSON *old, const cJSON *now) {
  const cJSON *k;
  cJSON *a = NULL;

  if (want == NULL)
    return;
  if (strcmp(want, "ALL_NEW") == 0)
    a = cJSON_Duplicate(now, 1);
  else if (strcmp(want, "ALL_OLD") == 0)
    a = old ? cJSON_Duplicate(old, 1) : NULL;
  else if (strcmp(want, "UPDATED_NEW") == 0)
    a = changed(now, old);
  else
    a = old ? changed(old, now) : NULL;
  if (a && strncmp(want, "UPDATED", 7) == 0)
    cJSON_ArrayForEach(k, key)
        cJSON_DeleteItemFromObjectCaseSensitive(a, k->string);
  if (a && a->child)
    cJSON_AddItemToObject(c->out, "Attributes", a);
  else
    cJSON_Delete(a);
}

static int op_update_item(ctx_t *c) {
  static const char *const rv[] = {"ALL_OLD", "ALL_NEW", "UPDATED_OLD",
                                   "UPDATED_NEW", NULL};
  table_t *t = lk_ddb_need_table(c);
  const cJSON *there;
  cJSON *key, *item = NULL, *old = NULL;
  const char *want;
  char err[512];
  exprs_t x;
  int rc = -1;

  if (t == NULL || return_values(c, rv, &want) || lk_ddb_room(c, t, 1))
    return -1;
  if (lk_ddb_parse_exprs(c, &x) || current(c, t, &key, &there) ||
      condition(c, &x, there))
    goto done;
  item = cJSON_Duplicate(there ? there : key, 1);
  if (x.update && lk_ddb_expr_update(x.update, item, err, sizeof(err)) != 0) {
    lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
    goto done;
  }
  if (lk_ddb_same_key(c, t, key, item))
    goto done;
  answer_update(c, want, key, there, item);
  rc = store(c, t, item, &old);
  item = NULL; /* the table's, or freed by store */
  cJSON_Delete(old);
done:
  cJSON_Delete(item);
  lk_ddb_exprs_free(&x);
  return rc;
}

/* ---- batches ---- */

#define BATCH_WRITES 25
#define BATCH_GETS 100

static table_t *batch_table(ctx_t *c, const char *name) {
  table_t *t = lk_ddb_find_table(c->d, name);

  if (t == NULL)
    lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                "Requested resource not found");
  return t;
}

/* One write of a BatchWriteItem checked: its table, its item or key. */
static int check_write(ctx_t *c, table_t *t, cJSON *w, cJSON *seen) {
  cJSON *put = cJSON_GetObjectItemCaseSensitive(w, "PutRequest");
  cJSON *del = cJSON_GetObjectItemCaseSensitive(w, "DeleteRequest");
  cJSON *body = put ? cJSON_GetObjectItemCaseSensitive(put, "Item")
                    : cJSON_GetObjectItemCaseSensitive(del, "Key");
  const cJSON *there;
  cJSON *key;
  char err[512], *text;
  int dup;

  if ((put == NULL) == (del == NULL) || body == NULL)
    return lk_ddb_fail(
        c, ERR_VALIDATION,
        "Supplied AttributeValue has more than one datatypes set, "
        "must contain exactly one of the supported datatypes");
  if (lk_ddb_item_check(body, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  if (put && lk_ddb_item_size(body) > LK_DDB_MAX_ITEM)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Item size has exceeded the maximum allowed size");
  key = lk_ddb_table_key_of(t->items, body);
  if (lk_ddb_table_get(t->items, put ? key : body, &there, err, sizeof(err)) !=
      0) {
    cJSON_Delete(key);
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  }
  text = cJSON_PrintUnformatted(key);
  dup = cJSON_GetObjectItemCaseSensitive(seen, text) != NULL;
  if (!dup)
    cJSON_AddTrueToObject(seen, text);
  free(text);
  cJSON_Delete(key);
  return dup ? lk_ddb_fail(c, ERR_VALIDATION,
                           "Provided list of item keys contains duplicates")
             : 0;
}

static void apply_write(ctx_t *c, table_t *t, cJSON *w) {
  cJSON *put = cJSON_GetObjectItemCaseSensitive(w, "PutRequest"), *old = NULL;
  cJSON *item = NULL;
  char err[512];

  if (put) {
    item = cJSON_DetachItemViaPointer(
        put, cJSON_GetObjectItemCaseSensitive(put, "Item"));
    lk_ddb_table_put(t->items, item, &old, err, sizeof(err));
  } else {
    lk_ddb_table_delete(
        t->items,
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(w, "DeleteRequest"), "Key"),
        &old, err, sizeof(err));
  }
  lk_ddb_changed(c->d, t, old, item, c->trace);
  cJSON_Delete(old);
}

/* BatchWriteItem: checked whole first (25 writes at most, no key twice,
 * every table there), then applied; nothing is left unprocessed. */
static int op_batch_write(ctx_t *c) {
  cJSON *req = cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems"), *tab,
        *w;
  size_t adds = 0;
  int n = 0, rc = 0;

  cJSON_ArrayForEach(tab, req) n += cJSON_GetArraySize(tab);
  if (!cJSON_IsObject(req) || n == 0)
    return lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value null at 'requestItems' "
        "failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  if (n > BATCH_WRITES)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Too many items requested for the BatchWriteItem call");
  cJSON_ArrayForEach(tab, req) {
    table_t *t = batch_table(c, tab->string);
    cJSON *seen = cJSON_CreateObject();

    if (t == NULL || lk_ddb_room(c, t, cJSON_GetArraySize(tab)))
      rc = -1;
    cJSON_ArrayForEach(w, tab) if (rc == 0) rc = check_write(c, t, w, seen);
    cJSON_Delete(seen);
    if (rc)
      return -1;
  }
  cJSON_ArrayForEach(tab, req) cJSON_ArrayForEach(w, tab) adds +=
      lk_ddb_item_size(cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(w, "PutRequest"), "Item"));
  if (lk_ddb_held_bytes(c->d) + adds > LK_DDB_MAX_BYTES)
    return lk_ddb_fail(c, ERR_DDB "LimitExceededException",
                       "lambkin holds at most %zu MB of items in all tables",
                       LK_DDB_MAX_BYTES >> 20);
  cJSON_ArrayForEach(tab, req) {
    table_t *t = lk_ddb_find_table(c->d, tab->string);

    cJSON_ArrayForEach(w, tab) apply_write(c, t, w);
  }
  cJSON_AddObjectToObject(c->out, "UnprocessedItems");
  return 0;
}

/* One table's part of a BatchGetItem: its items, projected. */
static int batch_get_table(ctx_t *c, cJSON *spec, table_t *t, cJSON *into) {
  const cJSON *keys = cJSON_GetObjectItemCaseSensitive(spec, "Keys"), *k, *item;
  cJSON *seen = cJSON_CreateObject();
  char err[512];
  exprs_t x;
  int rc = lk_ddb_parse(c, spec, &x);

  cJSON_ArrayForEach(k, keys) {
    char *text;

    if (rc == 0 && lk_ddb_item_check((cJSON *)k, err, sizeof(err)) != 0)
      rc = lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
    if (rc == 0 && lk_ddb_table_get(t->items, k, &item, err, sizeof(err)) != 0)
      rc = lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
    if (rc)
      break;
    text = cJSON_PrintUnformatted(k);
    if (cJSON_GetObjectItemCaseSensitive(seen, text))
      rc = lk_ddb_fail(c, ERR_VALIDATION,
                       "Provided list of item keys contains duplicates");
    cJSON_AddTrueToObject(seen, text);
    free(text);
    if (rc == 0 && item)
      cJSON_AddItemToArray(into, x.proj ? lk_ddb_expr_project(x.proj, item)
                                        : cJSON_Duplicate(item, 1));
  }
  cJSON_Delete(seen);
  lk_ddb_exprs_free(&x);
  return rc;
}

static int op_batch_get(ctx_t *c) {
  cJSON *req = cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems"), *tab;
  cJSON *resp;
  int n = 0;

  cJSON_ArrayForEach(tab, req) n +=
      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tab, "Keys"));
  if (!cJSON_IsObject(req) || n == 0)
    return lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value null at 'requestItems' "
        "failed to satisfy constraint: Member must have length "
        "greater than or equal to 1");
  if (n > BATCH_GETS)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Too many items requested for the BatchGetItem call");
  resp = cJSON_AddObjectToObject(c->out, "Responses");
  cJSON_ArrayForEach(tab, req) {
    table_t *t = batch_table(c, tab->string);

    if (t == NULL ||
        batch_get_table(c, tab, t, cJSON_AddArrayToObject(resp, tab->string)))
      return -1;
  }
  cJSON_AddObjectToObject(c->out, "UnprocessedKeys");
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} ops[] = {
    {"CreateTable", op_create_table},
    {"DescribeTable", op_describe_table},
    {"ListTables", op_list_tables},
    {"DeleteTable", op_delete_table},
    {"PutItem", op_put_item},
    {"GetItem", op_get_item},
    {"DeleteItem", op_delete_item},
    {"UpdateItem", op_update_item},
    {"Query", lk_ddb_op_query},
    {"Scan", lk_ddb_op_scan},
    {"BatchWriteItem", op_batch_write},
    {"BatchGetItem", op_batch_get},
    {"TransactWriteItems", lk_ddb_op_transact_write},
    {"TransactGetItems", lk_ddb_op_transact_get},
    {"UpdateTable", lk_ddb_op_update_table},
    {"DescribeTimeToLive", lk_ddb_op_describe_ttl},
    {"UpdateTimeToLive", lk_ddb_op_update_ttl},
};

static void dispatch(ctx_t *c, const char *target, const char *op) {
  int streams = strncmp(target, "DynamoDBStreams_", 16) == 0;
  size_t i;

  for (i = 0; !streams && i < sizeof(ops) / sizeof(ops[0]); i++)
    if (strcmp(ops[i].name, op) == 0) {
      ops[i].fn(c);
      return;
    }
  if (streams && lk_ddb_streams_call(c, op) == 0)
    return;
  lk_ddb_fail(c, ERR_UNKNOWN_OP, "lambkin does not emulate %s.%.64s",
              streams ? "dynamodbstreams" : "dynamodb", op);
}

void lk_ddb_on_expression(lk_ddb_t *d, lk_ddb_expr_cb cb, void *ud) {
  d->expr_cb = cb;
  d->expr_ud = ud;
}

/* Every "...Expression" string member of the request, to the fuzzer's
 * hook: items are typed ({"S": ...}), so none of theirs is one. */
static void tell_expressions(const ctx_t *c, const cJSON *j, int depth) {
  const cJSON *m;
  size_t n;

  cJSON_ArrayForEach(m, j) {
    n = m->string ? strlen(m->string) : 0;
    if (cJSON_IsString(m) && n >= 10 &&
        strcmp(m->string + n - 10, "Expression") == 0)
      c->d->expr_cb(c->d->expr_ud, c->trace, m->string, m->valuestring);
    else if (depth < 4 && (cJSON_IsObject(m) || cJSON_IsArray(m)))
      tell_expressions(c, m, depth + 1);
  }
}

int lk_ddb_call(lk_ddb_t *d, const char *target, const char *trace,
                const char *body, size_t len, char **out) {
  const char *op = target ? strchr(target, '.') : NULL;
  ctx_t c = {0};
  cJSON *e;

  c.d = d;
  c.trace = trace;
  c.in = cJSON_ParseWithLength(len ? body : "{}", len ? len : 2);
  c.out = cJSON_CreateObject();
  if (!cJSON_IsObject(c.in) || body == NULL)
    lk_ddb_fail(&c, ERR_SERIAL,
                "Start of structure or map found where not expected");
  else if (d->expr_cb)
    tell_expressions(&c, c.in, 0);
  if (c.err_type == NULL)
    dispatch(&c, target ? target : "", op ? op + 1 : "");
  if (c.err_type) { /* with an Item, CancellationReasons... */
    e = c.err_more ? c.err_more : cJSON_CreateObject();
    c.err_more = NULL;
    cJSON_AddStringToObject(e, "__type", c.err_type);
    cJSON_AddStringToObject(e, "message", c.err_msg);
  } else {
    e = c.out;
    c.out = NULL;
  }
  *out = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  cJSON_Delete(c.err_more);
  cJSON_Delete(c.in);
  cJSON_Delete(c.out);
  return c.err_type ? 400 : 200;
}

void lk_ddb_serve(lk_ddb_t *d, lk_http_req_t *req) {
  lk_http_header_t h[2];
  char rid[37], *text;
  int status = lk_ddb_call(
      d, lk_http_header(req, "X-Amz-Target"),
      lk_http_header(req, "X-Amzn-Trace-Id"),
      req->body_too_large ? NULL : (req->body.len ? req->body.data : ""),
      req->body.len, &text);

  lk_uuid(rid);
  h[0] = (lk_http_header_t){"x-amzn-RequestId", rid};
  h[1] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.0"};
  lk_http_respond(req, status, h, 2, text, strlen(text));
  free(text);
}
