/* Growable byte buffer with a hard ceiling. See buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lambkin/lambkin.h"
#include "mem.h"

void lk_buf_init(lk_buf_t *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
  b->err = 0;
}

void lk_buf_free(lk_buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->err = 0;
}

void lk_buf_reset(lk_buf_t *b) {
  b->len = 0;
  b->err = 0;
  if (b->data)
    b->data[0] = '\0';
}

/* The whole buffer goes: nothing half-written can be used by mistake. */
int lk_buf_fail(lk_buf_t *b, int err) {
  if (b->err)
    return b->err; /* the first failure is the one to report */
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->err = err;
  return err;
}

/* Room for need bytes and a NUL. */
static void grow(lk_buf_t *b, size_t need) {
  size_t cap;

  if (need + 1 <= b->cap)
    return;
  cap = b->cap ? b->cap : 64;
  while (cap < need + 1)
    cap *= 2;
  if (cap > b->max + 1)
    cap = b->max + 1;
  b->data = lk_xrealloc(b->data, cap);
  b->cap = cap;
}

int lk_buf_add(lk_buf_t *b, const void *p, size_t n) {
  if (b->err)
    return b->err;
  if (n > b->max - b->len)
    return lk_buf_fail(b, LK_E2BIG);
  grow(b, b->len + n);
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int lk_buf_adds(lk_buf_t *b, const char *s) {
  return lk_buf_add(b, s, strlen(s));
}

/* Formats straight into the spare room first; only output that does not
 * fit is formatted a second time, into a grown buffer. */
int lk_buf_printf(lk_buf_t *b, const char *fmt, ...) {
  va_list ap;
  size_t room;
  int n;

  if (b->err)
    return b->err;
  room = b->cap > b->len ? b->cap - b->len : 0;
  va_start(ap, fmt);
  n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n < 0)
    return lk_buf_fail(b, LK_EINVAL);
  if ((size_t)n > b->max - b->len)
    return lk_buf_fail(b, LK_E2BIG);
  if ((size_t)n >= room) {
    grow(b, b->len + (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
  return 0;
}

int lk_buf_add_json_str(lk_buf_t *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, start = 0;

  lk_buf_add(b, "\"", 1);
  for (i = 0; i < n && b->err == 0; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t elen = 2;

    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    lk_buf_add(b, s + start, i - start);
    start = i + 1;
    switch (c) {
    case '"':
      esc[1] = '"';
      break;
    case '\\':
      esc[1] = '\\';
      break;
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      elen = 6;
    }
    lk_buf_add(b, esc, elen);
  }
  lk_buf_add(b, s + start, n - start);
  return lk_buf_add(b, "\"", 1);
}

int lk_buf_error(const lk_buf_t *b) {
  return b->err;
}

const char *lk_buf_str(const lk_buf_t *b) {
  return b->data ? b->data : "";
}

size_t lk_buf_room(const lk_buf_t *b) {
  return b->err ? 0 : b->max - b->len;
}

char *lk_buf_steal(lk_buf_t *b, size_t *len) {
  char *p = b->data;

  if (len)
    *len = b->len;
  if (b->err) {
    lk_buf_free(b);
    if (len)
      *len = 0;
    return NULL;
  }
  if (p == NULL)
    p = lk_xcalloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

size_t lk_str_copy(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);

  if (size) {
    size_t k = n < size ? n : size - 1;

    memcpy(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}
