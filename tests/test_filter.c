/* CloudWatch Logs filter patterns and the shared codecs: the cases a user
 * writes in a SubscriptionFilter or an S3/SQS client sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "logfilter.h"
#include "lambkin/lambkin.h"

static int m(const char *pattern, const char *msg) {
  int bad = 0, r = lk_filter_match(pattern, msg, strlen(msg), &bad);

  assert_int_equal(bad, 0);
  return r;
}

static void test_terms(void **state) {
  (void)state;
  assert_true(m("", "anything"));
  assert_true(m("ERROR", "an ERROR here"));
  assert_false(m("ERROR", "an error here")); /* case-sensitive */
  assert_true(m("ERROR disk", "disk ERROR"));
  assert_false(m("ERROR disk", "ERROR cpu"));
  assert_true(m("ERROR -timeout", "ERROR disk"));
  assert_false(m("ERROR -timeout", "ERROR timeout"));
  assert_true(m("?ERROR ?WARN", "WARN x"));
  assert_false(m("?ERROR ?WARN", "INFO x"));
  assert_true(m("\"disk full\"", "the disk full now"));
  assert_false(m("\"disk full\"", "full disk"));
}

static void test_json(void **state) {
  const char *msg = "{\"level\":\"error\",\"n\":250,\"user\":{\"id\":\"u-7\"},"
                    "\"ok\":false,\"tags\":[\"a\",\"b\"]}";

  (void)state;
  assert_true(m("{ $.level = \"error\" }", msg));
  assert_true(m("{ $.level = error }", msg));
  assert_false(m("{ $.level = \"info\" }", msg));
  assert_true(m("{ $.level != \"info\" }", msg));
  assert_true(m("{ $.n > 100 }", msg));
  assert_false(m("{ $.n < 100 }", msg));
  assert_true(m("{ $.n >= 250 && $.level = error }", msg));
  assert_true(m("{ $.n < 1 || $.user.id = \"u-*\" }", msg));
  assert_true(m("{ $.ok = false }", msg));
  assert_true(m("{ $.tags[1] = \"b\" }", msg));
  assert_false(m("{ $.missing = 1 }", msg));
  assert_false(m("{ $.n > 1 }", "not json"));
}

static void test_bad_patterns(void **state) {
  int bad = 0;

  (void)state;
  assert_false(lk_filter_match("{ $.a = 1", "{\"a\":1}", 7, &bad));
  assert_int_equal(bad, 1);
  assert_false(lk_filter_match("{ $.a }", "{\"a\":1}", 7, &bad));
  assert_int_equal(bad, 1);
  assert_false(lk_filter_match("\"unterminated", "x", 1, &bad));
  assert_int_equal(bad, 1);
}

static void test_codecs(void **state) {
  lk_buf_t b;
  char md5[33];
  const char *cur, *doc = "<D><Object><Key>a&amp;b</Key></Object>"
                          "<Object><Key>c</Key></Object><Empty/></D>";
  const char *v;
  size_t n;

  (void)state;
  lk_buf_init(&b, 64);
  assert_int_equal(lk_url_decode(&b, "a%20b+c%2F", 10, 0), 0);
  assert_memory_equal(b.data, "a b+c/", 6);
  lk_buf_reset(&b);
  assert_int_equal(lk_url_decode(&b, "a+b%zz", 6, 1), 0);
  assert_memory_equal(b.data, "a b%zz", 6);
  lk_buf_reset(&b);
  lk_url_encode(&b, "a b/ü", 6, 1);
  assert_int_equal(b.len, strlen("a%20b/%C3%BC"));
  assert_memory_equal(b.data, "a%20b/%C3%BC", b.len);
  lk_buf_reset(&b);
  lk_b64_encode(&b, "\x00\x01\xff", 3);
  assert_memory_equal(b.data, "AAH/", 4);
  lk_buf_reset(&b);
  assert_int_equal(lk_b64_decode(&b, "AAH/", 4), 0);
  assert_memory_equal(b.data, "\x00\x01\xff", 3);
  assert_int_not_equal(lk_b64_decode(&b, "A*", 2), 0);
  lk_buf_reset(&b);
  {
    char src[64] = {0}; /* 88 bytes of base64 cannot fit a 64-byte buffer */

    assert_int_equal(lk_b64_encode(&b, src, sizeof(src)), LK_E2BIG);
  }
  lk_buf_free(&b);
  lk_md5_hex("hello", 5, md5);
  assert_string_equal(md5, "5d41402abc4b2a76b9719d911017c592");

  cur = doc;
  v = lk_xml_next(&cur, doc + strlen(doc), "Key", &n);
  assert_non_null(v);
  lk_buf_init(&b, 64);
  lk_xml_unescape(&b, v, n);
  assert_memory_equal(b.data, "a&b", 3);
  v = lk_xml_next(&cur, doc + strlen(doc), "Key", &n);
  assert_int_equal(n, 1);
  assert_null(lk_xml_next(&cur, doc + strlen(doc), "Key", &n));
  cur = doc;
  assert_non_null(lk_xml_next(&cur, doc + strlen(doc), "Empty", &n));
  assert_int_equal(n, 0);
  lk_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_terms),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_bad_patterns),
      cmocka_unit_test(test_codecs),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
