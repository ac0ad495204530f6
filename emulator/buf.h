/* Growable byte buffer with a hard ceiling (curl's dynbuf).
 * The buffer owns its bytes; lk_buf_free() releases them. Appending past
 * the ceiling fails with LK_E2BIG and leaves the contents unchanged. */
#ifndef LK_BUF_H
#define LK_BUF_H

#include <stddef.h>

typedef struct lk_buf {
  char *data; /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  size_t max;
} lk_buf_t;

void lk_buf_init(lk_buf_t *b, size_t max);
void lk_buf_free(lk_buf_t *b);
void lk_buf_reset(lk_buf_t *b);
int lk_buf_add(lk_buf_t *b, const void *p, size_t n);
int lk_buf_adds(lk_buf_t *b, const char *s);
int lk_buf_printf(lk_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int lk_buf_add_json_str(lk_buf_t *b, const char *s, size_t n);
/* Hands the bytes to the caller (free() them); the buffer is empty after. */
char *lk_buf_steal(lk_buf_t *b, size_t *len);

/* Copies src into dst[size], cut to fit and always NUL-terminated: what
 * snprintf(dst, size, "%s", src) does, without parsing a format on paths
 * that run for every invocation. Returns strlen(src). */
size_t lk_str_copy(char *dst, size_t size, const char *src);

#endif
