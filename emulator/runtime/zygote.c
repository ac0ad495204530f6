/* The python fork server (runtimes/python/zygote.py): one process per
 * runtime, started in the background at lk_runtime_start, that has
 * boto3 loaded and forks python instances on request. Until it says it is
 * ready, and after it is gone, python instances start by exec as before.
 * The runtime owns it (rt->zygote); it closes once the runtime closes and
 * the last instance it forked has been reported gone. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fs.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

#define REQUEST_MAX (200 * 1024) /* fits one SOCK_SEQPACKET message */
#define REPLY_WAIT_MS 5000       /* a fork takes milliseconds */
#define ENV_PAD (32 * 1024)      /* an instance's environment, shown whole */

struct lk_zygote {
  lk_runtime_t *rt;
  uv_process_t proc;
  uv_poll_t ready_poll, exit_poll;
  int ctl, exits; /* lambkin's ends of the two socket pairs */
  int ready;
  int gone;     /* its process has exited */
  int n_forked; /* instances not yet reported gone */
  int open_handles;
};

static const char *sandbox_lib(void) {
  const char *p = getenv("LAMBKIN_SANDBOX_LIB");

  return p ? p : LK_BINARY_DIR "/liblambkin_sandbox.so";
}

static void on_zygote_close(uv_handle_t *h) {
  lk_zygote_t *z = h->data;

  if (--z->open_handles > 0)
    return;
  close(z->ctl);
  close(z->exits);
  free(z);
}

/* Everything closed; z is freed from the last close callback. */
static void zygote_close(lk_zygote_t *z) {
  if (z->rt->zygote == z)
    z->rt->zygote = NULL;
  if (!z->gone) { /* its exit closes proc; the loop waits for it */
    kill(z->proc.pid, SIGKILL);
    uv_ref((uv_handle_t *)&z->proc);
  }
  if (!uv_is_closing((uv_handle_t *)&z->ready_poll))
    uv_close((uv_handle_t *)&z->ready_poll, on_zygote_close);
  if (!uv_is_closing((uv_handle_t *)&z->exit_poll))
    uv_close((uv_handle_t *)&z->exit_poll, on_zygote_close);
  if (z->gone && !uv_is_closing((uv_handle_t *)&z->proc))
    uv_close((uv_handle_t *)&z->proc, on_zygote_close);
}

/* "PID STATUS SIGNAL" for each instance it reaped. */
static void on_exits(uv_poll_t *p, int status, int events) {
  lk_zygote_t *z = p->data;
  char msg[96];
  ssize_t n = -1;
  long pid, code, sig;
  char *end;

  (void)events;
  while (status == 0 &&
         (n = recv(z->exits, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
    msg[n] = '\0';
    pid = strtol(msg, &end, 10);
    code = strtol(end, &end, 10);
    sig = strtol(end, &end, 10);
    if (pid <= 0)
      continue;
    z->n_forked--;
    lk_instance_forked_exit(z->rt, (int)pid, code, (int)sig);
  }
  if (status != 0 || n == 0) /* it is gone: its exit callback follows */
    uv_poll_stop(p);
  if (z->rt->closing && z->n_forked <= 0)
    zygote_close(z);
}

static void on_ready(uv_poll_t *p, int status, int events) {
  lk_zygote_t *z = p->data;
  char msg[16];
  ssize_t n = recv(z->ctl, msg, sizeof(msg), MSG_DONTWAIT);

  (void)events;
  if (n < 0 && errno == EAGAIN && status == 0)
    return;
  uv_poll_stop(p);
  /* From here on the socket is used one request and reply at a time. */
  z->ready = n == 5 && memcmp(msg, "ready", 5) == 0;
}

/* It is gone: the instances it forked are killed and end as a crashed
 * process does, since no one is left to report their exits. */
static void on_zygote_exit(uv_process_t *p, int64_t status, int sig) {
  lk_zygote_t *z = p->data;

  (void)status;
  (void)sig;
  z->gone = 1;
  z->ready = 0;
  if (!z->rt->closing)
    fprintf(stderr, "lambkin: the python fork server exited; python "
                    "functions start by exec from now on\n");
  lk_instance_forked_orphans(z->rt);
  zygote_close(z);
}

void lk_zygote_start(lk_runtime_t *rt, const char *runtime) {
  char boot[4096], lib[4200], preload[4200], inherited[3][4200];
  char region[2][96], exec_env[96], endpoint[300];
  static const char *const names[] = {"PATH", "HOME", "LANG"};
  char *args[] = {(char *)lk_rt_python_exe(), "-u", boot, NULL};
  char *env[16], *pad; /* what is added below, and a NULL */
  size_t i;
  int ctl[2], exits[2], n = 0, err;
  uv_process_options_t po;
  uv_stdio_container_t stdio[5];
  lk_zygote_t *z;

  if (!rt->opts.fork_server || rt->zygote ||
      (rt->sandboxed && access(sandbox_lib(), R_OK) != 0))
    return; /* without the library, a fork could not enter the sandbox */
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0)
    return;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, exits) != 0) {
    close(ctl[0]);
    close(ctl[1]);
    return;
  }
  lk_path_join(boot, sizeof(boot), lk_rt_runtime_dir(), "python/bootstrap.py");
  env[n++] = "LAMBKIN_ZYGOTE_FD=3";
  env[n++] = "TZ=:UTC";
  if (rt->sandboxed) {
    snprintf(lib, sizeof(lib), "LAMBKIN_ZYGOTE_SANDBOX=%s", sandbox_lib());
    env[n++] = lib;
  }
  if (rt->opts.sink_lib) { /* loaded before anything else, as by exec */
    snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", rt->opts.sink_lib);
    env[n++] = preload;
  }
  /* What its instances' botocore will read, so that the clients it
   * builds ahead are theirs (zygote.py, spare_session). */
  snprintf(region[0], sizeof(region[0]), "AWS_REGION=%s", rt->app->region);
  snprintf(region[1], sizeof(region[1]), "AWS_DEFAULT_REGION=%s",
           rt->app->region);
  env[n++] = region[0];
  env[n++] = region[1];
  if (runtime) {
    snprintf(exec_env, sizeof(exec_env), "AWS_EXECUTION_ENV=AWS_Lambda_%s",
             runtime);
    env[n++] = exec_env;
  }
  if (rt->opts.endpoint[0]) {
    snprintf(endpoint, sizeof(endpoint), "AWS_ENDPOINT_URL=%s",
             rt->opts.endpoint);
    env[n++] = endpoint;
  }
  for (i = 0; i < 3; i++) /* what lambkin passes on to every instance */
    if (getenv(names[i])) {
      snprintf(inherited[i], sizeof(inherited[i]), "%s=%s", names[i],
               getenv(names[i]));
      env[n++] = inherited[i];
    }
  /* Room for each instance's environment in the block /proc/PID/environ
   * shows (zygote.py, show_environ). */
  pad = lk_xmalloc(ENV_PAD + 32);
  memcpy(pad, "LAMBKIN_ZYGOTE_PAD=", 19);
  memset(pad + 19, '.', ENV_PAD);
  pad[19 + ENV_PAD] = '\0';
  env[n++] = pad;
  env[n] = NULL;
  z = lk_xcalloc(1, sizeof(*z));
  z->rt = rt;
  z->ctl = ctl[0];
  z->exits = exits[0];
  z->proc.data = z->ready_poll.data = z->exit_poll.data = z;
  memset(&po, 0, sizeof(po));
  memset(stdio, 0, sizeof(stdio));
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = stdio[2].flags = UV_INHERIT_FD;
  stdio[1].data.fd = stdio[2].data.fd = 2; /* its own words go to stderr */
  stdio[3].flags = stdio[4].flags = UV_INHERIT_FD;
  stdio[3].data.fd = ctl[1];
  stdio[4].data.fd = exits[1];
  po.file = args[0];
  po.args = args;
  po.env = env;
  po.cwd = lk_rt_runtime_dir();
  po.exit_cb = on_zygote_exit;
  po.flags = UV_PROCESS_DETACHED;
  po.stdio = stdio;
  po.stdio_count = 5;
  err = lk_rt_spawn_batch(rt->loop, &z->proc, &po);
  close(ctl[1]);
  close(exits[1]);
  free(pad);
  uv_poll_init(rt->loop, &z->ready_poll, z->ctl);
  uv_poll_init(rt->loop, &z->exit_poll, z->exits);
  z->open_handles = 2;
  if (err) {
    fprintf(stderr, "lambkin: cannot start the python fork server: %s\n",
            uv_strerror(err));
    z->gone = 1;
    z->open_handles++; /* a failed uv_spawn still leaves proc to close */
    rt->zygote = z;
    zygote_close(z);
    return;
  }
  z->open_handles++;
  uv_poll_start(&z->ready_poll, UV_READABLE | UV_DISCONNECT, on_ready);
  uv_poll_start(&z->exit_poll, UV_READABLE | UV_DISCONNECT, on_exits);
  uv_unref((uv_handle_t *)&z->proc); /* it alone keeps nothing running */
  uv_unref((uv_handle_t *)&z->exit_poll);
  uv_unref((uv_handle_t *)&z->ready_poll);
  rt->zygote = z;
}

/* The request: cwd, the sandbox's arguments, an empty field, the
 * environment; NUL between fields. */
static void request(lk_buf_t *b, const char *cwd, char *const *sandbox,
                    char *const *env) {
  int i;

  lk_buf_add(b, cwd, strlen(cwd) + 1);
  for (i = 0; sandbox && sandbox[i]; i++)
    lk_buf_add(b, sandbox[i], strlen(sandbox[i]) + 1);
  lk_buf_add(b, "", 1);
  for (i = 0; env[i]; i++)
    lk_buf_add(b, env[i], strlen(env[i]) + (env[i + 1] ? 1 : 0));
}

static int send_request(lk_zygote_t *z, const lk_buf_t *b, const int *fds,
                        int nfds) {
  char cbuf[CMSG_SPACE(sizeof(int) * 3)];
  struct iovec iov = {(void *)b->data, b->len};
  struct msghdr mh;
  struct cmsghdr *c;
  ssize_t n;

  memset(&mh, 0, sizeof(mh));
  memset(cbuf, 0, sizeof(cbuf));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
  c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
  do
    n = sendmsg(z->ctl, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)b->len ? 0 : LK_EIO;
}

/* "ok PID" within REPLY_WAIT_MS; a server that does not answer is
 * stopped, and the instance starts by exec. */
static int read_reply(lk_zygote_t *z, int *pid) {
  struct pollfd pf = {z->ctl, POLLIN, 0};
  char msg[256];
  ssize_t n;
  int rc;

  do
    rc = poll(&pf, 1, REPLY_WAIT_MS);
  while (rc < 0 && errno == EINTR);
  n = rc == 1 ? recv(z->ctl, msg, sizeof(msg) - 1, MSG_DONTWAIT) : -1;
  if (n <= 0) {
    z->ready = 0;
    kill(z->proc.pid, SIGKILL);
    return LK_EIO;
  }
  msg[n] = '\0';
  if (strncmp(msg, "ok ", 3) != 0) {
    fprintf(stderr, "lambkin: python fork server: %s\n", msg);
    return LK_EIO;
  }
  *pid = (int)strtol(msg + 3, NULL, 10);
  return *pid > 0 ? 0 : LK_EIO;
}

int lk_zygote_spawn(lk_runtime_t *rt, const char *cwd, char *const *sandbox,
                    char *const *env, const int *fds, int nfds, int *pid) {
  lk_zygote_t *z = rt->zygote;
  lk_buf_t b;
  int err;

  if (z == NULL || !z->ready || rt->closing)
    return LK_EBUSY;
  lk_buf_init(&b, REQUEST_MAX);
  request(&b, cwd, sandbox, env);
  err = lk_buf_error(&b) ? LK_E2BIG : send_request(z, &b, fds, nfds);
  lk_buf_free(&b);
  if (err == 0)
    err = read_reply(z, pid);
  if (err == 0)
    z->n_forked++;
  return err;
}

void lk_zygote_close(lk_runtime_t *rt) {
  lk_zygote_t *z = rt->zygote;

  if (z == NULL)
    return;
  if (z->n_forked <= 0) {
    zygote_close(z);
    return;
  }
  /* Its instances are being killed: it stays to report their exits, and
   * the loop runs until it has. */
  uv_ref((uv_handle_t *)&z->exit_poll);
}
