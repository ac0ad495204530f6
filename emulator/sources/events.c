/* The events Lambda's sources send, built in one place for the event
 * sources that deliver them and for `lambkin event`, which prints samples
 * (the fuzzer's seeds). Every function returns memory the caller frees:
 * char * with free(), cJSON * with cJSON_Delete(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "events.h"
#include "ids.h"
#include "json.h"
#include "mem.h"
#include "runtime.h"

static void iso_now(char *out, size_t cap) {
  struct timespec ts;
  struct tm tm;
  char base[32];

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, cap, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* The key as S3 puts it in events: URL-encoded, spaces as '+'. */
static void event_key(const char *key, lk_buf_t *out) {
  lk_buf_t enc;
  size_t i;

  lk_buf_init(&enc, 16 * 1024);
  lk_url_encode(&enc, key, strlen(key), 1);
  for (i = 0; i < enc.len; i++) {
    if (i + 2 < enc.len && memcmp(enc.data + i, "%20", 3) == 0) {
      lk_buf_add(out, "+", 1);
      i += 2;
    } else {
      lk_buf_add(out, enc.data + i, 1);
    }
  }
  lk_buf_free(&enc);
}

char *lk_event_s3(const char *region, const char *bucket, const char *event,
                  const char *key, size_t size, const char *etag,
                  const char *config_id, unsigned long long seq) {
  cJSON *root = cJSON_CreateObject(), *recs, *r, *s3, *b, *o, *x;
  char when[40], arn[128], sequencer[24], rid[17];
  lk_buf_t k;
  char *out;

  iso_now(when, sizeof(when));
  snprintf(arn, sizeof(arn), "arn:aws:s3:::%s", bucket);
  snprintf(sequencer, sizeof(sequencer), "%016llX", seq);
  lk_hex(rid, 16);
  lk_buf_init(&k, 16 * 1024);
  event_key(key, &k);
  recs = cJSON_AddArrayToObject(root, "Records");
  r = cJSON_CreateObject();
  cJSON_AddItemToArray(recs, r);
  cJSON_AddStringToObject(r, "eventVersion", "2.1");
  cJSON_AddStringToObject(r, "eventSource", "aws:s3");
  cJSON_AddStringToObject(r, "awsRegion", region);
  cJSON_AddStringToObject(r, "eventTime", when);
  cJSON_AddStringToObject(r, "eventName", event);
  x = cJSON_AddObjectToObject(r, "userIdentity");
  cJSON_AddStringToObject(x, "principalId", "AWS:LAMBKIN");
  x = cJSON_AddObjectToObject(r, "requestParameters");
  cJSON_AddStringToObject(x, "sourceIPAddress", "127.0.0.1");
  x = cJSON_AddObjectToObject(r, "responseElements");
  cJSON_AddStringToObject(x, "x-amz-request-id", rid);
  cJSON_AddStringToObject(x, "x-amz-id-2", rid);
  s3 = cJSON_AddObjectToObject(r, "s3");
  cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
  cJSON_AddStringToObject(s3, "configurationId", config_id);
  b = cJSON_AddObjectToObject(s3, "bucket");
  cJSON_AddStringToObject(b, "name", bucket);
  x = cJSON_AddObjectToObject(b, "ownerIdentity");
  cJSON_AddStringToObject(x, "principalId", "LAMBKIN");
  cJSON_AddStringToObject(b, "arn", arn);
  o = cJSON_AddObjectToObject(s3, "object");
  cJSON_AddStringToObject(o, "key", lk_buf_str(&k));
  if (etag) { /* created: removals carry no size or eTag */
    cJSON_AddNumberToObject(o, "size", (double)size);
    cJSON_AddStringToObject(o, "eTag", etag);
  }
  cJSON_AddStringToObject(o, "sequencer", sequencer);
  out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  lk_buf_free(&k);
  return out;
}

cJSON *lk_event_sqs_record(const char *region, const char *queue_arn,
                           const cJSON *msg) {
  cJSON *r = cJSON_CreateObject(), *attrs, *ma, *in;
  const cJSON *a;

  cJSON_AddStringToObject(r, "messageId", lk_json_str(msg, "MessageId"));
  cJSON_AddStringToObject(r, "receiptHandle",
                          lk_json_str(msg, "ReceiptHandle"));
  cJSON_AddStringToObject(r, "body", lk_json_str(msg, "Body"));
  attrs =
      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(msg, "Attributes"), 1);
  cJSON_AddItemToObject(r, "attributes", attrs ? attrs : cJSON_CreateObject());
  ma = cJSON_AddObjectToObject(r, "messageAttributes");
  in = cJSON_GetObjectItemCaseSensitive(msg, "MessageAttributes");
  cJSON_ArrayForEach(a, in) {
    cJSON *v = cJSON_AddObjectToObject(ma, a->string);

    if (lk_json_str(a, "StringValue"))
      cJSON_AddStringToObject(v, "stringValue", lk_json_str(a, "StringValue"));
    if (lk_json_str(a, "BinaryValue"))
      cJSON_AddStringToObject(v, "binaryValue", lk_json_str(a, "BinaryValue"));
    cJSON_AddArrayToObject(v, "stringListValues");
    cJSON_AddArrayToObject(v, "binaryListValues");
    cJSON_AddStringToObject(v, "dataType", lk_json_str(a, "DataType"));
  }
  if (lk_json_str(msg, "MD5OfMessageAttributes"))
    cJSON_AddStringToObject(r, "md5OfMessageAttributes",
                            lk_json_str(msg, "MD5OfMessageAttributes"));
  cJSON_AddStringToObject(r, "md5OfBody", lk_json_str(msg, "MD5OfBody"));
  cJSON_AddStringToObject(r, "eventSource", "aws:sqs");
  cJSON_AddStringToObject(r, "eventSourceARN", queue_arn);
  cJSON_AddStringToObject(r, "awsRegion", region);
  return r;
}

char *lk_event_logs(const char *owner, const char *group, const char *stream,
                    const char *filter, const cJSON *events) {
  cJSON *doc = cJSON_CreateObject(), *arr;
  char *json, *out = NULL;
  lk_buf_t gz, b64, payload;

  cJSON_AddStringToObject(doc, "messageType", "DATA_MESSAGE");
  cJSON_AddStringToObject(doc, "owner", owner);
  cJSON_AddStringToObject(doc, "logGroup", group);
  cJSON_AddStringToObject(doc, "logStream", stream);
  arr = cJSON_AddArrayToObject(doc, "subscriptionFilters");
  cJSON_AddItemToArray(arr, cJSON_CreateString(filter));
  cJSON_AddItemToObject(doc, "logEvents", cJSON_Duplicate(events, 1));
  json = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  lk_buf_init(&gz, LK_ASYNC_MAX_PAYLOAD);
  lk_buf_init(&b64, LK_ASYNC_MAX_PAYLOAD);
  lk_buf_init(&payload, LK_ASYNC_MAX_PAYLOAD);
  lk_gzip(&gz, json, strlen(json));
  lk_b64_encode(&b64, lk_buf_str(&gz), gz.len);
  lk_buf_adds(&payload, "{\"awslogs\":{\"data\":\"");
  lk_buf_add(&payload, lk_buf_str(&b64), b64.len);
  lk_buf_adds(&payload, "\"}}");
  if (lk_buf_error(&gz) == 0 && lk_buf_error(&b64) == 0)
    out = lk_buf_steal(&payload, NULL); /* NULL when it did not fit */
  free(json);
  lk_buf_free(&gz);
  lk_buf_free(&b64);
  lk_buf_free(&payload);
  return out;
}

/* ---- SNS ---- */

#define SNS_SIGNATURE "bGFtYmtpbiBkb2VzIG5vdCBzaWduIGl0cyBtZXNzYWdlcw=="

/* The fields envelope and event share; cert and unsub name their URL
 * fields (the event spells them SigningCertUrl, the envelope ...URL). */
static void sns_fields(cJSON *o, const lk_sns_delivery_t *d,
                       const char *endpoint, int event) {
  char *unsub, region[64] = "us-east-1";
  const char *r = strstr(d->topic_arn, ":sns:");

  if (r && strchr(r + 5, ':'))
    snprintf(region, sizeof(region), "%.*s", (int)(strchr(r + 5, ':') - r - 5),
             r + 5);
  cJSON_AddStringToObject(o, "Type", "Notification");
  cJSON_AddStringToObject(o, "MessageId", d->message_id);
  cJSON_AddStringToObject(o, "TopicArn", d->topic_arn);
  if (d->subject)
    cJSON_AddStringToObject(o, "Subject", d->subject);
  else if (event)
    cJSON_AddNullToObject(o, "Subject");
  cJSON_AddStringToObject(o, "Message", d->message);
  cJSON_AddStringToObject(o, "Timestamp", d->timestamp);
  cJSON_AddStringToObject(o, "SignatureVersion", "1");
  cJSON_AddStringToObject(o, "Signature", SNS_SIGNATURE);
  unsub = lk_xasprintf("https://sns.%s.amazonaws.com/"
                       "SimpleNotificationService-lambkin.pem",
                       region);
  cJSON_AddStringToObject(o, event ? "SigningCertUrl" : "SigningCertURL",
                          unsub);
  free(unsub);
  unsub = lk_xasprintf("%s/?Action=Unsubscribe&SubscriptionArn=%s", endpoint,
                       d->sub_arn);
  cJSON_AddStringToObject(o, event ? "UnsubscribeUrl" : "UnsubscribeURL",
                          unsub);
  free(unsub);
  if (d->attributes)
    cJSON_AddItemToObject(o, "MessageAttributes",
                          cJSON_Duplicate(d->attributes, 1));
  else if (event)
    cJSON_AddObjectToObject(o, "MessageAttributes");
}

/* What an http(s) subscriber that has not confirmed gets: a token and
 * the URL (lambkin's) that confirms with it. */
static void confirmation_fields(cJSON *o, const lk_sns_delivery_t *d,
                                const char *endpoint) {
  char *url = lk_xasprintf("%s/?Action=ConfirmSubscription&TopicArn=%s"
                           "&Token=%s",
                           endpoint, d->topic_arn, d->token);

  cJSON_AddStringToObject(o, "Type", "SubscriptionConfirmation");
  cJSON_AddStringToObject(o, "MessageId", d->message_id);
  cJSON_AddStringToObject(o, "Token", d->token);
  cJSON_AddStringToObject(o, "TopicArn", d->topic_arn);
  cJSON_AddStringToObject(o, "Message", d->message);
  cJSON_AddStringToObject(o, "SubscribeURL", url);
  cJSON_AddStringToObject(o, "Timestamp", d->timestamp);
  cJSON_AddStringToObject(o, "SignatureVersion", "1");
  cJSON_AddStringToObject(o, "Signature", SNS_SIGNATURE);
  free(url);
}

char *lk_event_sns_envelope(const lk_sns_delivery_t *d, const char *endpoint) {
  cJSON *o = cJSON_CreateObject();
  char *out;

  if (d->token)
    confirmation_fields(o, d, endpoint);
  else
    sns_fields(o, d, endpoint, 0);
  out = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return out;
}

char *lk_event_sns(const lk_sns_delivery_t *d, const char *endpoint) {
  cJSON *root = cJSON_CreateObject(), *r = cJSON_CreateObject();
  char *out;

  cJSON_AddStringToObject(r, "EventSource", "aws:sns");
  cJSON_AddStringToObject(r, "EventVersion", "1.0");
  cJSON_AddStringToObject(r, "EventSubscriptionArn", d->sub_arn);
  sns_fields(cJSON_AddObjectToObject(r, "Sns"), d, endpoint, 1);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "Records"), r);
  out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return out;
}

char *lk_event_sns_sample(const char *region, const char *account,
                          const char *topic, const char *message) {
  cJSON *attrs = cJSON_CreateObject(), *kind;
  char id[37], when[40], *topic_arn, *sub_arn, *out;
  lk_sns_delivery_t d;

  lk_uuid(id);
  iso_now(when, sizeof(when));
  topic_arn = lk_xasprintf("arn:aws:sns:%s:%s:%s", region, account, topic);
  sub_arn = lk_xasprintf("%s:%s", topic_arn, id);
  kind = cJSON_AddObjectToObject(attrs, "kind");
  cJSON_AddStringToObject(kind, "Type", "String");
  cJSON_AddStringToObject(kind, "Value", "sample");
  memset(&d, 0, sizeof(d));
  d.topic_arn = topic_arn;
  d.sub_arn = sub_arn;
  d.protocol = "lambda";
  d.message_id = id;
  d.subject = "sample";
  d.message = message;
  d.timestamp = when;
  d.attributes = attrs;
  out = lk_event_sns(&d, "http://localhost:3001");
  cJSON_Delete(attrs);
  free(topic_arn);
  free(sub_arn);
  return out;
}
