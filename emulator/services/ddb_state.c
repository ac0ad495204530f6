/* DynamoDB under --state (see dynamodb.h): a snapshot of every table,
 * item, stream record and reader's place, and the records of the state
 * log replayed through the same change path as a client's writes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ddb_int.h"
#include "ddb_value.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

/* ---- --state ---- */

static uint64_t u64(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e18
             ? (uint64_t)v->valuedouble
             : 0;
}

int lk_ddb_save(lk_ddb_t *d, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject(), *ts, *rs;
  const cJSON *item;
  int i, err;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  cJSON_AddNumberToObject(root, "seq", (double)d->seq);
  ts = cJSON_AddArrayToObject(root, "tables");
  for (i = 0; i < d->n; i++) {
    const table_t *t = d->tables[i];
    cJSON *jt = cJSON_CreateObject(), *items;

    cJSON_AddItemToArray(ts, jt);
    cJSON_AddItemToObject(jt, "spec", cJSON_Duplicate(t->spec, 1));
    cJSON_AddStringToObject(jt, "id", t->id);
    cJSON_AddNumberToObject(jt, "created", t->created);
    if (t->stream) {
      cJSON_AddStringToObject(jt, "label", lk_ddb_stream_label(t->stream));
      cJSON_AddItemToObject(jt, "stream", lk_ddb_stream_save(t->stream));
    }
    items = cJSON_AddArrayToObject(jt, "items");
    for (item = lk_ddb_table_first(t->items); item;
         item = lk_ddb_table_next(t->items, item))
      cJSON_AddItemToArray(items, cJSON_Duplicate(item, 1));
  }
  rs = cJSON_AddArrayToObject(root, "readers");
  for (i = 0; i < d->n_readers; i++) {
    cJSON *jr = cJSON_CreateObject();

    cJSON_AddStringToObject(jr, "name", d->readers[i].name);
    cJSON_AddStringToObject(jr, "table", d->readers[i].table);
    cJSON_AddNumberToObject(jr, "next", (double)d->readers[i].next);
    cJSON_AddItemToArray(rs, jr);
  }
  err = lk_save_json(path, root);
  cJSON_Delete(root);
  return err;
}

/* The table of a snapshot or a create record (o), made unless the
 * template (or an earlier record) made it already; NULL when it cannot
 * be. One made here keeps the id and time it had. */
static table_t *load_table(lk_ddb_t *d, const cJSON *o) {
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
  const char *label = lk_json_str(o, "label"), *id = lk_json_str(o, "id");
  table_t *t = lk_ddb_find_table(d, lk_json_str(spec, "TableName"));
  const cJSON *created = cJSON_GetObjectItemCaseSensitive(o, "created");
  char err[512];

  if (t || lk_ddb_make_table(d, spec, label ? label : LK_APP_STREAM_LABEL, err,
                             sizeof(err)) != 0)
    return t;
  t = d->tables[d->n - 1];
  if (id && strlen(id) < sizeof(t->id))
    snprintf(t->id, sizeof(t->id), "%s", id);
  if (cJSON_IsNumber(created))
    t->created = created->valuedouble;
  return t;
}

/* An item back into its table, checked as a client's would be. */
static void load_item(table_t *t, const cJSON *item, cJSON **old) {
  cJSON *copy = cJSON_Duplicate(item, 1);
  char err[512];

  *old = NULL;
  if (!cJSON_IsObject(copy) || lk_ddb_item_check(copy, err, sizeof(err)) ||
      lk_ddb_table_put(t->items, copy, old, err, sizeof(err)) != 0)
    cJSON_Delete(copy);
}

static void set_reader(lk_ddb_t *d, const char *name, const char *table,
                       uint64_t next) {
  int i;

  if (name == NULL || table == NULL)
    return;
  for (i = 0; i < d->n_readers; i++)
    if (strcmp(d->readers[i].name, name) == 0) {
      d->readers[i].next = next;
      return;
    }
  lk_ddb_add_reader(d, name, table, next);
}

int lk_ddb_load(lk_ddb_t *d, const char *path, uint64_t *gen) {
  cJSON *root, *old;
  const cJSON *jt, *it;
  int err = lk_load_json(path, &root);

  if (err)
    return err;
  *gen = u64(root, "aof");
  d->seq = u64(root, "seq");
  cJSON_ArrayForEach(jt, cJSON_GetObjectItemCaseSensitive(root, "tables")) {
    table_t *t = load_table(d, jt);

    if (t == NULL)
      continue;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(jt, "items")) {
      load_item(t, it, &old);
      cJSON_Delete(old);
    }
    lk_ddb_reindex(t);
    if (t->stream && cJSON_GetObjectItemCaseSensitive(jt, "stream"))
      lk_ddb_stream_load(t->stream,
                         cJSON_GetObjectItemCaseSensitive(jt, "stream"));
    if (t->stream && lk_ddb_stream_end(t->stream) > d->seq + 1)
      d->seq = lk_ddb_stream_end(t->stream) - 1;
  }
  cJSON_ArrayForEach(jt, cJSON_GetObjectItemCaseSensitive(root, "readers")) {
    set_reader(d, lk_json_str(jt, "name"), lk_json_str(jt, "table"),
               u64(jt, "next"));
  }
  cJSON_Delete(root);
  return 0;
}

void lk_ddb_on_record(lk_ddb_t *d, lk_record_cb cb, void *ud) {
  d->rec_cb = cb;
  d->rec_ud = ud;
}

/* A put or a delete replayed: through item_changed, so the stream makes
 * the same records, numbered as they were. */
static void apply_item(lk_ddb_t *d, table_t *t, const cJSON *rec, int put) {
  const cJSON *body =
      cJSON_GetObjectItemCaseSensitive(rec, put ? "item" : "key");
  const cJSON *now = NULL;
  cJSON *old = NULL;
  char err[512];

  if (!cJSON_IsObject(body))
    return;
  if (put) {
    cJSON *key = lk_ddb_table_key_of(t->items, body);

    load_item(t, body, &old);
    lk_ddb_table_get(t->items, key, &now, err, sizeof(err));
    cJSON_Delete(key);
  } else {
    lk_ddb_table_delete(t->items, body, &old, err, sizeof(err));
  }
  if (!put && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ttl")))
    lk_ddb_expired(d, t, old);
  else
    lk_ddb_changed(d, t, old, now, lk_json_str(rec, "trace"));
  cJSON_Delete(old);
}

/* UpdateTable or UpdateTimeToLive replayed: a spec DynamoDB would take,
 * with the table's own key. */
static void alter(lk_ddb_t *d, table_t *t, const cJSON *rec) {
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(rec, "spec");
  const char *label = lk_json_str(rec, "label");
  char err[512], *a, *b;
  int same;

  if (!cJSON_IsObject(spec) || lk_ddb_check_spec(spec, err, sizeof(err)) != 0 ||
      lk_json_str(spec, "TableName") == NULL ||
      strcmp(lk_json_str(spec, "TableName"), t->name) != 0)
    return;
  a = cJSON_PrintUnformatted(
      cJSON_GetObjectItemCaseSensitive(spec, "KeySchema"));
  b = cJSON_PrintUnformatted(
      cJSON_GetObjectItemCaseSensitive(t->spec, "KeySchema"));
  same = a && b && strcmp(a, b) == 0;
  free(a);
  free(b);
  if (same)
    lk_ddb_alter(d, t, cJSON_Duplicate(spec, 1),
                 label ? label : LK_APP_STREAM_LABEL);
}

void lk_ddb_apply(lk_ddb_t *d, const cJSON *rec) {
  const char *op = lk_json_str(rec, "ddb");
  table_t *t = lk_ddb_find_table(d, lk_json_str(rec, "table"));

  if (op == NULL)
    return;
  if (strcmp(op, "create") == 0)
    load_table(d, rec);
  else if (strcmp(op, "drop") == 0 && t)
    lk_ddb_drop_table(d, t);
  else if ((strcmp(op, "put") == 0 || strcmp(op, "del") == 0) && t)
    apply_item(d, t, rec, op[0] == 'p');
  else if (strcmp(op, "alter") == 0 && t)
    alter(d, t, rec);
  else if (strcmp(op, "done") == 0)
    set_reader(d, lk_json_str(rec, "reader"), lk_json_str(rec, "table"),
               u64(rec, "next"));
}
