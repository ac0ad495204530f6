/* lambkin fuzz: every function of a template (or the named ones) fuzzed in
 * turn for its share of the time, C functions by the in-process engine
 * (engine.h), python, node and provided ones in process mode
 * (process.h), then the findings table and the reports asked for; and
 * lambkin replay of a finding. */
#ifndef LK_FUZZ_H
#define LK_FUZZ_H

#include <cjson/cJSON.h>

#include "app.h"

typedef struct lk_fuzz_opts {
  const char *template_path;
  lk_app_opts_t app;                /* the template's parameters */
  const char *out;                  /* default .lambkin/fuzz */
  const char *sarif, *junit, *json; /* reports, or NULL */
  const char *source;               /* --source: seeds for a function with
                                       no Events */
  const char *seeds;                /* --seeds FILE|DIR */
  const char *const *fns;           /* the functions named, or none: all */
  int n_fns;
  int time_s; /* the whole run, shared among the functions */
  long runs;  /* per function; 0: until the time is up */
  int jobs;
  long seed;         /* -1: a new one */
  char *const *pass; /* libFuzzer flags after "--" */
  int n_pass;
  int first;          /* stop each function at its first finding */
  int no_fork_server; /* python instances started by exec, not forked */
  const char *driver; /* the in-process engine's libFuzzer driver */
} lk_fuzz_opts_t;

/* 0 nothing found, 1 findings, 2 error. */
int lk_fuzz_run(const lk_fuzz_opts_t *o);
/* `lambkin replay` of a finding record: the event once more, with the
 * sink library and every oracle. 1 reproduced, 0 not, 2 error. */
int lk_fuzz_replay(const char *template_path, const lk_app_opts_t *ao,
                   const char *state_dir, const cJSON *rec);

#endif
