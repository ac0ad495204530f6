/* libFuzzer target: SigV4 verification (guard/sigv4.c), on requests built
 * from the input: a method line, a path line, a query line, header lines
 * "Name: value" up to an empty line, then the body. Invariants: parsing and
 * verifying never crash, the verdict is the same when asked twice, and no
 * signature verifies under two different secrets. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DAY 1369353600 /* 2013-05-24, the examples' day */

/* The next line of s (NUL-terminated in place); NULL at the end. */
static char *line(char **s, char *end) {
  char *start = *s, *nl;

  if (start >= end)
    return NULL;
  nl = memchr(start, '\n', (size_t)(end - start));
  if (nl == NULL)
    nl = end;
  *nl = '\0';
  *s = nl + 1;
  return start;
}

static void build(lk_http_req_t *r, char *text, size_t n) {
  char *p = text, *end = text + n, *l;

  r->method = (l = line(&p, end)) ? l : "GET";
  r->path = (l = line(&p, end)) ? l : "/";
  r->query = (l = line(&p, end)) ? l : "";
  while ((l = line(&p, end)) != NULL && *l &&
         r->n_headers < LK_HTTP_MAX_HEADERS) {
    char *colon = strchr(l, ':');

    if (colon == NULL)
      continue;
    *colon = '\0';
    r->headers[r->n_headers++] =
        (lk_http_header_t){l, colon + 1 + (colon[1] == ' ')};
  }
  if (p < end)
    lk_buf_add(&r->body, p, (size_t)(end - p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  lk_http_req_t r;
  lk_sigv4_t s;
  const char *why;
  int a, b, other;

  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  memset(&r, 0, sizeof(r));
  lk_buf_init(&r.body, 1 << 20);
  build(&r, text, size);
  if (lk_sigv4_parse(&r, &s) == 0) {
    a = lk_sigv4_verify(&r, &s, SECRET, DAY, &why);
    b = lk_sigv4_verify(&r, &s, SECRET, DAY, &why);
    other = lk_sigv4_verify(&r, &s, "another secret", DAY, &why);
    CHECK(a == b);
    CHECK(!(a == 0 && other == 0));
  }
  lk_buf_free(&r.body);
  free(text);
  return 0;
}
