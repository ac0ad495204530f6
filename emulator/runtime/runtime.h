/* The Lambda runtime: every function's instances (one process each, behind
 * its own Runtime API endpoint), their queues, scale-out, reserved
 * concurrency, async retries, the START/END/REPORT log lines, the journal
 * lines, and the Invoke API (REST-JSON) in front of them.
 * lk_runtime_new() takes an app and a journal it does not own. What the
 * runtime cannot decide on its own, it asks through hooks: an invocation's
 * place in a chain (the guard's lineage) and where function log lines go
 * (CloudWatch Logs). lk_runtime_close() stops everything (queued callers
 * get a 503); after the loop has run dry, lk_runtime_free() releases the
 * rest. */
#ifndef LK_RUNTIME_H
#define LK_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "app.h"
#include "http.h"
#include "journal.h"

#define LK_SYNC_MAX_PAYLOAD (6 * 1024 * 1024)
#define LK_SYNC_MAX_RESPONSE 6291556 /* Lambda's: 6 MiB and 100 bytes */
#define LK_ASYNC_MAX_PAYLOAD (1024 * 1024)
#define LK_LAMBDA_API_PREFIX "/2015-03-31/functions"
#define LK_TRACE_MAX 200     /* an invocation's X-Amzn-Trace-Id */
#define LK_SCALE_DELAY_MS 10 /* serve's default --scale-delay */
#define LK_QUEUE_MAX 10000   /* waiting invocations per function */
/* Payload bytes waiting in every function's queue together: 40 callers of
 * 6 MB invokes must not cost lambkin a quarter of a gigabyte each time. */
#define LK_QUEUE_BYTES_MAX (256 * 1024 * 1024)
#define LK_INIT_TIMEOUT_MS 10000

typedef struct lk_runtime lk_runtime_t;

/* What one invocation came to. */
typedef struct lk_result {
  const char *request_id;
  const char *function;
  const char *outcome;    /* "ok", "error", "timeout", "crash" */
  const char *error_type; /* NULL when ok */
  const char *body;       /* response payload, or the error JSON */
  size_t len;
  const char *log; /* this invocation's log, START to REPORT */
  size_t log_len;
  double duration_ms;
  const char *stream; /* the instance's log stream ("" if none ran it) */
} lk_result_t;

typedef void (*lk_invoke_cb)(const lk_result_t *res, void *ud);

/* An invocation about to be accepted, as the placement hook sees it. */
typedef struct lk_placement {
  const char *function;
  const char *id;             /* its request id */
  const char *source;         /* "api", "s3", "sqs", "logs", "cli"... */
  const char *edge;           /* how it was reached: "s3://b/k", "invoke" */
  const char *incoming_trace; /* the causing call's trace header, or NULL */
  const char *event;
  size_t len;
} lk_placement_t;

typedef struct lk_runtime_hooks {
  /* The invocation's place in its chain: writes the trace header it will
   * carry into trace[LK_TRACE_MAX]. LK_ELOOP refuses it, with the chain
   * written into why. NULL: every invocation starts a chain of its own. */
  int (*place)(void *ud, const lk_placement_t *p, char *trace, char *why,
               size_t why_cap);
  /* One line of a function's log, for CloudWatch Logs (may be NULL). */
  void (*log)(void *ud, const char *group, const char *stream, const char *line,
              size_t len, const char *trace);
  void *ud;
} lk_runtime_hooks_t;

typedef struct lk_runtime_opts {
  uv_loop_t *loop;
  const lk_app_t *app;
  lk_journal_t *journal; /* invocation lines; may be NULL */
  const char *endpoint;  /* AWS_ENDPOINT_URL functions get ("": none) */
  const char *state_dir; /* where C handlers are built */
  int max_instances;     /* per function without reserved concurrency */
  int idle_timeout_s;    /* reap instances idle this long */
  int retry_delay_ms;    /* first async retry; doubles after */
  int scale_delay_ms;    /* start another instance once an invocation
                            waited this long, one at a time (0: at once) */
  int quiet;             /* no function output on stdout */
  int watch;             /* reload a function when its code changes */
  int sandbox;           /* Lambda's file system (/var/task, /opt, /tmp) */
  int install;           /* npm/pip install what a function's code lists */
  int read_only;         /* and the rest read-only (fuzz, replay) */
  int fork_server;       /* python instances forked from a fork server */
  /* --max-memory: idle instances retired, least recently used first,
   * while all instances together hold more (PSS); 0: half the RAM. */
  uint64_t max_memory;
  /* --debug-port: python (debugpy) and node (--inspect-brk) instances of
   * debug_function (NULL: of every function) wait for a debugger on
   * 127.0.0.1:debug_port, one instance at a time, with no timeout. */
  int debug_port;
  const char *debug_function;
  /* lambkin fuzz and replay: the sink library preloaded into every
   * runtime process, the directory of its per-instance reports, and a
   * directory put first on PATH (the tripwire). */
  const char *sink_lib;
  const char *sink_dir;
  const char *bin_dir;
  int sink_units; /* and each invocation's coverage units, not a count */
  const lk_browser_policy_t *browser; /* for each Runtime API endpoint */
  lk_runtime_hooks_t hooks;
} lk_runtime_opts_t;

/* Prepares every function (C handlers are compiled here; errors are
 * printed). 0, or the first error. Nothing runs before lk_runtime_start,
 * so a runtime that never started is freed without running the loop. */
int lk_runtime_new(const lk_runtime_opts_t *opts, lk_runtime_t **out);
/* Starts the runtime's timers: instances are reaped, finished
 * invocations delivered. */
void lk_runtime_start(lk_runtime_t *rt);
/* Runs one event through a function, as the given source; incoming_trace
 * is the X-Amzn-Trace-Id of the call that caused it (NULL: a new chain),
 * edge names the path in loop reports. The callback fires once, with the
 * final attempt's result. LK_ELOOP: the chain was stopped; LK_EBUSY: the
 * function's queue is full, lambkin is stopping, or a synchronous call
 * to a function of ReservedConcurrentExecutions 0 (which Lambda
 * throttles, every one). */
int lk_runtime_invoke(lk_runtime_t *rt, const lk_function_t *fn,
                      const char *payload, size_t len, int async,
                      const char *source, const char *incoming_trace,
                      const char *edge, lk_invoke_cb cb, void *ud);
/* Answers one request to the Invoke API (a path under
 * LK_LAMBDA_API_PREFIX). */
void lk_runtime_serve(lk_runtime_t *rt, lk_http_req_t *req);
/* 1 while any invocation is queued, running or waiting to retry. */
int lk_runtime_busy(const lk_runtime_t *rt);
/* The function whose instances carry this access key (its n bytes), or
 * NULL. */
const lk_function_t *lk_runtime_by_key(const lk_runtime_t *rt, const char *key,
                                       size_t n);
/* The secret access key fn's instances get. */
const char *lk_runtime_secret(const lk_runtime_t *rt, const lk_function_t *fn);
/* Its AWS_SESSION_TOKEN. */
const char *lk_runtime_token(const lk_runtime_t *rt, const lk_function_t *fn);
/* The function whose instances carry this session token (a secret as
 * well: it names the function to lambkin without a signature), or NULL. */
const lk_function_t *lk_runtime_by_token(const lk_runtime_t *rt,
                                         const char *token);
/* LAMBDA_TASK_ROOT as fn's instances see it: /var/task in the sandbox,
 * else its CodeUri. */
const char *lk_runtime_task_root(const lk_runtime_t *rt,
                                 const lk_function_t *fn);
/* lambkin fuzz and replay: a line ("kind", then fields, escaped as the
 * sink library escapes them) for the sink report of the instance running
 * the invocation a trace header names (its Parent=), so the oracles judge
 * what the emulator saw of a call with the invocation that made it. No-op
 * without a sink, or when no running invocation has that id. */
void lk_runtime_sink_note(lk_runtime_t *rt, const char *trace, const char *kind,
                          const char *const *fields, int n);
/* Delivers what has finished, then stops: queued and retrying work ends
 * (Invoke API callers get 503), instances are killed. */
void lk_runtime_close(lk_runtime_t *rt);
void lk_runtime_free(lk_runtime_t *rt);

#endif
