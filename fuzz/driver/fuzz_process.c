/* A libFuzzer-compatible target for one python, node or provided function:
 * lambkin fuzz's process mode behind LLVMFuzzerTestOneInput, so
 * ClusterFuzzLite (batch, code-change and prune modes) and plain libFuzzer
 * (-runs, -fork, -jobs, corpus folders, crash files) run it as they run a
 * C target. An input is an event. A private emulator runs the function
 * (warm instances, the sink library, the tripwire), the oracles judge
 * each invocation, and the lines or blocks of the function's own code it
 * ran reach libFuzzer as extra counters (the emulator itself carries no
 * coverage counters). A finding is written as lambkin fuzz writes one
 * (a reproducer for `lambkin replay`, in LAMBKIN_FINDINGS or the working
 * folder), then the target aborts, so libFuzzer keeps the input as a
 * crash file.
 *
 * What to fuzz, from the environment or, for a packaged target, from
 * "<binary>.lambkin" beside it (the environment wins):
 *   template=  LAMBKIN_TEMPLATE     the app's template
 *   function=  LAMBKIN_FUNCTION     its function
 *   source=    LAMBKIN_SOURCE       by default, its first event's
 *   runtimes=  LAMBKIN_RUNTIME_DIR  lambkin's runtimes/ (packaged copy)
 *   sink=      LAMBKIN_SINK_LIB     liblambkin_sink.so
 *   sandbox=   LAMBKIN_SANDBOX      lambkin-sandbox
 * Paths in the file are taken from the file's folder. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "mutator.h"
#include "process.h"
#include "seeds.h"

#define MAX_UNITS 65536
#define MAX_EVENT (256 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t alen,
                                 const uint8_t *b, size_t blen, uint8_t *out,
                                 size_t max, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

/* libFuzzer reads this section after every input, as it reads its own
 * coverage counters: each unit the invocation ran bumps one. */
__attribute__((
    section("__libfuzzer_extra_counters"))) static uint8_t counters[MAX_UNITS];

static lk_fuzz_step_t *step;
static lk_fuzz_job_t job;
static lk_source_t source;
static uint32_t units[MAX_UNITS];

/* "key=value" lines of the target's config file into the environment,
 * where the environment does not set them already. */
static void read_config(const char *argv0) {
  char path[PATH_MAX], line[PATH_MAX], dir[PATH_MAX], full[PATH_MAX];
  static const char *const keys[][2] = {
      {"template=", "LAMBKIN_TEMPLATE"}, {"runtimes=", "LAMBKIN_RUNTIME_DIR"},
      {"sink=", "LAMBKIN_SINK_LIB"},     {"sandbox=", "LAMBKIN_SANDBOX"},
      {"function=", "LAMBKIN_FUNCTION"}, {"source=", "LAMBKIN_SOURCE"}};
  const char *slash;
  FILE *f;
  size_t k;

  snprintf(path, sizeof(path), "%s.lambkin", argv0);
  f = fopen(path, "r");
  if (f == NULL)
    return;
  slash = strrchr(path, '/');
  snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
           slash ? path : ".");
  while (fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\r\n")] = '\0';
    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
      const char *v = line + strlen(keys[k][0]);

      if (strncmp(line, keys[k][0], strlen(keys[k][0])) != 0 ||
          getenv(keys[k][1]))
        continue;
      if (k < 4 && v[0] != '/') /* a path: from the file's folder */
        snprintf(full, sizeof(full), "%s/%s", dir, v);
      else
        snprintf(full, sizeof(full), "%s", v);
      setenv(keys[k][1], full, 1);
    }
  }
  fclose(f);
}

static void usage(const char *why) {
  fprintf(stderr,
          "lambkin process target: %s\n"
          "  set LAMBKIN_TEMPLATE and LAMBKIN_FUNCTION (and LAMBKIN_SOURCE "
          "for a function without events), or put template= and function= "
          "in <binary>.lambkin\n",
          why);
  exit(2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *tpl, *fn, *src, *findings = getenv("LAMBKIN_FINDINGS");
  static char out[] = "/tmp/lambkin-target-XXXXXX", where[PATH_MAX];
  char err[1024], *first;
  lk_app_t *app;

  (void)argc;
  read_config((*argv)[0]);
  tpl = getenv("LAMBKIN_TEMPLATE");
  fn = getenv("LAMBKIN_FUNCTION");
  if (tpl == NULL || fn == NULL)
    usage("no function to fuzz");
  if (lk_app_load(tpl, NULL, &app, err, sizeof(err)) != 0)
    usage(err);
  job.app = app;
  job.fn = lk_app_function(app, fn);
  if (job.fn == NULL)
    usage("no such function in the template");
  src = getenv("LAMBKIN_SOURCE");
  first = lk_seed_first(app, job.fn, src, NULL, &job.source);
  if (first == NULL)
    usage("the function has no event of a known source (LAMBKIN_SOURCE)");
  source = lk_event_source(first, strlen(first));
  free(first);
  if (mkdtemp(out) == NULL)
    usage("cannot make a working folder in /tmp");
  job.out = out; /* state and sink reports: this process's own */
  if (realpath(findings ? findings : ".", where) == NULL)
    usage("LAMBKIN_FINDINGS is not a folder");
  job.findings = where; /* beside libFuzzer's crash files by default */
  job.jobs = 1;
  job.report = cJSON_CreateObject();
  cJSON_AddArrayToObject(job.report, "findings");
  step = lk_fuzz_step_open(&job, units, MAX_UNITS);
  return 0;
}

/* What the last finding was, for the crash report. */
static void say_finding(void) {
  const cJSON *all = cJSON_GetObjectItem(job.report, "findings");
  const cJSON *f = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);

  fprintf(stderr,
          "==lambkin== %s finding on %s: %s\n  replay: lambkin replay %s\n",
          cJSON_GetStringValue(cJSON_GetObjectItem(f, "class")), job.fn->name,
          cJSON_GetStringValue(cJSON_GetObjectItem(f, "evidence")),
          cJSON_GetStringValue(cJSON_GetObjectItem(f, "reproducer")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int n = 0, i, found = job.found;

  if (size == 0 || size > MAX_EVENT ||
      lk_event_source((const char *)data, size) != source)
    return -1; /* not an event this function's source sends: not kept */
  if (lk_fuzz_step(step, (const char *)data, size, &n) || job.found > found) {
    if (job.found > found)
      say_finding();
    else
      fprintf(stderr, "==lambkin== a finding this process wrote before\n");
    abort(); /* libFuzzer writes the input as a crash file */
  }
  for (i = 0; i < n; i++) {
    uint8_t *c = &counters[units[i] % MAX_UNITS];

    if (*c < 255)
      (*c)++;
  }
  return 0;
}

/* The event-aware mutator with the function's dictionary; libFuzzer's
 * own byte mutations inside a field. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed) {
  lk_words_t w;
  size_t n =
      lk_mutate_event_words((char *)data, size, max, seed, LLVMFuzzerMutate,
                            step ? lk_fuzz_step_words(step, &w) : NULL);

  return n ? n : LLVMFuzzerMutate(data, size, max);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t alen,
                                 const uint8_t *b, size_t blen, uint8_t *out,
                                 size_t max, unsigned int seed) {
  return lk_crossover_event((const char *)a, alen, (const char *)b, blen,
                            (char *)out, max, seed);
}
