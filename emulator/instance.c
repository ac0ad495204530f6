/* Function instances: one process each, started with uv_spawn, talking to
 * its own Runtime API endpoint (/2018-06-01/runtime/...). An instance is
 * owned by its lk_fn_t list and freed once its process has exited and all
 * of its handles are closed. It reports back through lambda.c's
 * lk_emu_instance_ready/_gone and lk_emu_complete. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "lambkin/lambkin.h"

#define RAPI "/2018-06-01/runtime"
#define ENV_MAX 256

static void instance_release(lk_instance_t *in);
static void on_timeout(uv_timer_t *t);

/* Starts the process under SCHED_BATCH, which it and its threads inherit.
 * Every invocation passes through this one event loop twice; an instance
 * waking from its long poll would otherwise preempt the loop in the middle
 * of a batch of ready sockets (measured: 0.7 preemptions per invoke with a
 * Node echo at 8 connections on 2 cores). A batch task still gets its fair
 * share of CPU; it only gives up the claim to run first on wake-up. The
 * policy is lambkin's to set: an unprivileged thread may move between
 * SCHED_OTHER and SCHED_BATCH. Where it cannot, the spawn goes ahead. */
static int spawn_batch(uv_loop_t *loop, uv_process_t *proc,
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

/* ---- where the runtimes live ---- */

static const char *runtime_dir(void) {
  const char *d = getenv("LAMBKIN_RUNTIME_DIR");

  return d ? d : LK_SOURCE_DIR "/runtimes";
}

static const char *python_exe(void) {
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

/* ---- C handlers: compiled once, like `sam build`, into the state dir ---- */

static time_t newest_source(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  struct stat st;
  char path[PATH_MAX];
  time_t newest = 0;

  if (d == NULL)
    return 0;
  for (e = readdir(d); e; e = readdir(d)) {
    size_t n = strlen(e->d_name);

    if (n < 3 || (strcmp(e->d_name + n - 2, ".c") != 0 &&
                  strcmp(e->d_name + n - 2, ".h") != 0))
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if (stat(path, &st) == 0 && st.st_mtime > newest)
      newest = st.st_mtime;
  }
  closedir(d);
  return newest;
}

int lk_fn_prepare(lk_fn_t *fn, char *err, size_t errlen) {
  lk_function_t *def = fn->def;
  const char *state = fn->emu->opts.state_dir;
  char dir[PATH_MAX], so[PATH_MAX], inc[PATH_MAX];
  char *argv[256];
  char flags[512];
  struct stat st;
  DIR *d;
  struct dirent *e;
  int argc = 0, status, i;
  pid_t pid;

  lk_hex(fn->access_key + 4, 16);
  memcpy(fn->access_key, "LKIA", 4);
  lk_hex(fn->secret_key, 40);
  snprintf(fn->log_group, sizeof(fn->log_group), "/aws/lambda/%s", def->name);
  if (def->kind != LK_RT_C)
    return 0;
  snprintf(dir, sizeof(dir), "%s/build", state);
  mkdir(state, 0755);
  mkdir(dir, 0755);
  {
    /* The flags are part of the name: an ASan build and a plain one must
     * not load each other's handler. */
    const char *k = LK_CC " " LK_HANDLER_CFLAGS;
    unsigned h = 2166136261u;

    for (; *k; k++)
      h = (h ^ (unsigned char)*k) * 16777619u;
    snprintf(so, sizeof(so), "%s/build/%s-%08x.so", state, def->name, h);
  }
  fn->so_path = realpath(dir, NULL);
  if (fn->so_path == NULL) {
    snprintf(err, errlen, "cannot create %s", dir);
    return LK_EIO;
  }
  free(fn->so_path);
  fn->so_path = NULL;
  if (stat(so, &st) == 0 && st.st_mtime >= newest_source(def->code_dir)) {
    fn->so_path = realpath(so, NULL);
    return 0;
  }
  snprintf(inc, sizeof(inc), "-I%s/include", LK_SOURCE_DIR);
  snprintf(flags, sizeof(flags), "%s", LK_HANDLER_CFLAGS);
  argv[argc++] = (char *)LK_CC;
  argv[argc++] = "-shared";
  argv[argc++] = "-fPIC";
  argv[argc++] = "-g";
  argv[argc++] = "-O2";
  argv[argc++] = inc;
  for (char *tok = flags, *sp; tok && *tok; tok = sp) {
    sp = strchr(tok, ' ');
    if (sp)
      *sp++ = '\0';
    if (*tok && argc < 200)
      argv[argc++] = tok;
  }
  argv[argc++] = "-o";
  argv[argc++] = so;
  d = opendir(def->code_dir);
  for (e = d ? readdir(d) : NULL; e && argc < 250; e = readdir(d)) {
    size_t n = strlen(e->d_name);

    if (n > 2 && strcmp(e->d_name + n - 2, ".c") == 0 &&
        asprintf(&argv[argc], "%s/%s", def->code_dir, e->d_name) > 0)
      argc++;
  }
  if (d)
    closedir(d);
  argv[argc] = NULL;
  pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  status = -1;
  if (pid > 0)
    waitpid(pid, &status, 0);
  for (i = 0; i < argc; i++)
    if (strncmp(argv[i], def->code_dir, strlen(def->code_dir)) == 0)
      free(argv[i]);
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(err, errlen, "%s:%d: C handler of %s did not compile",
             fn->emu->app->path, def->line, def->name);
    return LK_EINVAL;
  }
  fn->so_path = realpath(so, NULL);
  return fn->so_path ? 0 : LK_EIO;
}

/* ---- logs: function output, split into lines ---- */

static void flush_line(lk_instance_t *in, lk_buf_t *lb) {
  lk_invocation_t *inv = in->cur;

  if (lb->len == 0)
    return;
  /* Output read in the same loop turn as the answer belongs to the
   * invocation that has just finished: it is still on the completing list. */
  for (inv = inv ? inv : in->fn->emu->completing; inv && !in->cur;
       inv = inv->next)
    if (inv->pid == in->pid && inv->fn == in->fn)
      break;
  lk_emu_log_line(in->fn->emu, in->fn, inv, in->stream, lb->data, lb->len);
  lk_buf_reset(lb);
}

static void on_pipe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  buf->base = malloc(hint);
  buf->len = buf->base ? hint : 0;
}

static void on_close_handle(uv_handle_t *h) {
  lk_instance_t *in = h->data;

  if (--in->open_handles == 0)
    instance_release(in);
}

static void on_pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lk_instance_t *in = s->data;
  lk_buf_t *lb = s == (uv_stream_t *)&in->out ? &in->line_out : &in->line_err;
  ssize_t i, start = 0;

  if (n < 0) {
    flush_line(in, lb);
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, on_close_handle);
  }
  for (i = 0; i < n; i++) {
    if (buf->base[i] != '\n')
      continue;
    /* A line longer than the ceiling is cut, never grown without bound. */
    if (lk_buf_add(lb, buf->base + start, (size_t)(i - start)))
      lk_buf_add(lb, buf->base + start, lb->max - lb->len);
    flush_line(in, lb);
    start = i + 1;
  }
  if (n > start && lk_buf_add(lb, buf->base + start, (size_t)(n - start))) {
    flush_line(in, lb);
    lk_buf_add(lb, buf->base + start,
               (size_t)(n - start) < lb->max ? (size_t)(n - start) : lb->max);
  }
  free(buf->base);
}

/* Max Memory Used: the process's peak RSS (VmHWM). /proc is read at most
 * every 100 ms per instance, so a hot instance does not pay for it on
 * every invoke; the value can lag the true peak by that much. */
static void sample_mem(lk_instance_t *in, lk_invocation_t *inv) {
  char path[64], buf[4096];
  uint64_t now = uv_hrtime();
  ssize_t n;
  int fd;

  if (in->mem_read_ns == 0 || now - in->mem_read_ns > 100000000ULL) {
    in->mem_read_ns = now;
    snprintf(path, sizeof(path), "/proc/%d/status", in->pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      n = read(fd, buf, sizeof(buf) - 1);
      close(fd);
      if (n > 0) {
        char *hwm;

        buf[n] = '\0';
        hwm = strstr(buf, "VmHWM:");
        if (hwm)
          in->mem_mb = (int)((strtol(hwm + 6, NULL, 10) + 1023) / 1024);
      }
    }
  }
  if (inv)
    inv->mem_mb = in->mem_mb;
}

/* ---- the Runtime API ---- */

static void reply(lk_http_req_t *req, int status, const char *body) {
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};

  lk_http_respond(req, status, h, 1, body, strlen(body));
}

static void on_next_abort(lk_http_req_t *req) {
  lk_instance_t *in = req->data;

  if (in && in->next_req == req)
    in->next_req = NULL;
  lk_http_respond(req, 200, NULL, 0, NULL, 0);
}

void lk_instance_dispatch(lk_instance_t *in, lk_invocation_t *inv) {
  lk_function_t *def = in->fn->def;
  lk_http_req_t *req = in->next_req;
  char deadline[32];
  lk_http_header_t h[8];
  uint64_t timeout_ms = (uint64_t)def->timeout_s * 1000;

  in->next_req = NULL;
  in->state = INST_BUSY;
  in->cur = inv;
  inv->inst = in;
  lk_str_copy(inv->stream, sizeof(inv->stream), in->stream);
  snprintf(deadline, sizeof(deadline), "%llu",
           (unsigned long long)(lk_now_ms() + timeout_ms));
  h[0] = (lk_http_header_t){"Lambda-Runtime-Aws-Request-Id", inv->id};
  h[1] = (lk_http_header_t){"Lambda-Runtime-Deadline-Ms", deadline};
  h[2] = (lk_http_header_t){"Lambda-Runtime-Invoked-Function-Arn", def->arn};
  h[3] = (lk_http_header_t){"Lambda-Runtime-Trace-Id", inv->trace};
  h[4] = (lk_http_header_t){"Content-Type", "application/json"};
  h[5] = (lk_http_header_t){"Lambda-Runtime-Client-Context",
                            inv->client_context ? inv->client_context : "{}"};
  h[6] = (lk_http_header_t){"Lambda-Runtime-Cognito-Identity", "{}"};
  inv->start_ns = uv_hrtime();
  uv_timer_start(&in->timer, on_timeout, timeout_ms, 0);
  lk_http_respond(req, 200, h, 7, inv->payload, inv->len);
}

static void on_timeout(uv_timer_t *t) {
  lk_instance_t *in = t->data;
  lk_invocation_t *inv = in->cur;
  char msg[160];
  char body[256];
  char when[32];
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
  lk_emu_log_line(in->fn->emu, in->fn, inv, in->stream, msg, strlen(msg));
  in->cur = NULL;
  inv->inst = NULL;
  sample_mem(in, inv);
  in->killed_for_timeout = 1;
  lk_instance_kill(in, SIGKILL);
  lk_emu_complete(inv, "timeout", "Sandbox.Timedout", body, strlen(body));
}

/* The JSON error body a runtime posted, made whole if it is not. */
static void post_error(lk_instance_t *in, lk_http_req_t *req, char **type,
                       char **body, size_t *len) {
  const char *hdr = lk_http_header(req, "Lambda-Runtime-Function-Error-Type");
  cJSON *j = cJSON_ParseWithLength(req->body.data ? req->body.data : "",
                                   req->body.len);
  cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "errorType");

  (void)in;
  if (cJSON_IsString(t))
    *type = strdup(t->valuestring);
  else
    *type = strdup(hdr ? hdr : "Unhandled");
  if (cJSON_IsObject(j)) {
    *body = lk_buf_steal(&req->body, len);
  } else {
    lk_buf_t b;

    lk_buf_init(&b, LK_SYNC_MAX_PAYLOAD);
    lk_buf_adds(&b, "{\"errorMessage\":");
    lk_buf_add_json_str(&b, req->body.data ? req->body.data : "",
                        req->body.len > 4096 ? 4096 : req->body.len);
    lk_buf_printf(&b, ",\"errorType\":\"%s\"}", *type);
    *body = lk_buf_steal(&b, len);
  }
  cJSON_Delete(j);
}

static void on_rapi(lk_http_req_t *req, void *ud) {
  lk_instance_t *in = ud;
  const char *path = req->path;
  size_t n;

  if (strncmp(path, RAPI, sizeof(RAPI) - 1) != 0) {
    reply(req, 404,
          "{\"errorMessage\":\"not found\",\"errorType\":"
          "\"NotFound\"}");
    return;
  }
  path += sizeof(RAPI) - 1;
  if (strcmp(req->method, "GET") == 0 &&
      strcmp(path, "/invocation/next") == 0) {
    if (in->next_req) { /* only one long poll at a time */
      reply(req, 400,
            "{\"errorMessage\":\"a /next is already waiting\","
            "\"errorType\":\"InvalidStateTransition\"}");
      return;
    }
    if (in->cur) {
      /* Asked for more work without answering: that is a failed invoke. */
      lk_invocation_t *inv = in->cur;
      static const char body[] =
          "{\"errorMessage\":\"runtime asked for the next event without "
          "answering\",\"errorType\":\"Runtime.InvalidResponse\"}";

      in->cur = NULL;
      inv->inst = NULL;
      uv_timer_stop(&in->timer);
      lk_emu_complete(inv, "error", "Runtime.InvalidResponse", body,
                      sizeof(body) - 1);
    }
    req->data = in;
    req->on_abort = on_next_abort;
    in->next_req = req;
    if (in->state == INST_STARTING) {
      in->init_ms = (double)(uv_hrtime() - in->spawn_ns) / 1e6;
      in->fn->n_starting--;
      uv_timer_stop(&in->timer);
    }
    in->state = INST_IDLE;
    in->idle_since_ns = uv_hrtime();
    if (in->mem_read_ns == 0)
      sample_mem(in, NULL);
    lk_emu_instance_ready(in);
    return;
  }
  if (strcmp(req->method, "POST") == 0 && strcmp(path, "/init/error") == 0) {
    size_t len;

    free(in->init_error_type);
    free(in->init_error_body);
    post_error(in, req, &in->init_error_type, &in->init_error_body, &len);
    reply(req, 202, "{\"status\":\"OK\"}");
    return;
  }
  if (strcmp(req->method, "POST") == 0 &&
      strncmp(path, "/invocation/", 12) == 0) {
    const char *id = path + 12;
    const char *slash = strchr(id, '/');
    lk_invocation_t *inv = in->cur;

    n = slash ? (size_t)(slash - id) : 0;
    if (slash == NULL || inv == NULL || n != strlen(inv->id) ||
        strncmp(id, inv->id, n) != 0) {
      reply(req, 400,
            "{\"errorMessage\":\"unknown request id\","
            "\"errorType\":\"InvalidRequestID\"}");
      return;
    }
    in->cur = NULL;
    inv->inst = NULL;
    uv_timer_stop(&in->timer);
    sample_mem(in, inv);
    if (strcmp(slash, "/response") == 0) {
      if (req->body_too_large) {
        static const char body[] =
            "{\"errorMessage\":\"Response payload size exceeded maximum "
            "allowed payload size (6291556 bytes).\",\"errorType\":"
            "\"Function.ResponseSizeTooLarge\"}";

        reply(req, 413,
              "{\"errorMessage\":\"payload too large\","
              "\"errorType\":\"RequestEntityTooLarge\"}");
        lk_emu_complete(inv, "error", "Function.ResponseSizeTooLarge", body,
                        sizeof(body) - 1);
        return;
      }
      lk_emu_complete(inv, "ok", NULL, req->body.data ? req->body.data : "",
                      req->body.len);
      reply(req, 202, "{\"status\":\"OK\"}");
      return;
    }
    if (strcmp(slash, "/error") == 0) {
      char *type = NULL, *body = NULL;
      size_t len = 0;

      post_error(in, req, &type, &body, &len);
      lk_emu_complete(inv, "error", type, body, len);
      free(type);
      free(body);
      reply(req, 202, "{\"status\":\"OK\"}");
      return;
    }
    in->cur = inv; /* not a known verb: leave the invocation running */
    inv->inst = in;
  }
  reply(req, 404,
        "{\"errorMessage\":\"not found\",\"errorType\":"
        "\"NotFound\"}");
}

/* ---- process life ---- */

static void on_proc_exit(uv_process_t *p, int64_t status, int sig) {
  lk_instance_t *in = p->data;
  lk_invocation_t *inv = in->cur;
  char body[512];
  const char *why;
  char what[64];

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
  if (sig)
    snprintf(what, sizeof(what), "signal: %s", strsignal(sig));
  else
    snprintf(what, sizeof(what), "exit status %lld", (long long)status);
  why = what;
  if (inv) {
    in->cur = NULL;
    inv->inst = NULL;
    inv->mem_mb = in->mem_mb;
    snprintf(body, sizeof(body),
             "{\"errorMessage\":\"RequestId: %s Error: Runtime exited with "
             "error: %s\",\"errorType\":\"Runtime.ExitError\"}",
             inv->id, why);
    lk_emu_log_line(in->fn->emu, in->fn, inv, in->stream, body + 17,
                    strcspn(body + 17, "\""));
    lk_emu_complete(inv, "crash", "Runtime.ExitError", body, strlen(body));
  }
  uv_close((uv_handle_t *)p, on_close_handle);
  uv_close((uv_handle_t *)&in->timer, on_close_handle);
  if (in->rapi) {
    lk_http_server_free(in->rapi);
    in->rapi = NULL;
  }
  lk_emu_instance_gone(in);
}

void lk_instance_kill(lk_instance_t *in, int sig) {
  if (!in->exited && in->pid > 0)
    uv_process_kill(&in->proc, sig);
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
  free(in->init_error_type);
  free(in->init_error_body);
  free(in);
  /* Its slot is free only now: at the cap, the replacement of an instance
   * killed for a timeout starts here, or the queue would wait forever. */
  lk_emu_schedule(fn);
}

static int env_add(char **env, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int env_add(char **env, int *n, const char *fmt, ...) {
  va_list ap;
  int rc;

  if (*n >= ENV_MAX - 1)
    return LK_E2BIG;
  va_start(ap, fmt);
  rc = vasprintf(&env[*n], fmt, ap);
  va_end(ap);
  if (rc < 0)
    return LK_ENOMEM;
  (*n)++;
  return 0;
}

int lk_instance_spawn(lk_fn_t *fn) {
  lk_emu_t *emu = fn->emu;
  lk_function_t *def = fn->def;
  lk_instance_t *in;
  uv_process_options_t po;
  uv_stdio_container_t stdio[4];
  char *env[ENV_MAX], *args[4], path[PATH_MAX], sink[PATH_MAX];
  static const char *pass[] = {"PATH", "HOME", "LANG", "LD_LIBRARY_PATH", NULL};
  lk_http_opts_t ho = {"127.0.0.1", 0, LK_SYNC_MAX_PAYLOAD};
  char day[16], hex[33];
  time_t now = time(NULL);
  struct tm tm;
  int n = 0, i, err, sink_fd = -1;

  in = calloc(1, sizeof(*in));
  if (in == NULL)
    return LK_ENOMEM;
  in->fn = fn;
  in->state = INST_STARTING;
  in->cold = 1;
  lk_buf_init(&in->line_out, LK_LINE_MAX);
  lk_buf_init(&in->line_err, LK_LINE_MAX);
  gmtime_r(&now, &tm);
  strftime(day, sizeof(day), "%Y/%m/%d", &tm);
  lk_hex(hex, 32);
  snprintf(in->stream, sizeof(in->stream), "%s/[$LATEST]%s", day, hex);
  err = lk_http_server_new(emu->loop, &ho, on_rapi, in, &in->rapi);
  if (err) {
    free(in);
    return err;
  }

  for (i = 0; pass[i]; i++) {
    if (i == 0 && emu->opts.bin_dir) /* the tripwire comes first */
      env_add(env, &n, "PATH=%s:%s", emu->opts.bin_dir,
              getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    else if (getenv(pass[i]))
      env_add(env, &n, "%s=%s", pass[i], getenv(pass[i]));
  }
  if (emu->opts.sink_lib) { /* see fuzz/sink.c: an fd, and the file's name */
    const char *id = strrchr(in->stream, ']');
    struct stat st;

    snprintf(sink, sizeof(sink), "%s/%s.log", emu->opts.sink_dir,
             id ? id + 1 : in->stream);
    env_add(env, &n, "LD_PRELOAD=%s", emu->opts.sink_lib);
    env_add(env, &n, "LAMBKIN_SINK_LOG=%s", sink);
    sink_fd = open(sink, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (sink_fd >= 0 && fstat(sink_fd, &st) != 0) {
      close(sink_fd);
      sink_fd = -1;
    }
    if (sink_fd >= 0) {
      env_add(env, &n, "LAMBKIN_SINK_FD=3");
      env_add(env, &n, "LAMBKIN_SINK_ID=%llu:%llu",
              (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    }
  }
  /* A sanitized C bootstrap must die the way Lambda reports it: a wild
   * pointer is SIGSEGV, a sanitizer report is SIGABRT, never "exit 1". The
   * instance is killed on every recycle, so leak reports would be noise. */
  env_add(env, &n,
          "ASAN_OPTIONS=%s%shandle_segv=0:handle_sigbus=0:"
          "abort_on_error=1:detect_leaks=0:verify_asan_link_order=0",
          getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "",
          getenv("ASAN_OPTIONS") ? ":" : "");
  env_add(env, &n, "UBSAN_OPTIONS=%s%sabort_on_error=1:print_stacktrace=1",
          getenv("UBSAN_OPTIONS") ? getenv("UBSAN_OPTIONS") : "",
          getenv("UBSAN_OPTIONS") ? ":" : "");
  for (i = 0; i < def->n_env; i++)
    env_add(env, &n, "%s", def->env[i]);
  env_add(env, &n, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d",
          lk_http_server_port(in->rapi));
  env_add(env, &n, "_HANDLER=%s", def->handler);
  env_add(env, &n, "AWS_LAMBDA_FUNCTION_NAME=%s", def->name);
  env_add(env, &n, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", def->memory_mb);
  env_add(env, &n, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
  env_add(env, &n, "AWS_LAMBDA_FUNCTION_TIMEOUT=%d", def->timeout_s);
  env_add(env, &n, "AWS_REGION=%s", emu->app->region);
  env_add(env, &n, "AWS_DEFAULT_REGION=%s", emu->app->region);
  env_add(env, &n, "AWS_EXECUTION_ENV=AWS_Lambda_%s", def->runtime);
  env_add(env, &n, "LAMBDA_TASK_ROOT=%s", def->code_dir);
  env_add(env, &n, "LAMBDA_RUNTIME_DIR=%s", runtime_dir());
  env_add(env, &n, "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", def->name);
  env_add(env, &n, "AWS_LAMBDA_LOG_STREAM_NAME=%s", in->stream);
  env_add(env, &n, "AWS_ACCESS_KEY_ID=%s", fn->access_key);
  env_add(env, &n, "AWS_SECRET_ACCESS_KEY=%s", fn->secret_key);
  env_add(env, &n, "AWS_SESSION_TOKEN=lambkin-%s", def->name);
  env_add(env, &n, "TZ=:UTC");
  if (emu->endpoint[0])
    env_add(env, &n, "AWS_ENDPOINT_URL=%s", emu->endpoint);
  if (def->kind == LK_RT_C)
    env_add(env, &n, "LAMBKIN_HANDLER_SO=%s", fn->so_path);
  env[n] = NULL;

  switch (def->kind) {
  case LK_RT_PYTHON:
    snprintf(path, sizeof(path), "%s/python/bootstrap.py", runtime_dir());
    args[0] = (char *)python_exe();
    args[1] = "-u"; /* unbuffered: print() lines arrive as they happen */
    args[2] = path;
    args[3] = NULL;
    break;
  case LK_RT_NODE:
    snprintf(path, sizeof(path), "%s/node/bootstrap.js", runtime_dir());
    args[0] = (char *)node_exe();
    args[1] = path;
    args[2] = NULL;
    break;
  case LK_RT_C:
    args[0] = (char *)c_bootstrap();
    args[1] = NULL;
    break;
  default:
    snprintf(path, sizeof(path), "%s/bootstrap", def->code_dir);
    args[0] = path;
    args[1] = NULL;
  }

  uv_pipe_init(emu->loop, &in->out, 0);
  uv_pipe_init(emu->loop, &in->err, 0);
  uv_timer_init(emu->loop, &in->timer);
  in->out.data = in->err.data = in->timer.data = in->proc.data = in;
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&in->out;
  stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[2].data.stream = (uv_stream_t *)&in->err;
  memset(&po, 0, sizeof(po));
  po.file = args[0];
  po.args = args;
  po.env = env;
  po.cwd = def->code_dir;
  po.exit_cb = on_proc_exit;
  stdio[3].flags = UV_INHERIT_FD;
  stdio[3].data.fd = sink_fd;
  po.stdio = stdio;
  po.stdio_count = sink_fd >= 0 ? 4 : 3;
  in->spawn_ns = uv_hrtime();
  err = spawn_batch(emu->loop, &in->proc, &po);
  if (sink_fd >= 0)
    close(sink_fd); /* the child has its own */
  for (i = 0; i < n; i++)
    free(env[i]);
  in->open_handles = 3; /* out, err, timer; proc added below */
  in->next = fn->instances;
  fn->instances = in;
  fn->n_instances++;
  if (err) {
    in->state = INST_DEAD;
    in->exited = 1;
    lk_http_server_free(in->rapi);
    in->rapi = NULL;
    uv_close((uv_handle_t *)&in->out, on_close_handle);
    uv_close((uv_handle_t *)&in->err, on_close_handle);
    uv_close((uv_handle_t *)&in->timer, on_close_handle);
    /* uv_spawn failing still leaves proc needing a close */
    in->open_handles++;
    uv_close((uv_handle_t *)&in->proc, on_close_handle);
    return err;
  }
  in->open_handles++;
  in->pid = in->proc.pid;
  fn->n_starting++;
  uv_read_start((uv_stream_t *)&in->out, on_pipe_alloc, on_pipe_read);
  uv_read_start((uv_stream_t *)&in->err, on_pipe_alloc, on_pipe_read);
  uv_timer_start(&in->timer, on_timeout, LK_INIT_TIMEOUT_MS, 0);
  return 0;
}
