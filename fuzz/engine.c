/* The in-process engine (see engine.h). One run per function: paths under
 * --out, seeds, the instrumented build, libFuzzer's command line and
 * environment, then triage and the corpus merge. */
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "engine.h"
#include "fs.h"
#include "json.h"
#include "mem.h"
#include "report.h"
#include "s3filter.h"
#include "seeds.h"
#include "triage.h"
#include "tripwire.h"

#define MAX_ARGS 64
#define MAX_SOURCES 40
#define MAX_GIVEN 64
#define LOOPS_MAX 4096

/* Where one function's run lives, all absolute: the driver runs in the
 * artifacts folder, where a fuzzed command's files land. */
typedef struct paths {
  char dir[PATH_MAX], so[PATH_MAX], seeds[PATH_MAX], corpus[PATH_MAX],
      findings[PATH_MAX], artifacts[PATH_MAX], log[PATH_MAX];
} paths_t;

/* Runs argv (in cwd, when given, its output to log) and waits; its exit
 * status. */
static int run(char *const argv[], char *const envp[], const char *log,
               const char *cwd) {
  pid_t pid = fork();
  int st;

  if (pid < 0)
    return -1;
  if (pid == 0) {
    if (cwd && chdir(cwd) != 0)
      _exit(127);
    if (log &&
        (freopen(log, "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0))
      _exit(127);
    if (envp)
      execve(argv[0], argv, envp); /* the driver: an absolute path */
    else
      execvp(argv[0], argv);
    _exit(127);
  }
  if (waitpid(pid, &st, 0) < 0)
    return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Builds the handler .so with libFuzzer's instrumentation and sanitizers
 * (LAMBKIN_FUZZ_CC, else clang). */
static int build_so(const lk_function_t *f, const char *so) {
  const char *cc = getenv("LAMBKIN_FUZZ_CC");
  char *argv[MAX_ARGS], inc[PATH_MAX], files[MAX_SOURCES][PATH_MAX];
  DIR *d = opendir(f->code_dir);
  struct dirent *e;
  size_t l;
  int n = 0, k = 0;

  if (d == NULL)
    return -1;
  argv[n++] = (char *)(cc ? cc : "clang");
  argv[n++] = "-shared";
  argv[n++] = "-fPIC";
  argv[n++] = "-g";
  argv[n++] = "-O1";
  argv[n++] = "-fsanitize=fuzzer-no-link,address,undefined";
  snprintf(inc, sizeof(inc), "-I%s/include", LK_SOURCE_DIR);
  argv[n++] = inc;
  argv[n++] = "-o";
  argv[n++] = (char *)so;
  for (e = readdir(d); e && k < MAX_SOURCES; e = readdir(d)) {
    l = strlen(e->d_name);
    if (l > 2 && strcmp(e->d_name + l - 2, ".c") == 0 &&
        lk_path_join(files[k], sizeof(files[k]), f->code_dir, e->d_name) == 0)
      argv[n++] = files[k++];
  }
  closedir(d);
  argv[n] = NULL;
  return k ? run(argv, NULL, NULL, NULL) : -1;
}

static void remove_flat_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[PATH_MAX];

  for (e = d ? readdir(d) : NULL; e; e = readdir(d))
    if (e->d_name[0] != '.' &&
        lk_path_join(path, sizeof(path), dir, e->d_name) == 0)
      unlink(path);
  if (d)
    closedir(d);
  rmdir(dir);
}

/* One line of LAMBKIN_FUZZ_LOOPS: "kind\ta" or "kind\ta\tb\tc", unless
 * it would be cut. */
static void loop_line(lk_buf_t *out, const char *kind, const char *a,
                      const char *b, const char *c) {
  char line[1200];
  int n = b ? snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\n", kind, a, b, c)
            : snprintf(line, sizeof(line), "%s\t%s\n", kind, a);

  if (n > 0 && (size_t)n < sizeof(line) && (size_t)n <= lk_buf_room(out))
    lk_buf_add(out, line, (size_t)n);
}

/* For the in-process driver's self-invocation oracle: what would run this
 * function again, one per line: "invoke\tNAME", "s3\tBUCKET\tPREFIX\t
 * SUFFIX" (its S3 events and the template's bucket notifications to it)
 * and "sqs\tQUEUE" (its SQS event sources). */
static void self_triggers(const lk_app_t *app, const lk_function_t *f,
                          lk_buf_t *out) {
  const cJSON *ev, *c, *p;
  const char *type, *q, *fn;
  lk_s3_filter_t kf;
  int i;

  loop_line(out, "invoke", f->name, NULL, NULL);
  loop_line(out, "invoke", f->arn, NULL, NULL);
  cJSON_ArrayForEach(ev, f->events) {
    p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
    type = lk_json_str(ev, "Type");
    if (type && strcmp(type, "S3") == 0 && lk_json_str(p, "Bucket")) {
      lk_s3_filter_json(cJSON_GetObjectItemCaseSensitive(p, "Filter"), &kf);
      loop_line(out, "s3", lk_json_str(p, "Bucket"), kf.prefix, kf.suffix);
    } else if (type && strcmp(type, "SQS") == 0 && lk_json_str(p, "Queue")) {
      q = strrchr(lk_json_str(p, "Queue"), ':');
      loop_line(out, "sqs", q ? q + 1 : lk_json_str(p, "Queue"), NULL, NULL);
    }
  }
  for (i = 0; i < app->n_buckets; i++)
    cJSON_ArrayForEach(
        c, cJSON_GetObjectItemCaseSensitive(app->buckets[i].notification,
                                            "LambdaConfigurations")) {
      fn = lk_json_str(c, "Function");
      if (fn == NULL || (strcmp(fn, f->arn) != 0 && strcmp(fn, f->name) != 0))
        continue;
      lk_s3_filter_json(cJSON_GetObjectItemCaseSensitive(c, "Filter"), &kf);
      loop_line(out, "s3", app->buckets[i].name, kf.prefix, kf.suffix);
    }
}

/* Minimizes the kept corpus with libFuzzer's merge: an input stays only
 * if it adds coverage. The old corpus goes only once the merge is done. */
static void merge_corpus(const char *driver, char *const envp[],
                         const paths_t *p) {
  char merged[PATH_MAX], old[PATH_MAX], log[PATH_MAX];
  char *argv[] = {(char *)driver, "-merge=1", merged, (char *)p->corpus, NULL};

  if (snprintf(merged, sizeof(merged), "%s.merged", p->corpus) >=
          (int)sizeof(merged) ||
      snprintf(old, sizeof(old), "%s.old", p->corpus) >= (int)sizeof(old) ||
      lk_path_join(log, sizeof(log), p->artifacts, "merge.log"))
    return;
  remove_flat_dir(merged);
  if (lk_mkdirs(merged) || run(argv, envp, log, p->artifacts) != 0) {
    remove_flat_dir(merged);
    return;
  }
  remove_flat_dir(old);
  if (rename(p->corpus, old) == 0 && rename(merged, p->corpus) == 0)
    remove_flat_dir(old);
}

/* dir/<prefix><name><suffix> into out[PATH_MAX]; 0 or LK_E2BIG. */
static int path_of(char *out, const char *dir, const char *prefix,
                   const char *name, const char *suffix) {
  char sub[400];

  snprintf(sub, sizeof(sub), "%s%s%s", prefix, name, suffix);
  return lk_path_join(out, PATH_MAX, dir, sub);
}

/* The run's folders under --out, made; 0 or -1. */
static int make_paths(const lk_engine_job_t *j, paths_t *p) {
  const char *name = j->fn->name;
  char build[PATH_MAX];

  if (lk_mkdirs(j->out) || realpath(j->out, p->dir) == NULL ||
      path_of(p->so, p->dir, "build/", name, ".so") ||
      path_of(p->seeds, p->dir, "seeds/", name, "") ||
      path_of(p->corpus, p->dir, "corpus/", name, "") ||
      path_of(p->findings, p->dir, "findings", "", "") ||
      path_of(p->artifacts, p->dir, "artifacts/", name, "") ||
      path_of(p->log, p->artifacts, "fuzz.log", "", "") ||
      path_of(build, p->dir, "build", "", ""))
    return -1;
  return lk_mkdirs(p->seeds) || lk_mkdirs(p->corpus) ||
                 lk_mkdirs(p->findings) || lk_mkdirs(p->artifacts) ||
                 lk_mkdirs(build)
             ? -1
             : 0;
}

/* The generated seed, and --seeds beside it; 0 or -1. */
static int write_seeds(const lk_engine_job_t *j, const paths_t *p,
                       const char *ev, const char *source) {
  char name[64], path[PATH_MAX], *given[MAX_GIVEN];
  int k, n;

  snprintf(name, sizeof(name), "%s.json", source);
  if (lk_path_join(path, sizeof(path), p->seeds, name) ||
      lk_write_file_atomic(path, ev, strlen(ev)))
    return -1;
  n = j->seeds_path ? lk_seeds_read(j->seeds_path, given, 0, MAX_GIVEN) : 0;
  for (k = 0; k < n; k++) {
    snprintf(name, sizeof(name), "given-%d.json", k);
    if (lk_path_join(path, sizeof(path), p->seeds, name) == 0)
      lk_write_file_atomic(path, given[k], strlen(given[k]));
    free(given[k]);
  }
  return 0;
}

/* printf into one slot of a store of strings; returns the slot. */
static char *fmt(char *slot, const char *f, ...)
    __attribute__((format(printf, 2, 3)));
static char *fmt(char *slot, const char *f, ...) {
  va_list ap;

  va_start(ap, f);
  vsnprintf(slot, PATH_MAX, f, ap);
  va_end(ap);
  return slot;
}

/* libFuzzer's command line: limits, artifacts, corpus first (where it
 * adds inputs), then the seeds and the template's corpora. The strings
 * live in store. */
static void command(const lk_engine_job_t *j, const paths_t *p,
                    const char *source, char **argv, char store[][PATH_MAX]) {
  int n = 0, s = 0, i;

  argv[n++] = (char *)j->driver;
  if (j->time_s > 0)
    argv[n++] = fmt(store[s++], "-max_total_time=%d", j->time_s);
  if (j->runs > 0)
    argv[n++] = fmt(store[s++], "-runs=%ld", j->runs);
  argv[n++] = fmt(store[s++], "-artifact_prefix=%s/", p->artifacts);
  argv[n++] = "-print_final_stats=1";
  if (j->jobs > 1) /* libFuzzer's fork mode: --jobs processes */
    argv[n++] = fmt(store[s++], "-fork=%d", j->jobs);
  if (j->seed >= 0)
    argv[n++] = fmt(store[s++], "-seed=%ld", j->seed);
  for (i = 0; i < j->n_pass && n < MAX_ARGS - 8; i++)
    argv[n++] = j->pass[i];
  argv[n++] = (char *)p->corpus;
  argv[n++] = (char *)p->seeds;
  fmt(store[s], "%s/corpora/%s", j->app->dir, source);
  if (access(store[s], R_OK) == 0)
    argv[n++] = store[s];
  argv[n] = NULL;
}

/* The driver's environment: the handler, its self-triggers and, when the
 * sink library is there, the tripwire first on PATH and the sink. The
 * strings live in store and loops. */
static void environment(const lk_engine_job_t *j, const paths_t *p, char **envp,
                        char store[][PATH_MAX], lk_buf_t *loops) {
  const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
  char sink_lib[PATH_MAX];
  int n = 0, sink = lk_fuzz_prepare(p->dir, sink_lib, sizeof(sink_lib)) == 0;

  envp[n] = fmt(store[n], "LAMBKIN_FUZZ_SO=%s", p->so);
  n++;
  envp[n] = fmt(store[n], "LAMBKIN_FUZZ_SYMBOL=%s", j->fn->handler);
  n++;
  if (sink)
    envp[n] = fmt(store[n], "PATH=%s/bin:%s", p->dir, path);
  else
    envp[n] = fmt(store[n], "PATH=%s", path);
  n++;
  lk_buf_adds(loops, "LAMBKIN_FUZZ_LOOPS=");
  self_triggers(j->app, j->fn, loops);
  envp[n++] = (char *)lk_buf_str(loops);
  /* The sink library and the tripwire, as in process mode: the driver
   * judges each call's report (fuzz_handler.c). */
  if (sink) {
    envp[n] = fmt(store[n], "LD_PRELOAD=%s", sink_lib);
    n++;
    envp[n] = fmt(store[n], "LAMBKIN_SINK_LOG=%s/sink.log", p->artifacts);
    n++;
    envp[n] = fmt(store[n], "LAMBKIN_TASK_ROOT=%s", j->fn->code_dir);
    n++;
  }
  envp[n] = NULL;
}

/* Runs the driver, then turns what it kept into findings. */
static int fuzz_run(const lk_engine_job_t *j, const paths_t *p,
                    const char *source) {
  char *argv[MAX_ARGS], *envp[10], astore[8][PATH_MAX], estore[8][PATH_MAX];
  lk_buf_t loops;
  lk_triage_run_t t;
  time_t started = time(NULL) - 1;
  uint64_t t0 = uv_hrtime();
  int rc, found;

  lk_buf_init(&loops, LOOPS_MAX);
  command(j, p, source, argv, astore);
  environment(j, p, envp, estore, &loops);
  printf("%-20s fuzzing (%s events, in process) ...\n", j->fn->name, source);
  fflush(stdout);
  rc = run(argv, envp, p->log, p->artifacts);
  memset(&t, 0, sizeof(t));
  t.artifacts = p->artifacts;
  t.findings = p->findings;
  t.function = j->fn->name;
  t.source = source;
  t.log = p->log;
  t.since = started;
  t.execs = lk_triage_execs(p->log);
  t.took_s = (double)(uv_hrtime() - t0) / 1e9;
  found = lk_triage_collect(&t, cJSON_GetObjectItem(j->report, "findings"));
  merge_corpus(j->driver, envp, p);
  lk_report_function(j->report, j->fn->name, source, "in-process", t.execs,
                     (int)(time(NULL) - started), -1, found);
  printf("%-20s %ld execs, %d finding(s)%s\n", j->fn->name, t.execs, found,
         rc == 0 || found ? "" : " (the fuzzer failed: see fuzz.log)");
  lk_buf_free(&loops);
  return found > 0 ? 1 : rc == 0 ? 0 : -1;
}

int lk_engine_fuzz(const lk_engine_job_t *j) {
  const char *source = NULL;
  char *ev = lk_seed_first(j->app, j->fn, j->source, j->seeds_path, &source);
  paths_t p;
  int rc;

  if (ev == NULL) {
    printf(
        "%-20s skipped: no S3, SQS, SNS, Logs, DynamoDB or API event to shape "
        "seeds\n",
        j->fn->name);
    return 0;
  }
  rc = make_paths(j, &p);
  if (rc == 0)
    rc = write_seeds(j, &p, ev, source);
  free(ev);
  if (rc) {
    fprintf(stderr, "lambkin: fuzz: cannot write under %s\n", j->out);
    return -1;
  }
  if (build_so(j->fn, p.so) != 0) {
    fprintf(stderr, "lambkin: fuzz: cannot build %s with clang\n", j->fn->name);
    return -1;
  }
  return fuzz_run(j, &p, source);
}
