/* Request ids, random hex and the wall clock (see ids.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
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

void lk_secret_hex(char *out, size_t n) {
  static const char hex[] = "0123456789abcdef";
  unsigned char bytes[64];
  size_t i, done = 0;

  while (done < n) {
    size_t want = n - done > sizeof(bytes) ? sizeof(bytes) : n - done;
    ssize_t got = getrandom(bytes, want, 0);

    if (got <= 0) { /* no kernel generator: better no lambkin than a weak key */
      fprintf(stderr, "lambkin: getrandom failed\n");
      abort();
    }
    for (i = 0; i < (size_t)got; i++)
      out[done + i] = hex[bytes[i] & 15];
    done += (size_t)got;
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
