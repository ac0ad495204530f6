/* Event patterns: each operator of EventBridge's language on the values
 * AWS's documentation gives, arrays in events, nesting, $or, and the
 * patterns Lambda refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pattern.h"

/* 1 or 0 as the pattern (checked first) matches the event. */
static int matches(const char *pattern, const char *event) {
  cJSON *p = cJSON_Parse(pattern), *e = cJSON_Parse(event);
  char err[256];
  int r;

  assert_non_null(p);
  assert_non_null(e);
  assert_int_equal(lk_pattern_check(p, err, sizeof(err)), 0);
  r = lk_pattern_match(p, e);
  cJSON_Delete(p);
  cJSON_Delete(e);
  return r;
}

static void refused(const char *pattern, const char *why) {
  cJSON *p = cJSON_Parse(pattern);
  char err[256];

  assert_int_equal(lk_pattern_check(p, err, sizeof(err)), -1);
  assert_non_null(strstr(err, why));
  cJSON_Delete(p);
}

static void test_exact_values(void **state) {
  (void)state;
  assert_true(matches("{\"source\":[\"shop\"]}", "{\"source\":\"shop\"}"));
  assert_false(matches("{\"source\":[\"shop\"]}", "{\"source\":\"Shop\"}"));
  assert_false(matches("{\"source\":[\"shop\"]}", "{}"));
  assert_true(matches("{\"n\":[5]}", "{\"n\":5.0}"));
  assert_false(matches("{\"n\":[5]}", "{\"n\":\"5\"}"));
  assert_true(matches("{\"b\":[true, null]}", "{\"b\":null}"));
  assert_false(matches("{\"b\":[true]}", "{\"b\":false}"));
  /* one of the event's array is enough */
  assert_true(matches("{\"tags\":[\"b\"]}", "{\"tags\":[\"a\",\"b\"]}"));
  assert_false(matches("{\"tags\":[\"c\"]}", "{\"tags\":[\"a\",\"b\"]}"));
  /* every field of the pattern must hold */
  assert_false(matches("{\"a\":[1],\"b\":[2]}", "{\"a\":1,\"b\":3}"));
}

static void test_string_operators(void **state) {
  (void)state;
  assert_true(matches("{\"k\":[{\"prefix\":\"img/\"}]}", "{\"k\":\"img/a\"}"));
  assert_false(
      matches("{\"k\":[{\"prefix\":\"img/\"}]}", "{\"k\":\"x/img/\"}"));
  assert_true(matches("{\"k\":[{\"suffix\":\".png\"}]}", "{\"k\":\"a.png\"}"));
  assert_false(matches("{\"k\":[{\"suffix\":\".png\"}]}", "{\"k\":\"png\"}"));
  assert_true(matches("{\"k\":[{\"equals-ignore-case\":\"ALICE\"}]}",
                      "{\"k\":\"alice\"}"));
  assert_true(matches("{\"k\":[{\"wildcard\":\"dir/*/file*.png\"}]}",
                      "{\"k\":\"dir/a/b/file-1.png\"}"));
  assert_false(matches("{\"k\":[{\"wildcard\":\"dir/*.png\"}]}",
                       "{\"k\":\"dir/a.jpg\"}"));
  /* operators on strings do not match numbers */
  assert_false(matches("{\"k\":[{\"prefix\":\"1\"}]}", "{\"k\":12}"));
}

static void test_anything_but(void **state) {
  (void)state;
  assert_true(
      matches("{\"s\":[{\"anything-but\":\"done\"}]}", "{\"s\":\"open\"}"));
  assert_false(
      matches("{\"s\":[{\"anything-but\":\"done\"}]}", "{\"s\":\"done\"}"));
  assert_false(
      matches("{\"s\":[{\"anything-but\":[\"a\",\"b\"]}]}", "{\"s\":\"b\"}"));
  assert_true(matches("{\"s\":[{\"anything-but\":[1,2]}]}", "{\"s\":3}"));
  assert_false(matches("{\"s\":[{\"anything-but\":{\"prefix\":\"tmp\"}}]}",
                       "{\"s\":\"tmp/x\"}"));
  assert_true(matches("{\"s\":[{\"anything-but\":{\"suffix\":\".tmp\"}}]}",
                      "{\"s\":\"x.txt\"}"));
  /* an absent field is not "anything but" */
  assert_false(matches("{\"s\":[{\"anything-but\":\"done\"}]}", "{}"));
}

static void test_numeric_exists_cidr(void **state) {
  (void)state;
  assert_true(
      matches("{\"p\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"p\":5}"));
  assert_false(
      matches("{\"p\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"p\":0}"));
  assert_false(matches("{\"p\":[{\"numeric\":[\"=\",3]}]}", "{\"p\":\"3\"}"));
  assert_true(matches("{\"p\":[{\"exists\":true}]}", "{\"p\":0}"));
  assert_false(matches("{\"p\":[{\"exists\":true}]}", "{\"q\":0}"));
  assert_true(matches("{\"p\":[{\"exists\":false}]}", "{\"q\":0}"));
  assert_true(matches("{\"a\":{\"b\":[{\"exists\":false}]}}", "{}"));
  assert_true(matches("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}",
                      "{\"ip\":\"10.0.0.255\"}"));
  assert_false(matches("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}",
                       "{\"ip\":\"10.0.1.0\"}"));
  assert_true(matches("{\"ip\":[{\"cidr\":\"2001:db8::/32\"}]}",
                      "{\"ip\":\"2001:db8:1::1\"}"));
}

static void test_nesting_and_or(void **state) {
  const char *ddb =
      "{\"eventName\":\"INSERT\",\"dynamodb\":{\"NewImage\":{\"kind\":"
      "{\"S\":\"keep-1\"},\"n\":{\"N\":\"3\"}}}}";

  (void)state;
  assert_true(matches("{\"dynamodb\":{\"NewImage\":{\"kind\":{\"S\":"
                      "[{\"prefix\":\"keep\"}]}}}}",
                      ddb));
  assert_false(matches("{\"dynamodb\":{\"OldImage\":{\"kind\":{\"S\":"
                       "[\"keep-1\"]}}}}",
                       ddb));
  assert_true(matches("{\"$or\":[{\"eventName\":[\"REMOVE\"]},"
                      "{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[\"3\"]}}}}]}",
                      ddb));
  assert_false(matches("{\"$or\":[{\"eventName\":[\"REMOVE\"]},"
                       "{\"eventName\":[\"MODIFY\"]}]}",
                       ddb));
  /* a nested pattern against an array of objects: any of them */
  assert_true(matches("{\"r\":{\"k\":[\"b\"]}}",
                      "{\"r\":[{\"k\":\"a\"},{\"k\":\"b\"}]}"));
}

static void test_refused(void **state) {
  (void)state;
  refused("[\"x\"]", "Filter is not an object");
  refused("{\"a\":\"x\"}", "Match value must be");
  refused("{\"a\":[]}", "Empty arrays are not allowed");
  refused("{\"a\":[{\"sorta\":\"x\"}]}", "Unrecognized match type sorta");
  refused("{\"a\":[{\"prefix\":1}]}", "prefix match pattern must be a string");
  refused("{\"a\":[{\"numeric\":[\">\"]}]}", "numeric must be an array");
  refused("{\"a\":[{\"numeric\":[\"~\",1]}]}", "Unrecognized numeric");
  refused("{\"a\":[{\"exists\":1}]}", "either true or false");
  refused("{\"a\":[{\"prefix\":\"a\",\"suffix\":\"b\"}]}", "Only one key");
  refused("{\"$or\":[{\"a\":[1]}]}", "$or must be an array of at least 2");
  refused("{\"a\":[{\"anything-but\":{\"numeric\":[\">\",1]}}]}",
          "anything-but");
}

static void test_depth_limit(void **state) {
  char text[4096];
  size_t n = 0;
  int i;
  cJSON *p;
  char err[256];

  (void)state;
  for (i = 0; i < LK_PATTERN_MAX_DEPTH + 2; i++)
    n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"a\":");
  n += (size_t)snprintf(text + n, sizeof(text) - n, "[1]");
  for (i = 0; i < LK_PATTERN_MAX_DEPTH + 2; i++)
    n += (size_t)snprintf(text + n, sizeof(text) - n, "}");
  p = cJSON_Parse(text);
  assert_int_equal(lk_pattern_check(p, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "nested too deeply"));
  cJSON_Delete(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_values),
      cmocka_unit_test(test_string_operators),
      cmocka_unit_test(test_anything_but),
      cmocka_unit_test(test_numeric_exists_cidr),
      cmocka_unit_test(test_nesting_and_or),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_depth_limit),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
