/* SigV4 verification (see sigv4.h), after "Authenticating Requests (AWS
 * Signature Version 4)" in the S3 API reference: the canonical request,
 * the string to sign, the signing key derived from the secret and the
 * credential scope, and for aws-chunked bodies the chained chunk
 * signatures. The canonical request is rebuilt from the request as it
 * arrived: S3 signs the path as sent, the other services sign it
 * percent-encoded once more, as the SDKs do. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "codec.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define EMPTY_SHA256                                                           \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CANONICAL_MAX (4 * 1024 * 1024) /* a head, encoded: ample */
#define MAX_PARAMS 256

/* ---- hashing ---- */

static void to_hex(const unsigned char *d, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < n; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t n, char out[65]) {
  unsigned char md[32];
  unsigned int len = 0;

  EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
  to_hex(md, 32, out);
}

static void hmac(const unsigned char *key, size_t klen, const char *data,
                 size_t n, unsigned char out[32]) {
  unsigned int len = 32;

  HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, n, out, &len);
}

/* The signing key of secret for a scope "date/region/service/aws4_request". */
static int signing_key(const char *secret, const char *scope,
                       unsigned char out[32]) {
  char parts[4][64], k0[256];
  const char *p = scope;
  int i;

  for (i = 0; i < 4; i++) {
    size_t n = strcspn(p, "/");

    if (n == 0 || n >= sizeof(parts[i]))
      return -1;
    memcpy(parts[i], p, n);
    parts[i][n] = '\0';
    p += n + (p[n] == '/');
  }
  if (*p || strcmp(parts[3], "aws4_request") != 0 ||
      snprintf(k0, sizeof(k0), "AWS4%s", secret) >= (int)sizeof(k0))
    return -1;
  hmac((const unsigned char *)k0, strlen(k0), parts[0], strlen(parts[0]), out);
  for (i = 1; i < 4; i++)
    hmac(out, 32, parts[i], strlen(parts[i]), out);
  return 0;
}

/* hex(HMAC(key, string_to_sign)) == want, in constant time. */
static int signature_is(const unsigned char key[32], const char *sts, size_t n,
                        const char *want) {
  unsigned char mac[32];
  char hex[65];

  hmac(key, 32, sts, n, mac);
  to_hex(mac, 32, hex);
  return strlen(want) == 64 && CRYPTO_memcmp(hex, want, 64) == 0;
}

/* ---- parsing ---- */

/* The value of name=... in a comma-separated Authorization header. */
static int auth_field(const char *auth, const char *name, char *out,
                      size_t cap) {
  const char *p = strstr(auth, name);
  size_t n;

  if (p == NULL)
    return -1;
  p += strlen(name);
  n = strcspn(p, ", ");
  if (n == 0 || n >= cap)
    return -1;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}

/* The decoded value of a query parameter into out; -1 when absent. */
static int query_param(const char *query, const char *name, char *out,
                       size_t cap) {
  size_t nl = strlen(name);
  const char *p = query;

  while (p && *p) {
    size_t n = strcspn(p, "&");

    if (n > nl && p[nl] == '=' && strncmp(p, name, nl) == 0) {
      lk_buf_t b;
      int rc;

      lk_buf_init(&b, cap - 1);
      rc = lk_url_decode(&b, p + nl + 1, n - nl - 1, 0);
      if (rc == 0)
        snprintf(out, cap, "%s", lk_buf_str(&b));
      lk_buf_free(&b);
      return rc == 0 ? 0 : -1;
    }
    p = p[n] ? p + n + 1 : NULL;
  }
  return -1;
}

/* "KEY/scope" into s->key and s->scope, and the scope's service. */
static int credential(const char *cred, lk_sigv4_t *s) {
  const char *slash = strchr(cred, '/'), *svc;
  size_t n;

  if (slash == NULL || (size_t)(slash - cred) >= sizeof(s->key) ||
      strlen(slash + 1) >= sizeof(s->scope))
    return -1;
  memcpy(s->key, cred, (size_t)(slash - cred));
  s->key[slash - cred] = '\0';
  snprintf(s->scope, sizeof(s->scope), "%s", slash + 1);
  svc = strchr(s->scope, '/') ? strchr(strchr(s->scope, '/') + 1, '/') : NULL;
  if (svc == NULL)
    return -1;
  n = strcspn(svc + 1, "/");
  if (n == 0 || n >= sizeof(s->service))
    return -1;
  memcpy(s->service, svc + 1, n);
  s->service[n] = '\0';
  return 0;
}

static int parse_header_form(const lk_http_req_t *req, const char *auth,
                             lk_sigv4_t *s) {
  const char *date = lk_http_header(req, "X-Amz-Date");
  char cred[512];

  if (!date)
    date = lk_http_header(req, "Date");
  if (auth_field(auth, "Credential=", cred, sizeof(cred)) ||
      credential(cred, s) ||
      auth_field(auth, "SignedHeaders=", s->signed_headers,
                 sizeof(s->signed_headers)) ||
      auth_field(auth, "Signature=", s->signature, sizeof(s->signature)) ||
      date == NULL || strlen(date) != 16)
    return LK_EINVAL;
  memcpy(s->date, date, 17);
  return 0;
}

static int parse_query_form(const lk_http_req_t *req, lk_sigv4_t *s) {
  char cred[512], expires[32] = "0";

  if (query_param(req->query, "X-Amz-Credential", cred, sizeof(cred)) ||
      credential(cred, s) ||
      query_param(req->query, "X-Amz-Date", s->date, sizeof(s->date)) ||
      strlen(s->date) != 16 ||
      query_param(req->query, "X-Amz-SignedHeaders", s->signed_headers,
                  sizeof(s->signed_headers)) ||
      query_param(req->query, "X-Amz-Signature", s->signature,
                  sizeof(s->signature)))
    return LK_EINVAL;
  query_param(req->query, "X-Amz-Expires", expires, sizeof(expires));
  s->expires = strtol(expires, NULL, 10);
  s->presigned = 1;
  return 0;
}

int lk_sigv4_parse(const lk_http_req_t *req, lk_sigv4_t *s) {
  const char *auth = lk_http_header(req, "Authorization");
  char algo[64];

  memset(s, 0, sizeof(*s));
  if (auth && strncmp(auth, ALGORITHM " ", sizeof(ALGORITHM)) == 0)
    return parse_header_form(req, auth, s);
  if (auth)
    return strncmp(auth, "AWS4-", 5) == 0 ? LK_EINVAL : LK_ENOENT;
  if (query_param(req->query, "X-Amz-Algorithm", algo, sizeof(algo)) != 0)
    return LK_ENOENT;
  return strcmp(algo, ALGORITHM) == 0 ? parse_query_form(req, s) : LK_EINVAL;
}

/* ---- the canonical request ---- */

/* Percent-encodes all but RFC 3986's unreserved bytes (and '/' when
 * keep_slash), with upper-case hex, as SigV4 wants. */
static void uri_encode(lk_buf_t *b, const char *s, size_t n, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;

  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];

    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      lk_buf_add(b, (const char *)&c, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};

      lk_buf_add(b, e, 3);
    }
  }
}

static void canonical_uri(lk_buf_t *b, const lk_http_req_t *req,
                          const lk_sigv4_t *s) {
  const char *path = req->path[0] ? req->path : "/";

  if (strcmp(s->service, "s3") == 0)
    lk_buf_adds(b, path); /* S3 signs the path as the client sent it */
  else
    uri_encode(b, path, strlen(path), 1);
}

typedef struct param {
  char *key, *value; /* both encoded */
} param_t;

static int by_param(const void *a, const void *b) {
  const param_t *x = a, *y = b;
  int c = strcmp(x->key, y->key);

  return c ? c : strcmp(x->value, y->value);
}

/* Decodes s[0..n) and encodes it the canonical way; a new string. */
static char *recode(const char *s, size_t n) {
  lk_buf_t dec, out;

  lk_buf_init(&dec, LK_HTTP_MAX_HEAD_BYTES);
  lk_buf_init(&out, CANONICAL_MAX);
  lk_url_decode(&dec, s, n, 0);
  uri_encode(&out, lk_buf_str(&dec), dec.len, 0);
  lk_buf_free(&dec);
  return lk_buf_error(&out) ? lk_xstrdup("") : lk_buf_steal(&out, NULL);
}

/* The query's parameters sorted by key, then value, without the
 * signature; "key=value" joined by '&'. */
static void canonical_query(lk_buf_t *b, const lk_http_req_t *req) {
  param_t ps[MAX_PARAMS];
  const char *p = req->query;
  int n = 0, i;

  while (p && *p && n < MAX_PARAMS) {
    size_t len = strcspn(p, "&");
    const char *eq = memchr(p, '=', len);
    size_t kl = eq ? (size_t)(eq - p) : len;

    if (len && !(kl == 15 && strncmp(p, "X-Amz-Signature", 15) == 0)) {
      ps[n].key = recode(p, kl);
      ps[n++].value = eq ? recode(eq + 1, len - kl - 1) : lk_xstrdup("");
    }
    p = p[len] ? p + len + 1 : NULL;
  }
  qsort(ps, (size_t)n, sizeof(*ps), by_param);
  for (i = 0; i < n; i++) {
    lk_buf_printf(b, "%s%s=%s", i ? "&" : "", ps[i].key, ps[i].value);
    free(ps[i].key);
    free(ps[i].value);
  }
}

/* A header's values, trimmed, inner runs of spaces made one, joined by
 * commas; -1 when the request does not have it. */
static int header_values(lk_buf_t *b, const lk_http_req_t *req,
                         const char *name, size_t nl) {
  int i, found = 0;

  for (i = 0; i < req->n_headers; i++) {
    const char *v = req->headers[i].value;
    int space = 0;

    if (strlen(req->headers[i].name) != nl ||
        strncasecmp(req->headers[i].name, name, nl) != 0)
      continue;
    if (found++)
      lk_buf_add(b, ",", 1);
    while (*v == ' ' || *v == '\t')
      v++;
    for (; *v; v++) {
      if (*v == ' ' || *v == '\t') {
        space = 1;
        continue;
      }
      if (space)
        lk_buf_add(b, " ", 1);
      space = 0;
      lk_buf_add(b, v, 1);
    }
  }
  return found ? 0 : -1;
}

static int canonical_headers(lk_buf_t *b, const lk_http_req_t *req,
                             const char *signed_headers) {
  const char *p = signed_headers;

  while (*p) {
    size_t n = strcspn(p, ";");

    lk_buf_add(b, p, n);
    lk_buf_add(b, ":", 1);
    if (header_values(b, req, p, n))
      return -1;
    lk_buf_add(b, "\n", 1);
    p += n + (p[n] == ';');
  }
  return 0;
}

/* What the request says of its body: x-amz-content-sha256 (S3) or the
 * body's own hash; for a presigned S3 URL, UNSIGNED-PAYLOAD. */
static void payload_hash(const lk_http_req_t *req, const lk_sigv4_t *s,
                         char out[72]) {
  const char *stated = lk_http_header(req, "X-Amz-Content-Sha256");

  if (stated && strlen(stated) < 72)
    snprintf(out, 72, "%s", stated);
  else if (s->presigned && strcmp(s->service, "s3") == 0)
    snprintf(out, 72, "UNSIGNED-PAYLOAD");
  else
    sha256_hex(lk_buf_str(&req->body), req->body.len, out);
}

/* hex(SHA-256(canonical request)), or -1 when a signed header is missing. */
static int canonical_hash(const lk_http_req_t *req, const lk_sigv4_t *s,
                          const char *payload, char out[65]) {
  lk_buf_t b;
  int rc;

  lk_buf_init(&b, CANONICAL_MAX);
  lk_buf_adds(&b, req->method);
  lk_buf_add(&b, "\n", 1);
  canonical_uri(&b, req, s);
  lk_buf_add(&b, "\n", 1);
  canonical_query(&b, req);
  lk_buf_add(&b, "\n", 1);
  rc = canonical_headers(&b, req, s->signed_headers);
  lk_buf_printf(&b, "\n%s\n%s", s->signed_headers, payload);
  if (lk_buf_error(&b))
    rc = -1;
  if (rc == 0)
    sha256_hex(b.data, b.len, out);
  lk_buf_free(&b);
  return rc;
}

/* ---- the body ---- */

/* Every chunk of an aws-chunked body signed in a chain from the seed;
 * the last chunk is empty. 0, or -1. */
static int verify_chunks(const lk_http_req_t *req, const lk_sigv4_t *s,
                         const unsigned char key[32]) {
  const char *p = lk_buf_str(&req->body), *end = p + req->body.len;
  char prev[65], sts[512], hash[65];
  size_t size;

  snprintf(prev, sizeof(prev), "%s", s->signature);
  for (;;) {
    const char *sig = strstr(p, ";chunk-signature="), *crlf;
    char *tail;

    size = strtoul(p, &tail, 16);
    if (sig == NULL || tail != sig || (crlf = strstr(sig, "\r\n")) == NULL ||
        crlf - sig != 17 + 64 || (size_t)(end - crlf - 2) < size)
      return -1;
    sha256_hex(crlf + 2, size, hash);
    snprintf(sts, sizeof(sts),
             "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n" EMPTY_SHA256 "\n%s",
             s->date, s->scope, prev, hash);
    memcpy(prev, sig + 17, 64);
    prev[64] = '\0';
    if (!signature_is(key, sts, strlen(sts), prev))
      return -1;
    if (size == 0)
      return 0;
    p = crlf + 2 + size;
    if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
      return -1;
    p += 2;
  }
}

/* The body is what the request said it was. */
static int verify_body(const lk_http_req_t *req, const lk_sigv4_t *s,
                       const char *payload, const unsigned char key[32],
                       const char **why) {
  char actual[65];

  if (strncmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0) {
    if (verify_chunks(req, s, key) == 0)
      return 0;
    *why = "a chunk signature does not match";
    return LK_EACCES;
  }
  if (strlen(payload) != 64)
    return 0; /* UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER */
  sha256_hex(lk_buf_str(&req->body), req->body.len, actual);
  if (strcasecmp(actual, payload) == 0)
    return 0;
  *why = "the body's SHA-256 is not the one signed";
  return LK_EACCES;
}

static int expired(const lk_sigv4_t *s, time_t now) {
  struct tm tm;

  memset(&tm, 0, sizeof(tm));
  if (strptime(s->date, "%Y%m%dT%H%M%SZ", &tm) == NULL)
    return 1;
  return s->expires < 1 || s->expires > 604800 ||
         now > timegm(&tm) + s->expires;
}

int lk_sigv4_verify(const lk_http_req_t *req, const lk_sigv4_t *s,
                    const char *secret, time_t now, const char **why) {
  char payload[72], creq[65], sts[512];
  unsigned char key[32];

  *why = "the signature does not match";
  payload_hash(req, s, payload);
  if (s->presigned && expired(s, now)) {
    *why = "the presigned URL has expired";
    return LK_EACCES;
  }
  if (signing_key(secret, s->scope, key) != 0 ||
      canonical_hash(req, s, payload, creq) != 0)
    return LK_EACCES;
  snprintf(sts, sizeof(sts), ALGORITHM "\n%s\n%s\n%s", s->date, s->scope, creq);
  if (!signature_is(key, sts, strlen(sts), s->signature))
    return LK_EACCES;
  return verify_body(req, s, payload, key, why);
}
