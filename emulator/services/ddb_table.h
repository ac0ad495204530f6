/* One DynamoDB table's items, in key order: a treap on (partition key,
 * sort key), so a get, a put and a delete are O(log n) and the items of
 * one partition lie together in sort key order (S and B by their bytes,
 * N by value), as Query reads them. The table owns its items; an item
 * handed in is the table's from then on, and one handed back (the old
 * item of a put or a delete) is the caller's to free. */
#ifndef LK_DDB_TABLE_H
#define LK_DDB_TABLE_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct lk_ddb_key_def {
  char *name;
  char type; /* 'S', 'N' or 'B' */
} lk_ddb_key_def_t;

typedef struct lk_ddb_table lk_ddb_table_t;

/* hash is required; range may be NULL. The names are copied. */
lk_ddb_table_t *lk_ddb_table_new(const lk_ddb_key_def_t *hash,
                                 const lk_ddb_key_def_t *range);
void lk_ddb_table_free(lk_ddb_table_t *t);
const lk_ddb_key_def_t *lk_ddb_table_hash(const lk_ddb_table_t *t);
const lk_ddb_key_def_t *lk_ddb_table_range(const lk_ddb_table_t *t);

/* Stores a checked item in place of the one with its key; *old gets that
 * one or NULL. 0, or -1 with DynamoDB's message in err when the item's
 * key is missing or of the wrong type (the item is then still the
 * caller's). */
int lk_ddb_table_put(lk_ddb_table_t *t, cJSON *item, cJSON **old, char *err,
                     size_t errlen);
/* The item of a key (a map of exactly the key attributes), or NULL. -1
 * with the message in err when the key does not match the schema. */
int lk_ddb_table_get(const lk_ddb_table_t *t, const cJSON *key,
                     const cJSON **item, char *err, size_t errlen);
/* Removes the item of a key; *old gets it or NULL. -1 as for get. */
int lk_ddb_table_delete(lk_ddb_table_t *t, const cJSON *key, cJSON **old,
                        char *err, size_t errlen);
/* The key attributes of an item, as a new map (the caller's). */
cJSON *lk_ddb_table_key_of(const lk_ddb_table_t *t, const cJSON *item);

size_t lk_ddb_table_count(const lk_ddb_table_t *t);
size_t lk_ddb_table_bytes(const lk_ddb_table_t *t);
/* In key order: the first item, and the one after item (NULL at the
 * end). An item's successor is found from its key, so the table may
 * change between calls. */
const cJSON *lk_ddb_table_first(const lk_ddb_table_t *t);
const cJSON *lk_ddb_table_next(const lk_ddb_table_t *t, const cJSON *item);
/* The one before item's key, NULL at the start. */
const cJSON *lk_ddb_table_prev(const lk_ddb_table_t *t, const cJSON *item);
/* Within the partition of hash: the first item whose sort key is at
 * least range (NULL: the partition's first), or, with last, the last
 * whose sort key is at most range (NULL: the partition's last); NULL
 * when there is none, or a value is not of its key's type. O(log n). */
const cJSON *lk_ddb_table_bound(const lk_ddb_table_t *t, const cJSON *hash,
                                const cJSON *range, int last);

/* ---- indexes ---- */

/* An index of table (a global or local secondary index): the table's
 * items that have its key attributes, in the order of its key, equal
 * keys in the order of their table key. It borrows the items: the table
 * owns them, and an item must leave the index before the table frees
 * it. lk_ddb_table_bound, _first, _next and _prev read it (next and prev
 * take an item, or a key with the index's and the table's attributes,
 * as an ExclusiveStartKey has them); lk_ddb_table_count counts it. */
lk_ddb_table_t *lk_ddb_index_new(const lk_ddb_table_t *table,
                                 const lk_ddb_key_def_t *hash,
                                 const lk_ddb_key_def_t *range);
/* An item of the table into the index (none without its attributes), and
 * out of it. */
void lk_ddb_index_add(lk_ddb_table_t *ix, const cJSON *item);
void lk_ddb_index_remove(lk_ddb_table_t *ix, const cJSON *item);

#endif
