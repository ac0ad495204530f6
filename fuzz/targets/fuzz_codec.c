/* libFuzzer target: the wire codecs. Invariants: percent-encoding,
 * base64 and XML escaping each round-trip any bytes exactly; the XML
 * element scanner stays inside its input and only returns text from it. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *doc = (const char *)data, *end = doc + size, *cur = doc, *v;
  size_t n;
  int found = 0;

  round_trip(url_enc, url_dec, data, size);
  round_trip(b64_enc, lk_b64_decode, data, size);
  round_trip(lk_xml_escape, lk_xml_unescape, data, size);
  while ((v = lk_xml_next(&cur, end, "Key", &n)) != NULL && found++ < 1000) {
    CHECK(v >= doc && v + n <= end);
    CHECK(cur > doc && cur <= end);
  }
  return 0;
}
