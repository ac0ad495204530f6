/* Process mode of `lambkin fuzz`, for python, node and provided functions,
 * and the finding check of `lambkin replay`. The event-aware mutator
 * drives invocations through a private emulator (Runtime API, warm
 * instances, --jobs of them in parallel). Every runtime process has the
 * sink library preloaded and the tripwire first on PATH; after each
 * invocation the oracles (fuzz/oracle.c) judge the sink report, the log,
 * the outcome and the response, and the emulator's loop detection reports
 * self-invocation. An input that shows a new outcome, error type,
 * response or log size class, sink kind or verdict joins the corpus,
 * which persists in out/corpus/<function>/. A run first replays that
 * folder's files unchanged and deletes those that show nothing new
 * (libFuzzer's merge, by this mode's signatures), so the folder keeps one
 * input per behaviour. Each distinct finding is written once, as
 * out/findings/<class>-<function>-<hash>.json. */
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "emu.h"
#include "fs.h"
#include "mem.h"
#include "mutator.h"
#include "oracle.h"
#include "process.h"
#include "rand.h"
#include "sinkrep.h"
#include "tripwire.h"

#define MAX_EVENT (256 * 1024)
#define MAX_CORPUS 4096
#define MAX_SIGS 4096
#define MAX_KEYS 512
#define SINK_MAX (1 << 20) /* sink report bytes read per invocation */
#define QUIET_MS 150
#define SIG_MAX 1200
#define MAX_WORDS 512 /* the function's dictionary */

typedef struct fz {
  lk_fuzz_job_t *job;
  uv_loop_t *loop;
  lk_emu_t *emu;
  char sink_lib[PATH_MAX], sink_dir[PATH_MAX], bin_dir[PATH_MAX],
      findings_dir[PATH_MAX], corpus_dir[PATH_MAX], state[PATH_MAX];
  lk_oracle_ctx_t octx;
  char *corpus[MAX_CORPUS];
  size_t corpus_len[MAX_CORPUS];
  int n_corpus;
  char *loaded[MAX_CORPUS]; /* file of an earlier run's input, or NULL */
  int first_loaded, n_loaded, replayed; /* their indexes; merge progress */
  char *sigs[MAX_SIGS];
  int n_sigs;
  char keys[MAX_KEYS][33]; /* findings already written */
  int n_keys;
  char *words[MAX_WORDS]; /* what the runtime said its code compares */
  int n_words;
  /* lk_fuzz_step: the invocation in flight and what it showed */
  int step_done, step_found;
  uint32_t *units;
  int n_units, max_units;
  lk_rand_t rng;
  int in_flight, stopping, closed;
  long fired;
  uint64_t t0;
  uv_timer_t deadline, tick, quiet;
  int idle_checks, waited_ms, ticks;
} fz_t;

typedef struct shot {
  fz_t *fz;
  char *event;
  size_t len;
  int merge; /* corpus index of an earlier run's input replayed as is, or -1 */
} shot_t;

/* The byte mutator has libFuzzer's LLVMFuzzerMutate shape, with no room
 * for a state: each shot seeds this one from the run's generator. */
static lk_rand_t bytes_rng;

/* libFuzzer's ChangeASCIIInteger: the first run of digits at or after a
 * random place becomes its value +1, -1, halved, doubled or random. */
static size_t change_integer(uint8_t *d, size_t n, size_t max, uint32_t r) {
  size_t b = lk_rand_below(&bytes_rng, (uint32_t)n), e, len;
  unsigned long long v = 0;
  char num[24];

  while (b < n && (d[b] < '0' || d[b] > '9'))
    b++;
  if (b == n)
    return n;
  for (e = b; e < n && e - b < 18 && d[e] >= '0' && d[e] <= '9'; e++)
    v = v * 10 + (unsigned long long)(d[e] - '0');
  switch (r % 5) {
  case 0:
    v++;
    break;
  case 1:
    v = v ? v - 1 : 0;
    break;
  case 2:
    v /= 2;
    break;
  case 3:
    v *= 2;
    break;
  default: /* v * v + 1 wraps to 0 only for a huge v: then any value */
    v = v * v + 1 ? lk_rand_next64(&bytes_rng) % (v * v + 1)
                  : lk_rand_next64(&bytes_rng);
  }
  len = (size_t)snprintf(num, sizeof(num), "%llu", v);
  if (n - (e - b) + len > max)
    return n;
  memmove(d + b + len, d + e, n - e);
  memcpy(d + b, num, len);
  return n - (e - b) + len;
}

/* Byte mutations for one field, as LLVMFuzzerMutate would do them. */
static size_t byte_mutate(uint8_t *d, size_t n, size_t max) {
  uint32_t r = lk_rand_next(&bytes_rng);
  size_t at;

  switch (r % 5) {
  case 0: /* flip a bit */
    if (n)
      d[lk_rand_below(&bytes_rng, (uint32_t)n)] ^=
          (uint8_t)(1u << (r >> 8) % 8);
    break;
  case 1: /* insert a byte */
    if (n < max) {
      at = lk_rand_below(&bytes_rng, (uint32_t)n + 1);
      memmove(d + at + 1, d + at, n - at);
      d[at] = (uint8_t)(r >> 16);
      n++;
    }
    break;
  case 2: /* drop a byte */
    if (n) {
      at = lk_rand_below(&bytes_rng, (uint32_t)n);
      memmove(d + at, d + at + 1, n - at - 1);
      n--;
    }
    break;
  case 3: /* an ASCII number, changed */
    if (n)
      n = change_integer(d, n, max, r >> 8);
    break;
  default: /* repeat the value */
    if (n && n * 2 <= max) {
      memcpy(d + n, d, n);
      n *= 2;
    }
  }
  return n;
}

static int new_sig(fz_t *z, const char *sig) {
  int i;

  for (i = 0; i < z->n_sigs; i++)
    if (strcmp(z->sigs[i], sig) == 0)
      return 0;
  if (z->n_sigs < MAX_SIGS)
    z->sigs[z->n_sigs++] = lk_xstrdup(sig);
  return 1;
}

static double elapsed_s(const fz_t *z) {
  return (double)(uv_hrtime() - z->t0) / 1e9;
}

/* ---- findings ---- */

/* In replay, every verdict is a line of the answer. */
static void replay_verdict(fz_t *z, const char *fn, const char *cls,
                           const char *sink, const char *evidence) {
  cJSON *entry = cJSON_CreateObject();

  cJSON_AddStringToObject(entry, "class", cls);
  cJSON_AddStringToObject(entry, "function", fn);
  cJSON_AddStringToObject(entry, "sink", sink);
  cJSON_AddStringToObject(entry, "evidence", evidence);
  cJSON_AddItemToArray(z->job->verdicts, entry);
}

/* The key of a finding, 8 hex digits of (class, function, sink); 1 when it
 * is new in this run. */
static int new_finding(fz_t *z, const char *fn, const char *cls,
                       const char *sink, char hash[33]) {
  char key[600];
  int i;

  snprintf(key, sizeof(key), "%s\n%s\n%s", cls, fn, sink);
  lk_md5_hex(key, strlen(key), hash);
  hash[8] = '\0';
  for (i = 0; i < z->n_keys; i++)
    if (strcmp(z->keys[i], hash) == 0)
      return 0;
  if (z->n_keys < MAX_KEYS)
    lk_str_copy(z->keys[z->n_keys++], sizeof(z->keys[0]), hash);
  return 1;
}

/* One verdict: in fuzzing, a finding written once per (class, function,
 * sink) as a reproducer, a journal record and an entry of the report. */
static void record(fz_t *z, const char *fn, const char *cls, const char *sink,
                   const char *evidence, const char *event) {
  lk_fuzz_job_t *j = z->job;
  char hash[33], name[300], path[PATH_MAX], *text;
  cJSON *rep, *entry;

  if (j->replay) {
    replay_verdict(z, fn, cls, sink, evidence);
    return;
  }
  if (!new_finding(z, fn, cls, sink, hash))
    return;
  snprintf(name, sizeof(name), "%s-%s-%s.json", cls, fn, hash);
  lk_path_join(path, sizeof(path), z->findings_dir, name);
  rep = cJSON_CreateObject();
  cJSON_AddStringToObject(rep, "class", cls);
  cJSON_AddStringToObject(rep, "function", fn);
  cJSON_AddStringToObject(rep, "source", j->source);
  cJSON_AddStringToObject(rep, "key", hash);
  cJSON_AddStringToObject(rep, "sink", sink);
  cJSON_AddStringToObject(rep, "state", sink);
  cJSON_AddStringToObject(rep, "evidence", evidence);
  cJSON_AddNumberToObject(rep, "found_after_s", elapsed_s(z));
  cJSON_AddNumberToObject(rep, "found_at_exec", (double)j->execs);
  cJSON_AddStringToObject(rep, "event", event);
  text = cJSON_Print(rep);
  lk_write_file_atomic(path, text, strlen(text));
  free(text);
  cJSON_AddStringToObject(rep, "type", "finding");
  lk_journal_event(lk_emu_journal(z->emu), rep);
  entry = cJSON_Duplicate(rep, 1);
  cJSON_DeleteItemFromObject(entry, "event");
  cJSON_DeleteItemFromObject(entry, "type");
  cJSON_AddStringToObject(entry, "reproducer", path);
  cJSON_AddItemToArray(cJSON_GetObjectItem(j->report, "findings"), entry);
  cJSON_Delete(rep);
  j->found++;
}

/* A chain came back to a function already in it. The dedup key is the
 * way it came back: "via s3://bucket" (the first service edge of the
 * path, without the object key, which the mutator changes every time),
 * or "via invoke" for a direct call. */
static void on_loop(const char *fn, const char *path, const char *event,
                    void *ud) {
  fz_t *z = ud;
  const char *edge = strstr(path, "://"), *start = edge, *slash;
  char shape[200];

  if (edge == NULL) {
    snprintf(shape, sizeof(shape), "via invoke");
  } else {
    while (start > path && start[-1] != ' ')
      start--;
    slash = strchr(edge + 3, '/');
    snprintf(shape, sizeof(shape), "via %.*s",
             (int)(slash ? slash - start : (ptrdiff_t)strcspn(start, " ")),
             start);
  }
  record(z, fn, "self-invocation", shape, path, event);
}

/* ---- what an invocation showed ---- */

/* The sink report of the instance that ran this invocation; the file is
 * emptied for the next one. */
static char *take_sink(fz_t *z, const char *stream, size_t *len) {
  const char *id = stream ? strrchr(stream, ']') : NULL;
  char name[128], path[PATH_MAX];
  char *text;

  *len = 0;
  if (id == NULL)
    return NULL;
  snprintf(name, sizeof(name), "%s.log", id + 1);
  if (lk_path_join(path, sizeof(path), z->sink_dir, name) != 0)
    return NULL;
  text = lk_read_file(path, SINK_MAX, len);
  if (text && *len && truncate(path, 0) != 0)
    *len = 0;
  return text;
}

/* The runtimes' "dict\tWORD" lines (the literals of the function's code,
 * the operands of its string tests) join the function's dictionary, each
 * once; words are 2 to 64 printable bytes, so none needs unescaping. */
static void take_words(fz_t *z, const char *rep, size_t len) {
  z->n_words = lk_sinkrep_words(rep, len, z->words, z->n_words, MAX_WORDS);
}

/* What the invocation proves, by the oracles; its words join the
 * function's dictionary. The number of verdicts in v. */
static int judge(fz_t *z, const lk_result_t *r, const char *sink,
                 size_t sink_len, lk_verdict_t *v) {
  lk_observed_t o;

  take_words(z, sink, sink_len);
  memset(&o, 0, sizeof(o));
  o.sink = sink;
  o.sink_len = sink_len;
  o.log = r->log;
  o.log_len = r->log_len;
  o.outcome = r->outcome;
  o.error_type = r->error_type;
  o.body = r->body;
  o.body_len = r->len;
  return lk_oracle_judge(&z->octx, &o, v, LK_VERDICT_MAX);
}

/* Appends to the signature, cut at its ceiling. */
static void sig_add(char *sig, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sig_add(char *sig, size_t *len, const char *fmt, ...) {
  va_list ap;
  int n;

  if (*len >= SIG_MAX - 1)
    return;
  va_start(ap, fmt);
  n = vsnprintf(sig + *len, SIG_MAX - *len, fmt, ap);
  va_end(ap);
  *len = n < 0                         ? *len
         : (size_t)n >= SIG_MAX - *len ? SIG_MAX - 1
                                       : *len + (size_t)n;
}

/* What an invocation showed, as a string: outcome, error type, response
 * and log size classes, sink kinds, new lines run ("|covN", between
 * cov_at and cov_end) and verdicts. */
static void signature(const lk_result_t *r, const char *sink, size_t sink_len,
                      long cov, const lk_verdict_t *v, int n, char *sig,
                      size_t *cov_at, size_t *cov_end) {
  size_t sl = 0, l, bucket = 0;
  int i;

  for (l = r->len; l; l >>= 1)
    bucket++;
  sig[0] = '\0';
  sig_add(sig, &sl, "%s/%s/%zu", r->outcome,
          r->error_type ? r->error_type : "-", bucket);
  /* New behaviour also means a sink reached with a canary that no oracle
   * called a finding (yet), or a log of another length class. */
  sl += lk_sinkrep_kinds(sink, sink_len, sig + sl, SIG_MAX - sl);
  *cov_at = sl;
  if (cov > 0) /* new lines of the task's code ran */
    sig_add(sig, &sl, "|cov%ld", cov);
  *cov_end = sl;
  for (l = r->log_len, bucket = 0; l; l >>= 2)
    bucket++;
  sig_add(sig, &sl, "/log%zu", bucket);
  for (i = 0; i < n; i++)
    sig_add(sig, &sl, "|%s:%.60s", v[i].cls, v[i].sink);
}

static void keep(fz_t *z, shot_t *s) {
  char name[33], path[PATH_MAX];

  if (z->n_corpus >= MAX_CORPUS)
    return;
  z->corpus[z->n_corpus] = s->event;
  z->corpus_len[z->n_corpus++] = s->len;
  if (!z->job->replay) {
    lk_md5_hex(s->event, s->len, name);
    if (lk_path_join(path, sizeof(path), z->corpus_dir, name) == 0)
      lk_write_file_atomic(path, s->event, s->len);
  }
  s->event = NULL;
}

/* As libFuzzer: an input that timed out or crashed is a finding, not a
 * parent for more inputs (its children would mostly cost a timeout). An
 * earlier run's input is in the corpus already; if it shows nothing new
 * (or is such a finding), its file goes. */
static void keep_or_drop(fz_t *z, shot_t *s, const lk_result_t *r, char *sig,
                         size_t cov_at, size_t cov_end, long cov) {
  int bad =
      strcmp(r->outcome, "timeout") == 0 || strcmp(r->outcome, "crash") == 0;

  if (s->merge >= 0) {
    /* A replay of the same input runs no new lines, so its signature
     * lacks the "|covN" the first one had: judge by the rest, plus
     * whether new lines ran. */
    memmove(sig + cov_at, sig + cov_end, strlen(sig + cov_end) + 1);
    if (!(new_sig(z, sig) || cov > 0) || bad)
      unlink(z->loaded[s->merge]);
  } else if (new_sig(z, sig) && !bad) {
    keep(z, s);
  }
}

/* ---- the run ---- */

static void fire(fz_t *z);

static void stop(fz_t *z) {
  if (z->in_flight == 0 && !z->closed) {
    uv_timer_stop(&z->deadline);
    uv_timer_stop(&z->tick);
    z->closed = 1;
    lk_emu_close(z->emu);
  }
}

static void on_quiet(uv_timer_t *t) {
  fz_t *z = t->data;

  z->waited_ms += QUIET_MS;
  z->idle_checks = lk_emu_busy(z->emu) ? 0 : z->idle_checks + 1;
  if (z->idle_checks < 2 && z->waited_ms < 30000)
    return;
  uv_close((uv_handle_t *)t, NULL);
  z->stopping = 1;
  stop(z);
}

/* Judges one invocation: findings, corpus, and what comes next. */
static void on_result(const lk_result_t *r, void *ud) {
  shot_t *s = ud;
  fz_t *z = s->fz;
  lk_fuzz_job_t *j = z->job;
  lk_verdict_t v[LK_VERDICT_MAX];
  char sig[SIG_MAX];
  size_t sink_len, cov_at, cov_end;
  char *sink = take_sink(z, r->stream, &sink_len);
  long cov = lk_sinkrep_cov(sink, sink_len);
  int n, i;

  z->in_flight--;
  j->execs++;
  n = judge(z, r, sink, sink_len, v);
  if (cov > j->coverage)
    j->coverage = cov;
  signature(r, sink, sink_len, cov, v, n, sig, &cov_at, &cov_end);
  for (i = 0; i < n; i++)
    if (strcmp(r->error_type ? r->error_type : "", "Lambkin.Stopping") != 0)
      record(z, j->fn->name, v[i].cls, v[i].sink, v[i].evidence, s->event);
  free(sink);
  keep_or_drop(z, s, r, sig, cov_at, cov_end, cov);
  free(s->event);
  free(s);
  if (j->replay) { /* let what it set off run: a loop shows only there */
    uv_timer_init(z->loop, &z->quiet);
    z->quiet.data = z;
    uv_timer_start(&z->quiet, on_quiet, QUIET_MS, QUIET_MS);
    return;
  }
  if ((j->runs > 0 && z->fired >= j->runs) || (j->first && j->found))
    z->stopping = 1;
  if (!z->stopping)
    fire(z);
  else
    stop(z);
}

/* The next input: an earlier run's as it is (merge), the replayed event,
 * or a corpus entry mutated or crossed with another. */
static void next_input(fz_t *z, shot_t *s) {
  int k = (int)lk_rand_below(&z->rng, (uint32_t)z->n_corpus), k2;
  size_t n = 0;

  s->merge = -1;
  if (z->job->replay)
    k = 0;
  if (z->replayed < z->n_loaded) /* merge: earlier runs' inputs as they are */
    s->merge = k = z->first_loaded + z->replayed++;
  s->event = lk_xmalloc(MAX_EVENT);
  memcpy(s->event, z->corpus[k], z->corpus_len[k]);
  if (s->merge >= 0 || z->job->replay) {
    /* as it is */
  } else if (z->n_corpus > 1 && lk_rand_below(&z->rng, 8) == 0) {
    k2 = (int)lk_rand_below(&z->rng, (uint32_t)z->n_corpus);
    n = lk_crossover_event(z->corpus[k], z->corpus_len[k], z->corpus[k2],
                           z->corpus_len[k2], s->event, MAX_EVENT - 1,
                           lk_rand_next(&z->rng) | 1);
  } else {
    lk_rand_seed(&bytes_rng, lk_rand_next64(&z->rng));
    lk_words_t words = {(const char *const *)z->words, z->n_words};

    n = lk_mutate_event_words(s->event, z->corpus_len[k], MAX_EVENT - 1,
                              lk_rand_next(&z->rng) | 1, byte_mutate, &words);
  }
  s->len = n ? n : z->corpus_len[k];
  s->event[s->len] = '\0';
  s->event = lk_xrealloc(s->event, s->len + 1); /* a kept input: its size */
}

static void fire(fz_t *z) {
  shot_t *s = lk_xcalloc(1, sizeof(*s));

  s->fz = z;
  next_input(z, s);
  z->in_flight++;
  z->fired++;
  if (lk_emu_invoke(z->emu, z->job->fn, s->event, s->len, 0, "fuzz", NULL, NULL,
                    on_result, s)) {
    z->in_flight--;
    free(s->event);
    free(s);
  }
}

static void on_deadline(uv_timer_t *t) {
  fz_t *z = t->data;

  z->stopping = 1;
  stop(z);
}

/* The status line: rewritten in place on a terminal, every 10 s as a plain
 * line otherwise (a nightly job's log). */
static void on_tick(uv_timer_t *t) {
  fz_t *z = t->data;
  lk_fuzz_job_t *j = z->job;
  int tty = isatty(1);

  z->ticks++;
  if (!tty && z->ticks % 10)
    return;
  printf("%s%-20s %8ld execs %6.0f/s  corpus %4d  cov %4ld  findings %d%s",
         tty ? "\r" : "  ", j->fn->name, j->execs,
         (double)j->execs / elapsed_s(z), z->n_corpus, j->coverage, j->found,
         tty ? "   " : "\n");
  fflush(stdout);
}

/* A kept input is named by the MD5 of its content, as libFuzzer names
 * its corpus by hash: a file under another name is renamed to it, or,
 * when an input with that content is there already, deleted. 0 when the
 * file at path (rewritten to its name) is to be loaded. */
static int canonical(const char *dir, char *path, const char *name,
                     const char *text, size_t len) {
  char md5[33], target[PATH_MAX];

  lk_md5_hex(text, len, md5);
  if (strcmp(name, md5) == 0)
    return 0;
  if (lk_path_join(target, sizeof(target), dir, md5) != 0)
    return -1;
  if (access(target, F_OK) == 0 || rename(path, target) != 0) {
    unlink(path); /* a copy of an input the corpus has */
    return -1;
  }
  lk_str_copy(path, PATH_MAX, target);
  return 0;
}

/* Earlier runs' corpus: every file that is still an event of the source,
 * in name order (readdir's order would make --seed runs differ). */
static void load_corpus(fz_t *z) {
  struct dirent **names = NULL;
  int n = scandir(z->corpus_dir, &names, NULL, alphasort), i;
  char path[PATH_MAX], *text;
  size_t len;

  z->first_loaded = z->n_corpus;
  for (i = 0; i < n; i++) {
    text = NULL;
    if (names[i]->d_name[0] != '.' && z->n_corpus < MAX_CORPUS &&
        lk_path_join(path, sizeof(path), z->corpus_dir, names[i]->d_name) == 0)
      text = lk_read_file(path, MAX_EVENT - 1, &len);
    if (text && lk_event_source(text, len) != LK_SRC_UNKNOWN &&
        canonical(z->corpus_dir, path, names[i]->d_name, text, len) == 0) {
      z->loaded[z->n_corpus] = lk_xstrdup(path);
      z->corpus[z->n_corpus] = text;
      z->corpus_len[z->n_corpus++] = len;
    } else {
      free(text);
    }
    free(names[i]);
  }
  free(names);
  z->n_loaded = z->n_corpus - z->first_loaded;
}

/* out/state, sink, findings and corpus/<function> (not in replay), with
 * the tripwire and the sink library. Absolute: the runtimes run in their
 * task root, not here. 0 or -1. */
static int prepare_dirs(fz_t *z) {
  lk_fuzz_job_t *j = z->job;
  char out[PATH_MAX], corpus[300];

  snprintf(corpus, sizeof(corpus), "corpus/%s", j->fn->name);
  if (lk_mkdirs(j->out) || realpath(j->out, out) == NULL ||
      lk_fuzz_prepare(out, z->sink_lib, sizeof(z->sink_lib)) ||
      lk_path_join(z->state, sizeof(z->state), out, "state") ||
      lk_path_join(z->sink_dir, sizeof(z->sink_dir), out, "sink") ||
      lk_path_join(z->bin_dir, sizeof(z->bin_dir), out, "bin") ||
      (j->findings ? snprintf(z->findings_dir, sizeof(z->findings_dir), "%s",
                              j->findings) >= (int)sizeof(z->findings_dir)
                   : lk_path_join(z->findings_dir, sizeof(z->findings_dir), out,
                                  "findings") != 0) ||
      lk_path_join(z->corpus_dir, sizeof(z->corpus_dir), out, corpus))
    return -1;
  if (lk_mkdirs(z->state) || lk_mkdirs(z->sink_dir) ||
      lk_mkdirs(z->findings_dir) || (!j->replay && lk_mkdirs(z->corpus_dir)))
    return -1;
  return 0;
}

/* A private emulator: no API Gateway, the sink and tripwire in place. */
static int start_emu(fz_t *z, uv_loop_t *loop) {
  lk_fuzz_job_t *j = z->job;
  lk_emu_opts_t o;

  memset(&o, 0, sizeof(o));
  o.port = 0; /* functions may call back into the services */
  o.api_port = -1;
  o.quiet = 1;
  o.state_dir = z->state;
  o.max_instances = j->jobs;
  o.sink_lib = z->sink_lib;
  o.sink_dir = z->sink_dir;
  o.bin_dir = z->bin_dir;
  o.sink_units = z->units != NULL;
  o.on_loop = on_loop;
  o.on_loop_ud = z;
  o.install = 1;
  o.no_fork_server = j->no_fork_server;
  o.sandbox = 1;   /* a mutated event must not reach the developer's */
  o.read_only = 1; /* files: only /tmp and the sink's folder are writable */
  if (lk_emu_new(loop, j->app, &o, &z->emu))
    return -1;
  z->octx.task_root = lk_emu_task_root(z->emu, j->fn);
  z->octx.http = strncmp(j->source, "apigw", 5) == 0;
  z->octx.secret = lk_emu_secret(z->emu, j->fn);
  z->octx.token = lk_emu_token(z->emu, j->fn);
  z->octx.env = j->fn->env;
  z->octx.n_env = j->fn->n_env;
  return 0;
}

/* The run until its deadline, its runs or its first finding; then the
 * emulator is closed and the loop runs dry. */
static void run(fz_t *z, uv_loop_t *loop) {
  lk_fuzz_job_t *j = z->job;
  int i;

  z->t0 = uv_hrtime();
  uv_timer_init(loop, &z->deadline);
  z->deadline.data = z;
  if (j->time_s > 0)
    uv_timer_start(&z->deadline, on_deadline, (uint64_t)j->time_s * 1000, 0);
  uv_timer_init(loop, &z->tick);
  z->tick.data = z;
  if (j->status)
    uv_timer_start(&z->tick, on_tick, 1000, 1000);
  for (i = 0; i < (j->replay ? 1 : j->jobs); i++)
    if (j->runs == 0 || z->fired < j->runs)
      fire(z);
  if (z->in_flight == 0) { /* nothing could be fired: stop at once */
    if (j->fn->reserved_concurrency == 0)
      fprintf(stderr,
              "lambkin fuzz: %s has ReservedConcurrentExecutions 0: Lambda "
              "throttles every invocation of it; nothing to fuzz\n",
              j->fn->name);
    stop(z);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&z->deadline, NULL);
  uv_close((uv_handle_t *)&z->tick, NULL);
  if (!z->closed)
    lk_emu_close(z->emu);
  uv_run(loop, UV_RUN_DEFAULT);
  if (j->status && isatty(1))
    printf("\r%*s\r", 78, "");
}

static void fz_free(fz_t *z) {
  int i;

  for (i = 0; i < z->n_corpus; i++) {
    free(z->corpus[i]);
    free(z->loaded[i]);
  }
  for (i = 0; i < z->n_sigs; i++)
    free(z->sigs[i]);
  for (i = 0; i < z->n_words; i++)
    free(z->words[i]);
  free(z);
}

int lk_fuzz_process(lk_fuzz_job_t *j) {
  fz_t *z = lk_xcalloc(1, sizeof(*z));
  uv_loop_t loop;
  int i, rc = -1;

  if (uv_loop_init(&loop)) {
    free(z);
    return -1;
  }
  z->job = j;
  z->loop = &loop;
  lk_rand_seed(&z->rng, j->seed);
  for (i = 0; i < j->n_seeds && z->n_corpus < MAX_CORPUS; i++) {
    z->corpus[z->n_corpus] = lk_xstrdup(j->seeds[i]);
    z->corpus_len[z->n_corpus++] = strlen(j->seeds[i]);
  }
  if (prepare_dirs(z) == 0) {
    if (!j->replay)
      load_corpus(z);
    if (z->n_corpus > 0 && start_emu(z, &loop) == 0) {
      run(z, &loop);
      lk_emu_free(z->emu);
      rc = 0;
    }
  }
  if (lk_emu_loop_close(&loop) && rc == 0)
    fprintf(stderr, "lambkin: fuzz: a handle outlived the run\n");
  j->corpus = z->n_corpus;
  fz_free(z);
  return rc;
}

/* ---- one input at a time (the libFuzzer-compatible target) ---- */

struct lk_fuzz_step {
  fz_t *z;
  uv_loop_t loop;
};

/* The "covu" lines of a sink report: this invocation's units. */
static void take_units(fz_t *z, const char *rep, size_t len) {
  z->n_units = lk_sinkrep_units(rep, len, z->units, z->max_units);
}

static void on_step(const lk_result_t *r, void *ud) {
  fz_t *z = ud;
  lk_verdict_t v[LK_VERDICT_MAX];
  size_t sink_len;
  char *sink = take_sink(z, r->stream, &sink_len);
  int n, i, before = z->job->found;

  take_units(z, sink, sink_len);
  n = judge(z, r, sink, sink_len, v);
  z->job->execs++;
  for (i = 0; i < n; i++)
    record(z, z->job->fn->name, v[i].cls, v[i].sink, v[i].evidence,
           z->corpus[0]);
  free(sink);
  z->step_found = n > 0 || z->job->found > before;
  z->step_done = 1;
}

lk_fuzz_step_t *lk_fuzz_step_open(lk_fuzz_job_t *j, uint32_t *units,
                                  int max_units) {
  lk_fuzz_step_t *s = lk_xcalloc(1, sizeof(*s));

  s->z = lk_xcalloc(1, sizeof(*s->z));
  s->z->job = j;
  s->z->loop = &s->loop;
  s->z->units = units;
  s->z->max_units = max_units;
  s->z->t0 = uv_hrtime();
  if (uv_loop_init(&s->loop) == 0 && prepare_dirs(s->z) == 0 &&
      start_emu(s->z, &s->loop) == 0)
    return s;
  fprintf(stderr, "lambkin: cannot start the emulator for %s\n", j->fn->name);
  exit(1); /* a target that cannot run must not look like one that passes */
}

int lk_fuzz_step(lk_fuzz_step_t *s, const char *event, size_t len,
                 int *n_units) {
  fz_t *z = s->z;

  z->step_done = z->step_found = z->n_units = *n_units = 0;
  free(z->corpus[0]); /* the event, as a reproducer would carry it */
  z->corpus[0] = lk_xmalloc(len + 1);
  memcpy(z->corpus[0], event, len);
  z->corpus[0][len] = '\0';
  z->n_corpus = 1;
  z->corpus_len[0] = len;
  if (lk_emu_invoke(z->emu, z->job->fn, z->corpus[0], len, 0, "fuzz", NULL,
                    NULL, on_step, z) != 0)
    return 0;
  while (!z->step_done)
    uv_run(&s->loop, UV_RUN_ONCE);
  *n_units = z->n_units;
  return z->step_found;
}

const lk_words_t *lk_fuzz_step_words(lk_fuzz_step_t *s, lk_words_t *w) {
  w->word = (const char *const *)s->z->words;
  w->n = s->z->n_words;
  return w;
}
