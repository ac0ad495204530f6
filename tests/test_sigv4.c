/* SigV4 verification against the examples AWS publishes with their
 * signatures ("Authenticating Requests: Using the Authorization Header",
 * "... Using Query Parameters", "... Transferring Payload in Multiple
 * Chunks" in the S3 API reference): each verifies with the documented
 * secret, and fails once any signed byte changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lambkin/lambkin.h"
#include "sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define CRED "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HOST "examplebucket.s3.amazonaws.com"
#define DAY 1369353600 /* 2013-05-24T00:00:00Z */

static lk_http_req_t *req_new(const char *method, const char *path,
                              const char *query) {
  lk_http_req_t *r = calloc(1, sizeof(*r));

  r->method = method;
  r->path = path;
  r->query = query;
  lk_buf_init(&r->body, 1 << 20);
  return r;
}

static void hdr(lk_http_req_t *r, const char *name, const char *value) {
  r->headers[r->n_headers++] = (lk_http_header_t){name, value};
}

static void req_free(lk_http_req_t *r) {
  lk_buf_free(&r->body);
  free(r);
}

/* 0 when it verifies with the example's secret at DAY. */
static int verify(const lk_http_req_t *r) {
  lk_sigv4_t s;
  const char *why;

  if (lk_sigv4_parse(r, &s) != 0)
    return -1;
  return lk_sigv4_verify(r, &s, SECRET, DAY, &why);
}

static void get_object(void **state) {
  lk_http_req_t *r = req_new("GET", "/test.txt", "");

  (void)state;
  hdr(r, "Host", HOST);
  hdr(r, "Range", "bytes=0-9");
  hdr(r, "x-amz-content-sha256", EMPTY);
  hdr(r, "x-amz-date", "20130524T000000Z");
  hdr(r, "Authorization",
      "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;range;"
      "x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6"
      "ed310bd44f0170aba48dd91039c6036bdb41");
  assert_int_equal(verify(r), 0);
  r->headers[1].value = "bytes=0-10";
  assert_int_equal(verify(r), LK_EACCES);
  req_free(r);
}

static void put_object(void **state) {
  lk_http_req_t *r = req_new("PUT", "/test%24file.text", "");

  (void)state;
  hdr(r, "Host", HOST);
  hdr(r, "Date", "Fri, 24 May 2013 00:00:00 GMT");
  hdr(r, "x-amz-date", "20130524T000000Z");
  hdr(r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
  hdr(r, "x-amz-content-sha256",
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  hdr(r, "Authorization",
      "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=date;host;"
      "x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature="
      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  lk_buf_adds(&r->body, "Welcome to Amazon S3.");
  assert_int_equal(verify(r), 0);
  /* The headers signed the hash; the hash must be the body's. */
  lk_buf_reset(&r->body);
  lk_buf_adds(&r->body, "Welcome to Amazon S4.");
  assert_int_equal(verify(r), LK_EACCES);
  req_free(r);
}

static void bucket_queries(void **state) {
  lk_http_req_t *r = req_new("GET", "/", "lifecycle");

  (void)state;
  hdr(r, "Host", HOST);
  hdr(r, "x-amz-date", "20130524T000000Z");
  hdr(r, "x-amz-content-sha256", EMPTY);
  hdr(r, "Authorization",
      "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;"
      "x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bd"
      "bfbbe0d65c699e0f91ac7a200a0136783543");
  assert_int_equal(verify(r), 0);
  /* Parameters sort by name, whatever order they came in. */
  r->query = "prefix=J&max-keys=2";
  r->headers[3].value =
      "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;"
      "x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b78"
      "68a86f0a534bc59db6670ed5711ef69dc6f7";
  assert_int_equal(verify(r), 0);
  r->query = "prefix=K&max-keys=2";
  assert_int_equal(verify(r), LK_EACCES);
  req_free(r);
}

static void presigned(void **state) {
  lk_http_req_t *r = req_new(
      "GET", "/test.txt",
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
      "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
      "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bb"
      "ccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  lk_sigv4_t s;
  const char *why;

  (void)state;
  hdr(r, "Host", HOST);
  assert_int_equal(verify(r), 0);
  assert_int_equal(lk_sigv4_parse(r, &s), 0);
  assert_int_equal(lk_sigv4_verify(r, &s, SECRET, DAY + 86401, &why),
                   LK_EACCES);
  assert_string_equal(why, "the presigned URL has expired");
  r->path = "/test.txl";
  assert_int_equal(verify(r), LK_EACCES);
  req_free(r);
}

/* 65 KB of 'a' in chunks of 64 KB and 1 KB, then the empty chunk. */
static void chunk(lk_buf_t *b, size_t n, const char *sig) {
  lk_buf_printf(b, "%zx;chunk-signature=%s\r\n", n, sig);
  while (n--)
    lk_buf_add(b, "a", 1);
  lk_buf_adds(b, "\r\n");
}

static void chunked_upload(void **state) {
  lk_http_req_t *r = req_new("PUT", "/examplebucket/chunkObject.txt", "");

  (void)state;
  hdr(r, "Host", "s3.amazonaws.com");
  hdr(r, "x-amz-date", "20130524T000000Z");
  hdr(r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
  hdr(r, "Content-Encoding", "aws-chunked");
  hdr(r, "x-amz-decoded-content-length", "66560");
  hdr(r, "Content-Length", "66824");
  hdr(r, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  hdr(r, "Authorization",
      "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=content-encoding;"
      "content-length;host;x-amz-content-sha256;x-amz-date;"
      "x-amz-decoded-content-length;x-amz-storage-class,Signature="
      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  chunk(&r->body, 65536,
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
  chunk(&r->body, 1024,
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
  chunk(&r->body, 0,
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
  assert_int_equal(r->body.len, 66824);
  assert_int_equal(verify(r), 0);
  r->body.data[66000] = 'b'; /* in the second chunk's data */
  assert_int_equal(verify(r), LK_EACCES);
  req_free(r);
}

static void malformed_and_absent(void **state) {
  lk_http_req_t *r = req_new("GET", "/", "");
  lk_sigv4_t s;

  (void)state;
  assert_int_equal(lk_sigv4_parse(r, &s), LK_ENOENT);
  hdr(r, "Authorization", "AWS4-HMAC-SHA256 Credential=nope");
  assert_int_equal(lk_sigv4_parse(r, &s), LK_EINVAL);
  r->headers[0].value = "AWS AKIA:abc"; /* SigV2: not ours to check */
  assert_int_equal(lk_sigv4_parse(r, &s), LK_ENOENT);
  req_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(get_object),     cmocka_unit_test(put_object),
      cmocka_unit_test(bucket_queries), cmocka_unit_test(presigned),
      cmocka_unit_test(chunked_upload), cmocka_unit_test(malformed_and_absent),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
