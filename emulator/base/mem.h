/* Allocation that cannot fail: out of memory ends the process with a
 * message (redis's zmalloc, h2o's h2o_mem_alloc). A half-built object
 * after a failed malloc is worse for an emulator than a clear stop, and
 * it spares every caller a check that was rarely right. cJSON allocates
 * through lk_xmalloc too, from the moment the library is loaded, so a
 * tree or a printed document is never silently missing. */
#ifndef LK_MEM_H
#define LK_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *lk_xmalloc(size_t n);
void *lk_xcalloc(size_t n, size_t size);
void *lk_xrealloc(void *p, size_t n);
char *lk_xstrdup(const char *s);
char *lk_xstrndup(const char *s, size_t n);
/* A new string, printf-style; the caller frees it. */
char *lk_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *lk_xvasprintf(const char *fmt, va_list ap);
/* A uv_close callback for a handle allocated on its own: free() itself
 * has another type, and calling it through a cast is undefined. */
struct uv_handle_s;
void lk_free_handle(struct uv_handle_s *h);
/* Points cJSON at lk_xmalloc again (a fuzz driver that swapped in an
 * arena for its own trees calls this when it is done). */
void lk_mem_json_hooks(void);

#endif
