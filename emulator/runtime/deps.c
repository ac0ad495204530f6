/* What `sam build` would do before a function runs: install a node
 * function's package.json dependencies (npm) and a python function's
 * requirements.txt (pip) when its code folder has none installed, build
 * its layers that name a BuildMethod, and bundle its TypeScript
 * (esbuild.c). Each install or layer build is done once, into
 * <state>/deps/<what>-<hash of its files>/, shared by every function
 * with the same files; the paths set in the lk_fn_t (deps_dir,
 * layer_dirs, built_dir) belong to the function. */
#include <dirent.h>
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

int lk_rt_run_bounded(char *const *argv, const char *cwd, const char *node_path,
                      int seconds) {
  time_t until = time(NULL) + seconds;
  int status = 0;
  pid_t pid = fork(), got = 0;

  if (pid == 0) {
    if (chdir(cwd) != 0)
      _exit(126);
    if (node_path)
      setenv("NODE_PATH", node_path, 1);
    dup2(2, 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  if (pid < 0)
    return -1;
  while ((got = waitpid(pid, &status, WNOHANG)) == 0 && time(NULL) < until)
    usleep(20 * 1000);
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* npm install of the package.json in dir, into dir/node_modules. */
static int npm_install(const char *dir) {
  char *argv[] = {
      "npm",       "install",          "--omit=dev",           "--no-audit",
      "--no-fund", "--loglevel=error", "--no-update-notifier", NULL};

  return lk_rt_run_bounded(argv, dir, NULL, INSTALL_SECONDS);
}

/* pip install of code's requirements.txt into target; run in code, as
 * sam build does, so a relative requirement (a local wheel) resolves. */
static int pip_install(const char *code, const char *target) {
  char *argv[] = {(char *)lk_rt_python_exe(),
                  "-m",
                  "pip",
                  "install",
                  "--quiet",
                  "--disable-pip-version-check",
                  "--root-user-action=ignore",
                  "--no-input",
                  "--target",
                  (char *)target,
                  "-r",
                  "requirements.txt",
                  NULL};

  return lk_rt_run_bounded(argv, code, NULL, INSTALL_SECONDS);
}

/* npm: the manifest and its lock copied into dir, installed there (a
 * "file:" dependency of the original's folder does not resolve). pip:
 * into dir/python. */
static int install(const manifest_t *m, const char *code, const char *text,
                   size_t n, const char *lock, size_t lock_n, const char *dir) {
  char path[PATH_MAX];

  if (m == &npm) {
    if (lk_path_join(path, sizeof(path), dir, m->file) ||
        lk_write_file_atomic(path, text, n))
      return -1;
    if (lock && (lk_path_join(path, sizeof(path), dir, m->lock) ||
                 lk_write_file_atomic(path, lock, lock_n)))
      return -1;
    return npm_install(dir);
  }
  return lk_path_join(path, sizeof(path), dir, "python") == 0
             ? pip_install(code, path)
             : -1;
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

/* ---- layers ---- */

#define LAYER_ENTRIES_MAX 20000 /* files looked at for a layer's hash */

/* The folder sam build puts a layer's files in, for its BuildMethod:
 * python3.x -> python/, nodejsNN.x -> nodejs/; NULL for what lambkin
 * does not build (makefile, java, ...). */
static const char *layer_sub(const char *method) {
  if (strncmp(method, "python", 6) == 0)
    return "python";
  if (strncmp(method, "nodejs", 6) == 0)
    return "nodejs";
  return NULL;
}

/* A hash of what is in dir: names, sizes and times, to a bound. A
 * node_modules folder counts by its own entry. */
static uint64_t tree_hash(uint64_t h, const char *dir, int depth, int *budget) {
  char path[PATH_MAX];
  struct dirent *e;
  struct stat st;
  DIR *d = opendir(dir);

  for (e = d ? readdir(d) : NULL; e && --*budget > 0; e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        lk_path_join(path, sizeof(path), dir, e->d_name) != 0 ||
        lstat(path, &st) != 0)
      continue;
    h = fnv(h, e->d_name, strlen(e->d_name) + 1);
    h = fnv(h, (const char *)&st.st_size, sizeof(st.st_size));
    h = fnv(h, (const char *)&st.st_mtim, sizeof(st.st_mtim));
    if (S_ISDIR(st.st_mode) && depth < 8 &&
        strcmp(e->d_name, "node_modules") != 0)
      h = tree_hash(h, path, depth + 1, budget);
  }
  if (d)
    closedir(d);
  return h;
}

/* 1 when src's manifest of m lists something to install. */
static int wants(const manifest_t *m, const char *src) {
  char path[PATH_MAX], *text;
  size_t n;
  int w;

  if (lk_path_join(path, sizeof(path), src, m->file) != 0)
    return 0;
  text = lk_read_file(path, MAX_MANIFEST, &n);
  w = text && (m == &npm ? npm_wants(text) : pip_wants(text));
  free(text);
  return w;
}

/* src's files copied into tmp/sub and its manifest installed there. */
static int lay_out(const char *src, const char *sub, const char *tmp,
                   int with_deps) {
  char into[PATH_MAX], from[PATH_MAX], path[PATH_MAX];
  char *cp[] = {"cp", "-R", "--", from, into, NULL};
  struct stat st;

  if (lk_path_join(into, sizeof(into), tmp, sub) || lk_mkdirs(into) ||
      lk_path_join(from, sizeof(from), src, ".") ||
      lk_rt_run_bounded(cp, src, NULL, INSTALL_SECONDS) != 0)
    return -1;
  if (!with_deps)
    return 0;
  if (strcmp(sub, "python") == 0)
    return wants(&pip, src) ? pip_install(src, into) : 0;
  if (lk_path_join(path, sizeof(path), into, "node_modules") == 0 &&
      stat(path, &st) == 0)
    return 0; /* shipped with the layer */
  return wants(&npm, src) ? npm_install(into) : 0;
}

/* A layer of BuildMethod method built as sam build would, once per set
 * of its files; its folder, or NULL to serve src as it is. */
static char *build_layer(const lk_fn_t *fn, const char *src,
                         const char *method) {
  const char *sub = layer_sub(method), *state = fn->rt->opts.state_dir;
  char dir[PATH_MAX], tmp[PATH_MAX], name[96];
  int budget = LAYER_ENTRIES_MAX, with_deps = fn->rt->opts.install;
  uint64_t h = fnv(0xcbf29ce484222325ULL, src, strlen(src) + 1);
  struct stat st;

  if (sub == NULL) {
    if (!failed_before(h) && n_failed < MAX_FAILED) {
      failed[n_failed++] = h;
      fprintf(stderr,
              "lambkin: warning: layer %s has BuildMethod %s, which "
              "lambkin does not run; it is served as its folder is\n",
              src, method);
    }
    return NULL;
  }
  h = tree_hash(fnv(h, method, strlen(method) + 1), src, 0, &budget);
  h = fnv(h, (const char *)&with_deps, sizeof(with_deps));
  snprintf(name, sizeof(name), "deps/layer-%s-%016" PRIx64, sub, h);
  if (lk_path_join(dir, sizeof(dir), state, name) || failed_before(h))
    return NULL;
  if (stat(dir, &st) == 0)
    return lk_xstrdup(dir);
  snprintf(name, sizeof(name), "deps/.layer-%016" PRIx64 ".%d", h,
           (int)getpid());
  if (lk_path_join(tmp, sizeof(tmp), state, name) || lk_mkdirs(tmp))
    return NULL;
  fprintf(stderr,
          "lambkin: building layer %s (BuildMethod %s) once, as sam build "
          "would\n",
          src, method);
  if (lay_out(src, sub, tmp, with_deps) != 0 ||
      (rename(tmp, dir) != 0 && stat(dir, &st) != 0)) {
    fprintf(stderr,
            "lambkin: warning: could not build layer %s; it is served as "
            "its folder is\n",
            src);
    lk_remove_tree(tmp);
    if (n_failed < MAX_FAILED)
      failed[n_failed++] = h;
    return NULL;
  }
  lk_remove_tree(tmp); /* another lambkin got there first */
  return lk_xstrdup(dir);
}

static void build_layers(lk_fn_t *fn) {
  const lk_function_t *def = fn->def;
  int i;

  fn->layer_dirs = lk_xcalloc((size_t)def->n_layers + 1, sizeof(char *));
  for (i = 0; i < def->n_layers; i++) {
    char *built = def->layer_builds[i]
                      ? build_layer(fn, def->layers[i], def->layer_builds[i])
                      : NULL;

    fn->layer_dirs[i] = built ? built : lk_xstrdup(def->layers[i]);
  }
}

/* ---- the whole ---- */

const char *lk_rt_code_dir(const lk_fn_t *fn) {
  return fn->built_dir ? fn->built_dir : fn->def->code_dir;
}

const char *lk_rt_layer_dir(const lk_fn_t *fn, int i) {
  return fn->layer_dirs ? fn->layer_dirs[i] : fn->def->layers[i];
}

/* The installs and layers, made again at each build; esbuild's bundle
 * stays until a new one replaces it. */
static void free_deps(lk_fn_t *fn) {
  int i;

  free(fn->deps_dir);
  fn->deps_dir = NULL;
  for (i = 0; fn->layer_dirs && i < fn->def->n_layers; i++)
    free(fn->layer_dirs[i]);
  free(fn->layer_dirs);
  fn->layer_dirs = NULL;
}

void lk_rt_sam_build_free(lk_fn_t *fn) {
  free_deps(fn);
  free(fn->built_dir);
  fn->built_dir = NULL;
}

void lk_rt_sam_build(lk_fn_t *fn) {
  const char *code = fn->def->code_dir;

  free_deps(fn);
  build_layers(fn);
  if (fn->rt->opts.install && code &&
      strstr(code, "/.aws-sam/build/") == NULL) { /* sam build's output */
    if (fn->def->kind == LK_RT_NODE)
      provide(fn, &npm);
    else if (fn->def->kind == LK_RT_PYTHON)
      provide(fn, &pip);
  }
  if (fn->def->build)
    lk_rt_esbuild(fn);
}
