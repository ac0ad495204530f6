/* Function instances: one process each, started with uv_spawn, talking to
 * its own Runtime API endpoint (rapi.c). An instance is owned by its
 * function's list and freed once its process has exited and all of its
 * handles are closed. It reports back through the scheduler's
 * lk_rt_instance_ready/_gone and lk_rt_complete. */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "peer.h"
#include "runtime_int.h"

static void instance_release(lk_instance_t *in);
static void on_timeout(uv_timer_t *t);

/* ---- where the runtimes live ---- */

const char *lk_rt_runtime_dir(void) {
  const char *d = getenv("LAMBKIN_RUNTIME_DIR");

  return d ? d : LK_SOURCE_DIR "/runtimes";
}

const char *lk_rt_python_exe(void) {
  const char *p = getenv("LAMBKIN_PYTHON");

  /* The system python has Debian's boto3; a user's pyenv may not. */
  if (p)
    return p;
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static const char *node_exe(void) {
  const char *p = getenv("LAMBKIN_NODE");

  return p ? p : "node";
}

static const char *c_bootstrap(void) {
  const char *p = getenv("LAMBKIN_C_BOOTSTRAP");

  return p ? p : LK_BINARY_DIR "/lambkin-bootstrap-c";
}

/* ---- function output, split into lines ---- */

static void add_cut(lk_buf_t *lb, const char *p, size_t n);

static void flush_line(lk_instance_t *in, lk_buf_t *lb) {
  lk_invocation_t *inv = in->cur;

  if (lb->len == 0)
    return;
  /* Output read in the same loop turn as the answer belongs to the
   * invocation that has just finished: it is still on the completing list. */
  for (inv = inv ? inv : in->fn->rt->completing; inv && !in->cur;
       inv = inv->next)
    if (inv->pid == in->pid && inv->fn == in->fn)
      break;
  /* Output after the answer still belongs to that invocation: in Lambda
   * it lasts until the runtime asks for the next one. */
  if (inv == NULL && in->last_id[0]) {
    lk_inv_log_after(in->fn, in->last_id, in->last_trace, in->stream, lb->data,
                     lb->len);
  } else {
    if (inv == NULL) { /* init: kept for the invocation that waits */
      add_cut(&in->init_log, lb->data, lb->len);
      add_cut(&in->init_log, "\n", 1);
    }
    lk_inv_log_line(in->fn, inv, in->stream, lb->data, lb->len);
  }
  lk_buf_reset(lb);
}

/* What fits of the bytes: a line longer than the ceiling is cut, never
 * grown without bound. */
static void add_cut(lk_buf_t *lb, const char *p, size_t n) {
  size_t room = lk_buf_room(lb);

  lk_buf_add(lb, p, n < room ? n : room);
}

static void on_pipe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  buf->base = lk_xmalloc(hint);
  buf->len = hint;
}

static void on_close_handle(uv_handle_t *h) {
  lk_instance_t *in = h->data;

  if (--in->open_handles == 0)
    instance_release(in);
}

/* Bytes of output, cut into lines; a partial last line waits. */
static void feed(lk_instance_t *in, lk_buf_t *lb, const char *p, ssize_t n) {
  ssize_t i, start = 0;

  for (i = 0; i < n; i++) {
    if (p[i] != '\n')
      continue;
    add_cut(lb, p + start, (size_t)(i - start));
    flush_line(in, lb);
    start = i + 1;
  }
  if (n > start) { /* the start of a line still being written */
    if ((size_t)(n - start) > lk_buf_room(lb))
      flush_line(in, lb);
    add_cut(lb, p + start, (size_t)(n - start));
  }
}

static void on_pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lk_instance_t *in = s->data;
  lk_buf_t *lb = s == (uv_stream_t *)&in->out ? &in->line_out : &in->line_err;

  if (n < 0) {
    flush_line(in, lb);
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, on_close_handle);
  }
  feed(in, lb, buf->base, n);
  free(buf->base);
}

/* What a process that has exited left in a pipe, read now: its last
 * words (why its init failed) belong to the invocation its exit ends,
 * and the pipe's own read may come a loop turn after that. */
static void drain(lk_instance_t *in, uv_pipe_t *p, lk_buf_t *lb) {
  char buf[16384];
  uv_os_fd_t fd;
  ssize_t n;
  int rounds = 64; /* at most 1 MB: the rest comes through the loop */

  if (uv_is_closing((uv_handle_t *)p) || uv_fileno((uv_handle_t *)p, &fd) != 0)
    return;
  while (rounds-- > 0 && (n = read(fd, buf, sizeof(buf))) > 0)
    feed(in, lb, buf, n);
}

/* The kB of a "Name:   N kB" line (name given with its colon) of
 * /proc/PID/file; -1 when it cannot be read. */
static long proc_kb(int pid, const char *file, const char *name) {
  char path[64], buf[4096], *at;
  ssize_t n = -1;
  int fd;

  snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
  }
  buf[n > 0 ? n : 0] = '\0';
  at = strstr(buf, name);
  return at ? strtol(at + strlen(name), NULL, 10) : -1;
}

/* Max Memory Used: the process's peak RSS (VmHWM). /proc is read at most
 * every 100 ms per instance, so a hot instance does not pay for it on
 * every invoke; the value can lag the true peak by that much. */
void lk_instance_sample_mem(lk_instance_t *in, lk_invocation_t *inv) {
  uint64_t now = uv_hrtime();
  long kb;

  if (in->mem_read_ns == 0 || now - in->mem_read_ns > 100000000ULL) {
    in->mem_read_ns = now;
    kb = proc_kb(in->pid, "status", "VmHWM:");
    if (kb >= 0)
      in->mem_mb = (int)((kb + 1023) / 1024);
  }
  if (inv)
    inv->mem_mb = in->mem_mb;
}

/* Its share of the memory it maps (PSS), from smaps_rollup: pages shared
 * with the fork server or other instances count in part. */
void lk_instance_sample_pss(lk_instance_t *in) {
  long kb = proc_kb(in->pid, "smaps_rollup", "\nPss:");

  in->pss_read_ns = uv_hrtime();
  if (kb >= 0)
    in->pss_kb = kb;
}

/* ---- invocations ---- */

void lk_instance_dispatch(lk_instance_t *in, lk_invocation_t *inv) {
  const lk_function_t *def = in->fn->def;
  lk_http_req_t *req = in->next_req;
  char deadline[32];
  lk_http_header_t h[8];
  uint64_t timeout_ms = (uint64_t)def->timeout_s * 1000;

  in->next_req = NULL;
  in->state = INST_BUSY;
  in->cur = inv;
  inv->inst = in;
  lk_str_copy(in->last_id, sizeof(in->last_id), inv->id);
  lk_str_copy(in->last_trace, sizeof(in->last_trace), inv->trace);
  lk_str_copy(inv->stream, sizeof(inv->stream), in->stream);
  snprintf(deadline, sizeof(deadline), "%llu",
           (unsigned long long)(lk_now_ms() + timeout_ms));
  h[0] = (lk_http_header_t){"Lambda-Runtime-Aws-Request-Id", inv->id};
  h[1] = (lk_http_header_t){"Lambda-Runtime-Deadline-Ms", deadline};
  h[2] = (lk_http_header_t){"Lambda-Runtime-Invoked-Function-Arn", def->arn};
  h[3] = (lk_http_header_t){"Lambda-Runtime-Trace-Id", inv->trace};
  h[4] = (lk_http_header_t){"Content-Type", "application/json"};
  /* Lambda sends the client context only when the caller gave one, and
   * a Cognito identity never for a call that was not made with one. */
  h[5] =
      (lk_http_header_t){"Lambda-Runtime-Client-Context", inv->client_context};
  inv->start_ns = uv_hrtime();
  if (!lk_rt_debugged(in->fn)) /* a debugger may hold it at a breakpoint */
    uv_timer_start(&in->timer, on_timeout, timeout_ms, 0);
  lk_http_respond(req, 200, h, inv->client_context ? 6 : 5, inv->payload,
                  inv->len);
}

static void on_timeout(uv_timer_t *t) {
  lk_instance_t *in = t->data;
  lk_invocation_t *inv = in->cur;
  char msg[160], body[256], when[32];
  time_t now = time(NULL);
  struct tm tm;

  if (in->state == INST_STARTING) {
    /* Init never reached /next: the instance is stuck. */
    in->killed_for_timeout = 1;
    lk_instance_kill(in, SIGKILL);
    return;
  }
  if (inv == NULL)
    return;
  gmtime_r(&now, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  snprintf(msg, sizeof(msg), "%s %s Task timed out after %d.00 seconds", when,
           inv->id, in->fn->def->timeout_s);
  snprintf(body, sizeof(body),
           "{\"errorMessage\":\"%s\",\"errorType\":\"Sandbox.Timedout\"}", msg);
  lk_inv_log_line(in->fn, inv, in->stream, msg, strlen(msg));
  in->cur = NULL;
  inv->inst = NULL;
  lk_instance_sample_mem(in, inv);
  in->killed_for_timeout = 1;
  lk_instance_kill(in, SIGKILL);
  lk_rt_complete(inv, "timeout", "Sandbox.Timedout", body, strlen(body));
}

/* ---- process life ---- */

void lk_rt_exit_words(char *out, size_t cap, int64_t status, int sig) {
  if (sig)
    snprintf(out, cap, "signal: %s", strsignal(sig));
  else
    snprintf(out, cap, "exit status %lld", (long long)status);
  if (sig && cap > 8) /* "signal: killed", as Lambda words it */
    out[8] = (char)tolower((unsigned char)out[8]);
}

/* The invocation an exiting process leaves behind ends as Lambda reports
 * it: Runtime.ExitError with the status or the signal. During shutdown its
 * caller gets the 503 every other unfinished invocation gets. */
static void fail_current(lk_instance_t *in, int64_t status, int sig) {
  lk_invocation_t *inv = in->cur;
  char body[512], what[64];

  lk_rt_exit_words(what, sizeof(what), status, sig);
  in->cur = NULL;
  inv->inst = NULL;
  if (in->fn->rt->closing) { /* killed by the shutdown, not its own fault */
    lk_rt_abandon(inv);
    return;
  }
  inv->mem_mb = in->mem_mb;
  snprintf(body, sizeof(body),
           "{\"errorMessage\":\"RequestId: %s Error: Runtime exited with "
           "error: %s\",\"errorType\":\"Runtime.ExitError\"}",
           inv->id, what);
  lk_inv_log_line(in->fn, inv, in->stream, body + 17, strcspn(body + 17, "\""));
  lk_rt_complete(inv, "crash", "Runtime.ExitError", body, strlen(body));
}

/* Its process has exited (reported by libuv or by the fork server). */
static void instance_exited(lk_instance_t *in, int64_t status, int sig) {
  kill(-in->pid, SIGKILL); /* what it left behind dies with it, as in
                            * a sandbox that is torn down */
  in->exited = 1;
  in->exit_status = status;
  in->term_signal = sig;
  if (in->state == INST_STARTING)
    in->fn->n_starting--;
  in->state = INST_DEAD;
  uv_timer_stop(&in->timer);
  if (in->next_req) {
    lk_http_req_t *r = in->next_req;

    in->next_req = NULL;
    lk_http_drop(r);
  }
  drain(in, &in->out, &in->line_out);
  drain(in, &in->err, &in->line_err);
  if (in->cur)
    fail_current(in, status, sig);
  uv_close((uv_handle_t *)&in->timer, on_close_handle);
  if (in->rapi) {
    lk_http_server_free(in->rapi);
    in->rapi = NULL;
  }
  lk_rt_instance_gone(in);
}

static void on_proc_exit(uv_process_t *p, int64_t status, int sig) {
  lk_instance_t *in = p->data;

  uv_close((uv_handle_t *)p, on_close_handle);
  instance_exited(in, status, sig);
}

/* The forked instance with this pid still alive (pid 0: any). */
static lk_instance_t *find_forked(lk_runtime_t *rt, int pid) {
  lk_instance_t *in;
  int i;

  for (i = 0; i < rt->n_fns; i++)
    for (in = rt->fns[i].instances; in; in = in->next)
      if (in->forked && !in->exited && (pid == 0 || in->pid == pid))
        return in;
  return NULL;
}

void lk_instance_forked_exit(lk_runtime_t *rt, int pid, int64_t status,
                             int sig) {
  lk_instance_t *in = find_forked(rt, pid);

  if (in)
    instance_exited(in, status, sig);
}

void lk_instance_forked_orphans(lk_runtime_t *rt) {
  lk_instance_t *in;

  while ((in = find_forked(rt, 0)) != NULL)
    instance_exited(in, 0, SIGKILL);
}

/* The whole process group: a runtime's children (a shell bootstrap's
 * sleep, a handler's subprocess) hold its pipes open and would outlive it. */
void lk_instance_kill(lk_instance_t *in, int sig) {
  if (!in->exited && in->pid > 0)
    kill(-in->pid, sig);
}

void lk_instance_stop_idle(lk_instance_t *in) {
  lk_http_req_t *r = in->next_req;

  in->next_req = NULL;
  in->state = INST_DEAD; /* nothing is handed to it until its exit */
  if (r)
    lk_http_drop(r);
  lk_instance_kill(in, SIGKILL);
}

static void instance_release(lk_instance_t *in) {
  lk_fn_t *fn = in->fn;
  lk_instance_t **pp;

  for (pp = &fn->instances; *pp; pp = &(*pp)->next)
    if (*pp == in) {
      *pp = in->next;
      break;
    }
  fn->n_instances--;
  lk_buf_free(&in->line_out);
  lk_buf_free(&in->line_err);
  lk_buf_free(&in->init_log);
  free(in->init_error_type);
  free(in->init_error_body);
  free(in);
  /* Its slot is free only now: at the cap, the replacement of an instance
   * killed for a timeout starts here, or the queue would wait forever. */
  lk_rt_schedule(fn);
}

/* ---- the environment and command of a new process ---- */

/* As many variables as it takes, NULL-terminated: a fixed table once
 * dropped AWS_LAMBDA_RUNTIME_API behind a few hundred of the user's. */
typedef struct env {
  char **vars;
  int n, cap;
} env_t;

static void env_add(env_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void env_add(env_t *e, const char *fmt, ...) {
  va_list ap;

  if (e->n + 2 > e->cap) {
    e->cap = e->cap ? e->cap * 2 : 64;
    e->vars = lk_xrealloc(e->vars, (size_t)e->cap * sizeof(*e->vars));
  }
  va_start(ap, fmt);
  e->vars[e->n] = lk_xvasprintf(fmt, ap);
  va_end(ap);
  e->vars[++e->n] = NULL;
}

/* 1 when name=... is set already (name ends at '='). */
static int env_has(const env_t *e, const char *var) {
  size_t n = strcspn(var, "=");
  int i;

  for (i = 0; i < e->n; i++)
    if (strncmp(e->vars[i], var, n) == 0 && e->vars[i][n] == '=')
      return 1;
  return 0;
}

static void env_free(env_t *e) {
  int i;

  for (i = 0; i < e->n; i++)
    free(e->vars[i]);
  free(e->vars);
}

/* The template's value of a variable, or NULL. */
static const char *template_var(const lk_function_t *def, const char *name) {
  size_t n = strlen(name);
  int i;

  for (i = 0; i < def->n_env; i++)
    if (strncmp(def->env[i], name, n) == 0 && def->env[i][n] == '=')
      return def->env[i] + n + 1;
  return NULL;
}

/* The version a layer's folders are named by: 12 of python3.12, 20 of
 * nodejs20.x. */
static int layer_version(const char *runtime) {
  const char *dot = strchr(runtime, '.');

  if (strncmp(runtime, "python", 6) == 0 && dot)
    return (int)strtol(dot + 1, NULL, 10);
  return (int)strtol(runtime + strcspn(runtime, "0123456789"), NULL, 10);
}

/* name=first:LAYER/sub...:last, the empty parts left out; sub may hold
 * one %d, the runtime's layer_version. */
static void env_path(env_t *e, const char *name, const char *first,
                     const lk_fn_t *fn, const char *const *subs,
                     const char *last) {
  const lk_function_t *def = fn->def;
  int i, k, version = layer_version(def->runtime);
  lk_buf_t b;

  lk_buf_init(&b, 64 * 1024);
  if (first && first[0])
    lk_buf_adds(&b, first);
  for (i = 0; i < def->n_layers; i++)
    for (k = 0; subs[k]; k++) {
      lk_buf_printf(&b, "%s%s/", b.len ? ":" : "", lk_rt_layer_dir(fn, i));
      lk_buf_printf(&b, subs[k], version);
    }
  if (last && last[0])
    lk_buf_printf(&b, "%s%s", b.len ? ":" : "", last);
  if (b.len)
    env_add(e, "%s=%s", name, lk_buf_str(&b));
  lk_buf_free(&b);
}

/* What lambkin passes on from its own environment, with the function's
 * layers' bin/ and lib/ after, as /opt/bin and /opt/lib are in Lambda;
 * the tripwire's folder comes first on PATH under lambkin fuzz. */
static void env_inherited(env_t *e, const lk_runtime_opts_t *o,
                          const lk_fn_t *fn) {
  static const char *const bin[] = {"bin", NULL}, *const lib[] = {"lib", NULL};
  const char *path = getenv("PATH");
  char with_tripwire[PATH_MAX * 2];

  snprintf(with_tripwire, sizeof(with_tripwire), "%s:%s",
           o->bin_dir ? o->bin_dir : "", path ? path : "/usr/bin:/bin");
  env_path(e, "PATH", o->bin_dir ? with_tripwire : path, fn, bin, NULL);
  env_path(e, "LD_LIBRARY_PATH", getenv("LD_LIBRARY_PATH"), fn, lib, NULL);
  if (getenv("HOME"))
    env_add(e, "HOME=%s", getenv("HOME"));
  if (getenv("LANG"))
    env_add(e, "LANG=%s", getenv("LANG"));
}

/* The sink library of lambkin fuzz (see fuzz/sink.c): its report file as
 * fd 3, named by dev:ino so a reused fd is never written to, and by name
 * for children that lost the fd. Returns the fd, or -1. */
int lk_instance_sink_path(const lk_runtime_opts_t *o, const char *stream,
                          char *out, size_t cap) {
  const char *id = strrchr(stream, ']');
  char name[128];

  if (o->sink_lib == NULL || o->sink_dir == NULL)
    return LK_ENOENT;
  snprintf(name, sizeof(name), "%s.log", id ? id + 1 : stream);
  return lk_path_join(out, cap, o->sink_dir, name);
}

static int env_sink(env_t *e, const lk_runtime_opts_t *o, const char *stream) {
  char sink[PATH_MAX];
  struct stat st;
  int fd;

  if (lk_instance_sink_path(o, stream, sink, sizeof(sink)) != 0)
    return -1;
  env_add(e, "LD_PRELOAD=%s", o->sink_lib);
  env_add(e, "LAMBKIN_SINK_LOG=%s", sink);
  if (o->sink_units)
    env_add(e, "LAMBKIN_SINK_UNITS=1");
  fd = open(sink, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0 && fstat(fd, &st) != 0) {
    close(fd);
    fd = -1;
  }
  if (fd >= 0) {
    env_add(e, "LAMBKIN_SINK_FD=3");
    env_add(e, "LAMBKIN_SINK_ID=%llu:%llu", (unsigned long long)st.st_dev,
            (unsigned long long)st.st_ino);
  }
  return fd;
}

/* The dependencies deps.c installed, where sam build would have put them
 * (beside the code, so before any layer), then the template's own value
 * of the variable. */
static const char *with_deps(const lk_fn_t *fn, const char *var, char *out,
                             size_t cap) {
  const char *own = template_var(fn->def, var);

  if (fn->deps_dir == NULL)
    return own;
  snprintf(out, cap, "%s%s%s", fn->deps_dir, own && own[0] ? ":" : "",
           own ? own : "");
  return out;
}

int lk_rt_node_sdk_v2(const lk_function_t *def) {
  return strtol(def->runtime + strlen("nodejs"), NULL, 10) < 18;
}

const char *lk_rt_node_sdk(const lk_function_t *def, char *out, size_t cap) {
  snprintf(out, cap, "%s/node/sdk/%s/node_modules", lk_rt_runtime_dir(),
           lk_rt_node_sdk_v2(def) ? "v2" : "v3");
  return out;
}

/* Lambda's Node runtimes provide the AWS SDK: the v3 clients from
 * nodejs18.x on, aws-sdk v2 before. NODE_PATH puts the layers' modules
 * and then lambkin's SDK after the function's own node_modules (and
 * after a NODE_PATH the template sets), so a bundled SDK wins, as in
 * Lambda. */
static void env_node(env_t *e, const lk_fn_t *fn) {
  static const char *const subs[] = {"nodejs/node%d/node_modules",
                                     "nodejs/node_modules", NULL};
  int v2 = lk_rt_node_sdk_v2(fn->def);
  char sdk[PATH_MAX], first[PATH_MAX * 2];

  env_path(e, "NODE_PATH", with_deps(fn, "NODE_PATH", first, sizeof(first)), fn,
           subs, lk_rt_node_sdk(fn->def, sdk, sizeof(sdk)));
  if (v2) /* Lambda's v2 says nothing of its maintenance mode */
    env_add(e, "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1");
}

/* A python function's layers, as /opt/python and its site-packages are
 * on sys.path in Lambda (after the function's own folder). */
static void env_python(env_t *e, const lk_fn_t *fn) {
  static const char *const subs[] = {"python/lib/python3.%d/site-packages",
                                     "python", NULL};
  const lk_function_t *def = fn->def;
  char cfn[PATH_MAX], first[PATH_MAX * 2];

  /* Code written inline gets cfnresponse, as in Lambda. */
  snprintf(cfn, sizeof(cfn), "%s/python/inline", lk_rt_runtime_dir());
  env_path(e, "PYTHONPATH", with_deps(fn, "PYTHONPATH", first, sizeof(first)),
           fn, subs, def->inline_code ? cfn : NULL);
}

/* A template variable. A queue's URL (what its Ref gives) points at
 * lambkin's endpoint: the JS SDKs send an SQS call to the host of its
 * QueueUrl, not to AWS_ENDPOINT_URL. */
static void env_template(env_t *e, const char *kv, const lk_runtime_t *rt) {
  char prefix[128];
  const char *at;
  size_t n;

  n = (size_t)snprintf(prefix, sizeof(prefix), "https://sqs.%s.amazonaws.com/",
                       rt->app->region);
  at = rt->opts.endpoint[0] && n < sizeof(prefix) ? strstr(kv, prefix) : NULL;
  if (at == NULL) {
    env_add(e, "%s", kv);
    return;
  }
  env_add(e, "%.*s%s/%s", (int)(at - kv), kv, rt->opts.endpoint, at + n);
}

/* What Lambda sets for a function, and lambkin's credentials for it. */
static void env_lambda(env_t *e, const lk_instance_t *in) {
  const lk_fn_t *fn = in->fn;
  const lk_function_t *def = fn->def;
  const lk_runtime_t *rt = fn->rt;
  int i;

  /* A sanitized C bootstrap must die the way Lambda reports it: a wild
   * pointer is SIGSEGV, a sanitizer report is SIGABRT, never "exit 1". The
   * instance is killed on every recycle, so leak reports would be noise. */
  env_add(e,
          "ASAN_OPTIONS=%s%shandle_segv=0:handle_sigbus=0:"
          "abort_on_error=1:detect_leaks=0:verify_asan_link_order=0",
          getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "",
          getenv("ASAN_OPTIONS") ? ":" : "");
  env_add(e, "UBSAN_OPTIONS=%s%sabort_on_error=1:print_stacktrace=1",
          getenv("UBSAN_OPTIONS") ? getenv("UBSAN_OPTIONS") : "",
          getenv("UBSAN_OPTIONS") ? ":" : "");
  env_add(e, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d",
          lk_http_server_port(in->rapi));
  env_add(e, "_HANDLER=%s", def->handler);
  env_add(e, "AWS_LAMBDA_FUNCTION_NAME=%s", def->name);
  env_add(e, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", def->memory_mb);
  env_add(e, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
  env_add(e, "AWS_LAMBDA_FUNCTION_TIMEOUT=%d", def->timeout_s);
  env_add(e, "AWS_REGION=%s", rt->app->region);
  env_add(e, "AWS_DEFAULT_REGION=%s", rt->app->region);
  env_add(e, "AWS_EXECUTION_ENV=AWS_Lambda_%s", def->runtime);
  env_add(e, "LAMBDA_TASK_ROOT=%s", lk_rt_task_root(fn));
  env_add(e, "LAMBDA_RUNTIME_DIR=%s", lk_rt_runtime_dir());
  env_add(e, "AWS_LAMBDA_LOG_GROUP_NAME=%s", fn->log_group);
  env_add(e, "AWS_LAMBDA_LOG_STREAM_NAME=%s", in->stream);
  env_add(e, "AWS_ACCESS_KEY_ID=%s", fn->access_key);
  env_add(e, "AWS_SECRET_ACCESS_KEY=%s", fn->secret_key);
  env_add(e, "AWS_SESSION_TOKEN=%s", fn->token);
  env_add(e, "TZ=:UTC");
  if (rt->opts.endpoint[0])
    env_add(e, "AWS_ENDPOINT_URL=%s", rt->opts.endpoint);
  if (def->kind == LK_RT_C)
    env_add(e, "LAMBKIN_HANDLER_SO=%s", fn->so_path);
  if (def->kind == LK_RT_NODE)
    env_node(e, fn);
  if (def->kind == LK_RT_PYTHON)
    env_python(e, fn);
  /* The template's last: Lambda refuses to deploy one that sets a
   * variable it reserves, so lambkin's value of one stands. */
  for (i = 0; i < def->n_env; i++)
    if (!env_has(e, def->env[i]))
      env_template(e, def->env[i], rt);
}

/* Where a path the function names (/var/task/x, /opt/x) is outside the
 * sandbox: in its code folder, or in the first of its layers that has
 * it. */
static void outside_path(const lk_fn_t *fn, const char *p, char *out,
                         size_t cap) {
  const lk_function_t *def = fn->def;
  int i;

  snprintf(out, cap, "%s", p);
  if (fn->rt->sandboxed)
    return;
  if (strncmp(p, "/var/task/", 10) == 0)
    lk_path_join(out, cap, lk_rt_code_dir(fn), p + 10);
  for (i = 0; strncmp(p, "/opt/", 5) == 0 && i < def->n_layers; i++)
    if (lk_path_join(out, cap, lk_rt_layer_dir(fn, i), p + 5) == 0 &&
        access(out, X_OK) == 0)
      return;
}

/* 1 when the python functions run under can import debugpy (Debian's
 * python3-debugpy); asked once, and said once when it cannot. */
static int has_debugpy(void) {
  static int known = -1;
  int status = -1;
  pid_t pid;

  if (known >= 0)
    return known;
  pid = fork();
  if (pid == 0) {
    execl(lk_rt_python_exe(), lk_rt_python_exe(), "-c", "import debugpy",
          (char *)NULL);
    _exit(127);
  }
  if (pid > 0)
    waitpid(pid, &status, 0);
  known = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!known)
    fprintf(stderr,
            "lambkin: --debug-port: %s cannot import debugpy (Debian: "
            "apt install python3-debugpy); python runs without a "
            "debugger\n",
            lk_rt_python_exe());
  return known;
}

/* The command that runs the function's runtime, into args (up to 11 and
 * a NULL); path and wrap are its storage. A managed runtime starts through
 * AWS_LAMBDA_EXEC_WRAPPER when the function sets it, as in Lambda (the
 * script ends with exec "$@"). */
static void command(const lk_fn_t *fn, char *args[12], char *path, char *wrap,
                    size_t cap) {
  const lk_function_t *def = fn->def;
  const char *wrapper = template_var(def, "AWS_LAMBDA_EXEC_WRAPPER");
  static char debug[32], inspect[64];
  int n = 0;

  debug[0] = '\0';
  if (lk_rt_debugged(fn)) {
    snprintf(debug, sizeof(debug), "127.0.0.1:%d", fn->rt->opts.debug_port);
    snprintf(inspect, sizeof(inspect), "--inspect-brk=%s", debug);
  }

  if (wrapper && wrapper[0] &&
      (def->kind == LK_RT_PYTHON || def->kind == LK_RT_NODE)) {
    outside_path(fn, wrapper, wrap, cap);
    args[n++] = wrap;
  }
  switch (def->kind) {
  case LK_RT_PYTHON:
    lk_path_join(path, cap, lk_rt_runtime_dir(), "python/bootstrap.py");
    args[n++] = (char *)lk_rt_python_exe();
    args[n++] = "-u"; /* unbuffered: print() lines arrive as they happen */
    if (debug[0] && has_debugpy()) {
      args[n++] = "-m";
      args[n++] = "debugpy";
      args[n++] = "--listen";
      args[n++] = debug;
      args[n++] = "--wait-for-client";
    }
    args[n++] = path;
    break;
  case LK_RT_NODE:
    lk_path_join(path, cap, lk_rt_runtime_dir(), "node/bootstrap.js");
    args[n++] = (char *)node_exe();
    if (debug[0])
      args[n++] = inspect;
    args[n++] = path;
    break;
  case LK_RT_C:
    args[n++] = (char *)c_bootstrap();
    break;
  default:
    lk_path_join(path, cap, lk_rt_task_root(fn), "bootstrap");
    args[n++] = path;
  }
  args[n] = NULL;
}

/* Starts the process under SCHED_BATCH, which it and its threads inherit.
 * Every invocation passes through this one event loop twice; an instance
 * waking from its long poll would otherwise preempt the loop in the middle
 * of a batch of ready sockets (measured: 0.7 preemptions per invoke with a
 * Node echo at 8 connections on 2 cores). A batch task still gets its fair
 * share of CPU; it only gives up the claim to run first on wake-up. The
 * policy is lambkin's to set: an unprivileged thread may move between
 * SCHED_OTHER and SCHED_BATCH. Where it cannot, the spawn goes ahead. */
int lk_rt_spawn_batch(uv_loop_t *loop, uv_process_t *proc,
                      const uv_process_options_t *po) {
  struct sched_param sp = {0};
  int policy = sched_getscheduler(0);
  int batch =
      policy == SCHED_OTHER && sched_setscheduler(0, SCHED_BATCH, &sp) == 0;
  int err = uv_spawn(loop, proc, po);

  if (batch)
    sched_setscheduler(0, SCHED_OTHER, &sp);
  return err;
}

/* Only the instance's own processes (its session: it runs under setsid)
 * may use its Runtime API: another local process that connected could
 * take the next caller's event, and fail the real invocation. */
static int admit(int fd, void *ud) {
  lk_instance_t *in = ud;

  return in->pid > 0 && lk_peer_in_session(fd, in->pid) ? 0 : -1;
}

/* A new instance, its log stream and Runtime API endpoint; NULL when the
 * endpoint cannot listen (the error in *err). */
static lk_instance_t *instance_new(lk_fn_t *fn, int *err) {
  lk_instance_t *in = lk_xcalloc(1, sizeof(*in));
  lk_http_opts_t ho = {"127.0.0.1",          0,     LK_SYNC_MAX_RESPONSE,
                       fn->rt->opts.browser, admit, in};
  char day[16], hex[33];
  time_t now = time(NULL);
  struct tm tm;

  in->fn = fn;
  in->gen = fn->gen;
  in->state = INST_STARTING;
  in->cold = 1;
  lk_buf_init(&in->line_out, LK_LINE_MAX);
  lk_buf_init(&in->line_err, LK_LINE_MAX);
  lk_buf_init(&in->init_log, LK_LOG_TAIL);
  gmtime_r(&now, &tm);
  strftime(day, sizeof(day), "%Y/%m/%d", &tm);
  lk_hex(hex, 32);
  snprintf(in->stream, sizeof(in->stream), "%s/[$LATEST]%s", day, hex);
  *err = lk_http_server_new(fn->rt->loop, &ho, lk_rapi_serve, in, &in->rapi);
  if (*err) {
    free(in);
    return NULL;
  }
  return in;
}

/* uv_spawn failed: everything opened for the process is closed, and the
 * instance is released from the last close callback. */
static void spawn_failed(lk_instance_t *in) {
  in->state = INST_DEAD;
  in->exited = 1;
  lk_http_server_free(in->rapi);
  in->rapi = NULL;
  uv_close((uv_handle_t *)&in->out, on_close_handle);
  uv_close((uv_handle_t *)&in->err, on_close_handle);
  uv_close((uv_handle_t *)&in->timer, on_close_handle);
  in->open_handles++; /* a failed uv_spawn still leaves proc to close */
  uv_close((uv_handle_t *)&in->proc, on_close_handle);
}

/* 1 when the fork server can start the function's instances: a python
 * function run by the interpreter itself (no exec wrapper, no debugger),
 * with no PYTHON* variable of its own that the interpreter reads only at
 * its start. */
static int forkable(const lk_fn_t *fn) {
  const lk_function_t *def = fn->def;
  const char *w = template_var(def, "AWS_LAMBDA_EXEC_WRAPPER");
  int i;

  if (def->kind != LK_RT_PYTHON || fn->rt->zygote == NULL || (w && w[0]) ||
      lk_rt_debugged(fn))
    return 0;
  for (i = 0; i < def->n_env; i++)
    if (strncmp(def->env[i], "PYTHON", 6) == 0 &&
        strncmp(def->env[i], "PYTHONPATH=", 11) != 0)
      return 0;
  return 1;
}

/* Where the sandbox's own arguments end in its argv (at "--"). */
static int sandbox_end(char **argv) {
  int i;

  for (i = 1; argv[i] && strcmp(argv[i], "--") != 0; i++)
    ;
  return i;
}

/* The instance forked by the fork server, its output through sockets
 * made here; 0, or an error with nothing left open. */
static int spawn_forked(lk_instance_t *in, char **argv, char **env,
                        int sink_fd) {
  uv_loop_t *loop = in->fn->rt->loop;
  int out[2], err[2];
  char **sb = NULL, *dashes = NULL;
  int fds[3], rc, pid = 0, end = 0;

  /* Socket pairs, as uv_spawn's UV_CREATE_PIPE makes them: a function
   * sees the same kind of stdout either way. */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) != 0)
    return LK_EIO;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err) != 0) {
    close(out[0]);
    close(out[1]);
    return LK_EIO;
  }
  fds[0] = out[1];
  fds[1] = err[1];
  fds[2] = sink_fd;
  if (in->fn->rt->sandboxed) { /* its arguments alone, for a moment */
    end = sandbox_end(argv);
    dashes = argv[end];
    argv[end] = NULL;
    sb = argv + 1;
  }
  rc = lk_zygote_spawn(in->fn->rt, lk_rt_code_dir(in->fn), sb, env, fds,
                       sink_fd >= 0 ? 3 : 2, &pid);
  if (sb)
    argv[end] = dashes;
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return rc;
  }
  uv_pipe_init(loop, &in->out, 0);
  uv_pipe_init(loop, &in->err, 0);
  uv_pipe_open(&in->out, out[0]);
  uv_pipe_open(&in->err, err[0]);
  in->forked = 1;
  in->pid = pid;
  return 0;
}

/* Started by uv_spawn: the runtime's command, or lambkin-sandbox's. */
static int spawn_exec(lk_instance_t *in, char **argv, char **env, int sink_fd) {
  uv_loop_t *loop = in->fn->rt->loop;
  uv_process_options_t po;
  uv_stdio_container_t stdio[4];
  int err;

  uv_pipe_init(loop, &in->out, 0);
  uv_pipe_init(loop, &in->err, 0);
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&in->out;
  stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[2].data.stream = (uv_stream_t *)&in->err;
  stdio[3].flags = UV_INHERIT_FD;
  stdio[3].data.fd = sink_fd;
  memset(&po, 0, sizeof(po));
  po.file = argv[0];
  po.args = argv;
  po.env = env;
  po.cwd = lk_rt_code_dir(in->fn);
  po.exit_cb = on_proc_exit;
  po.flags = UV_PROCESS_DETACHED; /* its own process group, killed whole */
  po.stdio = stdio;
  po.stdio_count = sink_fd >= 0 ? 4 : 3;
  err = lk_rt_spawn_batch(loop, &in->proc, &po);
  in->pid = err ? 0 : in->proc.pid;
  return err;
}

int lk_instance_spawn(lk_fn_t *fn) {
  uv_loop_t *loop = fn->rt->loop;
  lk_instance_t *in;
  char *args[12], path[PATH_MAX], wrap[PATH_MAX], **argv = args;
  env_t env = {NULL, 0, 0};
  int err, sink_fd;

  in = instance_new(fn, &err);
  if (in == NULL)
    return err;
  env_inherited(&env, &fn->rt->opts, fn);
  sink_fd = env_sink(&env, &fn->rt->opts, in->stream);
  env_lambda(&env, in);
  command(fn, args, path, wrap, sizeof(path));
  if (fn->rt->sandboxed && fn->def->kind != LK_RT_NONE)
    argv = lk_rt_sandbox_argv(fn, args);
  uv_timer_init(loop, &in->timer);
  in->out.data = in->err.data = in->timer.data = in->proc.data = in;
  in->spawn_ns = uv_hrtime();
  err = forkable(fn) ? spawn_forked(in, argv, env.vars, sink_fd) : LK_EBUSY;
  if (err != 0)
    err = spawn_exec(in, argv, env.vars, sink_fd);
  if (sink_fd >= 0)
    close(sink_fd); /* the child has its own */
  env_free(&env);
  if (argv != args)
    lk_rt_argv_free(argv);
  in->open_handles = 3; /* out, err, timer; proc added below */
  in->next = fn->instances;
  fn->instances = in;
  fn->n_instances++;
  if (err) {
    spawn_failed(in);
    return err;
  }
  if (!in->forked)
    in->open_handles++;
  fn->n_starting++;
  uv_read_start((uv_stream_t *)&in->out, on_pipe_alloc, on_pipe_read);
  uv_read_start((uv_stream_t *)&in->err, on_pipe_alloc, on_pipe_read);
  uv_update_time(loop); /* a C build may have held the loop for seconds */
  if (!lk_rt_debugged(fn))
    uv_timer_start(&in->timer, on_timeout, LK_INIT_TIMEOUT_MS, 0);
  return 0;
}
