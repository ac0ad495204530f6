/* libFuzzer target: schedule expressions (rate, cron, at). Input: the
 * expression. Invariants: a refused expression says why in EventBridge's
 * words; a taken one parses the same twice; a firing is after the time
 * asked about (a rate's period after it; a cron's on a whole minute),
 * and the firing
 * after it is later still (never the same one twice). */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* 2026-01-01 00:00 UTC, and a moment past a minute in 2031 */
  static const uint64_t from[] = {1767225600000ULL, 1924992123456ULL};
  char *expr = malloc(size + 1), err[256];
  lk_sched_t s, again;
  size_t i;

  memcpy(expr, data, size);
  expr[size] = '\0';
  if (lk_sched_parse(expr, &s, err, sizeof(err)) != 0) {
    CHECK(strstr(err, "ScheduleExpression is not valid") != NULL);
    free(expr);
    return 0;
  }
  CHECK(lk_sched_parse(expr, &again, err, sizeof(err)) == 0);
  CHECK(memcmp(&s, &again, sizeof(s)) == 0);
  for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
    uint64_t t = lk_sched_next(&s, from[i]), u;

    if (t == 0)
      continue;
    CHECK(t > from[i]);
    if (s.kind == LK_SCHED_RATE)
      CHECK(t - from[i] == s.every_ms);
    if (s.kind == LK_SCHED_CRON)
      CHECK(t % 60000 == 0);
    u = lk_sched_next(&s, t);
    CHECK(u == 0 || u > t);
    u = lk_sched_next_in(&s, from[i], "America/New_York");
    CHECK(u == 0 || u > from[i]); /* in a zone too, after the time asked */
  }
  free(expr);
  return 0;
}
