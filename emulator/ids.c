/* Request ids, trace ids and the wall clock. Ids come from a xorshift
 * generator seeded from the kernel once: they must be unique, not secret. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

#include "emu.h"

static uint64_t state;

static uint64_t next64(void) {
  uint64_t x;

  if (state == 0) {
    int fd = open("/dev/urandom", O_RDONLY);

    if (fd < 0 || read(fd, &state, sizeof(state)) != sizeof(state))
      state = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ uv_hrtime();
    if (fd >= 0)
      close(fd);
    state |= 1;
  }
  x = state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

void lk_hex(char *out, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  uint64_t r = 0;

  for (i = 0; i < n; i++) {
    if (i % 16 == 0)
      r = next64();
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
