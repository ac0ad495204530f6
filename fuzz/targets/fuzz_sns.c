/* libFuzzer target: SNS end to end, every call as the endpoint takes it.
 * The input is lines of form-encoded requests (Action=Publish&...), run
 * in order against a store with a standard topic (a subscription with a
 * filter policy on attributes, one on the body) and a FIFO topic.
 * Invariants: each answer is SNS's XML (a Response, or an ErrorResponse
 * with a 4xx status); every delivery is for a subscription of the topic
 * published to, with a message, and passes no subscription a filter
 * should have kept it from. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 32

static int deliveries;

static void on_deliver(void *ud, const lk_sns_delivery_t *d) {
  (void)ud;
  CHECK(d->message != NULL && d->message_id != NULL);
  CHECK(strncmp(d->sub_arn, d->topic_arn, strlen(d->topic_arn)) == 0);
  /* the filtered subscription takes only kind=keep */
  if (strcmp(d->endpoint, "arn:aws:sqs:us-east-1:000000000000:kept") == 0) {
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(d->attributes, "kind");

    CHECK(kind != NULL);
    CHECK(strcmp(cJSON_GetStringValue(
                     cJSON_GetObjectItemCaseSensitive(kind, "Value")),
                 "keep") == 0);
  }
  deliveries++;
}

static lk_sns_t *store(void) {
  lk_sns_t *s = lk_sns_new("us-east-1", "000000000000");
  cJSON *filter = cJSON_Parse("{\"FilterPolicy\":{\"kind\":[\"keep\"]}}");
  cJSON *body = cJSON_Parse("{\"FilterPolicy\":{\"a\":{\"b\":[{\"numeric\":"
                            "[\">\",1]}]}},\"FilterPolicyScope\":"
                            "\"MessageBody\"}");
  char arn[600], sub[700], err[512];

  CHECK(lk_sns_create_topic(s, "tpc", 0, arn, sizeof(arn)) == 0);
  CHECK(lk_sns_subscribe(s, arn, "sqs",
                         "arn:aws:sqs:us-east-1:000000000000:kept", filter, sub,
                         sizeof(sub), err, sizeof(err)) == 0);
  CHECK(lk_sns_subscribe(s, arn, "lambda",
                         "arn:aws:lambda:us-east-1:000000000000:function:f",
                         body, sub, sizeof(sub), err, sizeof(err)) == 0);
  CHECK(lk_sns_create_topic(s, "q.fifo", 1, arn, sizeof(arn)) == 0);
  cJSON_Delete(filter);
  cJSON_Delete(body);
  lk_sns_on_deliver(s, on_deliver, NULL);
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_sns_t *s = store();
  const char *p = (const char *)data, *end = p + size;
  int calls = 0;

  deliveries = 0;
  while (p < end && calls++ < MAX_CALLS) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    char *out = NULL;
    int status = lk_sns_call(s, p, (size_t)(line_end - p), "Root=1-fuzz", &out);

    CHECK(out != NULL);
    if (status == 200)
      CHECK(strstr(out, "Response xmlns=") != NULL &&
            strncmp(out, "<ErrorResponse", 14) != 0);
    else
      CHECK(status >= 400 && status < 500 &&
            strncmp(out, "<ErrorResponse", 14) == 0);
    free(out);
    p = nl ? nl + 1 : end;
  }
  lk_sns_free(s);
  return 0;
}
