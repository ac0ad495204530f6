/* libFuzzer target: EventBridge end to end, every call as the endpoint
 * takes it. The input is lines of "Action<TAB>JSON body", run in order
 * against a store with a rule (a pattern, targets with Input, InputPath
 * and InputTransformer) on the default bus. Invariants: each answer is
 * 200 or 400, a JSON object, and a 400 carries __type and message; every
 * delivery names a target of a rule and carries a payload; firing the
 * rules then returns or fails, never more. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eventbridge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 32

static void on_deliver(void *ud, const lk_eb_delivery_t *d) {
  (void)ud;
  CHECK(d->payload != NULL && d->target_arn != NULL && d->rule_arn != NULL);
  CHECK(strncmp(d->rule_arn, "arn:aws:events:", 15) == 0);
}

static lk_eb_t *store(void) {
  lk_eb_t *eb = lk_eb_new("us-east-1", "000000000000");
  cJSON *rule = cJSON_Parse(
      "{\"Name\":\"r1\",\"EventPattern\":{\"source\":[{\"prefix\":\"s\"}],"
      "\"detail\":{\"n\":[{\"numeric\":[\">\",0]}]}}}");
  const char *targets[] = {
      "{\"Id\":\"a\",\"Arn\":\"arn:aws:sqs:us-east-1:0:q\"}",
      "{\"Id\":\"b\",\"Arn\":\"arn:aws:sqs:us-east-1:0:q\",\"InputPath\":"
      "\"$.detail.n\"}",
      "{\"Id\":\"c\",\"Arn\":\"arn:aws:sns:us-east-1:0:t\","
      "\"InputTransformer\":"
      "{\"InputPathsMap\":{\"n\":\"$.detail.n\",\"s\":\"$.source\"},"
      "\"InputTemplate\":\"{\\\"n\\\": <n>, \\\"s\\\": \\\"<s>\\\", "
      "\\\"r\\\": \\\"<aws.events.rule-arn>\\\"}\"}}"};
  char err[512];
  size_t i;

  CHECK(lk_eb_put_rule(eb, NULL, rule, err, sizeof(err)) == 0);
  for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
    cJSON *t = cJSON_Parse(targets[i]);

    CHECK(lk_eb_put_target(eb, NULL, "r1", t, err, sizeof(err)) == 0);
    cJSON_Delete(t);
  }
  cJSON_Delete(rule);
  lk_eb_on_deliver(eb, on_deliver, NULL);
  return eb;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_eb_t *eb = store();
  const char *p = (const char *)data, *end = p + size;
  char op[96];
  int calls = 0;

  while (p < end && calls++ < MAX_CALLS) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    const char *tab = memchr(p, '\t', (size_t)(line_end - p));
    const char *body = tab ? tab + 1 : p;
    char *out = NULL;
    cJSON *ans;
    int status;

    snprintf(op, sizeof(op), "AWSEvents.%.*s", tab ? (int)(tab - p) : 9,
             tab ? p : "PutEvents");
    status = lk_eb_call(eb, op, "Root=1-fuzz", body, (size_t)(line_end - body),
                        &out);
    CHECK(status == 200 || status == 400);
    ans = cJSON_Parse(out);
    CHECK(cJSON_IsObject(ans));
    CHECK((status == 400) ==
          cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ans, "__type")));
    cJSON_Delete(ans);
    free(out);
    p = nl ? nl + 1 : end;
  }
  lk_eb_fire(eb, NULL, "r1", NULL);
  lk_eb_free(eb);
  return 0;
}
