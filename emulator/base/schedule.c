/* Schedule expressions (see schedule.h). A cron field is read into a bit
 * set; the next firing walks forward a day at a time, skipping whole
 * years and months that cannot match, and takes the first minute of the
 * first day that does. Dates are counted as days since the epoch with
 * the proleptic Gregorian calendar, so no time zone is involved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "schedule.h"

#define MINUTE_MS 60000ULL
#define DAY_MS (24 * 60 * MINUTE_MS)

static int failf(char *err, size_t errlen, const char *why) {
  snprintf(err, errlen, "Parameter ScheduleExpression is not valid: %s", why);
  return -1;
}

/* ---- dates ---- */

static long days_from_civil(long y, int m, int d) {
  long era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d) {
  long era, doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int days_in(long y, int m) {
  static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

  return m == 2 ? 28 + leap : n[m - 1];
}

/* SUN = 1 ... SAT = 7 */
static int weekday(long y, int m, int d) {
  return (int)((days_from_civil(y, m, d) % 7 + 11) % 7) + 1;
}

/* ---- fields ---- */

typedef struct field {
  int min, max;
  const char *const *names; /* names[i] is min + i, or NULL */
} field_t;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR",
                                          "MAY", "JUN", "JUL", "AUG",
                                          "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED",
                                        "THU", "FRI", "SAT"};

/* A number or a name at *p, moved past; -1 when there is none. */
static int value(const field_t *f, const char **p) {
  int v = 0, n = 0, i;

  if (f->names)
    for (i = 0; i <= f->max - f->min; i++)
      if (strncasecmp(*p, f->names[i], 3) == 0) {
        *p += 3;
        return f->min + i;
      }
  while (**p >= '0' && **p <= '9' && n < 5) {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  return n == 0 || n == 5 ? -1 : v;
}

static void set_bit(uint64_t bits[4], int i) {
  bits[i / 64] |= 1ULL << (i % 64);
}

static int bit(const uint64_t bits[4], int i) {
  return (int)((bits[i / 64] >> (i % 64)) & 1);
}

/* One item of a list: *, a, a-b, each with an optional /step. */
static int item(const field_t *f, const char *p, const char *end,
                uint64_t bits[4]) {
  int lo = f->min, hi = f->max, step = 1, v;

  if (*p == '*') {
    p++;
  } else {
    if ((lo = value(f, &p)) < 0)
      return -1;
    hi = lo;
    if (*p == '-') {
      p++;
      if ((hi = value(f, &p)) < 0)
        return -1;
    } else if (*p == '/') {
      hi = f->max;
    }
  }
  if (*p == '/') {
    const field_t num = {1, 99999, NULL};

    p++;
    if ((step = value(&num, &p)) < 1)
      return -1;
  }
  if (p != end || lo < f->min || hi > f->max || lo > hi)
    return -1;
  for (v = lo; v <= hi; v += step)
    set_bit(bits, v - f->min);
  return 0;
}

/* A comma-separated list of items into bits (bit 0 is f->min). */
static int list(const field_t *f, const char *p, const char *end,
                uint64_t bits[4]) {
  while (p < end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;

    if (stop == p || item(f, p, stop, bits) != 0)
      return -1;
    p = comma ? comma + 1 : end;
  }
  return 0;
}

static int is(const char *p, const char *end, const char *word) {
  return (size_t)(end - p) == strlen(word) &&
         strncasecmp(p, word, strlen(word)) == 0;
}

/* Day of month: ?, L, LW, nW, or a list. */
static int day_field(lk_sched_t *s, const char *p, const char *end) {
  static const field_t f = {1, 31, NULL};
  uint64_t bits[4] = {0};

  if (is(p, end, "?")) {
    s->any_day = 1;
    return 0;
  }
  if (is(p, end, "L") || is(p, end, "LW")) {
    s->last_day = 1;
    s->near_weekday = end - p == 2 ? -1 : 0;
    return 0;
  }
  if (end - p >= 2 && (end[-1] == 'W' || end[-1] == 'w')) {
    const char *q = p;
    int n = value(&f, &q);

    if (q != end - 1 || n < 1 || n > 31)
      return -1;
    s->near_weekday = n;
    return 0;
  }
  if (list(&f, p, end, bits) != 0)
    return -1;
  s->days = (uint32_t)(bits[0] << 1);
  return 0;
}

/* Day of week: ?, L (Saturday), nL, n#k, or a list. */
static int weekday_field(lk_sched_t *s, const char *p, const char *end) {
  static const field_t f = {1, 7, day_names};
  const char *hash = memchr(p, '#', (size_t)(end - p));
  uint64_t bits[4] = {0};
  const char *q = p;
  int n;

  if (is(p, end, "?")) {
    s->any_weekday = 1;
    return 0;
  }
  if (is(p, end, "L")) {
    s->weekdays = 1 << 7;
    return 0;
  }
  if (hash || (end - p >= 2 && (end[-1] == 'L' || end[-1] == 'l'))) {
    if ((n = value(&f, &q)) < 1 || n > 7)
      return -1;
    if (hash == NULL && q == end - 1) {
      s->last_of = n;
      return 0;
    }
    if (q != hash || hash + 2 != end || hash[1] < '1' || hash[1] > '5')
      return -1;
    s->nth_of = n;
    s->nth = hash[1] - '0';
    return 0;
  }
  if (list(&f, p, end, bits) != 0)
    return -1;
  s->weekdays = (uint8_t)(bits[0] << 1);
  return 0;
}

static int cron(const char *body, const char *end, lk_sched_t *s, char *err,
                size_t errlen) {
  static const field_t fields[] = {
      {0, 59, NULL},     {0, 23, NULL},
      {1, 31, NULL},     {1, 12, month_names},
      {1, 7, day_names}, {LK_SCHED_FIRST_YEAR, LK_SCHED_LAST_YEAR, NULL}};
  const char *at[6], *stop[6], *p = body;
  uint64_t bits[4];
  int n = 0;

  while (p < end && n < 7) {
    while (p < end && *p == ' ')
      p++;
    if (p == end)
      break;
    if (n == 6)
      return failf(err, errlen, "cron() takes six fields");
    at[n] = p;
    while (p < end && *p != ' ')
      p++;
    stop[n++] = p;
  }
  if (n != 6)
    return failf(err, errlen, "cron() takes six fields");
  s->kind = LK_SCHED_CRON;
  memset(bits, 0, sizeof(bits));
  if (list(&fields[0], at[0], stop[0], bits) != 0)
    return failf(err, errlen, "bad minutes");
  s->minutes = bits[0];
  memset(bits, 0, sizeof(bits));
  if (list(&fields[1], at[1], stop[1], bits) != 0)
    return failf(err, errlen, "bad hours");
  s->hours = (uint32_t)bits[0];
  if (day_field(s, at[2], stop[2]) != 0)
    return failf(err, errlen, "bad day of month");
  memset(bits, 0, sizeof(bits));
  if (list(&fields[3], at[3], stop[3], bits) != 0)
    return failf(err, errlen, "bad month");
  s->months = (uint16_t)(bits[0] << 1);
  if (weekday_field(s, at[4], stop[4]) != 0)
    return failf(err, errlen, "bad day of week");
  if (list(&fields[5], at[5], stop[5], s->years) != 0)
    return failf(err, errlen, "bad year");
  if (s->any_day == s->any_weekday)
    return failf(err, errlen,
                 "one of day of month and day of week must be ?, not both");
  return 0;
}

static int rate(const char *body, const char *end, lk_sched_t *s, char *err,
                size_t errlen) {
  static const struct {
    const char *one, *many;
    uint64_t ms;
  } units[] = {{"minute", "minutes", MINUTE_MS},
               {"hour", "hours", 60 * MINUTE_MS},
               {"day", "days", DAY_MS}};
  static const field_t num = {1, 99999, NULL};
  const char *p = body;
  int n = value(&num, &p);
  size_t k;

  if (n < 1 || *p != ' ')
    return failf(err, errlen, "rate() takes a positive number and a unit");
  p++;
  for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
    if (is(p, end, n == 1 ? units[k].one : units[k].many)) {
      s->kind = LK_SCHED_RATE;
      s->every_ms = (uint64_t)n * units[k].ms;
      return 0;
    }
  return failf(err, errlen,
               "the unit is minute, hour or day for 1, minutes, hours or "
               "days for more");
}

/* yyyy-mm-ddThh:mm:ss */
static int at(const char *body, const char *end, lk_sched_t *s, char *err,
              size_t errlen) {
  static const int width[] = {4, 2, 2, 2, 2, 2};
  static const char seps[] = "--T::";
  int v[6], i, j;
  const char *p = body;

  for (i = 0; i < 6; i++) {
    v[i] = 0;
    for (j = 0; j < width[i]; j++, p++) {
      if (p >= end || *p < '0' || *p > '9')
        return failf(err, errlen, "at() takes yyyy-mm-ddThh:mm:ss");
      v[i] = v[i] * 10 + (*p - '0');
    }
    if (i < 5 && (p >= end || *p++ != seps[i]))
      return failf(err, errlen, "at() takes yyyy-mm-ddThh:mm:ss");
  }
  if (p != end || v[0] < LK_SCHED_FIRST_YEAR || v[1] < 1 || v[1] > 12 ||
      v[2] < 1 || v[2] > days_in(v[0], v[1]) || v[3] > 23 || v[4] > 59 ||
      v[5] > 59)
    return failf(err, errlen, "at() takes yyyy-mm-ddThh:mm:ss");
  s->kind = LK_SCHED_AT;
  s->at_ms = (uint64_t)days_from_civil(v[0], v[1], v[2]) * DAY_MS +
             (uint64_t)((v[3] * 60 + v[4]) * 60 + v[5]) * 1000;
  return 0;
}

int lk_sched_parse(const char *expr, lk_sched_t *s, char *err, size_t errlen) {
  static const struct {
    const char *prefix;
    int (*parse)(const char *body, const char *end, lk_sched_t *s, char *err,
                 size_t errlen);
  } forms[] = {{"rate(", rate}, {"cron(", cron}, {"at(", at}};
  size_t n = expr ? strlen(expr) : 0, k;

  memset(s, 0, sizeof(*s));
  if (n < 2 || n > 256 || expr[n - 1] != ')')
    return failf(err, errlen, "it is rate(...), cron(...) or at(...)");
  for (k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
    size_t pl = strlen(forms[k].prefix);

    if (strncmp(expr, forms[k].prefix, pl) == 0)
      return forms[k].parse(expr + pl, expr + n - 1, s, err, errlen);
  }
  return failf(err, errlen, "it is rate(...), cron(...) or at(...)");
}

/* ---- the next firing ---- */

static int day_matches(const lk_sched_t *s, long y, int m, int d) {
  int dim = days_in(y, m), wd = weekday(y, m, d);

  if (s->any_weekday) {
    if (s->near_weekday) { /* the weekday nearest a day (or the last) */
      int n = s->near_weekday < 0 ? dim : s->near_weekday, wn;

      if (n > dim)
        return 0;
      wn = weekday(y, m, n);
      if (wn == 7)
        n += n == 1 ? 2 : -1;
      else if (wn == 1)
        n += n == dim ? -2 : 1;
      return d == n;
    }
    if (s->last_day)
      return d == dim;
    return (int)((s->days >> d) & 1);
  }
  if (s->last_of)
    return wd == s->last_of && d + 7 > dim;
  if (s->nth_of)
    return wd == s->nth_of && (d - 1) / 7 + 1 == s->nth;
  return (s->weekdays >> wd) & 1;
}

/* The first minute of the day at or after minute `from`, or -1. */
static int first_minute(const lk_sched_t *s, int from) {
  int t;

  for (t = from; t < 24 * 60; t++)
    if (((s->hours >> (t / 60)) & 1) && ((s->minutes >> (t % 60)) & 1))
      return t;
  return -1;
}

static uint64_t next_cron(const lk_sched_t *s, uint64_t after_ms) {
  uint64_t start = after_ms / MINUTE_MS + 1; /* whole minutes */
  long day = (long)(start / (24 * 60)), y;
  int from = (int)(start % (24 * 60)), m, d;

  civil_from_days(day, &y, &m, &d);
  while (y <= LK_SCHED_LAST_YEAR) {
    int t;

    if (y < LK_SCHED_FIRST_YEAR ||
        !bit(s->years, (int)y - LK_SCHED_FIRST_YEAR)) {
      y++, m = 1, d = 1, from = 0;
      continue;
    }
    if (!((s->months >> m) & 1) || d > days_in(y, m)) {
      if (++m > 12)
        y++, m = 1;
      d = 1, from = 0;
      continue;
    }
    if (day_matches(s, y, m, d) && (t = first_minute(s, from)) >= 0)
      return (uint64_t)days_from_civil(y, m, d) * DAY_MS +
             (uint64_t)t * MINUTE_MS;
    d++, from = 0;
  }
  return 0;
}

uint64_t lk_sched_next(const lk_sched_t *s, uint64_t after_ms) {
  switch (s->kind) {
  case LK_SCHED_RATE:
    return after_ms + s->every_ms;
  case LK_SCHED_AT:
    return s->at_ms > after_ms ? s->at_ms : 0;
  default:
    return next_cron(s, after_ms);
  }
}

/* ---- in a time zone ---- */

int lk_sched_zone_ok(const char *tz) {
  char path[300];
  size_t n = tz ? strlen(tz) : 0;

  if (n == 0 || n > 64 || strstr(tz, "..") || tz[0] == '/' ||
      strspn(tz, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "0123456789_+-/") != n)
    return 0;
  snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
  return access(path, R_OK) == 0;
}

/* The zone's wall clock at t (ms), counted as if it were UTC. */
static uint64_t local_ms(uint64_t t) {
  time_t sec = (time_t)(t / 1000);
  struct tm lt;

  localtime_r(&sec, &lt);
  return ((uint64_t)days_from_civil(lt.tm_year + 1900, lt.tm_mon + 1,
                                    lt.tm_mday) *
              86400 +
          (uint64_t)(lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec)) *
             1000 +
         t % 1000;
}

/* The instant (ms) the zone's wall clock shows w (counted as UTC); a
 * time a clock change skips comes out later, as mktime moves it. */
static uint64_t instant_of(uint64_t w) {
  long y;
  int m, d;
  uint64_t sec = w / 1000;
  struct tm tm;
  time_t t;

  civil_from_days((long)(sec / 86400), &y, &m, &d);
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = (int)y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_hour = (int)(sec % 86400 / 3600);
  tm.tm_min = (int)(sec % 3600 / 60);
  tm.tm_sec = (int)(sec % 60);
  tm.tm_isdst = -1;
  t = mktime(&tm);
  return t < 0 ? 0 : (uint64_t)t * 1000 + w % 1000;
}

/* The zone is the process's TZ for the length of the call (lambkin runs
 * one loop on one thread), then what it was. */
uint64_t lk_sched_next_in(const lk_sched_t *s, uint64_t after_ms,
                          const char *tz) {
  char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
  uint64_t w, t = 0;
  int tries;

  if (s->kind == LK_SCHED_RATE || !lk_sched_zone_ok(tz)) {
    free(old);
    return lk_sched_next(s, after_ms);
  }
  setenv("TZ", tz, 1);
  tzset();
  w = local_ms(after_ms);
  for (tries = 0; tries < 4; tries++) { /* past an hour a clock repeats */
    w = lk_sched_next(s, w);
    t = w ? instant_of(w) : 0;
    if (t == 0 || t > after_ms)
      break;
  }
  if (old)
    setenv("TZ", old, 1);
  else
    unsetenv("TZ");
  tzset();
  free(old);
  return t > after_ms ? t : 0;
}
