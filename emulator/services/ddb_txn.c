/* DynamoDB transactions (see ddb_int.h). TransactWriteItems plans every
 * part (its table, its key, the item there, what it becomes) and checks
 * every condition before it changes anything, so it is all or nothing:
 * one failed condition cancels the whole, with a reason for each part.
 * TransactGetItems reads each part's item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_int.h"
#include "ddb_value.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define TXN_PARTS 100
#define TXN_BYTES ((size_t)4 * 1024 * 1024)

enum { T_CHECK, T_PUT, T_DELETE, T_UPDATE, N_KINDS };

static const char *const kinds[N_KINDS] = {"ConditionCheck", "Put", "Delete",
                                           "Update"};

typedef struct part {
  int kind;
  cJSON *in; /* the part's request, inside the caller's */
  table_t *t;
  cJSON *key;
  const cJSON *there; /* the item now, or NULL */
  cJSON *now;         /* what a Put or an Update makes it */
  cJSON *reason;      /* a failed condition's CancellationReason */
} part_t;

static void parts_free(part_t *p, int n) {
  int i;

  for (i = 0; i < n; i++) {
    cJSON_Delete(p[i].key);
    cJSON_Delete(p[i].now);
    cJSON_Delete(p[i].reason);
  }
  free(p);
}

/* The TransactItems list: 1 to 100 entries. */
static const cJSON *transact_items(ctx_t *c) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->in, "TransactItems");
  int n = cJSON_GetArraySize(list);

  if (!cJSON_IsArray(list) || n < 1 || n > TXN_PARTS) {
    lk_ddb_fail(c, ERR_VALIDATION,
                "1 validation error detected: Value at 'transactItems' failed "
                "to satisfy constraint: Member must have length less than or "
                "equal to %d and greater than or equal to 1",
                TXN_PARTS);
    return NULL;
  }
  return list;
}

/* Which call an entry is: exactly one of the kinds. */
static int kind_of(ctx_t *c, const cJSON *entry, cJSON **in) {
  int k, found = -1;

  for (k = 0; k < N_KINDS; k++)
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(entry, kinds[k]))) {
      if (found >= 0)
        found = N_KINDS;
      else
        found = k;
    }
  if (found < 0 || found == N_KINDS)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "TransactItems can only contain one of Check, Put, "
                       "Update or Delete");
  *in = cJSON_GetObjectItemCaseSensitive(entry, kinds[found]);
  return found;
}

/* The part's table, key and the item there now; no item twice. */
static int locate(ctx_t *c, part_t *p, cJSON *seen) {
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(
      p->in, p->kind == T_PUT ? "Item" : "Key");
  char err[512], *text;
  int dup;

  p->t = lk_ddb_find_table(c->d, lk_json_str(p->in, "TableName"));
  if (p->t == NULL)
    return lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                       "Requested resource not found");
  if (!cJSON_IsObject(body))
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "1 validation error detected: Value null at '%s' "
                       "failed to satisfy constraint: Member must not be null",
                       p->kind == T_PUT ? "item" : "key");
  if (p->kind == T_PUT) {
    p->now = cJSON_Duplicate(body, 1);
    if (lk_ddb_item_check(p->now, err, sizeof(err)) != 0)
      return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
    if (lk_ddb_item_size(p->now) > LK_DDB_MAX_ITEM)
      return lk_ddb_fail(c, ERR_VALIDATION,
                         "Item size has exceeded the maximum allowed size");
    p->key = lk_ddb_table_key_of(p->t->items, p->now);
  } else {
    p->key = cJSON_Duplicate(body, 1);
    if (lk_ddb_item_check(p->key, err, sizeof(err)) != 0)
      return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  }
  if (lk_ddb_table_get(p->t->items, p->key, &p->there, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  text = cJSON_PrintUnformatted(p->key);
  {
    char *where = lk_xasprintf("%s\n%s", p->t->name, text);

    dup = cJSON_GetObjectItemCaseSensitive(seen, where) != NULL;
    cJSON_AddTrueToObject(seen, where);
    free(where);
  }
  free(text);
  if (dup)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Transaction request cannot include multiple "
                       "operations on one item");
  return 0;
}

/* The part's condition on the item there: a reason when it fails. */
static int check(ctx_t *c, part_t *p, const exprs_t *x) {
  const char *rv = lk_json_str(p->in, "ReturnValuesOnConditionCheckFailure");
  char err[512];
  int r;

  if (x->cond == NULL)
    return p->kind == T_CHECK ? lk_ddb_fail(c, ERR_VALIDATION,
                                            "The ConditionCheck must have a "
                                            "ConditionExpression")
                              : 0;
  r = lk_ddb_expr_test(x->cond, p->there, err, sizeof(err));
  if (r < 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  if (r == 0) {
    p->reason = cJSON_CreateObject();
    cJSON_AddStringToObject(p->reason, "Code", "ConditionalCheckFailed");
    cJSON_AddStringToObject(p->reason, "Message",
                            "The conditional request failed");
    if (rv && strcmp(rv, "ALL_OLD") == 0 && p->there)
      cJSON_AddItemToObject(p->reason, "Item", cJSON_Duplicate(p->there, 1));
  }
  return 0;
}

/* What an Update makes the item (from the key when there is none). */
static int update(ctx_t *c, part_t *p, const exprs_t *x) {
  char err[512];

  if (x->update == NULL)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "1 validation error detected: Value null at "
                       "'updateExpression' failed to satisfy constraint: "
                       "Member must not be null");
  p->now = cJSON_Duplicate(p->there ? p->there : p->key, 1);
  if (lk_ddb_expr_update(x->update, p->now, err, sizeof(err)) != 0)
    return lk_ddb_fail(c, ERR_VALIDATION, "%s", err);
  if (lk_ddb_same_key(c, p->t, p->key, p->now))
    return -1;
  if (lk_ddb_item_size(p->now) > LK_DDB_MAX_ITEM)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Item size has exceeded the maximum allowed size");
  return 0;
}

static int plan(ctx_t *c, part_t *p, const cJSON *entry, cJSON *seen) {
  exprs_t x;
  int rc;

  p->kind = kind_of(c, entry, &p->in);
  if (p->kind < 0)
    return -1;
  rc = lk_ddb_parse(c, p->in, &x);
  if (rc == 0)
    rc = locate(c, p, seen);
  if (rc == 0)
    rc = check(c, p, &x);
  if (rc == 0 && p->kind == T_UPDATE && p->reason == NULL)
    rc = update(c, p, &x);
  lk_ddb_exprs_free(&x);
  return rc;
}

/* TransactionCanceledException: a reason for every part, in order. */
static int cancel(ctx_t *c, part_t *p, int n) {
  cJSON *reasons;
  char codes[1024];
  size_t o = 0;
  int i;

  c->err_more = cJSON_CreateObject();
  reasons = cJSON_AddArrayToObject(c->err_more, "CancellationReasons");
  for (i = 0; i < n; i++) {
    cJSON *r = p[i].reason;

    if (r == NULL) {
      r = cJSON_CreateObject();
      cJSON_AddStringToObject(r, "Code", "None");
    }
    p[i].reason = NULL;
    if (o < sizeof(codes))
      o += (size_t)snprintf(codes + o, sizeof(codes) - o, "%s%s", i ? ", " : "",
                            lk_json_str(r, "Code"));
    cJSON_AddItemToArray(reasons, r);
  }
  return lk_ddb_fail(c, ERR_DDB "TransactionCanceledException",
                     "Transaction cancelled, please refer cancellation "
                     "reasons for specific reasons [%s]",
                     codes);
}

/* Room in every stream, and in lambkin's item bytes, for the writes. */
static int room(ctx_t *c, const part_t *p, int n) {
  size_t bytes = 0;
  int i, k, writes;

  for (i = 0; i < n; i++)
    bytes += p[i].now ? lk_ddb_item_size(p[i].now) : 0;
  if (bytes > TXN_BYTES)
    return lk_ddb_fail(c, ERR_VALIDATION,
                       "Transaction size has exceeded the maximum allowed "
                       "size of 4 MB");
  if (lk_ddb_held_bytes(c->d) + bytes > LK_DDB_MAX_BYTES)
    return lk_ddb_fail(c, ERR_DDB "LimitExceededException",
                       "lambkin holds at most %zu MB of items in all tables",
                       LK_DDB_MAX_BYTES >> 20);
  for (i = 0; i < n; i++) {
    for (k = 0, writes = 0; k < n; k++)
      writes += p[k].t == p[i].t && p[k].kind != T_CHECK;
    if (lk_ddb_room(c, p[i].t, writes))
      return -1;
  }
  return 0;
}

static void apply(ctx_t *c, part_t *p) {
  cJSON *old = NULL;
  char err[512];

  if (p->kind == T_CHECK)
    return;
  if (p->now) {
    cJSON *now = p->now;

    p->now = NULL; /* the table's from here on */
    lk_ddb_table_put(p->t->items, now, &old, err, sizeof(err));
    lk_ddb_changed(c->d, p->t, old, now, c->trace);
  } else {
    lk_ddb_table_delete(p->t->items, p->key, &old, err, sizeof(err));
    lk_ddb_changed(c->d, p->t, old, NULL, c->trace);
  }
  cJSON_Delete(old);
}

int lk_ddb_op_transact_write(ctx_t *c) {
  const cJSON *list = transact_items(c), *entry;
  cJSON *seen;
  part_t *p;
  int n = 0, rc = 0, failed = 0, i;

  if (list == NULL)
    return -1;
  p = lk_xcalloc((size_t)cJSON_GetArraySize(list), sizeof(*p));
  seen = cJSON_CreateObject();
  cJSON_ArrayForEach(entry, list) {
    if (rc == 0)
      rc = plan(c, &p[n++], entry, seen);
  }
  cJSON_Delete(seen);
  for (i = 0; rc == 0 && i < n; i++)
    failed |= p[i].reason != NULL;
  if (rc == 0 && failed)
    rc = cancel(c, p, n);
  if (rc == 0)
    rc = room(c, p, n);
  for (i = 0; rc == 0 && i < n; i++)
    apply(c, &p[i]);
  parts_free(p, n);
  return rc;
}

/* ---- TransactGetItems ---- */

static int get_one(ctx_t *c, const cJSON *entry, cJSON *into) {
  cJSON *in = cJSON_GetObjectItemCaseSensitive(entry, "Get");
  const cJSON *item;
  table_t *t;
  cJSON *key, *out;
  char err[512];
  exprs_t x;
  int rc;

  if (!cJSON_IsObject(in))
    return lk_ddb_fail(c, ERR_VALIDATION, "TransactItems can only contain Get");
  t = lk_ddb_find_table(c->d, lk_json_str(in, "TableName"));
  if (t == NULL)
    return lk_ddb_fail(c, ERR_DDB "ResourceNotFoundException",
                       "Requested resource not found");
  key = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "Key"), 1);
  rc = lk_ddb_parse(c, in, &x);
  if (rc == 0 &&
      (!cJSON_IsObject(key) || lk_ddb_item_check(key, err, sizeof(err)) != 0 ||
       lk_ddb_table_get(t->items, key, &item, err, sizeof(err))))
    rc = lk_ddb_fail(c, ERR_VALIDATION, "%s",
                     cJSON_IsObject(key) ? err
                                         : "The provided key element does "
                                           "not match the schema");
  if (rc == 0) {
    out = cJSON_CreateObject();
    if (item)
      cJSON_AddItemToObject(out, "Item",
                            x.proj ? lk_ddb_expr_project(x.proj, item)
                                   : cJSON_Duplicate(item, 1));
    cJSON_AddItemToArray(into, out);
  }
  lk_ddb_exprs_free(&x);
  cJSON_Delete(key);
  return rc;
}

int lk_ddb_op_transact_get(ctx_t *c) {
  const cJSON *list = transact_items(c), *entry;
  cJSON *responses;

  if (list == NULL)
    return -1;
  responses = cJSON_AddArrayToObject(c->out, "Responses");
  cJSON_ArrayForEach(entry, list) {
    if (get_one(c, entry, responses) != 0)
      return -1;
  }
  return 0;
}
