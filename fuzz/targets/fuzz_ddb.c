/* libFuzzer target: what a DynamoDB client sends. The whole input as an
 * item (a PutItem's Item) and as a number: the checker returns or fails,
 * never more; what it accepts is canonical, so a second check changes
 * nothing and keeps the same size; a number compares equal to the text it
 * came from. Its first line as an expression (condition, update and
 * projection) over a fixed item, with placeholders the seeds use: parsing
 * returns or fails with a message; an update applied to a copy leaves an
 * item the checker accepts, or fails; a projection keeps only what the
 * item has. The whole input as a request with legacy parameters too:
 * rewritten, it has none left, and every expression it got parses with
 * the placeholders it got, each of them used. */
#include "check.h"
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ddb_expr.h"
#include "ddb_legacy.h"
#include "ddb_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as one number's text too, when it is short. */
static void number(const uint8_t *data, size_t size) {
  char text[256], a[LK_DDB_NUM_MAX], b[LK_DDB_NUM_MAX], err[256];

  if (size >= sizeof(text) || memchr(data, '\0', size))
    return;
  memcpy(text, data, size);
  text[size] = '\0';
  if (lk_ddb_num_canon(text, a, err, sizeof(err)) != 0)
    return;
  CHECK(strlen(a) < LK_DDB_NUM_MAX);
  CHECK(lk_ddb_num_canon(a, b, err, sizeof(err)) == 0);
  CHECK(strcmp(a, b) == 0);
  CHECK(lk_ddb_num_cmp(a, text) == 0);
  CHECK(lk_ddb_num_cmp(a, "0") == -lk_ddb_num_cmp("0", a));
}

static const char *names_json = "{\"#a\":\"a\",\"#b\":\"b\"}";
static const char *values_json =
    "{\":n\":{\"N\":\"1.5\"},\":s\":{\"S\":\"x\"},\":l\":{\"L\":[{\"N\":"
    "\"1\"}]},\":ss\":{\"SS\":[\"x\"]},\":m\":{\"M\":{\"k\":{\"NULL\":true}}}}";
static const char *item_json =
    "{\"a\":{\"N\":\"2\"},\"b\":{\"S\":\"xyz\"},\"l\":{\"L\":[{\"N\":\"1\"},"
    "{\"M\":{\"c\":{\"SS\":[\"x\",\"y\"]}}}]},\"m\":{\"M\":{\"d\":{\"BOOL\":"
    "true}}}}";

static void one_kind(const char *text, lk_ddb_expr_kind_t kind) {
  cJSON *names = cJSON_Parse(names_json), *values = cJSON_Parse(values_json);
  cJSON *item = cJSON_Parse(item_json);
  lk_ddb_names_t nm = {names, values, cJSON_CreateObject()};
  lk_ddb_expr_t *e = NULL;
  char err[512];
  int rc;

  err[0] = '\0';
  rc = lk_ddb_expr_parse(text, kind, "Expression", &nm, &e, err, sizeof(err));
  CHECK(rc == 0 ? e != NULL : e == NULL && err[0] != '\0');
  if (e && kind == LK_DDB_CONDITION) {
    rc = lk_ddb_expr_test(e, item, err, sizeof(err));
    CHECK(rc == 0 || rc == 1 || rc == -1);
    rc = lk_ddb_expr_test(e, NULL, err, sizeof(err)); /* no item */
    CHECK(rc == 0 || rc == 1 || rc == -1);
  } else if (e && kind == LK_DDB_UPDATE) {
    cJSON *copy = cJSON_Duplicate(item, 1);

    if (lk_ddb_expr_update(e, copy, err, sizeof(err)) == 0)
      CHECK(lk_ddb_item_check(copy, err, sizeof(err)) == 0 ||
            strstr(err, "empty") || strstr(err, "Nesting"));
    cJSON_Delete(copy);
  } else if (e) {
    cJSON *p = lk_ddb_expr_project(e, item), *it;

    cJSON_ArrayForEach(it, p) CHECK(cJSON_GetObjectItem(item, it->string));
    cJSON_Delete(p);
  }
  lk_ddb_expr_free(e);
  cJSON_Delete(nm.used);
  cJSON_Delete(names);
  cJSON_Delete(values);
  cJSON_Delete(item);
}

/* The first line of the input, as an expression of each kind. */
static void expressions(const uint8_t *data, size_t size) {
  char text[LK_DDB_EXPR_MAX + 2];
  size_t n = 0;

  while (n < size && n < sizeof(text) - 1 && data[n] != '\n' && data[n])
    n++;
  memcpy(text, data, n);
  text[n] = '\0';
  one_kind(text, LK_DDB_CONDITION);
  one_kind(text, LK_DDB_UPDATE);
  one_kind(text, LK_DDB_PROJECTION);
}

static void legacy(const uint8_t *data, size_t size) {
  static const struct {
    const char *field;
    lk_ddb_expr_kind_t kind;
  } made[] = {{"ConditionExpression", LK_DDB_CONDITION},
              {"KeyConditionExpression", LK_DDB_CONDITION},
              {"FilterExpression", LK_DDB_CONDITION},
              {"UpdateExpression", LK_DDB_UPDATE},
              {"ProjectionExpression", LK_DDB_PROJECTION}};
  static const char *const old[] = {
      "Expected",    "AttributeUpdates", "AttributesToGet",    "KeyConditions",
      "QueryFilter", "ScanFilter",       "ConditionalOperator"};
  cJSON *req = cJSON_ParseWithLength((const char *)data, size);
  lk_ddb_names_t nm;
  char err[512];
  size_t k;
  int parsed = 1;

  if (lk_ddb_legacy_rewrite(req, err, sizeof(err)) != 0) {
    CHECK(err[0] != '\0');
    cJSON_Delete(req);
    return;
  }
  for (k = 0; cJSON_IsObject(req) && k < sizeof(old) / sizeof(old[0]); k++)
    CHECK(cJSON_GetObjectItemCaseSensitive(req, old[k]) == NULL);
  nm.names = cJSON_GetObjectItemCaseSensitive(req, "ExpressionAttributeNames");
  nm.values =
      cJSON_GetObjectItemCaseSensitive(req, "ExpressionAttributeValues");
  nm.used = cJSON_CreateObject();
  for (k = 0; k < sizeof(made) / sizeof(made[0]); k++) {
    const char *text = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(req, made[k].field));
    lk_ddb_expr_t *e = NULL;

    if (text == NULL)
      continue;
    if (lk_ddb_expr_parse(text, made[k].kind, made[k].field, &nm, &e, err,
                          sizeof(err)) != 0) {
      /* A placeholder it made is always defined. */
      CHECK(strstr(err, "not defined") == NULL);
      parsed = 0;
    }
    lk_ddb_expr_free(e);
  }
  if (parsed)
    CHECK(lk_ddb_names_check_unused(&nm, err, sizeof(err)) == 0);
  cJSON_Delete(nm.used);
  cJSON_Delete(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *item = cJSON_ParseWithLength((const char *)data, size);
  char err[256], *once, *twice;
  size_t n;

  number(data, size);
  expressions(data, size);
  legacy(data, size);
  if (item == NULL || lk_ddb_item_check(item, err, sizeof(err)) != 0) {
    cJSON_Delete(item);
    return 0;
  }
  once = cJSON_PrintUnformatted(item);
  n = lk_ddb_item_size(item);
  CHECK(lk_ddb_item_check(item, err, sizeof(err)) == 0);
  twice = cJSON_PrintUnformatted(item);
  CHECK(strcmp(once, twice) == 0);
  CHECK(lk_ddb_item_size(item) == n);
  cJSON_free(once);
  cJSON_free(twice);
  cJSON_Delete(item);
  return 0;
}
