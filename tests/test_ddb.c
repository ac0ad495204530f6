/* DynamoDB's values and tables: numbers as DynamoDB stores and orders
 * them, the checks on what a client sends, and a table that keeps a
 * partition's items in sort key order through puts and deletes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ddb_expr.h"
#include "ddb_legacy.h"
#include "ddb_table.h"
#include "ddb_value.h"

static void canon_is(const char *in, const char *want) {
  char out[LK_DDB_NUM_MAX], err[256];

  assert_int_equal(lk_ddb_num_canon(in, out, err, sizeof(err)), 0);
  assert_string_equal(out, want);
}

static void canon_fails(const char *in, const char *msg) {
  char out[LK_DDB_NUM_MAX], err[256];

  assert_int_equal(lk_ddb_num_canon(in, out, err, sizeof(err)), -1);
  assert_non_null(strstr(err, msg));
}

static void test_numbers(void **state) {
  char big[200];

  (void)state;
  canon_is("01.50", "1.5");
  canon_is("+0", "0");
  canon_is("-0.000", "0");
  canon_is("1e3", "1000");
  canon_is("1.5E-3", "0.0015");
  canon_is("-12.340e1", "-123.4");
  canon_is("99999999999999999999999999999999999999",
           "99999999999999999999999999999999999999");
  canon_is("1E+125", "1" /* then 125 zeros */
                     "0000000000000000000000000000000000000000000000000000"
                     "0000000000000000000000000000000000000000000000000000"
                     "000000000000000000000");
  canon_fails("1"
              "000000000000000000000000000000000000001",
              "more than 38 significant digits");
  canon_fails("1E126", "Number overflow");
  canon_fails("1E-131", "Number underflow");
  canon_fails("abc", "cannot be converted into a number");
  canon_fails("1e", "cannot be converted");
  canon_fails("", "cannot be converted");
  canon_fails("1.2.3", "cannot be converted");
  memset(big, '0', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  big[0] = '1';
  canon_fails(big, "Number overflow"); /* 199 digits, one significant */
  assert_true(lk_ddb_num_cmp("2", "10") < 0);
  assert_true(lk_ddb_num_cmp("-2", "-10") > 0);
  assert_true(lk_ddb_num_cmp("0.5", "0.49") > 0);
  assert_true(lk_ddb_num_cmp("-0.1", "0") < 0);
  assert_int_equal(lk_ddb_num_cmp("1.50", "1.5"), 0);
  assert_true(lk_ddb_num_cmp("100", "99.999") > 0);
}

static int check(const char *json, const char *msg) {
  cJSON *v = cJSON_Parse(json);
  char err[256] = "";
  int rc = lk_ddb_value_check(v, err, sizeof(err));

  if (msg)
    assert_non_null(strstr(err, msg));
  cJSON_Delete(v);
  return rc;
}

static void test_values(void **state) {
  (void)state;
  assert_int_equal(check("{\"S\":\"\"}", NULL), 0);
  assert_int_equal(check("{\"M\":{\"a\":{\"L\":[{\"NULL\":true}]}}}", NULL), 0);
  assert_int_equal(check("{}", "must contain exactly one"), -1);
  assert_int_equal(check("{\"S\":\"a\",\"N\":\"1\"}", "more than one"), -1);
  assert_int_equal(check("{\"NULL\":false}", "must have the value of true"),
                   -1);
  assert_int_equal(check("{\"NS\":[\"1\",\"1.0\"]}", "duplicates"), -1);
  assert_int_equal(check("{\"BS\":[]}", "Binary sets should not be empty"), -1);
  assert_int_equal(check("{\"X\":1}", "must contain exactly one"), -1);
}

static void test_nesting_limit(void **state) {
  char doc[4096];
  size_t n = 0;
  int i;

  (void)state;
  for (i = 0; i < 33; i++)
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "{\"L\":[");
  n += (size_t)snprintf(doc + n, sizeof(doc) - n, "{\"N\":\"1\"}");
  for (i = 0; i < 33; i++)
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}");
  assert_int_equal(check(doc, "Maximum nesting level is 32"), -1);
}

static cJSON *item(const char *pk, const char *sk) {
  char json[256];

  snprintf(json, sizeof(json), "{\"pk\":{\"S\":\"%s\"},\"sk\":{\"N\":\"%s\"}}",
           pk, sk);
  return cJSON_Parse(json);
}

static const char *part(const cJSON *it) {
  return it ? cJSON_GetObjectItem(it, "pk")->child->valuestring : "";
}

static const char *sk_of(const cJSON *it) {
  return cJSON_GetObjectItem(it, "sk")->child->valuestring;
}

/* A partition's ends, and the items either side of a sort key, found
 * by bound as a walk with next and prev finds them. */
static void bounds_hold(const lk_ddb_table_t *t) {
  cJSON *a = cJSON_Parse("{\"S\":\"a\"}"), *zero = cJSON_Parse("{\"N\":\"0\"}");
  cJSON *c = cJSON_Parse("{\"S\":\"c\"}"), *s = cJSON_Parse("{\"S\":\"0\"}");
  const cJSON *first = lk_ddb_table_bound(t, a, NULL, 0);
  const cJSON *last = lk_ddb_table_bound(t, a, NULL, 1);
  const cJSON *lo = lk_ddb_table_bound(t, a, zero, 0);
  const cJSON *hi = lk_ddb_table_bound(t, a, zero, 1);

  assert_string_equal(part(first), "a");
  assert_string_not_equal(part(lk_ddb_table_prev(t, first)), "a");
  assert_string_equal(part(last), "a");
  assert_string_not_equal(part(lk_ddb_table_next(t, last)), "a");
  assert_true(lk_ddb_num_cmp(sk_of(lo), "0") >= 0);
  assert_true(lk_ddb_num_cmp(sk_of(lk_ddb_table_prev(t, lo)), "0") < 0);
  assert_true(lk_ddb_num_cmp(sk_of(hi), "0") <= 0);
  assert_true(lk_ddb_num_cmp(sk_of(lk_ddb_table_next(t, hi)), "0") > 0);
  assert_null(lk_ddb_table_bound(t, c, NULL, 0)); /* no such partition */
  assert_null(lk_ddb_table_bound(t, a, s, 0));    /* a string for a number */
  cJSON_Delete(a);
  cJSON_Delete(zero);
  cJSON_Delete(c);
  cJSON_Delete(s);
}

static void test_table_order(void **state) {
  lk_ddb_key_def_t h = {"pk", 'S'}, r = {"sk", 'N'};
  lk_ddb_table_t *t = lk_ddb_table_new(&h, &r);
  const cJSON *it, *got;
  cJSON *old, *key;
  char sk[32], err[256], prev[64] = "";
  int i, n = 0;

  (void)state;
  for (i = 0; i < 1000; i++) { /* in an order far from sorted */
    snprintf(sk, sizeof(sk), "%d", (i * 7919) % 1000 - 500);
    assert_int_equal(lk_ddb_table_put(t, item(i % 2 ? "a" : "b", sk), &old, err,
                                      sizeof(err)),
                     0);
    assert_null(old);
  }
  assert_int_equal(lk_ddb_table_count(t), 1000);
  assert_int_equal(
      lk_ddb_table_put(t, item("a", "-499"), &old, err, sizeof(err)), 0);
  assert_non_null(old); /* the same key: replaced, not added */
  cJSON_Delete(old);
  assert_int_equal(lk_ddb_table_count(t), 1000);
  for (it = lk_ddb_table_first(t); it; it = lk_ddb_table_next(t, it)) {
    const char *p = cJSON_GetObjectItem(it, "pk")->child->valuestring;
    const char *s = cJSON_GetObjectItem(it, "sk")->child->valuestring;

    if (prev[0] && prev[0] == p[0])
      assert_true(lk_ddb_num_cmp(prev + 1, s) < 0);
    snprintf(prev, sizeof(prev), "%s%s", p, s);
    n++;
  }
  assert_int_equal(n, 1000);
  bounds_hold(t);
  key = item("a", "-499");
  assert_int_equal(lk_ddb_table_get(t, key, &got, err, sizeof(err)), 0);
  assert_non_null(got);
  assert_int_equal(lk_ddb_table_delete(t, key, &old, err, sizeof(err)), 0);
  assert_non_null(old);
  cJSON_Delete(old);
  assert_int_equal(lk_ddb_table_get(t, key, &got, err, sizeof(err)), 0);
  assert_null(got);
  assert_int_equal(lk_ddb_table_count(t), 999);
  cJSON_Delete(key);
  lk_ddb_table_free(t);
}

static void sum_is(const char *a, const char *b, int sub, const char *want) {
  char out[LK_DDB_NUM_MAX], err[256];

  assert_int_equal(lk_ddb_num_add(a, b, sub, out, err, sizeof(err)), 0);
  assert_string_equal(out, want);
}

static void test_arithmetic(void **state) {
  char out[LK_DDB_NUM_MAX], err[256];

  (void)state;
  sum_is("0.1", "0.2", 0, "0.3"); /* decimal, not binary floating point */
  sum_is("1", "1", 1, "0");
  sum_is("-5", "3", 0, "-2");
  sum_is("3", "-5", 1, "8");
  sum_is("0.001", "1000", 0, "1000.001");
  sum_is("99999999999999999999999999999999999999", "-1", 0,
         "99999999999999999999999999999999999998");
  assert_int_equal(lk_ddb_num_add("99999999999999999999999999999999999999",
                                  "0.1", 0, out, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "38 significant digits"));
}

/* Values :a.. and names #n for the expressions below. */
static const char *values_json =
    "{\":zero\":{\"N\":\"0\"},\":ten\":{\"N\":\"10\"},\":s\":{\"S\":\"ab\"},"
    "\":list\":{\"L\":[{\"S\":\"z\"}]},\":set\":{\"SS\":[\"y\"]},"
    "\":t\":{\"S\":\"N\"},\":one\":{\"N\":\"1\"}}";
static const char *item_json =
    "{\"id\":{\"S\":\"abc\"},\"n\":{\"N\":\"5\"},\"m\":{\"M\":{\"l\":{\"L\":["
    "{\"N\":\"1\"},{\"S\":\"x\"}]}}},\"tags\":{\"SS\":[\"x\",\"y\"]},"
    "\"name\":{\"S\":\"reserved words are fine here\"}}";

static int run(const char *text, int *ok) {
  cJSON *values = cJSON_Parse(values_json), *item = cJSON_Parse(item_json);
  cJSON *names = cJSON_Parse("{\"#n\":\"n\",\"#name\":\"name\"}");
  lk_ddb_names_t nm = {names, values, cJSON_CreateObject()};
  lk_ddb_expr_t *e;
  char err[512];
  int r = -1;

  *ok = lk_ddb_expr_parse(text, LK_DDB_CONDITION, "ConditionExpression", &nm,
                          &e, err, sizeof(err)) == 0;
  if (*ok) {
    r = lk_ddb_expr_test(e, item, err, sizeof(err));
    lk_ddb_expr_free(e);
  }
  cJSON_Delete(values);
  cJSON_Delete(item);
  cJSON_Delete(names);
  cJSON_Delete(nm.used);
  return r;
}

static int cond(const char *text) {
  int ok, r = run(text, &ok);

  assert_true(ok);
  return r;
}

static void test_conditions(void **state) {
  int ok;

  (void)state;
  assert_int_equal(cond("n > :zero AND n < :ten"), 1);
  assert_int_equal(cond("#n BETWEEN :one AND :ten"), 1);
  assert_int_equal(cond("NOT (n = :ten) OR id = :s"), 1);
  assert_int_equal(cond("n IN (:zero, :ten)"), 0);
  assert_int_equal(cond("attribute_exists(m.l[1])"), 1);
  assert_int_equal(cond("attribute_not_exists(m.l[2])"), 1);
  assert_int_equal(cond("begins_with(id, :s)"), 1);
  assert_int_equal(cond("contains(tags, :s)"), 0);
  assert_int_equal(cond("size(m.l) = :one"), 0);
  assert_int_equal(cond("size(id) > :one"), 1);
  assert_int_equal(cond("attribute_type(n, :t)"), 1);
  assert_int_equal(cond("n > :s"), 0); /* other types never compare */
  /* AND binds tighter than OR: read left to right it would be 0 */
  assert_int_equal(cond("n > :zero OR n = :ten AND n = :zero"), 1);
  run("n = = :one", &ok);
  assert_false(ok);
  run("n = :nope", &ok);
  assert_false(ok);
  run("#nope = :one", &ok);
  assert_false(ok);
  run("nofunc(n)", &ok);
  assert_false(ok);
  run("(n = :one", &ok);
  assert_false(ok);
  /* A reserved word is refused bare, in any case, and taken as #name;
   * a function named like one (size) is no attribute name. */
  run("name = :s", &ok);
  assert_false(ok);
  run("attribute_exists(m.Status)", &ok);
  assert_false(ok);
  assert_int_equal(cond("begins_with(#name, :s)"), 0);
  assert_int_equal(cond("attribute_exists(m.l) AND size(tags) > :one"), 1);
}

static cJSON *updated(const char *text, int *rc) {
  cJSON *values = cJSON_Parse(values_json), *item = cJSON_Parse(item_json);
  lk_ddb_names_t nm = {NULL, values, cJSON_CreateObject()};
  lk_ddb_expr_t *e;
  char err[512];

  assert_int_equal(lk_ddb_expr_parse(text, LK_DDB_UPDATE, "UpdateExpression",
                                     &nm, &e, err, sizeof(err)),
                   0);
  *rc = lk_ddb_expr_update(e, item, err, sizeof(err));
  lk_ddb_expr_free(e);
  cJSON_Delete(values);
  cJSON_Delete(nm.used);
  return item;
}

static const char *num_at(const cJSON *item, const char *name) {
  return cJSON_GetObjectItem(item, name)->child->valuestring;
}

static void test_updates(void **state) {
  cJSON *it;
  int rc;

  (void)state;
  it = updated("SET n = n + :ten, c = if_not_exists(c, :one) "
               "REMOVE m.l[0] ADD tags :set, k :one DELETE tags :set",
               &rc);
  assert_int_equal(rc, 0);
  assert_string_equal(num_at(it, "n"), "15");
  assert_string_equal(num_at(it, "c"), "1");
  assert_string_equal(num_at(it, "k"), "1");
  /* ADD of y (there already), then DELETE of y: x is left */
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(it, "tags")->child),
                   1);
  assert_int_equal(
      cJSON_GetArraySize(
          cJSON_GetObjectItem(cJSON_GetObjectItem(it, "m")->child, "l")->child),
      1);
  cJSON_Delete(it);
  it = updated("SET m.l = list_append(m.l, :list)", &rc);
  assert_int_equal(rc, 0);
  cJSON_Delete(it);
  it = updated("SET id = id + :one", &rc); /* a string is no number */
  assert_int_equal(rc, -1);
  cJSON_Delete(it);
  it = updated("SET nope.deeper = :one", &rc);
  assert_int_equal(rc, -1);
  cJSON_Delete(it);
}

/* A legacy request rewritten: the field it became, and the names and
 * values it made, as text. */
static void rewrites_to(const char *in, const char *field, const char *expr,
                        const char *names, const char *values) {
  cJSON *req = cJSON_Parse(in);
  char err[512], *n, *v;

  assert_non_null(req);
  assert_int_equal(lk_ddb_legacy_rewrite(req, err, sizeof(err)), 0);
  assert_string_equal(cJSON_GetObjectItem(req, field)->valuestring, expr);
  n = cJSON_PrintUnformatted(
      cJSON_GetObjectItem(req, "ExpressionAttributeNames"));
  v = cJSON_PrintUnformatted(
      cJSON_GetObjectItem(req, "ExpressionAttributeValues"));
  assert_string_equal(n, names);
  assert_string_equal(v ? v : "none", values);
  assert_null(cJSON_GetObjectItem(req, "ConditionalOperator"));
  free(n);
  free(v);
  cJSON_Delete(req);
}

static void legacy_fails(const char *in, const char *msg) {
  cJSON *req = cJSON_Parse(in);
  char err[512];

  assert_int_equal(lk_ddb_legacy_rewrite(req, err, sizeof(err)), -1);
  assert_non_null(strstr(err, msg));
  cJSON_Delete(req);
}

static void test_legacy_parameters(void **state) {
  (void)state;
  rewrites_to("{\"KeyConditions\":{\"pk\":{\"ComparisonOperator\":\"EQ\","
              "\"AttributeValueList\":[{\"S\":\"a\"}]},\"sk\":{"
              "\"ComparisonOperator\":\"BETWEEN\",\"AttributeValueList\":"
              "[{\"N\":\"1\"},{\"N\":\"5\"}]}}}",
              "KeyConditionExpression",
              "#lk0 = :lk1 AND #lk2 BETWEEN :lk3 AND :lk4",
              "{\"#lk0\":\"pk\",\"#lk2\":\"sk\"}",
              "{\":lk1\":{\"S\":\"a\"},\":lk3\":{\"N\":\"1\"},\":lk4\":{"
              "\"N\":\"5\"}}");
  rewrites_to("{\"ScanFilter\":{\"a\":{\"ComparisonOperator\":\"NULL\"},"
              "\"b\":{\"ComparisonOperator\":\"IN\",\"AttributeValueList\":"
              "[{\"S\":\"x\"},{\"S\":\"y\"}]}},\"ConditionalOperator\":"
              "\"OR\"}",
              "FilterExpression",
              "(attribute_not_exists(#lk0)) OR (#lk1 IN (:lk2, :lk3))",
              "{\"#lk0\":\"a\",\"#lk1\":\"b\"}",
              "{\":lk2\":{\"S\":\"x\"},\":lk3\":{\"S\":\"y\"}}");
  rewrites_to("{\"Expected\":{\"v\":{\"Value\":{\"N\":\"1\"}},\"w\":"
              "{\"Exists\":false}}}",
              "ConditionExpression",
              "(#lk0 = :lk1) AND (attribute_not_exists(#lk2))",
              "{\"#lk0\":\"v\",\"#lk2\":\"w\"}", "{\":lk1\":{\"N\":\"1\"}}");
  rewrites_to("{\"AttributeUpdates\":{\"a\":{\"Value\":{\"S\":\"x\"}},"
              "\"n\":{\"Action\":\"ADD\",\"Value\":{\"N\":\"2\"}},"
              "\"gone\":{\"Action\":\"DELETE\"},\"b\":{\"Action\":"
              "\"PUT\",\"Value\":{\"BOOL\":true}}}}",
              "UpdateExpression",
              "SET #lk0 = :lk1, #lk2 = :lk3 ADD #lk4 :lk5 REMOVE #lk6",
              "{\"#lk0\":\"a\",\"#lk2\":\"b\",\"#lk4\":\"n\",\"#lk6\":"
              "\"gone\"}",
              "{\":lk1\":{\"S\":\"x\"},\":lk3\":{\"BOOL\":true},\":lk5\":{"
              "\"N\":\"2\"}}");
  rewrites_to("{\"AttributesToGet\":[\"a\",\"b.c\"]}", "ProjectionExpression",
              "#lk0, #lk1", "{\"#lk0\":\"a\",\"#lk1\":\"b.c\"}", "none");
  legacy_fails("{\"AttributesToGet\":[\"a\"],\"ProjectionExpression\":\"a\"}",
               "Can not use both expression and non-expression parameters "
               "in the same request: Non-expression parameters: "
               "{AttributesToGet} Expression parameters: "
               "{ProjectionExpression}");
  legacy_fails("{\"ScanFilter\":{\"a\":{\"ComparisonOperator\":\"EQ\"}}}",
               "Invalid number of argument(s) for the EQ ComparisonOperator");
  legacy_fails("{\"Expected\":{\"a\":{\"Exists\":false,\"Value\":{\"S\":"
               "\"x\"}}}}",
               "Value cannot be used when Exists is false");
  legacy_fails("{\"ScanFilter\":{\"a\":{\"ComparisonOperator\":\"LIKE\","
               "\"AttributeValueList\":[]}}}",
               "comparisonOperator");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_table_order),
      cmocka_unit_test(test_arithmetic),
      cmocka_unit_test(test_conditions),
      cmocka_unit_test(test_updates),
      cmocka_unit_test(test_legacy_parameters),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
