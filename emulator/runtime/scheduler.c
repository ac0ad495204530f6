/* The scheduler: each function's queue, scale-out to instances (up to its
 * cap, one at a time after --scale-delay), what instances report back,
 * completion in the check phase, async retries and delivery. An
 * invocation on a queue or the retry list is the scheduler's; it frees it
 * once the result is delivered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

void lk_rt_enqueue(lk_fn_t *fn, lk_invocation_t *inv) {
  inv->next = NULL;
  if (fn->qtail)
    fn->qtail->next = inv;
  else
    fn->qhead = inv;
  fn->qtail = inv;
  inv->queued_ns = uv_hrtime();
  fn->queued++;
  fn->rt->queued_bytes += inv->len;
  if (!inv->async)
    fn->queued_sync++;
}

static void unlinked(lk_fn_t *fn, lk_invocation_t *inv) {
  fn->queued--;
  fn->rt->queued_bytes -= inv->len;
  if (!inv->async)
    fn->queued_sync--;
  inv->next = NULL;
}

lk_invocation_t *lk_rt_dequeue(lk_fn_t *fn) {
  lk_invocation_t *inv = fn->qhead;

  if (inv == NULL)
    return NULL;
  fn->qhead = inv->next;
  if (fn->qhead == NULL)
    fn->qtail = NULL;
  unlinked(fn, inv);
  return inv;
}

int lk_rt_unqueue(lk_fn_t *fn, lk_invocation_t *inv) {
  lk_invocation_t **pp, *prev = NULL;

  for (pp = &fn->qhead; *pp && *pp != inv; pp = &(*pp)->next)
    prev = *pp;
  if (*pp == NULL)
    return -1;
  *pp = inv->next;
  if (fn->qtail == inv)
    fn->qtail = prev;
  unlinked(fn, inv);
  return 0;
}

int lk_rt_queue_full(const lk_runtime_t *rt, size_t len) {
  return rt->queued_bytes + len > LK_QUEUE_BYTES_MAX;
}

int lk_rt_retired(const lk_instance_t *in) {
  return in->gen != in->fn->gen;
}

int lk_rt_busy_instances(const lk_fn_t *fn) {
  const lk_instance_t *in;
  int n = 0;

  for (in = fn->instances; in; in = in->next)
    n += in->state == INST_BUSY;
  return n;
}

/* An instance that has answered is free for the next invocation even
 * before its runtime asks for it (the slot is the invocation's, not the
 * process's), so a caller that gets its answer and invokes again is never
 * throttled by its own previous call. */
int lk_rt_running(const lk_fn_t *fn) {
  const lk_instance_t *in;
  int n = 0;

  for (in = fn->instances; in; in = in->next)
    n += in->cur != NULL;
  return n;
}

int lk_rt_debugged(const lk_fn_t *fn) {
  const char *want = fn->rt->opts.debug_function;
  const lk_function_t *def = fn->def;

  return fn->rt->opts.debug_port > 0 &&
         (def->kind == LK_RT_PYTHON || def->kind == LK_RT_NODE) &&
         (want == NULL || strcmp(want, def->name) == 0 ||
          strcmp(want, def->logical_id) == 0);
}

static int instance_cap(const lk_fn_t *fn) {
  int r = fn->def->reserved_concurrency;

  if (lk_rt_debugged(fn)) /* one debugger port */
    return 1;
  return r >= 0 ? r : fn->rt->opts.max_instances;
}

static void start(lk_instance_t *in, lk_invocation_t *inv) {
  inv->pid = in->pid;
  inv->mem_mb = in->mem_mb;
  inv->init_ms = 0;
  lk_str_copy(inv->stream, sizeof(inv->stream), in->stream);
  if (in->cold) {
    inv->init_ms = in->init_ms;
    in->cold = 0;
    lk_inv_keep_init(inv, &in->init_log);
  }
  lk_inv_log_start(inv);
  lk_instance_dispatch(in, inv);
}

static void on_scale_timer(uv_timer_t *t) {
  lk_rt_schedule(t->data);
}

/* The oldest waiting invocation pays for an instance that cannot start. */
static void fail_start(lk_fn_t *fn, int err) {
  lk_invocation_t *inv = lk_rt_dequeue(fn);
  char body[512];

  if (inv == NULL)
    return;
  snprintf(body, sizeof(body),
           "{\"errorMessage\":\"cannot start the runtime: %s\","
           "\"errorType\":\"Runtime.InvalidEntrypoint\"}",
           lk_strerror(err));
  lk_rt_complete(inv, "crash", "Runtime.InvalidEntrypoint", body, strlen(body));
}

/* A function lambkin loaded but cannot run (a java runtime, an Image,
 * code not built): every call to it is answered with why, at once. */
static void refuse_all(lk_fn_t *fn) {
  const lk_function_t *def = fn->def;
  const char *type = def->kind == LK_RT_NONE ? "Runtime.InvalidRuntime"
                                             : "Runtime.InvalidEntrypoint";
  lk_invocation_t *inv;
  lk_buf_t body;

  while ((inv = lk_rt_dequeue(fn)) != NULL) {
    lk_buf_init(&body, 4096);
    lk_buf_adds(&body, "{\"errorMessage\":");
    lk_buf_add_json_str(&body, def->unrunnable, strlen(def->unrunnable));
    lk_buf_printf(&body, ",\"errorType\":\"%s\"}", type);
    lk_rt_complete(inv, "crash", type, lk_buf_str(&body), body.len);
    lk_buf_free(&body);
  }
}

/* A laptop has few cores: a warm instance that frees up in a moment beats
 * a cold start, and more processes than cores only slow every one down.
 * So, unless --scale-delay is 0, another instance starts once the oldest
 * invocation has waited that long, one at a time. 1 when a start may go
 * ahead now. */
static int may_start(lk_fn_t *fn) {
  uint64_t delay = (uint64_t)fn->rt->opts.scale_delay_ms * 1000000ULL;
  uint64_t waited;

  if (delay == 0)
    return 1;
  if (fn->n_starting > 0)
    return 0;
  if (fn->n_instances == 0)
    return 1;
  waited = uv_hrtime() - fn->qhead->queued_ns;
  if (waited >= delay)
    return 1;
  uv_timer_start(&fn->scale_timer, on_scale_timer,
                 (delay - waited) / 1000000ULL + 1, 0);
  return 0;
}

/* Hands queued work to waiting instances, then starts more instances for
 * what is left, up to the function's cap. */
void lk_rt_schedule(lk_fn_t *fn) {
  lk_instance_t *in;
  int err;

  if (fn->rt->closing)
    return;
  if (fn->def->unrunnable) {
    refuse_all(fn);
    return;
  }
  for (in = fn->instances; in && fn->qhead; in = in->next)
    if (in->state == INST_IDLE && in->next_req)
      start(in, lk_rt_dequeue(fn));
  while (fn->queued > fn->n_starting && fn->n_instances < instance_cap(fn) &&
         may_start(fn)) {
    err = lk_instance_spawn(fn);
    if (err)
      fail_start(fn, err);
  }
}

void lk_rt_instance_ready(lk_instance_t *in) {
  lk_fn_t *fn = in->fn;

  in->ever_ready = 1;
  if (fn->qhead)
    start(in, lk_rt_dequeue(fn));
  lk_rt_schedule(fn); /* the next start, if invocations still wait */
}

/* Why an instance died before its first /next, as Lambda reports it: an
 * INIT_REPORT line in the log and the error the waiting event gets. */
static void fail_init(lk_instance_t *in, lk_invocation_t *inv) {
  double ms = (double)(uv_hrtime() - in->spawn_ns) / 1e6;
  char body[256], what[64];

  lk_str_copy(inv->stream, sizeof(inv->stream), in->stream);
  lk_inv_keep_init(inv, &in->init_log);
  if (in->init_error_body) {
    lk_inv_log_fmt(inv,
                   "INIT_REPORT Init Duration: %.2f ms\tPhase: init\t"
                   "Status: error\tError Type: %s",
                   ms, in->init_error_type);
    lk_inv_log_start(inv);
    lk_rt_complete(inv, "error", in->init_error_type, in->init_error_body,
                   strlen(in->init_error_body));
  } else if (in->killed_for_timeout) {
    lk_inv_log_fmt(inv,
                   "INIT_REPORT Init Duration: %.2f ms\tPhase: init\t"
                   "Status: timeout",
                   ms);
    snprintf(body, sizeof(body),
             "{\"errorMessage\":\"%s Task timed out during init after "
             "%d.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
             inv->id, LK_INIT_TIMEOUT_MS / 1000);
    lk_inv_log_start(inv);
    lk_rt_complete(inv, "timeout", "Sandbox.Timedout", body, strlen(body));
  } else {
    lk_inv_log_fmt(inv,
                   "INIT_REPORT Init Duration: %.2f ms\tPhase: init\t"
                   "Status: error\tError Type: Runtime.ExitError",
                   ms);
    lk_rt_exit_words(what, sizeof(what), in->exit_status, in->term_signal);
    snprintf(body, sizeof(body),
             "{\"errorMessage\":\"RequestId: %s Error: Runtime exited "
             "with error: %s\",\"errorType\":\"Runtime.ExitError\"}",
             inv->id, what);
    lk_inv_log_start(inv);
    lk_rt_complete(inv, "crash", "Runtime.ExitError", body, strlen(body));
  }
}

void lk_rt_instance_gone(lk_instance_t *in) {
  lk_fn_t *fn = in->fn;

  /* An instance that died before its first /next failed to initialise:
   * the oldest waiting event is the one that pays for it, as in Lambda. */
  if (!in->ever_ready && !fn->rt->closing && fn->queued > fn->n_starting)
    fail_init(in, lk_rt_dequeue(fn));
  lk_rt_schedule(fn);
}

static void finish(lk_invocation_t *inv);

void lk_rt_complete(lk_invocation_t *inv, const char *outcome,
                    const char *error_type, const char *body, size_t len) {
  lk_runtime_t *rt = inv->fn->rt;

  inv->outcome = outcome;
  free(inv->error_type);
  inv->error_type = error_type ? lk_xstrdup(error_type) : NULL;
  free(inv->body);
  inv->body = lk_xmalloc(len + 1);
  memcpy(inv->body, body, len);
  inv->body[len] = '\0';
  inv->body_len = len;
  inv->duration_ms =
      inv->start_ns ? (double)(uv_hrtime() - inv->start_ns) / 1e6 : 0;
  inv->done = 1;
  if (rt->closing) { /* the check phase is gone: finish now */
    finish(inv);
    return;
  }
  /* Finish in the check phase: output the runtime wrote before answering
   * is read in this same loop turn, so the log is whole. */
  inv->next = rt->completing;
  rt->completing = inv;
}

/* ---- delivery ---- */

static void on_retry(uv_timer_t *t) {
  lk_invocation_t *inv = t->data;
  lk_runtime_t *rt = inv->fn->rt;
  lk_invocation_t **pp;

  for (pp = &rt->retrying; *pp; pp = &(*pp)->next)
    if (*pp == inv) {
      *pp = inv->next;
      break;
    }
  uv_close((uv_handle_t *)t, lk_free_handle);
  inv->retry_timer = NULL;
  inv->done = 0;
  inv->outcome = NULL;
  inv->start_ns = 0;
  lk_buf_reset(&inv->log);
  lk_rt_enqueue(inv->fn, inv);
  lk_rt_schedule(inv->fn);
}

static int max_attempts(const lk_fn_t *fn) {
  int r = fn->def->max_retry_attempts;

  return 1 + (r >= 0 ? r : 2);
}

/* A failed async invocation with attempts left waits for its retry: 1
 * when it does. */
static int retry_later(lk_invocation_t *inv) {
  lk_runtime_t *rt = inv->fn->rt;
  uint64_t delay;

  if (!inv->async || inv->error_type == NULL ||
      inv->attempt >= max_attempts(inv->fn) || rt->closing)
    return 0;
  delay = (uint64_t)rt->opts.retry_delay_ms << (inv->attempt - 1);
  inv->attempt++;
  inv->next = rt->retrying;
  rt->retrying = inv;
  inv->retry_timer = lk_xmalloc(sizeof(*inv->retry_timer));
  uv_timer_init(rt->loop, inv->retry_timer);
  inv->retry_timer->data = inv;
  uv_timer_start(inv->retry_timer, on_retry, delay, 0);
  return 1;
}

/* A retry, the answer, or the caller's callback. */
static void deliver(lk_invocation_t *inv) {
  if (retry_later(inv))
    return;
  if (inv->req)
    lk_api_respond(inv);
  if (inv->cb) {
    lk_result_t r;

    lk_inv_result(inv, &r);
    inv->cb(&r, inv->ud);
  }
  lk_inv_free(inv);
}

static void finish(lk_invocation_t *inv) {
  lk_inv_record(inv);
  lk_journal_flush(inv->fn->rt->opts.journal);
  deliver(inv);
}

void lk_rt_finish_completed(lk_runtime_t *rt) {
  lk_invocation_t *list = rt->completing, *next, *rev = NULL;

  rt->completing = NULL;
  for (; list; list = next) { /* oldest first */
    next = list->next;
    list->next = rev;
    rev = list;
  }
  /* The journal lines of this turn in one write, before any answer
   * leaves: a client that has its answer finds the invocation there. */
  for (list = rev; list; list = list->next)
    lk_inv_record(list);
  lk_journal_flush(rt->opts.journal);
  for (; rev; rev = next) {
    next = rev->next;
    rev->next = NULL;
    deliver(rev);
  }
  if (!rt->opts.quiet)
    fflush(stdout);
}

void lk_rt_tell_stopping(lk_invocation_t *inv) {
  if (inv->req)
    lk_api_error(inv->req, 503, "ServiceException", "lambkin is stopping");
  inv->req = NULL;
}

void lk_rt_abandon(lk_invocation_t *inv) {
  lk_rt_tell_stopping(inv);
  if (inv->cb) {
    lk_result_t r = {inv->id, inv->fn->def->name,
                     "error", "Lambkin.Stopping",
                     "",      0,
                     "",      0,
                     0,       ""};

    inv->cb(&r, inv->ud);
  }
  lk_inv_free(inv);
}
