/* Encodings shared by the wire protocols (see codec.h). A codec that
 * meets bad input fails its output buffer, so nothing half-decoded is
 * used by a caller that did not look at the result. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "codec.h"
#include "lambkin/lambkin.h"

int lk_hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int lk_url_decode(lk_buf_t *out, const char *in, size_t n, int form) {
  size_t i;

  for (i = 0; i < n && lk_buf_error(out) == 0; i++) {
    char c = in[i];

    if (c == '%' && i + 2 < n && lk_hexval(in[i + 1]) >= 0 &&
        lk_hexval(in[i + 2]) >= 0) {
      c = (char)(lk_hexval(in[i + 1]) * 16 + lk_hexval(in[i + 2]));
      i += 2;
    } else if (c == '+' && form) {
      c = ' ';
    }
    lk_buf_add(out, &c, 1);
  }
  return lk_buf_error(out);
}

int lk_form_get(const char *src, size_t len, const char *key, char *out,
                size_t cap) {
  size_t k = strlen(key), i = 0;

  while (i < len) {
    const char *amp = memchr(src + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - src) : len;

    if (end - i > k && src[i + k] == '=' && memcmp(src + i, key, k) == 0) {
      lk_buf_t b;

      /* decoded, it is never longer than it is encoded */
      lk_buf_init(&b, end - i - k);
      lk_url_decode(&b, src + i + k + 1, end - i - k - 1, 1);
      snprintf(out, cap, "%s", b.data ? b.data : "");
      lk_buf_free(&b);
      return 1;
    }
    i = end + 1;
  }
  return 0;
}

int lk_url_encode(lk_buf_t *out, const char *in, size_t n, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;

  for (i = 0; i < n && lk_buf_error(out) == 0; i++) {
    unsigned char c = (unsigned char)in[i];

    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~' || (c == '/' && keep_slash)) {
      lk_buf_add(out, &in[i], 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};

      lk_buf_add(out, e, 3);
    }
  }
  return lk_buf_error(out);
}

int lk_b64_encode(lk_buf_t *out, const void *data, size_t n) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *in = data;
  size_t i;

  for (i = 0; i < n && lk_buf_error(out) == 0; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    char q[4];

    if (i + 1 < n)
      v |= (unsigned)in[i + 1] << 8;
    if (i + 2 < n)
      v |= in[i + 2];
    q[0] = tbl[(v >> 18) & 63];
    q[1] = tbl[(v >> 12) & 63];
    q[2] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    q[3] = i + 2 < n ? tbl[v & 63] : '=';
    lk_buf_add(out, q, 4);
  }
  return lk_buf_error(out);
}

static int b64val(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || c == '-')
    return 62;
  if (c == '/' || c == '_')
    return 63;
  return -1;
}

int lk_b64_decode(lk_buf_t *out, const char *in, size_t n) {
  unsigned v = 0;
  int bits = 0;
  size_t i;

  for (i = 0; i < n && lk_buf_error(out) == 0; i++) {
    int d;

    if (in[i] == '=' || in[i] == '\r' || in[i] == '\n')
      continue;
    d = b64val(in[i]);
    if (d < 0)
      return lk_buf_fail(out, LK_EINVAL);
    v = (v << 6) | (unsigned)d;
    bits += 6;
    if (bits >= 8) {
      char c = (char)((v >> (bits - 8)) & 0xff);

      bits -= 8;
      lk_buf_add(out, &c, 1);
    }
  }
  return lk_buf_error(out);
}

void lk_md5_hex(const void *data, size_t n, char out[33]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;

  EVP_Digest(data, n, md, &len, EVP_md5(), NULL);
  for (i = 0; i < len && i < 16; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  out[32] = '\0';
}

int lk_xml_escape(lk_buf_t *out, const char *s, size_t n) {
  size_t i, run = 0;

  for (i = 0; i < n && lk_buf_error(out) == 0; i++) {
    const char *rep = NULL;

    switch (s[i]) {
    case '&':
      rep = "&amp;";
      break;
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '"':
      rep = "&quot;";
      break;
    case '\'':
      rep = "&apos;";
      break;
    case '\r':
      rep = "&#13;";
      break;
    default:
      break;
    }
    if (rep == NULL)
      continue;
    lk_buf_add(out, s + run, i - run);
    lk_buf_adds(out, rep);
    run = i + 1;
  }
  return lk_buf_add(out, s + run, n - run);
}

int lk_xml_unescape(lk_buf_t *out, const char *s, size_t n) {
  static const struct {
    const char *ent;
    char c;
  } ents[] = {{"&amp;", '&'},
              {"&lt;", '<'},
              {"&gt;", '>'},
              {"&quot;", '"'},
              {"&apos;", '\''}};
  size_t i = 0;

  while (i < n && lk_buf_error(out) == 0) {
    size_t k, used = 0;
    char c = s[i];

    if (s[i] == '&') {
      for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
        size_t el = strlen(ents[k].ent);

        if (n - i >= el && memcmp(s + i, ents[k].ent, el) == 0) {
          c = ents[k].c;
          used = el;
          break;
        }
      }
      if (used == 0 && n - i > 3 && s[i + 1] == '#') {
        const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
        unsigned long v = 0;
        const char *p = s + i + 2;
        int hexa = *p == 'x';

        if (hexa)
          p++;
        for (; semi && p < semi; p++) {
          int d =
              hexa ? lk_hexval(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);

          if (d < 0 || v > 0x10FFFF)
            break;
          v = v * (hexa ? 16 : 10) + (unsigned long)d;
        }
        if (semi && p == semi && v < 128) {
          c = (char)v;
          used = (size_t)(semi - (s + i)) + 1;
        }
      }
    }
    lk_buf_add(out, &c, 1);
    i += used ? used : 1;
  }
  return lk_buf_error(out);
}

const char *lk_xml_next(const char **cursor, const char *end, const char *tag,
                        size_t *len) {
  char open[80], close[80];
  size_t ol, cl;
  const char *p = *cursor;

  ol = (size_t)snprintf(open, sizeof(open), "<%s", tag);
  cl = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
  for (; p && p + ol < end; p++) {
    const char *body, *stop;

    p = memchr(p, '<', (size_t)(end - p));
    if (p == NULL || (size_t)(end - p) <= ol) /* p[ol] must be inside */
      return NULL;
    if (memcmp(p, open, ol) != 0 ||
        (p[ol] != '>' && p[ol] != ' ' && p[ol] != '/'))
      continue;
    body = memchr(p, '>', (size_t)(end - p));
    if (body == NULL)
      return NULL;
    body++;
    if (body[-2] == '/') { /* <Tag/> */
      *cursor = body;
      *len = 0;
      return body;
    }
    for (stop = body; stop + cl <= end; stop++)
      if (memcmp(stop, close, cl) == 0) {
        *cursor = stop + cl;
        *len = (size_t)(stop - body);
        return body;
      }
    return NULL;
  }
  return NULL;
}

int lk_gzip(lk_buf_t *out, const void *data, size_t n) {
  z_stream z;
  unsigned char chunk[16384];
  int rc;

  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return lk_buf_fail(out, LK_ENOMEM);
  z.next_in = (unsigned char *)(uintptr_t)data;
  z.avail_in = (uInt)n;
  do {
    z.next_out = chunk;
    z.avail_out = sizeof(chunk);
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_ERROR)
      lk_buf_fail(out, LK_EIO);
    else
      lk_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
  } while (lk_buf_error(out) == 0 && rc != Z_STREAM_END);
  deflateEnd(&z);
  return lk_buf_error(out);
}

int lk_utf8_valid(const void *data, size_t n) {
  const unsigned char *s = data;
  size_t i = 0;

  while (i < n) {
    unsigned char c = s[i];
    size_t k, len = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    if (len == 0 || i + len > n || c == 0)
      return 0;
    for (k = 1; k < len; k++)
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
    i += len;
  }
  return 1;
}

int lk_parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  long v;

  if (s == NULL || *s == '\0')
    return LK_EINVAL;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return LK_EINVAL;
  *out = v;
  return 0;
}

int lk_gunzip(lk_buf_t *out, const void *data, size_t n) {
  z_stream z;
  unsigned char chunk[16384];
  int rc = Z_OK;

  memset(&z, 0, sizeof(z));
  if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
    return lk_buf_fail(out, LK_ENOMEM);
  z.next_in = (unsigned char *)(uintptr_t)data;
  z.avail_in = (uInt)n;
  while (lk_buf_error(out) == 0 && rc != Z_STREAM_END) {
    z.next_out = chunk;
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      lk_buf_fail(out, LK_EINVAL);
      break;
    }
    lk_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
      lk_buf_fail(out, LK_EINVAL); /* truncated */
  }
  inflateEnd(&z);
  return lk_buf_error(out);
}

size_t lk_utf8_repair(char *s, size_t n) {
  size_t i = 0, fixed = 0;

  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    size_t k, len = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    int ok = len > 0 && i + len <= n && c != 0;

    for (k = 1; ok && k < len; k++)
      ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
    if (ok) {
      i += len;
    } else {
      s[i++] = '?';
      fixed++;
    }
  }
  return fixed;
}
