/* libFuzzer target for the event-aware mutator itself, its fast path
 * (spanmut.c) and its custom mutator hook (the same one the function
 * fuzzer will use). Invariants on every event they write: valid JSON of
 * the same source; md5OfBody is the body's MD5 (SQS); keys decode (S3);
 * the awslogs payload still decodes to a log document (Logs); a base64
 * body still decodes (API Gateway). The fast path's scanner never names
 * a source cJSON would not, and its remembered spans write what a fresh
 * scan writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "codec.h"
#include "mutator.h"
#include "spanmut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed);

#define MAX_EVENT (32 * 1024) /* room to grow fields, and a fast harness */

static size_t flip(uint8_t *d, size_t n, size_t max) {
  if (n == 0 && max > 0) {
    d[0] = 'x';
    return 1;
  }
  d[n / 2] ^= 0x5a;
  return n;
}

static void check_event(const char *ev, size_t n, lk_source_t want) {
  cJSON *j = cJSON_ParseWithLength(ev, n), *r;
  char md5[33];

  CHECK(j != NULL);
  CHECK(lk_event_source(ev, n) == want);
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "Records")) {
    cJSON *body = cJSON_GetObjectItemCaseSensitive(r, "body");
    cJSON *md5j = cJSON_GetObjectItemCaseSensitive(r, "md5OfBody");

    if (want == LK_SRC_SQS && cJSON_IsString(body) && cJSON_IsString(md5j)) {
      lk_md5_hex(body->valuestring, strlen(body->valuestring), md5);
      CHECK(strcmp(md5, md5j->valuestring) == 0);
    }
  }
  if (want == LK_SRC_LOGS) {
    cJSON *d = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "awslogs"), "data");
    lk_buf_t gz, js;
    cJSON *doc;

    lk_buf_init(&gz, 1 << 20);
    lk_buf_init(&js, 4 << 20);
    CHECK(cJSON_IsString(d));
    CHECK(lk_b64_decode(&gz, d->valuestring, strlen(d->valuestring)) == 0);
    CHECK(lk_gunzip(&js, gz.data, gz.len) == 0);
    doc = cJSON_ParseWithLength(js.data, js.len);
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "logEvents")));
    cJSON_Delete(doc);
    lk_buf_free(&gz);
    lk_buf_free(&js);
  }
  if ((want == LK_SRC_APIGW_V1 || want == LK_SRC_APIGW_V2) &&
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "isBase64Encoded"))) {
    cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "body");
    lk_buf_t raw;

    lk_buf_init(&raw, MAX_EVENT);
    CHECK(cJSON_IsString(b));
    CHECK(lk_b64_decode(&raw, b->valuestring, strlen(b->valuestring)) == 0);
    lk_buf_free(&raw);
  }
  cJSON_Delete(j);
}

/* The fast path on one event: its output, and a second mutation of it by
 * the object that remembers its spans and by one that scans afresh. */
static void check_fast(const uint8_t *data, size_t size, lk_source_t src,
                       char *buf, char *copy, unsigned seed) {
  lk_spanmut_t *warm = lk_spanmut_new(), *cold = lk_spanmut_new();
  size_t n, n1, n2;

  CHECK(warm != NULL && cold != NULL);
  memcpy(buf, data, size);
  n = lk_spanmut_mutate(warm, buf, size, MAX_EVENT, seed, flip);
  if (n) {
    check_event(buf, n, src);
    CHECK(lk_spanmut_source(warm, buf, n) == src);
    memcpy(copy, buf, n);
    n1 = lk_spanmut_mutate(warm, buf, n, MAX_EVENT, seed + 1, flip);
    n2 = lk_spanmut_mutate(cold, copy, n, MAX_EVENT, seed + 1, flip);
    CHECK(n1 == n2 && memcmp(buf, copy, n1) == 0);
  }
  lk_spanmut_free(warm);
  lk_spanmut_free(cold);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_source_t src = lk_event_source((const char *)data, size);
  lk_spanmut_t *scan = lk_spanmut_new();
  lk_source_t seen;
  char *buf, *copy;
  size_t n;
  unsigned seed;

  CHECK(scan != NULL);
  seen = lk_spanmut_source(scan, (const char *)data, size);
  CHECK(seen == LK_SRC_UNKNOWN || seen == src);
  lk_spanmut_free(scan);
  if (src == LK_SRC_UNKNOWN || size > MAX_EVENT)
    return 0;
  buf = malloc(MAX_EVENT);
  copy = malloc(MAX_EVENT);
  if (buf == NULL || copy == NULL) {
    free(buf);
    free(copy);
    return 0;
  }
  for (seed = 1; seed <= 8; seed++) {
    static const char *const word[] = {"restart ", "\"}{\\", "%s\xc3"};
    const lk_words_t words = {word, 3};

    check_fast(data, size, src, buf, copy, seed * 2654435761u);
    memcpy(buf, data, size);
    n = lk_mutate_event(buf, size, MAX_EVENT, seed * 2654435761u, flip);
    if (n)
      check_event(buf, n, src);
    /* With a dictionary, as process mode has one: the same invariants. */
    memcpy(buf, data, size);
    n = lk_mutate_event_words(buf, size, MAX_EVENT, seed * 40503u, flip,
                              &words);
    if (n)
      check_event(buf, n, src);
    /* Crossover with itself: still an event of its source, fixed up. */
    n = lk_crossover_event((const char *)data, size, (const char *)data, size,
                           buf, MAX_EVENT, seed);
    if (n)
      check_event(buf, n, src);
  }
  free(buf);
  free(copy);
  return 0;
}

/* Structure-aware: libFuzzer's own byte mutations, applied to one field. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed) {
  size_t n = lk_mutate_event((char *)data, size, max, seed, LLVMFuzzerMutate);

  return n ? n : LLVMFuzzerMutate(data, size, max);
}
