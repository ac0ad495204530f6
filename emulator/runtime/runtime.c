/* The runtime's life: its functions, the idle reaper, the check phase in
 * which finished invocations are recorded and delivered, and the way in
 * for invocations from the other layers (see runtime.h). The runtime owns
 * its functions and, through them, their instances and queues. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

#define REAP_EVERY_MS 1000
#define PSS_EVERY_NS 2000000000ULL /* an instance's PSS is read this often */
#define PSS_PER_TICK 32            /* and at most this many per reap */

lk_fn_t *lk_rt_fn(lk_runtime_t *rt, const lk_function_t *def) {
  return &rt->fns[def - rt->app->functions];
}

/* --max-memory, or half the machine's memory. */
static uint64_t memory_budget(const lk_runtime_t *rt) {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

  if (rt->opts.max_memory)
    return rt->opts.max_memory;
  return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size / 2 : 0;
}

/* The idle instance unused the longest, or NULL. */
static lk_instance_t *least_recent_idle(lk_runtime_t *rt) {
  lk_instance_t *in, *lru = NULL;
  int i;

  for (i = 0; i < rt->n_fns; i++)
    for (in = rt->fns[i].instances; in; in = in->next)
      if (in->state == INST_IDLE &&
          (lru == NULL || in->idle_since_ns < lru->idle_since_ns))
        lru = in;
  return lru;
}

/* While the instances together hold more than the budget, the least
 * recently used idle one stops; one running an invocation never does.
 * PSS is read a few instances per tick, so the sum can lag by seconds. */
static void keep_budget(lk_runtime_t *rt, uint64_t now) {
  uint64_t total = 0, budget = memory_budget(rt);
  lk_instance_t *in;
  int i, sampled = 0;

  for (i = 0; i < rt->n_fns; i++)
    for (in = rt->fns[i].instances; in; in = in->next) {
      if (in->state == INST_DEAD || in->pid <= 0)
        continue;
      if (sampled < PSS_PER_TICK && now - in->pss_read_ns > PSS_EVERY_NS) {
        lk_instance_sample_pss(in);
        sampled++;
      }
      total += (uint64_t)in->pss_kb * 1024;
    }
  while (budget && total > budget && (in = least_recent_idle(rt)) != NULL) {
    if (!rt->said_budget)
      fprintf(stderr,
              "lambkin: instances hold %llu MB, more than --max-memory "
              "(%llu MB): the least recently used idle ones stop\n",
              (unsigned long long)(total >> 20),
              (unsigned long long)(budget >> 20));
    rt->said_budget = 1;
    total -= (uint64_t)in->pss_kb * 1024;
    lk_instance_stop_idle(in);
  }
}

static void on_reap(uv_timer_t *t) {
  lk_runtime_t *rt = t->data;
  uint64_t now = uv_hrtime();
  uint64_t idle = (uint64_t)rt->opts.idle_timeout_s * 1000000000ULL;
  lk_instance_t *in;
  int i;

  for (i = 0; i < rt->n_fns; i++)
    for (in = rt->fns[i].instances; in; in = in->next)
      if (in->state == INST_IDLE && now - in->idle_since_ns > idle)
        lk_instance_stop_idle(in);
  keep_budget(rt, now);
}

static void on_check(uv_check_t *c) {
  lk_rt_finish_completed(c->data);
}

/* Defaults for what the caller left at 0. */
static void set_defaults(lk_runtime_opts_t *o) {
  if (o->max_instances <= 0)
    o->max_instances = 16;
  if (o->idle_timeout_s <= 0)
    o->idle_timeout_s = 300;
  if (o->retry_delay_ms <= 0)
    o->retry_delay_ms = 1000;
  if (o->state_dir == NULL)
    o->state_dir = ".lambkin";
  if (o->endpoint == NULL)
    o->endpoint = "";
}

/* The python runtime most of the app's python functions name, or NULL
 * when it has none. */
static const char *python_runtime(const lk_runtime_t *rt) {
  const char *best = NULL;
  int i, k, n, most = 0;

  for (i = 0; i < rt->n_fns; i++) {
    const lk_function_t *d = rt->fns[i].def;

    if (d->kind != LK_RT_PYTHON)
      continue;
    for (k = 0, n = 0; k < rt->n_fns; k++)
      n += rt->fns[k].def->kind == LK_RT_PYTHON &&
           strcmp(rt->fns[k].def->runtime, d->runtime) == 0;
    if (n > most) {
      most = n;
      best = d->runtime;
    }
  }
  return best;
}

/* Handles that live as long as the runtime; lk_runtime_close closes them.
 * They do not keep the loop alive on their own. */
void lk_runtime_start(lk_runtime_t *rt) {
  const char *python;
  int i;

  rt->started = 1;
  for (i = 0; i < rt->n_fns; i++) {
    uv_timer_init(rt->loop, &rt->fns[i].scale_timer);
    rt->fns[i].scale_timer.data = &rt->fns[i];
    uv_unref((uv_handle_t *)&rt->fns[i].scale_timer);
    if (rt->opts.watch)
      lk_rt_watch_start(&rt->fns[i]);
  }
  uv_timer_init(rt->loop, &rt->reaper);
  rt->reaper.data = rt;
  uv_timer_start(&rt->reaper, on_reap, REAP_EVERY_MS, REAP_EVERY_MS);
  uv_unref((uv_handle_t *)&rt->reaper);
  uv_check_init(rt->loop, &rt->check);
  rt->check.data = rt;
  uv_check_start(&rt->check, on_check);
  uv_unref((uv_handle_t *)&rt->check);
  python = python_runtime(rt);
  if (python)
    lk_zygote_start(rt, python);
}

int lk_runtime_new(const lk_runtime_opts_t *opts, lk_runtime_t **out) {
  lk_runtime_t *rt = lk_xcalloc(1, sizeof(*rt));
  char err[1024];
  int i, rc = 0;

  rt->loop = opts->loop;
  rt->app = opts->app;
  rt->opts = *opts;
  set_defaults(&rt->opts);
  lk_rt_sandbox_probe(rt);
  rt->n_fns = rt->app->n_functions;
  rt->fns = lk_xcalloc((size_t)rt->n_fns + 1, sizeof(*rt->fns));
  for (i = 0; i < rt->n_fns && rc == 0; i++) {
    rt->fns[i].rt = rt;
    rt->fns[i].def = &rt->app->functions[i];
    rc = lk_rt_prepare(&rt->fns[i], err, sizeof(err));
    if (rc)
      fprintf(stderr, "lambkin: %s\n", err);
  }
  if (rc) {
    lk_runtime_free(rt);
    return rc;
  }
  *out = rt;
  return 0;
}

int lk_runtime_invoke(lk_runtime_t *rt, const lk_function_t *def,
                      const char *payload, size_t len, int async,
                      const char *source, const char *incoming_trace,
                      const char *edge, lk_invoke_cb cb, void *ud) {
  lk_fn_t *fn = lk_rt_fn(rt, def);
  lk_invocation_t *inv;
  char why[8];

  if (fn->queued >= LK_QUEUE_MAX || lk_rt_queue_full(rt, len) || rt->closing)
    return LK_EBUSY;
  if (!async && def->reserved_concurrency == 0)
    return LK_EBUSY; /* throttled, as Lambda throttles all of them */
  inv = lk_inv_new(fn, payload, len, async, source);
  if (lk_inv_place(inv, incoming_trace, edge ? edge : source, why,
                   sizeof(why))) {
    lk_inv_free(inv);
    return LK_ELOOP;
  }
  inv->cb = cb;
  inv->ud = ud;
  lk_rt_enqueue(fn, inv);
  lk_rt_schedule(fn);
  return 0;
}

const char *lk_runtime_task_root(const lk_runtime_t *rt,
                                 const lk_function_t *fn) {
  return lk_rt_task_root(&rt->fns[fn - rt->app->functions]);
}

int lk_runtime_busy(const lk_runtime_t *rt) {
  int i;

  if (rt->retrying || rt->completing)
    return 1;
  for (i = 0; i < rt->n_fns; i++)
    if (rt->fns[i].queued || lk_rt_busy_instances(&rt->fns[i]))
      return 1;
  return 0;
}

const lk_function_t *lk_runtime_by_key(const lk_runtime_t *rt, const char *key,
                                       size_t n) {
  int i;

  for (i = 0; i < rt->n_fns; i++)
    if (strlen(rt->fns[i].access_key) == n &&
        memcmp(rt->fns[i].access_key, key, n) == 0)
      return rt->fns[i].def;
  return NULL;
}

const char *lk_runtime_secret(const lk_runtime_t *rt, const lk_function_t *fn) {
  return rt->fns[fn - rt->app->functions].secret_key;
}

const char *lk_runtime_token(const lk_runtime_t *rt, const lk_function_t *fn) {
  return rt->fns[fn - rt->app->functions].token;
}

const lk_function_t *lk_runtime_by_token(const lk_runtime_t *rt,
                                         const char *token) {
  size_t n = strlen(token);
  int i;

  for (i = 0; i < rt->n_fns; i++)
    if (strlen(rt->fns[i].token) == n &&
        CRYPTO_memcmp(rt->fns[i].token, token, n) == 0)
      return rt->fns[i].def;
  return NULL;
}

/* The span a trace header names ("Parent=<span>"): its length, 0 if none. */
static size_t parent_span(const char *trace, const char **span) {
  const char *p = trace ? strstr(trace, "Parent=") : NULL;

  *span = p ? p + 7 : NULL;
  return p ? strcspn(p + 7, ";") : 0;
}

/* The invocation running now whose trace names the same span. */
static const lk_invocation_t *running(const lk_runtime_t *rt,
                                      const char *trace) {
  const char *want, *have;
  size_t wn = parent_span(trace, &want), hn;
  const lk_instance_t *in;
  int i;

  for (i = 0; wn > 0 && i < rt->n_fns; i++)
    for (in = rt->fns[i].instances; in; in = in->next) {
      if (in->cur == NULL)
        continue;
      hn = parent_span(in->cur->trace, &have);
      if (hn == wn && memcmp(have, want, wn) == 0)
        return in->cur;
    }
  return NULL;
}

/* s as the sink library writes a field: \\, \t, \n, \r and \xNN for the
 * other control bytes, so a report line stays one line; cut at 8000
 * bytes, as the oracles read a field. */
static void escape(lk_buf_t *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  size_t i;

  for (i = 0; s[i] && i < 8000; i++) {
    unsigned char c = (unsigned char)s[i];
    char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

    if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
      e[1] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
      lk_buf_add(b, e, 2);
    } else if (c < 0x20) {
      lk_buf_add(b, e, 4);
    } else {
      lk_buf_add(b, s + i, 1);
    }
  }
}

void lk_runtime_sink_note(lk_runtime_t *rt, const char *trace, const char *kind,
                          const char *const *fields, int n) {
  const lk_invocation_t *inv = running(rt, trace);
  char path[PATH_MAX];
  struct stat st;
  lk_buf_t line;
  int i, fd;

  if (inv == NULL || inv->inst == NULL ||
      lk_instance_sink_path(&rt->opts, inv->inst->stream, path, sizeof(path)) !=
          0)
    return;
  lk_buf_init(&line, 64 * 1024); /* as a sink report's fields are cut */
  lk_buf_adds(&line, kind);
  for (i = 0; i < n; i++) {
    lk_buf_adds(&line, "\t");
    escape(&line, fields[i] ? fields[i] : "");
  }
  lk_buf_adds(&line, "\n");
  /* The function can write in the sink's folder: never through a link it
   * planted, never into a FIFO that would block the loop. */
  fd = lk_buf_error(&line) ? -1
                           : open(path, O_WRONLY | O_APPEND | O_CLOEXEC |
                                            O_NOFOLLOW | O_NONBLOCK);
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    ssize_t w = write(fd, line.data, line.len);

    (void)w; /* a lost note is a lost hint, never an error */
  }
  if (fd >= 0)
    close(fd);
  lk_buf_free(&line);
}

void lk_runtime_close(lk_runtime_t *rt) {
  lk_invocation_t *inv;
  lk_instance_t *in;
  int i;

  if (rt->closing)
    return;
  rt->closing = 1; /* no retries, no new instances from here on */
  if (!rt->started)
    return;                   /* nothing ran */
  lk_rt_finish_completed(rt); /* deliver what already finished */
  uv_close((uv_handle_t *)&rt->reaper, NULL);
  uv_close((uv_handle_t *)&rt->check, NULL);
  for (inv = rt->retrying; inv; inv = rt->retrying) {
    rt->retrying = inv->next;
    uv_close((uv_handle_t *)inv->retry_timer, lk_free_handle);
    inv->retry_timer = NULL;
    lk_rt_abandon(inv);
  }
  for (i = 0; i < rt->n_fns; i++) {
    lk_fn_t *fn = &rt->fns[i];

    for (inv = lk_rt_dequeue(fn); inv; inv = lk_rt_dequeue(fn))
      lk_rt_abandon(inv);
    for (in = fn->instances; in; in = in->next) {
      if (in->cur) /* answered now: its connection closes before it exits */
        lk_rt_tell_stopping(in->cur);
      lk_instance_kill(in, SIGKILL);
    }
    uv_close((uv_handle_t *)&fn->scale_timer, NULL);
    lk_rt_watch_stop(fn);
  }
  lk_zygote_close(rt);
}

void lk_runtime_free(lk_runtime_t *rt) {
  int i;

  if (rt == NULL)
    return;
  for (i = 0; i < rt->n_fns; i++) {
    free(rt->fns[i].so_path);
    lk_rt_sam_build_free(&rt->fns[i]);
  }
  free(rt->fns);
  free(rt);
}
