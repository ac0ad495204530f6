/* AWS Signature Version 4, checked as AWS checks it: the Authorization
 * header form and the presigned query form, the body's SHA-256 when the
 * request states it, and the signature of every chunk of an aws-chunked
 * body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). lambkin holds the secret of
 * each key it issues (and of any --credentials), so it can tell a real
 * caller from one that only names a key. */
#ifndef LK_SIGV4_H
#define LK_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "http.h"

/* What a signed request says about its signature. */
typedef struct lk_sigv4 {
  char key[128];             /* the access key id */
  char date[17];             /* X-Amz-Date: 20130524T000000Z */
  char scope[256];           /* 20130524/us-east-1/s3/aws4_request */
  char service[64];          /* from the scope */
  char signed_headers[1024]; /* "host;x-amz-date", as sent */
  char signature[65];        /* hex */
  long expires;              /* presigned: X-Amz-Expires, else 0 */
  int presigned;
} lk_sigv4_t;

/* 0 and the parts in *s when req carries a SigV4 signature; LK_ENOENT
 * when it carries none; LK_EINVAL when what it carries is malformed. */
int lk_sigv4_parse(const lk_http_req_t *req, lk_sigv4_t *s);
/* 0 when s's signature over req is the one secret makes (and, for an
 * aws-chunked body, every chunk's), else LK_EACCES with the reason in
 * why. now is the clock a presigned URL's expiry is checked against. */
int lk_sigv4_verify(const lk_http_req_t *req, const lk_sigv4_t *s,
                    const char *secret, time_t now, const char **why);

#endif
