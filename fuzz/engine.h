/* The in-process engine of lambkin fuzz, for C functions: the handler is
 * built with libFuzzer's instrumentation and sanitizers, a seed shaped
 * like the function's event source is written, and the libFuzzer driver
 * (fuzz/driver/fuzz_handler.c) runs it with the sink library and the
 * tripwire; each crash it keeps becomes a reproducer (triage.h), and the
 * corpus is merged for the next run. */
#ifndef LK_ENGINE_H
#define LK_ENGINE_H

#include <cjson/cJSON.h>

#include "app.h"

typedef struct lk_engine_job {
  const lk_app_t *app;
  const lk_function_t *fn;
  const char *driver;     /* the libFuzzer driver */
  const char *out;        /* --out: build/, seeds/, corpus/, findings/ ... */
  const char *source;     /* --source, or NULL */
  const char *seeds_path; /* --seeds, or NULL */
  int time_s;             /* 0: no limit */
  long runs;              /* 0: no limit */
  int jobs;               /* more than 1: libFuzzer's fork mode */
  long seed;              /* -1: libFuzzer's own */
  char *const *pass;      /* libFuzzer flags after "--" */
  int n_pass;
  cJSON *report; /* the function and its findings are added here */
} lk_engine_job_t;

/* 1 when it found something, 0 when not, -1 when it could not run. */
int lk_engine_fuzz(const lk_engine_job_t *job);

#endif
