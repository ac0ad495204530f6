/* Crash triage for the in-process engine (see triage.h). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"
#include "fs.h"
#include "json.h"
#include "triage.h"

#define LOG_MAX (64u << 20)
#define INPUT_MAX (8u << 20)
#define MARK "==LAMBKIN== FINDING "

/* How one run's findings are named. */
typedef struct verdict {
  char cls[40];    /* "" for a sanitizer: the file's kind says */
  char state[300]; /* the dedup key */
  char evidence[1200];
} verdict_t;

long lk_triage_execs(const char *log) {
  static const char key[] = "stat::number_of_executed_units: ";
  size_t len;
  char *text = lk_read_file(log, LOG_MAX, &len);
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

/* The crash state, as ClusterFuzz forms it: the sanitizer's kind of
 * error and the top three frames' functions ("stack-buffer-overflow in
 * tag < tag_handler < LLVMFuzzerTestOneInput"). The evidence adds each
 * frame's file:line. */
static void crash_state(const char *log, verdict_t *v) {
  const char *sum = strstr(log, "SUMMARY: "), *p, *in, *eol;
  size_t so, eo, fl, rest, cap = sizeof(v->state), ecap = sizeof(v->evidence);
  int k;

  if (sum == NULL)
    return;
  sum = strchr(sum + 9, ':'); /* past "AddressSanitizer" */
  sum = sum ? sum + 2 : log;
  so = (size_t)snprintf(v->state, cap, "%.*s", (int)strcspn(sum, " \n"), sum);
  eo =
      (size_t)snprintf(v->evidence, ecap, "%.*s", (int)strcspn(sum, "\n"), sum);
  for (k = 0, p = strstr(log, "\n    #"); k < 3 && p;
       p = strstr(p + 1, "\n    #")) {
    in = strstr(p, " in ");
    eol = strchr(p + 1, '\n');
    if (in == NULL || (eol && in > eol))
      continue;
    in += 4;
    fl = strcspn(in, " \n");
    rest = strcspn(in + fl, "\n");
    if (so < cap)
      so += (size_t)snprintf(v->state + so, cap - so, "%s%.*s",
                             k ? " < " : " in ", (int)fl, in);
    if (eo < ecap)
      eo += (size_t)snprintf(v->evidence + eo, ecap - eo, "\n  #%d %.*s%.*s", k,
                             (int)fl, in, (int)(rest < 300 ? rest : 300),
                             in + fl);
    k++;
  }
}

/* An injection oracle in the driver, not a sanitizer: its class and
 * evidence from the mark; a loop is keyed by its path, as in process
 * mode ("via s3://b"). */
static void oracle_verdict(const char *mark, verdict_t *v) {
  const char *colon = strstr(mark, ": "), *paren;
  size_t cl = colon ? (size_t)(colon - mark) - strlen(MARK) : 0;

  snprintf(v->cls, sizeof(v->cls), "%.*s", (int)cl, mark + strlen(MARK));
  if (colon)
    snprintf(v->evidence, sizeof(v->evidence), "%.*s",
             (int)strcspn(colon + 2, "\n"), colon + 2);
  paren = strstr(v->evidence, " (");
  if (strncmp(v->evidence, "via ", 4) == 0)
    snprintf(v->state, sizeof(v->state), "%.*s",
             paren ? (int)(paren - v->evidence) : (int)strlen(v->evidence),
             v->evidence);
  else
    snprintf(v->state, sizeof(v->state), "%s", v->cls);
}

static void classify(const char *log, verdict_t *v) {
  size_t len;
  char *text = lk_read_file(log, LOG_MAX, &len);
  const char *mark = text ? strstr(text, MARK) : NULL;

  memset(v, 0, sizeof(*v));
  if (mark)
    oracle_verdict(mark, v);
  else if (text)
    crash_state(text, v);
  free(text);
}

static int seen_state(const cJSON *list, const char *fn, const char *state) {
  const cJSON *f;
  const char *a, *b;

  cJSON_ArrayForEach(f, list) {
    a = lk_json_str(f, "function");
    b = lk_json_str(f, "state");
    if (a && b && strcmp(a, fn) == 0 && strcmp(b, state) == 0)
      return 1;
  }
  return 0;
}

/* A crash file of this run: crash-*, leak-* or timeout-*, newer than
 * the run's start (an earlier run's finding is not this run's). */
static int this_runs(const lk_triage_run_t *run, const char *name,
                     const char *path) {
  struct stat st;

  if (strncmp(name, "crash-", 6) != 0 && strncmp(name, "leak-", 5) != 0 &&
      strncmp(name, "timeout-", 8) != 0)
    return 0;
  return strstr(name, ".json") == NULL && stat(path, &st) == 0 &&
         st.st_mtime >= run->since;
}

/* The reproducer of one crash file: written to the findings folder, and
 * (without its event) added to the list. */
static void reproducer(const lk_triage_run_t *run, const verdict_t *v,
                       const char *cls, const char *path, const char *ev,
                       cJSON *list) {
  char key[600], hash[33], name[300], out[PATH_MAX], *text;
  cJSON *rep = cJSON_CreateObject();

  snprintf(key, sizeof(key), "%s\n%s\n%s", cls, run->function, v->state);
  lk_md5_hex(key, strlen(key), hash);
  hash[8] = '\0';
  cJSON_AddStringToObject(rep, "class", cls);
  cJSON_AddStringToObject(rep, "function", run->function);
  cJSON_AddStringToObject(rep, "source", run->source);
  cJSON_AddStringToObject(rep, "key", hash);
  cJSON_AddStringToObject(rep, "sink", v->state);
  cJSON_AddStringToObject(rep, "state", v->state);
  cJSON_AddStringToObject(rep, "evidence", v->evidence);
  cJSON_AddStringToObject(rep, "artifact", path);
  /* libFuzzer stops at its first crash: the run's totals are when. */
  cJSON_AddNumberToObject(rep, "found_after_s", run->took_s);
  cJSON_AddNumberToObject(rep, "found_at_exec", (double)run->execs);
  cJSON_AddStringToObject(rep, "event", ev);
  snprintf(name, sizeof(name), "%s-%s-%s.json", cls, run->function, hash);
  lk_path_join(out, sizeof(out), run->findings, name);
  text = cJSON_Print(rep);
  lk_write_file_atomic(out, text, strlen(text));
  free(text);
  cJSON_DeleteItemFromObject(rep, "event");
  cJSON_AddStringToObject(rep, "reproducer", out);
  cJSON_AddItemToArray(list, rep);
}

int lk_triage_collect(const lk_triage_run_t *run, cJSON *list) {
  DIR *d = opendir(run->artifacts);
  struct dirent *e;
  char path[PATH_MAX], *ev;
  const char *cls;
  verdict_t v;
  size_t len;
  int found = 0;

  classify(run->log, &v);
  for (e = d ? readdir(d) : NULL; e; e = readdir(d)) {
    if (lk_path_join(path, sizeof(path), run->artifacts, e->d_name) ||
        !this_runs(run, e->d_name, path) ||
        seen_state(list, run->function, v.state))
      continue; /* one finding per (class, function, crash state) */
    ev = lk_read_file(path, INPUT_MAX, &len);
    if (ev == NULL)
      continue;
    cls = v.cls[0]              ? v.cls
          : e->d_name[0] == 'c' ? "crash"
          : e->d_name[0] == 'l' ? "leak"
                                : "timeout";
    reproducer(run, &v, cls, path, ev, list);
    free(ev);
    found++;
  }
  if (d)
    closedir(d);
  return found;
}
