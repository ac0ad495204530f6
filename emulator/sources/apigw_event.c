/* API Gateway's routes and events: a route is a method and a path
 * template of literal segments, {name} and a last {name+}; the most
 * specific match wins (literals over parameters over greedy), as in API
 * Gateway. The events are payload 1.0 (REST, or HttpApi with
 * PayloadFormatVersion 1.0) and 2.0, built for the gateway and for
 * `lambkin event`. Every event returned is the caller's to free. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apigw.h"
#include "apigw_int.h"
#include "codec.h"
#include "ids.h"
#include "mem.h"

#define MAX_SEGS 32

/* ---- matching ---- */

/* Splits "/a/b/c" into segments in place; returns how many. */
static int split(char *path, char *segs[MAX_SEGS]) {
  int n = 0;
  char *p = path;

  while (*p == '/')
    p++;
  while (*p && n < MAX_SEGS) {
    char *slash = strchr(p, '/');

    segs[n++] = p;
    if (slash == NULL)
      break;
    *slash = '\0';
    p = slash + 1;
  }
  return n;
}

/* Adds name: the percent-decoded segments [from, n) joined by '/'. */
static void add_param(cJSON *params, const char *name, char **segs, int from,
                      int n) {
  lk_buf_t v;
  int i;

  lk_buf_init(&v, 8192);
  for (i = from; i < n; i++) {
    if (i > from)
      lk_buf_add(&v, "/", 1);
    lk_url_decode(&v, segs[i], strlen(segs[i]), 0);
  }
  cJSON_AddStringToObject(params, name, lk_buf_str(&v));
  lk_buf_free(&v);
}

int lk_apigw_match(const route_t *r, const char *method, const char *path,
                   cJSON *params) {
  char tb[2048], pb[8192], *ts[MAX_SEGS], *ps[MAX_SEGS];
  int nt, np, i, score = 0;

  if (strcmp(r->method, "ANY") != 0 && strcasecmp(r->method, method) != 0)
    return -1;
  if (strcmp(r->path, "$default") == 0)
    return 0;
  snprintf(tb, sizeof(tb), "%s", r->path);
  snprintf(pb, sizeof(pb), "%s", path);
  nt = split(tb, ts);
  np = split(pb, ps);
  for (i = 0; i < nt; i++) {
    size_t tl = strlen(ts[i]);

    if (ts[i][0] == '{' && tl > 3 && ts[i][tl - 2] == '+') { /* {name+} */
      if (i != nt - 1 || np <= i)
        return -1;
      ts[i][tl - 2] = '\0';
      add_param(params, ts[i] + 1, ps, i, np);
      return score + 1;
    }
    if (i >= np)
      return -1;
    if (ts[i][0] == '{' && tl > 2) { /* {name} */
      ts[i][tl - 1] = '\0';
      add_param(params, ts[i] + 1, ps, i, i + 1);
      score += 10;
    } else if (strcmp(ts[i], ps[i]) == 0) {
      score += 100;
    } else {
      return -1;
    }
  }
  return np == nt ? score + 2 : -1;
}

/* ---- the parts both payload versions share ---- */

static int is_text(const char *ct) {
  static const char *const text[] = {"text/",
                                     "application/json",
                                     "application/xml",
                                     "application/x-www-form-urlencoded",
                                     "application/javascript",
                                     "+json",
                                     "+xml"};
  size_t i;

  if (ct == NULL)
    return 1;
  for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
    if (strstr(ct, text[i]))
      return 1;
  return 0;
}

/* Text bodies as they are, others base64'd. */
static void add_body(cJSON *ev, const lk_http_req_t *req) {
  const char *ct = lk_http_header(req, "Content-Type");
  lk_buf_t b;

  if (req->body.len == 0) {
    cJSON_AddNullToObject(ev, "body");
    cJSON_AddFalseToObject(ev, "isBase64Encoded");
  } else if (is_text(ct) && lk_utf8_valid(req->body.data, req->body.len)) {
    cJSON_AddStringToObject(ev, "body", req->body.data);
    cJSON_AddFalseToObject(ev, "isBase64Encoded");
  } else {
    lk_buf_init(&b, 2 * (size_t)LK_SYNC_MAX_PAYLOAD);
    lk_b64_encode(&b, req->body.data, req->body.len);
    cJSON_AddStringToObject(ev, "body", lk_buf_str(&b));
    cJSON_AddTrueToObject(ev, "isBase64Encoded");
    lk_buf_free(&b);
  }
}

/* One decoded query pair: into single (v2 joins repeats with commas, v1
 * keeps the last) and, for v1, into multi as a list. */
static void add_pair(const char *k, const char *v, cJSON *single, cJSON *multi,
                     int v2) {
  cJSON *old = cJSON_GetObjectItemCaseSensitive(single, k), *list;
  char *joined;

  if (v2 && old) {
    joined = lk_xasprintf("%s,%s", old->valuestring, v);
    cJSON_ReplaceItemInObjectCaseSensitive(single, k,
                                           cJSON_CreateString(joined));
    free(joined);
  } else {
    cJSON_DeleteItemFromObjectCaseSensitive(single, k);
    cJSON_AddStringToObject(single, k, v);
  }
  if (multi == NULL)
    return;
  list = cJSON_GetObjectItemCaseSensitive(multi, k);
  if (list == NULL)
    list = cJSON_AddArrayToObject(multi, k);
  cJSON_AddItemToArray(list, cJSON_CreateString(v));
}

/* Query string to {k: value} and {k: [values]} (v1) or {k: "a,b"} (v2). */
static void add_query(const char *q, cJSON *single, cJSON *multi, int v2) {
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t seg = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', seg);
    lk_buf_t k, v;

    lk_buf_init(&k, 4096);
    lk_buf_init(&v, 16384);
    lk_url_decode(&k, q, eq ? (size_t)(eq - q) : seg, 1);
    if (eq)
      lk_url_decode(&v, eq + 1, seg - (size_t)(eq - q) - 1, 1);
    if (k.len > 0)
      add_pair(lk_buf_str(&k), lk_buf_str(&v), single, multi, v2);
    lk_buf_free(&k);
    lk_buf_free(&v);
    q = amp ? amp + 1 : NULL;
  }
}

/* The parts of requestContext both payload versions share. */
static void request_context(cJSON *ctx, const char *account, char *rid,
                            const lk_http_req_t *req, char *when,
                            size_t when_cap) {
  const char *host = lk_http_header(req, "Host");
  time_t now = time(NULL);
  struct tm tm;

  lk_uuid(rid);
  gmtime_r(&now, &tm);
  strftime(when, when_cap, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  cJSON_AddStringToObject(ctx, "accountId", account);
  cJSON_AddStringToObject(ctx, "apiId", "lambkin");
  cJSON_AddStringToObject(ctx, "domainName", host ? host : "localhost");
  cJSON_AddStringToObject(ctx, "domainPrefix", "localhost");
  cJSON_AddStringToObject(ctx, "requestId", rid);
  cJSON_AddNumberToObject(ctx, "requestTimeEpoch", (double)lk_now_ms());
}

static const char *user_agent(const lk_http_req_t *req) {
  const char *ua = lk_http_header(req, "User-Agent");

  return ua ? ua : "";
}

/* ---- payload 1.0 ---- */

/* headers (the last of each name) and multiValueHeaders (all of them). */
static void v1_headers(cJSON *ev, const lk_http_req_t *req) {
  cJSON *h = cJSON_AddObjectToObject(ev, "headers");
  cJSON *mh = cJSON_AddObjectToObject(ev, "multiValueHeaders"), *list;
  int i;

  for (i = 0; i < req->n_headers; i++) {
    list = cJSON_GetObjectItem(mh, req->headers[i].name);
    cJSON_DeleteItemFromObject(h, req->headers[i].name);
    cJSON_AddStringToObject(h, req->headers[i].name, req->headers[i].value);
    if (list == NULL)
      list = cJSON_AddArrayToObject(mh, req->headers[i].name);
    cJSON_AddItemToArray(list, cJSON_CreateString(req->headers[i].value));
  }
}

static void v1_query(cJSON *ev, const lk_http_req_t *req) {
  cJSON *q = cJSON_CreateObject(), *mq = cJSON_CreateObject();

  add_query(req->query, q, mq, 0);
  if (cJSON_GetArraySize(q)) {
    cJSON_AddItemToObject(ev, "queryStringParameters", q);
    cJSON_AddItemToObject(ev, "multiValueQueryStringParameters", mq);
    return;
  }
  cJSON_Delete(q);
  cJSON_Delete(mq);
  cJSON_AddNullToObject(ev, "queryStringParameters");
  cJSON_AddNullToObject(ev, "multiValueQueryStringParameters");
}

static void v1_context(cJSON *ev, const char *account, const route_t *r,
                       const char *res, const lk_http_req_t *req) {
  cJSON *ctx = cJSON_AddObjectToObject(ev, "requestContext"), *id;
  const char *stage = r->http_api ? "$default" : "Prod";
  char rid[37], when[40], path[2100];

  request_context(ctx, account, rid, req, when, sizeof(when));
  cJSON_AddStringToObject(ctx, "resourceId", "lambkin");
  cJSON_AddStringToObject(ctx, "resourcePath", res);
  cJSON_AddStringToObject(ctx, "httpMethod", req->method);
  cJSON_AddStringToObject(ctx, "extendedRequestId", rid);
  cJSON_AddStringToObject(ctx, "requestTime", when);
  snprintf(path, sizeof(path), "/%s%s", stage, req->path);
  cJSON_AddStringToObject(ctx, "path", path);
  cJSON_AddStringToObject(ctx, "protocol", "HTTP/1.1");
  cJSON_AddStringToObject(ctx, "stage", stage);
  id = cJSON_AddObjectToObject(ctx, "identity");
  cJSON_AddStringToObject(id, "sourceIp", "127.0.0.1");
  cJSON_AddStringToObject(id, "userAgent", user_agent(req));
}

static cJSON *event_v1(const char *account, const route_t *r,
                       const lk_http_req_t *req, const cJSON *params) {
  cJSON *ev = cJSON_CreateObject();
  const char *res = strcmp(r->path, "$default") == 0 ? "/{proxy+}" : r->path;

  cJSON_AddStringToObject(ev, "resource", res);
  cJSON_AddStringToObject(ev, "path", req->path);
  cJSON_AddStringToObject(ev, "httpMethod", req->method);
  v1_headers(ev, req);
  v1_query(ev, req);
  if (cJSON_GetArraySize(params))
    cJSON_AddItemToObject(ev, "pathParameters", cJSON_Duplicate(params, 1));
  else
    cJSON_AddNullToObject(ev, "pathParameters");
  cJSON_AddNullToObject(ev, "stageVariables");
  v1_context(ev, account, r, res, req);
  add_body(ev, req);
  return ev;
}

/* ---- payload 2.0 ---- */

/* "a=1; b=2" as ["a=1", "b=2"]. */
static void add_cookies(cJSON *cookies, const char *c) {
  char *one;
  size_t n;

  while (*c) {
    n = strcspn(c, ";");
    if (n) {
      one = lk_xstrndup(c, n);
      cJSON_AddItemToArray(cookies, cJSON_CreateString(one));
      free(one);
    }
    c += n;
    while (*c == ';' || *c == ' ')
      c++;
  }
}

/* headers with lowercase names, repeats joined with commas; cookies in a
 * list of their own. */
static void v2_headers(cJSON *ev, const lk_http_req_t *req) {
  cJSON *h = cJSON_AddObjectToObject(ev, "headers");
  cJSON *cookies = cJSON_CreateArray(), *old;
  char lower[256], *joined;
  size_t k;
  int i;

  for (i = 0; i < req->n_headers; i++) {
    for (k = 0; req->headers[i].name[k] && k + 1 < sizeof(lower); k++)
      lower[k] = (char)tolower((unsigned char)req->headers[i].name[k]);
    lower[k] = '\0';
    old = cJSON_GetObjectItemCaseSensitive(h, lower);
    if (strcmp(lower, "cookie") == 0) {
      add_cookies(cookies, req->headers[i].value);
    } else if (old) {
      joined = lk_xasprintf("%s,%s", old->valuestring, req->headers[i].value);
      cJSON_ReplaceItemInObjectCaseSensitive(h, lower,
                                             cJSON_CreateString(joined));
      free(joined);
    } else {
      cJSON_AddStringToObject(h, lower, req->headers[i].value);
    }
  }
  if (cJSON_GetArraySize(cookies))
    cJSON_AddItemToObject(ev, "cookies", cookies);
  else
    cJSON_Delete(cookies);
}

static void v2_context(cJSON *ev, const char *account, const char *key,
                       const lk_http_req_t *req) {
  cJSON *ctx = cJSON_AddObjectToObject(ev, "requestContext"), *http;
  char rid[37], when[40];

  request_context(ctx, account, rid, req, when, sizeof(when));
  http = cJSON_AddObjectToObject(ctx, "http");
  cJSON_AddStringToObject(http, "method", req->method);
  cJSON_AddStringToObject(http, "path", req->path);
  cJSON_AddStringToObject(http, "protocol", "HTTP/1.1");
  cJSON_AddStringToObject(http, "sourceIp", "127.0.0.1");
  cJSON_AddStringToObject(http, "userAgent", user_agent(req));
  cJSON_AddStringToObject(ctx, "routeKey", key);
  cJSON_AddStringToObject(ctx, "stage", "$default");
  cJSON_AddStringToObject(ctx, "time", when);
  cJSON_AddNumberToObject(ctx, "timeEpoch", (double)lk_now_ms());
}

static cJSON *event_v2(const char *account, const route_t *r,
                       const lk_http_req_t *req, const cJSON *params) {
  cJSON *ev = cJSON_CreateObject(), *q;
  char key[2200];

  if (strcmp(r->path, "$default") == 0)
    snprintf(key, sizeof(key), "$default");
  else
    snprintf(key, sizeof(key), "%s %s", r->method, r->path);
  cJSON_AddStringToObject(ev, "version", "2.0");
  cJSON_AddStringToObject(ev, "routeKey", key);
  cJSON_AddStringToObject(ev, "rawPath", req->path);
  cJSON_AddStringToObject(ev, "rawQueryString", req->query);
  v2_headers(ev, req);
  q = cJSON_CreateObject();
  add_query(req->query, q, NULL, 1);
  if (cJSON_GetArraySize(q))
    cJSON_AddItemToObject(ev, "queryStringParameters", q);
  else
    cJSON_Delete(q);
  if (cJSON_GetArraySize(params))
    cJSON_AddItemToObject(ev, "pathParameters", cJSON_Duplicate(params, 1));
  v2_context(ev, account, key, req);
  add_body(ev, req);
  if (req->body.len == 0) /* v2 leaves an empty body out */
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "body");
  return ev;
}

char *lk_apigw_build(const char *account, const route_t *r,
                     const lk_http_req_t *req, const cJSON *params) {
  cJSON *ev = r->v2 ? event_v2(account, r, req, params)
                    : event_v1(account, r, req, params);
  char *out = cJSON_PrintUnformatted(ev);

  cJSON_Delete(ev);
  return out;
}

char *lk_apigw_event(int v2, int http_api, const char *account,
                     const char *method, const char *path_template,
                     const lk_http_req_t *req) {
  route_t r = {(char *)method, (char *)path_template, NULL, v2, http_api};
  cJSON *params = cJSON_CreateObject();
  char *ev = NULL;

  if (lk_apigw_match(&r, req->method, req->path, params) >= 0)
    ev = lk_apigw_build(account, &r, req, params);
  cJSON_Delete(params);
  return ev;
}
