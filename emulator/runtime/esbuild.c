/* TypeScript as sam build makes it: a function of Metadata BuildMethod
 * esbuild is bundled by the esbuild that `make deps` installs, with the
 * BuildProperties sam build passes on, into <state>/build/<name>-<hash
 * of its CodeUri>/, which the function then runs from. The folder's path
 * (fn->built_dir) belongs to the function. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

#define ESBUILD_SECONDS 300
#define ARGS_MAX 256
#define BUNDLE_FILES_MAX 10000
#define BUNDLE_FILE_MAX (256u << 20) /* Lambda's unzipped limit */

typedef struct args {
  char *v[ARGS_MAX + 1];
  int n;
} args_t;

static void add(args_t *a, char *s) {
  if (a->n < ARGS_MAX)
    a->v[a->n++] = s;
  else
    free(s);
}

static const cJSON *prop(const cJSON *props, const char *name) {
  return cJSON_GetObjectItemCaseSensitive(props, name);
}

/* A yes of YAML's, which may arrive as true or as "true". */
static int yes(const cJSON *j) {
  return cJSON_IsTrue(j) ||
         (cJSON_IsString(j) && strcasecmp(j->valuestring, "true") == 0);
}

/* "--flag:item" for each item of a list (or a lone string). */
static void each(args_t *a, const cJSON *list, const char *flag) {
  const cJSON *it;

  if (cJSON_IsString(list)) {
    add(a, lk_xasprintf("%s%s", flag, list->valuestring));
    return;
  }
  cJSON_ArrayForEach(it, list) if (cJSON_IsString(it))
      add(a, lk_xasprintf("%s%s", flag, it->valuestring));
}

/* "--flag=value" with the property's text, or dflt. */
static void one(args_t *a, const cJSON *j, const char *flag, const char *dflt) {
  const cJSON *it;
  lk_buf_t b;

  if (cJSON_IsString(j)) {
    add(a, lk_xasprintf("%s=%s", flag, j->valuestring));
  } else if (cJSON_IsArray(j)) { /* MainFields as a list */
    lk_buf_init(&b, 4096);
    cJSON_ArrayForEach(it, j) if (cJSON_IsString(it))
        lk_buf_printf(&b, "%s%s", b.len ? "," : "", it->valuestring);
    add(a, lk_xasprintf("%s=%s", flag, lk_buf_str(&b)));
    lk_buf_free(&b);
  } else if (dflt) {
    add(a, lk_xasprintf("%s=%s", flag, dflt));
  }
}

/* The entry points, or the handler's module as a .ts (else .js) file. */
static void entries(args_t *a, const lk_function_t *def, const cJSON *list) {
  const char *dot = strrchr(def->handler, '.');
  char file[PATH_MAX], path[PATH_MAX];

  if (cJSON_GetArraySize(list) > 0 || cJSON_IsString(list)) {
    each(a, list, "");
    return;
  }
  snprintf(file, sizeof(file), "%.*s.ts", (int)(dot ? dot - def->handler : 0),
           def->handler);
  if (lk_path_join(path, sizeof(path), def->code_dir, file) != 0 ||
      access(path, R_OK) != 0)
    file[strlen(file) - 2] = 'j'; /* .ts -> .js */
  add(a, lk_xstrdup(file));
}

/* esbuild's command line for fn, output to outdir, as aws-lambda-
 * builders makes it: bundle for node, cjs and es2020 unless said. */
static void command(args_t *a, const char *exe, const lk_function_t *def,
                    const char *outdir) {
  const cJSON *props = prop(def->build, "BuildProperties");

  add(a, lk_xstrdup(exe));
  add(a, lk_xstrdup("--bundle"));
  add(a, lk_xstrdup("--platform=node"));
  add(a, lk_xasprintf("--outdir=%s", outdir));
  add(a, lk_xstrdup("--log-level=warning"));
  one(a, prop(props, "Format"), "--format", "cjs");
  one(a, prop(props, "Target"), "--target", "es2020");
  one(a, prop(props, "MainFields"), "--main-fields", NULL);
  one(a, prop(props, "Banner"), "--banner", NULL);
  one(a, prop(props, "Footer"), "--footer", NULL);
  if (yes(prop(props, "Minify")))
    add(a, lk_xstrdup("--minify"));
  if (yes(prop(props, "Sourcemap")))
    add(a, lk_xstrdup("--sourcemap"));
  each(a, prop(props, "External"), "--external:");
  each(a, prop(props, "Loader"), "--loader:");
  each(a, prop(props, "OutExtension"), "--out-extension:");
  entries(a, def, prop(props, "EntryPoints"));
}

/* Where the bundle goes: one folder per function and CodeUri. */
static int out_dir(const lk_fn_t *fn, char *out, size_t cap) {
  const char *code = fn->def->code_dir;
  char name[128];
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;

  for (i = 0; code[i]; i++) {
    h ^= (unsigned char)code[i];
    h *= 0x100000001b3ULL;
  }
  snprintf(name, sizeof(name), "build/%.64s-%016" PRIx64, fn->def->name, h);
  return lk_path_join(out, cap, fn->rt->opts.state_dir, name);
}

/* Entries of dir, to a bound; -1 when it cannot be read. */
static int count(const char *dir) {
  struct dirent *e;
  DIR *d = opendir(dir);
  int n = 0;

  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL && n < BUNDLE_FILES_MAX)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static int same_file(const char *a, const char *b) {
  size_t na, nb;
  char *x = lk_read_file(a, BUNDLE_FILE_MAX, &na);
  char *y = x ? lk_read_file(b, BUNDLE_FILE_MAX, &nb) : NULL;
  int same = y && na == nb && memcmp(x, y, na) == 0;

  free(x);
  free(y);
  return same;
}

/* 1 when folders a and b hold the same files, byte for byte. */
static int same_tree(const char *a, const char *b, int depth) {
  char pa[PATH_MAX], pb[PATH_MAX];
  struct stat sa, sb;
  struct dirent *e;
  DIR *d;
  int same = depth < 8 && count(a) >= 0 && count(a) == count(b);

  d = same ? opendir(a) : NULL;
  while (same && d && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    same = lk_path_join(pa, sizeof(pa), a, e->d_name) == 0 &&
           lk_path_join(pb, sizeof(pb), b, e->d_name) == 0 &&
           lstat(pa, &sa) == 0 && lstat(pb, &sb) == 0 &&
           (S_ISDIR(sa.st_mode)
                ? S_ISDIR(sb.st_mode) && same_tree(pa, pb, depth + 1)
                : S_ISREG(sa.st_mode) && S_ISREG(sb.st_mode) &&
                      sa.st_size == sb.st_size && same_file(pa, pb));
  }
  if (d)
    closedir(d);
  return same;
}

/* The new bundle in tmp takes dir's place whole; an instance started
 * before keeps the files it has open. A bundle there already that is
 * the same, byte for byte, stays: an instance of another lambkin on
 * the same state folder may be reading it. */
static int swap_in(const char *tmp, const char *dir) {
  char old[PATH_MAX];
  struct stat st;
  int rc = 0;

  if (same_tree(tmp, dir, 0)) {
    lk_remove_tree(tmp);
    return 0;
  }
  if ((size_t)snprintf(old, sizeof(old), "%s.old.%d", dir, (int)getpid()) >=
      sizeof(old))
    return -1;
  if (stat(dir, &st) == 0 && rename(dir, old) != 0 && errno != ENOENT)
    return -1;
  if (rename(tmp, dir) != 0) {
    rc = errno == ENOTEMPTY || errno == EEXIST ? 0 : -1;
    lk_remove_tree(tmp);
  }
  lk_remove_tree(old);
  return rc;
}

void lk_rt_esbuild(lk_fn_t *fn) {
  const lk_function_t *def = fn->def;
  char exe[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], sdk[PATH_MAX];
  char node_path[PATH_MAX * 2 + 2];
  args_t a = {{NULL}, 0};
  int i, ok = 0;

  if (lk_path_join(exe, sizeof(exe), lk_rt_runtime_dir(),
                   "node/build/node_modules/.bin/esbuild") != 0 ||
      access(exe, X_OK) != 0) {
    fprintf(stderr,
            "lambkin: warning: %s is built with esbuild, which is not "
            "installed (make deps installs it); it runs from its CodeUri\n",
            def->name);
    return;
  }
  if (out_dir(fn, dir, sizeof(dir)) != 0 ||
      (size_t)snprintf(tmp, sizeof(tmp), "%s.new.%d", dir, (int)getpid()) >=
          sizeof(tmp))
    return;
  lk_remove_tree(tmp);
  if (lk_mkdirs(tmp) != 0)
    return;
  /* Modules resolve from the code's node_modules, then what deps.c
   * installed, then the SDK the runtime provides (sam build would fail
   * on that one unless External; lambkin bundles it). */
  snprintf(node_path, sizeof(node_path), "%s%s%s",
           fn->deps_dir ? fn->deps_dir : "", fn->deps_dir ? ":" : "",
           lk_rt_node_sdk(def, sdk, sizeof(sdk)));
  command(&a, exe, def, tmp);
  ok = lk_rt_run_bounded(a.v, def->code_dir, node_path, ESBUILD_SECONDS) == 0 &&
       swap_in(tmp, dir) == 0;
  for (i = 0; i < a.n; i++)
    free(a.v[i]);
  if (!ok) {
    lk_remove_tree(tmp);
    fprintf(stderr,
            "lambkin: warning: esbuild could not bundle %s (above); it "
            "runs from %s\n",
            def->name, fn->built_dir ? "its last bundle" : "its CodeUri");
    return;
  }
  if (fn->built_dir == NULL)
    fn->built_dir = lk_xstrdup(dir);
}
