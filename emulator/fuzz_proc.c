/* Process mode of `lambkin fuzz`, for python, node and provided functions,
 * and the finding check of `lambkin replay`. The event-aware mutator
 * drives invocations through a private emulator (Runtime API, warm
 * instances, --jobs of them in parallel). Every runtime process has the
 * sink library preloaded and the tripwire first on PATH; after each
 * invocation the oracles (fuzz/oracle.c) judge the sink report, the log,
 * the outcome and the response, and the emulator's loop detection reports
 * self-invocation. An input that shows a new outcome, error type,
 * response or log size class, sink kind or verdict joins the corpus,
 * which persists in
 * out/corpus/<function>/. A run first replays that folder's files
 * unchanged and deletes those that show nothing new (libFuzzer's merge,
 * by this mode's signatures), so the folder keeps one input per
 * behaviour. Each distinct finding is written once, as
 * out/findings/<class>-<function>-<hash>.json. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "emu.h"
#include "fuzz_proc.h"
#include "mutator.h"
#include "oracle.h"

#define MAX_EVENT (256 * 1024)
#define MAX_CORPUS 4096
#define MAX_SIGS 4096
#define MAX_KEYS 512
#define SINK_MAX (1 << 20) /* sink report bytes read per invocation */
#define QUIET_MS 150

typedef struct fz {
  lk_fuzz_job_t *job;
  uv_loop_t *loop;
  lk_emu_t *emu;
  char sink_lib[4096], sink_dir[4200], bin_dir[4200], findings_dir[4200],
      corpus_dir[4400];
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
  unsigned rs;
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

static unsigned rnd(fz_t *z) {
  z->rs = z->rs * 1103515245u + 12345u;
  return (z->rs >> 16) & 0x7fff;
}

static unsigned mut_state;

/* Byte mutations for one field, as LLVMFuzzerMutate would do them. */
static size_t byte_mutate(uint8_t *d, size_t n, size_t max) {
  unsigned r;

  mut_state = mut_state * 1103515245u + 12345u;
  r = (mut_state >> 16) & 0x7fff;
  switch (r % 4) {
  case 0: /* flip a byte */
    if (n)
      d[r % n] ^= (uint8_t)(1u << (r % 8));
    break;
  case 1: /* insert a byte */
    if (n < max) {
      size_t at = n ? r % (n + 1) : 0;

      memmove(d + at + 1, d + at, n - at);
      d[at] = (uint8_t)(r >> 3);
      n++;
    }
    break;
  case 2: /* drop a byte */
    if (n) {
      size_t at = r % n;

      memmove(d + at, d + at + 1, n - at - 1);
      n--;
    }
    break;
  default: /* repeat the value */
    if (n && n * 2 <= max) {
      memcpy(d + n, d, n);
      n *= 2;
    }
  }
  return n;
}

static const char tripwire[] =
    "#!/bin/sh\n"
    "# lambkin's tripwire: event data made the function run this command.\n"
    "# The payloads of lambkin fuzz name it; nothing else does.\n"
    "if [ -n \"$LAMBKIN_SINK_LOG\" ]; then\n"
    "  printf 'tripwire\\t%s\\n' \"$*\" | tr -d '\\r' >> "
    "\"$LAMBKIN_SINK_LOG\"\n"
    "fi\n"
    "exit 0\n";

/* The tripwire at path, unless something that is not ours is there. */
static int place_tripwire(const char *path) {
  struct stat st;
  int fd;

  if (lstat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
      return -1; /* planted by someone else: leave it, and say so */
    return chmod(path, 0755);
  }
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (fd < 0)
    return -1;
  if (write(fd, tripwire, sizeof(tripwire) - 1) !=
      (ssize_t)(sizeof(tripwire) - 1)) {
    close(fd);
    return -1;
  }
  return close(fd);
}

int lk_fuzz_prepare(const char *out, char *sink_lib, size_t cap) {
  char bin[4200], path[4300];
  const char *env = getenv("LAMBKIN_SINK_LIB");

  snprintf(bin, sizeof(bin), "%s/bin", out);
  snprintf(path, sizeof(path), "%s/" LK_CANARY_CMD, bin);
  if (lk_mkdirs(bin) || (place_tripwire(path) && access(path, X_OK))) {
    fprintf(stderr, "lambkin: fuzz: cannot write the tripwire %s\n", path);
    return -1;
  }
  if (place_tripwire("/tmp/" LK_CANARY_CMD))
    fprintf(stderr, "lambkin: fuzz: /tmp/" LK_CANARY_CMD
                    " is not ours; commands run by that path go unseen\n");
  snprintf(sink_lib, cap, "%s",
           env ? env : LK_BINARY_DIR "/liblambkin_sink.so");
  if (access(sink_lib, R_OK)) {
    fprintf(stderr, "lambkin: fuzz: no sink library at %s\n", sink_lib);
    return -1;
  }
  return 0;
}

static int new_sig(fz_t *z, const char *sig) {
  int i;

  for (i = 0; i < z->n_sigs; i++)
    if (strcmp(z->sigs[i], sig) == 0)
      return 0;
  if (z->n_sigs < MAX_SIGS)
    z->sigs[z->n_sigs++] = strdup(sig);
  return 1;
}

static double elapsed_s(const fz_t *z) {
  return (double)(uv_hrtime() - z->t0) / 1e9;
}

/* One verdict: in replay, a line of the answer; in fuzzing, a finding
 * written once per (class, function, sink). */
static void record(fz_t *z, const char *fn, const char *cls, const char *sink,
                   const char *evidence, const char *event) {
  lk_fuzz_job_t *j = z->job;
  char key[600], hash[33], path[4600];
  cJSON *rep, *entry;
  char *text;
  int i;

  if (j->replay) {
    entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "class", cls);
    cJSON_AddStringToObject(entry, "function", fn);
    cJSON_AddStringToObject(entry, "sink", sink);
    cJSON_AddStringToObject(entry, "evidence", evidence);
    cJSON_AddItemToArray(j->verdicts, entry);
    return;
  }
  snprintf(key, sizeof(key), "%s\n%s\n%s", cls, fn, sink);
  lk_md5_hex(key, strlen(key), hash);
  hash[8] = '\0';
  for (i = 0; i < z->n_keys; i++)
    if (strcmp(z->keys[i], hash) == 0)
      return;
  if (z->n_keys < MAX_KEYS)
    snprintf(z->keys[z->n_keys++], sizeof(z->keys[0]), "%s", hash);
  snprintf(path, sizeof(path), "%s/%s-%s-%s.json", z->findings_dir, cls, fn,
           hash);
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
  if (text)
    lk_write_file_atomic(path, text, strlen(text));
  free(text);
  cJSON_AddStringToObject(rep, "type", "finding");
  lk_journal_event(z->emu->journal_fd, rep);
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
  const char *edge = strstr(path, "://");
  char shape[200];

  if (edge) {
    const char *start = edge, *slash;

    while (start > path && start[-1] != ' ')
      start--;
    slash = strchr(edge + 3, '/');
    snprintf(shape, sizeof(shape), "via %.*s",
             (int)(slash ? slash - start : (ptrdiff_t)strcspn(start, " ")),
             start);
  } else {
    snprintf(shape, sizeof(shape), "via invoke");
  }
  record(z, fn, "self-invocation", shape, path, event);
}

/* The sink report of the instance that ran this invocation; the file is
 * emptied for the next one. */
static char *take_sink(fz_t *z, const char *stream, size_t *len) {
  const char *id = stream ? strrchr(stream, ']') : NULL;
  char path[4400];
  char *text;

  *len = 0;
  if (id == NULL)
    return NULL;
  snprintf(path, sizeof(path), "%s/%s.log", z->sink_dir, id + 1);
  text = lk_read_file(path, SINK_MAX, len);
  if (text && *len && truncate(path, 0) != 0)
    *len = 0;
  return text;
}

/* "|exec|sql" for the kinds of line in a sink report, each once, into
 * out; the bytes written. */
static size_t sink_kinds(const char *rep, size_t len, char *out, size_t cap) {
  static const char *const kinds[] = {"exec", "open",      "dns",
                                      "sql",  "sql-error", "tripwire"};
  const char *line = rep, *end = rep + len;
  unsigned seen = 0;
  size_t k, o = 0;

  while (line && line < end) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t kl = strcspn(line, "\t\n");

    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
      if (kl == strlen(kinds[k]) && memcmp(line, kinds[k], kl) == 0)
        seen |= 1u << k;
    line = nl ? nl + 1 : end;
  }
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
    if ((seen & (1u << k)) && o + strlen(kinds[k]) + 2 < cap)
      o += (size_t)snprintf(out + o, cap - o, "|%s", kinds[k]);
  return o;
}

/* The python bootstrap's "cov\tN": lines of the task's code run so far
 * by that instance; 0 when the report has none. */
static long sink_cov(const char *rep, size_t len) {
  const char *p = rep, *end = rep + len;
  long n = 0;

  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    if (end - p > 4 && memcmp(p, "cov\t", 4) == 0)
      n = strtol(p + 4, NULL, 10);
    p = nl ? nl + 1 : end;
  }
  return n;
}

static void keep(fz_t *z, shot_t *s) {
  char name[33], path[4500];

  if (z->n_corpus >= MAX_CORPUS)
    return;
  z->corpus[z->n_corpus] = s->event;
  z->corpus_len[z->n_corpus++] = s->len;
  if (!z->job->replay) {
    lk_md5_hex(s->event, s->len, name);
    snprintf(path, sizeof(path), "%s/%s", z->corpus_dir, name);
    lk_write_file_atomic(path, s->event, s->len);
  }
  s->event = NULL;
}

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

static void on_result(const lk_result_t *r, void *ud) {
  shot_t *s = ud;
  fz_t *z = s->fz;
  lk_fuzz_job_t *j = z->job;
  lk_verdict_t v[LK_VERDICT_MAX];
  lk_observed_t o;
  char sig[1200];
  size_t bucket = 0, l, sink_len, sl, cov_at, cov_end;
  char *sink = take_sink(z, r->stream, &sink_len);
  long cov;
  int n, i;

  z->in_flight--;
  j->execs++;
  memset(&o, 0, sizeof(o));
  o.sink = sink;
  o.sink_len = sink_len;
  o.log = r->log;
  o.log_len = r->log_len;
  o.outcome = r->outcome;
  o.error_type = r->error_type;
  o.body = r->body;
  o.body_len = r->len;
  n = lk_oracle_judge(&z->octx, &o, v, LK_VERDICT_MAX);
  for (l = r->len; l; l >>= 1)
    bucket++;
  sl = (size_t)snprintf(sig, sizeof(sig), "%s/%s/%zu", r->outcome,
                        r->error_type ? r->error_type : "-", bucket);
  /* New behaviour also means a sink reached with a canary that no oracle
   * called a finding (yet), or a log of another length class. */
  if (sl >= sizeof(sig))
    sl = sizeof(sig) - 1;
  sl += sink_kinds(sink, sink_len, sig + sl, sizeof(sig) - sl);
  cov = sink_cov(sink, sink_len);
  if (cov > j->coverage)
    j->coverage = cov;
  cov_at = sl < sizeof(sig) ? sl : sizeof(sig) - 1;
  if (cov > 0 && sl < sizeof(sig)) /* new lines of the task's code ran */
    sl += (size_t)snprintf(sig + sl, sizeof(sig) - sl, "|cov%ld", cov);
  cov_end = sl < sizeof(sig) ? sl : sizeof(sig) - 1;
  for (l = r->log_len, bucket = 0; l; l >>= 2)
    bucket++;
  if (sl < sizeof(sig))
    sl += (size_t)snprintf(sig + sl, sizeof(sig) - sl, "/log%zu", bucket);
  for (i = 0; i < n; i++) {
    if (strcmp(r->error_type ? r->error_type : "", "Lambkin.Stopping") != 0)
      record(z, j->fn->name, v[i].cls, v[i].sink, v[i].evidence, s->event);
    if (sl < sizeof(sig))
      sl += (size_t)snprintf(sig + sl, sizeof(sig) - sl, "|%s:%.60s", v[i].cls,
                             v[i].sink);
  }
  free(sink);
  /* As libFuzzer: an input that timed out or crashed is a finding, not a
   * parent for more inputs (its children would mostly cost a timeout). An
   * earlier run's input is in the corpus already; if it shows nothing new
   * (or is such a finding), its file goes. */
  if (s->merge >= 0) {
    /* A replay of the same input runs no new lines, so its signature
     * lacks the "|covN" the first one had: judge by the rest, plus
     * whether new lines ran. */
    memmove(sig + cov_at, sig + cov_end, strlen(sig + cov_end) + 1);
    if (!(new_sig(z, sig) || cov > 0) || strcmp(r->outcome, "timeout") == 0 ||
        strcmp(r->outcome, "crash") == 0)
      unlink(z->loaded[s->merge]);
  } else if (new_sig(z, sig) && strcmp(r->outcome, "timeout") != 0 &&
             strcmp(r->outcome, "crash") != 0) {
    keep(z, s);
  }
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

static void fire(fz_t *z) {
  shot_t *s = calloc(1, sizeof(*s));
  int k = (int)(rnd(z) % (unsigned)z->n_corpus);
  size_t n = 0;

  if (s == NULL)
    return;
  s->fz = z;
  s->event = malloc(MAX_EVENT);
  if (s->event == NULL) {
    free(s);
    return;
  }
  s->merge = -1;
  if (z->job->replay)
    k = 0;
  if (z->replayed < z->n_loaded) /* merge: earlier runs' inputs as they are */
    s->merge = k = z->first_loaded + z->replayed++;
  memcpy(s->event, z->corpus[k], z->corpus_len[k]);
  if (s->merge >= 0) {
    /* as it is */
  } else if (!z->job->replay && z->n_corpus > 1 && rnd(z) % 8 == 0) {
    int k2 = (int)(rnd(z) % (unsigned)z->n_corpus); /* crossover */

    n = lk_crossover_event(z->corpus[k], z->corpus_len[k], z->corpus[k2],
                           z->corpus_len[k2], s->event, MAX_EVENT - 1,
                           rnd(z) + 1);
  } else if (!z->job->replay) {
    mut_state = rnd(z) * 2654435761u;
    n = lk_mutate_event(s->event, z->corpus_len[k], MAX_EVENT - 1, rnd(z) + 1,
                        byte_mutate);
  }
  s->len = n ? n : z->corpus_len[k];
  s->event[s->len] = '\0';
  {
    char *fit = realloc(s->event, s->len + 1); /* a kept input: its size */

    if (fit)
      s->event = fit;
  }
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

/* Earlier runs' corpus: every file that is still an event of the source,
 * in name order (readdir's order would make --seed runs differ). */
static void load_corpus(fz_t *z) {
  struct dirent **names = NULL;
  int n = scandir(z->corpus_dir, &names, NULL, alphasort), i;

  z->first_loaded = z->n_corpus;
  for (i = 0; i < n; i++) {
    char path[4800], *text = NULL, *file = NULL;
    size_t len;

    snprintf(path, sizeof(path), "%s/%s", z->corpus_dir, names[i]->d_name);
    if (names[i]->d_name[0] != '.' && z->n_corpus < MAX_CORPUS)
      text = lk_read_file(path, MAX_EVENT - 1, &len);
    if (text && lk_event_source(text, len) != LK_SRC_UNKNOWN)
      file = strdup(path);
    if (file) {
      z->loaded[z->n_corpus] = file;
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

int lk_fuzz_process(lk_fuzz_job_t *j) {
  uv_loop_t loop;
  lk_emu_opts_t o = {0};
  char state[4200], out[PATH_MAX];
  fz_t *z = calloc(1, sizeof(*z));
  int i, rc = -1;

  if (z == NULL || uv_loop_init(&loop)) {
    free(z);
    return -1;
  }
  z->job = j;
  z->loop = &loop;
  z->rs = j->seed ? j->seed : 1;
  /* Absolute: the runtimes run in their task root, not here. */
  if (lk_mkdirs(j->out) || realpath(j->out, out) == NULL ||
      lk_fuzz_prepare(out, z->sink_lib, sizeof(z->sink_lib)))
    goto fail;
  snprintf(state, sizeof(state), "%s/state", out);
  snprintf(z->sink_dir, sizeof(z->sink_dir), "%s/sink", out);
  snprintf(z->bin_dir, sizeof(z->bin_dir), "%s/bin", out);
  snprintf(z->findings_dir, sizeof(z->findings_dir), "%s/findings", out);
  snprintf(z->corpus_dir, sizeof(z->corpus_dir), "%s/corpus/%s", out,
           j->fn->name);
  if (lk_mkdirs(state) || lk_mkdirs(z->sink_dir) ||
      lk_mkdirs(z->findings_dir) || (!j->replay && lk_mkdirs(z->corpus_dir)))
    goto fail;
  for (i = 0; i < j->n_seeds && z->n_corpus < MAX_CORPUS; i++) {
    z->corpus[z->n_corpus] = strdup(j->seeds[i]);
    z->corpus_len[z->n_corpus++] = strlen(j->seeds[i]);
  }
  if (!j->replay)
    load_corpus(z);
  if (z->n_corpus == 0)
    goto fail;
  o.port = 0; /* functions may call back into the services */
  o.api_port = -1;
  o.quiet = 1;
  o.state_dir = state;
  o.max_instances = j->jobs;
  o.sink_lib = z->sink_lib;
  o.sink_dir = z->sink_dir;
  o.bin_dir = z->bin_dir;
  o.on_loop = on_loop;
  o.on_loop_ud = z;
  if (lk_emu_new(&loop, j->app, &o, &z->emu))
    goto fail;
  z->octx.task_root = j->fn->code_dir;
  z->octx.http = strncmp(j->source, "apigw", 5) == 0;
  for (i = 0; i < z->emu->n_fns; i++)
    if (z->emu->fns[i].def == j->fn)
      z->octx.secret = z->emu->fns[i].secret_key;
  z->t0 = uv_hrtime();
  uv_timer_init(&loop, &z->deadline);
  z->deadline.data = z;
  if (j->time_s > 0)
    uv_timer_start(&z->deadline, on_deadline, (uint64_t)j->time_s * 1000, 0);
  uv_timer_init(&loop, &z->tick);
  z->tick.data = z;
  if (j->status)
    uv_timer_start(&z->tick, on_tick, 1000, 1000);
  for (i = 0; i < (j->replay ? 1 : j->jobs); i++)
    if (j->runs == 0 || z->fired < j->runs)
      fire(z);
  if (z->in_flight == 0) /* nothing could be fired: stop at once */
    stop(z);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&z->deadline, NULL);
  uv_close((uv_handle_t *)&z->tick, NULL);
  if (!z->closed)
    lk_emu_close(z->emu);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (j->status && isatty(1))
    printf("\r%*s\r", 78, "");
  lk_emu_free(z->emu);
  rc = 0;
fail:
  if (rc)
    uv_loop_close(&loop);
  else if (uv_loop_close(&loop))
    fprintf(stderr, "lambkin: fuzz: a handle outlived the run\n");
  j->corpus = z->n_corpus;
  for (i = 0; i < z->n_corpus; i++) {
    free(z->corpus[i]);
    free(z->loaded[i]);
  }
  for (i = 0; i < z->n_sigs; i++)
    free(z->sigs[i]);
  free(z);
  return rc;
}
