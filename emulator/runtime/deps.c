/* What `sam build` would install before a function runs: a node
 * function's package.json dependencies (npm) and a python function's
 * requirements.txt (pip), when its code folder has none installed. Each
 * set is installed once into <state>/deps/<runtime>-<hash of the files>/
 * and shared by every function with the same files; the folder's path
 * (fn->deps_dir) belongs to the function. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

#define MAX_MANIFEST (1u << 20)
#define INSTALL_SECONDS 600 /* one install; then it is given up */

/* A manifest and the lock beside it: what the install is made from. */
typedef struct manifest {
  const char *file;      /* package.json, requirements.txt */
  const char *lock;      /* package-lock.json, or NULL */
  const char *installed; /* in the code folder: nothing to do */
  const char *tag;       /* node, python: names the cache folder */
} manifest_t;

static const manifest_t npm = {"package.json", "package-lock.json",
                               "node_modules", "node"};
static const manifest_t pip = {"requirements.txt", NULL, NULL, "python"};

/* Sets whose install failed in this run: the other functions with the
 * same files, and code changes, do not try again (the next run does). */
#define MAX_FAILED 64
static uint64_t failed[MAX_FAILED];
static int n_failed;

static int failed_before(uint64_t h) {
  int i;

  for (i = 0; i < n_failed; i++)
    if (failed[i] == h)
      return 1;
  return 0;
}

/* FNV-1a: a cache key, not a secret. */
static uint64_t fnv(uint64_t h, const char *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* 1 when package.json lists dependencies to install. */
static int npm_wants(const char *text) {
  cJSON *root = cJSON_Parse(text);
  const cJSON *deps = cJSON_GetObjectItemCaseSensitive(root, "dependencies");
  int wants = cJSON_IsObject(deps) && deps->child != NULL;

  cJSON_Delete(root);
  return wants;
}

/* 1 when requirements.txt names anything (not only comments). */
static int pip_wants(const char *text) {
  const char *p = text;

  while (*p) {
    p += strspn(p, " \t\r\n");
    if (*p && *p != '#')
      return 1;
    p += strcspn(p, "\n");
  }
  return 0;
}

/* Runs argv in cwd with its output on stderr, for at most
 * INSTALL_SECONDS; 0 when it exits 0. */
static int run_bounded(char *const *argv, const char *cwd) {
  time_t until = time(NULL) + INSTALL_SECONDS;
  int status = 0;
  pid_t pid = fork(), got = 0;

  if (pid == 0) {
    if (chdir(cwd) != 0)
      _exit(126);
    dup2(2, 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  if (pid < 0)
    return -1;
  while ((got = waitpid(pid, &status, WNOHANG)) == 0 && time(NULL) < until)
    usleep(50 * 1000);
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* npm: the manifest and its lock copied into dir, installed there (a
 * "file:" dependency of the original's folder does not resolve). pip:
 * run in the code folder, as sam build does, so a relative requirement
 * (a local wheel) resolves; into dir/python. */
static int install(const manifest_t *m, const char *code, const char *text,
                   size_t n, const char *lock, size_t lock_n, const char *dir) {
  char path[PATH_MAX], target[PATH_MAX];

  if (m == &npm) {
    char *argv[] = {
        "npm",       "install",          "--omit=dev",           "--no-audit",
        "--no-fund", "--loglevel=error", "--no-update-notifier", NULL};

    if (lk_path_join(path, sizeof(path), dir, m->file) ||
        lk_write_file_atomic(path, text, n))
      return -1;
    if (lock && (lk_path_join(path, sizeof(path), dir, m->lock) ||
                 lk_write_file_atomic(path, lock, lock_n)))
      return -1;
    return run_bounded(argv, dir);
  }
  if (lk_path_join(target, sizeof(target), dir, "python"))
    return -1;
  {
    char *argv[] = {(char *)lk_rt_python_exe(),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--root-user-action=ignore",
                    "--no-input",
                    "--target",
                    target,
                    "-r",
                    (char *)m->file,
                    NULL};

    return run_bounded(argv, code);
  }
}

/* Installs what m names in fn's code folder, or finds it installed;
 * sets fn->deps_dir. */
static void provide(lk_fn_t *fn, const manifest_t *m) {
  const char *code = fn->def->code_dir, *state = fn->rt->opts.state_dir;
  char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], name[64];
  char *text, *lock = NULL;
  size_t n, lock_n = 0;
  struct stat st;
  uint64_t h;

  if (lk_path_join(path, sizeof(path), code, m->file))
    return;
  text = lk_read_file(path, MAX_MANIFEST, &n);
  if (text == NULL || !(m == &npm ? npm_wants(text) : pip_wants(text)))
    goto done;
  if (m->installed &&
      lk_path_join(path, sizeof(path), code, m->installed) == 0 &&
      stat(path, &st) == 0)
    goto done; /* installed by hand, or bundled */
  if (m->lock && lk_path_join(path, sizeof(path), code, m->lock) == 0)
    lock = lk_read_file(path, MAX_MANIFEST, &lock_n);
  h = fnv(fnv(0xcbf29ce484222325ULL, text, n), lock ? lock : "", lock_n);
  snprintf(name, sizeof(name), "deps/%s-%016" PRIx64, m->tag, h);
  if (lk_path_join(dir, sizeof(dir), state, name) || failed_before(h))
    goto done;
  if (stat(dir, &st) != 0) {
    snprintf(name, sizeof(name), "deps/.%s-%016" PRIx64 ".%d", m->tag, h,
             (int)getpid());
    if (lk_path_join(tmp, sizeof(tmp), state, name) || lk_mkdirs(tmp))
      goto done;
    fprintf(stderr,
            "lambkin: installing %s's %s with %s, once (as sam build "
            "would; --no-install to skip)\n",
            fn->def->name, m->file, m == &npm ? "npm" : "pip");
    if (install(m, code, text, n, lock, lock_n, tmp) != 0 ||
        (rename(tmp, dir) != 0 && stat(dir, &st) != 0)) {
      fprintf(stderr,
              "lambkin: warning: could not install %s's %s; it runs "
              "without them\n",
              fn->def->name, m->file);
      lk_remove_tree(tmp);
      if (n_failed < MAX_FAILED)
        failed[n_failed++] = h;
      goto done;
    }
    lk_remove_tree(tmp); /* another lambkin got there first */
  }
  if (lk_path_join(path, sizeof(path), dir,
                   m == &npm ? "node_modules" : "python") == 0)
    fn->deps_dir = lk_xstrdup(path);
done:
  free(text);
  free(lock);
}

void lk_rt_install_deps(lk_fn_t *fn) {
  const char *code = fn->def->code_dir;

  free(fn->deps_dir);
  fn->deps_dir = NULL;
  if (!fn->rt->opts.install || code == NULL ||
      strstr(code, "/.aws-sam/build/") != NULL) /* sam build's output */
    return;
  if (fn->def->kind == LK_RT_NODE)
    provide(fn, &npm);
  else if (fn->def->kind == LK_RT_PYTHON)
    provide(fn, &pip);
}
