/* `lambkin fuzz`: the in-process engine for C functions. For each function
 * it builds the handler with the fuzzer's instrumentation, writes a seed
 * event shaped like the function's event source, runs the libFuzzer
 * driver (build-fuzz/fuzz/fuzz_handler) for --time seconds, and turns
 * each crash libFuzzer keeps into a reproducer that `lambkin replay`
 * re-runs in the emulator. python, node and provided functions go through
 * the emulator instead (process mode, fuzz_proc.c). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "apigw.h"
#include "app.h"
#include "codec.h"
#include "emu.h"
#include "events.h"
#include "fuzz_cmd.h"
#include "sarif.h"
#include "fuzz_proc.h"
#include "http.h"
#include "lambkin/lambkin.h"
#include "mutator.h"

#define MAX_FNS 32
#define MAX_PASS 32

typedef struct fopts {
  const char *template_path, *out, *sarif, *junit, *json;
  const char *source; /* --source: seeds for a function with no Events */
  const char *seeds;  /* --seeds FILE|DIR: more seed events */
  const char *fns[MAX_FNS];
  int n_fns;
  int time_s; /* the whole run; shared among the functions */
  int fn_time_s;
  long runs; /* per function; 0: until the time is up */
  int jobs;
  long seed;
  char *pass[MAX_PASS]; /* libFuzzer flags after "--" */
  int n_pass;
  int first; /* --first: stop each function at its first finding */
} fopts_t;

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A seed event for the function's first event source; the source's name
 * in *source. NULL when it has none lambkin can shape. */
static char *events_seed(const lk_app_t *app, const cJSON *evs,
                         const char **source) {
  const cJSON *ev;

  cJSON_ArrayForEach(ev, evs) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
    const char *type = str(ev, "Type");

    if (type == NULL)
      continue;
    if (strcmp(type, "S3") == 0) {
      *source = "s3";
      return lk_event_s3(app->region,
                         str(p, "Bucket") ? str(p, "Bucket") : "bucket",
                         "ObjectCreated:Put", "uploads/photo.jpg", 5,
                         "5d41402abc4b2a76b9719d911017c592", ev->string, 1);
    }
    if (strcmp(type, "CloudWatchLogs") == 0) {
      cJSON *events = cJSON_CreateArray(), *e = cJSON_CreateObject();
      char *out;

      cJSON_AddStringToObject(e, "id", "0");
      cJSON_AddNumberToObject(e, "timestamp", 1700000000000.0);
      cJSON_AddStringToObject(e, "message", "ERROR something failed");
      cJSON_AddItemToArray(events, e);
      out = lk_event_logs(app->account,
                          str(p, "LogGroupName") ? str(p, "LogGroupName")
                                                 : "/app",
                          "stream", ev->string, events);
      cJSON_Delete(events);
      *source = "logs";
      return out;
    }
    if (strcmp(type, "SQS") == 0) {
      static const char body[] = "{\"task\":\"seed\"}";
      cJSON *msg = cJSON_CreateObject(), *doc = cJSON_CreateObject(), *recs;
      char *out, md5[33];

      cJSON_AddStringToObject(msg, "MessageId",
                              "00000000-0000-4000-8000-000000000000");
      cJSON_AddStringToObject(msg, "ReceiptHandle", "seed#1");
      lk_md5_hex(body, sizeof(body) - 1, md5);
      cJSON_AddStringToObject(msg, "Body", body);
      cJSON_AddStringToObject(msg, "MD5OfBody", md5);
      recs = cJSON_AddArrayToObject(doc, "Records");
      cJSON_AddItemToArray(
          recs, lk_event_sqs_record(app->region,
                                    str(p, "Queue") ? str(p, "Queue") : "queue",
                                    msg));
      out = cJSON_PrintUnformatted(doc);
      cJSON_Delete(msg);
      cJSON_Delete(doc);
      *source = "sqs";
      return out;
    }
    if (strcmp(type, "Api") == 0 || strcmp(type, "HttpApi") == 0) {
      int v2 = strcmp(type, "HttpApi") == 0;
      const char *tmpl = str(p, "Path") ? str(p, "Path") : "/";
      char path[1024];
      size_t i, o = 0;
      lk_http_req_t req;
      char *out;

      /* {param} and {proxy+} become "1": a path the route matches. */
      for (i = 0; tmpl[i] && o + 2 < sizeof(path); i++) {
        if (tmpl[i] == '{') {
          while (tmpl[i] && tmpl[i] != '}')
            i++;
          path[o++] = '1';
          if (!tmpl[i])
            break;
        } else {
          path[o++] = tmpl[i];
        }
      }
      path[o] = '\0';
      memset(&req, 0, sizeof(req));
      req.method = str(p, "Method") && strcasecmp(str(p, "Method"), "any")
                       ? str(p, "Method")
                       : "GET";
      req.path = req.url = path;
      req.query = "q=1";
      req.headers[req.n_headers++] = (lk_http_header_t){"Host", "localhost"};
      lk_buf_init(&req.body, 64);
      lk_buf_adds(&req.body, "{\"seed\":true}");
      out = lk_apigw_event(v2, v2, app->account, "ANY", tmpl, &req);
      lk_buf_free(&req.body);
      *source = v2 ? "apigw-v2" : "apigw";
      return out;
    }
  }
  return NULL;
}

/* The seed for a function: from its events, or, with --source, from a
 * sample of that source (a function with no Events). */
static char *seed_event(const lk_app_t *app, const lk_function_t *f,
                        const char *forced, const char **source) {
  static const struct {
    const char *name, *type, *props;
  } kinds[] = {
      {"s3", "S3", "{\"Bucket\":\"bucket\"}"},
      {"sqs", "SQS", "{\"Queue\":\"arn:aws:sqs:us-east-1:123456789012:q\"}"},
      {"logs", "CloudWatchLogs", "{\"LogGroupName\":\"/app\"}"},
      {"apigw", "Api", "{\"Path\":\"/items/{id}\",\"Method\":\"get\"}"},
      {"apigw-v2", "HttpApi", "{\"Path\":\"/items/{id}\",\"Method\":\"GET\"}"},
  };
  cJSON *events, *one;
  char *out = NULL;
  size_t k;

  if (forced == NULL)
    return events_seed(app, f->events, source);
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
    if (strcmp(kinds[k].name, forced) == 0)
      break;
  if (k == sizeof(kinds) / sizeof(kinds[0]))
    return NULL;
  events = cJSON_CreateObject();
  one = cJSON_AddObjectToObject(events, "Source");
  cJSON_AddStringToObject(one, "Type", kinds[k].type);
  cJSON_AddItemToObject(one, "Properties", cJSON_Parse(kinds[k].props));
  out = events_seed(app, events, source);
  cJSON_Delete(events);
  return out;
}

/* Runs argv (in cwd, when given) and waits; its exit status. */
static int run(char *const argv[], char *const envp[], const char *log,
               const char *cwd) {
  pid_t pid = fork();
  int st;

  if (pid < 0)
    return -1;
  if (pid == 0) {
    if (cwd && chdir(cwd) != 0)
      _exit(127);
    if (log) {
      FILE *f = freopen(log, "w", stdout);

      if (f == NULL || dup2(fileno(stdout), 2) < 0)
        _exit(127);
    }
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

/* Builds the handler .so with libFuzzer's instrumentation and sanitizers. */
static int build_so(const lk_function_t *f, const char *so) {
  char *argv[80], inc[4200];
  const char *cc =
      getenv("LAMBKIN_FUZZ_CC") ? getenv("LAMBKIN_FUZZ_CC") : "clang";
  char files[40][4200];
  int n = 0, k = 0;
  DIR *d = opendir(f->code_dir);
  struct dirent *e;

  if (d == NULL)
    return -1;
  argv[n++] = (char *)cc;
  argv[n++] = "-shared";
  argv[n++] = "-fPIC";
  argv[n++] = "-g";
  argv[n++] = "-O1";
  argv[n++] = "-fsanitize=fuzzer-no-link,address,undefined";
  snprintf(inc, sizeof(inc), "-I%s/include", LK_SOURCE_DIR);
  argv[n++] = inc;
  argv[n++] = "-o";
  argv[n++] = (char *)so;
  for (e = readdir(d); e && k < 40; e = readdir(d)) {
    size_t l = strlen(e->d_name);

    if (l > 2 && strcmp(e->d_name + l - 2, ".c") == 0) {
      snprintf(files[k], sizeof(files[k]), "%s/%s", f->code_dir, e->d_name);
      argv[n++] = files[k++];
    }
  }
  closedir(d);
  argv[n] = NULL;
  return k ? run(argv, NULL, NULL, NULL) : -1;
}

/* Execs of the run: the final stats, or in fork mode (which prints none)
 * the last "#N: cov: ..." progress line. */
static long executed(const char *log) {
  static const char key[] = "stat::number_of_executed_units: ";
  size_t len;
  char *text = lk_read_file(log, 64u << 20, &len);
  const char *p = text ? strstr(text, key) : NULL, *q;
  long v = -1;

  if (p) {
    v = strtol(p + strlen(key), NULL, 10);
  } else {
    for (q = text ? strstr(text, "\n#") : NULL; q; q = strstr(q + 1, "\n#"))
      if (strstr(q + 2, ": cov: ") == q + 2 + strspn(q + 2, "0123456789"))
        v = strtol(q + 2, NULL, 10);
  }
  free(text);
  return v;
}

static int seen_state(const cJSON *list, const char *fn, const char *state) {
  const cJSON *f;

  cJSON_ArrayForEach(f, list) {
    const char *a = str(f, "function"), *b = str(f, "state");

    if (a && b && strcmp(a, fn) == 0 && strcmp(b, state) == 0)
      return 1;
  }
  return 0;
}

/* The crash state, as ClusterFuzz forms it: the sanitizer's kind of
 * error and the top three frames' functions ("stack-buffer-overflow in
 * tag < tag_handler < LLVMFuzzerTestOneInput"). The evidence adds each
 * frame's file:line. */
static void crash_state(const char *log, char *state, size_t cap,
                        char *evidence, size_t ecap) {
  const char *sum = strstr(log, "SUMMARY: "), *p;
  size_t so, eo;
  int k;

  if (sum == NULL)
    return;
  sum = strchr(sum + 9, ':'); /* past "AddressSanitizer" */
  sum = sum ? sum + 2 : log;
  so = (size_t)snprintf(state, cap, "%.*s", (int)strcspn(sum, " \n"), sum);
  eo = (size_t)snprintf(evidence, ecap, "%.*s", (int)strcspn(sum, "\n"), sum);
  for (k = 0, p = strstr(log, "\n    #"); k < 3 && p;
       p = strstr(p + 1, "\n    #")) {
    const char *in = strstr(p, " in "), *eol = strchr(p + 1, '\n');
    size_t fl, rest;

    if (in == NULL || (eol && in > eol))
      continue;
    in += 4;
    fl = strcspn(in, " \n");
    rest = strcspn(in + fl, "\n");
    if (so < cap)
      so += (size_t)snprintf(state + so, cap - so, "%s%.*s", k ? " < " : " in ",
                             (int)fl, in);
    if (eo < ecap)
      eo += (size_t)snprintf(evidence + eo, ecap - eo, "\n  #%d %.*s%.*s", k,
                             (int)fl, in, (int)(rest < 300 ? rest : 300),
                             in + fl);
    k++;
  }
}

/* Turns each crash file libFuzzer kept in this run into a reproducer JSON
 * and an entry of the report. */
static int collect(const char *dir, const char *out_dir, const char *fn,
                   const char *source, const char *log, time_t since,
                   long execs, double took_s, cJSON *found_list) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int found = 0;
  size_t ll;
  char *logtext = lk_read_file(log, 64u << 20, &ll);
  char state[300] = "", evidence[1200] = "", cls_buf[40] = "";
  const char *mark = logtext ? strstr(logtext, "==LAMBKIN== FINDING ") : NULL;

  if (mark) { /* an injection oracle in the driver, not a sanitizer */
    const char *colon = strstr(mark, ": ");
    size_t cl = colon ? (size_t)(colon - mark) - 20 : 0;

    snprintf(cls_buf, sizeof(cls_buf), "%.*s", (int)cl, mark + 20);
    if (colon)
      snprintf(evidence, sizeof(evidence), "%.*s",
               (int)strcspn(colon + 2, "\n"), colon + 2);
    /* A loop is keyed by its path, as in process mode ("via s3://b"). */
    if (strncmp(evidence, "via ", 4) == 0)
      snprintf(state, sizeof(state), "%.*s",
               strstr(evidence, " (") ? (int)(strstr(evidence, " (") - evidence)
                                      : (int)strlen(evidence),
               evidence);
    else
      snprintf(state, sizeof(state), "%s", cls_buf);
  } else if (logtext) {
    crash_state(logtext, state, sizeof(state), evidence, sizeof(evidence));
  }
  for (e = d ? readdir(d) : NULL; e; e = readdir(d)) {
    char path[4600], out[4700];
    size_t len;
    char *ev;
    cJSON *rep;
    char *text;

    if (strncmp(e->d_name, "crash-", 6) != 0 &&
        strncmp(e->d_name, "leak-", 5) != 0 &&
        strncmp(e->d_name, "timeout-", 8) != 0)
      continue;
    if (strstr(e->d_name, ".json"))
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    {
      struct stat st; /* an earlier run's finding is not this run's */

      if (stat(path, &st) != 0 || st.st_mtime < since)
        continue;
    }
    if (seen_state(found_list, fn, state))
      continue; /* one finding per (class, function, crash state) */
    ev = lk_read_file(path, 8u << 20, &len);
    if (ev == NULL)
      continue;
    {
      const char *cls = cls_buf[0]            ? cls_buf
                        : e->d_name[0] == 'c' ? "crash"
                        : e->d_name[0] == 'l' ? "leak"
                                              : "timeout";
      char key[600], hash[33];

      snprintf(key, sizeof(key), "%s\n%s\n%s", cls, fn, state);
      lk_md5_hex(key, strlen(key), hash);
      hash[8] = '\0';
      rep = cJSON_CreateObject();
      cJSON_AddStringToObject(rep, "class", cls);
      cJSON_AddStringToObject(rep, "function", fn);
      cJSON_AddStringToObject(rep, "source", source);
      cJSON_AddStringToObject(rep, "key", hash);
      cJSON_AddStringToObject(rep, "sink", state);
      cJSON_AddStringToObject(rep, "state", state);
      cJSON_AddStringToObject(rep, "evidence", evidence);
      cJSON_AddStringToObject(rep, "artifact", path);
      /* libFuzzer stops at its first crash: the run's totals are when. */
      cJSON_AddNumberToObject(rep, "found_after_s", took_s);
      cJSON_AddNumberToObject(rep, "found_at_exec", (double)execs);
      cJSON_AddStringToObject(rep, "event", ev);
      snprintf(out, sizeof(out), "%s/%s-%s-%s.json", out_dir, cls, fn, hash);
    }
    text = cJSON_Print(rep);
    if (text)
      lk_write_file_atomic(out, text, strlen(text));
    cJSON_DeleteItemFromObject(rep, "event");
    cJSON_AddStringToObject(rep, "reproducer", out);
    cJSON_AddItemToArray(found_list, rep);
    rep = NULL;
    free(text);
    free(ev);
    cJSON_Delete(rep);
    found++;
  }
  if (d)
    closedir(d);
  free(logtext);
  return found;
}

static void add_function_report(cJSON *report, const char *fn,
                                const char *source, const char *engine,
                                long execs, int seconds, int corpus, int found);
static int read_seeds(const char *path, char **seeds, int n, int max);
static char *first_seed(const fopts_t *o, const lk_app_t *app,
                        const lk_function_t *f, const char **source);

static void remove_flat_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e = d ? readdir(d) : NULL;

  for (; e; e = readdir(d)) {
    char path[4600];

    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    unlink(path);
  }
  if (d)
    closedir(d);
  rmdir(dir);
}

/* A key filter's prefix and suffix (Filter.S3Key.Rules), "" if none. */
static void key_rules(const cJSON *filter, const char **prefix,
                      const char **suffix) {
  const cJSON *r;

  *prefix = *suffix = "";
  cJSON_ArrayForEach(
      r, cJSON_GetObjectItemCaseSensitive(
             cJSON_GetObjectItemCaseSensitive(filter, "S3Key"), "Rules")) {
    const char *name = str(r, "Name"), *value = str(r, "Value");

    if (name && value && strcasecmp(name, "prefix") == 0)
      *prefix = value;
    if (name && value && strcasecmp(name, "suffix") == 0)
      *suffix = value;
  }
}

/* For the in-process driver's self-invocation oracle: what would run this
 * function again, one per line: "invoke\tNAME", "s3\tBUCKET\tPREFIX\t
 * SUFFIX" (its S3 events and the template's bucket notifications to it)
 * and "sqs\tQUEUE" (its SQS event sources). */
static void self_triggers(const lk_app_t *app, const lk_function_t *f,
                          char *out, size_t cap) {
  const cJSON *ev, *c;
  const char *pre, *suf;
  size_t o = 0;
  int i;

  o += (size_t)snprintf(out + o, cap - o, "invoke\t%s\ninvoke\t%s\n", f->name,
                        f->arn);
  cJSON_ArrayForEach(ev, f->events) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
    const char *type = str(ev, "Type");

    if (o >= cap || type == NULL)
      continue;
    if (strcmp(type, "S3") == 0 && str(p, "Bucket")) {
      key_rules(cJSON_GetObjectItemCaseSensitive(p, "Filter"), &pre, &suf);
      o += (size_t)snprintf(out + o, cap - o, "s3\t%s\t%s\t%s\n",
                            str(p, "Bucket"), pre, suf);
    } else if (strcmp(type, "SQS") == 0 && str(p, "Queue")) {
      const char *q = strrchr(str(p, "Queue"), ':');

      o += (size_t)snprintf(out + o, cap - o, "sqs\t%s\n",
                            q ? q + 1 : str(p, "Queue"));
    }
  }
  for (i = 0; i < app->n_buckets && o < cap; i++)
    cJSON_ArrayForEach(
        c, cJSON_GetObjectItemCaseSensitive(app->buckets[i].notification,
                                            "LambdaConfigurations")) {
      const char *fn = str(c, "Function");

      if (o >= cap || fn == NULL ||
          (strcmp(fn, f->arn) != 0 && strcmp(fn, f->name) != 0))
        continue;
      key_rules(cJSON_GetObjectItemCaseSensitive(c, "Filter"), &pre, &suf);
      o += (size_t)snprintf(out + o, cap - o, "s3\t%s\t%s\t%s\n",
                            app->buckets[i].name, pre, suf);
    }
  if (o >= cap && strrchr(out, '\n')) /* cut short: no partial line */
    strrchr(out, '\n')[1] = '\0';
}

/* Minimizes the kept corpus with libFuzzer's merge: an input stays only
 * if it adds coverage. The old corpus goes only once the merge is done. */
static void merge_corpus(const char *driver, char *const envp[],
                         const char *corpus, const char *artifacts) {
  char merged[4300], old[4300], log[4400];
  char *argv[] = {(char *)driver, "-merge=1", merged, (char *)corpus, NULL};

  snprintf(merged, sizeof(merged), "%s.merged", corpus);
  snprintf(old, sizeof(old), "%s.old", corpus);
  snprintf(log, sizeof(log), "%s/merge.log", artifacts);
  remove_flat_dir(merged);
  /* What a fuzzed command writes lands beside the artifacts. */
  if (lk_mkdirs(merged) || run(argv, envp, log, artifacts) != 0) {
    remove_flat_dir(merged);
    return;
  }
  remove_flat_dir(old);
  if (rename(corpus, old) == 0 && rename(merged, corpus) == 0)
    remove_flat_dir(old);
}

static int fuzz_one(const fopts_t *o, const lk_app_t *app,
                    const lk_function_t *f, const char *driver, cJSON *report) {
  char dir[PATH_MAX], so[4200], seeds[4200], corpus[4200], findings[4200],
      artifacts[4200], log[4400], seedfile[4400], maxt[32], prefix[4400],
      seedarg[48], runs[48], corpora[4200], fork[32];
  const char *source = NULL;
  char *ev = first_seed(o, app, f, &source);
  char *argv[16 + MAX_PASS], *envp[9], env_so[4300], env_sym[600],
      env_path[8400], env_pre[4200], env_log[4300], env_root[4200],
      sink_lib[4096], env_loops[4096];
  int n = 0, rc, i;
  long execs;
  time_t started;
  uint64_t t0;

  if (ev == NULL) {
    printf("%-20s skipped: no S3, SQS, Logs or API event to shape seeds\n",
           f->name);
    return 0;
  }
  /* Absolute: the driver runs in the artifacts directory. */
  if (lk_mkdirs(o->out) || realpath(o->out, dir) == NULL) {
    free(ev);
    fprintf(stderr, "lambkin: fuzz: cannot write under %s\n", o->out);
    return -1;
  }
  snprintf(so, sizeof(so), "%s/build/%s.so", dir, f->name);
  snprintf(seeds, sizeof(seeds), "%s/seeds/%s", dir, f->name);
  snprintf(corpus, sizeof(corpus), "%s/corpus/%s", dir, f->name);
  snprintf(findings, sizeof(findings), "%s/findings", dir);
  snprintf(artifacts, sizeof(artifacts), "%s/artifacts/%s", dir, f->name);
  snprintf(log, sizeof(log), "%s/fuzz.log", artifacts);
  snprintf(seedfile, sizeof(seedfile), "%s/%s.json", seeds, source);
  snprintf(prefix, sizeof(prefix), "%s/build", dir);
  if (lk_mkdirs(seeds) || lk_mkdirs(corpus) || lk_mkdirs(findings) ||
      lk_mkdirs(artifacts) || lk_mkdirs(prefix) ||
      lk_write_file_atomic(seedfile, ev, strlen(ev))) {
    free(ev);
    fprintf(stderr, "lambkin: fuzz: cannot write under %s\n", dir);
    return -1;
  }
  free(ev);
  if (o->seeds) { /* --seeds: beside the generated one */
    char *given[64];
    int k, n_given = read_seeds(o->seeds, given, 0, 64);

    for (k = 0; k < n_given; k++) {
      char path[4500];

      snprintf(path, sizeof(path), "%s/given-%d.json", seeds, k);
      lk_write_file_atomic(path, given[k], strlen(given[k]));
      free(given[k]);
    }
  }
  if (build_so(f, so) != 0) {
    fprintf(stderr, "lambkin: fuzz: cannot build %s with clang\n", f->name);
    return -1;
  }
  snprintf(maxt, sizeof(maxt), "-max_total_time=%d", o->fn_time_s);
  snprintf(prefix, sizeof(prefix), "-artifact_prefix=%s/", artifacts);
  argv[n++] = (char *)driver;
  if (o->fn_time_s > 0)
    argv[n++] = maxt;
  if (o->runs > 0) {
    snprintf(runs, sizeof(runs), "-runs=%ld", o->runs);
    argv[n++] = runs;
  }
  argv[n++] = prefix;
  argv[n++] = "-print_final_stats=1";
  if (o->jobs > 1) { /* libFuzzer's fork mode: --jobs processes */
    snprintf(fork, sizeof(fork), "-fork=%d", o->jobs);
    argv[n++] = fork;
  }
  if (o->seed >= 0) {
    snprintf(seedarg, sizeof(seedarg), "-seed=%ld", o->seed);
    argv[n++] = seedarg;
  }
  for (i = 0; i < o->n_pass; i++)
    argv[n++] = o->pass[i];
  argv[n++] = corpus; /* the first: where libFuzzer adds new inputs */
  argv[n++] = seeds;
  snprintf(corpora, sizeof(corpora), "%s/corpora/%s", app->dir, source);
  if (access(corpora, R_OK) == 0)
    argv[n++] = corpora;
  argv[n] = NULL;
  snprintf(env_so, sizeof(env_so), "LAMBKIN_FUZZ_SO=%s", so);
  snprintf(env_sym, sizeof(env_sym), "LAMBKIN_FUZZ_SYMBOL=%s", f->handler);
  snprintf(env_path, sizeof(env_path), "PATH=%s",
           getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  snprintf(env_loops, sizeof(env_loops), "LAMBKIN_FUZZ_LOOPS=");
  self_triggers(app, f, env_loops + 19, sizeof(env_loops) - 19);
  envp[0] = env_so;
  envp[1] = env_sym;
  envp[2] = env_path;
  envp[3] = env_loops;
  envp[4] = NULL;
  /* The sink library and the tripwire, as in process mode: the driver
   * judges each call's report (fuzz_handler.c). */
  if (lk_fuzz_prepare(dir, sink_lib, sizeof(sink_lib)) == 0) {
    snprintf(env_path, sizeof(env_path), "PATH=%s/bin:%s", dir,
             getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    snprintf(env_pre, sizeof(env_pre), "LD_PRELOAD=%s", sink_lib);
    snprintf(env_log, sizeof(env_log), "LAMBKIN_SINK_LOG=%s/sink.log",
             artifacts);
    snprintf(env_root, sizeof(env_root), "LAMBKIN_TASK_ROOT=%s", f->code_dir);
    envp[4] = env_pre;
    envp[5] = env_log;
    envp[6] = env_root;
    envp[7] = NULL;
  }
  printf("%-20s fuzzing (%s events, in process) ...\n", f->name, source);
  fflush(stdout);
  started = time(NULL) - 1;
  t0 = uv_hrtime();
  rc = run(argv, envp, log, artifacts); /* a fuzzed command's files */
  execs = executed(log);
  i = collect(artifacts, findings, f->name, source, log, started, execs,
              (double)(uv_hrtime() - t0) / 1e9,
              cJSON_GetObjectItem(report, "findings"));
  merge_corpus(driver, envp, corpus, artifacts);
  add_function_report(report, f->name, source, "in-process", execs,
                      (int)(time(NULL) - started), -1, i);
  printf("%-20s %ld execs, %d finding(s)%s\n", f->name, execs, i,
         rc == 0 || i ? "" : " (the fuzzer failed: see fuzz.log)");
  return i > 0 ? 1 : rc == 0 ? 0 : -1;
}

/* The finding classes, in the order reports list them, with the SARIF
 * rule text and level. */
static const struct {
  const char *cls, *level, *text;
} classes[] = {
    {"crash", "error",
     "The function crashed, or a sanitizer reported, on an "
     "event"},
    {"leak", "warning", "The function leaked memory on an event"},
    {"command-injection", "error",
     "Event data reached a shell: the tripwire command ran"},
    {"sql-injection", "error",
     "Event data changed the token structure of a SQL statement"},
    {"path-traversal", "error",
     "Event data made the function open a file outside its task root and "
     "/tmp"},
    {"log-injection", "warning",
     "Event data forged a log record: a newline reached the log unescaped"},
    {"header-injection", "error",
     "Event data put CR/LF or a new header into an HTTP response"},
    {"ssrf", "error", "Event data chose the host the function connects to"},
    {"self-invocation", "error",
     "The function triggers itself, directly or through S3, SQS or Logs"},
    {"timeout", "warning", "The function ran past its timeout on an event"},
    {"unhandled-error", "note",
     "The function failed with an unhandled error on an event"},
};
#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

/* Where a finding points: a "file.c:21" of a sanitizer report, a
 * python 'File "x.py", line 7' or a node "(x.js:7:3)" in its evidence;
 * else the function's line in the template. */
static void locate(const cJSON *f, const char *template_path, int fn_line,
                   char *file, size_t cap, int *line) {
  const char *ev = str(f, "evidence") ? str(f, "evidence") : "";
  const char *p;

  *line = 0;
  p = strstr(ev, "File \"");
  if (p && strstr(p, "\", line ")) {
    const char *q = strstr(p, "\", line ");

    snprintf(file, cap, "%.*s", (int)(q - p - 6), p + 6);
    *line = (int)strtol(q + 8, NULL, 10);
    return;
  }
  for (p = strchr(ev, '.'); p; p = strchr(p + 1, '.')) {
    static const char *const exts[] = {".c:", ".js:", ".mjs:", ".cc:"};
    size_t k;

    for (k = 0; k < sizeof(exts) / sizeof(exts[0]); k++)
      if (strncmp(p, exts[k], strlen(exts[k])) == 0 &&
          p[strlen(exts[k])] >= '0' && p[strlen(exts[k])] <= '9') {
        const char *start = p;

        while (start > ev && !strchr(" (\t\n", start[-1]))
          start--;
        snprintf(file, cap, "%.*s", (int)(p + strlen(exts[k]) - 1 - start),
                 start);
        *line = (int)strtol(p + strlen(exts[k]), NULL, 10);
        return;
      }
  }
  snprintf(file, cap, "%s", template_path);
  *line = fn_line;
}

static int write_sarif(const char *path, const cJSON *report) {
  lk_sarif_t sarif;
  const cJSON *f;
  size_t k;
  int err = lk_sarif_init(&sarif);

  if (err)
    return err;
  for (k = 0; k < N_CLASSES; k++)
    lk_sarif_rule(&sarif, classes[k].cls, classes[k].text, classes[k].level);
  cJSON_ArrayForEach(f, cJSON_GetObjectItem(report, "findings")) {
    char msg[1400];
    const char *cls = str(f, "class"), *level = "error";
    double line = cJSON_GetNumberValue(cJSON_GetObjectItem(f, "line"));

    snprintf(msg, sizeof(msg), "%s in %s on a %s event: %.900s (reproducer %s)",
             cls, str(f, "function"), str(f, "source"), str(f, "evidence"),
             str(f, "reproducer"));
    for (k = 0; k < N_CLASSES; k++)
      if (strcmp(classes[k].cls, cls) == 0)
        level = classes[k].level;
    lk_sarif_result(&sarif, cls, level, msg, str(f, "file"),
                    line > 0 ? (int)line : 0, str(f, "key"));
  }
  err = lk_save_json(path, sarif.doc);
  cJSON_Delete(sarif.doc);
  return err;
}

/* One testcase per function and class: a clean run is all passes. */
static int write_junit(const char *path, const cJSON *report) {
  lk_buf_t b;
  const cJSON *fn, *f;
  int tests = 0, failures = 0, err;
  size_t k;

  cJSON_ArrayForEach(fn, cJSON_GetObjectItem(report, "functions")) {
    tests += (int)N_CLASSES;
  }
  failures = cJSON_GetArraySize(cJSON_GetObjectItem(report, "findings"));
  lk_buf_init(&b, 16 << 20);
  lk_buf_printf(&b,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>"
                "<testsuite name=\"lambkin fuzz\" tests=\"%d\" "
                "failures=\"%d\">\n",
                tests, failures);
  cJSON_ArrayForEach(fn, cJSON_GetObjectItem(report, "functions")) {
    const char *name = str(fn, "function");

    for (k = 0; k < N_CLASSES; k++) {
      lk_buf_adds(&b, "<testcase classname=\"lambkin.fuzz.");
      lk_xml_escape(&b, name, strlen(name));
      lk_buf_printf(
          &b, "\" name=\"%s\" time=\"%d\">", classes[k].cls,
          (int)cJSON_GetNumberValue(cJSON_GetObjectItem(fn, "seconds")));
      cJSON_ArrayForEach(f, cJSON_GetObjectItem(report, "findings")) {
        const char *ev = str(f, "evidence") ? str(f, "evidence") : "";

        if (strcmp(str(f, "function"), name) != 0 ||
            strcmp(str(f, "class"), classes[k].cls) != 0)
          continue;
        lk_buf_printf(&b, "<failure type=\"%s\" message=\"", classes[k].cls);
        lk_xml_escape(&b, ev, strlen(ev) < 300 ? strlen(ev) : 300);
        lk_buf_adds(&b, "\">reproducer: ");
        lk_xml_escape(&b, str(f, "reproducer"), strlen(str(f, "reproducer")));
        lk_buf_adds(&b, "</failure>");
      }
      lk_buf_adds(&b, "</testcase>\n");
    }
  }
  lk_buf_adds(&b, "</testsuite></testsuites>\n");
  err = lk_write_file_atomic(path, b.data, b.len);
  lk_buf_free(&b);
  return err;
}

/* Adds to seeds[] every event in path (a file, or the files of a
 * directory) that a known source could send; the new count. */
static int read_one_seed(const char *path, char **seeds, int n, int max) {
  size_t len;
  char *text = n < max ? lk_read_file(path, 256 * 1024 - 1, &len) : NULL;

  if (text && lk_event_source(text, len) != LK_SRC_UNKNOWN)
    seeds[n++] = text;
  else
    free(text);
  return n;
}

static int read_seeds(const char *path, char **seeds, int n, int max) {
  DIR *d = opendir(path);
  struct dirent *e = d ? readdir(d) : NULL;
  char file[4500];

  if (d == NULL)
    return read_one_seed(path, seeds, n, max);
  for (; e && n < max; e = readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
    n = read_one_seed(file, seeds, n, max); /* not into subfolders */
  }
  closedir(d);
  return n;
}

/* Seed events from corpora/<source>/, beside the template and in
 * lambkin's own tree (`lambkin event` made them), and from --seeds. */
static int corpora_seeds(const fopts_t *o, const lk_app_t *app,
                         const char *source, char **seeds, int n, int max) {
  const char *roots[2] = {app->dir, LK_SOURCE_DIR};
  int r;

  for (r = 0; r < 2; r++) {
    char dir[4200];

    if (r == 1 && strcmp(roots[0], roots[1]) == 0)
      break;
    snprintf(dir, sizeof(dir), "%s/corpora/%s", roots[r], source);
    n = read_seeds(dir, seeds, n, max);
  }
  return o->seeds ? read_seeds(o->seeds, seeds, n, max) : n;
}

/* The first seed: shaped by the function's events (or --source), else the
 * first event of --seeds, whose shape then names the source. */
static char *first_seed(const fopts_t *o, const lk_app_t *app,
                        const lk_function_t *f, const char **source) {
  char *ev = seed_event(app, f, o->source, source), *given[1];

  if (ev || o->seeds == NULL || read_seeds(o->seeds, given, 0, 1) == 0)
    return ev;
  *source = lk_source_name(lk_event_source(given[0], strlen(given[0])));
  return given[0];
}

static void add_function_report(cJSON *report, const char *fn,
                                const char *source, const char *engine,
                                long execs, int seconds, int corpus,
                                int found) {
  cJSON *fj = cJSON_CreateObject();

  cJSON_AddStringToObject(fj, "function", fn);
  cJSON_AddStringToObject(fj, "source", source);
  cJSON_AddStringToObject(fj, "engine", engine);
  cJSON_AddNumberToObject(fj, "execs", (double)execs);
  cJSON_AddNumberToObject(fj, "seconds", seconds);
  if (corpus >= 0)
    cJSON_AddNumberToObject(fj, "corpus", corpus);
  cJSON_AddNumberToObject(fj, "findings", found);
  cJSON_AddItemToArray(cJSON_GetObjectItem(report, "functions"), fj);
}

/* python, node and provided functions: through the emulator. */
static int fuzz_process(const fopts_t *o, lk_app_t *app, lk_function_t *f,
                        cJSON *report) {
  lk_fuzz_job_t j;
  char *seeds[64];
  uint64_t t0 = uv_hrtime();
  int i, rc;

  memset(&j, 0, sizeof(j));
  seeds[0] = first_seed(o, app, f, &j.source);
  if (seeds[0] == NULL) {
    printf("%-20s skipped: no S3, SQS, Logs or API event to shape seeds "
           "(--source or --seeds gives one)\n",
           f->name);
    return 0;
  }
  j.n_seeds = corpora_seeds(o, app, j.source, seeds, 1, 64);
  j.seeds = seeds;
  j.app = app;
  j.fn = f;
  j.out = o->out;
  j.time_s = o->fn_time_s;
  j.runs = o->runs;
  j.jobs = o->jobs;
  j.seed = o->seed >= 0 ? (unsigned)o->seed : (unsigned)time(NULL);
  j.status = 1;
  j.first = o->first;
  j.report = report;
  printf("%-20s fuzzing (%s events, %d seed(s), %d jobs, process mode) ...\n",
         f->name, j.source, j.n_seeds, o->jobs);
  fflush(stdout);
  rc = lk_fuzz_process(&j);
  for (i = 0; i < j.n_seeds; i++)
    free(seeds[i]);
  if (rc)
    return -1;
  {
    double secs = (double)(uv_hrtime() - t0) / 1e9;

    printf("%-20s %ld execs (%.0f/s), corpus %d, %d finding(s)", f->name,
           j.execs, (double)j.execs / (secs > 0 ? secs : 1), j.corpus, j.found);
    if (j.coverage > 0)
      printf(", %ld lines covered", j.coverage);
    printf("\n");
    add_function_report(report, f->name, j.source, "process", j.execs,
                        (int)(secs + 0.5), j.corpus, j.found);
    if (j.coverage > 0)
      cJSON_AddNumberToObject(
          cJSON_GetArrayItem(
              cJSON_GetObjectItem(report, "functions"),
              cJSON_GetArraySize(cJSON_GetObjectItem(report, "functions")) - 1),
          "lines_covered", (double)j.coverage);
  }
  return j.found > 0;
}

static void fuzz_usage(FILE *f) {
  fprintf(f, "usage: lambkin fuzz [FUNCTION...] [-t template.yaml] "
             "[--time S] [--runs N] [--jobs N] [--first]\n"
             "                    [--out DIR] [--seed N] "
             "[--source s3|sqs|logs|apigw|apigw-v2] [--seeds FILE|DIR]\n"
             "                    [--sarif F] [--junit F] [--json F] "
             "[-- libFuzzer flags]\n");
}

/* A whole decimal number in [lo, hi] (lo >= 0), or -1. */
static long number(const char *v, long lo, long hi) {
  long n;

  return lk_parse_long(v, lo, hi, &n) ? -1 : n;
}

static int has_event_source(const lk_app_t *app, const lk_function_t *f) {
  const char *source = NULL;
  char *ev = seed_event(app, f, NULL, &source);

  free(ev);
  return ev != NULL;
}

int lk_cmd_fuzz(int argc, char **argv) {
  fopts_t o;
  lk_app_t *app;
  char err[2048], driver[4200];
  int i, rc = 0, worst = 0, n_todo = 0, time_set = 0;
  char *wanted; /* per function: fuzz it */
  cJSON *report, *finding;

  memset(&o, 0, sizeof(o));
  o.template_path = "template.yaml";
  o.out = ".lambkin/fuzz";
  o.time_s = 60;
  o.jobs = 2;
  o.seed = -1;
  for (i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long num = 0;

    if (strcmp(a, "--") == 0) {
      for (i++; i < argc && o.n_pass < MAX_PASS; i++)
        o.pass[o.n_pass++] = argv[i];
      break;
    } else if ((strcmp(a, "-t") == 0 || strcmp(a, "--template") == 0) && v) {
      o.template_path = v;
    } else if (strcmp(a, "--out") == 0 && v) {
      o.out = v;
    } else if (strcmp(a, "--sarif") == 0 && v) {
      o.sarif = v;
    } else if (strcmp(a, "--junit") == 0 && v) {
      o.junit = v;
    } else if (strcmp(a, "--json") == 0 && v) {
      o.json = v;
    } else if (strcmp(a, "--first") == 0) {
      o.first = 1;
      continue;
    } else if (strcmp(a, "--source") == 0 && v) {
      o.source = v;
    } else if (strcmp(a, "--seeds") == 0 && v) {
      o.seeds = v;
    } else if (strcmp(a, "--time") == 0 && v) {
      num = number(v, 1, 7 * 86400);
      o.time_s = (int)num;
      time_set = 1;
    } else if (strcmp(a, "--runs") == 0 && v) {
      num = number(v, 1, 1000000000L);
      o.runs = num;
    } else if (strcmp(a, "--jobs") == 0 && v) {
      num = number(v, 1, 64);
      o.jobs = (int)num;
    } else if (strcmp(a, "--seed") == 0 && v) {
      num = number(v, 0, 4294967295L);
      o.seed = num;
    } else if (a[0] != '-' && o.n_fns < MAX_FNS) {
      o.fns[o.n_fns++] = a;
      continue;
    } else {
      fuzz_usage(stderr);
      return 2;
    }
    if (num < 0) {
      fprintf(stderr, "lambkin: fuzz: %s wants a number in range, not %s\n", a,
              v);
      return 2;
    }
    i++;
  }
  if (o.runs > 0 && !time_set)
    o.time_s = 0; /* --runs alone: as many runs as it takes */
  snprintf(driver, sizeof(driver), "%s",
           getenv("LAMBKIN_FUZZ_DRIVER") ? getenv("LAMBKIN_FUZZ_DRIVER")
                                         : LK_SOURCE_DIR
               "/build-fuzz/fuzz/fuzz_handler");

  if (lk_app_load(o.template_path, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return 2;
  }
  for (i = 0; i < o.n_fns; i++)
    if (lk_app_function(app, o.fns[i]) == NULL) {
      fprintf(stderr, "lambkin: fuzz: no function %s\n", o.fns[i]);
      lk_app_free(app);
      return 2;
    }
  /* --time bounds the whole run: each function gets its share. */
  wanted = calloc((size_t)app->n_functions + 1, 1);
  if (wanted == NULL) {
    lk_app_free(app);
    return 2;
  }
  for (i = 0; i < app->n_functions; i++) {
    int k;

    wanted[i] = o.n_fns == 0 && (o.source || o.seeds ||
                                 has_event_source(app, &app->functions[i]));
    for (k = 0; k < o.n_fns; k++)
      wanted[i] |= strcmp(o.fns[k], app->functions[i].name) == 0;
    n_todo += wanted[i];
  }
  o.fn_time_s = o.time_s > 0 && n_todo > 0 ? o.time_s / n_todo : 0;
  if (o.time_s > 0 && o.fn_time_s < 1)
    o.fn_time_s = 1;
  report = cJSON_CreateObject();
  cJSON_AddArrayToObject(report, "functions");
  cJSON_AddArrayToObject(report, "findings");
  for (i = 0; i < app->n_functions; i++) {
    lk_function_t *f = &app->functions[i];
    int k, before;

    if (!wanted[i])
      continue;
    before = cJSON_GetArraySize(cJSON_GetObjectItem(report, "findings"));
    if (f->kind == LK_RT_C && access(driver, X_OK) != 0) {
      fprintf(stderr,
              "lambkin: fuzz: %s: no fuzzing driver at %s (run make "
              "build-fuzz, or set LAMBKIN_FUZZ_DRIVER)\n",
              f->name, driver);
      rc = -1;
    } else {
      rc = f->kind == LK_RT_C ? fuzz_one(&o, app, f, driver, report)
                              : fuzz_process(&o, app, f, report);
    }
    /* Where each new finding points, for SARIF. */
    for (k = before;
         k < cJSON_GetArraySize(cJSON_GetObjectItem(report, "findings")); k++) {
      cJSON *fd =
          cJSON_GetArrayItem(cJSON_GetObjectItem(report, "findings"), k);
      char file[4200];
      int line;

      locate(fd, app->path, f->line, file, sizeof(file), &line);
      cJSON_AddStringToObject(fd, "file", file);
      cJSON_AddNumberToObject(fd, "line", line);
    }
    if (rc < 0)
      worst = 2;
    else if (rc > 0 && worst == 0)
      worst = 1;
  }
  free(wanted);
  lk_app_free(app);
  /* The findings table, then the reports the nightly job asked for. */
  printf("\nfindings: %d\n",
         cJSON_GetArraySize(cJSON_GetObjectItem(report, "findings")));
  if (cJSON_GetArraySize(cJSON_GetObjectItem(report, "findings")))
    printf("  %-18s %-22s %-9s %s\n", "CLASS", "FUNCTION", "SOURCE",
           "EVIDENCE");
  cJSON_ArrayForEach(finding, cJSON_GetObjectItem(report, "findings")) {
    const char *ev = str(finding, "evidence") ? str(finding, "evidence") : "";
    char shown[90];
    size_t k;

    snprintf(shown, sizeof(shown), "%s", ev);
    for (k = 0; shown[k]; k++) /* one row per finding */
      if ((unsigned char)shown[k] < 0x20)
        shown[k] = ' ';
    printf("  %-18s %-22s %-9s %s\n  %-18s replay: lambkin replay -t %s %s\n",
           str(finding, "class"), str(finding, "function"),
           str(finding, "source"), shown, "", o.template_path,
           str(finding, "reproducer"));
  }
  if ((o.json && lk_save_json(o.json, report)) ||
      (o.sarif && write_sarif(o.sarif, report)) ||
      (o.junit && write_junit(o.junit, report))) {
    fprintf(stderr, "lambkin: fuzz: cannot write a report\n");
    worst = 2;
  }
  cJSON_Delete(report);
  return worst;
}

/* `lambkin replay` of a finding: the event once more, with the sink
 * library and every oracle; it reproduces when the same class shows up
 * on the same function. Exits 1 reproduced, 0 not, 2 could not run. */
int lk_fuzz_replay(const char *template_path, const char *state_dir,
                   const cJSON *rec) {
  const char *cls = str(rec, "class"), *fname = str(rec, "function");
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
  lk_fuzz_job_t j;
  lk_app_t *app;
  char err[2048], out[4200], *event;
  const cJSON *v;
  int same = 0;

  if (lk_app_load(template_path, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return 2;
  }
  memset(&j, 0, sizeof(j));
  j.fn = lk_app_function(app, fname);
  if (j.fn == NULL || ev == NULL) {
    fprintf(stderr, "lambkin: replay: no function %s in %s\n", fname,
            app->path);
    lk_app_free(app);
    return 2;
  }
  event =
      cJSON_IsString(ev) ? strdup(ev->valuestring) : cJSON_PrintUnformatted(ev);
  snprintf(out, sizeof(out), "%s/replay", state_dir);
  j.app = app;
  j.source = str(rec, "source") ? str(rec, "source") : "replay";
  j.seeds = &event;
  j.n_seeds = 1;
  j.out = out;
  j.jobs = 1;
  j.replay = 1;
  j.verdicts = cJSON_CreateArray();
  if (lk_fuzz_process(&j)) {
    fprintf(stderr, "lambkin: replay: cannot run %s\n", fname);
    free(event);
    cJSON_Delete(j.verdicts);
    lk_app_free(app);
    return 2;
  }
  cJSON_ArrayForEach(v, j.verdicts) {
    int match = strcmp(str(v, "class"), cls) == 0 &&
                strcmp(str(v, "function"), fname) == 0;

    fprintf(stderr, "replay: %s %s: %s%s\n", str(v, "class"),
            str(v, "function"), str(v, "evidence"),
            match ? "" : " (another finding)");
    same |= match;
  }
  fprintf(stderr, "replay: %s finding on %s: %s\n", cls, fname,
          same ? "reproduced" : "not reproduced");
  free(event);
  cJSON_Delete(j.verdicts);
  lk_app_free(app);
  return same ? 1 : 0;
}
