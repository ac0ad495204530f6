/* Loops (see loops.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "lineage.h"
#include "loops.h"
#include "mem.h"

#define PRINTED_MAX 256 /* loop paths whose line is out already */

struct lk_loops {
  lk_lineage_t *lineage;
  int allow;
  int reported;
  uint64_t printed[PRINTED_MAX]; /* with a listener: FNV-1a of each path */
  int n_printed;
  lk_journal_t *journal;
  lk_loop_cb cb;
  void *cb_ud;
};

lk_loops_t *lk_loops_new(int max_depth, int allow, lk_journal_t *journal,
                         lk_loop_cb cb, void *cb_ud) {
  lk_loops_t *l = lk_xcalloc(1, sizeof(*l));

  l->lineage = lk_lineage_new(max_depth);
  l->allow = allow;
  l->journal = journal;
  l->cb = cb;
  l->cb_ud = cb_ud;
  return l;
}

void lk_loops_free(lk_loops_t *l) {
  if (l == NULL)
    return;
  lk_lineage_free(l->lineage);
  free(l);
}

int lk_loops_count(const lk_loops_t *l) {
  return l->reported;
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* With a listener (the fuzzer, which counts its findings itself), a
 * loop's line is printed the first time its path shows, not for every
 * input that walks it again. */
static int first_time(lk_loops_t *l, const char *path) {
  uint64_t h = fnv1a(path);
  int i;

  if (l->cb == NULL)
    return 1;
  for (i = 0; i < l->n_printed; i++)
    if (l->printed[i] == h)
      return 0;
  if (l->n_printed < PRINTED_MAX)
    l->printed[l->n_printed++] = h;
  return 1;
}

/* A loop or a chain past --max-depth: a line, a journal record, and a
 * count that `lambkin invoke` turns into its exit code. */
static void report(lk_loops_t *l, const lk_placement_t *p, const lk_hop_t *hop,
                   int stopped) {
  int loop = hop->verdict == LK_HOP_LOOP;
  cJSON *j = cJSON_CreateObject();

  l->reported++;
  if (first_time(l, hop->path))
    fprintf(stderr,
            "lambkin: %s %s: %s (chain started by: %s event %.8s; %d "
            "invocations, %.1f/s)%s\n",
            loop ? "LOOP" : "CHAIN TOO DEEP", loop ? "detected" : "stopped",
            hop->path, hop->origin, hop->origin_id, hop->chain_invocations,
            hop->rate,
            stopped ? "; chain stopped" : "; allowed by --allow-loops");
  cJSON_AddStringToObject(j, "type", loop ? "loop" : "max-depth");
  cJSON_AddNumberToObject(j, "time_ms", (double)lk_now_ms());
  cJSON_AddStringToObject(j, "function", p->function);
  cJSON_AddStringToObject(j, "path", hop->path);
  cJSON_AddStringToObject(j, "origin", hop->origin);
  /* The chain's first invocation: its journal record holds the event that
   * started it all, for `lambkin replay`. */
  cJSON_AddStringToObject(j, "origin_invocation", hop->origin_id);
  cJSON_AddNumberToObject(j, "depth", hop->depth);
  cJSON_AddNumberToObject(j, "invocations", hop->chain_invocations);
  cJSON_AddNumberToObject(j, "rate_per_s", hop->rate);
  cJSON_AddBoolToObject(j, "stopped", stopped);
  cJSON_AddStringToObject(j, "trace", hop->trace);
  cJSON_AddStringToObject(j, "event", p->event);
  lk_journal_event(l->journal, j);
  cJSON_Delete(j);
  if (loop && l->cb)
    l->cb(p->function, hop->path, p->event, l->cb_ud);
}

int lk_loops_place(void *ud, const lk_placement_t *p, char *trace, char *why,
                   size_t why_cap) {
  lk_loops_t *l = ud;
  lk_hop_t hop;
  int stop;

  lk_lineage_enter(l->lineage, p->incoming_trace, p->function, p->edge,
                   p->source, p->id, &hop);
  lk_str_copy(trace, LK_TRACE_MAX, hop.trace);
  if (hop.verdict == LK_HOP_OK)
    return 0;
  stop = hop.verdict == LK_HOP_DEPTH || !l->allow;
  report(l, p, &hop, stop);
  lk_str_copy(why, why_cap, hop.path);
  return stop ? LK_ELOOP : 0;
}
