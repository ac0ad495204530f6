/* libFuzzer target: DynamoDB end to end, every call as the endpoint
 * takes it. The input is lines of "Operation<TAB>JSON body" (a line
 * without a tab is a body for PutItem), run in order against a fresh
 * store that holds two tables: one with a sort key, a stream and a
 * global secondary index, one with Time to Live. Invariants: each answer
 * is 200 or 400, a JSON object, and a 400 carries __type and message as
 * the SDKs parse them; afterwards (and after a Time to Live sweep and a
 * stream read) every table's Scan counts what DescribeTable says it
 * holds, and every item it returns is one DynamoDB accepts. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ddb_value.h"
#include "dynamodb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 32

static const char *const tables[] = {
    "{\"TableName\":\"tab1\",\"BillingMode\":\"PAY_PER_REQUEST\","
    "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":"
    "\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"},"
    "{\"AttributeName\":\"gs\",\"AttributeType\":\"S\"}],\"KeySchema\":["
    "{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{\"AttributeName\":"
    "\"sk\",\"KeyType\":\"RANGE\"}],\"GlobalSecondaryIndexes\":[{"
    "\"IndexName\":\"g\",\"KeySchema\":[{\"AttributeName\":\"gs\","
    "\"KeyType\":\"HASH\"}],\"Projection\":{\"ProjectionType\":\"ALL\"}}],"
    "\"StreamSpecification\":{\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}}",
    "{\"TableName\":\"tab2\",\"BillingMode\":\"PAY_PER_REQUEST\","
    "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":"
    "\"S\"}],\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"
    "\"TimeToLiveSpecification\":{\"AttributeName\":\"exp\",\"Enabled\":"
    "true}}",
};

/* One call; its answer checked; the parsed answer (the caller's). */
static cJSON *call(lk_ddb_t *d, const char *op, const char *body, size_t len) {
  char target[128], *out = NULL;
  cJSON *ans;
  int status;

  snprintf(target, sizeof(target), "%s.%s",
           strncmp(op, "Stream.", 7) == 0 ? "DynamoDBStreams_20120810"
                                          : "DynamoDB_20120810",
           strncmp(op, "Stream.", 7) == 0 ? op + 7 : op);
  status = lk_ddb_call(d, target, "Root=1-fuzz", body, len, &out);
  CHECK(status == 200 || status == 400);
  CHECK(out != NULL);
  ans = cJSON_Parse(out);
  CHECK(cJSON_IsObject(ans));
  if (status == 400) {
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ans, "__type")));
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ans, "message")));
  } else {
    CHECK(cJSON_GetObjectItemCaseSensitive(ans, "__type") == NULL);
  }
  free(out);
  return ans;
}

/* A table's Scan, page by page, counts what DescribeTable says. */
static void scan_matches(lk_ddb_t *d, const char *table) {
  char body[512];
  cJSON *desc, *page, *last = NULL;
  double want, seen = 0;
  const cJSON *it;
  char err[256];
  int pages = 0;

  snprintf(body, sizeof(body), "{\"TableName\":\"%s\"}", table);
  desc = call(d, "DescribeTable", body, strlen(body));
  want = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(desc, "Table"), "ItemCount"));
  cJSON_Delete(desc);
  do {
    cJSON *req = cJSON_CreateObject();
    char *text;

    cJSON_AddStringToObject(req, "TableName", table);
    if (last)
      cJSON_AddItemToObject(req, "ExclusiveStartKey", last);
    text = cJSON_PrintUnformatted(req);
    page = call(d, "Scan", text, strlen(text));
    free(text);
    cJSON_Delete(req);
    seen +=
        cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(page, "Count"));
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "Items")) {
      cJSON *copy = cJSON_Duplicate(it, 1);

      CHECK(lk_ddb_item_check(copy, err, sizeof(err)) == 0);
      cJSON_Delete(copy);
    }
    last = cJSON_DetachItemFromObjectCaseSensitive(page, "LastEvaluatedKey");
    cJSON_Delete(page);
  } while (last && ++pages < 1000);
  cJSON_Delete(last);
  CHECK(seen == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_ddb_t *d = lk_ddb_new("us-east-1", "000000000000");
  const char *p = (const char *)data, *end = p + size;
  cJSON *list, *recs = cJSON_CreateArray(), *traces = cJSON_CreateArray();
  const cJSON *name;
  char err[512], op[64];
  int calls = 0, reader;
  size_t k;

  for (k = 0; k < sizeof(tables) / sizeof(tables[0]); k++) {
    cJSON *spec = cJSON_Parse(tables[k]);

    CHECK(lk_ddb_create_table(d, spec, err, sizeof(err)) == 0);
    cJSON_Delete(spec);
  }
  reader =
      lk_ddb_reader(d, "fuzz/E", "arn:aws:dynamodb:us-east-1:0:table/tab1", 0);
  while (p < end && calls++ < MAX_CALLS) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    const char *tab = memchr(p, '\t', (size_t)(line_end - p));
    const char *body = tab ? tab + 1 : p;

    snprintf(op, sizeof(op), "%.*s", tab ? (int)(tab - p) : 0, p);
    cJSON_Delete(
        call(d, tab ? op : "PutItem", body, (size_t)(line_end - body)));
    p = nl ? nl + 1 : end;
  }
  lk_ddb_expire(d, (uint64_t)4102444800000ULL); /* in 2100 */
  CHECK(lk_ddb_read(d, reader, 100, 1 << 20, recs, traces) ==
        cJSON_GetArraySize(traces));
  list = call(d, "ListTables", "{}", 2);
  cJSON_ArrayForEach(name,
                     cJSON_GetObjectItemCaseSensitive(list, "TableNames")) {
    if (cJSON_IsString(name))
      scan_matches(d, name->valuestring);
  }
  cJSON_Delete(list);
  cJSON_Delete(recs);
  cJSON_Delete(traces);
  lk_ddb_free(d);
  return 0;
}
