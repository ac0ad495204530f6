/* lambkin fuzz and lambkin replay of a finding (see fuzz.h): which
 * functions, which engine, how long each, and the reports at the end.
 * Everything it loads and builds is freed before it returns. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "app.h"
#include "engine.h"
#include "fs.h"
#include "fuzz.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "process.h"
#include "report.h"
#include "seeds.h"

#define MAX_SEEDS 64

/* python, node and provided functions: through the emulator. 1 found
 * something, 0 not, -1 could not run. */
static int fuzz_process(const lk_fuzz_opts_t *o, int time_s, lk_app_t *app,
                        const lk_function_t *f, cJSON *report) {
  lk_fuzz_job_t j;
  char *seeds[MAX_SEEDS];
  uint64_t t0 = uv_hrtime();
  const char *unit;
  char key[32];
  double secs;
  int i, rc;

  memset(&j, 0, sizeof(j));
  seeds[0] = lk_seed_first(app, f, o->source, o->seeds, &j.source);
  if (seeds[0] == NULL) {
    printf("%-20s skipped: no S3, SQS, SNS, Logs, DynamoDB or API event to "
           "shape seeds "
           "(--source or --seeds gives one)\n",
           f->name);
    return 0;
  }
  j.n_seeds =
      lk_seeds_corpora(app, j.source, f->name, o->seeds, seeds, 1, MAX_SEEDS);
  j.seeds = seeds;
  j.app = app;
  j.fn = f;
  j.out = o->out;
  j.time_s = time_s;
  j.runs = o->runs;
  j.jobs = o->jobs;
  j.seed = o->seed >= 0 ? (unsigned)o->seed : (unsigned)time(NULL);
  j.status = 1;
  j.first = o->first;
  j.no_fork_server = o->no_fork_server;
  j.report = report;
  printf("%-20s fuzzing (%s events, %d seed(s), %d jobs, process mode) ...\n",
         f->name, j.source, j.n_seeds, o->jobs);
  fflush(stdout);
  rc = lk_fuzz_process(&j);
  for (i = 0; i < j.n_seeds; i++)
    free(seeds[i]);
  if (rc)
    return -1;
  secs = (double)(uv_hrtime() - t0) / 1e9;
  printf("%-20s %ld execs (%.0f/s), corpus %d, %d finding(s)", f->name, j.execs,
         (double)j.execs / (secs > 0 ? secs : 1), j.corpus, j.found);
  /* python counts lines of its own code, node V8's executed blocks */
  unit = f->kind == LK_RT_NODE ? "blocks" : "lines";
  if (j.coverage > 0)
    printf(", %ld %s covered", j.coverage, unit);
  printf("\n");
  lk_report_function(report, f->name, j.source, "process", j.execs,
                     (int)(secs + 0.5), j.corpus, j.found);
  snprintf(key, sizeof(key), "%s_covered", unit);
  if (j.coverage > 0)
    cJSON_AddNumberToObject(
        cJSON_GetArrayItem(
            cJSON_GetObjectItem(report, "functions"),
            cJSON_GetArraySize(cJSON_GetObjectItem(report, "functions")) - 1),
        key, (double)j.coverage);
  return j.found > 0;
}

/* C functions: the in-process engine, when its driver is built. */
static int fuzz_c(const lk_fuzz_opts_t *o, int time_s, const lk_app_t *app,
                  const lk_function_t *f, cJSON *report) {
  lk_engine_job_t j;

  if (access(o->driver, X_OK) != 0) {
    fprintf(stderr,
            "lambkin: fuzz: %s: no fuzzing driver at %s (run make "
            "build-fuzz, or set LAMBKIN_FUZZ_DRIVER)\n",
            f->name, o->driver);
    return -1;
  }
  memset(&j, 0, sizeof(j));
  j.app = app;
  j.fn = f;
  j.driver = o->driver;
  j.out = o->out;
  j.source = o->source;
  j.seeds_path = o->seeds;
  j.time_s = time_s;
  j.runs = o->runs;
  j.jobs = o->jobs;
  j.seed = o->seed;
  j.pass = o->pass;
  j.n_pass = o->n_pass;
  j.report = report;
  return lk_engine_fuzz(&j);
}

static int has_event_source(const lk_app_t *app, const lk_function_t *f) {
  const char *source = NULL;
  char *ev = lk_seed_event(app, f, NULL, &source);

  free(ev);
  return ev != NULL;
}

/* Which functions to fuzz: the named ones, or every one that has an event
 * source lambkin can shape seeds for (or all, with --source or --seeds).
 * Returns the array (the caller frees it) and the count in *n. */
static char *wanted(const lk_fuzz_opts_t *o, const lk_app_t *app, int *n) {
  char *want = lk_xcalloc((size_t)app->n_functions + 1, 1);
  int i, k;

  *n = 0;
  for (i = 0; i < app->n_functions; i++) {
    want[i] =
        o->n_fns == 0 && !app->functions[i].unrunnable &&
        (o->source || o->seeds || has_event_source(app, &app->functions[i]));
    for (k = 0; k < o->n_fns; k++)
      want[i] |= strcmp(o->fns[k], app->functions[i].name) == 0;
    *n += want[i];
  }
  return want;
}

/* Fuzzes one function and points its new findings at their source, for
 * SARIF. 1 found something, 0 not, -1 could not run. */
static int fuzz_function(const lk_fuzz_opts_t *o, int time_s, lk_app_t *app,
                         const lk_function_t *f, cJSON *report) {
  cJSON *findings = cJSON_GetObjectItem(report, "findings");
  int before = cJSON_GetArraySize(findings), k, rc;

  rc = f->kind == LK_RT_C ? fuzz_c(o, time_s, app, f, report)
                          : fuzz_process(o, time_s, app, f, report);
  for (k = before; k < cJSON_GetArraySize(findings); k++)
    lk_report_locate(cJSON_GetArrayItem(findings, k), app->path, f->line);
  return rc;
}

static int write_reports(const lk_fuzz_opts_t *o, const cJSON *report) {
  if ((o->json && lk_save_json(o->json, report)) ||
      (o->sarif && lk_report_sarif(report, o->sarif)) ||
      (o->junit && lk_report_junit(report, o->junit))) {
    fprintf(stderr, "lambkin: fuzz: cannot write a report\n");
    return -1;
  }
  return 0;
}

int lk_fuzz_run(const lk_fuzz_opts_t *o) {
  lk_app_t *app;
  char err[2048], *want;
  int i, rc, worst = 0, n_todo, time_s;
  cJSON *report;

  if (lk_app_load(o->template_path, &o->app, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return 2;
  }
  lk_app_say_warnings(app, stderr);
  for (i = 0; i < o->n_fns; i++) {
    const lk_function_t *f = lk_app_function(app, o->fns[i]);

    if (f == NULL || f->unrunnable) {
      fprintf(stderr, "lambkin: fuzz: %s%s\n",
              f ? "cannot run " : "no function ",
              f ? f->unrunnable : o->fns[i]);
      lk_app_free(app);
      return 2;
    }
  }
  want = wanted(o, app, &n_todo);
  /* --time bounds the whole run: each function gets its share. */
  time_s = o->time_s > 0 && n_todo > 0 ? o->time_s / n_todo : 0;
  if (o->time_s > 0 && time_s < 1)
    time_s = 1;
  report = lk_report_new();
  for (i = 0; i < app->n_functions; i++) {
    if (!want[i])
      continue;
    rc = fuzz_function(o, time_s, app, &app->functions[i], report);
    if (rc < 0)
      worst = 2;
    else if (rc > 0 && worst == 0)
      worst = 1;
  }
  free(want);
  lk_app_free(app);
  /* The findings table, then the reports the nightly job asked for. */
  lk_report_table(report, o->template_path, stdout);
  if (write_reports(o, report))
    worst = 2;
  cJSON_Delete(report);
  return worst;
}

/* The event once more, with the sink library and every oracle; it
 * reproduces when the same class shows up on the same function. */
int lk_fuzz_replay(const char *template_path, const lk_app_opts_t *ao,
                   const char *state_dir, const cJSON *rec) {
  const char *cls = lk_json_str(rec, "class");
  const char *fname = lk_json_str(rec, "function");
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event"), *v;
  lk_fuzz_job_t j;
  lk_app_t *app;
  char err[2048], out[PATH_MAX], *event;
  int same = 0, match, rc = 0;

  if (lk_app_load(template_path, ao, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return 2;
  }
  memset(&j, 0, sizeof(j));
  j.fn = fname ? lk_app_function(app, fname) : NULL;
  if (j.fn == NULL || ev == NULL || cls == NULL) {
    fprintf(stderr, "lambkin: replay: no function %s in %s\n",
            fname ? fname : "(none)", app->path);
    lk_app_free(app);
    return 2;
  }
  if (lk_path_join(out, sizeof(out), state_dir, "replay")) {
    fprintf(stderr, "lambkin: replay: path too long: %s\n", state_dir);
    lk_app_free(app);
    return 2;
  }
  event = cJSON_IsString(ev) ? lk_xstrdup(ev->valuestring)
                             : cJSON_PrintUnformatted(ev);
  j.app = app;
  j.source = lk_json_str(rec, "source") ? lk_json_str(rec, "source") : "replay";
  j.seeds = &event;
  j.n_seeds = 1;
  j.out = out;
  j.jobs = 1;
  j.replay = 1;
  j.no_fork_server = 1; /* one instance: exec starts it before a fork
                         * server would have loaded */
  j.verdicts = cJSON_CreateArray();
  if (lk_fuzz_process(&j)) {
    fprintf(stderr, "lambkin: replay: cannot run %s\n", fname);
    rc = 2;
  } else {
    cJSON_ArrayForEach(v, j.verdicts) {
      match = strcmp(lk_json_str(v, "class"), cls) == 0 &&
              strcmp(lk_json_str(v, "function"), fname) == 0;
      fprintf(stderr, "replay: %s %s: %s%s\n", lk_json_str(v, "class"),
              lk_json_str(v, "function"), lk_json_str(v, "evidence"),
              match ? "" : " (another finding)");
      same |= match;
    }
    fprintf(stderr, "replay: %s finding on %s: %s\n", cls, fname,
            same ? "reproduced" : "not reproduced");
  }
  free(event);
  cJSON_Delete(j.verdicts);
  lk_app_free(app);
  return rc ? rc : same;
}
