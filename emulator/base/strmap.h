/* A map from strings to 64-bit values: open addressing, linear probing,
 * deletion by backward shift (no tombstones), so a lookup costs a hash and
 * a short probe however many keys came and went. The map owns copies of
 * its keys. */
#ifndef LK_STRMAP_H
#define LK_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lk_strmap lk_strmap_t;

lk_strmap_t *lk_strmap_new(void);
void lk_strmap_free(lk_strmap_t *m);
/* 1 and the value in *val (when val is not NULL) if key is there, else 0. */
int lk_strmap_get(const lk_strmap_t *m, const char *key, uint64_t *val);
/* Sets key to val, adding it when missing. */
void lk_strmap_put(lk_strmap_t *m, const char *key, uint64_t val);
/* Removes key; 1 if it was there. */
int lk_strmap_del(lk_strmap_t *m, const char *key);
size_t lk_strmap_size(const lk_strmap_t *m);

#endif
