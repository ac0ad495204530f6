/* Invariants in fuzz targets must hold in every build: assert() vanishes
 * under NDEBUG, so targets use CHECK, which aborts (libFuzzer reports it). */
#ifndef LK_FUZZ_CHECK_H
#define LK_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,     \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif
