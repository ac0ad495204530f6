/* Allocation that aborts on out of memory (see mem.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mem.h"

static void oom(size_t n) {
  fprintf(stderr, "lambkin: out of memory allocating %zu bytes\n", n);
  fflush(stderr);
  abort();
}

void *lk_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);

  if (p == NULL)
    oom(n);
  return p;
}

void *lk_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);

  if (p == NULL)
    oom(n * size);
  return p;
}

void *lk_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);

  if (q == NULL)
    oom(n);
  return q;
}

char *lk_xstrdup(const char *s) {
  return lk_xstrndup(s, strlen(s));
}

char *lk_xstrndup(const char *s, size_t n) {
  char *p;

  n = strnlen(s, n);
  p = lk_xmalloc(n + 1);

  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *lk_xvasprintf(const char *fmt, va_list ap) {
  char *out;

  if (vasprintf(&out, fmt, ap) < 0)
    oom(strlen(fmt));
  return out;
}

char *lk_xasprintf(const char *fmt, ...) {
  va_list ap;
  char *out;

  va_start(ap, fmt);
  out = lk_xvasprintf(fmt, ap);
  va_end(ap);
  return out;
}

void lk_free_handle(struct uv_handle_s *h) {
  free(h);
}

void lk_mem_json_hooks(void) {
  static cJSON_Hooks hooks = {lk_xmalloc, free};

  cJSON_InitHooks(&hooks);
}

/* Before main(): every cJSON call of the process goes through lk_xmalloc.
 * This file is always linked, since the buffers allocate through it. */
__attribute__((constructor)) static void install_json_hooks(void) {
  lk_mem_json_hooks();
}
