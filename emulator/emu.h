/* The emulator: one libuv loop running the Invoke API, every function's
 * instances (processes behind their own Runtime API endpoint) and the
 * journal. lk_emu_new() takes an app it does not own; lk_emu_close()
 * starts an orderly stop, after which the loop runs dry and lk_emu_free()
 * releases the rest. Internal structures shared by lambda.c and
 * instance.c live here too. */
#ifndef LK_EMU_H
#define LK_EMU_H

#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "app.h"
#include "buf.h"
#include "http.h"

#define LK_SYNC_MAX_PAYLOAD (6 * 1024 * 1024)
#define LK_ASYNC_MAX_PAYLOAD (1024 * 1024)
#define LK_LOG_TAIL 4096
#define LK_LOG_KEEP (64 * 1024)    /* log kept per invocation, newest bytes */
#define LK_CLIENT_CONTEXT_MAX 3583 /* X-Amz-Client-Context, base64 bytes */
#define LK_LINE_MAX (256 * 1024)
#define LK_QUEUE_MAX 10000 /* waiting invocations per function */
#define LK_INIT_TIMEOUT_MS 10000
#define LK_SCALE_DELAY_MS 10 /* serve's default --scale-delay */

typedef struct lk_emu lk_emu_t;
typedef struct lk_fn lk_fn_t;
typedef struct lk_instance lk_instance_t;
typedef struct lk_invocation lk_invocation_t;

typedef struct lk_emu_opts {
  const char *host;      /* Invoke API address, default 127.0.0.1 */
  int port;              /* default 3001; -1: no Invoke API (one-shot) */
  int max_instances;     /* per function without reserved concurrency */
  int idle_timeout_s;    /* reap instances idle this long */
  int retry_delay_ms;    /* first async retry; doubles after */
  int scale_delay_ms;    /* start another instance once an invocation
                            waited this long, one at a time (0: at once) */
  const char *state_dir; /* journal and build products, default .lambkin */
  int quiet;             /* no function output on stdout */
  int api_port;          /* API Gateway: 0 any free port, -1 none */
  int api_timeout_s;     /* API Gateway integration timeout (29) */
  int persist;           /* keep S3, SQS and Logs in state_dir */
  int max_depth;         /* chain length that stops (default 16) */
  int allow_loops;       /* report loops but let them run to max_depth */
  int enforce_policies;  /* refuse function calls their Policies deny */
  /* lambkin fuzz and replay: the sink library preloaded into every
   * runtime process, the directory of its per-instance reports, a
   * directory put first on PATH (the tripwire), and who hears of loops. */
  const char *sink_lib;
  const char *sink_dir;
  const char *bin_dir;
  void (*on_loop)(const char *function, const char *path, const char *event,
                  void *ud);
  void *on_loop_ud;
} lk_emu_opts_t;

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

int lk_emu_new(uv_loop_t *loop, lk_app_t *app, const lk_emu_opts_t *opts,
               lk_emu_t **out);
int lk_emu_port(const lk_emu_t *emu);
/* The API Gateway front, or NULL when the template has no Api events. */
struct lk_apigw *lk_emu_apigw(const lk_emu_t *emu);
/* Runs one event through a function, as the given source ("api", "s3",
 * "sqs", "logs"...). incoming_trace is the X-Amzn-Trace-Id of the call
 * that caused it (NULL: a new chain); edge names the path in loop reports
 * ("s3://bucket/key"). The callback fires once, with the final attempt's
 * result. LK_ELOOP: the chain was stopped (a loop, or too deep). */
int lk_emu_invoke(lk_emu_t *emu, lk_function_t *fn, const char *payload,
                  size_t len, int async, const char *source,
                  const char *incoming_trace, const char *edge, lk_invoke_cb cb,
                  void *ud);
/* Loops and too-deep chains reported so far. */
int lk_emu_loops(const lk_emu_t *emu);
/* 1 while any invocation is queued, running or waiting to retry. */
int lk_emu_busy(const lk_emu_t *emu);
void lk_emu_close(lk_emu_t *emu);
void lk_emu_free(lk_emu_t *emu);

/* ---- internal: shared by lambda.c and instance.c ---- */

typedef enum { INST_STARTING, INST_IDLE, INST_BUSY, INST_DEAD } inst_state_t;

struct lk_invocation {
  lk_invocation_t *next;
  lk_fn_t *fn;
  char id[40];
  char trace[200];
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
  lk_emu_t *emu;
  lk_function_t *def;
  lk_instance_t *instances;
  int n_instances;
  int n_starting;
  int in_flight; /* dispatched or waiting synchronously */
  lk_invocation_t *qhead, *qtail;
  int queued;
  int queued_sync;
  char *so_path;          /* C handlers: the compiled shared object */
  uv_timer_t scale_timer; /* re-runs schedule() once a wait is long */
  char access_key[24];
  char secret_key[48];
  char log_group[300]; /* /aws/lambda/NAME */
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
  uint64_t spawn_ns, idle_since_ns;
  double init_ms;
  char *init_error_type;
  char *init_error_body;
  char stream[96];
  lk_buf_t line_out, line_err;
  int pid;
};

struct lk_emu {
  uv_loop_t *loop;
  lk_app_t *app;
  lk_emu_opts_t opts;
  lk_http_server_t *api;
  struct lk_s3 *s3;
  struct lk_sqs *sqs;
  struct lk_logs *logs;
  struct lk_lineage *lineage;
  struct lk_sources *sources;
  struct lk_apigw *apigw;
  int loops;     /* loops and too-deep chains reported */
  cJSON *access; /* access.c: the (function, action, resource) seen */
  lk_fn_t *fns;
  int n_fns;
  uv_timer_t reaper;
  uv_check_t check;
  lk_invocation_t *completing; /* finished, waiting for trailing log bytes */
  lk_invocation_t *retrying;   /* async invocations waiting to retry */
  int journal_fd;
  lk_buf_t journal; /* lines of this check phase, written before answers */
  int closing;
  char endpoint[64];
};

/* instance.c */
int lk_instance_spawn(lk_fn_t *fn);
void lk_instance_dispatch(lk_instance_t *in, lk_invocation_t *inv);
void lk_instance_kill(lk_instance_t *in, int sig);
int lk_fn_prepare(lk_fn_t *fn, char *err, size_t errlen);

/* lambda.c: what instances report back */
void lk_emu_instance_ready(lk_instance_t *in);
void lk_emu_instance_gone(lk_instance_t *in);
/* Starts queued work and instances; after an instance's slot frees up. */
void lk_emu_schedule(lk_fn_t *fn);
void lk_emu_complete(lk_invocation_t *inv, const char *outcome,
                     const char *error_type, const char *body, size_t len);
/* One line of a function's log: to serve's output, the invocation's log
 * (for Tail) and /aws/lambda/<name> in CloudWatch Logs. */
void lk_emu_log_line(lk_emu_t *emu, lk_fn_t *fn, lk_invocation_t *inv,
                     const char *stream, const char *line, size_t len);

/* ids.c */
void lk_uuid(char out[37]);
void lk_hex(char *out, size_t n);
uint64_t lk_now_ms(void);

/* journal.c */
int lk_journal_open(const char *dir);
#define LK_JOURNAL_BATCH_MAX (16 * 1024 * 1024) /* bytes of lines per write */
/* Appends one invocation's line to out (or nothing, on an error). */
int lk_journal_line(lk_buf_t *out, const lk_invocation_t *inv, const char *fn);
/* Appends the lines in one write() and empties the buffer. */
int lk_journal_write(int fd, lk_buf_t *lines);
/* Appends any record (a loop report, a finding) as one line. */
int lk_journal_event(int fd, const cJSON *record);
/* Finds a record by invocation id; the caller frees it with cJSON_Delete. */
cJSON *lk_journal_find(const char *dir, const char *id);

#endif
