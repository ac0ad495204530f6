/* An invocation: its payload, its place in a chain, its log (START to
 * REPORT, newest bytes kept for Tail) and its journal line. Owned by the
 * runtime from acceptance until its result has been delivered. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

lk_invocation_t *lk_inv_new(lk_fn_t *fn, const char *payload, size_t len,
                            int async, const char *source) {
  lk_invocation_t *inv = lk_xcalloc(1, sizeof(*inv));

  inv->payload = lk_xmalloc(len + 1);
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

void lk_inv_free(lk_invocation_t *inv) {
  free(inv->payload);
  free(inv->client_context);
  free(inv->error_type);
  free(inv->body);
  lk_buf_free(&inv->log);
  free(inv);
}

/* A chain of our own: "Root=1-<time>-<24 hex>;Parent=<16 hex>;Sampled=0",
 * for a runtime without a placement hook. */
static void own_trace(char trace[LK_TRACE_MAX]) {
  char root[25], parent[17];

  lk_hex(root, 24);
  lk_hex(parent, 16);
  snprintf(trace, LK_TRACE_MAX, "Root=1-%08llx-%s;Parent=%s;Sampled=0",
           (unsigned long long)(lk_now_ms() / 1000), root, parent);
}

int lk_inv_place(lk_invocation_t *inv, const char *incoming, const char *edge,
                 char *why, size_t why_cap) {
  const lk_runtime_hooks_t *h = &inv->fn->rt->opts.hooks;
  lk_placement_t p;

  if (h->place == NULL) {
    own_trace(inv->trace);
    return 0;
  }
  p.function = inv->fn->def->name;
  p.id = inv->id;
  p.source = inv->source;
  p.edge = edge;
  p.incoming_trace = incoming;
  p.event = inv->payload;
  p.len = inv->len;
  return h->place(h->ud, &p, inv->trace, why, why_cap);
}

/* Keeps the newest bytes of an invocation's log: Tail wants the end. */
static void keep_log(lk_invocation_t *inv, const char *line, size_t len) {
  if (inv->log.len && inv->log.len + len + 1 > LK_LOG_KEEP) {
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

void lk_inv_keep_init(lk_invocation_t *inv, const lk_buf_t *init) {
  const char *p = init->data, *end = p ? p + init->len : NULL, *nl;

  for (; p && p < end; p = nl + 1) {
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
      break;
    keep_log(inv, p, (size_t)(nl - p));
  }
}

void lk_inv_log_line(lk_fn_t *fn, lk_invocation_t *inv, const char *stream,
                     const char *line, size_t len) {
  lk_runtime_t *rt = fn->rt;

  if (!rt->opts.quiet)
    printf("[%s %.8s] %.*s\n", fn->def->name, inv ? inv->id : "--------",
           (int)len, line);
  if (rt->opts.hooks.log && stream && stream[0])
    rt->opts.hooks.log(rt->opts.hooks.ud, fn->log_group, stream, line, len,
                       inv ? inv->trace : NULL);
  if (inv)
    keep_log(inv, line, len);
}

void lk_inv_log_after(lk_fn_t *fn, const char *id, const char *trace,
                      const char *stream, const char *line, size_t len) {
  lk_runtime_t *rt = fn->rt;

  if (!rt->opts.quiet)
    printf("[%s %.8s] %.*s\n", fn->def->name, id, (int)len, line);
  if (rt->opts.hooks.log && stream && stream[0])
    rt->opts.hooks.log(rt->opts.hooks.ud, fn->log_group, stream, line, len,
                       trace);
}

void lk_inv_log_fmt(lk_invocation_t *inv, const char *fmt, ...) {
  char line[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (n > 0)
    lk_inv_log_line(inv->fn, inv, inv->stream, line,
                    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* START and END: "<before><request id><after>", without a format: these
 * run for every invocation. */
static void log_id(lk_invocation_t *inv, const char *before,
                   const char *after) {
  char line[128];
  size_t a = strlen(before), b = strlen(inv->id), c = strlen(after);

  if (a + b + c > sizeof(line))
    return;
  memcpy(line, before, a);
  memcpy(line + a, inv->id, b);
  memcpy(line + a + b, after, c);
  lk_inv_log_line(inv->fn, inv, inv->stream, line, a + b + c);
}

void lk_inv_log_start(lk_invocation_t *inv) {
  log_id(inv, "START RequestId: ", " Version: $LATEST");
}

void lk_inv_record(lk_invocation_t *inv) {
  const lk_function_t *def = inv->fn->def;
  double d = inv->duration_ms;
  char init[48] = "";
  lk_journal_inv_t j;

  if (inv->init_ms > 0)
    snprintf(init, sizeof(init), "\tInit Duration: %.2f ms", inv->init_ms);
  log_id(inv, "END RequestId: ", "");
  lk_inv_log_fmt(inv,
                 "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: "
                 "%llu ms\tMemory Size: %d MB\tMax Memory Used: %d MB%s",
                 inv->id, d, (unsigned long long)(d < 1 ? 1 : (d + 0.999)),
                 def->memory_mb, inv->mem_mb, init);
  memset(&j, 0, sizeof(j));
  j.id = inv->id;
  j.function = def->name;
  j.source = inv->source;
  j.trace = inv->trace;
  j.outcome = inv->outcome;
  j.event = inv->payload;
  j.event_len = inv->len;
  j.async = inv->async;
  j.attempt = inv->attempt;
  j.duration_ms = inv->duration_ms;
  j.error_type = inv->error_type;
  j.error = inv->body;
  j.error_len = inv->body_len;
  lk_journal_add(inv->fn->rt->opts.journal, &j);
}

void lk_inv_result(const lk_invocation_t *inv, lk_result_t *r) {
  r->request_id = inv->id;
  r->function = inv->fn->def->name;
  r->outcome = inv->outcome;
  r->error_type = inv->error_type;
  r->body = inv->body ? inv->body : "";
  r->len = inv->body_len;
  r->log = lk_buf_str(&inv->log);
  r->log_len = inv->log.len;
  r->duration_ms = inv->duration_ms;
  r->stream = inv->stream;
}
