/* Growable byte buffer with a hard ceiling (curl's dynbuf). The buffer
 * owns its bytes; lk_buf_free() releases them.
 * A buffer fails as a whole: an append past the ceiling frees what it
 * held, records LK_E2BIG, and turns every later append into a no-op that
 * returns the same error. So a caller may chain appends and check once,
 * with lk_buf_error() (or the last append's result), and an ignored
 * error leaves an empty buffer, never half a document. lk_buf_reset()
 * makes a failed buffer usable again. Memory never runs out here: it
 * aborts (mem.h). */
#ifndef LK_BUF_H
#define LK_BUF_H

#include <stddef.h>

typedef struct lk_buf {
  char *data; /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  size_t max;
  int err; /* the first failure, or 0 */
} lk_buf_t;

void lk_buf_init(lk_buf_t *b, size_t max);
void lk_buf_free(lk_buf_t *b);
/* Empties the buffer (keeping its room) and clears a failure. */
void lk_buf_reset(lk_buf_t *b);
int lk_buf_add(lk_buf_t *b, const void *p, size_t n);
int lk_buf_adds(lk_buf_t *b, const char *s);
int lk_buf_printf(lk_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int lk_buf_add_json_str(lk_buf_t *b, const char *s, size_t n);
/* Fails the buffer as an overflow would, with err (a codec that meets
 * bad input fails its output so); returns err. */
int lk_buf_fail(lk_buf_t *b, int err);
/* 0, or the failure every append since the last reset returns. */
int lk_buf_error(const lk_buf_t *b);
/* The contents as a C string: "" for an empty or failed buffer. */
const char *lk_buf_str(const lk_buf_t *b);
/* Bytes that can still be appended before the ceiling. */
size_t lk_buf_room(const lk_buf_t *b);
/* Hands the bytes to the caller (free() them); the buffer is empty after.
 * NULL when the buffer failed. */
char *lk_buf_steal(lk_buf_t *b, size_t *len);

/* Copies src into dst[size], cut to fit and always NUL-terminated: what
 * snprintf(dst, size, "%s", src) does, without parsing a format on paths
 * that run for every invocation. Returns strlen(src). */
size_t lk_str_copy(char *dst, size_t size, const char *src);

#endif
