/* Request ids, random hex and the wall clock (see ids.h). */
#include <stdio.h>
#include <sys/time.h>

#include "ids.h"
#include "rand.h"

static lk_rand_t ids;
static int seeded;

void lk_hex(char *out, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  uint64_t r = 0;

  if (!seeded) {
    lk_rand_seed(&ids, lk_rand_kernel_seed());
    seeded = 1;
  }
  for (i = 0; i < n; i++) {
    if (i % 16 == 0)
      r = lk_rand_next64(&ids);
    out[i] = hex[r & 15];
    r >>= 4;
  }
  out[n] = '\0';
}

void lk_uuid(char out[37]) {
  char h[33];

  lk_hex(h, 32);
  h[12] = '4';                       /* version 4 */
  h[16] = "89ab"[(h[16] - '0') & 3]; /* RFC 4122 variant */
  snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
           h + 20);
}

uint64_t lk_now_ms(void) {
  struct timeval tv;

  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}
