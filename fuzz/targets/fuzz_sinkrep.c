/* libFuzzer target: the sink report readers of the process-mode fuzzer
 * (fuzz/sinkrep.c). Input: a report, as a fuzzed function could write
 * it. Invariants: the kinds are "|kind" pieces of known kinds, each
 * once, within their buffer; words are 2 to 64 bytes without a tab or a
 * backslash, each once, no more than asked for, and reading the same
 * report again adds none; units never pass their ceiling. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sinkrep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kinds(const char *rep, size_t size) {
  char out[40], *p, *bar;
  size_t n = lk_sinkrep_kinds(rep, size, out, sizeof(out));

  CHECK(n < sizeof(out) && strlen(out) == n);
  for (p = out; *p; p = bar ? bar : p + strlen(p)) {
    CHECK(*p == '|');
    p++;
    bar = strchr(p, '|');
    CHECK(bar != p);
  }
  CHECK(lk_sinkrep_kinds(rep, size, out, 0) == 0); /* no room: nothing */
}

static void check_words(const char *rep, size_t size) {
  char *words[8];
  int n = lk_sinkrep_words(rep, size, words, 0, 8), i, k;

  CHECK(n >= 0 && n <= 8);
  for (i = 0; i < n; i++) {
    size_t wl = strlen(words[i]);

    CHECK(wl >= 2 && wl <= LK_SINKREP_WORD_MAX);
    CHECK(strchr(words[i], '\t') == NULL && strchr(words[i], '\\') == NULL);
    for (k = 0; k < i; k++)
      CHECK(strcmp(words[i], words[k]) != 0);
  }
  if (n < 8)
    CHECK(lk_sinkrep_words(rep, size, words, n, 8) == n);
  for (i = 0; i < n; i++)
    free(words[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes, no NUL after: the readers must stop
   * at the length, as ASan checks. */
  char *rep = malloc(size ? size : 1);
  uint32_t units[16];
  int n;

  memcpy(rep, data, size);
  check_kinds(rep, size);
  check_words(rep, size);
  n = lk_sinkrep_units(rep, size, units, 16);
  CHECK(n >= 0 && n <= 16);
  CHECK(lk_sinkrep_units(rep, size, units, 3) <= 3);
  (void)lk_sinkrep_cov(rep, size);
  free(rep);
  return 0;
}
