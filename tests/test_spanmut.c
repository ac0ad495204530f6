/* The mutator's fast path on real sample events: every event it writes is
 * one the source could send (what depends on the changed field follows),
 * its remembered spans agree with a fresh scan after every change, an S3
 * key comes out as the slow path writes it, and what the scanner is
 * unsure of goes to the slow path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "codec.h"
#include "spanmut.h"

#define MAX (256 * 1024)

static char *read_seed(const char *name, size_t *len) {
  char path[512];
  FILE *f;
  char *buf = malloc(MAX);

  snprintf(path, sizeof(path), "%s/corpora/fuzz_mutator/%s", LK_SOURCE_DIR,
           name);
  f = fopen(path, "rb");
  assert_non_null(f);
  *len = fread(buf, 1, MAX, f);
  fclose(f);
  return buf;
}

/* Byte changes that JSON text must survive: quotes, backslashes, control
 * bytes, NUL, bytes that are not UTF-8, growth and shrinking. */
static unsigned bytes_state = 1;
static size_t hostile_bytes(uint8_t *d, size_t n, size_t max) {
  static const uint8_t evil[] = {'"', '\\', '\n', 0,    0xff, 0xc3, '\r', '%',
                                 '+', ' ',  0x7f, 0x01, '{',  '/',  'u',  0xe2};
  size_t at;

  bytes_state = bytes_state * 1103515245u + 12345u;
  at = n ? (bytes_state >> 8) % n : 0;
  switch ((bytes_state >> 20) % 3) {
  case 0: /* insert */
    if (n < max) {
      memmove(d + at + 1, d + at, n - at);
      d[at] = evil[(bytes_state >> 4) % sizeof(evil)];
      n++;
    }
    break;
  case 1: /* erase */
    if (n) {
      memmove(d + at, d + at + 1, n - at - 1);
      n--;
    }
    break;
  default: /* overwrite */
    if (n)
      d[at] = evil[(bytes_state >> 4) % sizeof(evil)];
  }
  return n;
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* What a function of the source would check of the event. When the body
 * of an API event changed (prev_body is the one before), Content-Length
 * follows it; the header is a field too, and may change on its own. */
static void assert_event(const char *ev, size_t n, lk_source_t want,
                         char **prev_body) {
  cJSON *j = cJSON_ParseWithLength(ev, n), *r, *h;
  char md5[33];

  assert_non_null(j);
  assert_int_equal(lk_event_source(ev, n), want);
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "Records")) {
    const char *body = str(r, "body"), *m = str(r, "md5OfBody");

    if (want == LK_SRC_SQS && body && m) {
      lk_md5_hex(body, strlen(body), md5);
      assert_string_equal(md5, m);
    }
  }
  h = cJSON_GetObjectItemCaseSensitive(j, "headers");
  if (str(j, "body") && str(h, "Content-Length") && *prev_body &&
      strcmp(*prev_body, str(j, "body")) != 0) {
    char len[24];

    snprintf(len, sizeof(len), "%zu", strlen(str(j, "body")));
    assert_string_equal(str(h, "Content-Length"), len);
  }
  free(*prev_body);
  *prev_body = str(j, "body") ? strdup(str(j, "body")) : NULL;
  cJSON_Delete(j);
}

/* libFuzzer's pattern: each output is mutated again. The object that
 * remembers its spans must write exactly what one that scans afresh
 * writes; the slow path takes what the fast path declines. */
static void chain(const char *name, lk_source_t want, int steps) {
  size_t len, n, n2;
  char *buf = read_seed(name, &len), *copy = malloc(MAX);
  lk_spanmut_t *warm = lk_spanmut_new(), *cold;
  char *body = NULL;
  int i, fast = 0;

  assert_non_null(warm);
  for (i = 0; i < steps; i++) {
    unsigned seed = (unsigned)i * 2654435761u + 7;
    unsigned saved = bytes_state;

    memcpy(copy, buf, len);
    n = lk_spanmut_mutate(warm, buf, len, MAX, seed, hostile_bytes);
    if (n) {
      fast++;
      cold = lk_spanmut_new();
      bytes_state = saved; /* the same byte changes for the cold one */
      n2 = lk_spanmut_mutate(cold, copy, len, MAX, seed, hostile_bytes);
      assert_int_equal(n2, n);
      assert_memory_equal(copy, buf, n);
      lk_spanmut_free(cold);
    } else {
      n = lk_mutate_event(buf, len, MAX, seed, hostile_bytes);
      if (n == 0)
        continue; /* neither can: the input stays */
      lk_spanmut_note(warm, buf, n);
    }
    assert_event(buf, n, want, &body);
    assert_int_equal(lk_spanmut_source(warm, buf, n), want);
    len = n;
  }
  if (want != LK_SRC_LOGS)
    assert_true(fast > steps / 4); /* the fast path does most of it */
  else
    assert_int_equal(fast, 0); /* a log payload is gzip: the slow path's */
  lk_spanmut_free(warm);
  free(body);
  free(buf);
  free(copy);
}

static void test_chain_s3(void **state) {
  (void)state;
  chain("s3.json", LK_SRC_S3, 400);
}

static void test_chain_sqs(void **state) {
  (void)state;
  chain("sqs.json", LK_SRC_SQS, 400);
  chain("sqs-json-body.json", LK_SRC_SQS, 400);
}

static void test_chain_apigw(void **state) {
  (void)state;
  chain("apigw.json", LK_SRC_APIGW_V1, 400);
  chain("apigw-v2.json", LK_SRC_APIGW_V2, 400);
}

static void test_chain_logs(void **state) {
  (void)state;
  chain("logs.json", LK_SRC_LOGS, 50);
}

static size_t keep_bytes(uint8_t *d, size_t n, size_t max) {
  (void)d, (void)max;
  return n; /* only payload splices change anything */
}

/* One field, one seed: the fast path and the slow path write the same
 * event (the slow one re-serialises it, so compare the trees). */
static void test_s3_key_as_the_slow_path_writes_it(void **state) {
  size_t len, n1, n2;
  char *a = read_seed("s3.json", &len), *b = malloc(MAX);
  lk_spanmut_t *sm = lk_spanmut_new();
  unsigned seed;
  int changed = 0;

  (void)state;
  for (seed = 1; seed < 60; seed++) {
    cJSON *ja, *jb;

    memcpy(b, a, len);
    n1 = lk_spanmut_mutate(sm, b, len, MAX, seed, keep_bytes);
    assert_true(n1 > 0);
    ja = cJSON_ParseWithLength(b, n1);
    memcpy(b, a, len);
    n2 = lk_mutate_event(b, len, MAX, seed, keep_bytes);
    jb = cJSON_ParseWithLength(b, n2);
    assert_true(cJSON_Compare(ja, jb, 1));
    changed += n1 != len;
    cJSON_Delete(ja);
    cJSON_Delete(jb);
  }
  assert_true(changed > 0);
  lk_spanmut_free(sm);
  free(a);
  free(b);
}

/* The scanner leaves to cJSON what it cannot be sure of, and refuses
 * nothing cJSON would take. */
static void test_unsure_goes_to_the_slow_path(void **state) {
  static const char *const unsure[] = {
      /* an escaped key name that decodes to "Records" */
      "{\"Rec\\u006frds\":[{\"eventSource\":\"aws:s3\"}]}",
      /* two Records: cJSON takes the first */
      "{\"Records\":[{\"eventSource\":\"aws:sqs\"}],\"Records\":[]}",
      /* trailing bytes after the event */
      "{\"Records\":[{\"eventSource\":\"aws:s3\"}]} x",
      /* a lone surrogate */
      "{\"Records\":[{\"eventSource\":\"aws:s3\",\"x\":\"\\ud800\"}]}",
      /* not an event at all */
      "{\"hello\":1}",
      "[1,2]",
      "{\"Records\":[{\"eventSource\":\"aws:s3\"}",
  };
  lk_spanmut_t *sm = lk_spanmut_new();
  char buf[256];
  size_t i, n;

  (void)state;
  for (i = 0; i < sizeof(unsure) / sizeof(unsure[0]); i++) {
    n = strlen(unsure[i]);
    memcpy(buf, unsure[i], n);
    assert_int_equal(lk_spanmut_source(sm, buf, n), LK_SRC_UNKNOWN);
    assert_int_equal(lk_spanmut_mutate(sm, buf, n, sizeof(buf), 1, keep_bytes),
                     0);
  }
  n = strlen("{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":\"x\"}]}");
  assert_int_equal(
      lk_spanmut_source(
          sm, "{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":\"x\"}]}",
          n),
      LK_SRC_SQS);
  lk_spanmut_free(sm);
}

/* A result longer than the caller's room is declined, input untouched. */
static void test_too_long_is_declined(void **state) {
  size_t len, n;
  char *buf = read_seed("sqs.json", &len), *orig = malloc(MAX);
  lk_spanmut_t *sm = lk_spanmut_new();
  unsigned seed;

  (void)state;
  memcpy(orig, buf, len);
  for (seed = 1; seed < 40; seed++) {
    n = lk_spanmut_mutate(sm, buf, len, len, seed, keep_bytes);
    if (n == 0)
      assert_memory_equal(buf, orig, len);
    else
      assert_true(n <= len);
    memcpy(buf, orig, len);
  }
  lk_spanmut_free(sm);
  free(buf);
  free(orig);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain_s3),
      cmocka_unit_test(test_chain_sqs),
      cmocka_unit_test(test_chain_apigw),
      cmocka_unit_test(test_chain_logs),
      cmocka_unit_test(test_s3_key_as_the_slow_path_writes_it),
      cmocka_unit_test(test_unsure_goes_to_the_slow_path),
      cmocka_unit_test(test_too_long_is_declined),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
