/* libFuzzer target: CloudWatch Logs filter patterns. Input: a pattern, a
 * newline, a log message. Invariants: an empty pattern matches everything;
 * a pattern judged bad matches nothing; the answer does not change when
 * asked twice. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t pl = nl ? (size_t)(nl - data) : size;
  char *pattern = malloc(pl + 1);
  const char *msg = nl ? (const char *)nl + 1 : "";
  size_t ml = nl ? size - pl - 1 : 0;
  int bad = 0, a, b;

  if (pattern == NULL)
    return 0;
  memcpy(pattern, data, pl);
  pattern[pl] = '\0';
  a = lk_filter_match(pattern, msg, ml, &bad);
  b = lk_filter_match(pattern, msg, ml, NULL);
  CHECK(a == b);
  CHECK(!(bad && a));
  CHECK(lk_filter_match("", msg, ml, NULL) == 1);
  free(pattern);
  return 0;
}
