/* The one pseudo-random generator of lambkin (splitmix64): request ids,
 * the fuzzer's choices and its byte mutations all draw from it, each from
 * a state of its own. A state seeded with the same number gives the same
 * sequence, which is what makes `lambkin fuzz --seed N` repeatable. It is
 * not a source of secrets. */
#ifndef LK_RAND_H
#define LK_RAND_H

#include <stdint.h>

typedef struct lk_rand {
  uint64_t s;
} lk_rand_t;

/* Any seed, 0 included, gives a good sequence. */
void lk_rand_seed(lk_rand_t *r, uint64_t seed);
/* A seed from the kernel (getrandom), or from the clock and pid. */
uint64_t lk_rand_kernel_seed(void);
uint64_t lk_rand_next64(lk_rand_t *r);
uint32_t lk_rand_next(lk_rand_t *r);
/* Uniform in [0, n); 0 when n is 0. */
uint32_t lk_rand_below(lk_rand_t *r, uint32_t n);

#endif
