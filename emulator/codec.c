/* Encodings shared by the wire protocols (see codec.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include <cjson/cJSON.h>

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
  int err = 0;

  for (i = 0; i < n && err == 0; i++) {
    char c = in[i];

    if (c == '%' && i + 2 < n && lk_hexval(in[i + 1]) >= 0 &&
        lk_hexval(in[i + 2]) >= 0) {
      c = (char)(lk_hexval(in[i + 1]) * 16 + lk_hexval(in[i + 2]));
      i += 2;
    } else if (c == '+' && form) {
      c = ' ';
    }
    err = lk_buf_add(out, &c, 1);
  }
  return err;
}

int lk_url_encode(lk_buf_t *out, const char *in, size_t n, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  int err = 0;

  for (i = 0; i < n && err == 0; i++) {
    unsigned char c = (unsigned char)in[i];

    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~' || (c == '/' && keep_slash)) {
      err = lk_buf_add(out, &in[i], 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};

      err = lk_buf_add(out, e, 3);
    }
  }
  return err;
}

int lk_b64_encode(lk_buf_t *out, const void *data, size_t n) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *in = data;
  size_t i;
  int err = 0;

  for (i = 0; i < n && err == 0; i += 3) {
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
    err = lk_buf_add(out, q, 4);
  }
  return err;
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
  int bits = 0, err = 0;
  size_t i;

  for (i = 0; i < n && err == 0; i++) {
    int d;

    if (in[i] == '=' || in[i] == '\r' || in[i] == '\n')
      continue;
    d = b64val(in[i]);
    if (d < 0)
      return LK_EINVAL;
    v = (v << 6) | (unsigned)d;
    bits += 6;
    if (bits >= 8) {
      char c = (char)((v >> (bits - 8)) & 0xff);

      bits -= 8;
      err = lk_buf_add(out, &c, 1);
    }
  }
  return err;
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
  int err = 0;

  for (i = 0; i < n && err == 0; i++) {
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
    err = lk_buf_add(out, s + run, i - run);
    if (err == 0)
      err = lk_buf_adds(out, rep);
    run = i + 1;
  }
  if (err == 0)
    err = lk_buf_add(out, s + run, n - run);
  return err;
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
  int err = 0;

  while (i < n && err == 0) {
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
    err = lk_buf_add(out, &c, 1);
    i += used ? used : 1;
  }
  return err;
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
  int rc, err = 0;

  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return LK_ENOMEM;
  z.next_in = (unsigned char *)(uintptr_t)data;
  z.avail_in = (uInt)n;
  do {
    z.next_out = chunk;
    z.avail_out = sizeof(chunk);
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_ERROR) {
      err = LK_EIO;
      break;
    }
    err = lk_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
  } while (err == 0 && rc != Z_STREAM_END);
  deflateEnd(&z);
  return err;
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

int lk_mkdirs(const char *path) {
  char tmp[4096], *p;

  if (strlen(path) >= sizeof(tmp))
    return -1;
  snprintf(tmp, sizeof(tmp), "%s", path);
  for (p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

int lk_write_file_atomic(const char *path, const void *data, size_t n) {
  char tmp[4200];
  const char *p = data;
  int fd, err = 0;

  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return LK_EIO;
  while (n && err == 0) {
    ssize_t w = write(fd, p, n);

    if (w <= 0)
      err = LK_EIO;
    else {
      p += w;
      n -= (size_t)w;
    }
  }
  if (fsync(fd) != 0)
    err = err ? err : LK_EIO;
  close(fd);
  if (err == 0 && rename(tmp, path) != 0)
    err = LK_EIO;
  if (err)
    unlink(tmp);
  return err;
}

char *lk_read_file(const char *path, size_t max, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf = NULL;
  size_t got = 0;

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) == 0 && (size_t)st.st_size <= max)
    buf = malloc((size_t)st.st_size + 1);
  while (buf && got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

    if (r <= 0) {
      free(buf);
      buf = NULL;
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  if (buf) {
    buf[got] = '\0';
    *len = got;
  }
  return buf;
}

int lk_save_json(const char *path, const cJSON *root) {
  char *text = cJSON_PrintUnformatted(root);
  int err = text ? lk_write_file_atomic(path, text, strlen(text)) : LK_ENOMEM;

  free(text);
  return err;
}

int lk_load_json(const char *path, cJSON **out) {
  size_t len;
  char *text = lk_read_file(path, (size_t)4 << 30, &len);

  *out = NULL;
  if (text == NULL)
    return LK_ENOENT;
  *out = cJSON_ParseWithLength(text, len);
  free(text);
  return *out ? 0 : LK_EINVAL;
}

int lk_gunzip(lk_buf_t *out, const void *data, size_t n) {
  z_stream z;
  unsigned char chunk[16384];
  int rc = Z_OK, err = 0;

  memset(&z, 0, sizeof(z));
  if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
    return LK_ENOMEM;
  z.next_in = (unsigned char *)(uintptr_t)data;
  z.avail_in = (uInt)n;
  while (err == 0 && rc != Z_STREAM_END) {
    z.next_out = chunk;
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      err = LK_EINVAL;
      break;
    }
    err = lk_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
      err = LK_EINVAL; /* truncated */
  }
  inflateEnd(&z);
  return err;
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
