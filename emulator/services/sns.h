/* Emulated SNS on the query protocol (form-encoded requests, XML
 * answers, as the aws CLI, boto3 and the JS SDK v3 send and parse them):
 * topics (standard and FIFO), subscriptions with their attributes
 * (FilterPolicy on message attributes or on the body, RawMessageDelivery,
 * RedrivePolicy), Publish and PublishBatch. A message is matched against
 * each subscription's filter policy here; what passes goes to the
 * delivery hook, which the event sources turn into an invocation or an
 * SQS message. The store owns its topics and subscriptions. */
#ifndef LK_SNS_H
#define LK_SNS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"

#define LK_SNS_MAX_TOPICS 1000
#define LK_SNS_MAX_SUBS 10000
#define LK_SNS_MAX_MESSAGE (256 * 1024) /* message and attributes */

typedef struct lk_sns lk_sns_t;

/* One message for one subscription. attributes: {name: {"Type",
 * "Value"}} as SNS's events carry them (NULL: none). */
typedef struct lk_sns_delivery {
  const char *type;  /* "Notification", or "SubscriptionConfirmation" */
  const char *token; /* a SubscriptionConfirmation's, else NULL */
  const char *topic_arn, *sub_arn, *protocol, *endpoint;
  const char *message_id, *subject, *message, *timestamp;
  const cJSON *attributes;
  const char *group_id;    /* FIFO: MessageGroupId, else NULL */
  const char *trace;       /* the publisher's X-Amzn-Trace-Id, or NULL */
  const char *dead_letter; /* RedrivePolicy's queue ARN, or NULL */
  int raw;                 /* RawMessageDelivery */
} lk_sns_delivery_t;

typedef void (*lk_sns_deliver_cb)(void *ud, const lk_sns_delivery_t *d);

lk_sns_t *lk_sns_new(const char *region, const char *account);
void lk_sns_free(lk_sns_t *s);
void lk_sns_on_deliver(lk_sns_t *s, lk_sns_deliver_cb cb, void *ud);
/* A topic (fifo: a name ending .fifo); its ARN into arn. 0 (made, or
 * there already), or LK_EINVAL for a name SNS refuses. */
int lk_sns_create_topic(lk_sns_t *s, const char *name, int fifo, char *arn,
                        size_t cap);
/* A subscription to a topic by its ARN; attrs: {FilterPolicy (text or
 * object), FilterPolicyScope, RawMessageDelivery, ...} or NULL. Its ARN
 * (a new one, or the one of the same protocol and endpoint there
 * already) into arn; 0, LK_ENOENT (no such topic) or LK_EINVAL (with
 * SNS's message in err). */
int lk_sns_subscribe(lk_sns_t *s, const char *topic_arn, const char *protocol,
                     const char *endpoint, const cJSON *attrs, char *arn,
                     size_t arn_cap, char *err, size_t errlen);
/* Publishes a message to a topic as Publish does, from inside lambkin
 * (an EventBridge target): 0, LK_ENOENT (no such topic) or LK_EINVAL (a
 * message Publish would refuse). */
int lk_sns_publish(lk_sns_t *s, const char *topic_arn, const char *message,
                   const char *trace);

/* --state: every topic and subscription to one file, and back; a
 * subscription the template made again keeps the ARN it had. */
int lk_sns_save(lk_sns_t *s, const char *path, uint64_t gen);
int lk_sns_load(lk_sns_t *s, const char *path, uint64_t *gen);
/* Every change made through the API from now on goes to cb as a durable
 * record ({"sns": "topic"|"untopic"|"sub"|"unsub", ...}); lk_sns_apply
 * replays one. */
void lk_sns_on_record(lk_sns_t *s, lk_record_cb cb, void *ud);
void lk_sns_apply(lk_sns_t *s, const cJSON *record);

/* 1 for a request in SNS's query protocol (its signature's scope, or
 * an Action only SNS has). */
int lk_sns_is_request(const lk_http_req_t *req);
void lk_sns_serve(lk_sns_t *s, lk_http_req_t *req);
/* The same without HTTP: one form-encoded request by trace's caller (or
 * NULL); the HTTP status, and the XML answer in *out (the caller's). */
int lk_sns_call(lk_sns_t *s, const char *form, size_t len, const char *trace,
                char **out);

#endif
