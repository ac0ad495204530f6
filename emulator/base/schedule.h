/* Schedule expressions as EventBridge and EventBridge Scheduler write
 * them: rate(N minute|minutes|hour|hours|day|days), cron(minutes hours
 * day-of-month month day-of-week year) with lists, ranges, steps, names,
 * ? and the L, W and # forms, and at(yyyy-mm-ddThh:mm:ss); in UTC, or
 * in a time zone.
 * Parsed once into a plain value that needs no freeing. */
#ifndef LK_SCHEDULE_H
#define LK_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define LK_SCHED_FIRST_YEAR 1970
#define LK_SCHED_LAST_YEAR 2199

typedef enum { LK_SCHED_RATE, LK_SCHED_CRON, LK_SCHED_AT } lk_sched_kind_t;

typedef struct lk_sched {
  lk_sched_kind_t kind;
  uint64_t every_ms; /* rate */
  uint64_t at_ms;    /* at */
  /* cron: one bit per value that matches */
  uint64_t minutes;  /* bits 0..59 */
  uint32_t hours;    /* bits 0..23 */
  uint32_t days;     /* bits 1..31; unused when any_day */
  uint16_t months;   /* bits 1..12 */
  uint8_t weekdays;  /* bits 1..7, SUN = 1; unused when any_weekday */
  uint64_t years[4]; /* bit y - LK_SCHED_FIRST_YEAR */
  int any_day, any_weekday;
  int last_day;     /* L: the month's last day; with near_weekday, LW */
  int near_weekday; /* nW: the weekday nearest day n (0: none) */
  int last_of;      /* nL: the month's last weekday n (0: none) */
  int nth_of, nth;  /* n#k: the month's k-th weekday n (0: none) */
} lk_sched_t;

/* 0, or -1 with why into err (the expression EventBridge would refuse). */
int lk_sched_parse(const char *expr, lk_sched_t *s, char *err, size_t errlen);
/* The first time the schedule fires after after_ms (ms since the epoch,
 * UTC): for rate, after_ms + its period (the caller passes the last
 * firing); 0 when it never fires again (an at() past, a cron whose
 * years are over). */
uint64_t lk_sched_next(const lk_sched_t *s, uint64_t after_ms);
/* The same for cron() and at() read in a time zone of the system's
 * database (ScheduleV2's ScheduleExpressionTimezone, "Europe/Berlin"):
 * the firing follows the zone's clock changes. A zone lk_sched_zone_ok
 * refuses is UTC. */
uint64_t lk_sched_next_in(const lk_sched_t *s, uint64_t after_ms,
                          const char *tz);
/* 1 when tz names a zone of /usr/share/zoneinfo. */
int lk_sched_zone_ok(const char *tz);

#endif
