/* libFuzzer target: the wire codecs. Invariants: percent-encoding,
 * base64 and XML escaping each round-trip any bytes exactly; the XML
 * element scanner stays inside its input and only returns text from it;
 * a form field's value always fits its buffer, ended by a NUL, and is
 * found again when the form is its encoded self. */
#include "check.h"
#include <stdint.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(int (*enc)(lk_buf_t *, const char *, size_t),
                       int (*dec)(lk_buf_t *, const char *, size_t),
                       const uint8_t *data, size_t size) {
  lk_buf_t e, d;

  lk_buf_init(&e, 16 * size + 16);
  lk_buf_init(&d, size + 16);
  CHECK(enc(&e, (const char *)data, size) == 0);
  CHECK(dec(&d, e.data ? e.data : "", e.len) == 0);
  CHECK(d.len == size && (size == 0 || memcmp(d.data, data, size) == 0));
  lk_buf_free(&e);
  lk_buf_free(&d);
}

static int url_enc(lk_buf_t *b, const char *s, size_t n) {
  return lk_url_encode(b, s, n, 1);
}

static int url_dec(lk_buf_t *b, const char *s, size_t n) {
  return lk_url_decode(b, s, n, 0);
}

static int b64_enc(lk_buf_t *b, const char *s, size_t n) {
  return lk_b64_encode(b, s, n);
}

static void form(const uint8_t *data, size_t size) {
  char out[64], small[4];
  lk_buf_t b;
  int got;

  memset(out, 'x', sizeof(out));
  got = lk_form_get((const char *)data, size, "Action", out, sizeof(out));
  CHECK(got == 0 || memchr(out, '\0', sizeof(out)) != NULL);
  CHECK(lk_form_get((const char *)data, size, "Action", small, sizeof(small)) ==
        got);
  /* Action=<the input, encoded> gives the input back (cut to fit). */
  lk_buf_init(&b, 16 * size + 16);
  lk_buf_adds(&b, "A=1&Action=");
  CHECK(lk_url_encode(&b, (const char *)data, size, 0) == 0);
  CHECK(lk_form_get(b.data, b.len, "Action", out, sizeof(out)) == 1);
  CHECK(strncmp(out, (const char *)data,
                size < sizeof(out) - 1 ? size : sizeof(out) - 1) == 0);
  lk_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *doc = (const char *)data, *end = doc + size, *cur = doc, *v;
  size_t n;
  int found = 0;

  round_trip(url_enc, url_dec, data, size);
  round_trip(b64_enc, lk_b64_decode, data, size);
  round_trip(lk_xml_escape, lk_xml_unescape, data, size);
  form(data, size);
  while ((v = lk_xml_next(&cur, end, "Key", &n)) != NULL && found++ < 1000) {
    CHECK(v >= doc && v + n <= end);
    CHECK(cur > doc && cur <= end);
  }
  return 0;
}
