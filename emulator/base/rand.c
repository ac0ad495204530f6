/* splitmix64 (Steele, Lea and Flood), the generator of rand.h. */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rand.h"

void lk_rand_seed(lk_rand_t *r, uint64_t seed) {
  r->s = seed;
}

uint64_t lk_rand_kernel_seed(void) {
  uint64_t seed = 0;
  struct timespec ts;

  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
    return seed;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^
         ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec;
}

uint64_t lk_rand_next64(lk_rand_t *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint32_t lk_rand_next(lk_rand_t *r) {
  return (uint32_t)(lk_rand_next64(r) >> 32);
}

/* Lemire's multiply-shift: no division, and the bias for n far below
 * 2^32 is far below anything a fuzzer could notice. */
uint32_t lk_rand_below(lk_rand_t *r, uint32_t n) {
  return (uint32_t)(((uint64_t)lk_rand_next(r) * n) >> 32);
}
