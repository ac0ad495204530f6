/* Process mode of `lambkin fuzz` (python, node and provided functions,
 * through a private emulator), and the finding check of `lambkin replay`.
 * A job is the caller's; the run fills in its results and adds findings
 * to its report. */
#ifndef LK_PROCESS_H
#define LK_PROCESS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "mutator.h"

typedef struct lk_fuzz_job {
  lk_app_t *app;
  const lk_function_t *fn;
  const char *source; /* "s3", "sqs", "logs", "apigw", "apigw-v2" */
  char **seeds;       /* the first corpus (the caller owns them) */
  int n_seeds;
  const char *out;      /* --out: state/, sink/, bin/, findings/, corpus/ */
  const char *findings; /* findings elsewhere than out/findings, or NULL */
  int time_s;           /* stop after this long (0: no limit) */
  long runs;            /* stop after this many invocations (0: no limit) */
  int jobs;             /* invocations in flight, one instance each */
  unsigned seed;        /* the mutator's random seed */
  int replay;           /* run seeds[0] once, unmutated, until all settles */
  int status;           /* print a status line while it runs */
  int first;            /* stop at the first finding (--first) */
  int no_fork_server;   /* --no-fork-server: python instances by exec */
  cJSON *report;        /* findings go to report["findings"] */
  /* results */
  long execs;
  int found;
  int corpus;
  long coverage;   /* lines (python) or blocks (node) of its code run */
  cJSON *verdicts; /* replay: every verdict of the run (caller frees) */
} lk_fuzz_job_t;

/* Runs the job through a fresh emulator. 0, or -1 when it cannot start. */
int lk_fuzz_process(lk_fuzz_job_t *job);

/* The same machinery one input at a time, for a libFuzzer-compatible
 * target: open starts the emulator (the job's seeds and runs are not
 * used; exits when it cannot start), each step runs one event through
 * the function and waits for it. A step returns 1 when the event proved
 * a finding (written as a reproducer, as lambkin fuzz writes them), and
 * leaves in units[0..*n_units) the invocation's coverage units (hashes
 * of the lines or blocks it ran). The words are the function's
 * dictionary so far. */
typedef struct lk_fuzz_step lk_fuzz_step_t;
lk_fuzz_step_t *lk_fuzz_step_open(lk_fuzz_job_t *job, uint32_t *units,
                                  int max_units);
int lk_fuzz_step(lk_fuzz_step_t *s, const char *event, size_t len,
                 int *n_units);
const lk_words_t *lk_fuzz_step_words(lk_fuzz_step_t *s, lk_words_t *w);

#endif
