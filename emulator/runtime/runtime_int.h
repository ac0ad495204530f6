/* Inside the runtime: the state shared by its files, as libuv keeps
 * uv-common.h apart from uv.h. runtime.c owns the runtime and its
 * functions; invocation.c an invocation from acceptance until its result
 * is delivered; scheduler.c the queues; instance.c and rapi.c an instance
 * from spawn until its handles are closed; invoke_api.c the Invoke API;
 * cbuild.c the C handler builds. Nothing outside emulator/runtime
 * includes this. */
#ifndef LK_RUNTIME_INT_H
#define LK_RUNTIME_INT_H

#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "runtime.h"

#define LK_LOG_TAIL 4096
#define LK_LOG_KEEP (64 * 1024)    /* log kept per invocation, newest bytes */
#define LK_CLIENT_CONTEXT_MAX 3583 /* X-Amz-Client-Context, base64 bytes */
#define LK_LINE_MAX (256 * 1024)   /* one line of function output */

typedef struct lk_fn lk_fn_t;
typedef struct lk_instance lk_instance_t;
typedef struct lk_invocation lk_invocation_t;
typedef struct lk_watch lk_watch_t;
typedef struct lk_zygote lk_zygote_t;

typedef enum { INST_STARTING, INST_IDLE, INST_BUSY, INST_DEAD } inst_state_t;

struct lk_invocation {
  lk_invocation_t *next;
  lk_fn_t *fn;
  char id[40];
  char trace[LK_TRACE_MAX];
  char *payload;
  size_t len;
  int async;
  int attempt;
  const char *source;
  lk_http_req_t *req;   /* Invoke API caller waiting for the answer */
  int tail;             /* X-Amz-Log-Type: Tail */
  char *client_context; /* X-Amz-Client-Context, decoded JSON; or NULL */
  lk_invoke_cb cb;
  void *ud;
  uint64_t start_ns;
  uint64_t queued_ns; /* when it last entered the queue */
  lk_instance_t *inst;
  char stream[96]; /* the instance's log stream, kept after it detaches */
  lk_buf_t log;
  /* outcome */
  const char *outcome;
  char *error_type;
  char *body;
  size_t body_len;
  double duration_ms;
  int done;
  int pid; /* the process it ran in, for Max Memory Used */
  int mem_mb;
  double init_ms;          /* > 0 on a cold start */
  uv_timer_t *retry_timer; /* while waiting to retry */
};

struct lk_fn {
  lk_runtime_t *rt;
  const lk_function_t *def;
  lk_instance_t *instances;
  int n_instances;
  int n_starting;
  lk_invocation_t *qhead, *qtail;
  int queued;
  int queued_sync;
  char *so_path;          /* C handlers: the compiled shared object */
  char *deps_dir;         /* node_modules or python folder deps.c installed */
  char *built_dir;        /* esbuild's bundle (esbuild.c), run instead of
                             CodeUri; or NULL */
  char **layer_dirs;      /* def->layers, or deps.c's build of each */
  uv_timer_t scale_timer; /* re-runs the scheduler once a wait is long */
  char access_key[24];
  char secret_key[48];
  char token[128]; /* AWS_SESSION_TOKEN: "lambkin-NAME-" and 32 random hex */
  char log_group[300]; /* /aws/lambda/NAME */
  lk_watch_t *watch;   /* its CodeUri's watchers (code reload), or NULL */
  unsigned gen;        /* bumped by a code change: older instances retire */
};

struct lk_instance {
  lk_instance_t *next;
  lk_fn_t *fn;
  inst_state_t state;
  uv_process_t proc;
  uv_pipe_t out, err;
  uv_timer_t timer;
  lk_http_server_t *rapi;
  lk_http_req_t *next_req; /* parked long poll */
  lk_invocation_t *cur;
  int open_handles;
  int exited;
  int64_t exit_status;
  int term_signal;
  int killed_for_timeout;
  int cold;
  int ever_ready;
  int mem_mb;
  uint64_t mem_read_ns;
  int forked;  /* by the fork server (zygote.c), not by uv_spawn */
  long pss_kb; /* its share of memory, for --max-memory */
  uint64_t pss_read_ns;
  uint64_t spawn_ns, idle_since_ns;
  double init_ms;
  char *init_error_type;
  char *init_error_body;
  char stream[96];
  lk_buf_t line_out, line_err;
  int pid;
  unsigned gen;      /* the function's gen at spawn */
  char last_id[40];  /* the last invocation's, for output after its answer */
  lk_buf_t init_log; /* what it printed before its first invocation */
  char last_trace[LK_TRACE_MAX];
};

struct lk_runtime {
  uv_loop_t *loop;
  const lk_app_t *app;
  lk_runtime_opts_t opts;
  lk_fn_t *fns;
  int n_fns;
  uv_timer_t reaper;
  uv_check_t check;
  lk_invocation_t *completing; /* finished, waiting for trailing log bytes */
  lk_invocation_t *retrying;   /* async invocations waiting to retry */
  size_t queued_bytes;         /* payloads in every function's queue */
  int sandboxed;               /* instances run in lambkin-sandbox */
  lk_zygote_t *zygote;         /* the python fork server, or NULL */
  int said_budget;             /* --max-memory retired something: said */
  int started;
  int closing;
};

/* ---- runtime.c ---- */
lk_fn_t *lk_rt_fn(lk_runtime_t *rt, const lk_function_t *def);

/* ---- invocation.c ---- */
lk_invocation_t *lk_inv_new(lk_fn_t *fn, const char *payload, size_t len,
                            int async, const char *source);
void lk_inv_free(lk_invocation_t *inv);
/* Gives inv its place in a chain and its trace header; LK_ELOOP when the
 * chain must stop here (the chain goes to why). */
int lk_inv_place(lk_invocation_t *inv, const char *incoming, const char *edge,
                 char *why, size_t why_cap);
/* One line of a function's log: to serve's output, the invocation's log
 * (for Tail) and the log hook. inv may be NULL (output between
 * invocations). */
void lk_inv_log_line(lk_fn_t *fn, lk_invocation_t *inv, const char *stream,
                     const char *line, size_t len);
/* What the instance printed while it initialised, into the log of the
 * invocation that waited for it (Lambda's tail shows it there). */
void lk_inv_keep_init(lk_invocation_t *inv, const lk_buf_t *init);
/* A line printed after the invocation id (trace) answered, before the
 * runtime asked for the next: still that invocation's. */
void lk_inv_log_after(lk_fn_t *fn, const char *id, const char *trace,
                      const char *stream, const char *line, size_t len);
/* "START RequestId: ..." as the invocation is handed to an instance. */
void lk_inv_log_start(lk_invocation_t *inv);
/* A formatted line of the invocation's log. */
void lk_inv_log_fmt(lk_invocation_t *inv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The END and REPORT lines and the journal line (not yet written). */
void lk_inv_record(lk_invocation_t *inv);
/* The result, as callbacks see it. */
void lk_inv_result(const lk_invocation_t *inv, lk_result_t *r);

/* ---- scheduler.c ---- */
void lk_rt_enqueue(lk_fn_t *fn, lk_invocation_t *inv);
lk_invocation_t *lk_rt_dequeue(lk_fn_t *fn);
/* Takes inv out of its function's queue, wherever it is; 0, or -1 when it
 * is not queued. */
int lk_rt_unqueue(lk_fn_t *fn, lk_invocation_t *inv);
/* 1 when a payload of len more bytes would pass LK_QUEUE_BYTES_MAX. */
int lk_rt_queue_full(const lk_runtime_t *rt, size_t len);
/* Starts queued work and instances; after an instance's slot frees up. */
void lk_rt_schedule(lk_fn_t *fn);
/* Invocations running now (an answered one no longer counts). */
int lk_rt_running(const lk_fn_t *fn);
int lk_rt_busy_instances(const lk_fn_t *fn);
/* 1 when --debug-port applies to the function's instances. */
int lk_rt_debugged(const lk_fn_t *fn);
/* 1 when the instance runs code older than its function's. */
int lk_rt_retired(const lk_instance_t *in);
/* What instances report back. */
void lk_rt_instance_ready(lk_instance_t *in);
void lk_rt_instance_gone(lk_instance_t *in);
/* An invocation has its outcome; it is finished in the check phase. */
void lk_rt_complete(lk_invocation_t *inv, const char *outcome,
                    const char *error_type, const char *body, size_t len);
/* Records and delivers what completed in this loop turn. */
void lk_rt_finish_completed(lk_runtime_t *rt);
/* Answers an invocation's Invoke API caller with the 503 of a stopping
 * lambkin, while its connection is still open. */
void lk_rt_tell_stopping(lk_invocation_t *inv);
/* Ends an invocation that will not finish because lambkin is stopping:
 * the 503, if not yet told, and Lambkin.Stopping to its callback. */
void lk_rt_abandon(lk_invocation_t *inv);

/* ---- instance.c ---- */
int lk_instance_spawn(lk_fn_t *fn);
/* The sink report file of the instance with this log stream (fuzz and
 * replay); LK_ENOENT when there is no sink. */
int lk_instance_sink_path(const lk_runtime_opts_t *o, const char *stream,
                          char *out, size_t cap);
void lk_instance_dispatch(lk_instance_t *in, lk_invocation_t *inv);
void lk_instance_kill(lk_instance_t *in, int sig);
/* Kills an idle instance, taking its parked /next first, so that no
 * invocation is handed to it while its exit is on its way. */
void lk_instance_stop_idle(lk_instance_t *in);
/* The python that runs python functions (LAMBKIN_PYTHON, else Debian's). */
const char *lk_rt_python_exe(void);
/* How Lambda words a process's end: "exit status 1", "signal: killed". */
void lk_rt_exit_words(char *out, size_t cap, int64_t status, int sig);
/* Reads the process's peak RSS, at most every 100 ms, into in and inv. */
void lk_instance_sample_mem(lk_instance_t *in, lk_invocation_t *inv);

/* uv_spawn under SCHED_BATCH (why: see instance.c). */
int lk_rt_spawn_batch(uv_loop_t *loop, uv_process_t *proc,
                      const uv_process_options_t *po);
/* The fork server reaped the instance with this pid. */
void lk_instance_forked_exit(lk_runtime_t *rt, int pid, int64_t status,
                             int sig);
/* The fork server is gone: its instances are killed and end as crashed. */
void lk_instance_forked_orphans(lk_runtime_t *rt);
/* Reads the instance's PSS (its share of memory) into in->pss_kb. */
void lk_instance_sample_pss(lk_instance_t *in);

/* ---- zygote.c: the python fork server ---- */
/* Starts it in the background (opts.fork_server); instances start by
 * exec until it is ready. runtime: the python runtime most functions
 * name (python3.12), whose AWS_EXECUTION_ENV it prepares clients for. */
void lk_zygote_start(lk_runtime_t *rt, const char *runtime);
/* Forks an instance: cwd, the sandbox's arguments (NULL-terminated, or
 * NULL), its environment, and fds (stdout, stderr, sink) it gets as 1, 2
 * and 3. LK_EBUSY when the server is not ready, another error when it
 * failed; the caller then starts the instance by exec. */
int lk_zygote_spawn(lk_runtime_t *rt, const char *cwd, char *const *sandbox,
                    char *const *env, const int *fds, int nfds, int *pid);
/* The runtime is closing: the server goes once its instances are gone. */
void lk_zygote_close(lk_runtime_t *rt);

/* ---- rapi.c: the Runtime API an instance's process talks to ---- */
void lk_rapi_serve(lk_http_req_t *req, void *instance);

/* ---- invoke_api.c ---- */
/* Lambda's REST-JSON error shape. */
void lk_api_error(lk_http_req_t *req, int status, const char *type,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The answer to a synchronous Invoke API caller. */
void lk_api_respond(lk_invocation_t *inv);

/* ---- cbuild.c ---- */
/* Credentials, log group and, for C handlers, the compiled .so. */
int lk_rt_prepare(lk_fn_t *fn, char *err, size_t errlen);
/* A C handler's .so built again from its sources (after a change). */
int lk_rt_rebuild(lk_fn_t *fn, char *err, size_t errlen);

/* ---- deps.c: what sam build would do ---- */
/* A node or python function's package.json or requirements.txt
 * installed once into the state folder when its code has none
 * installed (opts.install), its layers with a BuildMethod built, and
 * its TypeScript bundled (esbuild.c); sets fn->deps_dir, fn->layer_dirs
 * and fn->built_dir. What fails is one warning, and the function runs
 * without it. Blocks while npm, pip or esbuild runs. */
void lk_rt_sam_build(lk_fn_t *fn);
void lk_rt_sam_build_free(lk_fn_t *fn);
/* Runs argv in cwd (with NODE_PATH=node_path when not NULL) and its
 * output on stderr, for at most seconds; 0 when it exits 0. */
int lk_rt_run_bounded(char *const *argv, const char *cwd, const char *node_path,
                      int seconds);
/* The folder the function runs from: esbuild's bundle or CodeUri. */
const char *lk_rt_code_dir(const lk_fn_t *fn);
/* fn's layer folders (def->n_layers of them), built where need be. */
const char *lk_rt_layer_dir(const lk_fn_t *fn, int i);

/* ---- esbuild.c ---- */
/* Bundles a function of Metadata BuildMethod esbuild as sam build
 * does, into the state folder; sets fn->built_dir, or leaves it NULL
 * with esbuild's errors on stderr. */
void lk_rt_esbuild(lk_fn_t *fn);

/* ---- sandbox.c: Lambda's file system ---- */
/* Sets rt->sandboxed when opts.sandbox asks and the kernel allows it;
 * else says once why not. */
void lk_rt_sandbox_probe(lk_runtime_t *rt);
/* LAMBDA_TASK_ROOT as the function sees it. */
const char *lk_rt_task_root(const lk_fn_t *fn);
/* cmd run inside the sandbox, as a new argv (lk_rt_argv_free). */
char **lk_rt_sandbox_argv(const lk_fn_t *fn, char *const *cmd);
void lk_rt_argv_free(char **argv);
/* runtimes/ (LAMBKIN_RUNTIME_DIR): the bootstraps and the Node SDK. */
const char *lk_rt_runtime_dir(void);
/* 1 when def's node runtime provides aws-sdk v2 (nodejs16.x and older),
 * 0 for the v3 clients. */
int lk_rt_node_sdk_v2(const lk_function_t *def);
/* The node_modules folder of that SDK, into out. */
const char *lk_rt_node_sdk(const lk_function_t *def, char *out, size_t cap);

/* ---- watch.c: code reload ---- */
void lk_rt_watch_start(lk_fn_t *fn);
void lk_rt_watch_stop(lk_fn_t *fn);

#endif
