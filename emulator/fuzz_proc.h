/* Process mode of `lambkin fuzz`, and the finding check of `lambkin
 * replay` (see fuzz_proc.c). */
#ifndef LK_FUZZ_PROC_H
#define LK_FUZZ_PROC_H

#include <cjson/cJSON.h>

#include "app.h"

typedef struct lk_fuzz_job {
  lk_app_t *app;
  lk_function_t *fn;
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

/* Makes out/bin with the tripwire (also at its fixed path in /tmp) and
 * finds the sink library; its path goes to sink_lib. 0 or -1. */
int lk_fuzz_prepare(const char *out, char *sink_lib, size_t cap);

/* Runs the job through a fresh emulator. 0, or -1 when it cannot start. */
int lk_fuzz_process(lk_fuzz_job_t *job);

#endif
