/* The events Lambda's sources send, built as AWS builds them: the S3
 * notification, the SQS record and the CloudWatch Logs subscription
 * payload, and SNS's. Each returns a new string or object the caller frees. */
#ifndef LK_EVENTS_H
#define LK_EVENTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sns.h"

/* One S3 notification record in {"Records":[...]}; etag NULL for a
 * removal (no size or eTag then). seq feeds the sequencer. */
char *lk_event_s3(const char *region, const char *bucket, const char *event,
                  const char *key, size_t size, const char *etag,
                  const char *config_id, unsigned long long seq);
/* One SQS record from a message in the SQS JSON protocol's shape
 * (MessageId, ReceiptHandle, Body, Attributes, MessageAttributes...). */
cJSON *lk_event_sqs_record(const char *region, const char *queue_arn,
                           const cJSON *msg);
/* {"awslogs":{"data": base64(gzip(json))}} for events [{id, timestamp,
 * message}] that matched a subscription filter. */
char *lk_event_logs(const char *owner, const char *group, const char *stream,
                    const char *filter, const cJSON *events);

/* An SNS notification as an SQS or HTTP subscriber gets it (the JSON
 * envelope; raw delivery is the message alone), and as a function gets
 * it ({"Records":[{"EventSource":"aws:sns", ...}]}). endpoint is
 * lambkin's, for the UnsubscribeURL. lambkin does not sign: Signature
 * says so. */
char *lk_event_sns_envelope(const lk_sns_delivery_t *d, const char *endpoint);
char *lk_event_sns(const lk_sns_delivery_t *d, const char *endpoint);
/* A sample of the above (`lambkin event sns`, the fuzzer's seeds): one
 * message with a String attribute "kind", on topic. */
char *lk_event_sns_sample(const char *region, const char *account,
                          const char *topic, const char *message);

#endif
