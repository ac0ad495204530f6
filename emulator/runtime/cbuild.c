/* A function made ready to run: its credentials and log group, and, for C
 * handlers, the shared object compiled from its sources into
 * <state>/build once, as `sam build` would (again only when a source is
 * newer). The path of the .so belongs to the function. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

#define MAX_ARGS 256
#define MAX_SOURCES 200

static int has_ext(const char *name, const char *ext) {
  size_t n = strlen(name), e = strlen(ext);

  return n > e && strcmp(name + n - e, ext) == 0;
}

/* The newest mtime of the folder's .c and .h files. */
static time_t newest_source(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  struct stat st;
  char path[PATH_MAX];
  time_t newest = 0;

  if (d == NULL)
    return 0;
  for (e = readdir(d); e; e = readdir(d))
    if ((has_ext(e->d_name, ".c") || has_ext(e->d_name, ".h")) &&
        lk_path_join(path, sizeof(path), dir, e->d_name) == 0 &&
        stat(path, &st) == 0 && st.st_mtime > newest)
      newest = st.st_mtime;
  closedir(d);
  return newest;
}

/* The flags are part of the name: an ASan build and a plain one must not
 * load each other's handler. */
static int so_name(const lk_fn_t *fn, char *out, size_t cap) {
  const char *k = LK_CC " " LK_HANDLER_CFLAGS;
  unsigned h = 2166136261u;
  char name[300];

  for (; *k; k++)
    h = (h ^ (unsigned char)*k) * 16777619u;
  snprintf(name, sizeof(name), "build/%s-%08x.so", fn->def->name, h);
  return lk_path_join(out, cap, fn->rt->opts.state_dir, name);
}

/* cc -shared ... -o so with the folder's .c files, and wait for it; 0
 * when it compiled. */
static int compile(const char *dir, const char *so) {
  char *argv[MAX_ARGS], inc[PATH_MAX], flags[512];
  int argc = 0, first_src, status = -1, i;
  DIR *d;
  struct dirent *e;
  pid_t pid;

  snprintf(inc, sizeof(inc), "-I%s/include", LK_SOURCE_DIR);
  snprintf(flags, sizeof(flags), "%s", LK_HANDLER_CFLAGS);
  argv[argc++] = (char *)LK_CC;
  argv[argc++] = "-shared";
  argv[argc++] = "-fPIC";
  argv[argc++] = "-g";
  argv[argc++] = "-O2";
  argv[argc++] = inc;
  for (char *tok = flags, *sp; tok && *tok && argc < 40; tok = sp) {
    sp = strchr(tok, ' ');
    if (sp)
      *sp++ = '\0';
    if (*tok)
      argv[argc++] = tok;
  }
  argv[argc++] = "-o";
  argv[argc++] = (char *)so;
  first_src = argc;
  d = opendir(dir);
  for (e = d ? readdir(d) : NULL; e && argc < first_src + MAX_SOURCES;
       e = readdir(d))
    if (has_ext(e->d_name, ".c"))
      argv[argc++] = lk_xasprintf("%s/%s", dir, e->d_name);
  if (d)
    closedir(d);
  argv[argc] = NULL;
  pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  if (pid > 0)
    waitpid(pid, &status, 0);
  for (i = first_src; i < argc; i++)
    free(argv[i]);
  return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The C handler's .so, built when missing or older than a source, or
 * always (force: a source changed within the .so's second). */
static int build_c(lk_fn_t *fn, int force, char *err, size_t errlen) {
  const char *state = fn->rt->opts.state_dir;
  char dir[PATH_MAX], so[PATH_MAX];
  struct stat st;

  if (lk_path_join(dir, sizeof(dir), state, "build") ||
      so_name(fn, so, sizeof(so)) || lk_mkdirs(dir)) {
    snprintf(err, errlen, "cannot create %s/build", state);
    return LK_EIO;
  }
  if (force || stat(so, &st) != 0 ||
      st.st_mtime < newest_source(fn->def->code_dir)) {
    if (compile(fn->def->code_dir, so) != 0) {
      snprintf(err, errlen, "%s:%d: C handler of %s did not compile",
               fn->rt->app->path, fn->def->line, fn->def->name);
      return LK_EINVAL;
    }
  }
  fn->so_path = realpath(so, NULL);
  if (fn->so_path == NULL) {
    snprintf(err, errlen, "cannot find %s", so);
    return LK_EIO;
  }
  return 0;
}

int lk_rt_rebuild(lk_fn_t *fn, char *err, size_t errlen) {
  free(fn->so_path);
  fn->so_path = NULL;
  return build_c(fn, 1, err, errlen);
}

int lk_rt_prepare(lk_fn_t *fn, char *err, size_t errlen) {
  /* Credentials of its own, so every call it makes is attributed. */
  char rnd[33];

  memcpy(fn->access_key, "LKIA", 4);
  lk_secret_hex(fn->access_key + 4, 16);
  lk_secret_hex(fn->secret_key, 40);
  lk_secret_hex(rnd, 32);
  snprintf(fn->token, sizeof(fn->token), "lambkin-%.64s-%s", fn->def->name,
           rnd);
  snprintf(fn->log_group, sizeof(fn->log_group), "/aws/lambda/%s",
           fn->def->name);
  lk_rt_sam_build(fn);
  return fn->def->kind == LK_RT_C ? build_c(fn, 0, err, errlen) : 0;
}
