/* Observed access: service calls attributed to the function whose
 * credentials they carry, named as IAM names them, journaled once per
 * (function, action, resource). See access.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "access.h"
#include "buf.h"
#include "codec.h"
#include "iam.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "sqs.h"

struct lk_access {
  const lk_app_t *app;
  const lk_runtime_t *rt;
  lk_journal_t *journal;
  int enforce;
  cJSON *seen; /* "function\taction\tresource": true */
};

lk_access_t *lk_access_new(const lk_app_t *app, const lk_runtime_t *rt,
                           lk_journal_t *journal, int enforce) {
  lk_access_t *a = lk_xcalloc(1, sizeof(*a));

  a->app = app;
  a->rt = rt;
  a->journal = journal;
  a->enforce = enforce;
  a->seen = cJSON_CreateObject();
  return a;
}

void lk_access_free(lk_access_t *a) {
  if (a == NULL)
    return;
  cJSON_Delete(a->seen);
  free(a);
}

/* The function whose credentials signed the request (the access key of a
 * SigV4 Credential), or whose session token it carries; NULL if none. */
static const lk_function_t *caller(const lk_access_t *a,
                                   const lk_http_req_t *req) {
  const char *auth = lk_http_header(req, "Authorization");
  const char *token = lk_http_header(req, "X-Amz-Security-Token");
  const char *cred = auth ? strstr(auth, "Credential=") : NULL;
  const char *slash = cred ? strchr(cred + 11, '/') : NULL;
  const lk_function_t *f = NULL;
  int i;

  if (slash)
    f = lk_runtime_by_key(a->rt, cred + 11, (size_t)(slash - cred - 11));
  if (f)
    return f;
  if (token && strncmp(token, "lambkin-", 8) == 0)
    for (i = 0; i < a->app->n_functions; i++)
      if (strcmp(token + 8, a->app->functions[i].name) == 0)
        return &a->app->functions[i];
  return NULL;
}

/* One field of a form (a=1&b=2), decoded into out. */
static int form_get(const char *src, size_t len, const char *key, char *out,
                    size_t cap) {
  size_t k = strlen(key), i = 0;

  while (i < len) {
    const char *amp = memchr(src + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - src) : len;

    if (end - i > k && src[i + k] == '=' && memcmp(src + i, key, k) == 0) {
      lk_buf_t b;

      lk_buf_init(&b, cap - 1);
      lk_url_decode(&b, src + i + k + 1, end - i - k - 1, 1);
      snprintf(out, cap, "%s", b.data ? b.data : "");
      lk_buf_free(&b);
      return 1;
    }
    i = end + 1;
  }
  return 0;
}

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

    form_get(src, len, "Action", op, sizeof(op));
    if (!form_get(src, len, "QueueUrl", url, sizeof(url)))
      snprintf(url, sizeof(url), "%s", req->path);
  }
  if (op[0] == '\0')
    return LK_ENOENT;
  snprintf(action, alen, "sqs:%s", op);
  queue_arn(app, url, resource, rlen);
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
  if (lk_sqs_is_query(req))
    return describe_sqs(app, req, NULL, action, alen, resource, rlen);
  return describe_s3(req, exact, action, alen, resource, rlen);
}

/* AccessDenied in the shape the service's clients parse. */
static void deny(const lk_access_t *a, lk_http_req_t *req,
                 const lk_function_t *fn, const char *action,
                 const char *resource) {
  const char *target = lk_http_header(req, "X-Amz-Target");
  char msg[2600], id[37];
  lk_buf_t b;
  lk_http_header_t h[4];
  int n = 0, status = 403;

  snprintf(msg, sizeof(msg),
           "User: arn:aws:sts::%s:assumed-role/%s-role/%s is not authorized "
           "to perform: %s on resource: %s because no identity-based policy "
           "allows the %s action",
           a->app->account, fn->name, fn->name, action, resource, action);
  lk_uuid(id);
  lk_buf_init(&b, 16384); /* a bounded message: it always fits */
  if (strncmp(action, "sqs:", 4) == 0 && target) { /* SQS JSON 1.0 */
    h[n++] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.0"};
    h[n++] = (lk_http_header_t){"x-amzn-query-error", "AccessDenied;Sender"};
    lk_buf_adds(&b, "{\"__type\":\"com.amazonaws.sqs#AccessDenied\","
                    "\"message\":");
    lk_buf_add_json_str(&b, msg, strlen(msg));
    lk_buf_adds(&b, "}");
  } else if (strncmp(action, "sqs:", 4) == 0) { /* SQS query */
    h[n++] = (lk_http_header_t){"Content-Type", "text/xml"};
    lk_buf_adds(&b, "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>"
                    "Sender</Type><Code>AccessDenied</Code><Message>");
    lk_xml_escape(&b, msg, strlen(msg));
    lk_buf_printf(&b,
                  "</Message></Error><RequestId>%s</RequestId>"
                  "</ErrorResponse>",
                  id);
  } else if (strncmp(action, "s3:", 3) == 0) { /* S3 REST-XML */
    h[n++] = (lk_http_header_t){"Content-Type", "application/xml"};
    lk_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
                    "<Code>AccessDenied</Code><Message>");
    lk_xml_escape(&b, msg, strlen(msg));
    lk_buf_printf(&b, "</Message><RequestId>%s</RequestId></Error>", id);
  } else { /* Lambda's REST-JSON and Logs' JSON 1.1 */
    if (strncmp(action, "logs:", 5) == 0)
      status = 400;
    h[n++] = (lk_http_header_t){"Content-Type", "application/json"};
    h[n++] = (lk_http_header_t){"x-amzn-ErrorType", "AccessDeniedException"};
    lk_buf_adds(&b, "{\"__type\":\"AccessDeniedException\",\"message\":");
    lk_buf_add_json_str(&b, msg, strlen(msg));
    lk_buf_adds(&b, "}");
  }
  h[n++] = (lk_http_header_t){"x-amzn-RequestId", id};
  lk_http_respond(req, status, h, n, lk_buf_str(&b), b.len);
  lk_buf_free(&b);
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

int lk_access_check(lk_access_t *a, lk_http_req_t *req) {
  const lk_function_t *fn = caller(a, req);
  char action[128], resource[2048];

  if (fn == NULL)
    return 0;
  if (a->enforce &&
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
