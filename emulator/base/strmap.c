/* String map (see strmap.h). */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strmap.h"

typedef struct slot {
  char *key; /* NULL: empty */
  uint64_t val;
  uint64_t hash;
} slot_t;

struct lk_strmap {
  slot_t *slots;
  size_t cap; /* a power of two */
  size_t n;
};

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

lk_strmap_t *lk_strmap_new(void) {
  lk_strmap_t *m = lk_xcalloc(1, sizeof(*m));

  m->cap = 16;
  m->slots = lk_xcalloc(m->cap, sizeof(*m->slots));
  return m;
}

void lk_strmap_free(lk_strmap_t *m) {
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->cap; i++)
    free(m->slots[i].key);
  free(m->slots);
  free(m);
}

/* The slot of key, or the empty one where it would go. */
static size_t find(const lk_strmap_t *m, const char *key, uint64_t h) {
  size_t i = (size_t)h & (m->cap - 1);

  while (m->slots[i].key &&
         (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
    i = (i + 1) & (m->cap - 1);
  return i;
}

static void grow(lk_strmap_t *m) {
  slot_t *old = m->slots;
  size_t n = m->cap, i;

  m->cap *= 2;
  m->slots = lk_xcalloc(m->cap, sizeof(*m->slots));
  for (i = 0; i < n; i++)
    if (old[i].key)
      m->slots[find(m, old[i].key, old[i].hash)] = old[i];
  free(old);
}

int lk_strmap_get(const lk_strmap_t *m, const char *key, uint64_t *val) {
  size_t i = find(m, key, hash(key));

  if (m->slots[i].key == NULL)
    return 0;
  if (val)
    *val = m->slots[i].val;
  return 1;
}

void lk_strmap_put(lk_strmap_t *m, const char *key, uint64_t val) {
  uint64_t h = hash(key);
  size_t i;

  if (2 * (m->n + 1) > m->cap)
    grow(m);
  i = find(m, key, h);
  if (m->slots[i].key == NULL) {
    m->slots[i].key = lk_xstrdup(key);
    m->slots[i].hash = h;
    m->n++;
  }
  m->slots[i].val = val;
}

int lk_strmap_del(lk_strmap_t *m, const char *key) {
  size_t mask = m->cap - 1, i = find(m, key, hash(key)), j, home;

  if (m->slots[i].key == NULL)
    return 0;
  free(m->slots[i].key);
  m->slots[i].key = NULL;
  m->n--;
  /* Backward shift: move up each later entry of the run that may fill
   * the hole without leaving its home behind. */
  for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
    home = (size_t)m->slots[j].hash & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->slots[i] = m->slots[j];
      m->slots[j].key = NULL;
      i = j;
    }
  }
  return 1;
}

size_t lk_strmap_size(const lk_strmap_t *m) {
  return m->n;
}
