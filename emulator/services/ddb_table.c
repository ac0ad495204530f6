/* A DynamoDB table's items in a treap (see ddb_table.h). Each node keeps
 * its item's key in raw form: the string of an S, the canonical text of
 * an N, the decoded bytes of a B. Priorities come from a xorshift of the
 * table's own, so the shape does not depend on the order keys come in. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "ddb_table.h"
#include "ddb_value.h"
#include "mem.h"

typedef struct raw {
  char *p;
  size_t n;
} raw_t;

typedef struct node {
  struct node *l, *r;
  uint32_t prio;
  cJSON *item;
  raw_t pk, sk;
  raw_t tie; /* an index's: the item's table key, which orders equal keys */
  size_t bytes;
} node_t;

struct lk_ddb_table {
  lk_ddb_key_def_t hash, range;
  int has_range;
  const lk_ddb_table_t *of; /* an index: the table whose items it borrows */
  node_t *root;
  size_t count, bytes;
  uint64_t rng;
};

lk_ddb_table_t *lk_ddb_table_new(const lk_ddb_key_def_t *hash,
                                 const lk_ddb_key_def_t *range) {
  lk_ddb_table_t *t = lk_xcalloc(1, sizeof(*t));

  t->hash.name = lk_xstrdup(hash->name);
  t->hash.type = hash->type;
  if (range) {
    t->range.name = lk_xstrdup(range->name);
    t->range.type = range->type;
    t->has_range = 1;
  }
  t->rng = 0x9e3779b97f4a7c15ULL;
  return t;
}

static void node_free(node_t *n, int owns) {
  if (n == NULL)
    return;
  node_free(n->l, owns);
  node_free(n->r, owns);
  if (owns)
    cJSON_Delete(n->item);
  free(n->pk.p);
  free(n->sk.p);
  free(n->tie.p);
  free(n);
}

void lk_ddb_table_free(lk_ddb_table_t *t) {
  if (t == NULL)
    return;
  node_free(t->root, t->of == NULL);
  free(t->hash.name);
  free(t->range.name);
  free(t);
}

const lk_ddb_key_def_t *lk_ddb_table_hash(const lk_ddb_table_t *t) {
  return &t->hash;
}

const lk_ddb_key_def_t *lk_ddb_table_range(const lk_ddb_table_t *t) {
  return t->has_range ? &t->range : NULL;
}

size_t lk_ddb_table_count(const lk_ddb_table_t *t) {
  return t->count;
}

size_t lk_ddb_table_bytes(const lk_ddb_table_t *t) {
  return t->bytes;
}

/* ---- keys ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* The raw form of a key attribute of type `type`; -1 when v is not one. */
static int raw_of(const cJSON *v, char type, raw_t *out) {
  const char *t = lk_ddb_type(v);
  const cJSON *p = lk_ddb_payload(v);
  char want[2] = {type, '\0'};
  lk_buf_t b;

  if (t == NULL || strcmp(t, want) != 0 || !cJSON_IsString(p))
    return -1;
  if (type != 'B') {
    out->n = strlen(p->valuestring);
    out->p = lk_xstrdup(p->valuestring);
    return 0;
  }
  lk_buf_init(&b, strlen(p->valuestring) + 4);
  if (lk_b64_decode(&b, p->valuestring, strlen(p->valuestring)) != 0) {
    lk_buf_free(&b);
    return -1;
  }
  out->n = b.len;
  out->p = lk_xmalloc(b.len + 1);
  memcpy(out->p, b.data ? b.data : "", b.len);
  lk_buf_free(&b);
  return 0;
}

static const char *type_name(const cJSON *v) {
  const char *t = lk_ddb_type(v);

  return t ? t : "?";
}

/* One key attribute of an item; DynamoDB's message when it is missing,
 * of another type, or an empty string or binary. */
static int key_part(const lk_ddb_key_def_t *d, const cJSON *item, raw_t *out,
                    char *err, size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, d->name);
  char want[2] = {d->type, '\0'};

  if (v == NULL)
    return fail(err, errlen,
                "One or more parameter values were invalid: Missing the key "
                "%s in the item",
                d->name);
  if (raw_of(v, d->type, out) != 0)
    return fail(err, errlen,
                "One or more parameter values were invalid: Type mismatch "
                "for key %s expected: %s actual: %s",
                d->name, want, type_name(v));
  if (out->n == 0) {
    free(out->p);
    out->p = NULL;
    return fail(err, errlen,
                "One or more parameter values are not valid. The "
                "AttributeValue for a key attribute cannot contain an empty "
                "%s value. Key: %s",
                d->type == 'B' ? "binary" : "string", d->name);
  }
  return 0;
}

static int key_of(const lk_ddb_table_t *t, const cJSON *item, raw_t *pk,
                  raw_t *sk, raw_t *tie, char *err, size_t errlen);

/* An index entry's tie: the item's table key, its partition key's
 * length first, so that two keys never run together. */
static int tie_of(const lk_ddb_table_t *table, const cJSON *item, raw_t *tie,
                  char *err, size_t errlen) {
  raw_t pk, sk;

  if (key_of(table, item, &pk, &sk, NULL, err, errlen) != 0)
    return -1;
  tie->n = 4 + pk.n + sk.n;
  tie->p = lk_xmalloc(tie->n + 1);
  tie->p[0] = (char)(pk.n >> 24);
  tie->p[1] = (char)(pk.n >> 16);
  tie->p[2] = (char)(pk.n >> 8);
  tie->p[3] = (char)pk.n;
  memcpy(tie->p + 4, pk.p, pk.n);
  if (sk.n)
    memcpy(tie->p + 4 + pk.n, sk.p, sk.n);
  free(pk.p);
  free(sk.p);
  return 0;
}

/* An item's key in t; an index's also has its tie (tie NULL: none
 * wanted). */
static int key_of(const lk_ddb_table_t *t, const cJSON *item, raw_t *pk,
                  raw_t *sk, raw_t *tie, char *err, size_t errlen) {
  memset(pk, 0, sizeof(*pk));
  memset(sk, 0, sizeof(*sk));
  if (tie)
    memset(tie, 0, sizeof(*tie));
  if (key_part(&t->hash, item, pk, err, errlen) != 0)
    return -1;
  if ((t->has_range && key_part(&t->range, item, sk, err, errlen) != 0) ||
      (tie && t->of && tie_of(t->of, item, tie, err, errlen) != 0)) {
    free(pk->p);
    free(sk->p);
    return -1;
  }
  return 0;
}

/* A key given alone (GetItem, DeleteItem): exactly the key attributes. */
static int lookup_key(const lk_ddb_table_t *t, const cJSON *key, raw_t *pk,
                      raw_t *sk, char *err, size_t errlen) {
  if (!cJSON_IsObject(key) || cJSON_GetArraySize(key) != 1 + t->has_range ||
      key_of(t, key, pk, sk, NULL, err, errlen) != 0)
    return fail(err, errlen,
                "The provided key element does not match the schema");
  return 0;
}

static int raw_cmp(const raw_t *a, const raw_t *b) {
  int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);

  return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* (pk, sk) against n's key; in an index, equal keys are then ordered by
 * their tie (tie NULL: equal keys compare equal). */
static int cmp(const lk_ddb_table_t *t, const raw_t *pk, const raw_t *sk,
               const raw_t *tie, const node_t *n) {
  int c = raw_cmp(pk, &n->pk);

  if (c == 0 && t->has_range)
    c = t->range.type == 'N' ? lk_ddb_num_cmp(sk->p, n->sk.p)
                             : raw_cmp(sk, &n->sk);
  if (c == 0 && t->of && tie)
    c = raw_cmp(tie, &n->tie);
  return c;
}

cJSON *lk_ddb_table_key_of(const lk_ddb_table_t *t, const cJSON *item) {
  cJSON *k = cJSON_CreateObject();
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, t->hash.name);

  if (v)
    cJSON_AddItemToObject(k, t->hash.name, cJSON_Duplicate(v, 1));
  v = t->has_range ? cJSON_GetObjectItemCaseSensitive(item, t->range.name)
                   : NULL;
  if (v)
    cJSON_AddItemToObject(k, t->range.name, cJSON_Duplicate(v, 1));
  return k;
}

/* ---- the treap ---- */

static uint32_t next_prio(lk_ddb_table_t *t) {
  t->rng ^= t->rng << 13;
  t->rng ^= t->rng >> 7;
  t->rng ^= t->rng << 17;
  return (uint32_t)(t->rng >> 32);
}

static node_t *rot_right(node_t *n) {
  node_t *l = n->l;

  n->l = l->r;
  l->r = n;
  return l;
}

static node_t *rot_left(node_t *n) {
  node_t *r = n->r;

  n->r = r->l;
  r->l = n;
  return r;
}

/* Inserts nn, or swaps its item into the node of the same key (the old
 * item goes to *old and nn is freed). */
static node_t *insert(lk_ddb_table_t *t, node_t *n, node_t *nn, cJSON **old) {
  int c;

  if (n == NULL)
    return nn;
  c = cmp(t, &nn->pk, &nn->sk, &nn->tie, n);
  if (c == 0) {
    *old = n->item;
    t->bytes -= n->bytes;
    n->item = nn->item;
    n->bytes = nn->bytes;
    nn->item = NULL;
    node_free(nn, 0);
    return n;
  }
  if (c < 0) {
    n->l = insert(t, n->l, nn, old);
    if (n->l->prio > n->prio)
      n = rot_right(n);
  } else {
    n->r = insert(t, n->r, nn, old);
    if (n->r->prio > n->prio)
      n = rot_left(n);
  }
  return n;
}

int lk_ddb_table_put(lk_ddb_table_t *t, cJSON *item, cJSON **old, char *err,
                     size_t errlen) {
  node_t *nn = lk_xcalloc(1, sizeof(*nn));
  size_t size = lk_ddb_item_size(item);

  *old = NULL;
  if (key_of(t, item, &nn->pk, &nn->sk, &nn->tie, err, errlen) != 0) {
    free(nn);
    return -1;
  }
  nn->item = item;
  nn->bytes = size;
  nn->prio = next_prio(t);
  t->root = insert(t, t->root, nn, old); /* nn may be gone after */
  t->bytes += size;
  if (*old == NULL)
    t->count++;
  return 0;
}

static node_t *find(const lk_ddb_table_t *t, const raw_t *pk, const raw_t *sk) {
  node_t *n = t->root;

  while (n) {
    int c = cmp(t, pk, sk, NULL, n);

    if (c == 0)
      return n;
    n = c < 0 ? n->l : n->r;
  }
  return NULL;
}

int lk_ddb_table_get(const lk_ddb_table_t *t, const cJSON *key,
                     const cJSON **item, char *err, size_t errlen) {
  raw_t pk, sk;
  node_t *n;

  *item = NULL;
  if (lookup_key(t, key, &pk, &sk, err, errlen) != 0)
    return -1;
  n = find(t, &pk, &sk);
  *item = n ? n->item : NULL;
  free(pk.p);
  free(sk.p);
  return 0;
}

/* Removes the node of the key below n; it goes to *out. */
static node_t *erase(const lk_ddb_table_t *t, node_t *n, const raw_t *pk,
                     const raw_t *sk, const raw_t *tie, node_t **out) {
  int c;

  if (n == NULL)
    return NULL;
  c = cmp(t, pk, sk, tie, n);
  if (c < 0) {
    n->l = erase(t, n->l, pk, sk, tie, out);
    return n;
  }
  if (c > 0) {
    n->r = erase(t, n->r, pk, sk, tie, out);
    return n;
  }
  if (n->l == NULL || n->r == NULL) {
    node_t *child = n->l ? n->l : n->r;

    n->l = n->r = NULL;
    *out = n;
    return child;
  }
  if (n->l->prio > n->r->prio) {
    n = rot_right(n);
    n->r = erase(t, n->r, pk, sk, tie, out);
  } else {
    n = rot_left(n);
    n->l = erase(t, n->l, pk, sk, tie, out);
  }
  return n;
}

int lk_ddb_table_delete(lk_ddb_table_t *t, const cJSON *key, cJSON **old,
                        char *err, size_t errlen) {
  node_t *gone = NULL;
  raw_t pk, sk;

  *old = NULL;
  if (lookup_key(t, key, &pk, &sk, err, errlen) != 0)
    return -1;
  t->root = erase(t, t->root, &pk, &sk, NULL, &gone);
  if (gone) {
    *old = gone->item;
    gone->item = NULL;
    t->count--;
    t->bytes -= gone->bytes;
    node_free(gone, 0);
  }
  free(pk.p);
  free(sk.p);
  return 0;
}

const cJSON *lk_ddb_table_first(const lk_ddb_table_t *t) {
  node_t *n = t->root;

  while (n && n->l)
    n = n->l;
  return n ? n->item : NULL;
}

const cJSON *lk_ddb_table_next(const lk_ddb_table_t *t, const cJSON *item) {
  node_t *n = t->root, *best = NULL;
  raw_t pk, sk, tie;
  char err[8];

  if (key_of(t, item, &pk, &sk, &tie, err, sizeof(err)) != 0)
    return NULL;
  while (n) {
    if (cmp(t, &pk, &sk, &tie, n) < 0) {
      best = n;
      n = n->l;
    } else {
      n = n->r;
    }
  }
  free(pk.p);
  free(sk.p);
  free(tie.p);
  return best ? best->item : NULL;
}

const cJSON *lk_ddb_table_prev(const lk_ddb_table_t *t, const cJSON *item) {
  node_t *n = t->root, *best = NULL;
  raw_t pk, sk, tie;
  char err[8];

  if (key_of(t, item, &pk, &sk, &tie, err, sizeof(err)) != 0)
    return NULL;
  while (n) {
    if (cmp(t, &pk, &sk, &tie, n) > 0) {
      best = n;
      n = n->r;
    } else {
      n = n->l;
    }
  }
  free(pk.p);
  free(sk.p);
  free(tie.p);
  return best ? best->item : NULL;
}

/* Where (pk, sk) falls against node n; sk NULL stands below every sort
 * key of pk's partition (last: above every one). */
static int cmp_bound(const lk_ddb_table_t *t, const raw_t *pk, const raw_t *sk,
                     int last, const node_t *n) {
  int c = raw_cmp(pk, &n->pk);

  if (c || !t->has_range)
    return c;
  if (sk == NULL)
    return last ? 1 : -1;
  return cmp(t, pk, sk, NULL, n);
}

const cJSON *lk_ddb_table_bound(const lk_ddb_table_t *t, const cJSON *hash,
                                const cJSON *range, int last) {
  node_t *n = t->root, *best = NULL;
  raw_t pk, sk = {NULL, 0};

  if (raw_of(hash, t->hash.type, &pk) != 0)
    return NULL;
  if (range && (!t->has_range || raw_of(range, t->range.type, &sk) != 0)) {
    free(pk.p);
    return NULL;
  }
  while (n) {
    int c = cmp_bound(t, &pk, range ? &sk : NULL, last, n);

    if (last ? c >= 0 : c <= 0) { /* n is on the bound's side */
      best = n;
      n = last ? n->r : n->l;
    } else {
      n = last ? n->l : n->r;
    }
  }
  if (best && raw_cmp(&pk, &best->pk) != 0)
    best = NULL; /* the nearest item is in another partition */
  free(pk.p);
  free(sk.p);
  return best ? best->item : NULL;
}

/* ---- indexes ---- */

lk_ddb_table_t *lk_ddb_index_new(const lk_ddb_table_t *table,
                                 const lk_ddb_key_def_t *hash,
                                 const lk_ddb_key_def_t *range) {
  lk_ddb_table_t *ix = lk_ddb_table_new(hash, range);

  ix->of = table;
  return ix;
}

void lk_ddb_index_add(lk_ddb_table_t *ix, const cJSON *item) {
  cJSON *same = NULL;
  char err[256];

  /* an item without the index's key attributes is not in it */
  if (lk_ddb_table_put(ix, (cJSON *)item, &same, err, sizeof(err)) == 0)
    ix->bytes = 0; /* an index counts entries, not bytes */
}

void lk_ddb_index_remove(lk_ddb_table_t *ix, const cJSON *item) {
  node_t *gone = NULL;
  raw_t pk, sk, tie;
  char err[256];

  if (key_of(ix, item, &pk, &sk, &tie, err, sizeof(err)) != 0)
    return;
  ix->root = erase(ix, ix->root, &pk, &sk, &tie, &gone);
  if (gone) {
    ix->count--;
    node_free(gone, 0);
  }
  free(pk.p);
  free(sk.p);
  free(tie.p);
}
