/* Process mode of `lambkin fuzz` (python, node and provided functions,
 * through a private emulator), and the finding check of `lambkin replay`.
 * A job is the caller's; the run fills in its results and adds findings
 * to its report. */
#ifndef LK_PROCESS_H
#define LK_PROCESS_H

#include <cjson/cJSON.h>

#include "app.h"

typedef struct lk_fuzz_job {
  lk_app_t *app;
  const lk_function_t *fn;
  const char *source; /* "s3", "sqs", "logs", "apigw", "apigw-v2" */
  char **seeds;       /* the first corpus (the caller owns them) */
  int n_seeds;
  const char *out; /* --out: state/, sink/, bin/, findings/, corpus/ */
  int time_s;      /* stop after this long (0: no limit) */
  long runs;       /* stop after this many invocations (0: no limit) */
  int jobs;        /* invocations in flight, one instance each */
  unsigned seed;   /* the mutator's random seed */
  int replay;      /* run seeds[0] once, unmutated, until all settles */
  int status;      /* print a status line while it runs */
  int first;       /* stop at the first finding (--first) */
  cJSON *report;   /* findings go to report["findings"] */
  /* results */
  long execs;
  int found;
  int corpus;
  long coverage;   /* python: lines of the task's code run (0: unknown) */
  cJSON *verdicts; /* replay: every verdict of the run (caller frees) */
} lk_fuzz_job_t;

/* Runs the job through a fresh emulator. 0, or -1 when it cannot start. */
int lk_fuzz_process(lk_fuzz_job_t *job);

#endif
