/* The emulator: one libuv loop running lambkin's endpoint (the Invoke API,
 * S3, SQS and CloudWatch Logs on one port, as LocalStack does), the Lambda
 * runtime behind it, the event sources and API Gateway in front of the
 * functions, and the guard (lineage, loops, observed access). emu.c is the
 * one place that wires them together. lk_emu_new() takes an app it does
 * not own; lk_emu_close() starts an orderly stop, after which the loop
 * runs dry and lk_emu_free() releases the rest. */
#ifndef LK_EMU_H
#define LK_EMU_H

#include <uv.h>

#include "apigw.h"
#include "app.h"
#include "journal.h"
#include "runtime.h"

typedef struct lk_emu lk_emu_t;

typedef struct lk_emu_opts {
  const char *host;      /* endpoint address, default 127.0.0.1 */
  int port;              /* default 3001; -1: no endpoint (one-shot) */
  int max_instances;     /* per function without reserved concurrency */
  int idle_timeout_s;    /* reap instances idle this long */
  int retry_delay_ms;    /* first async retry; doubles after */
  int scale_delay_ms;    /* start another instance once an invocation
                            waited this long, one at a time (0: at once) */
  const char *state_dir; /* journal and build products, default .lambkin */
  int quiet;             /* no function output on stdout */
  int watch;             /* reload a function when its code changes */
  int sandbox;           /* Lambda's file system: /var/task, /opt, /tmp */
  int install;           /* npm/pip install what a function's code lists */
  int read_only;         /* and the rest read-only to functions */
  int no_fork_server;    /* python instances started by exec only */
  uint64_t max_memory;   /* --max-memory in bytes (runtime.h); 0: default */
  int debug_port;        /* --debug-port, --debug-function (runtime.h) */
  const char *debug_function;
  int api_port;         /* API Gateway: 0 any free port, -1 none */
  int api_timeout_s;    /* API Gateway integration timeout (29) */
  int persist;          /* keep S3, SQS and Logs in state_dir */
  int max_depth;        /* chain length that stops (default 16) */
  int allow_loops;      /* report loops but let them run to max_depth */
  int enforce_policies; /* refuse function calls their Policies deny */
  /* What a web page may do: allowed Host names and CORS origins beyond
   * loopback ones (see browser.h), on every endpoint. */
  lk_browser_policy_t browser;
  /* --require-signature, and --credentials "KEY:SECRET" (see access.h) */
  int require_signature;
  const char *const *credentials;
  int n_credentials;
  /* lambkin fuzz and replay: the sink library preloaded into every
   * runtime process, the directory of its per-instance reports, a
   * directory put first on PATH (the tripwire), and who hears of loops. */
  const char *sink_lib;
  const char *sink_dir;
  const char *bin_dir;
  int sink_units; /* each invocation's coverage units (libFuzzer target) */
  void (*on_loop)(const char *function, const char *path, const char *event,
                  void *ud);
  void *on_loop_ud;
} lk_emu_opts_t;

int lk_emu_new(uv_loop_t *loop, lk_app_t *app, const lk_emu_opts_t *opts,
               lk_emu_t **out);
int lk_emu_port(const lk_emu_t *emu);
/* Serves app instead of the one it serves now (a template edited while
 * serve runs): S3, SQS and Logs keep their data and gain the new app's
 * resources; the old app's runtime, sources and API Gateway stop, and
 * the old app becomes the emulator's, freed by lk_emu_free. Call it when
 * lk_emu_busy is 0, or queued invocations are ended. When the new
 * functions cannot be prepared, returns an error and keeps serving the
 * old app (app stays the caller's); any other error is written to err
 * and the new app serves without what failed. */
int lk_emu_reload(lk_emu_t *emu, lk_app_t *app, char *err, size_t errlen);
/* The app it serves now (the caller's to free after lk_emu_free). */
lk_app_t *lk_emu_app(const lk_emu_t *emu);
/* The API Gateway front, or NULL when the template has no Api events. */
lk_apigw_t *lk_emu_apigw(const lk_emu_t *emu);
/* LAMBDA_TASK_ROOT as fn's instances see it (/var/task in the sandbox). */
const char *lk_emu_task_root(const lk_emu_t *emu, const lk_function_t *fn);
/* The journal every record of this emulator goes to. */
lk_journal_t *lk_emu_journal(const lk_emu_t *emu);
/* The secret access key fn's instances get (oracles look for leaks). */
const char *lk_emu_secret(const lk_emu_t *emu, const lk_function_t *fn);
/* And their session token. */
const char *lk_emu_token(const lk_emu_t *emu, const lk_function_t *fn);
/* Runs one event through a function, as the given source ("api", "s3",
 * "sqs", "logs"...): see lk_runtime_invoke. */
int lk_emu_invoke(lk_emu_t *emu, const lk_function_t *fn, const char *payload,
                  size_t len, int async, const char *source,
                  const char *incoming_trace, const char *edge, lk_invoke_cb cb,
                  void *ud);
/* Loops and too-deep chains reported so far. */
int lk_emu_loops(const lk_emu_t *emu);
/* 1 while any invocation is queued, running or waiting to retry. */
int lk_emu_busy(const lk_emu_t *emu);
void lk_emu_close(lk_emu_t *emu);
void lk_emu_free(lk_emu_t *emu);
/* Closes the loop lambkin ran on, after lk_emu_close() and a uv_run() that
 * ran dry. A handle still open then is a bug: in test builds
 * (LK_STRICT_LOOP) it is named and lambkin aborts; otherwise it is closed
 * and the loop closed again. 0, or the libuv error. */
int lk_emu_loop_close(uv_loop_t *loop);

#endif
