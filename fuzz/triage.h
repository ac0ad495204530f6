/* What a libFuzzer run of the in-process engine left behind: how many
 * executions it made, and one finding per crash file it kept, classed
 * from its log (a sanitizer report, whose crash state is formed as
 * ClusterFuzz forms it, or the driver's "==LAMBKIN== FINDING" line). Each
 * finding becomes a reproducer file and an entry of the caller's list. */
#ifndef LK_TRIAGE_H
#define LK_TRIAGE_H

#include <time.h>

#include <cjson/cJSON.h>

typedef struct lk_triage_run {
  const char *artifacts; /* where libFuzzer put crash-*, leak-*, timeout-* */
  const char *findings;  /* where the reproducers go */
  const char *function, *source;
  const char *log; /* libFuzzer's output */
  time_t since;    /* files older than this are an earlier run's */
  long execs;
  double took_s;
} lk_triage_run_t;

/* Executions of the run: its final stats, or in fork mode (which prints
 * none) its last "#N: cov: ..." line; -1 when the log has neither. */
long lk_triage_execs(const char *log);
/* Adds the run's findings to list, one per (class, function, crash
 * state); returns how many. */
int lk_triage_collect(const lk_triage_run_t *run, cJSON *list);

#endif
