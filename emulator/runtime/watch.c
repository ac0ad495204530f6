/* Code reload. Each function's CodeUri, and the folders below it to a
 * bound, is watched (inotify, through libuv); once a change settles, a C
 * handler is rebuilt and the function's instances retire: idle ones at
 * once, busy ones when their invocation is answered, so an in-flight
 * invocation finishes on the old code and the next one starts a new
 * instance on the new. The watchers belong to the function. */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "mem.h"
#include "runtime_int.h"

#define WATCH_DIRS_MAX 64 /* folders watched per function */
#define WATCH_DEPTH 8
#define SETTLE_MS 100 /* an editor's save is several writes */

struct lk_watch {
  lk_fn_t *fn;
  uv_fs_event_t *dirs[WATCH_DIRS_MAX];
  int n;
  uv_timer_t settle;
  int open; /* handles not yet closed */
};

/* Names a change to which is not a change to the code: bytecode caches,
 * editors' hidden swap files, dependencies (node_modules is not watched,
 * its own folder's entry is ignored too). */
static int ignored(const char *name) {
  size_t n = name ? strlen(name) : 0;

  return n == 0 || name[0] == '.' || name[n - 1] == '~' ||
         strcmp(name, "__pycache__") == 0 ||
         strcmp(name, "node_modules") == 0 ||
         (n > 4 && strcmp(name + n - 4, ".pyc") == 0);
}

static void retire_idle(lk_fn_t *fn) {
  lk_instance_t *in;

  for (in = fn->instances; in; in = in->next)
    if (in->state == INST_IDLE)
      lk_instance_stop_idle(in);
}

static void on_settle(uv_timer_t *t) {
  lk_watch_t *w = t->data;
  lk_fn_t *fn = w->fn;
  char err[1024];

  fn->gen++;
  lk_rt_sam_build(fn); /* package.json, requirements.txt, TypeScript */
  if (fn->def->kind == LK_RT_C && lk_rt_rebuild(fn, err, sizeof(err)) != 0)
    fprintf(stderr, "lambkin: %s; instances keep the last build\n", err);
  else
    fprintf(stderr, "lambkin: %s: code changed; the next invocation runs it\n",
            fn->def->name);
  retire_idle(fn);
}

static void add_tree(lk_watch_t *w, uv_loop_t *loop, const char *dir,
                     int depth);

/* A folder made (or moved in) under a watched one is watched too. */
static void watch_new_dir(lk_watch_t *w, uv_fs_event_t *h, const char *name) {
  char dir[PATH_MAX], sub[PATH_MAX];
  size_t n = sizeof(dir);
  struct stat st;
  int i;

  if (uv_fs_event_getpath(h, dir, &n) != 0 ||
      lk_path_join(sub, sizeof(sub), dir, name) != 0 || lstat(sub, &st) != 0 ||
      !S_ISDIR(st.st_mode))
    return;
  for (i = 0; i < w->n; i++) {
    n = sizeof(dir);
    if (uv_fs_event_getpath(w->dirs[i], dir, &n) == 0 && strcmp(dir, sub) == 0)
      return; /* watched already */
  }
  add_tree(w, h->loop, sub, 1);
}

static void on_change(uv_fs_event_t *h, const char *name, int events,
                      int status) {
  lk_watch_t *w = h->data;

  if (status != 0 || ignored(name) || w->fn->rt->closing)
    return;
  if (events & UV_RENAME)
    watch_new_dir(w, h, name);
  uv_timer_start(&w->settle, on_settle, SETTLE_MS, 0);
}

static void add_dir(lk_watch_t *w, uv_loop_t *loop, const char *dir) {
  uv_fs_event_t *h;

  if (w->n == WATCH_DIRS_MAX)
    return;
  h = lk_xcalloc(1, sizeof(*h));
  uv_fs_event_init(loop, h);
  h->data = w;
  if (uv_fs_event_start(h, on_change, dir, 0) != 0) {
    uv_close((uv_handle_t *)h, lk_free_handle);
    return;
  }
  uv_unref((uv_handle_t *)h);
  w->dirs[w->n++] = h;
}

/* dir and the folders below it, breadth first to the bounds. */
static void add_tree(lk_watch_t *w, uv_loop_t *loop, const char *dir,
                     int depth) {
  char sub[PATH_MAX];
  struct dirent *e;
  struct stat st;
  DIR *d;

  add_dir(w, loop, dir);
  d = depth < WATCH_DEPTH ? opendir(dir) : NULL;
  for (e = d ? readdir(d) : NULL; e && w->n < WATCH_DIRS_MAX; e = readdir(d))
    if (!ignored(e->d_name) &&
        lk_path_join(sub, sizeof(sub), dir, e->d_name) == 0 &&
        lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
      add_tree(w, loop, sub, depth + 1);
  if (d)
    closedir(d);
}

void lk_rt_watch_start(lk_fn_t *fn) {
  lk_watch_t *w;

  if (fn->def->unrunnable || fn->watch)
    return;
  w = lk_xcalloc(1, sizeof(*w));
  w->fn = fn;
  uv_timer_init(fn->rt->loop, &w->settle);
  w->settle.data = w;
  uv_unref((uv_handle_t *)&w->settle);
  add_tree(w, fn->rt->loop, fn->def->code_dir, 0);
  fn->watch = w;
}

static void on_closed(uv_handle_t *h) {
  lk_watch_t *w = h->data;

  if (h->type == UV_FS_EVENT)
    free(h);
  if (--w->open == 0)
    free(w);
}

void lk_rt_watch_stop(lk_fn_t *fn) {
  lk_watch_t *w = fn->watch;
  int i;

  if (w == NULL)
    return;
  fn->watch = NULL;
  w->open = w->n + 1;
  for (i = 0; i < w->n; i++)
    uv_close((uv_handle_t *)w->dirs[i], on_closed);
  uv_close((uv_handle_t *)&w->settle, on_closed);
}
