/* The Lambda side of the emulator: the Invoke API (REST-JSON, as
 * botocore and the JS SDK speak it), per-function queues, scale-out to
 * instances, reserved concurrency, async retries, START/END/REPORT log
 * lines and the journal. Invocations are owned here from acceptance until
 * their result has been delivered. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "access.h"
#include "emu.h"
#include "s3.h"
#include "sqs.h"
#include "lineage.h"
#include "logs.h"
#include "sources.h"
#include "apigw.h"
#include "lambkin/lambkin.h"

#define API_PREFIX "/2015-03-31/functions"
#define REAP_EVERY_MS 1000

static void schedule(lk_fn_t *fn);
static void finish(lk_invocation_t *inv);

/* ---- small helpers ---- */

static void api_error(lk_http_req_t *req, int status, const char *type,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Lambda's REST-JSON error shape: the type in x-amzn-ErrorType, the
 * message in the body, which is what botocore and the JS SDK parse. */
static void api_error(lk_http_req_t *req, int status, const char *type,
                      const char *fmt, ...) {
  char msg[512], id[37];
  lk_buf_t b;
  va_list ap;
  lk_http_header_t h[3];

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  lk_uuid(id);
  lk_buf_init(&b, 4096);
  lk_buf_adds(&b, "{\"Type\":\"User\",\"message\":");
  lk_buf_add_json_str(&b, msg, strlen(msg));
  if (status == 429)
    lk_buf_adds(&b, ",\"Reason\":\"ReservedFunctionConcurrentInvocationLimit"
                    "Exceeded\"");
  lk_buf_adds(&b, "}");
  h[0] = (lk_http_header_t){"Content-Type", "application/json"};
  h[1] = (lk_http_header_t){"x-amzn-ErrorType", type};
  h[2] = (lk_http_header_t){"x-amzn-RequestId", id};
  lk_http_respond(req, status, h, 3, b.data, b.len);
  lk_buf_free(&b);
}

/* ---- logs ---- */

void lk_emu_log_line(lk_emu_t *emu, lk_fn_t *fn, lk_invocation_t *inv,
                     const char *stream, const char *line, size_t len) {
  if (!emu->opts.quiet)
    printf("[%s %.8s] %.*s\n", fn->def->name, inv ? inv->id : "--------",
           (int)len, line);
  if (emu->logs && stream && stream[0])
    lk_logs_put(emu->logs, fn->log_group, stream, (int64_t)lk_now_ms(), line,
                len, inv ? inv->trace : NULL);
  if (inv == NULL)
    return;
  /* Keep the newest bytes: Tail wants the end of the log. */
  if (inv->log.len + len + 1 > LK_LOG_KEEP) {
    size_t drop = inv->log.len / 2;

    if (drop < len + 1)
      drop = inv->log.len;
    memmove(inv->log.data, inv->log.data + drop, inv->log.len - drop);
    inv->log.len -= drop;
    inv->log.data[inv->log.len] = '\0';
  }
  if (len + 1 > LK_LOG_KEEP) {
    line += len - (LK_LOG_KEEP - 1);
    len = LK_LOG_KEEP - 1;
  }
  lk_buf_add(&inv->log, line, len);
  lk_buf_add(&inv->log, "\n", 1);
}

static void log_fmt(lk_invocation_t *inv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_fmt(lk_invocation_t *inv, const char *fmt, ...) {
  char line[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (n > 0)
    lk_emu_log_line(inv->fn->emu, inv->fn, inv, inv->stream, line,
                    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* START and END: "<before><request id><after>", without a format. */
static void log_id(lk_invocation_t *inv, const char *before,
                   const char *after) {
  char line[128];
  size_t a = strlen(before), b = strlen(inv->id), c = strlen(after);

  if (a + b + c > sizeof(line))
    return;
  memcpy(line, before, a);
  memcpy(line + a, inv->id, b);
  memcpy(line + a + b, after, c);
  lk_emu_log_line(inv->fn->emu, inv->fn, inv, inv->stream, line, a + b + c);
}

/* ---- invocations ---- */

static void inv_free(lk_invocation_t *inv) {
  free(inv->payload);
  free(inv->client_context);
  free(inv->error_type);
  free(inv->body);
  lk_buf_free(&inv->log);
  free(inv);
}

static lk_invocation_t *inv_new(lk_fn_t *fn, const char *payload, size_t len,
                                int async, const char *source) {
  lk_invocation_t *inv = calloc(1, sizeof(*inv));

  if (inv == NULL)
    return NULL;
  inv->payload = malloc(len + 1);
  if (inv->payload == NULL) {
    free(inv);
    return NULL;
  }
  memcpy(inv->payload, payload, len);
  inv->payload[len] = '\0';
  inv->len = len;
  inv->fn = fn;
  inv->async = async;
  inv->source = source;
  inv->attempt = 1;
  lk_uuid(inv->id);
  lk_buf_init(&inv->log, LK_LOG_KEEP);
  return inv;
}

/* A loop or a chain past --max-depth: a log line, a journal entry, and a
 * count that `lambkin invoke` turns into its exit code. */
static void report_loop(lk_emu_t *emu, lk_invocation_t *inv,
                        const lk_hop_t *hop, int stopped) {
  cJSON *j = cJSON_CreateObject();
  const char *what = hop->verdict == LK_HOP_LOOP ? "loop" : "max-depth";

  emu->loops++;
  fprintf(stderr,
          "lambkin: %s %s: %s (chain started by: %s event %.8s; %d "
          "invocations, "
          "%.1f/s)%s\n",
          hop->verdict == LK_HOP_LOOP ? "LOOP" : "CHAIN TOO DEEP",
          hop->verdict == LK_HOP_LOOP ? "detected" : "stopped", hop->path,
          hop->origin, hop->origin_id, hop->chain_invocations, hop->rate,
          stopped ? "; chain stopped" : "; allowed by --allow-loops");
  cJSON_AddStringToObject(j, "type", what);
  cJSON_AddNumberToObject(j, "time_ms", (double)lk_now_ms());
  cJSON_AddStringToObject(j, "function", inv->fn->def->name);
  cJSON_AddStringToObject(j, "path", hop->path);
  cJSON_AddStringToObject(j, "origin", hop->origin);
  /* The chain's first invocation: its journal record holds the event that
   * started it all, for `lambkin replay`. */
  cJSON_AddStringToObject(j, "origin_invocation", hop->origin_id);
  cJSON_AddNumberToObject(j, "depth", hop->depth);
  cJSON_AddNumberToObject(j, "invocations", hop->chain_invocations);
  cJSON_AddNumberToObject(j, "rate_per_s", hop->rate);
  cJSON_AddBoolToObject(j, "stopped", stopped);
  cJSON_AddStringToObject(j, "trace", hop->trace);
  cJSON_AddStringToObject(j, "event", inv->payload);
  lk_journal_event(emu->journal_fd, j);
  cJSON_Delete(j);
  if (hop->verdict == LK_HOP_LOOP && emu->opts.on_loop)
    emu->opts.on_loop(inv->fn->def->name, hop->path, inv->payload,
                      emu->opts.on_loop_ud);
}

/* Gives inv its place in a chain and its trace header. LK_ELOOP when the
 * chain must stop here; hop says why. */
static int place(lk_emu_t *emu, lk_invocation_t *inv, const char *incoming,
                 const char *edge, lk_hop_t *hop) {
  int stop;

  lk_lineage_enter(emu->lineage, incoming, inv->fn->def->name, edge,
                   inv->source, inv->id, hop);
  lk_str_copy(inv->trace, sizeof(inv->trace), hop->trace);
  if (hop->verdict == LK_HOP_OK)
    return 0;
  stop = hop->verdict == LK_HOP_DEPTH || !emu->opts.allow_loops;
  report_loop(emu, inv, hop, stop);
  return stop ? LK_ELOOP : 0;
}

static int busy_instances(lk_fn_t *fn) {
  lk_instance_t *in;
  int n = 0;

  for (in = fn->instances; in; in = in->next)
    n += in->state == INST_BUSY;
  return n;
}

/* Invocations running now. An instance that has answered is free for the
 * next one even before its runtime asks for it (the slot is the
 * invocation's, not the process's), so a caller that gets its answer and
 * invokes again is never throttled by its own previous call. */
static int running(lk_fn_t *fn) {
  lk_instance_t *in;
  int n = 0;

  for (in = fn->instances; in; in = in->next)
    n += in->cur != NULL;
  return n;
}

static int instance_cap(lk_fn_t *fn) {
  int r = fn->def->reserved_concurrency;

  return r >= 0 ? r : fn->emu->opts.max_instances;
}

static void enqueue(lk_fn_t *fn, lk_invocation_t *inv) {
  inv->next = NULL;
  if (fn->qtail)
    fn->qtail->next = inv;
  else
    fn->qhead = inv;
  fn->qtail = inv;
  inv->queued_ns = uv_hrtime();
  fn->queued++;
  if (!inv->async)
    fn->queued_sync++;
}

static lk_invocation_t *dequeue(lk_fn_t *fn) {
  lk_invocation_t *inv = fn->qhead;

  if (inv == NULL)
    return NULL;
  fn->qhead = inv->next;
  if (fn->qhead == NULL)
    fn->qtail = NULL;
  fn->queued--;
  if (!inv->async)
    fn->queued_sync--;
  inv->next = NULL;
  return inv;
}

static void start(lk_instance_t *in, lk_invocation_t *inv) {
  inv->pid = in->pid;
  inv->mem_mb = in->mem_mb;
  inv->init_ms = 0;
  lk_str_copy(inv->stream, sizeof(inv->stream), in->stream);
  if (in->cold) {
    inv->init_ms = in->init_ms;
    in->cold = 0;
  }
  log_id(inv, "START RequestId: ", " Version: $LATEST");
  lk_instance_dispatch(in, inv);
}

/* Hands queued work to waiting instances, then starts more instances for
 * what is left, up to the function's cap. */
static void on_scale_timer(uv_timer_t *t) {
  schedule(t->data);
}

static void schedule(lk_fn_t *fn) {
  lk_instance_t *in;
  lk_invocation_t *inv;
  int err;

  if (fn->emu->closing)
    return;
  for (in = fn->instances; in && fn->qhead; in = in->next)
    if (in->state == INST_IDLE && in->next_req)
      start(in, dequeue(fn));
  while (fn->queued > fn->n_starting && fn->n_instances < instance_cap(fn)) {
    /* A laptop has few cores: a warm instance that frees up in a moment
     * beats a cold start, and more processes than cores only slow every
     * one down. So, unless --scale-delay is 0, another instance starts
     * when the oldest invocation has waited that long, one at a time. */
    uint64_t delay = (uint64_t)fn->emu->opts.scale_delay_ms * 1000000ULL;

    if (delay && fn->n_starting > 0)
      break;
    if (delay && fn->n_instances > 0) {
      uint64_t waited = uv_hrtime() - fn->qhead->queued_ns;

      if (waited < delay) {
        uv_timer_start(&fn->scale_timer, on_scale_timer,
                       (delay - waited) / 1000000ULL + 1, 0);
        break;
      }
    }
    err = lk_instance_spawn(fn);
    if (err == 0)
      continue;
    inv = dequeue(fn);
    if (inv) {
      char body[512];

      snprintf(body, sizeof(body),
               "{\"errorMessage\":\"cannot start the runtime: %s\","
               "\"errorType\":\"Runtime.InvalidEntrypoint\"}",
               lk_strerror(err));
      lk_emu_complete(inv, "crash", "Runtime.InvalidEntrypoint", body,
                      strlen(body));
    }
  }
}

void lk_emu_schedule(lk_fn_t *fn) {
  schedule(fn);
}

void lk_emu_instance_ready(lk_instance_t *in) {
  lk_fn_t *fn = in->fn;

  in->ever_ready = 1;
  if (fn->qhead)
    start(in, dequeue(fn));
  schedule(fn); /* the next start, if invocations still wait */
}

void lk_emu_instance_gone(lk_instance_t *in) {
  lk_fn_t *fn = in->fn;
  lk_invocation_t *inv;

  /* An instance that died before its first /next failed to initialise:
   * the oldest waiting event is the one that pays for it, as in Lambda. */
  if (!in->ever_ready && !fn->emu->closing && fn->queued > fn->n_starting) {
    inv = dequeue(fn);
    if (in->init_error_body) {
      log_fmt(inv, "INIT_REPORT Status: error Error Type: %s",
              in->init_error_type);
      lk_emu_complete(inv, "error", in->init_error_type, in->init_error_body,
                      strlen(in->init_error_body));
    } else if (in->killed_for_timeout) {
      char body[256];

      snprintf(body, sizeof(body),
               "{\"errorMessage\":\"%s Task timed out during init after "
               "%d.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
               inv->id, LK_INIT_TIMEOUT_MS / 1000);
      lk_emu_complete(inv, "timeout", "Sandbox.Timedout", body, strlen(body));
    } else {
      char body[256];

      snprintf(body, sizeof(body),
               "{\"errorMessage\":\"RequestId: %s Error: Runtime exited "
               "with error: %s %d\",\"errorType\":\"Runtime.ExitError\"}",
               inv->id, in->term_signal ? "signal" : "exit status",
               in->term_signal ? in->term_signal : (int)in->exit_status);
      lk_emu_complete(inv, "crash", "Runtime.ExitError", body, strlen(body));
    }
  }
  schedule(fn);
}

void lk_emu_complete(lk_invocation_t *inv, const char *outcome,
                     const char *error_type, const char *body, size_t len) {
  lk_emu_t *emu = inv->fn->emu;

  inv->outcome = outcome;
  free(inv->error_type);
  inv->error_type = error_type ? strdup(error_type) : NULL;
  free(inv->body);
  inv->body = malloc(len + 1);
  if (inv->body) {
    memcpy(inv->body, body, len);
    inv->body[len] = '\0';
    inv->body_len = len;
  }
  inv->duration_ms =
      inv->start_ns ? (double)(uv_hrtime() - inv->start_ns) / 1e6 : 0;
  inv->done = 1;
  if (emu->closing) { /* the check phase is gone: finish now */
    finish(inv);
    return;
  }
  /* Finish in the check phase: output the runtime wrote before answering
   * is read in this same loop turn, so the log is whole. */
  inv->next = emu->completing;
  emu->completing = inv;
}

/* ---- delivery ---- */

static void on_retry(uv_timer_t *t) {
  lk_invocation_t *inv = t->data;
  lk_emu_t *emu = inv->fn->emu;
  lk_invocation_t **pp;

  for (pp = &emu->retrying; *pp; pp = &(*pp)->next)
    if (*pp == inv) {
      *pp = inv->next;
      break;
    }
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
  inv->retry_timer = NULL;
  inv->done = 0;
  inv->outcome = NULL;
  inv->start_ns = 0;
  lk_buf_reset(&inv->log);
  enqueue(inv->fn, inv);
  schedule(inv->fn);
}

static void respond_sync(lk_invocation_t *inv) {
  lk_http_header_t h[6];
  char *tail = NULL;
  int n = 0;

  h[n++] = (lk_http_header_t){"Content-Type", "application/json"};
  h[n++] = (lk_http_header_t){"X-Amz-Executed-Version", "$LATEST"};
  h[n++] = (lk_http_header_t){"x-amzn-RequestId", inv->id};
  if (inv->error_type)
    h[n++] = (lk_http_header_t){"X-Amz-Function-Error", "Unhandled"};
  if (inv->tail) {
    size_t off = inv->log.len > LK_LOG_TAIL ? inv->log.len - LK_LOG_TAIL : 0;

    lk_buf_t b;

    lk_buf_init(&b, LK_LOG_TAIL * 2);
    if (lk_b64_encode(&b, inv->log.data ? inv->log.data + off : "",
                      inv->log.len - off) == 0 &&
        lk_buf_add(&b, "", 1) == 0)
      tail = lk_buf_steal(&b, NULL);
    lk_buf_free(&b);
    if (tail)
      h[n++] = (lk_http_header_t){"X-Amz-Log-Result", tail};
  }
  lk_http_respond(inv->req, 200, h, n, inv->body ? inv->body : "",
                  inv->body_len);
  inv->req = NULL;
  free(tail);
}

static int max_attempts(lk_fn_t *fn) {
  int r = fn->def->max_retry_attempts;

  return 1 + (r >= 0 ? r : 2);
}

/* The END and REPORT lines and the journal line; the caller writes the
 * journal (lk_journal_write) before it delivers. */
static void record(lk_invocation_t *inv) {
  lk_fn_t *fn = inv->fn;
  lk_emu_t *emu = fn->emu;
  double d = inv->duration_ms;
  char init[48] = "";

  if (inv->init_ms > 0)
    snprintf(init, sizeof(init), "\tInit Duration: %.2f ms", inv->init_ms);
  log_id(inv, "END RequestId: ", "");
  log_fmt(inv,
          "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu "
          "ms\tMemory Size: %d MB\tMax Memory Used: %d MB%s",
          inv->id, d, (unsigned long long)(d < 1 ? 1 : (d + 0.999)),
          fn->def->memory_mb, inv->mem_mb, init);
  if (emu->journal_fd < 0)
    return;
  if (lk_journal_line(&emu->journal, inv, fn->def->name) == LK_E2BIG &&
      emu->journal.len) { /* the batch is full: write it, start anew */
    lk_journal_write(emu->journal_fd, &emu->journal);
    lk_journal_line(&emu->journal, inv, fn->def->name);
  }
}

/* A retry, the answer, or the caller's callback. */
static void deliver(lk_invocation_t *inv) {
  lk_fn_t *fn = inv->fn;
  lk_emu_t *emu = fn->emu;

  if (inv->async && inv->error_type && inv->attempt < max_attempts(fn) &&
      !emu->closing) {
    uint64_t delay = (uint64_t)emu->opts.retry_delay_ms << (inv->attempt - 1);

    inv->attempt++;
    inv->next = emu->retrying;
    emu->retrying = inv;
    inv->retry_timer = malloc(sizeof(*inv->retry_timer));
    if (inv->retry_timer) {
      uv_timer_init(emu->loop, inv->retry_timer);
      inv->retry_timer->data = inv;
      uv_timer_start(inv->retry_timer, on_retry, delay, 0);
      return;
    }
    emu->retrying = inv->next; /* no memory for a timer: deliver now */
  }
  if (inv->req)
    respond_sync(inv);
  if (inv->cb) {
    lk_result_t r;

    r.request_id = inv->id;
    r.function = fn->def->name;
    r.outcome = inv->outcome;
    r.error_type = inv->error_type;
    r.body = inv->body ? inv->body : "";
    r.len = inv->body_len;
    r.log = inv->log.data ? inv->log.data : "";
    r.log_len = inv->log.len;
    r.duration_ms = inv->duration_ms;
    r.stream = inv->stream;
    inv->cb(&r, inv->ud);
  }
  inv_free(inv);
}

static void finish(lk_invocation_t *inv) {
  record(inv);
  lk_journal_write(inv->fn->emu->journal_fd, &inv->fn->emu->journal);
  deliver(inv);
}

static void on_check(uv_check_t *c) {
  lk_emu_t *emu = c->data;
  lk_invocation_t *list = emu->completing, *next, *rev = NULL;

  emu->completing = NULL;
  for (; list; list = next) { /* oldest first */
    next = list->next;
    list->next = rev;
    rev = list;
  }
  /* The journal lines of this turn in one write, before any answer
   * leaves: a client that has its answer finds the invocation there. */
  for (list = rev; list; list = list->next)
    record(list);
  lk_journal_write(emu->journal_fd, &emu->journal);
  for (; rev; rev = next) {
    next = rev->next;
    rev->next = NULL;
    deliver(rev);
  }
  if (!emu->opts.quiet)
    fflush(stdout);
}

int lk_emu_invoke(lk_emu_t *emu, lk_function_t *def, const char *payload,
                  size_t len, int async, const char *source,
                  const char *incoming_trace, const char *edge, lk_invoke_cb cb,
                  void *ud) {
  lk_fn_t *fn = &emu->fns[def - emu->app->functions];
  lk_invocation_t *inv;
  lk_hop_t hop;

  if (fn->queued >= LK_QUEUE_MAX)
    return LK_EBUSY;
  if (emu->closing)
    return LK_EBUSY;
  inv = inv_new(fn, payload, len, async, source);
  if (inv == NULL)
    return LK_ENOMEM;
  if (place(emu, inv, incoming_trace, edge ? edge : source, &hop)) {
    inv_free(inv);
    return LK_ELOOP;
  }
  inv->cb = cb;
  inv->ud = ud;
  enqueue(fn, inv);
  schedule(fn);
  return 0;
}

/* ---- the Invoke API ---- */

static cJSON *fn_config(lk_emu_t *emu, lk_function_t *f) {
  cJSON *c = cJSON_CreateObject(), *env, *vars;
  char role[256];
  int i;

  snprintf(role, sizeof(role), "arn:aws:iam::%s:role/%s-role",
           emu->app->account, f->name);
  cJSON_AddStringToObject(c, "FunctionName", f->name);
  cJSON_AddStringToObject(c, "FunctionArn", f->arn);
  cJSON_AddStringToObject(c, "Runtime", f->runtime);
  cJSON_AddStringToObject(c, "Role", role);
  cJSON_AddStringToObject(c, "Handler", f->handler);
  cJSON_AddNumberToObject(c, "CodeSize", 0);
  cJSON_AddStringToObject(c, "Description", "");
  cJSON_AddNumberToObject(c, "Timeout", f->timeout_s);
  cJSON_AddNumberToObject(c, "MemorySize", f->memory_mb);
  cJSON_AddStringToObject(c, "LastModified", "2024-01-01T00:00:00.000+0000");
  cJSON_AddStringToObject(c, "CodeSha256", "");
  cJSON_AddStringToObject(c, "Version", "$LATEST");
  cJSON_AddStringToObject(c, "PackageType", "Zip");
  cJSON_AddStringToObject(c, "State", "Active");
  cJSON_AddStringToObject(c, "LastUpdateStatus", "Successful");
  cJSON_AddItemToObject(c, "Architectures",
                        cJSON_CreateStringArray((const char *[]){"x86_64"}, 1));
  env = cJSON_AddObjectToObject(c, "Environment");
  vars = cJSON_AddObjectToObject(env, "Variables");
  for (i = 0; i < f->n_env; i++) {
    const char *eq = strchr(f->env[i], '=');
    char key[256];

    snprintf(key, sizeof(key), "%.*s", (int)(eq - f->env[i]), f->env[i]);
    cJSON_AddStringToObject(vars, key, eq + 1);
  }
  return c;
}

static void respond_json(lk_http_req_t *req, int status, cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};

  if (s == NULL)
    api_error(req, 500, "ServiceException", "out of memory");
  else
    lk_http_respond(req, status, h, 1, s, strlen(s));
  free(s);
  cJSON_Delete(j);
}

/* X-Amz-Client-Context: base64 of a JSON object, at most 3583 bytes, as
 * Lambda takes it. Returns the JSON on one line (caller frees), NULL
 * when the header is absent; *bad is set when it is not valid. */
static char *client_context(const lk_http_req_t *req, int *bad) {
  const char *h = lk_http_header(req, "X-Amz-Client-Context");
  lk_buf_t dec;
  cJSON *j = NULL;
  char *out = NULL;

  *bad = 0;
  if (h == NULL)
    return NULL;
  lk_buf_init(&dec, LK_CLIENT_CONTEXT_MAX);
  if (strlen(h) <= LK_CLIENT_CONTEXT_MAX &&
      lk_b64_decode(&dec, h, strlen(h)) == 0)
    j = cJSON_ParseWithLength(dec.data ? dec.data : "", dec.len);
  if (cJSON_IsObject(j)) /* printed anew: JSON may hold raw CR/LF */
    out = cJSON_PrintUnformatted(j);
  else
    *bad = 1;
  cJSON_Delete(j);
  lk_buf_free(&dec);
  return out;
}

static void api_invoke(lk_emu_t *emu, lk_http_req_t *req, lk_function_t *def) {
  lk_fn_t *fn = &emu->fns[def - emu->app->functions];
  const char *type = lk_http_header(req, "X-Amz-Invocation-Type");
  const char *log = lk_http_header(req, "X-Amz-Log-Type");
  const char *body = req->body.data ? req->body.data : "";
  size_t len = req->body.len;
  int async = 0, reserved = def->reserved_concurrency, bad_cc;
  lk_invocation_t *inv;
  cJSON *parsed;
  char *cc;

  if (type == NULL || strcmp(type, "RequestResponse") == 0) {
    async = 0;
  } else if (strcmp(type, "Event") == 0) {
    async = 1;
  } else if (strcmp(type, "DryRun") != 0) {
    api_error(req, 400, "InvalidParameterValueException",
              "1 validation error detected: Value '%.64s' at "
              "'invocationType' failed to satisfy constraint",
              type);
    return;
  }
  if (req->body_too_large ||
      len > (async ? LK_ASYNC_MAX_PAYLOAD : LK_SYNC_MAX_PAYLOAD)) {
    api_error(req, 413, "RequestTooLargeException",
              "Request must be smaller than %d bytes for the %s operation",
              async ? LK_ASYNC_MAX_PAYLOAD : LK_SYNC_MAX_PAYLOAD,
              async ? "InvokeAsync" : "Invoke");
    return;
  }
  if (len == 0) { /* no payload: the function sees {} */
    body = "{}";
    len = 2;
  }
  parsed = cJSON_ParseWithLength(body, len);
  if (parsed == NULL) {
    api_error(req, 400, "InvalidRequestContentException",
              "Could not parse request body into json: Unexpected "
              "character at offset %zu",
              cJSON_GetErrorPtr() && cJSON_GetErrorPtr() >= body &&
                      cJSON_GetErrorPtr() <= body + len
                  ? (size_t)(cJSON_GetErrorPtr() - body)
                  : (size_t)0);
    return;
  }
  cJSON_Delete(parsed);
  cc = client_context(req, &bad_cc);
  if (bad_cc) {
    api_error(req, 400, "InvalidRequestContentException",
              "Client context must be a valid Base64-encoded JSON object.");
    return;
  }
  if (type && strcmp(type, "DryRun") == 0) {
    free(cc);
    lk_http_header_t h[] = {{"x-amzn-RequestId", "dryrun"}};

    lk_http_respond(req, 204, h, 1, NULL, 0);
    return;
  }
  if (!async && reserved >= 0 && running(fn) + fn->queued_sync >= reserved) {
    free(cc);
    api_error(req, 429, "TooManyRequestsException", "Rate Exceeded.");
    return;
  }
  if (fn->queued >= LK_QUEUE_MAX) {
    free(cc);
    api_error(req, 429, "TooManyRequestsException",
              "Too many queued invocations for %s", def->name);
    return;
  }
  inv = inv_new(fn, body, len, async, "api");
  if (inv == NULL) {
    free(cc);
    api_error(req, 500, "ServiceException", "out of memory");
    return;
  }
  /* Lambda hands the client context over on synchronous invokes only. */
  if (async)
    free(cc);
  else
    inv->client_context = cc;
  {
    lk_hop_t hop;

    if (place(emu, inv, lk_http_header(req, "X-Amzn-Trace-Id"), "invoke",
              &hop)) {
      inv_free(inv);
      api_error(req, 400, "RecursiveInvocationException",
                "Lambda detected that this invocation is part of a "
                "recursive loop: %.900s",
                hop.path);
      return;
    }
  }
  if (async) {
    lk_http_header_t h[] = {{"x-amzn-RequestId", inv->id},
                            {"Content-Type", "application/json"}};

    lk_http_respond(req, 202, h, 2, NULL, 0);
  } else {
    inv->req = req;
    inv->tail = log && strcmp(log, "Tail") == 0;
  }
  enqueue(fn, inv);
  schedule(fn);
}

static void on_api(lk_http_req_t *req, void *ud) {
  lk_emu_t *emu = ud;
  const char *p = req->path;
  char name[512];
  const char *slash;
  lk_function_t *def;

  if (lk_access_check(emu, req) != 0)
    return; /* refused: --enforce-policies */
  if (strncmp(p, API_PREFIX, sizeof(API_PREFIX) - 1) != 0) {
    const char *target = lk_http_header(req, "X-Amz-Target");

    /* One endpoint for every service, as LocalStack does: JSON protocols
     * name themselves in X-Amz-Target, SQS's query protocol in its form,
     * and S3 owns every other path. */
    if (target && strncmp(target, "AmazonSQS.", 10) == 0)
      lk_sqs_serve(emu->sqs, req, 1);
    else if (target && strncmp(target, "Logs_20140328.", 14) == 0)
      lk_logs_serve(emu->logs, req);
    else if (lk_sqs_is_query(req))
      lk_sqs_serve(emu->sqs, req, 0);
    else
      lk_s3_serve(emu->s3, req);
    return;
  }
  p += sizeof(API_PREFIX) - 1;
  if (strcmp(p, "") == 0 || strcmp(p, "/") == 0) {
    cJSON *out, *list;
    int i;

    if (strcmp(req->method, "GET") != 0) {
      api_error(req, 405, "UnknownOperationException", "use GET");
      return;
    }
    out = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(out, "Functions");
    for (i = 0; i < emu->app->n_functions; i++)
      cJSON_AddItemToArray(list, fn_config(emu, &emu->app->functions[i]));
    respond_json(req, 200, out);
    return;
  }
  p++;
  slash = strchr(p, '/');
  {
    lk_buf_t nb;

    lk_buf_init(&nb, sizeof(name) - 1);
    lk_url_decode(&nb, p, slash ? (size_t)(slash - p) : strlen(p), 0);
    snprintf(name, sizeof(name), "%.*s", (int)nb.len, nb.data ? nb.data : "");
    lk_buf_free(&nb);
  }
  def = lk_app_function(emu->app, name);
  if (def == NULL) {
    api_error(req, 404, "ResourceNotFoundException",
              "Function not found: arn:aws:lambda:%s:%s:function:%.200s",
              emu->app->region, emu->app->account, name);
    return;
  }
  if (slash && strcmp(slash, "/invocations") == 0 &&
      strcmp(req->method, "POST") == 0) {
    api_invoke(emu, req, def);
  } else if (slash == NULL && strcmp(req->method, "GET") == 0) {
    cJSON *out = cJSON_CreateObject(), *code;

    cJSON_AddItemToObject(out, "Configuration", fn_config(emu, def));
    code = cJSON_AddObjectToObject(out, "Code");
    cJSON_AddStringToObject(code, "RepositoryType", "S3");
    cJSON_AddStringToObject(code, "Location", def->code_dir);
    respond_json(req, 200, out);
  } else if (slash && strcmp(slash, "/configuration") == 0 &&
             strcmp(req->method, "GET") == 0) {
    respond_json(req, 200, fn_config(emu, def));
  } else {
    api_error(req, 404, "UnknownOperationException", "Unknown operation %s %s",
              req->method, req->path);
  }
}

/* ---- idle reaping, life cycle ---- */

static void on_reap(uv_timer_t *t) {
  lk_emu_t *emu = t->data;
  uint64_t now = uv_hrtime();
  uint64_t idle = (uint64_t)emu->opts.idle_timeout_s * 1000000000ULL;
  lk_instance_t *in;
  int i;

  for (i = 0; i < emu->n_fns; i++)
    for (in = emu->fns[i].instances; in; in = in->next)
      if (in->state == INST_IDLE && now - in->idle_since_ns > idle)
        lk_instance_kill(in, SIGKILL);
}

/* --state: the services' contents live in <state>/{s3,sqs,logs}.json
 * between runs. A file that is missing is a first run; one that cannot be
 * read stops start-up rather than silently starting empty. */
static int load_state(lk_emu_t *emu) {
  static const char *const names[] = {"s3", "sqs", "logs"};
  char path[4200];
  int i, rc = 0;

  for (i = 0; i < 3 && rc == 0; i++) {
    snprintf(path, sizeof(path), "%s/%s.json", emu->opts.state_dir, names[i]);
    rc = i == 0   ? lk_s3_load(emu->s3, path)
         : i == 1 ? lk_sqs_load(emu->sqs, path)
                  : lk_logs_load(emu->logs, path);
    if (rc == LK_ENOENT)
      rc = 0;
    else if (rc)
      fprintf(stderr, "lambkin: cannot load %s: %s\n", path, lk_strerror(rc));
  }
  return rc;
}

static void save_state(lk_emu_t *emu) {
  char path[4200];
  int rc;

  snprintf(path, sizeof(path), "%s/s3.json", emu->opts.state_dir);
  rc = lk_s3_save(emu->s3, path);
  snprintf(path, sizeof(path), "%s/sqs.json", emu->opts.state_dir);
  rc = rc ? rc : lk_sqs_save(emu->sqs, path);
  snprintf(path, sizeof(path), "%s/logs.json", emu->opts.state_dir);
  rc = rc ? rc : lk_logs_save(emu->logs, path);
  if (rc)
    fprintf(stderr, "lambkin: cannot save state in %s: %s\n",
            emu->opts.state_dir, lk_strerror(rc));
}

int lk_emu_new(uv_loop_t *loop, lk_app_t *app, const lk_emu_opts_t *opts,
               lk_emu_t **out) {
  lk_emu_t *emu;
  char err[1024];
  int i, rc = 0;

  emu = calloc(1, sizeof(*emu));
  if (emu == NULL)
    return LK_ENOMEM;
  emu->loop = loop;
  emu->app = app;
  emu->opts = *opts;
  if (emu->opts.max_instances <= 0)
    emu->opts.max_instances = 16;
  if (emu->opts.idle_timeout_s <= 0)
    emu->opts.idle_timeout_s = 300;
  if (emu->opts.retry_delay_ms <= 0)
    emu->opts.retry_delay_ms = 1000;
  if (emu->opts.state_dir == NULL)
    emu->opts.state_dir = ".lambkin";
  emu->journal_fd = -1;
  lk_buf_init(&emu->journal, LK_JOURNAL_BATCH_MAX);
  emu->fns = calloc((size_t)app->n_functions + 1, sizeof(*emu->fns));
  if (emu->fns == NULL) {
    free(emu);
    return LK_ENOMEM;
  }
  emu->n_fns = app->n_functions;
  emu->journal_fd = lk_journal_open(emu->opts.state_dir);
  rc = lk_s3_new(app->region, app->account, &emu->s3);
  for (i = 0; rc == 0 && i < app->n_buckets; i++)
    rc = lk_s3_create_bucket(emu->s3, app->buckets[i].name);
  if (rc)
    fprintf(stderr, "lambkin: bucket %s: %s\n",
            app->buckets[i > 0 ? i - 1 : 0].name, lk_strerror(rc));
  for (i = 0; i < app->n_functions && rc == 0; i++) {
    emu->fns[i].emu = emu;
    emu->fns[i].def = &app->functions[i];
    rc = lk_fn_prepare(&emu->fns[i], err, sizeof(err));
    if (rc)
      fprintf(stderr, "lambkin: %s\n", err);
  }
  if (rc == 0 && emu->opts.port >= 0) {
    lk_http_opts_t ho = {emu->opts.host, emu->opts.port, LK_S3_MAX_OBJECT};

    rc = lk_http_server_new(loop, &ho, on_api, emu, &emu->api);
    if (rc)
      fprintf(stderr, "lambkin: cannot listen on %s:%d: %s\n",
              ho.host ? ho.host : "127.0.0.1", ho.port, lk_strerror(rc));
    else
      snprintf(emu->endpoint, sizeof(emu->endpoint), "http://%s:%d",
               ho.host ? ho.host : "127.0.0.1", lk_http_server_port(emu->api));
  }
  if (rc == 0)
    rc = lk_lineage_new(emu->opts.max_depth, &emu->lineage);
  if (rc == 0)
    rc = lk_logs_new(app->region, app->account, &emu->logs);
  for (i = 0; rc == 0 && i < app->n_log_groups; i++)
    rc = lk_logs_create_group(emu->logs, app->log_groups[i].name);
  for (i = 0; rc == 0 && i < app->n_functions; i++) {
    char group[300];

    snprintf(group, sizeof(group), "/aws/lambda/%s", app->functions[i].name);
    rc = lk_logs_create_group(emu->logs, group);
    if (rc == LK_EEXIST) /* declared in the template too */
      rc = 0;
  }
  for (i = 0; rc == 0 && i < app->n_subscriptions; i++) {
    lk_subscription_t *sub = &app->subscriptions[i];

    rc = lk_logs_subscribe(emu->logs, sub->log_group, sub->logical_id,
                           sub->pattern, sub->destination_arn);
    if (rc)
      fprintf(stderr, "lambkin: %s:%d: subscription %s: %s\n", app->path,
              sub->line, sub->logical_id, lk_strerror(rc));
  }
  if (rc == 0)
    rc = lk_sqs_new(loop, app->region, app->account, emu->endpoint, &emu->sqs);
  for (i = 0; rc == 0 && i < app->n_queues; i++) {
    lk_queue_t *q = &app->queues[i];
    lk_sqs_queue_def_t d = {q->name,    q->fifo,    q->visibility_timeout_s,
                            q->delay_s, q->dlq_arn, q->max_receive_count};

    rc = lk_sqs_create_queue(emu->sqs, &d);
    if (rc)
      fprintf(stderr, "lambkin: queue %s: %s\n", q->name, lk_strerror(rc));
  }
  if (rc == 0 && emu->opts.persist)
    rc = load_state(emu);
  if (rc == 0)
    rc = lk_sources_new(emu, &emu->sources);
  if (rc == 0 && emu->opts.api_port >= 0) {
    rc = lk_apigw_new(emu, emu->opts.host, emu->opts.api_port,
                      emu->opts.api_timeout_s, &emu->apigw);
    if (rc)
      fprintf(stderr, "lambkin: API Gateway cannot listen on %s:%d: %s\n",
              emu->opts.host ? emu->opts.host : "127.0.0.1", emu->opts.api_port,
              lk_strerror(rc));
  }
  if (rc) {
    if (emu->sqs)
      lk_sqs_close(emu->sqs); /* its timer closes as the caller drains */
    lk_sources_free(emu->sources);
    lk_sqs_free(emu->sqs);
    lk_logs_free(emu->logs);
    lk_lineage_free(emu->lineage);
    if (emu->api)
      lk_http_server_free(emu->api);
    lk_s3_free(emu->s3);
    for (i = 0; i < emu->n_fns; i++)
      free(emu->fns[i].so_path);
    if (emu->journal_fd >= 0)
      close(emu->journal_fd);
    free(emu->fns);
    free(emu);
    return rc;
  }
  for (i = 0; i < emu->n_fns; i++) { /* closed by lk_emu_close */
    uv_timer_init(loop, &emu->fns[i].scale_timer);
    emu->fns[i].scale_timer.data = &emu->fns[i];
    uv_unref((uv_handle_t *)&emu->fns[i].scale_timer);
  }
  uv_timer_init(loop, &emu->reaper);
  emu->reaper.data = emu;
  uv_timer_start(&emu->reaper, on_reap, REAP_EVERY_MS, REAP_EVERY_MS);
  uv_unref((uv_handle_t *)&emu->reaper);
  uv_check_init(loop, &emu->check);
  emu->check.data = emu;
  uv_check_start(&emu->check, on_check);
  uv_unref((uv_handle_t *)&emu->check);
  *out = emu;
  return 0;
}

struct lk_apigw *lk_emu_apigw(const lk_emu_t *emu) {
  return emu->apigw;
}

int lk_emu_loops(const lk_emu_t *emu) {
  return emu->loops;
}

int lk_emu_busy(const lk_emu_t *emu) {
  int i;

  if (emu->retrying || emu->completing)
    return 1;
  for (i = 0; i < emu->n_fns; i++)
    if (emu->fns[i].queued || busy_instances(&emu->fns[i]))
      return 1;
  return 0;
}

int lk_emu_port(const lk_emu_t *emu) {
  return emu->api ? lk_http_server_port(emu->api) : -1;
}

/* Ends an invocation that will not run because lambkin is stopping: its
 * owner hears of it (an SQS batch then stays in its queue). */
static void abandon(lk_invocation_t *inv) {
  if (inv->cb) {
    lk_result_t r = {inv->id, inv->fn->def->name,
                     "error", "Lambkin.Stopping",
                     "",      0,
                     "",      0,
                     0,       ""};

    inv->cb(&r, inv->ud);
  }
  inv_free(inv);
}

/* Stops everything: the API, the instances, queued and retrying work.
 * Callers run the loop afterwards so the close callbacks can fire. */
void lk_emu_close(lk_emu_t *emu) {
  lk_invocation_t *inv;
  lk_instance_t *in;
  int i;

  if (emu->closing)
    return;
  emu->closing = 1;
  on_check(&emu->check); /* deliver what already finished */
  if (emu->api) {
    lk_http_server_free(emu->api);
    emu->api = NULL;
  }
  uv_close((uv_handle_t *)&emu->reaper, NULL);
  lk_sources_close(emu->sources);
  lk_apigw_close(emu->apigw);
  if (emu->sqs)
    lk_sqs_close(emu->sqs);
  if (emu->opts.persist)
    save_state(emu);
  uv_close((uv_handle_t *)&emu->check, NULL);
  for (inv = emu->retrying; inv; inv = emu->retrying) {
    emu->retrying = inv->next;
    uv_close((uv_handle_t *)inv->retry_timer, (uv_close_cb)free);
    inv->retry_timer = NULL;
    abandon(inv);
  }
  for (i = 0; i < emu->n_fns; i++) {
    lk_fn_t *fn = &emu->fns[i];

    for (inv = dequeue(fn); inv; inv = dequeue(fn)) {
      if (inv->req)
        api_error(inv->req, 503, "ServiceException", "lambkin is stopping");
      inv->req = NULL;
      abandon(inv);
    }
    for (in = fn->instances; in; in = in->next)
      lk_instance_kill(in, SIGKILL);
    uv_close((uv_handle_t *)&fn->scale_timer, NULL);
  }
}

void lk_emu_free(lk_emu_t *emu) {
  int i;

  if (emu == NULL)
    return;
  for (i = 0; i < emu->n_fns; i++)
    free(emu->fns[i].so_path);
  if (emu->journal_fd >= 0)
    close(emu->journal_fd);
  lk_buf_free(&emu->journal);
  lk_access_free(emu);
  lk_s3_free(emu->s3);
  lk_sources_free(emu->sources);
  lk_apigw_free(emu->apigw);
  lk_sqs_free(emu->sqs);
  lk_logs_free(emu->logs);
  lk_lineage_free(emu->lineage);
  free(emu->fns);
  free(emu);
}
