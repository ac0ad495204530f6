/* What the sample C handlers read from an S3 notification event: the
 * object key (URL-decoded, '+' is a space) and the bucket name. A
 * string search, as small handlers do; not a JSON parser. */
#ifndef S3EVENT_H
#define S3EVENT_H

#include <stddef.h>
#include <string.h>

static inline int s3event_hex(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The S3 key, URL-decoded, into out; 0 if none. */
static inline int s3_key(const char *payload, char *out, size_t cap) {
  const char *k = strstr(payload, "\"key\":\"");
  size_t o = 0;

  if (k == NULL)
    return 0;
  for (k += 7; *k && *k != '"' && o + 1 < cap; k++) {
    if (*k == '%' && s3event_hex(k[1]) >= 0 && s3event_hex(k[2]) >= 0) {
      out[o++] = (char)(s3event_hex(k[1]) * 16 + s3event_hex(k[2]));
      k += 2;
    } else {
      out[o++] = *k == '+' ? ' ' : *k;
    }
  }
  out[o] = '\0';
  return 1;
}

/* The bucket's name into out; 0 if none. */
static inline int s3_bucket(const char *payload, char *out, size_t cap) {
  const char *b = strstr(payload, "\"bucket\":{\"name\":\"");
  size_t o = 0;

  if (b == NULL)
    return 0;
  for (b += 18; *b && *b != '"' && o + 1 < cap; b++)
    out[o++] = *b;
  out[o] = '\0';
  return 1;
}

#endif
