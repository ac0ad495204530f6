/* Lambda's file system for each instance, through lambkin-sandbox (see
 * runtimes/sandbox/sandbox.c): the function's code at /var/task, its
 * layers over /opt, a private /tmp, and under fuzz and replay of
 * findings everything else read-only. Probed once: where the kernel
 * refuses user namespaces, lambkin says so and runs instances as before.
 * The argv built here is the caller's to free (lk_rt_argv_free). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "runtime_int.h"

static const char *sandbox_exe(void) {
  const char *p = getenv("LAMBKIN_SANDBOX");

  return p ? p : LK_BINARY_DIR "/lambkin-sandbox";
}

void lk_rt_sandbox_probe(lk_runtime_t *rt) {
  const char *exe = sandbox_exe();
  int status = -1;
  pid_t pid;

  if (!rt->opts.sandbox)
    return;
  pid = fork();
  if (pid == 0) {
    execl(exe, exe, "--probe", (char *)NULL);
    _exit(127);
  }
  if (pid > 0)
    waitpid(pid, &status, 0);
  rt->sandboxed = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!rt->sandboxed)
    fprintf(stderr,
            "lambkin: warning: %s cannot make namespaces here (the kernel "
            "refuses unprivileged user namespaces?): functions see their code "
            "at its own path, not /var/task, layers are not at /opt, /tmp "
            "is shared%s\n",
            exe, rt->opts.read_only ? ", and nothing is read-only" : "");
}

const char *lk_rt_task_root(const lk_fn_t *fn) {
  return fn->rt->sandboxed && fn->def->kind != LK_RT_NONE ? "/var/task"
                                                          : lk_rt_code_dir(fn);
}

static void push(char ***v, int *n, const char *s) {
  *v = lk_xrealloc(*v, sizeof(char *) * (size_t)(*n + 2));
  (*v)[(*n)++] = lk_xstrdup(s);
  (*v)[*n] = NULL;
}

/* A path lambkin hands the function that must stay reachable (one under
 * /tmp would vanish under the private /tmp), as its real path. */
static void keep(char ***v, int *n, const char *flag, const char *path) {
  char real[PATH_MAX];

  if (path && realpath(path, real) && strncmp(real, "/tmp/", 5) == 0) {
    push(v, n, flag);
    push(v, n, real);
  }
}

/* keep() of the folder a file is in. */
static void keep_dir_of(char ***v, int *n, const char *file) {
  char dir[PATH_MAX], *slash;

  snprintf(dir, sizeof(dir), "%s", file);
  slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    keep(v, n, "--keep", dir);
  }
}

char **lk_rt_sandbox_argv(const lk_fn_t *fn, char *const *cmd) {
  const lk_runtime_opts_t *o = &fn->rt->opts;
  const lk_function_t *def = fn->def;
  char **v = NULL, real[PATH_MAX];
  int n = 0, i;

  push(&v, &n, sandbox_exe());
  push(&v, &n, "--task");
  push(&v, &n, lk_rt_code_dir(fn));
  for (i = 0; i < def->n_layers; i++) {
    push(&v, &n, "--layer");
    push(&v, &n, lk_rt_layer_dir(fn, i));
    keep(&v, &n, "--keep", lk_rt_layer_dir(fn, i));
  }
  keep(&v, &n, "--keep", lk_rt_code_dir(fn));
  keep(&v, &n, "--keep", lk_rt_runtime_dir());
  keep(&v, &n, "--keep", o->state_dir);
  keep(&v, &n, "--keep", o->sink_dir);
  keep(&v, &n, "--keep", o->bin_dir);
  if (o->sink_lib)
    keep_dir_of(&v, &n, o->sink_lib);
  for (i = 0; cmd[i]; i++) /* the runtime's own executable */
    if (cmd[i][0] == '/')
      keep_dir_of(&v, &n, cmd[i]);
  if (o->read_only) {
    push(&v, &n, "--read-only");
    if (o->sink_dir && realpath(o->sink_dir, real)) {
      push(&v, &n, "--writable");
      push(&v, &n, real);
    }
  }
  push(&v, &n, "--");
  for (i = 0; cmd[i]; i++)
    push(&v, &n, cmd[i]);
  return v;
}

void lk_rt_argv_free(char **argv) {
  int i;

  for (i = 0; argv && argv[i]; i++)
    free(argv[i]);
  free(argv);
}
