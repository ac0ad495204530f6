/* Schedules (see schedules.h): a table of the scheduled rules with
 * their next firing, brought in line with EventBridge's rules on every
 * change (a rule whose expression did not change keeps its place in
 * time), and one timer for the earliest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "schedule.h"
#include "schedules.h"

typedef struct entry {
  char bus[256], rule[128], expr[260], tz[72];
  lk_sched_t sched;
  uint64_t next; /* ms since the epoch; 0: never again */
  int seen;
} entry_t;

struct lk_schedules {
  lk_eb_t *eb;
  uv_timer_t *timer;
  entry_t *entries;
  int n, closing;
};

static void arm(lk_schedules_t *s);

static uint64_t next_of(const entry_t *e, uint64_t after) {
  return e->tz[0] ? lk_sched_next_in(&e->sched, after, e->tz)
                  : lk_sched_next(&e->sched, after);
}

static entry_t *find(lk_schedules_t *s, const char *bus, const char *rule) {
  int i;

  for (i = 0; i < s->n; i++)
    if (strcmp(s->entries[i].bus, bus) == 0 &&
        strcmp(s->entries[i].rule, rule) == 0)
      return &s->entries[i];
  return NULL;
}

static void visit(void *ud, const char *bus, const char *rule, const char *expr,
                  const char *tz) {
  lk_schedules_t *s = ud;
  entry_t *e = find(s, bus, rule);
  char err[256];

  if (tz == NULL)
    tz = "";
  if (e && strcmp(e->expr, expr) == 0 && strcmp(e->tz, tz) == 0) {
    e->seen = 1;
    return;
  }
  if (e == NULL) {
    s->entries =
        lk_xrealloc(s->entries, sizeof(*s->entries) * (size_t)(s->n + 1));
    e = &s->entries[s->n++];
  }
  memset(e, 0, sizeof(*e));
  snprintf(e->bus, sizeof(e->bus), "%s", bus);
  snprintf(e->rule, sizeof(e->rule), "%s", rule);
  snprintf(e->expr, sizeof(e->expr), "%s", expr);
  snprintf(e->tz, sizeof(e->tz), "%s", tz);
  e->seen = 1;
  if (lk_sched_parse(expr, &e->sched, err, sizeof(err)) == 0)
    e->next = next_of(e, lk_now_ms());
}

/* The table, as EventBridge's rules now are. */
static void resync(void *ud) {
  lk_schedules_t *s = ud;
  int i, kept = 0;

  for (i = 0; i < s->n; i++)
    s->entries[i].seen = 0;
  lk_eb_each_schedule(s->eb, visit, s);
  for (i = 0; i < s->n; i++)
    if (s->entries[i].seen)
      s->entries[kept++] = s->entries[i];
  s->n = kept;
  arm(s);
}

static void on_timer(uv_timer_t *t) {
  lk_schedules_t *s = t->data;
  uint64_t now = lk_now_ms();
  char bus[256], rule[128];
  int i;

  /* Each due rule fires once, however late the loop is; what it sets
   * off may change the rules, so the names are copied first. */
  for (i = 0; i < s->n && !s->closing; i++) {
    entry_t *e = &s->entries[i];

    if (e->next == 0 || e->next > now)
      continue;
    do
      e->next = next_of(e, e->next);
    while (e->next != 0 && e->next <= now);
    snprintf(bus, sizeof(bus), "%s", e->bus);
    snprintf(rule, sizeof(rule), "%s", e->rule);
    lk_eb_fire(s->eb, bus, rule, NULL);
  }
  arm(s);
}

static void arm(lk_schedules_t *s) {
  uint64_t first = 0, now = lk_now_ms();
  int i;

  if (s->closing)
    return;
  for (i = 0; i < s->n; i++)
    if (s->entries[i].next && (first == 0 || s->entries[i].next < first))
      first = s->entries[i].next;
  if (first == 0)
    uv_timer_stop(s->timer);
  else
    uv_timer_start(s->timer, on_timer, first > now ? first - now : 0, 0);
}

lk_schedules_t *lk_schedules_new(uv_loop_t *loop, lk_eb_t *eb) {
  lk_schedules_t *s = lk_xcalloc(1, sizeof(*s));

  s->eb = eb;
  s->timer = lk_xmalloc(sizeof(*s->timer));
  uv_timer_init(loop, s->timer);
  s->timer->data = s;
  uv_unref((uv_handle_t *)s->timer); /* a schedule keeps nothing running */
  lk_eb_on_rules(eb, resync, s);
  resync(s);
  return s;
}

void lk_schedules_close(lk_schedules_t *s) {
  if (s == NULL || s->closing)
    return;
  s->closing = 1;
  lk_eb_on_rules(s->eb, NULL, NULL);
  uv_close((uv_handle_t *)s->timer, lk_free_handle);
  s->timer = NULL;
}

void lk_schedules_free(lk_schedules_t *s) {
  if (s == NULL)
    return;
  free(s->timer); /* only set when never closed */
  free(s->entries);
  free(s);
}
