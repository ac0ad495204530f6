/* DynamoDB's Query and Scan (see ddb_int.h): a reader walks a table (or a
 * partition of it) in key order, or an index's items sorted, and answers
 * a page of what passes the key condition and the filter. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb_int.h"
#include "ddb_value.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

/* ---- Query and Scan ---- */

#define PAGE_BYTES (1024 * 1024) /* DynamoDB's 1 MB page */

typedef struct reader {
  ctx_t *c;
  table_t *t;
  exprs_t x;
  const cJSON *index; /* the GSI or LSI named by IndexName, or NULL */
  const char *ix_hash, *ix_range; /* its key attributes */
  const lk_ddb_table_t *tree;     /* what a Query walks: index or items */
  long limit;
  int count_only, segment, segments;
  const cJSON *start; /* ExclusiveStartKey */
  cJSON *items;
  long count, scanned;
  size_t bytes;
  const cJSON *last; /* the last item read, for LastEvaluatedKey */
  int filter_failed;
} reader_t;

static const char *key_attr(const cJSON *ks, const char *type) {
  const cJSON *k;

  cJSON_ArrayForEach(k, ks) {
    if (strcmp(lk_json_str(k, "KeyType") ? lk_json_str(k, "KeyType") : "",
               type) == 0)
      return lk_json_str(k, "AttributeName");
  }
  return NULL;
}

static int find_index(reader_t *r) {
  const char *name = lk_json_str(r->c->in, "IndexName");
  static const char *const kinds[] = {"GlobalSecondaryIndexes",
                                      "LocalSecondaryIndexes", NULL};
  const cJSON *ix;
  int i;

  r->tree = r->t->items;
  if (name == NULL)
    return 0;
  for (i = 0; kinds[i]; i++)
    cJSON_ArrayForEach(ix,
                       cJSON_GetObjectItemCaseSensitive(r->t->spec, kinds[i])) {
      if (strcmp(lk_json_str(ix, "IndexName") ? lk_json_str(ix, "IndexName")
                                              : "",
                 name) == 0) {
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(ix, "KeySchema");

        r->index = ix;
        r->ix_hash = key_attr(ks, "HASH");
        r->ix_range = key_attr(ks, "RANGE");
        r->tree = lk_ddb_index_of(r->t, name);
        return 0;
      }
    }
  return lk_ddb_fail(r->c, ERR_VALIDATION,
                     "The table does not have the specified index: %.255s",
                     name);
}

/* The item's key as LastEvaluatedKey gives it: the table's key, and the
 * index's too when reading one. */
static cJSON *eval_key(const reader_t *r, const cJSON *item) {
  cJSON *k = lk_ddb_table_key_of(r->t->items, item);
  const char *names[2] = {r->ix_hash, r->ix_range};
  int i;

  for (i = 0; r->index && i < 2; i++)
    if (names[i] && !cJSON_GetObjectItemCaseSensitive(k, names[i]))
      cJSON_AddItemToObject(
          k, names[i],
          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(item, names[i]), 1));
  return k;
}

/* One item read: counted, filtered, kept. 0 to go on, 1 when the page is
 * full (Limit or 1 MB) after it. */
static int take_item(reader_t *r, const cJSON *item) {
  char err[512];
  int keep = 1;

  r->scanned++;
  r->last = item;
  r->bytes += lk_ddb_item_size(item);
  if (r->filter_failed)
    return 1;
  if (r->x.filter) {
    keep = lk_ddb_expr_test(r->x.filter, item, err, sizeof(err));
    if (keep < 0) {
      lk_ddb_fail(r->c, ERR_VALIDATION, "%s", err);
      r->filter_failed = 1;
      return 1;
    }
  }
  if (keep) {
    r->count++;
    if (!r->count_only)
      cJSON_AddItemToArray(r->items, r->x.proj
                                         ? lk_ddb_expr_project(r->x.proj, item)
                                         : cJSON_Duplicate(item, 1));
  }
  return (r->limit > 0 && r->scanned >= r->limit) || r->bytes >= PAGE_BYTES;
}
static int reader_open(reader_t *r, ctx_t *c) {
  const char *select = lk_json_str(c->in, "Select");

  memset(r, 0, sizeof(*r));
  r->c = c;
  r->t = lk_ddb_need_table(c);
  if (r->t == NULL)
    return -1;
  if (lk_ddb_parse_exprs(c, &r->x)) {
    lk_ddb_exprs_free(&r->x);
    return -1;
  }
  r->limit = lk_json_long(c->in, "Limit", 0);
  r->count_only = select && strcmp(select, "COUNT") == 0;
  r->start = cJSON_GetObjectItemCaseSensitive(c->in, "ExclusiveStartKey");
  r->items = cJSON_CreateArray();
  if (cJSON_GetObjectItemCaseSensitive(c->in, "Limit") && r->limit < 1) {
    lk_ddb_fail(
        c, ERR_VALIDATION,
        "1 validation error detected: Value '%ld' at 'limit' failed to "
        "satisfy constraint: Member must have value greater than or equal "
        "to 1",
        r->limit);
    return -1;
  }
  return find_index(r);
}

/* The page's answer: Items, Count, ScannedCount, LastEvaluatedKey when
 * it stopped before the end (more is the next item, or NULL). */
static void reader_answer(reader_t *r, int stopped, int more) {
  ctx_t *c = r->c;

  if (c->err_type == NULL) {
    if (!r->count_only)
      cJSON_AddItemToObject(c->out, "Items", r->items);
    else
      cJSON_Delete(r->items);
    r->items = NULL;
    cJSON_AddNumberToObject(c->out, "Count", (double)r->count);
    cJSON_AddNumberToObject(c->out, "ScannedCount", (double)r->scanned);
    if (stopped && more && r->last)
      cJSON_AddItemToObject(c->out, "LastEvaluatedKey", eval_key(r, r->last));
  }
  cJSON_Delete(r->items);
  lk_ddb_exprs_free(&r->x);
}

/* 1 when item has the index's key attributes (an index holds only
 * those items), or when no index is read. */
static int in_index(const reader_t *r, const cJSON *item) {
  return r->index == NULL ||
         (cJSON_GetObjectItemCaseSensitive(item, r->ix_hash) &&
          (r->ix_range == NULL ||
           cJSON_GetObjectItemCaseSensitive(item, r->ix_range)));
}

/* 1 when item's table key is the same as key's. */
static int same_item(const reader_t *r, const cJSON *item, const cJSON *key) {
  const lk_ddb_key_def_t *k[2] = {lk_ddb_table_hash(r->t->items),
                                  lk_ddb_table_range(r->t->items)};
  int i;

  for (i = 0; i < 2 && k[i]; i++)
    if (!lk_ddb_value_eq(cJSON_GetObjectItemCaseSensitive(item, k[i]->name),
                         cJSON_GetObjectItemCaseSensitive(key, k[i]->name)))
      return 0;
  return 1;
}

/* Where reading resumes: after the candidate ExclusiveStartKey names.
 * When that item is gone (a scan that deletes what it reads) and the
 * candidates are in the table's order, after where it was: the table
 * finds the item after a key that is not there. */
static size_t resume_at(const reader_t *r, const cJSON **cands, size_t n,
                        int table_order) {
  const cJSON *after, *it;
  size_t k;

  for (k = 0; k < n; k++)
    if (same_item(r, cands[k], r->start))
      return k + 1;
  if (!table_order)
    return 0;
  /* the candidates are a subsequence of the table: count those before */
  after = lk_ddb_table_next(r->t->items, r->start);
  k = 0;
  for (it = lk_ddb_table_first(r->t->items); it && it != after && k < n;
       it = lk_ddb_table_next(r->t->items, it))
    k += cands[k] == it;
  return k;
}

/* Reads the candidates in order from after ExclusiveStartKey. */
static void read_page(reader_t *r, const cJSON **cands, size_t n,
                      int table_order) {
  size_t i = r->start ? resume_at(r, cands, n, table_order) : 0;
  int stopped = 0;

  for (; i < n && !stopped; i++)
    stopped = take_item(r, cands[i]);
  reader_answer(r, stopped, i < n);
}

/* Query: the hash key's equality, and at most one condition on the range
 * key, as KeyConditionExpression allows. */
typedef struct keyq {
  const reader_t *r;
  const char *hash, *range;
  const cJSON *value;   /* the partition's */
  const char *range_op; /* the sort key's condition, or NULL */
  const cJSON *lo, *hi; /* where it starts and ends (NULL: open) */
  int bad;
  char why[300];
} keyq_t;

/* Where a sort key condition starts and ends in key order. */
static void range_bounds(keyq_t *q, const char *op, const cJSON *v,
                         const cJSON *v2) {
  q->range_op = op;
  if (strcmp(op, "=") == 0) {
    q->lo = q->hi = v;
  } else if (op[0] == '<') {
    q->hi = v;
  } else if (op[0] == '>' || strcmp(op, "begins_with") == 0) {
    q->lo = v;
  } else if (strcmp(op, "BETWEEN") == 0) {
    q->lo = v;
    q->hi = v2;
  }
}

/* The type AttributeDefinitions gives a key attribute ("S" if none). */
static const char *attr_type(const reader_t *r, const char *name) {
  const cJSON *defs =
      cJSON_GetObjectItemCaseSensitive(r->t->spec, "AttributeDefinitions");
  const cJSON *d;

  cJSON_ArrayForEach(d, defs) {
    if (name && lk_json_str(d, "AttributeName") &&
        lk_json_str(d, "AttributeType") &&
        strcmp(lk_json_str(d, "AttributeName"), name) == 0)
      return lk_json_str(d, "AttributeType");
  }
  return "S";
}

static void key_term(void *ud, const char *attr, const char *op, int simple,
                     const cJSON *value, const cJSON *value2) {
  keyq_t *q = ud;
  const char *type = value ? lk_ddb_type(value) : NULL;

  if (q->bad)
    return;
  if (simple && type && strcmp(type, attr_type(q->r, attr)) != 0 &&
      (strcmp(attr, q->hash) == 0 ||
       (q->range && strcmp(attr, q->range) == 0))) {
    q->bad = 1;
    snprintf(q->why, sizeof(q->why),
             "One or more parameter values were invalid: Condition "
             "parameter type does not match schema type");
  } else if (simple && strcmp(attr, q->hash) == 0 && strcmp(op, "=") == 0 &&
             q->value == NULL) {
    q->value = value;
  } else if (!simple || q->range == NULL || strcmp(attr, q->range) != 0 ||
             q->range_op) {
    q->bad = 1;
    snprintf(q->why, sizeof(q->why), "Query key condition not supported");
  } else {
    range_bounds(q, op, value, value2);
  }
}

/* Can an item that fails the condition come before the first that
 * meets it? Only one equal to the bound a strict > (forwards) or <
 * (backwards) leaves out; begins_with backwards starts at the
 * partition's end. */
static int may_skip(const keyq_t *q, int forward) {
  const char *op = q->range_op ? q->range_op : "";

  return forward ? strcmp(op, ">") == 0
                 : strcmp(op, "<") == 0 || strcmp(op, "begins_with") == 0;
}

/* A Query, of the table or of an index: the items meeting a key
 * condition lie together in key order, so it walks from where they start
 * (ends, backwards) and stops where they end or the page is full:
 * O(log n + the page), whatever the partition holds. */
static void query_table(reader_t *r, const keyq_t *q, int forward) {
  const lk_ddb_table_t *items = r->tree;
  const char *hash = q->hash;
  const cJSON *it;
  char err[256];
  int started = 0, stopped = 0;

  if (r->start) /* after ExclusiveStartKey, there or gone */
    it = forward ? lk_ddb_table_next(items, r->start)
                 : lk_ddb_table_prev(items, r->start);
  else if (forward)
    it = lk_ddb_table_bound(items, q->value, q->lo, 0);
  else
    it = lk_ddb_table_bound(
        items, q->value,
        strcmp(q->range_op ? q->range_op : "", "begins_with") ? q->hi : NULL,
        1);
  while (it && !stopped) {
    if (!lk_ddb_value_eq(cJSON_GetObjectItemCaseSensitive(it, hash), q->value))
      break; /* past the partition */
    if (lk_ddb_expr_test(r->x.key, it, err, sizeof(err)) == 1) {
      started = 1;
      stopped = take_item(r, it);
    } else if (started || !may_skip(q, forward)) {
      break;
    }
    it = forward ? lk_ddb_table_next(items, it) : lk_ddb_table_prev(items, it);
  }
  /* LastEvaluatedKey only when the next item would have been read */
  reader_answer(r, stopped,
                it &&
                    lk_ddb_value_eq(cJSON_GetObjectItemCaseSensitive(it, hash),
                                    q->value) &&
                    lk_ddb_expr_test(r->x.key, it, err, sizeof(err)) == 1);
}

int lk_ddb_op_query(ctx_t *c) {
  const cJSON *fwd =
      cJSON_GetObjectItemCaseSensitive(c->in, "ScanIndexForward");
  reader_t r;
  keyq_t q = {0};

  q.r = &r;
  if (reader_open(&r, c) != 0) {
    if (r.items)
      reader_answer(&r, 0, 0);
    return -1;
  }
  if (r.x.key == NULL) {
    lk_ddb_fail(
        c, ERR_VALIDATION,
        "Either the KeyConditions or KeyConditionExpression parameter must "
        "be specified in the request.");
    reader_answer(&r, 0, 0);
    return -1;
  }
  q.hash = r.index ? r.ix_hash : lk_ddb_table_hash(r.t->items)->name;
  q.range = r.index ? r.ix_range
            : lk_ddb_table_range(r.t->items)
                ? lk_ddb_table_range(r.t->items)->name
                : NULL;
  lk_ddb_expr_terms(r.x.key, key_term, &q);
  if (q.bad || q.value == NULL) {
    lk_ddb_fail(c, ERR_VALIDATION, "%s",
                q.bad ? q.why : "Query condition missed key schema element");
    if (!q.bad)
      snprintf(c->err_msg, sizeof(c->err_msg),
               "Query condition missed key schema element: %s", q.hash);
    reader_answer(&r, 0, 0);
    return -1;
  }
  query_table(&r, &q, !cJSON_IsFalse(fwd));
  return c->err_type ? -1 : 0;
}

/* Which of TotalSegments an item falls in: by its partition key. */
static int segment_of(const reader_t *r, const cJSON *item) {
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(
      item, lk_ddb_table_hash(r->t->items)->name);
  const char *s = h && lk_ddb_payload(h) && lk_ddb_payload(h)->valuestring
                      ? lk_ddb_payload(h)->valuestring
                      : "";
  unsigned h32 = 2166136261u;

  for (; *s; s++)
    h32 = (h32 ^ (unsigned char)*s) * 16777619u;
  return (int)(h32 % (unsigned)r->segments);
}

int lk_ddb_op_scan(ctx_t *c) {
  const cJSON **cands, *it;
  size_t n = 0, cap = 64;
  reader_t r;

  if (reader_open(&r, c) != 0) {
    if (r.items)
      reader_answer(&r, 0, 0);
    return -1;
  }
  r.segments = (int)lk_json_long(c->in, "TotalSegments", 1);
  r.segment = (int)lk_json_long(c->in, "Segment", 0);
  if (r.segments < 1 || r.segments > 1000000 || r.segment < 0 ||
      r.segment >= r.segments) {
    lk_ddb_fail(c, ERR_VALIDATION,
                "The Segment parameter is zero-based and must be less than "
                "parameter TotalSegments");
    reader_answer(&r, 0, 0);
    return -1;
  }
  cands = lk_xmalloc(cap * sizeof(*cands));
  for (it = lk_ddb_table_first(r.t->items); it;
       it = lk_ddb_table_next(r.t->items, it)) {
    if (!in_index(&r, it) ||
        (r.segments > 1 && segment_of(&r, it) != r.segment))
      continue;
    if (n == cap)
      cands = lk_xrealloc(cands, (cap *= 2) * sizeof(*cands));
    cands[n++] = it;
  }
  read_page(&r, cands, n, r.index == NULL);
  free(cands);
  return c->err_type ? -1 : 0;
}
