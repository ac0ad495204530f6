/* Emulated SNS (see sns.h): a request's form read once into a map of
 * its parameters, one function per action, answers written as SNS's
 * XML. Topics and subscriptions in arrays, in creation order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "pattern.h"
#include "sns.h"

#define XMLNS "http://sns.amazonaws.com/doc/2010-03-31/"
#define MAX_PARAMS 2000
#define MAX_ATTRIBUTES 10 /* message attributes, as SNS allows */
#define BATCH_MAX 10
#define PAGE 100

typedef struct sub {
  char *arn, *topic_arn, *protocol, *endpoint;
  cJSON *attrs;   /* {name: text} as Get/SetSubscriptionAttributes have them */
  cJSON *filter;  /* the checked FilterPolicy, or NULL */
  char token[65]; /* http(s): what ConfirmSubscription must bring */
  int pending;    /* http(s): not confirmed yet; nothing is delivered */
} sub_t;

typedef struct topic {
  char *name, *arn;
  int fifo;
  cJSON *attrs; /* {name: text} the caller set */
  unsigned long long seq;
} topic_t;

struct lk_sns {
  char *region, *account;
  topic_t **topics;
  int n_topics;
  sub_t **subs;
  int n_subs;
  lk_sns_deliver_cb cb;
  void *ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
};

lk_sns_t *lk_sns_new(const char *region, const char *account) {
  lk_sns_t *s = lk_xcalloc(1, sizeof(*s));

  s->region = lk_xstrdup(region);
  s->account = lk_xstrdup(account);
  return s;
}

static void sub_free(sub_t *u) {
  free(u->arn);
  free(u->topic_arn);
  free(u->protocol);
  free(u->endpoint);
  cJSON_Delete(u->attrs);
  cJSON_Delete(u->filter);
  free(u);
}

static void topic_free(topic_t *t) {
  free(t->name);
  free(t->arn);
  cJSON_Delete(t->attrs);
  free(t);
}

void lk_sns_free(lk_sns_t *s) {
  int i;

  if (s == NULL)
    return;
  for (i = 0; i < s->n_topics; i++)
    topic_free(s->topics[i]);
  for (i = 0; i < s->n_subs; i++)
    sub_free(s->subs[i]);
  free(s->topics);
  free(s->subs);
  free(s->region);
  free(s->account);
  free(s);
}

static void ask_confirmation(const lk_sns_t *s, const struct sub *u);

/* Subscribers still to confirm (the template's, or kept from before a
 * restart) are asked once someone delivers. */
void lk_sns_on_deliver(lk_sns_t *s, lk_sns_deliver_cb cb, void *ud) {
  int i;

  s->cb = cb;
  s->ud = ud;
  for (i = 0; i < s->n_subs; i++)
    ask_confirmation(s, s->subs[i]);
}

static topic_t *find_topic(const lk_sns_t *s, const char *arn) {
  int i;

  for (i = 0; arn && i < s->n_topics; i++)
    if (strcmp(s->topics[i]->arn, arn) == 0)
      return s->topics[i];
  return NULL;
}

static int find_sub(const lk_sns_t *s, const char *arn) {
  int i;

  for (i = 0; arn && i < s->n_subs; i++)
    if (strcmp(s->subs[i]->arn, arn) == 0)
      return i;
  return -1;
}

/* ---- topics and subscriptions ---- */

static int valid_name(const char *name, int fifo) {
  size_t n = name ? strlen(name) : 0, body = n;

  if (fifo) {
    if (n < 5 || strcmp(name + n - 5, ".fifo") != 0)
      return 0;
    body = n - 5;
  }
  return n >= 1 && n <= 256 && body > 0 &&
         strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_-") == body;
}

int lk_sns_create_topic(lk_sns_t *s, const char *name, int fifo, char *arn,
                        size_t cap) {
  char want[600];
  topic_t *t;

  if (!valid_name(name, fifo))
    return LK_EINVAL;
  snprintf(want, sizeof(want), "arn:aws:sns:%s:%s:%s", s->region, s->account,
           name);
  snprintf(arn, cap, "%s", want);
  if (find_topic(s, want))
    return 0; /* CreateTopic is idempotent */
  if (s->n_topics == LK_SNS_MAX_TOPICS)
    return LK_ENOSPC;
  t = lk_xcalloc(1, sizeof(*t));
  t->name = lk_xstrdup(name);
  t->arn = lk_xstrdup(want);
  t->fifo = fifo;
  t->attrs = cJSON_CreateObject();
  s->topics =
      lk_xrealloc(s->topics, sizeof(*s->topics) * (size_t)(s->n_topics + 1));
  s->topics[s->n_topics++] = t;
  return 0;
}

static void remove_sub(lk_sns_t *s, int i) {
  sub_free(s->subs[i]);
  memmove(&s->subs[i], &s->subs[i + 1],
          sizeof(*s->subs) * (size_t)(s->n_subs - i - 1));
  s->n_subs--;
}

static int failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return LK_EINVAL;
}

/* One subscription attribute set, checked as SNS checks it. */
static int set_sub_attr(sub_t *u, const char *name, const char *value,
                        char *err, size_t errlen) {
  static const char *const known[] = {
      "FilterPolicy",       "FilterPolicyScope",
      "RawMessageDelivery", "RedrivePolicy",
      "DeliveryPolicy",     "SubscriptionRoleArn",
      "ReplayPolicy",       NULL};
  cJSON *filter = NULL;
  char why[256];
  int i;

  for (i = 0; known[i] && strcmp(known[i], name) != 0; i++)
    ;
  if (known[i] == NULL)
    return failf(err, errlen, "Invalid parameter: AttributeName");
  if (strcmp(name, "FilterPolicy") == 0 && value[0]) {
    filter = cJSON_Parse(value);
    if (lk_pattern_check(filter, why, sizeof(why)) != 0) {
      cJSON_Delete(filter);
      return failf(err, errlen, "Invalid parameter: FilterPolicy: %s",
                   strncmp(why, "Event pattern is not valid. Reason: ", 36)
                       ? why
                       : why + 36);
    }
  }
  if (strcmp(name, "FilterPolicyScope") == 0 &&
      strcmp(value, "MessageAttributes") != 0 &&
      strcmp(value, "MessageBody") != 0)
    return failf(err, errlen,
                 "Invalid parameter: FilterPolicyScope: Invalid value [%.64s]."
                 " Please use either MessageBody or MessageAttributes",
                 value);
  if (strcmp(name, "RawMessageDelivery") == 0 && strcmp(value, "true") != 0 &&
      strcmp(value, "false") != 0)
    return failf(err, errlen,
                 "Invalid parameter: RawMessageDelivery: Invalid value "
                 "[%.64s]. Must be true or false.",
                 value);
  if (strcmp(name, "FilterPolicy") == 0) {
    cJSON_Delete(u->filter);
    u->filter = filter;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(u->attrs, name);
  cJSON_AddStringToObject(u->attrs, name, value);
  return 0;
}

static const char *const protocols[] = {
    "lambda",     "sqs", "http",        "https",    "email",
    "email-json", "sms", "application", "firehose", NULL};

static int is_web(const char *protocol) {
  return strcmp(protocol, "http") == 0 || strcmp(protocol, "https") == 0;
}

static void iso_now(char *out, size_t cap);

/* SNS's SubscriptionConfirmation to an http(s) subscriber that has not
 * confirmed: the endpoint confirms with the token it carries. */
static void ask_confirmation(const lk_sns_t *s, const sub_t *u) {
  lk_sns_delivery_t d;
  char id[37], when[40];

  if (s->cb == NULL || !u->pending)
    return;
  memset(&d, 0, sizeof(d));
  lk_uuid(id);
  iso_now(when, sizeof(when));
  d.type = "SubscriptionConfirmation";
  d.token = u->token;
  d.topic_arn = u->topic_arn;
  d.sub_arn = u->arn;
  d.protocol = u->protocol;
  d.endpoint = u->endpoint;
  d.message_id = id;
  d.timestamp = when;
  d.message = "You have chosen to subscribe to the topic. To confirm the "
              "subscription, visit the SubscribeURL included in this "
              "message.";
  s->cb(s->ud, &d);
}

int lk_sns_subscribe(lk_sns_t *s, const char *topic_arn, const char *protocol,
                     const char *endpoint, const cJSON *attrs, char *arn,
                     size_t arn_cap, char *err, size_t errlen) {
  const cJSON *a;
  char id[37];
  sub_t *u;
  int i, rc = 0;

  if (find_topic(s, topic_arn) == NULL)
    return LK_ENOENT;
  for (i = 0; protocol && protocols[i]; i++)
    if (strcmp(protocols[i], protocol) == 0)
      break;
  if (protocol == NULL || protocols[i] == NULL)
    return failf(err, errlen,
                 "Invalid parameter: Amazon SNS does not support "
                 "this protocol string: %.64s",
                 protocol ? protocol : "");
  if (endpoint == NULL || endpoint[0] == '\0')
    return failf(err, errlen, "Invalid parameter: Endpoint");
  u = lk_xcalloc(1, sizeof(*u));
  lk_uuid(id);
  u->arn = lk_xasprintf("%s:%s", topic_arn, id);
  u->topic_arn = lk_xstrdup(topic_arn);
  u->protocol = lk_xstrdup(protocol);
  u->endpoint = lk_xstrdup(endpoint);
  u->attrs = cJSON_CreateObject();
  cJSON_ArrayForEach(a, attrs) { /* checked even for one there already */
    char *text = cJSON_IsString(a) ? NULL : cJSON_PrintUnformatted(a);

    if (rc == 0)
      rc =
          set_sub_attr(u, a->string, text ? text : a->valuestring, err, errlen);
    free(text);
  }
  for (i = 0; rc == 0 && i < s->n_subs; i++) /* the same one again: it */
    if (strcmp(s->subs[i]->topic_arn, topic_arn) == 0 &&
        strcmp(s->subs[i]->protocol, protocol) == 0 &&
        strcmp(s->subs[i]->endpoint, endpoint) == 0) {
      snprintf(arn, arn_cap, "%s", s->subs[i]->arn);
      sub_free(u);
      ask_confirmation(s, s->subs[i]); /* again, as SNS does */
      return 0;
    }
  if (rc == 0 && s->n_subs == LK_SNS_MAX_SUBS)
    rc = failf(err, errlen, "Subscription limit exceeded");
  if (rc) {
    sub_free(u);
    return rc;
  }
  if (is_web(protocol)) {
    u->pending = 1;
    lk_secret_hex(u->token, 64);
  }
  s->subs = lk_xrealloc(s->subs, sizeof(*s->subs) * (size_t)(s->n_subs + 1));
  s->subs[s->n_subs++] = u;
  snprintf(arn, arn_cap, "%s", u->arn);
  ask_confirmation(s, u);
  return 0;
}

/* ---- --state ---- */

static cJSON *topic_json(const topic_t *t) {
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "name", t->name);
  cJSON_AddBoolToObject(o, "fifo", t->fifo);
  cJSON_AddItemToObject(o, "attrs", cJSON_Duplicate(t->attrs, 1));
  return o;
}

static cJSON *sub_json(const sub_t *u) {
  cJSON *o = cJSON_CreateObject();

  cJSON_AddStringToObject(o, "arn", u->arn);
  cJSON_AddStringToObject(o, "topic", u->topic_arn);
  cJSON_AddStringToObject(o, "protocol", u->protocol);
  cJSON_AddStringToObject(o, "endpoint", u->endpoint);
  cJSON_AddItemToObject(o, "attrs", cJSON_Duplicate(u->attrs, 1));
  if (u->pending)
    cJSON_AddStringToObject(o, "token", u->token);
  return o;
}

/* A durable record of a topic or subscription as it is now (o), or of
 * one gone (arn). */
static void record(lk_sns_t *s, const char *op, cJSON *o, const char *arn) {
  if (s->rec_cb == NULL) {
    cJSON_Delete(o);
    return;
  }
  if (o == NULL) {
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arn", arn);
  }
  cJSON_AddStringToObject(o, "sns", op);
  s->rec_cb(s->rec_ud, o, 1);
  cJSON_Delete(o);
}

void lk_sns_on_record(lk_sns_t *s, lk_record_cb cb, void *ud) {
  s->rec_cb = cb;
  s->rec_ud = ud;
}

int lk_sns_save(lk_sns_t *s, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject(), *ts, *us;
  int i, err;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  ts = cJSON_AddArrayToObject(root, "topics");
  for (i = 0; i < s->n_topics; i++)
    cJSON_AddItemToArray(ts, topic_json(s->topics[i]));
  us = cJSON_AddArrayToObject(root, "subscriptions");
  for (i = 0; i < s->n_subs; i++)
    cJSON_AddItemToArray(us, sub_json(s->subs[i]));
  err = lk_save_json(path, root);
  cJSON_Delete(root);
  return err;
}

/* A topic as saved: made when missing, its attributes as they were. */
static void load_topic(lk_sns_t *s, const cJSON *o) {
  char arn[600];
  const cJSON *a;
  topic_t *t;

  if (lk_sns_create_topic(
          s, lk_json_str(o, "name"),
          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "fifo")), arn,
          sizeof(arn)) != 0 ||
      (t = find_topic(s, arn)) == NULL)
    return;
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(o, "attrs")) {
    if (!cJSON_IsString(a))
      continue;
    cJSON_DeleteItemFromObjectCaseSensitive(t->attrs, a->string);
    cJSON_AddStringToObject(t->attrs, a->string, a->valuestring);
  }
}

/* A subscription as saved: made (or the template's again found) with
 * the ARN and attributes it had. */
static void load_sub(lk_sns_t *s, const cJSON *o) {
  const char *want = lk_json_str(o, "arn");
  char arn[700], err[512];
  const cJSON *a;
  int i;

  if (want == NULL || strncmp(want, "arn:aws:sns:", 12) != 0 ||
      lk_sns_subscribe(s, lk_json_str(o, "topic"), lk_json_str(o, "protocol"),
                       lk_json_str(o, "endpoint"), NULL, arn, sizeof(arn), err,
                       sizeof(err)) != 0 ||
      (i = find_sub(s, arn)) < 0)
    return;
  if (find_sub(s, want) < 0) {
    free(s->subs[i]->arn);
    s->subs[i]->arn = lk_xstrdup(want);
  }
  /* confirmed, unless it was saved waiting, with the token it was sent */
  s->subs[i]->pending = lk_json_str(o, "token") != NULL;
  if (s->subs[i]->pending)
    snprintf(s->subs[i]->token, sizeof(s->subs[i]->token), "%s",
             lk_json_str(o, "token"));
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(o, "attrs")) {
    if (cJSON_IsString(a))
      set_sub_attr(s->subs[i], a->string, a->valuestring, err, sizeof(err));
  }
}

int lk_sns_load(lk_sns_t *s, const char *path, uint64_t *gen) {
  cJSON *root;
  const cJSON *o, *aof;
  int err = lk_load_json(path, &root);

  if (err)
    return err;
  aof = cJSON_GetObjectItemCaseSensitive(root, "aof");
  *gen = cJSON_IsNumber(aof) && aof->valuedouble > 0 && aof->valuedouble < 9e18
             ? (uint64_t)aof->valuedouble
             : 0;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "topics")) {
    load_topic(s, o);
  }
  cJSON_ArrayForEach(o,
                     cJSON_GetObjectItemCaseSensitive(root, "subscriptions")) {
    load_sub(s, o);
  }
  cJSON_Delete(root);
  return 0;
}

static void drop_topic(lk_sns_t *s, topic_t *t) {
  int i;

  for (i = s->n_subs - 1; i >= 0; i--)
    if (strcmp(s->subs[i]->topic_arn, t->arn) == 0)
      remove_sub(s, i);
  for (i = 0; s->topics[i] != t; i++)
    ;
  memmove(&s->topics[i], &s->topics[i + 1],
          sizeof(*s->topics) * (size_t)(s->n_topics - i - 1));
  s->n_topics--;
  topic_free(t);
}

void lk_sns_apply(lk_sns_t *s, const cJSON *rec) {
  const char *op = lk_json_str(rec, "sns");
  topic_t *t;
  int i;

  if (op == NULL)
    return;
  if (strcmp(op, "topic") == 0) {
    load_topic(s, rec);
  } else if (strcmp(op, "sub") == 0) {
    load_sub(s, rec);
  } else if (strcmp(op, "untopic") == 0) {
    if ((t = find_topic(s, lk_json_str(rec, "arn"))) != NULL)
      drop_topic(s, t);
  } else if (strcmp(op, "unsub") == 0) {
    if ((i = find_sub(s, lk_json_str(rec, "arn"))) >= 0)
      remove_sub(s, i);
  }
}

/* ---- the query protocol ---- */

static const char *const actions[] = {"CreateTopic",
                                      "DeleteTopic",
                                      "ListTopics",
                                      "GetTopicAttributes",
                                      "SetTopicAttributes",
                                      "Subscribe",
                                      "Unsubscribe",
                                      "ListSubscriptions",
                                      "ListSubscriptionsByTopic",
                                      "GetSubscriptionAttributes",
                                      "SetSubscriptionAttributes",
                                      "Publish",
                                      "PublishBatch",
                                      "ConfirmSubscription",
                                      "TagResource",
                                      "ListTagsForResource",
                                      NULL};

/* The request's parameters: {name: value}, form-decoded, the last of a
 * name winning; at most MAX_PARAMS. */
static cJSON *read_form(const char *src, size_t len) {
  cJSON *out = cJSON_CreateObject();
  size_t i = 0;
  int n = 0;
  lk_buf_t k, v;

  lk_buf_init(&k, 1024);
  lk_buf_init(&v, LK_SNS_MAX_MESSAGE * 2);
  while (i < len && n++ < MAX_PARAMS) {
    size_t end = i, eq;

    while (end < len && src[end] != '&')
      end++;
    for (eq = i; eq < end && src[eq] != '='; eq++)
      ;
    lk_buf_reset(&k);
    lk_buf_reset(&v);
    lk_url_decode(&k, src + i, eq - i, 1);
    if (eq < end)
      lk_url_decode(&v, src + eq + 1, end - eq - 1, 1);
    if (lk_buf_error(&k) == 0 && lk_buf_error(&v) == 0 && k.len) {
      cJSON_DeleteItemFromObjectCaseSensitive(out, lk_buf_str(&k));
      cJSON_AddStringToObject(out, lk_buf_str(&k), lk_buf_str(&v));
    }
    i = end + 1;
  }
  lk_buf_free(&k);
  lk_buf_free(&v);
  return out;
}

int lk_sns_is_request(const lk_http_req_t *req) {
  const char *auth = lk_http_header(req, "Authorization");
  const char *src = req->body.len ? req->body.data : req->query;
  size_t len = req->body.len ? req->body.len : strlen(req->query);
  char action[64] = "";
  int i;

  if (auth && strstr(auth, "Credential=") && strstr(auth, "/sns/aws4_request"))
    return 1;
  if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "GET") != 0)
    return 0;
  lk_form_get(src, len, "Action", action, sizeof(action));
  for (i = 0; actions[i]; i++)
    if (strcmp(action, actions[i]) == 0 &&
        strcmp(action, "ListTagsForResource") != 0 &&
        strcmp(action, "TagResource") != 0) /* SQS has these too */
      return 1;
  return 0;
}

typedef struct ctx {
  lk_sns_t *s;
  cJSON *in;
  const char *trace;
  lk_buf_t out; /* the Result element's contents */
  int status;
  const char *code;
  char msg[512];
} ctx_t;

static int fail(ctx_t *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(ctx_t *c, int status, const char *code, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
  va_end(ap);
  c->status = status;
  c->code = code;
  return -1;
}

static const char *param(const ctx_t *c, const char *name) {
  return lk_json_str(c->in, name);
}

static void tag(lk_buf_t *b, const char *name, const char *text) {
  lk_buf_printf(b, "<%s>", name);
  lk_xml_escape(b, text, strlen(text));
  lk_buf_printf(b, "</%s>", name);
}

static topic_t *need_topic(ctx_t *c, const char *field) {
  topic_t *t = find_topic(c->s, param(c, field));

  if (param(c, field) == NULL)
    fail(c, 400, "InvalidParameter", "Invalid parameter: %s", field);
  else if (t == NULL)
    fail(c, 404, "NotFound", "Topic does not exist");
  return t;
}

/* prefix.entry.N.key / .value pairs, as {key: value}. */
static cJSON *entries(const ctx_t *c, const char *prefix) {
  cJSON *out = cJSON_CreateObject();
  char k[160], v[160];
  int i;

  for (i = 1; i <= 100; i++) {
    const char *key, *value;

    snprintf(k, sizeof(k), "%s.entry.%d.key", prefix, i);
    snprintf(v, sizeof(v), "%s.entry.%d.value", prefix, i);
    key = param(c, k);
    value = param(c, v);
    if (key == NULL)
      break;
    cJSON_DeleteItemFromObjectCaseSensitive(out, key);
    cJSON_AddStringToObject(out, key, value ? value : "");
  }
  return out;
}

static void attributes_xml(lk_buf_t *b, const cJSON *attrs) {
  const cJSON *a;

  lk_buf_adds(b, "<Attributes>");
  cJSON_ArrayForEach(a, attrs) {
    lk_buf_adds(b, "<entry>");
    tag(b, "key", a->string);
    tag(b, "value", cJSON_IsString(a) ? a->valuestring : "");
    lk_buf_adds(b, "</entry>");
  }
  lk_buf_adds(b, "</Attributes>");
}

static int op_create_topic(ctx_t *c) {
  const char *name = param(c, "Name");
  cJSON *attrs = entries(c, "Attributes");
  const char *fifo = lk_json_str(attrs, "FifoTopic");
  char arn[600];
  const cJSON *a;
  topic_t *t;
  int rc = lk_sns_create_topic(c->s, name, fifo && strcmp(fifo, "true") == 0,
                               arn, sizeof(arn));

  if (rc == LK_EINVAL)
    fail(c, 400, "InvalidParameter",
         fifo && strcmp(fifo, "true") == 0
             ? "Fifo Topic names must end with .fifo and must be made up of "
               "only uppercase and lowercase ASCII letters, numbers, "
               "underscores, and hyphens, and must be between 1 and 256 "
               "characters long."
             : "Invalid parameter: Topic Name");
  else if (rc)
    fail(c, 403, "TopicLimitExceeded", "Topic limit exceeded");
  if (rc == 0) {
    t = find_topic(c->s, arn);
    cJSON_ArrayForEach(a, attrs) {
      cJSON_DeleteItemFromObjectCaseSensitive(t->attrs, a->string);
      cJSON_AddItemToObject(t->attrs, a->string, cJSON_Duplicate(a, 1));
    }
    record(c->s, "topic", topic_json(t), NULL);
    tag(&c->out, "TopicArn", arn);
  }
  cJSON_Delete(attrs);
  return rc ? -1 : 0;
}

static int op_delete_topic(ctx_t *c) {
  topic_t *t = find_topic(c->s, param(c, "TopicArn"));

  if (t == NULL) /* SNS answers a delete of nothing with success */
    return 0;
  record(c->s, "untopic", NULL, t->arn);
  drop_topic(c->s, t);
  return 0;
}

/* NextToken is the index to go on from, as text. */
static int page_start(ctx_t *c) {
  const char *tok = param(c, "NextToken");
  long n = tok ? strtol(tok, NULL, 10) : 0;

  return n > 0 ? (int)n : 0;
}

static int op_list_topics(ctx_t *c) {
  int i = page_start(c), end = i + PAGE;

  lk_buf_adds(&c->out, "<Topics>");
  for (; i < c->s->n_topics && i < end; i++) {
    lk_buf_adds(&c->out, "<member>");
    tag(&c->out, "TopicArn", c->s->topics[i]->arn);
    lk_buf_adds(&c->out, "</member>");
  }
  lk_buf_adds(&c->out, "</Topics>");
  if (i < c->s->n_topics)
    lk_buf_printf(&c->out, "<NextToken>%d</NextToken>", i);
  return 0;
}

static int count_subs(const lk_sns_t *s, const char *topic_arn) {
  int i, n = 0;

  for (i = 0; i < s->n_subs; i++)
    n += strcmp(s->subs[i]->topic_arn, topic_arn) == 0;
  return n;
}

static int op_get_topic_attributes(ctx_t *c) {
  topic_t *t = need_topic(c, "TopicArn");
  cJSON *a;
  char n[16];

  if (t == NULL)
    return -1;
  a = cJSON_Duplicate(t->attrs, 1);
  cJSON_AddStringToObject(a, "TopicArn", t->arn);
  cJSON_AddStringToObject(a, "Owner", c->s->account);
  snprintf(n, sizeof(n), "%d", count_subs(c->s, t->arn));
  cJSON_AddStringToObject(a, "SubscriptionsConfirmed", n);
  cJSON_AddStringToObject(a, "SubscriptionsPending", "0");
  cJSON_AddStringToObject(a, "SubscriptionsDeleted", "0");
  if (!cJSON_GetObjectItemCaseSensitive(a, "DisplayName"))
    cJSON_AddStringToObject(a, "DisplayName", "");
  if (t->fifo && !cJSON_GetObjectItemCaseSensitive(a, "FifoTopic"))
    cJSON_AddStringToObject(a, "FifoTopic", "true");
  attributes_xml(&c->out, a);
  cJSON_Delete(a);
  return 0;
}

static int op_set_topic_attributes(ctx_t *c) {
  topic_t *t = need_topic(c, "TopicArn");
  const char *name = param(c, "AttributeName");
  const char *value = param(c, "AttributeValue");

  if (t == NULL)
    return -1;
  if (name == NULL || strcmp(name, "FifoTopic") == 0 ||
      strcmp(name, "TopicArn") == 0)
    return fail(c, 400, "InvalidParameter", "Invalid parameter: AttributeName");
  cJSON_DeleteItemFromObjectCaseSensitive(t->attrs, name);
  cJSON_AddStringToObject(t->attrs, name, value ? value : "");
  record(c->s, "topic", topic_json(t), NULL);
  return 0;
}

static int op_subscribe(ctx_t *c) {
  topic_t *t = need_topic(c, "TopicArn");
  cJSON *attrs = entries(c, "Attributes");
  char err[512], arn[700];
  int rc = -1;

  if (t) {
    rc = lk_sns_subscribe(c->s, t->arn, param(c, "Protocol"),
                          param(c, "Endpoint"), attrs, arn, sizeof(arn), err,
                          sizeof(err));
    if (rc) {
      fail(c, 400, "InvalidParameter", "%s", err);
    } else {
      const sub_t *u = c->s->subs[find_sub(c->s, arn)];
      const char *want_arn = param(c, "ReturnSubscriptionArn");

      record(c->s, "sub", sub_json(u), NULL);
      tag(&c->out, "SubscriptionArn",
          u->pending && !(want_arn && strcmp(want_arn, "true") == 0)
              ? "pending confirmation"
              : arn);
    }
  }
  cJSON_Delete(attrs);
  return rc ? -1 : 0;
}

static int op_unsubscribe(ctx_t *c) {
  int i = find_sub(c->s, param(c, "SubscriptionArn"));

  if (i < 0)
    return fail(c, 404, "NotFound", "Subscription does not exist");
  record(c->s, "unsub", NULL, c->s->subs[i]->arn);
  remove_sub(c->s, i);
  return 0;
}

static void subscriptions_xml(ctx_t *c, const char *topic_arn) {
  int i = page_start(c), n = 0;

  lk_buf_adds(&c->out, "<Subscriptions>");
  for (; i < c->s->n_subs && n < PAGE; i++) {
    const sub_t *u = c->s->subs[i];

    if (topic_arn && strcmp(u->topic_arn, topic_arn) != 0)
      continue;
    lk_buf_adds(&c->out, "<member>");
    tag(&c->out, "SubscriptionArn",
        u->pending ? "PendingConfirmation" : u->arn);
    tag(&c->out, "Owner", c->s->account);
    tag(&c->out, "Protocol", u->protocol);
    tag(&c->out, "Endpoint", u->endpoint);
    tag(&c->out, "TopicArn", u->topic_arn);
    lk_buf_adds(&c->out, "</member>");
    n++;
  }
  lk_buf_adds(&c->out, "</Subscriptions>");
  if (i < c->s->n_subs)
    lk_buf_printf(&c->out, "<NextToken>%d</NextToken>", i);
}

static int op_list_subscriptions(ctx_t *c) {
  subscriptions_xml(c, NULL);
  return 0;
}

static int op_list_subscriptions_by_topic(ctx_t *c) {
  topic_t *t = need_topic(c, "TopicArn");

  if (t == NULL)
    return -1;
  subscriptions_xml(c, t->arn);
  return 0;
}

/* The subscriber brings back the token of its SubscriptionConfirmation
 * (or visits its SubscribeURL, which is this call as a GET). */
static int op_confirm_subscription(ctx_t *c) {
  topic_t *t = need_topic(c, "TopicArn");
  const char *token = param(c, "Token");
  int i;

  if (t == NULL)
    return -1;
  for (i = 0; token && i < c->s->n_subs; i++) {
    sub_t *u = c->s->subs[i];

    if (u->token[0] && strcmp(u->token, token) == 0 &&
        strcmp(u->topic_arn, t->arn) == 0) {
      u->pending = 0;
      record(c->s, "sub", sub_json(u), NULL);
      tag(&c->out, "SubscriptionArn", u->arn);
      return 0;
    }
  }
  return fail(c, 400, "InvalidParameter", "Invalid parameter: Token");
}

static sub_t *need_sub(ctx_t *c) {
  int i = find_sub(c->s, param(c, "SubscriptionArn"));

  if (i < 0) {
    fail(c, 404, "NotFound", "Subscription does not exist");
    return NULL;
  }
  return c->s->subs[i];
}

static int op_get_subscription_attributes(ctx_t *c) {
  sub_t *u = need_sub(c);
  cJSON *a;

  if (u == NULL)
    return -1;
  a = cJSON_Duplicate(u->attrs, 1);
  cJSON_AddStringToObject(a, "SubscriptionArn", u->arn);
  cJSON_AddStringToObject(a, "TopicArn", u->topic_arn);
  cJSON_AddStringToObject(a, "Protocol", u->protocol);
  cJSON_AddStringToObject(a, "Endpoint", u->endpoint);
  cJSON_AddStringToObject(a, "Owner", c->s->account);
  cJSON_AddStringToObject(a, "ConfirmationWasAuthenticated", "true");
  cJSON_AddStringToObject(a, "PendingConfirmation",
                          u->pending ? "true" : "false");
  if (!cJSON_GetObjectItemCaseSensitive(a, "RawMessageDelivery"))
    cJSON_AddStringToObject(a, "RawMessageDelivery", "false");
  attributes_xml(&c->out, a);
  cJSON_Delete(a);
  return 0;
}

static int op_set_subscription_attributes(ctx_t *c) {
  sub_t *u = need_sub(c);
  const char *name = param(c, "AttributeName");
  const char *value = param(c, "AttributeValue");
  char err[512];

  if (u == NULL)
    return -1;
  if (name == NULL ||
      set_sub_attr(u, name, value ? value : "", err, sizeof(err)) != 0)
    return fail(c, 400, "InvalidParameter", "%s",
                name ? err : "Invalid parameter: AttributeName");
  record(c->s, "sub", sub_json(u), NULL);
  return 0;
}

/* ---- publishing ---- */

/* MessageAttributes (prefix "MessageAttributes" or a batch entry's) as
 * SNS's events carry them: {name: {"Type", "Value"}}; NULL when there
 * are none; -1 in *bad (with the request failed) when one is invalid. */
static cJSON *message_attributes(ctx_t *c, const char *prefix, size_t *bytes,
                                 int *bad) {
  cJSON *out = cJSON_CreateObject();
  char k[200];
  int i;

  for (i = 1; i <= MAX_ATTRIBUTES + 1; i++) {
    const char *name, *type, *value;
    cJSON *a;

    snprintf(k, sizeof(k), "%s.entry.%d.Name", prefix, i);
    if ((name = param(c, k)) == NULL)
      break;
    if (i > MAX_ATTRIBUTES) {
      *bad = fail(c, 400, "InvalidParameterValue",
                  "Number of message attributes [%d] exceeds the allowed "
                  "maximum [%d].",
                  i, MAX_ATTRIBUTES);
      break;
    }
    snprintf(k, sizeof(k), "%s.entry.%d.Value.DataType", prefix, i);
    type = param(c, k);
    snprintf(k, sizeof(k), "%s.entry.%d.Value.%s", prefix, i,
             type && strncmp(type, "Binary", 6) == 0 ? "BinaryValue"
                                                     : "StringValue");
    value = param(c, k);
    if (type == NULL || value == NULL ||
        (strncmp(type, "String", 6) != 0 && strncmp(type, "Number", 6) != 0 &&
         strncmp(type, "Binary", 6) != 0)) {
      *bad = fail(c, 400, "ParameterValueInvalid",
                  "The message attribute '%.64s' has an invalid message "
                  "attribute type, the set of supported type prefixes is "
                  "Binary, Number, and String.",
                  name);
      break;
    }
    a = cJSON_AddObjectToObject(out, name);
    cJSON_AddStringToObject(a, "Type", type);
    cJSON_AddStringToObject(a, "Value", value);
    *bytes += strlen(name) + strlen(type) + strlen(value);
  }
  if (*bad || out->child == NULL) {
    cJSON_Delete(out);
    return NULL;
  }
  return out;
}

/* What a filter policy in MessageAttributes scope sees: each attribute
 * as a value (a Number as a number, a String.Array as its array). */
static cJSON *attribute_view(const cJSON *attrs) {
  cJSON *out = cJSON_CreateObject();
  const cJSON *a;

  cJSON_ArrayForEach(a, attrs) {
    const char *type = lk_json_str(a, "Type"), *v = lk_json_str(a, "Value");
    cJSON *val = NULL;

    if (strncmp(type, "Number", 6) == 0) {
      char *end;
      double d = strtod(v, &end);

      val = *end == '\0' ? cJSON_CreateNumber(d) : NULL;
    } else if (strcmp(type, "String.Array") == 0) {
      val = cJSON_Parse(v);
    } else if (strncmp(type, "String", 6) == 0) {
      val = cJSON_CreateString(v);
    }
    if (val)
      cJSON_AddItemToObject(out, a->string, val);
  }
  return out;
}

static int passes(const sub_t *u, const char *message, const cJSON *attrs) {
  const char *scope = lk_json_str(u->attrs, "FilterPolicyScope");
  cJSON *view;
  int ok;

  if (u->filter == NULL)
    return 1;
  view = scope && strcmp(scope, "MessageBody") == 0 ? cJSON_Parse(message)
                                                    : attribute_view(attrs);
  ok = cJSON_IsObject(view) && lk_pattern_match(u->filter, view);
  cJSON_Delete(view);
  return ok;
}

/* MessageStructure json: the message for the protocol, else default. */
static const char *for_protocol(const cJSON *structured, const char *protocol,
                                const char *message) {
  const char *m;

  if (structured == NULL)
    return message;
  m = lk_json_str(structured, protocol);
  return m ? m : lk_json_str(structured, "default");
}

static void iso_now(char *out, size_t cap) {
  uint64_t ms = lk_now_ms();
  time_t sec = (time_t)(ms / 1000);
  struct tm tm;
  char day[32];

  gmtime_r(&sec, &tm);
  strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, cap, "%s.%03dZ", day, (int)(ms % 1000));
}

typedef struct message {
  const char *message, *subject, *group_id, *dedup_id, *structure;
  cJSON *attrs;
} message_t;

/* One message checked; 0, or -1 with the request failed. */
static int check_message(ctx_t *c, const topic_t *t, const message_t *m,
                         size_t bytes, cJSON **structured) {
  *structured = NULL;
  if (m->message == NULL || m->message[0] == '\0')
    return fail(c, 400, "InvalidParameter", "Invalid parameter: Empty message");
  if (bytes + strlen(m->message) > LK_SNS_MAX_MESSAGE)
    return fail(c, 400, "InvalidParameter",
                "Invalid parameter: Message too long");
  if (m->subject && (strlen(m->subject) > 100 || m->subject[0] == '\0'))
    return fail(c, 400, "InvalidParameter", "Invalid parameter: Subject");
  if (t->fifo && m->group_id == NULL)
    return fail(c, 400, "InvalidParameter",
                "Invalid parameter: The MessageGroupId parameter is required "
                "for FIFO topics");
  if (t->fifo && m->dedup_id == NULL &&
      strcmp(lk_json_str(t->attrs, "ContentBasedDeduplication")
                 ? lk_json_str(t->attrs, "ContentBasedDeduplication")
                 : "",
             "true") != 0)
    return fail(c, 400, "InvalidParameter",
                "Invalid parameter: The topic should either have "
                "ContentBasedDeduplication enabled or MessageDeduplicationId "
                "provided explicitly");
  if (!t->fifo && m->group_id)
    return fail(c, 400, "InvalidParameter",
                "Invalid parameter: MessageGroupId Reason: The request "
                "includes MessageGroupId parameter that is not valid for "
                "this topic type");
  if (m->structure && strcmp(m->structure, "json") == 0) {
    *structured = cJSON_Parse(m->message);
    if (lk_json_str(*structured, "default") == NULL) {
      cJSON_Delete(*structured);
      *structured = NULL;
      return fail(c, 400, "InvalidParameter",
                  "Invalid parameter: Message Structure - No default entry "
                  "in JSON message body");
    }
  }
  return 0;
}

/* Delivers a checked message to each subscription its filter lets in. */
static void deliver(ctx_t *c, const topic_t *t, const message_t *m,
                    const cJSON *structured, const char *id) {
  lk_sns_delivery_t d;
  cJSON *redrive;
  char when[40];
  int i;

  iso_now(when, sizeof(when));
  for (i = 0; c->s->cb && i < c->s->n_subs; i++) {
    const sub_t *u = c->s->subs[i];
    const char *raw = lk_json_str(u->attrs, "RawMessageDelivery");

    if (strcmp(u->topic_arn, t->arn) != 0 || u->pending)
      continue;
    d.message = for_protocol(structured, u->protocol, m->message);
    if (d.message == NULL || !passes(u, d.message, m->attrs))
      continue;
    d.type = "Notification";
    d.token = NULL;
    d.topic_arn = t->arn;
    d.sub_arn = u->arn;
    d.protocol = u->protocol;
    d.endpoint = u->endpoint;
    d.message_id = id;
    d.subject = m->subject;
    d.timestamp = when;
    d.attributes = m->attrs;
    d.group_id = m->group_id;
    d.trace = c->trace;
    d.raw = raw && strcmp(raw, "true") == 0;
    redrive = lk_json_str(u->attrs, "RedrivePolicy")
                  ? cJSON_Parse(lk_json_str(u->attrs, "RedrivePolicy"))
                  : NULL;
    d.dead_letter = lk_json_str(redrive, "deadLetterTargetArn");
    c->s->cb(c->s->ud, &d);
    cJSON_Delete(redrive);
  }
}

static int op_publish(ctx_t *c) {
  const char *arn =
      param(c, "TopicArn") ? param(c, "TopicArn") : param(c, "TargetArn");
  topic_t *t = find_topic(c->s, arn);
  message_t m = {
      param(c, "Message"),          param(c, "Subject"),
      param(c, "MessageGroupId"),   param(c, "MessageDeduplicationId"),
      param(c, "MessageStructure"), NULL};
  cJSON *structured = NULL;
  size_t bytes = 0;
  int bad = 0;
  char id[37];

  if (t == NULL)
    return fail(c, 404, "NotFound", "Topic does not exist");
  m.attrs = message_attributes(c, "MessageAttributes", &bytes, &bad);
  if (bad || check_message(c, t, &m, bytes, &structured)) {
    cJSON_Delete(m.attrs);
    return -1;
  }
  lk_uuid(id);
  deliver(c, t, &m, structured, id);
  tag(&c->out, "MessageId", id);
  if (t->fifo)
    lk_buf_printf(&c->out, "<SequenceNumber>%020llu</SequenceNumber>",
                  ++t->seq);
  cJSON_Delete(structured);
  cJSON_Delete(m.attrs);
  return 0;
}

int lk_sns_publish(lk_sns_t *s, const char *topic_arn, const char *message,
                   const char *trace) {
  topic_t *t = find_topic(s, topic_arn);
  message_t m = {message, NULL, NULL, NULL, NULL, NULL};
  ctx_t c = {0};
  cJSON *structured = NULL;
  char id[37];
  int rc;

  if (t == NULL)
    return LK_ENOENT;
  c.s = s;
  c.trace = trace;
  if (t->fifo) /* a FIFO topic's group: the one EventBridge gives, one */
    m.group_id = m.dedup_id = "lambkin";
  rc = check_message(&c, t, &m, 0, &structured);
  if (rc == 0) {
    lk_uuid(id);
    deliver(&c, t, &m, structured, id);
  }
  cJSON_Delete(structured);
  return rc ? LK_EINVAL : 0;
}

static const char *entry_param(ctx_t *c, int i, const char *field) {
  char k[160];

  snprintf(k, sizeof(k), "PublishBatchRequestEntries.member.%d.%s", i, field);
  return param(c, k);
}

/* PublishBatch: up to ten, each checked and sent on its own; the ones
 * that fail are listed, as SNS lists them. */
static int op_publish_batch(ctx_t *c) {
  topic_t *t = need_topic(c, "TopicArn");
  lk_buf_t failed;
  int i, n;

  if (t == NULL)
    return -1;
  for (n = 0; entry_param(c, n + 1, "Id"); n++)
    ;
  if (n == 0)
    return fail(c, 400, "EmptyBatchRequest",
                "The batch request doesn't contain any entries");
  if (n > BATCH_MAX)
    return fail(c, 400, "TooManyEntriesInBatchRequest",
                "The batch request contains more entries than permissible");
  lk_buf_init(&failed, 64 * 1024);
  lk_buf_adds(&c->out, "<Successful>");
  for (i = 1; i <= n; i++) {
    char prefix[96], id[37];
    message_t m = {entry_param(c, i, "Message"),
                   entry_param(c, i, "Subject"),
                   entry_param(c, i, "MessageGroupId"),
                   entry_param(c, i, "MessageDeduplicationId"),
                   entry_param(c, i, "MessageStructure"),
                   NULL};
    cJSON *structured = NULL;
    size_t bytes = 0;
    int bad = 0;

    snprintf(prefix, sizeof(prefix),
             "PublishBatchRequestEntries.member.%d.MessageAttributes", i);
    m.attrs = message_attributes(c, prefix, &bytes, &bad);
    if (bad == 0)
      bad = check_message(c, t, &m, bytes, &structured);
    if (bad) { /* this entry fails; the batch goes on */
      lk_buf_adds(&failed, "<member>");
      tag(&failed, "Id", entry_param(c, i, "Id"));
      tag(&failed, "Code", c->code);
      tag(&failed, "Message", c->msg);
      lk_buf_adds(&failed, "<SenderFault>true</SenderFault></member>");
      c->code = NULL;
      c->status = 200;
    } else {
      lk_uuid(id);
      deliver(c, t, &m, structured, id);
      lk_buf_adds(&c->out, "<member>");
      tag(&c->out, "Id", entry_param(c, i, "Id"));
      tag(&c->out, "MessageId", id);
      lk_buf_adds(&c->out, "</member>");
    }
    cJSON_Delete(structured);
    cJSON_Delete(m.attrs);
  }
  lk_buf_printf(&c->out, "</Successful><Failed>%s</Failed>",
                lk_buf_str(&failed));
  lk_buf_free(&failed);
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} ops[] = {
    {"CreateTopic", op_create_topic},
    {"DeleteTopic", op_delete_topic},
    {"ListTopics", op_list_topics},
    {"GetTopicAttributes", op_get_topic_attributes},
    {"SetTopicAttributes", op_set_topic_attributes},
    {"Subscribe", op_subscribe},
    {"Unsubscribe", op_unsubscribe},
    {"ListSubscriptions", op_list_subscriptions},
    {"ListSubscriptionsByTopic", op_list_subscriptions_by_topic},
    {"GetSubscriptionAttributes", op_get_subscription_attributes},
    {"SetSubscriptionAttributes", op_set_subscription_attributes},
    {"Publish", op_publish},
    {"PublishBatch", op_publish_batch},
    {"ConfirmSubscription", op_confirm_subscription},
};

/* The answer's XML: the action's Result, or SNS's ErrorResponse. */
static char *answer(const ctx_t *c, const char *action, const char *rid) {
  lk_buf_t b;
  char *out;

  lk_buf_init(&b, LK_SNS_MAX_MESSAGE * 4);
  if (c->code) {
    lk_buf_adds(&b, "<ErrorResponse xmlns=\"" XMLNS "\"><Error><Type>Sender"
                    "</Type>");
    tag(&b, "Code", c->code);
    tag(&b, "Message", c->msg);
    lk_buf_printf(&b, "</Error><RequestId>%s</RequestId></ErrorResponse>", rid);
  } else {
    lk_buf_printf(&b,
                  "<%sResponse xmlns=\"" XMLNS "\"><%sResult>%s</%sResult>"
                  "<ResponseMetadata><RequestId>%s</RequestId>"
                  "</ResponseMetadata></%sResponse>",
                  action, action, lk_buf_str(&c->out), action, rid, action);
  }
  out = lk_buf_steal(&b, NULL);
  return out ? out /* else a bounded answer outgrew its buffer */
             : lk_xstrdup("<ErrorResponse xmlns=\"" XMLNS "\"><Error><Type>"
                          "Receiver</Type><Code>InternalFailure</Code>"
                          "</Error></ErrorResponse>");
}

int lk_sns_call(lk_sns_t *s, const char *form, size_t len, const char *trace,
                char **out) {
  ctx_t c = {0};
  const char *action;
  char rid[37];
  size_t i;

  lk_uuid(rid);
  c.s = s;
  c.in = read_form(form, len);
  c.trace = trace;
  lk_buf_init(&c.out, LK_SNS_MAX_MESSAGE * 2);
  action = param(&c, "Action");
  for (i = 0; action && i < sizeof(ops) / sizeof(ops[0]); i++)
    if (strcmp(ops[i].name, action) == 0)
      break;
  if (action == NULL || i == sizeof(ops) / sizeof(ops[0]))
    fail(&c, 400, "InvalidAction", "lambkin does not emulate sns.%.64s",
         action ? action : "(no Action)");
  else
    ops[i].fn(&c);
  *out = answer(&c, action ? action : "Unknown", rid);
  lk_buf_free(&c.out);
  cJSON_Delete(c.in);
  return c.code ? c.status : 200;
}

void lk_sns_serve(lk_sns_t *s, lk_http_req_t *req) {
  lk_http_header_t h[1] = {{"Content-Type", "text/xml"}};
  const char *form = req->body.len ? req->body.data : req->query;
  char *text;
  int status =
      lk_sns_call(s, form, req->body.len ? req->body.len : strlen(req->query),
                  lk_http_header(req, "X-Amzn-Trace-Id"), &text);

  lk_http_respond(req, status, h, 1, text, strlen(text));
  free(text);
}
