/* Schedule expressions: the rate(), cron() and at() forms EventBridge's
 * documentation gives, the next firing of each (month ends, leap years,
 * L, W and #), and the expressions EventBridge refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "schedule.h"

/* ms since the epoch of a UTC "yyyy-mm-dd hh:mm". */
static uint64_t at(const char *when) {
  struct tm tm;

  memset(&tm, 0, sizeof(tm));
  assert_non_null(strptime(when, "%Y-%m-%d %H:%M", &tm));
  return (uint64_t)timegm(&tm) * 1000;
}

/* The firing after `after` of expr, as "yyyy-mm-dd hh:mm" (or "never"). */
static const char *next(const char *expr, const char *after) {
  static char out[32];
  char err[256];
  lk_sched_t s;
  uint64_t t;
  time_t sec;
  struct tm tm;

  assert_int_equal(lk_sched_parse(expr, &s, err, sizeof(err)), 0);
  t = lk_sched_next(&s, at(after));
  if (t == 0)
    return "never";
  sec = (time_t)(t / 1000);
  gmtime_r(&sec, &tm);
  strftime(out, sizeof(out), "%Y-%m-%d %H:%M", &tm);
  return out;
}

/* The same in a time zone, shown in UTC. */
static const char *next_in(const char *expr, const char *tz,
                           const char *after) {
  static char out[32];
  char err[256];
  lk_sched_t s;
  uint64_t t;
  time_t sec;
  struct tm tm;

  assert_int_equal(lk_sched_parse(expr, &s, err, sizeof(err)), 0);
  t = lk_sched_next_in(&s, at(after), tz);
  sec = (time_t)(t / 1000);
  gmtime_r(&sec, &tm);
  strftime(out, sizeof(out), "%Y-%m-%d %H:%M", &tm);
  return out;
}

static void refused(const char *expr) {
  char err[256];
  lk_sched_t s;

  if (lk_sched_parse(expr, &s, err, sizeof(err)) == 0)
    fail_msg("%s was taken", expr);
  assert_non_null(strstr(err, "ScheduleExpression is not valid"));
}

static void test_rate(void **state) {
  (void)state;
  assert_string_equal(next("rate(1 minute)", "2026-01-01 10:00"),
                      "2026-01-01 10:01");
  assert_string_equal(next("rate(5 minutes)", "2026-01-01 10:00"),
                      "2026-01-01 10:05");
  assert_string_equal(next("rate(2 hours)", "2026-01-01 23:00"),
                      "2026-01-02 01:00");
  assert_string_equal(next("rate(1 day)", "2026-02-28 12:00"),
                      "2026-03-01 12:00");
  refused("rate(1 minutes)"); /* EventBridge's singular and plural */
  refused("rate(5 minute)");
  refused("rate(0 minutes)");
  refused("rate(5 weeks)");
  refused("rate(5minutes)");
  refused("rate(5 minutes");
}

static void test_cron_fields(void **state) {
  (void)state;
  /* 10:15 every day */
  assert_string_equal(next("cron(15 10 * * ? *)", "2026-01-01 10:15"),
                      "2026-01-02 10:15");
  assert_string_equal(next("cron(15 10 * * ? *)", "2026-01-01 10:14"),
                      "2026-01-01 10:15");
  /* 18:00 Monday to Friday: 2026-01-02 is a Friday */
  assert_string_equal(next("cron(0 18 ? * MON-FRI *)", "2026-01-02 18:00"),
                      "2026-01-05 18:00");
  /* 8:00 on the first of each month */
  assert_string_equal(next("cron(0 8 1 * ? *)", "2026-01-31 09:00"),
                      "2026-02-01 08:00");
  /* every 10 minutes on weekdays */
  assert_string_equal(next("cron(0/10 * ? * MON-FRI *)", "2026-01-02 23:55"),
                      "2026-01-05 00:00");
  /* every 5 minutes between 8:00 and 17:55 on weekdays */
  assert_string_equal(next("cron(0/5 8-17 ? * MON-FRI *)", "2026-01-05 17:55"),
                      "2026-01-06 08:00");
  /* 9:00 on the first Monday of each month */
  assert_string_equal(next("cron(0 9 ? * 2#1 *)", "2026-01-05 09:00"),
                      "2026-02-02 09:00");
  /* lists, names, and a year */
  assert_string_equal(
      next("cron(0,30 12 ? JAN,JUL SUN 2027)", "2026-06-01 00:00"),
      "2027-01-03 12:00");
  assert_string_equal(next("cron(0 0 1 1 ? 2026)", "2026-01-01 00:00"),
                      "never");
}

static void test_cron_month_ends(void **state) {
  (void)state;
  /* L: the last day, across a leap February */
  assert_string_equal(next("cron(0 0 L * ? *)", "2028-02-01 00:00"),
                      "2028-02-29 00:00");
  assert_string_equal(next("cron(0 0 L * ? *)", "2027-02-01 00:00"),
                      "2027-02-28 00:00");
  /* the 31st skips the months without one */
  assert_string_equal(next("cron(0 0 31 * ? *)", "2026-04-01 00:00"),
                      "2026-05-31 00:00");
  /* 29 February, only in leap years */
  assert_string_equal(next("cron(0 0 29 2 ? *)", "2026-01-01 00:00"),
                      "2028-02-29 00:00");
  /* the last Friday: 2026-01-30 */
  assert_string_equal(next("cron(0 0 ? * 6L *)", "2026-01-01 00:00"),
                      "2026-01-30 00:00");
  /* 15W: 2026-02-15 is a Sunday, so Monday the 16th */
  assert_string_equal(next("cron(0 0 15W * ? *)", "2026-02-01 00:00"),
                      "2026-02-16 00:00");
  /* 1W on a Saturday (2026-08-01) is Monday the 3rd, not July */
  assert_string_equal(next("cron(0 0 1W * ? *)", "2026-07-15 00:00"),
                      "2026-08-03 00:00");
  /* LW: the last weekday; 2026-05-31 is a Sunday */
  assert_string_equal(next("cron(0 0 LW * ? *)", "2026-05-01 00:00"),
                      "2026-05-29 00:00");
}

static void test_cron_refused(void **state) {
  (void)state;
  refused("cron(0 10 * * *)");     /* five fields */
  refused("cron(0 10 * * * * *)"); /* seven */
  refused("cron(0 10 * * * *)");   /* neither day is ? */
  refused("cron(0 10 ? * ? *)");   /* both are */
  refused("cron(60 10 * * ? *)");  /* minute out of range */
  refused("cron(0 24 * * ? *)");   /* hour */
  refused("cron(0 0 0 * ? *)");    /* day 0 */
  refused("cron(0 0 * 13 ? *)");   /* month 13 */
  refused("cron(0 0 ? * 8 *)");    /* day of week 8 */
  refused("cron(0 0 ? * 2#6 *)");  /* a sixth Monday */
  refused("cron(0 0 * * ? 2200)"); /* past the last year */
  refused("cron(5-1 0 * * ? *)");  /* a range backwards */
  refused("cron(0/0 0 * * ? *)");  /* step 0 */
  refused("cron(0,,5 0 * * ? *)"); /* an empty item */
  refused("cron(0 0 * FOO ? *)");
  refused("every day");
  refused("");
  refused(NULL);
}

static void test_at(void **state) {
  (void)state;
  assert_string_equal(next("at(2026-12-24T18:30:00)", "2026-12-01 00:00"),
                      "2026-12-24 18:30");
  assert_string_equal(next("at(2026-12-24T18:30:00)", "2026-12-25 00:00"),
                      "never");
  refused("at(2026-02-30T00:00:00)");
  refused("at(2026-12-24 18:30:00)");
  refused("at(2026-12-24T18:30)");
}

static void test_time_zones(void **state) {
  (void)state;
  /* 9:00 in New York: 14:00 UTC in winter, 13:00 in summer */
  assert_string_equal(
      next_in("cron(0 9 * * ? *)", "America/New_York", "2026-01-01 00:00"),
      "2026-01-01 14:00");
  assert_string_equal(
      next_in("cron(0 9 * * ? *)", "America/New_York", "2026-07-01 00:00"),
      "2026-07-01 13:00");
  /* across the spring change (8 March 2026), the next day's is an hour
   * earlier in UTC */
  assert_string_equal(
      next_in("cron(0 9 * * ? *)", "America/New_York", "2026-03-07 15:00"),
      "2026-03-08 13:00");
  assert_string_equal(
      next_in("at(2026-12-24T18:30:00)", "Europe/Berlin", "2026-12-01 00:00"),
      "2026-12-24 17:30");
  /* a zone the system does not know, or one that is a path: UTC */
  assert_string_equal(
      next_in("cron(0 9 * * ? *)", "Mars/Olympus", "2026-01-01 00:00"),
      "2026-01-01 09:00");
  assert_string_equal(
      next_in("cron(0 9 * * ? *)", "../../etc/passwd", "2026-01-01 00:00"),
      "2026-01-01 09:00");
  assert_int_equal(lk_sched_zone_ok("Europe/Berlin"), 1);
  assert_int_equal(lk_sched_zone_ok("Europe/../../etc"), 0);
  assert_null(getenv("TZ")); /* the process's zone is as it was */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate),
      cmocka_unit_test(test_cron_fields),
      cmocka_unit_test(test_cron_month_ends),
      cmocka_unit_test(test_cron_refused),
      cmocka_unit_test(test_at),
      cmocka_unit_test(test_time_zones),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
