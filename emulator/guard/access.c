/* Observed access: service calls attributed to the function whose
 * credentials they carry, named as IAM names them, journaled once per
 * (function, action, resource). See access.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "access.h"
#include "buf.h"
#include "codec.h"
#include "iam.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "sigv4.h"
#include "sns.h"
#include "sqs.h"
#include "sts.h"

struct lk_access {
  const lk_app_t *app;
  const lk_runtime_t *rt;
  lk_journal_t *journal;
  lk_access_opts_t opts;
  cJSON *seen; /* "function\taction\tresource": true */
};

lk_access_t *lk_access_new(const lk_app_t *app, const lk_runtime_t *rt,
                           lk_journal_t *journal,
                           const lk_access_opts_t *opts) {
  lk_access_t *a = lk_xcalloc(1, sizeof(*a));

  a->app = app;
  a->rt = rt;
  a->journal = journal;
  a->opts = *opts;
  a->seen = cJSON_CreateObject();
  return a;
}

void lk_access_free(lk_access_t *a) {
  if (a == NULL)
    return;
  cJSON_Delete(a->seen);
  free(a);
}

/* One field of a form (a=1&b=2), decoded into out. */
/* A queue given as URL, ARN or name (lambkin takes all three). */
static void queue_arn(const lk_app_t *app, const char *q, char *out,
                      size_t cap) {
  const char *name = q;

  if (strrchr(q, '/'))
    name = strrchr(q, '/') + 1;
  else if (strrchr(q, ':'))
    name = strrchr(q, ':') + 1;
  if (name[0])
    snprintf(out, cap, "arn:aws:sqs:%s:%s:%s", app->region, app->account, name);
  else
    snprintf(out, cap, "*");
}

static int describe_sqs(const lk_app_t *app, const lk_http_req_t *req,
                        const char *target, char *action, size_t alen,
                        char *resource, size_t rlen) {
  char op[64] = "", url[512] = "";

  if (target) {
    cJSON *in = cJSON_ParseWithLength(lk_buf_str(&req->body), req->body.len);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(in, "QueueUrl");

    snprintf(op, sizeof(op), "%s", strchr(target, '.') + 1);
    if (cJSON_IsString(q))
      snprintf(url, sizeof(url), "%s", q->valuestring);
    cJSON_Delete(in);
  } else {
    const char *src = req->body.len ? req->body.data : req->query;
    size_t len = req->body.len ? req->body.len : strlen(req->query);

    lk_form_get(src, len, "Action", op, sizeof(op));
    if (!lk_form_get(src, len, "QueueUrl", url, sizeof(url)))
      snprintf(url, sizeof(url), "%s", req->path);
  }
  if (op[0] == '\0')
    return LK_ENOENT;
  snprintf(action, alen, "sqs:%s", op);
  queue_arn(app, url, resource, rlen);
  return 0;
}

/* EventBridge: events:ACTION on the bus PutEvents sends to (its first
 * entry's), or on the rule a rule call names; "*" for the rest. */
static int describe_events(const lk_app_t *app, const lk_http_req_t *req,
                           const char *target, char *action, size_t alen,
                           char *resource, size_t rlen) {
  cJSON *in = cJSON_ParseWithLength(lk_buf_str(&req->body), req->body.len);
  const char *op = strchr(target, '.') + 1;
  const char *bus = lk_json_str(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(in, "Entries"), 0),
      "EventBusName");
  const char *rule = lk_json_str(in, "Name") ? lk_json_str(in, "Name")
                                             : lk_json_str(in, "Rule");

  snprintf(action, alen, "events:%s", op);
  if (strcmp(op, "PutEvents") == 0 && bus && strncmp(bus, "arn:", 4) == 0)
    snprintf(resource, rlen, "%s", bus);
  else if (strcmp(op, "PutEvents") == 0)
    snprintf(resource, rlen, "arn:aws:events:%s:%s:event-bus/%s", app->region,
             app->account, bus ? bus : "default");
  else if (rule)
    snprintf(resource, rlen, "arn:aws:events:%s:%s:rule/%s", app->region,
             app->account, rule);
  else
    snprintf(resource, rlen, "*");
  cJSON_Delete(in);
  return 0;
}

/* Kinesis: kinesis:ACTION on the stream (by name or ARN; a
 * GetRecords's iterator names none: "*"). */
static int describe_kinesis(const lk_app_t *app, const lk_http_req_t *req,
                            const char *target, char *action, size_t alen,
                            char *resource, size_t rlen) {
  cJSON *in = cJSON_ParseWithLength(lk_buf_str(&req->body), req->body.len);
  const char *arn = lk_json_str(in, "StreamARN");
  const char *name = lk_json_str(in, "StreamName");

  snprintf(action, alen, "kinesis:%s", strchr(target, '.') + 1);
  if (arn)
    snprintf(resource, rlen, "%s", arn);
  else if (name)
    snprintf(resource, rlen, "arn:aws:kinesis:%s:%s:stream/%s", app->region,
             app->account, name);
  else
    snprintf(resource, rlen, "*");
  cJSON_Delete(in);
  return 0;
}

/* SNS: sns:ACTION on the topic (a subscription's is its topic's; a
 * topic made by CreateTopic is named by Name); lists on "*". */
static int describe_sns(const lk_app_t *app, const lk_http_req_t *req,
                        char *action, size_t alen, char *resource,
                        size_t rlen) {
  const char *src = req->body.len ? req->body.data : req->query;
  size_t len = req->body.len ? req->body.len : strlen(req->query);
  char op[64] = "", arn[600] = "", name[300] = "";
  char *colon;

  lk_form_get(src, len, "Action", op, sizeof(op));
  if (op[0] == '\0')
    return LK_ENOENT;
  snprintf(action, alen, "sns:%s", op);
  if (lk_form_get(src, len, "TopicArn", arn, sizeof(arn)) ||
      lk_form_get(src, len, "TargetArn", arn, sizeof(arn))) {
    snprintf(resource, rlen, "%s", arn);
  } else if (lk_form_get(src, len, "SubscriptionArn", arn, sizeof(arn))) {
    const char *svc = strstr(arn, ":sns:");

    colon = strrchr(arn, ':');
    if (svc && colon && colon > svc + 5)
      *colon = '\0';
    snprintf(resource, rlen, "%s", arn);
  } else if (lk_form_get(src, len, "Name", name, sizeof(name))) {
    snprintf(resource, rlen, "arn:aws:sns:%s:%s:%s", app->region, app->account,
             name);
  } else {
    snprintf(resource, rlen, "*");
  }
  return 0;
}

static int describe_logs(const lk_app_t *app, const lk_http_req_t *req,
                         const char *target, char *action, size_t alen,
                         char *resource, size_t rlen) {
  cJSON *in = cJSON_ParseWithLength(lk_buf_str(&req->body), req->body.len);
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(in, "logGroupName");

  snprintf(action, alen, "logs:%s", strchr(target, '.') + 1);
  if (cJSON_IsString(g))
    snprintf(resource, rlen, "arn:aws:logs:%s:%s:log-group:%s:*", app->region,
             app->account, g->valuestring);
  else
    snprintf(resource, rlen, "*");
  cJSON_Delete(in);
  return 0;
}

/* DynamoDB: the table the call names (a batch's first), or its index. */
static int describe_ddb(const lk_app_t *app, const lk_http_req_t *req,
                        const char *target, char *action, size_t alen,
                        char *resource, size_t rlen) {
  cJSON *in = cJSON_ParseWithLength(lk_buf_str(&req->body), req->body.len);
  const cJSON *req_items = cJSON_GetObjectItemCaseSensitive(in, "RequestItems");
  const char *table = lk_json_str(in, "TableName");
  const char *index = lk_json_str(in, "IndexName");
  const char *stream = lk_json_str(in, "StreamArn");
  const char *it = lk_json_str(in, "ShardIterator");

  /* Streams' actions are dynamodb:* too, on the stream's ARN (a shard
   * iterator starts with it). */
  snprintf(action, alen, "dynamodb:%s", strchr(target, '.') + 1);
  if (table == NULL && req_items && req_items->child)
    table = req_items->child->string;
  if (stream || (it && strchr(it, '|')))
    snprintf(resource, rlen, "%.*s",
             (int)(stream ? strlen(stream) : (size_t)(strrchr(it, '|') - it)),
             stream ? stream : it);
  else if (table)
    snprintf(resource, rlen, "arn:aws:dynamodb:%s:%s:table/%s%s%s", app->region,
             app->account, table, index ? "/index/" : "", index ? index : "");
  else
    snprintf(resource, rlen, "*");
  cJSON_Delete(in);
  return 0;
}

/* S3 REST: the bucket and key from the path, the action from the method.
 * A key is cut to its folder, so the set stays small and the policy
 * reads as one would write it. */
static int describe_s3(const lk_http_req_t *req, int exact, char *action,
                       size_t alen, char *resource, size_t rlen) {
  const char *p = req->path + 1, *slash = strchr(p, '/');
  const char *m = req->method;
  int has_key = slash && slash[1];
  char bucket[256];
  const char *op;

  if (*p == '\0') {
    snprintf(action, alen, "s3:ListAllMyBuckets");
    snprintf(resource, rlen, "*");
    return 0;
  }
  snprintf(bucket, sizeof(bucket), "%.*s",
           (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
  if (has_key) {
    const char *key = slash + 1, *dir = strrchr(key, '/');

    op = strcmp(m, "PUT") == 0      ? "s3:PutObject"
         : strcmp(m, "DELETE") == 0 ? "s3:DeleteObject"
                                    : "s3:GetObject";
    if (exact)
      snprintf(resource, rlen, "arn:aws:s3:::%s/%s", bucket, key);
    else
      snprintf(resource, rlen, "arn:aws:s3:::%s/%.*s*", bucket,
               (int)(dir ? (size_t)(dir - key + 1) : 0), key);
  } else {
    op = strcmp(m, "PUT") == 0      ? "s3:CreateBucket"
         : strcmp(m, "DELETE") == 0 ? "s3:DeleteBucket"
         : strcmp(m, "POST") == 0   ? "s3:DeleteObject" /* ?delete */
                                    : "s3:ListBucket";
    snprintf(resource, rlen, "arn:aws:s3:::%s%s", bucket,
             strcmp(m, "POST") == 0 ? "/*" : "");
  }
  snprintf(action, alen, "%s", op);
  return 0;
}

/* The Invoke API: by name or by (percent-encoded) ARN, qualifier dropped. */
static int describe_lambda(const lk_app_t *app, const lk_http_req_t *req,
                           char *action, size_t alen, char *resource,
                           size_t rlen) {
  const char *name = req->path + sizeof(LK_LAMBDA_API_PREFIX) - 1;
  const char *end;
  const lk_function_t *f;
  lk_buf_t ref;

  if (*name != '/' || name[1] == '\0') {
    snprintf(action, alen, "lambda:ListFunctions");
    snprintf(resource, rlen, "*");
    return 0;
  }
  name++;
  end = strchr(name, '/');
  snprintf(action, alen, "%s",
           end && strcmp(end, "/invocations") == 0 ? "lambda:InvokeFunction"
                                                   : "lambda:GetFunction");
  lk_buf_init(&ref, 511);
  lk_url_decode(&ref, name, end ? (size_t)(end - name) : strlen(name), 0);
  f = lk_app_function(app, lk_buf_str(&ref));
  snprintf(resource, rlen, "arn:aws:lambda:%s:%s:function:%s", app->region,
           app->account, f ? f->name : lk_buf_str(&ref));
  lk_buf_free(&ref);
  return 0;
}

int lk_access_describe(const lk_app_t *app, const lk_http_req_t *req, int exact,
                       char *action, size_t alen, char *resource, size_t rlen) {
  const char *target = lk_http_header(req, "X-Amz-Target");

  if (strncmp(req->path, LK_LAMBDA_API_PREFIX,
              sizeof(LK_LAMBDA_API_PREFIX) - 1) == 0)
    return describe_lambda(app, req, action, alen, resource, rlen);
  if (target && strncmp(target, "AmazonSQS.", 10) == 0)
    return describe_sqs(app, req, target, action, alen, resource, rlen);
  if (target && strncmp(target, "Logs_20140328.", 14) == 0)
    return describe_logs(app, req, target, action, alen, resource, rlen);
  if (target && (strncmp(target, "DynamoDB_20120810.", 18) == 0 ||
                 strncmp(target, "DynamoDBStreams_20120810.", 25) == 0))
    return describe_ddb(app, req, target, action, alen, resource, rlen);
  if (target && strncmp(target, "AWSEvents.", 10) == 0)
    return describe_events(app, req, target, action, alen, resource, rlen);
  if (target && strncmp(target, "Kinesis_20131202.", 17) == 0)
    return describe_kinesis(app, req, target, action, alen, resource, rlen);
  if (lk_sns_is_request(req))
    return describe_sns(app, req, action, alen, resource, rlen);
  if (lk_sts_is_request(req))
    return LK_ENOENT; /* GetCallerIdentity needs no permission */
  if (lk_sqs_is_query(req))
    return describe_sqs(app, req, NULL, action, alen, resource, rlen);
  return describe_s3(req, exact, action, alen, resource, rlen);
}

/* Which protocol a request speaks, for the shape of its errors. */
typedef enum {
  SVC_S3,
  SVC_SQS_JSON,
  SVC_SQS_QUERY,
  SVC_LAMBDA,
  SVC_LOGS,
  SVC_DDB,
  SVC_SNS
} svc_t;

static svc_t service_of(const lk_http_req_t *req) {
  const char *target = lk_http_header(req, "X-Amz-Target");

  if (strncmp(req->path, LK_LAMBDA_API_PREFIX,
              sizeof(LK_LAMBDA_API_PREFIX) - 1) == 0)
    return SVC_LAMBDA;
  if (target && strncmp(target, "AmazonSQS.", 10) == 0)
    return SVC_SQS_JSON;
  if (target && (strncmp(target, "Logs_20140328.", 14) == 0 ||
                 strncmp(target, "AWSEvents.", 10) == 0 ||
                 strncmp(target, "Kinesis_20131202.", 17) == 0))
    return SVC_LOGS; /* JSON 1.1: the same error shape */
  if (target && (strncmp(target, "DynamoDB_20120810.", 18) == 0 ||
                 strncmp(target, "DynamoDBStreams_20120810.", 25) == 0))
    return SVC_DDB;
  if (lk_sns_is_request(req))
    return SVC_SNS;
  return lk_sqs_is_query(req) ? SVC_SQS_QUERY : SVC_S3;
}

/* An error in the shape the service's clients parse: S3's and SQS
 * query's XML, SQS's JSON 1.0 (code after '#'), Lambda's, Logs' and
 * DynamoDB's JSON (x-amzn-ErrorType). */
static void refuse(lk_http_req_t *req, int status, const char *code,
                   const char *msg) {
  svc_t svc = service_of(req);
  lk_http_header_t h[4];
  char id[37];
  lk_buf_t b;
  int n = 0;

  lk_uuid(id);
  lk_buf_init(&b, 16384); /* a bounded message: it always fits */
  if (svc == SVC_SQS_JSON) {
    h[n++] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.0"};
    lk_buf_printf(&b,
                  "{\"__type\":\"com.amazonaws.sqs#%s\",\"message\":", code);
    lk_buf_add_json_str(&b, msg, strlen(msg));
    lk_buf_adds(&b, "}");
  } else if (svc == SVC_SQS_QUERY || svc == SVC_SNS) {
    h[n++] = (lk_http_header_t){"Content-Type", "text/xml"};
    lk_buf_printf(&b,
                  "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>"
                  "Sender</Type><Code>%s</Code><Message>",
                  code);
    lk_xml_escape(&b, msg, strlen(msg));
    lk_buf_printf(&b,
                  "</Message></Error><RequestId>%s</RequestId>"
                  "</ErrorResponse>",
                  id);
  } else if (svc == SVC_S3) {
    h[n++] = (lk_http_header_t){"Content-Type", "application/xml"};
    lk_buf_printf(&b,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
                  "<Code>%s</Code><Message>",
                  code);
    lk_xml_escape(&b, msg, strlen(msg));
    lk_buf_printf(&b, "</Message><RequestId>%s</RequestId></Error>", id);
  } else {
    h[n++] = (lk_http_header_t){"Content-Type", "application/json"};
    h[n++] = (lk_http_header_t){"x-amzn-ErrorType", code};
    lk_buf_printf(&b, "{\"__type\":\"%s\",\"message\":", code);
    lk_buf_add_json_str(&b, msg, strlen(msg));
    lk_buf_adds(&b, "}");
  }
  h[n++] = (lk_http_header_t){"x-amzn-RequestId", id};
  lk_http_respond(req, status, h, n, lk_buf_str(&b), b.len);
  lk_buf_free(&b);
}

/* AccessDenied, as IAM words it. */
static void deny(const lk_access_t *a, lk_http_req_t *req,
                 const lk_function_t *fn, const char *action,
                 const char *resource) {
  svc_t svc = service_of(req);
  char msg[2600];

  snprintf(msg, sizeof(msg),
           "User: arn:aws:sts::%s:assumed-role/%s-role/%s is not authorized "
           "to perform: %s on resource: %s because no identity-based policy "
           "allows the %s action",
           a->app->account, fn->name, fn->name, action, resource, action);
  if (svc == SVC_LAMBDA || svc == SVC_LOGS || svc == SVC_DDB)
    refuse(req, svc == SVC_LAMBDA ? 403 : 400, "AccessDeniedException", msg);
  else if (svc == SVC_SNS) /* SNS's own word for it */
    refuse(req, 403, "AuthorizationError", msg);
  else
    refuse(req, 403, "AccessDenied", msg);
}

/* ---- who made the request ---- */

typedef enum { BAD_SIGNATURE, UNKNOWN_KEY, NO_SIGNATURE } authfail_t;

/* The code each service answers a failed authentication with. */
static void refuse_auth(lk_http_req_t *req, authfail_t why, const char *msg) {
  static const char *const codes[][3] = {
      [SVC_S3] = {"SignatureDoesNotMatch", "InvalidAccessKeyId",
                  "AccessDenied"},
      [SVC_SQS_JSON] = {"SignatureDoesNotMatch", "InvalidClientTokenId",
                        "MissingAuthenticationToken"},
      [SVC_SQS_QUERY] = {"SignatureDoesNotMatch", "InvalidClientTokenId",
                         "MissingAuthenticationToken"},
      [SVC_LAMBDA] = {"InvalidSignatureException",
                      "UnrecognizedClientException",
                      "MissingAuthenticationTokenException"},
      [SVC_LOGS] = {"InvalidSignatureException", "UnrecognizedClientException",
                    "MissingAuthenticationTokenException"},
      [SVC_DDB] = {"InvalidSignatureException", "UnrecognizedClientException",
                   "MissingAuthenticationTokenException"},
      [SVC_SNS] = {"SignatureDoesNotMatch", "InvalidClientTokenId",
                   "MissingAuthenticationToken"},
  };
  svc_t svc = service_of(req);

  refuse(req, svc == SVC_LOGS || svc == SVC_DDB ? 400 : 403, codes[svc][why],
         msg);
}

/* The secret of a configured credential (--credentials), or NULL. */
static const char *configured_secret(const lk_access_t *a, const char *key) {
  int i;

  for (i = 0; i < a->opts.n_credentials; i++) {
    const char *c = a->opts.credentials[i], *colon = strchr(c, ':');

    if (colon && strlen(key) == (size_t)(colon - c) &&
        strncmp(c, key, strlen(key)) == 0)
      return colon + 1;
  }
  return NULL;
}

/* A signed request: the function whose key signed it, or anyone's when
 * lambkin does not know the key (and need not); 0, or -1 once the
 * refusal is answered. */
static int check_signature(const lk_access_t *a, lk_http_req_t *req,
                           const lk_sigv4_t *s, const lk_function_t **fn) {
  const char *secret, *why;

  *fn = lk_runtime_by_key(a->rt, s->key, strlen(s->key));
  secret = *fn ? lk_runtime_secret(a->rt, *fn) : configured_secret(a, s->key);
  if (secret == NULL) {
    if (!a->opts.require_signature)
      return 0; /* anyone's key is accepted, as LocalStack accepts it */
    refuse_auth(req, UNKNOWN_KEY,
                "The security token included in the request is invalid.");
    return -1;
  }
  if (lk_sigv4_verify(req, s, secret, time(NULL), &why) == 0)
    return 0;
  *fn = NULL;
  refuse_auth(req, BAD_SIGNATURE, why);
  return -1;
}

/* Who made the request: *fn is the function whose credentials signed it
 * or whose session token it carries (both secrets lambkin issued), NULL
 * for anyone else. 0, or -1 once a refusal is answered: a signature that
 * does not verify, or with --require-signature none that does. */
static int authenticate(const lk_access_t *a, lk_http_req_t *req,
                        const lk_function_t **fn) {
  const char *token = lk_http_header(req, "X-Amz-Security-Token");
  lk_sigv4_t s;
  int rc = lk_sigv4_parse(req, &s);

  *fn = NULL;
  if (rc == 0)
    return check_signature(a, req, &s, fn);
  if (token && (*fn = lk_runtime_by_token(a->rt, token)) != NULL)
    return 0;
  if (rc == LK_EINVAL && (a->opts.require_signature ||
                          strstr(lk_http_header(req, "Authorization")
                                     ? lk_http_header(req, "Authorization")
                                     : "",
                                 "Credential=LKIA"))) {
    refuse_auth(req, BAD_SIGNATURE, "The request signature is malformed.");
    return -1;
  }
  if (!a->opts.require_signature)
    return 0;
  refuse_auth(req, NO_SIGNATURE,
              "Request is missing Authentication Token (lambkin serve "
              "--require-signature)");
  return -1;
}

static void journal(lk_access_t *a, const char *fn, const char *action,
                    const char *resource) {
  cJSON *rec = cJSON_CreateObject();

  cJSON_AddStringToObject(rec, "type", "access");
  cJSON_AddStringToObject(rec, "function", fn);
  cJSON_AddStringToObject(rec, "action", action);
  cJSON_AddStringToObject(rec, "resource", resource);
  lk_journal_event(a->journal, rec);
  cJSON_Delete(rec);
}

/* The first time fn makes action on resource: a record in the journal. */
static void record(lk_access_t *a, const lk_function_t *fn, const char *action,
                   const char *resource) {
  char key[2300];

  snprintf(key, sizeof(key), "%s\t%s\t%s", fn->name, action, resource);
  if (cJSON_GetObjectItemCaseSensitive(a->seen, key) != NULL ||
      cJSON_GetArraySize(a->seen) >= LK_ACCESS_MAX)
    return;
  cJSON_AddTrueToObject(a->seen, key);
  journal(a, fn->name, action, resource);
}

void lk_access_rejournal(lk_access_t *a) {
  const cJSON *it;

  cJSON_ArrayForEach(it, a->seen) {
    char key[2300], *action, *resource;

    snprintf(key, sizeof(key), "%s", it->string);
    action = strchr(key, '\t');
    resource = action ? strchr(action + 1, '\t') : NULL;
    if (resource == NULL)
      continue;
    *action++ = '\0';
    *resource++ = '\0';
    journal(a, key, action, resource);
  }
}

int lk_access_check(lk_access_t *a, lk_http_req_t *req,
                    const lk_function_t **caller) {
  const lk_function_t *fn;
  char action[128], resource[2048];

  *caller = NULL;
  if (authenticate(a, req, &fn) != 0)
    return LK_EACCES;
  *caller = fn;
  if (fn == NULL)
    return 0;
  if (a->opts.enforce &&
      lk_access_describe(a->app, req, 1, action, sizeof(action), resource,
                         sizeof(resource)) == 0 &&
      !lk_policy_grants(fn, action, resource, NULL)) {
    deny(a, req, fn, action, resource);
    return LK_EACCES;
  }
  if (lk_access_describe(a->app, req, 0, action, sizeof(action), resource,
                         sizeof(resource)) == 0)
    record(a, fn, action, resource);
  return 0;
}
