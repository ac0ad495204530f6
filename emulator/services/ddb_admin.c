/* A DynamoDB table changed after it was made (see ddb_int.h): UpdateTable
 * (billing, throughput, its stream, global secondary indexes made and
 * dropped) and Time to Live (the calls, and the sweep that removes the
 * items whose time has passed, as DynamoDB's does). Both write the
 * table's new CreateTable-shaped spec, so --state keeps them as it keeps
 * a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddb_int.h"
#include "ddb_value.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define EXPIRE_BATCH 1000 /* items looked at per sweep, in all tables */
#define TTL_MAX_AGE_S ((double)5 * 365 * 86400) /* older: not removed */

/* ---- UpdateTable ---- */

static void mark_used(cJSON *used, const cJSON *key_schema) {
  const cJSON *k;

  cJSON_ArrayForEach(k, key_schema) {
    const char *n = lk_json_str(k, "AttributeName");

    if (n && !cJSON_GetObjectItemCaseSensitive(used, n))
      cJSON_AddTrueToObject(used, n);
  }
}

/* AttributeDefinitions: the given ones replace those of the same name;
 * then only those a key of the table or of an index uses are kept, as
 * DynamoDB drops an index's attributes with the index. */
static void merge_definitions(cJSON *spec, const cJSON *given) {
  cJSON *defs = cJSON_GetObjectItemCaseSensitive(spec, "AttributeDefinitions");
  cJSON *used = cJSON_CreateObject(), *d, *next;
  const cJSON *g, *ix;
  static const char *const lists[] = {"GlobalSecondaryIndexes",
                                      "LocalSecondaryIndexes"};
  size_t i;

  cJSON_ArrayForEach(g, given) {
    const char *n = lk_json_str(g, "AttributeName");

    for (d = defs ? defs->child : NULL; d && n; d = next) {
      next = d->next;
      if (lk_json_str(d, "AttributeName") &&
          strcmp(lk_json_str(d, "AttributeName"), n) == 0)
        cJSON_Delete(cJSON_DetachItemViaPointer(defs, d));
    }
    if (defs)
      cJSON_AddItemToArray(defs, cJSON_Duplicate(g, 1));
  }
  mark_used(used, cJSON_GetObjectItemCaseSensitive(spec, "KeySchema"));
  for (i = 0; i < 2; i++)
    cJSON_ArrayForEach(ix, cJSON_GetObjectItemCaseSensitive(spec, lists[i])) {
      mark_used(used, cJSON_GetObjectItemCaseSensitive(ix, "KeySchema"));
    }
  for (d = defs ? defs->child : NULL; d; d = next) {
    const char *n = lk_json_str(d, "AttributeName");

    next = d->next;
    if (n == NULL || !cJSON_GetObjectItemCaseSensitive(used, n))
      cJSON_Delete(cJSON_DetachItemViaPointer(defs, d));
  }
  cJSON_Delete(used);
}

static cJSON *find_index(cJSON *list, const char *name) {
  cJSON *ix;

  cJSON_ArrayForEach(ix, list) {
    if (name && lk_json_str(ix, "IndexName") &&
        strcmp(lk_json_str(ix, "IndexName"), name) == 0)
      return ix;
  }
  return NULL;
}

/* One of GlobalSecondaryIndexUpdates: Create, Delete or Update. */
static int index_update(ctx_t *c, cJSON *spec, const cJSON *u) {
  const cJSON *mk = cJSON_GetObjectItemCaseSensitive(u, "Create");
  const cJSON *rm = cJSON_GetObjectItemCaseSensitive(u, "Delete");
  const cJSON *up = cJSON_GetObjectItemCaseSensitive(u, "Update");
  const cJSON *one = mk ? mk : rm ? rm : up;
  const char *name = lk_json_str(one, "IndexName");
  cJSON *list =
      cJSON_GetObjectItemCaseSensitive(spec, "GlobalSecondaryIndexes");
  cJSON *ix;

  if (list == NULL)
    list = cJSON_AddArrayToObject(spec, "GlobalSecondaryIndexes");
  ix = find_index(list, name);
  if (name == NULL || (mk != NULL) + (rm != NULL) + (up != NULL) != 1)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Invalid GlobalSecondaryIndexUpdate: one of Create, "
                       "Update or Delete, with an IndexName");
  if (mk && ix)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Attempting to create an index which already exists");
  if (!mk && ix == NULL)
    return lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                       "Requested resource not found: Requested index %.255s "
                       "not found",
                       name);
  if (mk)
    cJSON_AddItemToArray(list, cJSON_Duplicate(mk, 1));
  else if (rm)
    cJSON_Delete(cJSON_DetachItemViaPointer(list, ix));
  else if (cJSON_GetObjectItemCaseSensitive(up, "ProvisionedThroughput"))
    cJSON_ReplaceItemInObjectCaseSensitive(
        ix, "ProvisionedThroughput",
        cJSON_Duplicate(
            cJSON_GetObjectItemCaseSensitive(up, "ProvisionedThroughput"), 1));
  if (cJSON_GetArraySize(list) == 0)
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "GlobalSecondaryIndexes");
  return 0;
}

static void set_field(cJSON *spec, const cJSON *in, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);

  if (v == NULL)
    return;
  cJSON_DeleteItemFromObjectCaseSensitive(spec, name);
  cJSON_AddItemToObject(spec, name, cJSON_Duplicate(v, 1));
}

/* StreamSpecification: on only when it is off, off only when on. */
static int stream_change(ctx_t *c, const table_t *t, cJSON *spec) {
  const cJSON *ss =
      cJSON_GetObjectItemCaseSensitive(c->in, "StreamSpecification");
  int on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ss, "StreamEnabled"));

  if (ss == NULL)
    return 0;
  if (on && t->stream)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Table already has an enabled stream: TableName: %s",
                       t->name);
  if (!on && t->stream == NULL)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Table already has stream disabled: TableName: %s",
                       t->name);
  set_field(spec, c->in, "StreamSpecification");
  return 0;
}

/* The table's new spec (it becomes the table's), its stream made or
 * dropped to match; a new stream is labelled label. */
void lk_ddb_alter(lk_ddb_t *d, table_t *t, cJSON *spec, const char *label) {
  char err[256];
  const char *view = NULL;

  lk_ddb_stream_spec(spec, &view, err, sizeof(err));
  if (view && t->stream == NULL)
    t->stream = lk_ddb_stream_new(t->arn, label, view, d->region);
  else if (view == NULL && t->stream) {
    lk_ddb_stream_free(t->stream);
    t->stream = NULL;
  }
  cJSON_Delete(t->spec);
  t->spec = spec;
  lk_ddb_reindex(t);
}

/* The record --state replays: the spec, and a new stream's label. */
static void record_alter(lk_ddb_t *d, const table_t *t, const char *label) {
  cJSON *rec;

  if (d->rec_cb == NULL)
    return;
  rec = lk_ddb_new_record("alter", t->name);
  cJSON_AddItemToObject(rec, "spec", cJSON_Duplicate(t->spec, 1));
  if (t->stream)
    cJSON_AddStringToObject(rec, "label", label);
  lk_ddb_record(d, rec, 1);
}

int lk_ddb_op_update_table(ctx_t *c) {
  table_t *t = lk_ddb_need_table(c);
  const cJSON *u;
  char err[512], label[32];
  const char *view;
  cJSON *spec;
  int rc = 0;

  if (t == NULL)
    return -1;
  spec = cJSON_Duplicate(t->spec, 1);
  set_field(spec, c->in, "BillingMode");
  set_field(spec, c->in, "ProvisionedThroughput");
  cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(
                            c->in, "GlobalSecondaryIndexUpdates")) {
    if (rc == 0)
      rc = index_update(c, spec, u);
  }
  if (rc == 0) {
    merge_definitions(
        spec, cJSON_GetObjectItemCaseSensitive(c->in, "AttributeDefinitions"));
    rc = stream_change(c, t, spec);
  }
  if (rc == 0 && (lk_ddb_check_spec(spec, err, sizeof(err)) != 0 ||
                  lk_ddb_stream_spec(spec, &view, err, sizeof(err)) != 0))
    rc = lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  if (rc) {
    cJSON_Delete(spec);
    return -1;
  }
  lk_ddb_label_now(label, sizeof(label));
  lk_ddb_alter(c->d, t, spec, label);
  record_alter(c->d, t, label);
  cJSON_AddItemToObject(c->out, "TableDescription",
                        lk_ddb_describe(t, "UPDATING"));
  return 0;
}

/* ---- Time to Live ---- */

/* The attribute Time to Live reads, or NULL while it is off. */
static const char *ttl_attribute(const table_t *t) {
  const cJSON *s =
      cJSON_GetObjectItemCaseSensitive(t->spec, "TimeToLiveSpecification");

  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "Enabled"))
             ? lk_json_str(s, "AttributeName")
             : NULL;
}

int lk_ddb_op_describe_ttl(ctx_t *c) {
  table_t *t = lk_ddb_need_table(c);
  const char *attr;
  cJSON *o;

  if (t == NULL)
    return -1;
  attr = ttl_attribute(t);
  o = cJSON_AddObjectToObject(c->out, "TimeToLiveDescription");
  cJSON_AddStringToObject(o, "TimeToLiveStatus", attr ? "ENABLED" : "DISABLED");
  if (attr)
    cJSON_AddStringToObject(o, "AttributeName", attr);
  return 0;
}

int lk_ddb_op_update_ttl(ctx_t *c) {
  table_t *t = lk_ddb_need_table(c);
  const cJSON *want =
      cJSON_GetObjectItemCaseSensitive(c->in, "TimeToLiveSpecification");
  const cJSON *on = cJSON_GetObjectItemCaseSensitive(want, "Enabled");
  const char *attr = lk_json_str(want, "AttributeName");
  cJSON *spec;

  if (t == NULL)
    return -1;
  if (!cJSON_IsBool(on) || attr == NULL || attr[0] == '\0')
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "1 validation error detected: Value null at "
                       "'timeToLiveSpecification' failed to satisfy "
                       "constraint: Member must not be null");
  if (cJSON_IsTrue(on) == (ttl_attribute(t) != NULL))
    return lk_ddb_fail(c, ERR_VALIDATION, "TimeToLive is already %s",
                       cJSON_IsTrue(on) ? "enabled" : "disabled");
  spec = cJSON_Duplicate(t->spec, 1);
  set_field(spec, c->in, "TimeToLiveSpecification");
  lk_ddb_alter(c->d, t, spec, t->stream ? lk_ddb_stream_label(t->stream) : "");
  record_alter(c->d, t, t->stream ? lk_ddb_stream_label(t->stream) : "");
  cJSON_AddItemToObject(c->out, "TimeToLiveSpecification",
                        cJSON_Duplicate(want, 1));
  return 0;
}

/* Has the item's time passed? Its attribute is a number of seconds
 * since the epoch; any other value, or one more than five years past,
 * never expires (DynamoDB's rules). */
static int expired(const cJSON *item, const char *attr, double now_s) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, attr);
  const char *n = lk_json_str(v, "N");
  double at;
  char *end;

  if (n == NULL)
    return 0;
  at = strtod(n, &end);
  return *end == '\0' && at <= now_s && at >= now_s - TTL_MAX_AGE_S;
}

/* Looks at up to budget items of t from where the last sweep stopped;
 * returns how many it looked at. */
static int sweep(lk_ddb_t *d, table_t *t, const char *attr, double now_s,
                 int budget) {
  const cJSON *item = t->ttl_at ? lk_ddb_table_next(t->items, t->ttl_at)
                                : lk_ddb_table_first(t->items);
  int seen = 0;

  for (; item && seen < budget; seen++) {
    cJSON *key = lk_ddb_table_key_of(t->items, item), *old = NULL;
    char err[256];

    if (expired(item, attr, now_s) &&
        lk_ddb_table_delete(t->items, key, &old, err, sizeof(err)) == 0 &&
        old) {
      lk_ddb_expired(d, t, old);
      cJSON_Delete(old);
    }
    cJSON_Delete(t->ttl_at);
    t->ttl_at = key;
    item = lk_ddb_table_next(t->items, key);
  }
  if (item == NULL) { /* the end: the next sweep starts again */
    cJSON_Delete(t->ttl_at);
    t->ttl_at = NULL;
  }
  return seen;
}

void lk_ddb_expire(lk_ddb_t *d, uint64_t now_ms) {
  int budget = EXPIRE_BATCH, k;

  /* a different table first each time: a big one starves none */
  for (k = 0; k < d->n && budget > 0; k++) {
    table_t *t = d->tables[(d->ttl_turn + k) % d->n];
    const char *attr = ttl_attribute(t);

    if (attr)
      budget -= sweep(d, t, attr, (double)now_ms / 1000, budget);
  }
  d->ttl_turn = d->n ? (d->ttl_turn + 1) % d->n : 0;
}
