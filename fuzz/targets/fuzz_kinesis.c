/* libFuzzer target: Kinesis end to end, every call as the endpoint takes
 * it. The input is lines of "Action<TAB>JSON body" (no tab: a PutRecord
 * body), run in order against a store with a stream of three shards.
 * Invariants: each answer is 200 or 400, a JSON object, a 400 with
 * __type and message; every record a shard gives back is in order. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kinesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 32

static cJSON *call(lk_kin_t *k, const char *op, const char *body, size_t len) {
  char target[96], *out = NULL;
  cJSON *ans;
  int status;

  snprintf(target, sizeof(target), "Kinesis_20131202.%s", op);
  status = lk_kin_call(k, target, "Root=1-fuzz", body, len, &out);
  CHECK(status == 200 || status == 400);
  ans = cJSON_Parse(out);
  CHECK(cJSON_IsObject(ans));
  CHECK((status == 400) ==
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ans, "__type")));
  free(out);
  return ans;
}

/* Each shard read from the start: sequence numbers only grow. */
static void in_order(lk_kin_t *k) {
  int i;

  for (i = 0; i < 3; i++) {
    char body[160], prev[64] = "";
    cJSON *it, *page;
    const cJSON *r;

    snprintf(body, sizeof(body),
             "{\"StreamName\":\"fz\",\"ShardId\":\"shardId-%012d\","
             "\"ShardIteratorType\":\"TRIM_HORIZON\"}",
             i);
    it = call(k, "GetShardIterator", body, strlen(body));
    snprintf(body, sizeof(body), "{\"ShardIterator\":\"%.120s\"}",
             cJSON_GetStringValue(
                 cJSON_GetObjectItemCaseSensitive(it, "ShardIterator")));
    page = call(k, "GetRecords", body, strlen(body));
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(page, "Records")) {
      const char *seq = cJSON_GetStringValue(
          cJSON_GetObjectItemCaseSensitive(r, "SequenceNumber"));

      CHECK(seq && strcmp(prev, seq) < 0);
      snprintf(prev, sizeof(prev), "%s", seq);
    }
    cJSON_Delete(it);
    cJSON_Delete(page);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_kin_t *k = lk_kin_new("us-east-1", "000000000000");
  const char *p = (const char *)data, *end = p + size;
  char op[64];
  int calls = 0;

  CHECK(lk_kin_create_stream(k, "fz", 3) == 0);
  while (p < end && calls++ < MAX_CALLS) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    const char *tab = memchr(p, '\t', (size_t)(line_end - p));
    const char *body = tab ? tab + 1 : p;

    snprintf(op, sizeof(op), "%.*s", tab ? (int)(tab - p) : 9,
             tab ? p : "PutRecord");
    cJSON_Delete(call(k, op, body, (size_t)(line_end - body)));
    p = nl ? nl + 1 : end;
  }
  in_order(k);
  lk_kin_free(k);
  return 0;
}
