/* The event-aware mutator on real sample events: it changes one field the
 * source fills with outside data, and what depends on it follows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "codec.h"
#include "mutator.h"

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

static size_t no_bytes(uint8_t *d, size_t n, size_t max) {
  (void)d;
  (void)max;
  return n; /* only payload splices change anything */
}

/* Runs seeds until a mutation differs from the input; returns it parsed. */
static cJSON *mutated(const char *name, lk_source_t want) {
  size_t len, n;
  char *orig = read_seed(name, &len), *buf = malloc(MAX);
  unsigned seed;

  assert_int_equal(lk_event_source(orig, len), want);
  for (seed = 1; seed < 200; seed++) {
    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    if (n && (n != len || memcmp(buf, orig, len) != 0)) {
      cJSON *j = cJSON_ParseWithLength(buf, n);

      assert_non_null(j);
      assert_int_equal(lk_event_source(buf, n), want);
      free(orig);
      free(buf);
      return j;
    }
  }
  fail_msg("no mutation of %s changed it", name);
  return NULL;
}

static void test_sqs_md5_follows_body(void **state) {
  cJSON *j = mutated("sqs.json", LK_SRC_SQS);
  cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0);
  const char *body = cJSON_GetObjectItem(r, "body")->valuestring;
  char md5[33];

  (void)state;
  lk_md5_hex(body, strlen(body), md5);
  assert_string_equal(md5, cJSON_GetObjectItem(r, "md5OfBody")->valuestring);
  assert_string_not_equal(body, "plain text");
  cJSON_Delete(j);
}

static void test_s3_key_stays_encoded(void **state) {
  cJSON *j = mutated("s3.json", LK_SRC_S3);
  cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0);
  const char *key =
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetObjectItem(r, "s3"), "object"), "key")
          ->valuestring;
  size_t i;

  (void)state;
  /* URL-encoded as S3 sends it: no raw space, quote, or control byte. */
  for (i = 0; key[i]; i++)
    assert_true(key[i] > ' ' && key[i] != '"' && key[i] != '\'' &&
                key[i] != ';' && key[i] != '`');
  /* Every splice carries "lambkin", or (the invalid UTF-8 pair) becomes
   * percent-escapes. */
  assert_true(strstr(key, "lambkin") != NULL || strchr(key, '%') != NULL);
  cJSON_Delete(j);
}

static void test_logs_payload_reencoded(void **state) {
  cJSON *j = mutated("logs.json", LK_SRC_LOGS);
  const char *d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "awslogs"), "data")
                      ->valuestring;
  lk_buf_t gz, js;
  cJSON *doc;
  const char *msg;

  (void)state;
  lk_buf_init(&gz, 1 << 20);
  lk_buf_init(&js, 1 << 20);
  assert_int_equal(lk_b64_decode(&gz, d, strlen(d)), 0);
  assert_int_equal(lk_gunzip(&js, gz.data, gz.len), 0);
  doc = cJSON_ParseWithLength(js.data, js.len);
  msg = cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "logEvents"), 0),
            "message")
            ->valuestring;
  assert_string_not_equal(msg, "ERROR disk full");
  cJSON_Delete(doc);
  lk_buf_free(&gz);
  lk_buf_free(&js);
  cJSON_Delete(j);
}

/* Crossover: sqs.json's only outside-data field is its body, so it must
 * take one of the other event's values, with md5OfBody redone; an event
 * of another source is refused. */
static void test_crossover_takes_a_donor_field(void **state) {
  size_t alen, blen, clen, n;
  char *a = read_seed("sqs.json", &alen);
  char *b = read_seed("sqs-json-body.json", &blen);
  char *c = read_seed("s3.json", &clen), *out = malloc(MAX), md5[33];
  cJSON *j, *r;
  const char *body;
  unsigned seed;

  (void)state;
  for (seed = 1; seed < 20; seed++) {
    n = lk_crossover_event(a, alen, b, blen, out, MAX, seed);
    assert_true(n > 0);
    j = cJSON_ParseWithLength(out, n);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0);
    body = cJSON_GetObjectItem(r, "body")->valuestring;
    lk_md5_hex(body, strlen(body), md5);
    assert_string_equal(md5, cJSON_GetObjectItem(r, "md5OfBody")->valuestring);
    /* The body is now b's body, or a string from inside it. */
    assert_true(strcmp(body, "{\"user\":\"alice\",\"file\":\"x.txt\","
                             "\"n\":1}") == 0 ||
                strcmp(body, "alice") == 0 || strcmp(body, "x.txt") == 0);
    cJSON_Delete(j);
  }
  assert_int_equal(lk_crossover_event(a, alen, c, clen, out, MAX, 1), 0);
  free(a);
  free(b);
  free(c);
  free(out);
}

static void test_unknown_input_refused(void **state) {
  char buf[64] = "{\"not\":\"an event\"}";

  (void)state;
  assert_int_equal(lk_event_source(buf, strlen(buf)), LK_SRC_UNKNOWN);
  assert_int_equal(lk_mutate_event(buf, strlen(buf), sizeof(buf), 1, NULL), 0);
  snprintf(buf, sizeof(buf), "{broken");
  assert_int_equal(lk_mutate_event(buf, strlen(buf), sizeof(buf), 1, NULL), 0);
}

static const char *ddb_s(const cJSON *d, const char *image, const char *name) {
  const cJSON *v = cJSON_GetObjectItem(
      cJSON_GetObjectItem(cJSON_GetObjectItem(d, image), name), "S");

  return v ? v->valuestring : NULL;
}

/* A stream record's key changes in Keys and both images together;
 * numbers keep their type. */
static void test_ddb_key_follows_into_images(void **state) {
  size_t len, n;
  char *orig = read_seed("dynamodb.json", &len), *buf = malloc(MAX);
  unsigned seed;
  int keys = 0, others = 0;

  (void)state;
  assert_int_equal(lk_event_source(orig, len), LK_SRC_DYNAMODB);
  for (seed = 1; seed < 400; seed++) {
    cJSON *j, *d;

    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    if (n == 0)
      continue;
    j = cJSON_ParseWithLength(buf, n);
    d = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0), "dynamodb");
    assert_string_equal(ddb_s(d, "Keys", "id"), ddb_s(d, "NewImage", "id"));
    assert_string_equal(ddb_s(d, "Keys", "id"), ddb_s(d, "OldImage", "id"));
    assert_string_equal(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(d, "NewImage"), "n"), "N")
            ->valuestring,
        "3");
    keys += strcmp(ddb_s(d, "Keys", "id"), "7") != 0;
    others += strcmp(ddb_s(d, "NewImage", "message"), "hello") != 0 ||
              strcmp(ddb_s(d, "OldImage", "message"), "old") != 0;
    cJSON_Delete(j);
  }
  assert_true(keys > 0);   /* the key was mutated, */
  assert_true(others > 0); /* and the other attributes */
  free(orig);
  free(buf);
}

/* An SNS Message that is JSON is mutated inside and stays JSON; the
 * attributes' values are mutated too. */
static void test_sns_message_and_attributes(void **state) {
  size_t len, n;
  char *orig = read_seed("sns.json", &len), *buf = malloc(MAX);
  unsigned seed;
  int inner = 0, attr = 0;

  (void)state;
  assert_int_equal(lk_event_source(orig, len), LK_SRC_SNS);
  for (seed = 1; seed < 300; seed++) {
    cJSON *j, *sns, *msg;

    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    if (n == 0)
      continue;
    j = cJSON_ParseWithLength(buf, n);
    sns = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0), "Sns");
    msg = cJSON_Parse(cJSON_GetObjectItem(sns, "Message")->valuestring);
    if (cJSON_IsObject(msg)) {
      char *text = cJSON_PrintUnformatted(msg);

      inner += strcmp(text, "{\"order\":{\"id\":\"o-1\",\"note\":"
                            "\"gift\"}}") != 0;
      free(text);
    }
    attr +=
        strcmp(cJSON_GetObjectItem(
                   cJSON_GetObjectItem(
                       cJSON_GetObjectItem(sns, "MessageAttributes"), "kind"),
                   "Value")
                   ->valuestring,
               "sample") != 0;
    cJSON_Delete(msg);
    cJSON_Delete(j);
  }
  assert_true(inner > 0);
  assert_true(attr > 0);
  free(orig);
  free(buf);
}

/* Kinesis data is mutated as the bytes the function decodes, and stays
 * base64; JSON data is mutated inside and stays JSON; the partition key
 * is mutated too. */
static void test_kinesis_data_stays_base64(void **state) {
  size_t len, n;
  char *orig = read_seed("kinesis.json", &len), *buf = malloc(MAX);
  unsigned seed;
  int inner = 0, raw = 0, key = 0;

  (void)state;
  assert_int_equal(lk_event_source(orig, len), LK_SRC_KINESIS);
  for (seed = 1; seed < 300; seed++) {
    cJSON *j, *k, *doc;
    lk_buf_t dec;
    const char *data;

    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    if (n == 0)
      continue;
    j = cJSON_ParseWithLength(buf, n);
    k = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0), "kinesis");
    data = cJSON_GetObjectItem(k, "data")->valuestring;
    lk_buf_init(&dec, MAX);
    assert_int_equal(lk_b64_decode(&dec, data, strlen(data)), 0);
    doc = cJSON_ParseWithLength(dec.data ? dec.data : "", dec.len);
    if (cJSON_IsObject(doc)) {
      char *text = cJSON_PrintUnformatted(doc);

      inner += strcmp(text, "{\"order\":{\"id\":\"o-1\",\"note\":"
                            "\"gift\"}}") != 0;
      free(text);
    } else {
      raw++;
    }
    key +=
        strcmp(cJSON_GetObjectItem(k, "partitionKey")->valuestring, "o-1") != 0;
    cJSON_Delete(doc);
    lk_buf_free(&dec);
    cJSON_Delete(j);
  }
  assert_true(inner > 0);
  assert_true(raw > 0);
  assert_true(key > 0);
  free(orig);
  free(buf);
}

/* An EventBridge event's detail is what its putter wrote: the strings
 * in it are mutated, the envelope is not. */
static void test_eventbridge_detail(void **state) {
  size_t len, n;
  char *orig = read_seed("eventbridge.json", &len), *buf = malloc(MAX);
  unsigned seed;
  int changed = 0;

  (void)state;
  assert_int_equal(lk_event_source(orig, len), LK_SRC_EVENTBRIDGE);
  for (seed = 1; seed < 100; seed++) {
    cJSON *j, *order;

    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    assert_true(n > 0);
    j = cJSON_ParseWithLength(buf, n);
    assert_string_equal(cJSON_GetObjectItem(j, "source")->valuestring,
                        "com.shop");
    assert_string_equal(cJSON_GetObjectItem(j, "detail-type")->valuestring,
                        "OrderPlaced");
    order = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "detail"), "order");
    changed +=
        strcmp(cJSON_GetObjectItem(order, "id")->valuestring, "o-1") != 0 ||
        strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(order, "items"), 1)
                   ->valuestring,
               "b") != 0;
    cJSON_Delete(j);
  }
  assert_true(changed > 0);
  free(orig);
  free(buf);
}

/* A field grows to the lengths code trips over (256 bytes, 1, 4 and 64
 * KB, one past each, or all the room the event has), by repeating what
 * it held; the event still fits, and what depends on the field follows
 * it (here the body's md5). */
static void test_fields_grow_to_boundary_sizes(void **state) {
  size_t len, n, sizes[5] = {0};
  char *orig = read_seed("sqs.json", &len), *buf = malloc(MAX);
  static const size_t at[] = {256, 1024, 4096, 65536};
  unsigned seed;
  size_t k;

  (void)state;
  for (seed = 1; seed < 2000; seed++) {
    cJSON *j, *r;
    const char *body;
    char md5[33];
    size_t bl;

    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    if (n == 0)
      continue;
    assert_true(n <= MAX);
    j = cJSON_ParseWithLength(buf, n);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0);
    body = cJSON_GetObjectItem(r, "body")->valuestring;
    bl = strlen(body);
    lk_md5_hex(body, bl, md5);
    assert_string_equal(md5, cJSON_GetObjectItem(r, "md5OfBody")->valuestring);
    for (k = 0; k < sizeof(at) / sizeof(at[0]); k++)
      if (bl >= at[k] && bl <= at[k] + 1)
        sizes[k]++;
    if (bl > 200000)
      sizes[4]++; /* all the room there is */
    cJSON_Delete(j);
  }
  for (k = 0; k < 5; k++)
    assert_true(sizes[k] > 0);
  free(orig);
  free(buf);
}

/* The function's dictionary: a word replaces a field, follows it (a
 * prefix the code tested stays in front) or lands inside it, and a JSON
 * body's object may get a polluting "__proto__" member; the md5 follows. */
static void test_words_and_pollution(void **state) {
  static const char *const word[] = {"restart "};
  const lk_words_t words = {word, 1};
  size_t len, n;
  char *orig = read_seed("sqs-json-body.json", &len), *buf = malloc(MAX);
  int whole = 0, inside = 0, proto = 0;
  unsigned seed;

  (void)state;
  for (seed = 1; seed < 3000; seed++) {
    cJSON *j, *r, *doc;
    const char *body;
    char md5[33];

    memcpy(buf, orig, len);
    n = lk_mutate_event_words(buf, len, MAX, seed, no_bytes, &words);
    if (n == 0)
      continue;
    j = cJSON_ParseWithLength(buf, n);
    r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Records"), 0);
    body = cJSON_GetObjectItem(r, "body")->valuestring;
    lk_md5_hex(body, strlen(body), md5);
    assert_string_equal(md5, cJSON_GetObjectItem(r, "md5OfBody")->valuestring);
    whole += strcmp(body, "restart ") == 0;
    inside += strstr(body, "restart ") && strcmp(body, "restart ") != 0;
    doc = cJSON_Parse(body);
    if (cJSON_GetObjectItem(doc, "__proto__"))
      proto += cJSON_IsString(cJSON_GetObjectItem(
          cJSON_GetObjectItem(doc, "__proto__"), "lambkin_canary_proto"));
    cJSON_Delete(doc);
    cJSON_Delete(j);
  }
  assert_true(whole > 0 && inside > 0 && proto > 0);
  /* Without words, never the word. */
  for (seed = 1; seed < 500; seed++) {
    memcpy(buf, orig, len);
    n = lk_mutate_event(buf, len, MAX, seed, no_bytes);
    assert_null(n ? memmem(buf, n, "restart ", 8) : NULL);
  }
  free(orig);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sqs_md5_follows_body),
      cmocka_unit_test(test_s3_key_stays_encoded),
      cmocka_unit_test(test_logs_payload_reencoded),
      cmocka_unit_test(test_ddb_key_follows_into_images),
      cmocka_unit_test(test_sns_message_and_attributes),
      cmocka_unit_test(test_kinesis_data_stays_base64),
      cmocka_unit_test(test_eventbridge_detail),
      cmocka_unit_test(test_crossover_takes_a_donor_field),
      cmocka_unit_test(test_fields_grow_to_boundary_sizes),
      cmocka_unit_test(test_unknown_input_refused),
      cmocka_unit_test(test_words_and_pollution),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
