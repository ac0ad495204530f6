/* API Gateway (see apigw.h). A route is a method and a path template of
 * literal segments, {name} and a last {name+}; the most specific match
 * wins (literals over parameters over greedy), as in API Gateway. An
 * exchange lives from the request to the answer: the client may leave,
 * or the timeout may answer first, and the invocation still ends cleanly. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "apigw.h"
#include "codec.h"
#include "emu.h"
#include "lambkin/lambkin.h"

#define MAX_SEGS 32

typedef struct route {
  char *method; /* upper case, or "ANY" */
  char *path;   /* "/items/{id}", or "$default" */
  lk_function_t *def;
  int v2;       /* payload format 2.0 */
  int http_api; /* an HttpApi route (else a REST Api) */
} route_t;

struct lk_apigw {
  lk_emu_t *emu;
  lk_http_server_t *srv;
  route_t *routes;
  int n;
  int timeout_s;
  int any_http_api;
};

typedef struct exchange {
  lk_apigw_t *gw;
  lk_http_req_t *req; /* NULL once answered or gone */
  route_t *route;
  uv_timer_t *timer;
  int invoked; /* the invocation's callback is still to come */
} exchange_t;

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

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

/* Scores how specifically a route fits (higher is better), -1 for no
 * match; fills params {name: value} when it fits. */
static int match(const route_t *r, const char *method, const char *path,
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

    if (ts[i][0] == '{' && tl > 3 && ts[i][tl - 2] == '+') {
      lk_buf_t rest;

      if (i != nt - 1 || np <= i)
        return -1;
      ts[i][tl - 2] = '\0';
      lk_buf_init(&rest, sizeof(pb));
      for (; i < np; i++) {
        if (rest.len)
          lk_buf_add(&rest, "/", 1);
        lk_url_decode(&rest, ps[i], strlen(ps[i]), 0);
      }
      lk_buf_add(&rest, "", 1);
      cJSON_AddStringToObject(params, ts[nt - 1] + 1, rest.data);
      lk_buf_free(&rest);
      return score + 1;
    }
    if (i >= np)
      return -1;
    if (ts[i][0] == '{' && tl > 2) {
      lk_buf_t v;

      ts[i][tl - 1] = '\0';
      lk_buf_init(&v, sizeof(pb));
      lk_url_decode(&v, ps[i], strlen(ps[i]), 0);
      lk_buf_add(&v, "", 1);
      cJSON_AddStringToObject(params, ts[i] + 1, v.data);
      lk_buf_free(&v);
      score += 10;
    } else if (strcmp(ts[i], ps[i]) == 0) {
      score += 100;
    } else {
      return -1;
    }
  }
  return np == nt ? score + 2 : -1;
}

/* ---- the event ---- */

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

static void add_body(cJSON *ev, const lk_http_req_t *req) {
  const char *ct = lk_http_header(req, "Content-Type");

  if (req->body.len == 0) {
    cJSON_AddNullToObject(ev, "body");
    cJSON_AddFalseToObject(ev, "isBase64Encoded");
  } else if (is_text(ct) && lk_utf8_valid(req->body.data, req->body.len)) {
    char *b = strndup(req->body.data, req->body.len);

    cJSON_AddStringToObject(ev, "body", b ? b : "");
    cJSON_AddFalseToObject(ev, "isBase64Encoded");
    free(b);
  } else {
    lk_buf_t b;

    lk_buf_init(&b, 2 * (size_t)LK_SYNC_MAX_PAYLOAD);
    lk_b64_encode(&b, req->body.data, req->body.len);
    lk_buf_add(&b, "", 1);
    cJSON_AddStringToObject(ev, "body", b.data ? b.data : "");
    cJSON_AddTrueToObject(ev, "isBase64Encoded");
    lk_buf_free(&b);
  }
}

/* Query string to {k: last value} and {k: [values]} (v1) or {k: "a,b"}
 * (v2). */
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
    lk_buf_add(&k, "", 1);
    lk_buf_add(&v, "", 1);
    if (k.len > 1) {
      cJSON *old = cJSON_GetObjectItemCaseSensitive(single, k.data);

      if (v2 && old) {
        char *joined = NULL;

        if (asprintf(&joined, "%s,%s", old->valuestring, v.data) >= 0) {
          cJSON_ReplaceItemInObjectCaseSensitive(single, k.data,
                                                 cJSON_CreateString(joined));
          free(joined);
        }
      } else {
        cJSON_DeleteItemFromObjectCaseSensitive(single, k.data);
        cJSON_AddStringToObject(single, k.data, v.data);
      }
      if (multi) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(multi, k.data);

        if (list == NULL)
          list = cJSON_AddArrayToObject(multi, k.data);
        cJSON_AddItemToArray(list, cJSON_CreateString(v.data));
      }
    }
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

static char *event_v1(const char *account, const route_t *r,
                      const lk_http_req_t *req, const cJSON *params) {
  cJSON *ev = cJSON_CreateObject(), *h, *mh, *q, *mq, *ctx, *id;
  char rid[37], when[40], path[2100];
  const char *res = strcmp(r->path, "$default") == 0 ? "/{proxy+}" : r->path;
  char *out;
  int i;

  cJSON_AddStringToObject(ev, "resource", res);
  cJSON_AddStringToObject(ev, "path", req->path);
  cJSON_AddStringToObject(ev, "httpMethod", req->method);
  h = cJSON_AddObjectToObject(ev, "headers");
  mh = cJSON_AddObjectToObject(ev, "multiValueHeaders");
  for (i = 0; i < req->n_headers; i++) {
    cJSON *list = cJSON_GetObjectItem(mh, req->headers[i].name);

    cJSON_DeleteItemFromObject(h, req->headers[i].name);
    cJSON_AddStringToObject(h, req->headers[i].name, req->headers[i].value);
    if (list == NULL)
      list = cJSON_AddArrayToObject(mh, req->headers[i].name);
    cJSON_AddItemToArray(list, cJSON_CreateString(req->headers[i].value));
  }
  q = cJSON_CreateObject();
  mq = cJSON_CreateObject();
  add_query(req->query, q, mq, 0);
  if (cJSON_GetArraySize(q)) {
    cJSON_AddItemToObject(ev, "queryStringParameters", q);
    cJSON_AddItemToObject(ev, "multiValueQueryStringParameters", mq);
  } else {
    cJSON_Delete(q);
    cJSON_Delete(mq);
    cJSON_AddNullToObject(ev, "queryStringParameters");
    cJSON_AddNullToObject(ev, "multiValueQueryStringParameters");
  }
  if (cJSON_GetArraySize(params))
    cJSON_AddItemToObject(ev, "pathParameters", cJSON_Duplicate(params, 1));
  else
    cJSON_AddNullToObject(ev, "pathParameters");
  cJSON_AddNullToObject(ev, "stageVariables");
  ctx = cJSON_AddObjectToObject(ev, "requestContext");
  request_context(ctx, account, rid, req, when, sizeof(when));
  cJSON_AddStringToObject(ctx, "resourceId", "lambkin");
  cJSON_AddStringToObject(ctx, "resourcePath", res);
  cJSON_AddStringToObject(ctx, "httpMethod", req->method);
  cJSON_AddStringToObject(ctx, "extendedRequestId", rid);
  cJSON_AddStringToObject(ctx, "requestTime", when);
  snprintf(path, sizeof(path), "/%s%s", r->http_api ? "$default" : "Prod",
           req->path);
  cJSON_AddStringToObject(ctx, "path", path);
  cJSON_AddStringToObject(ctx, "protocol", "HTTP/1.1");
  cJSON_AddStringToObject(ctx, "stage", r->http_api ? "$default" : "Prod");
  id = cJSON_AddObjectToObject(ctx, "identity");
  cJSON_AddStringToObject(id, "sourceIp", "127.0.0.1");
  cJSON_AddStringToObject(id, "userAgent",
                          lk_http_header(req, "User-Agent")
                              ? lk_http_header(req, "User-Agent")
                              : "");
  add_body(ev, req);
  out = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  return out;
}

static char *event_v2(const char *account, const route_t *r,
                      const lk_http_req_t *req, const cJSON *params) {
  cJSON *ev = cJSON_CreateObject(), *h, *q, *ctx, *http, *cookies;
  char rid[37], when[40], key[2200];
  char *out;
  int i;

  if (strcmp(r->path, "$default") == 0)
    snprintf(key, sizeof(key), "$default");
  else
    snprintf(key, sizeof(key), "%s %s", r->method, r->path);
  cJSON_AddStringToObject(ev, "version", "2.0");
  cJSON_AddStringToObject(ev, "routeKey", key);
  cJSON_AddStringToObject(ev, "rawPath", req->path);
  cJSON_AddStringToObject(ev, "rawQueryString", req->query);
  cookies = cJSON_CreateArray();
  h = cJSON_AddObjectToObject(ev, "headers");
  for (i = 0; i < req->n_headers; i++) {
    char lower[256];
    size_t k;
    cJSON *old;

    for (k = 0; req->headers[i].name[k] && k + 1 < sizeof(lower); k++)
      lower[k] = (char)tolower((unsigned char)req->headers[i].name[k]);
    lower[k] = '\0';
    if (strcmp(lower, "cookie") == 0) { /* cookies go in their own list */
      const char *c = req->headers[i].value;

      while (*c) {
        size_t n = strcspn(c, ";");
        char *one = strndup(c, n);

        if (one && one[0])
          cJSON_AddItemToArray(cookies, cJSON_CreateString(one));
        free(one);
        c += n;
        while (*c == ';' || *c == ' ')
          c++;
      }
      continue;
    }
    old = cJSON_GetObjectItemCaseSensitive(h, lower);
    if (old) { /* repeated headers are joined with commas */
      char *joined = NULL;

      if (asprintf(&joined, "%s,%s", old->valuestring, req->headers[i].value) >=
          0) {
        cJSON_ReplaceItemInObjectCaseSensitive(h, lower,
                                               cJSON_CreateString(joined));
        free(joined);
      }
    } else {
      cJSON_AddStringToObject(h, lower, req->headers[i].value);
    }
  }
  if (cJSON_GetArraySize(cookies))
    cJSON_AddItemToObject(ev, "cookies", cookies);
  else
    cJSON_Delete(cookies);
  q = cJSON_CreateObject();
  add_query(req->query, q, NULL, 1);
  if (cJSON_GetArraySize(q))
    cJSON_AddItemToObject(ev, "queryStringParameters", q);
  else
    cJSON_Delete(q);
  if (cJSON_GetArraySize(params))
    cJSON_AddItemToObject(ev, "pathParameters", cJSON_Duplicate(params, 1));
  ctx = cJSON_AddObjectToObject(ev, "requestContext");
  request_context(ctx, account, rid, req, when, sizeof(when));
  http = cJSON_AddObjectToObject(ctx, "http");
  cJSON_AddStringToObject(http, "method", req->method);
  cJSON_AddStringToObject(http, "path", req->path);
  cJSON_AddStringToObject(http, "protocol", "HTTP/1.1");
  cJSON_AddStringToObject(http, "sourceIp", "127.0.0.1");
  cJSON_AddStringToObject(http, "userAgent",
                          lk_http_header(req, "User-Agent")
                              ? lk_http_header(req, "User-Agent")
                              : "");
  cJSON_AddStringToObject(ctx, "routeKey", key);
  cJSON_AddStringToObject(ctx, "stage", "$default");
  cJSON_AddStringToObject(ctx, "time", when);
  cJSON_AddNumberToObject(ctx, "timeEpoch", (double)lk_now_ms());
  add_body(ev, req);
  if (req->body.len == 0) /* v2 leaves an empty body out */
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "body");
  out = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  return out;
}

/* ---- the answer ---- */

static void answer_json(lk_http_req_t *req, int status, const char *msg) {
  char body[160];
  lk_http_header_t h[] = {
      {"Content-Type", "application/json"},
      {"x-amzn-ErrorType", status == 404 ? "NotFoundException"
                           : status == 403
                               ? "MissingAuthenticationTokenException"
                               : "InternalServerErrorException"}};
  int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);

  lk_http_respond(req, status, h, 2, body, (size_t)n);
}

#define MAX_OUT_HEADERS 64

/* Maps a function's answer to the HTTP response; 0, or -1 when it cannot
 * be mapped (the caller answers 502). */
static int map_response(lk_http_req_t *req, route_t *r, const char *body,
                        size_t len) {
  cJSON *res = cJSON_ParseWithLength(body, len);
  lk_http_header_t h[MAX_OUT_HEADERS];
  char *owned[MAX_OUT_HEADERS];
  int n = 0, n_owned = 0, status = 200, i, rc = -1;
  const cJSON *sc, *hs, *it, *b64;
  const char *out = "";
  size_t out_len = 0;
  lk_buf_t dec;

  lk_buf_init(&dec, (size_t)LK_SYNC_MAX_PAYLOAD);
  if (res == NULL)
    goto done;
  sc = cJSON_GetObjectItemCaseSensitive(res, "statusCode");
  if (r->v2 && (!cJSON_IsObject(res) || sc == NULL)) {
    /* v2 shorthand: a bare string is the body; other JSON is sent as
     * JSON; either way 200. */
    h[n++] = (lk_http_header_t){"Content-Type", "application/json"};
    if (cJSON_IsString(res)) {
      out = res->valuestring;
      out_len = strlen(out);
    } else {
      out = body;
      out_len = len;
    }
    lk_http_respond(req, 200, h, n, out, out_len);
    rc = 0;
    goto done;
  }
  if (!cJSON_IsObject(res) || !cJSON_IsNumber(sc) || sc->valuedouble < 100 ||
      sc->valuedouble > 599)
    goto done;
  status = (int)sc->valuedouble;
  it = cJSON_GetObjectItemCaseSensitive(res, "body");
  if (it && !cJSON_IsString(it) && !cJSON_IsNull(it))
    goto done; /* a body must be a string */
  if (cJSON_IsString(it)) {
    out = it->valuestring;
    out_len = strlen(out);
  }
  b64 = cJSON_GetObjectItemCaseSensitive(res, "isBase64Encoded");
  if (cJSON_IsTrue(b64)) {
    if (lk_b64_decode(&dec, out, out_len))
      goto done;
    out = dec.data ? dec.data : "";
    out_len = dec.len;
  }
  hs = cJSON_GetObjectItemCaseSensitive(res, "headers");
  cJSON_ArrayForEach(it, hs) {
    if (n >= MAX_OUT_HEADERS - 1)
      break;
    if (cJSON_IsString(it)) {
      h[n++] = (lk_http_header_t){it->string, it->valuestring};
    } else if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
      owned[n_owned] = cJSON_PrintUnformatted(it);
      h[n++] = (lk_http_header_t){it->string, owned[n_owned++]};
    }
  }
  hs = cJSON_GetObjectItemCaseSensitive(res, "multiValueHeaders");
  cJSON_ArrayForEach(it, hs) {
    const cJSON *v;

    cJSON_ArrayForEach(v, it) if (cJSON_IsString(v) && n < MAX_OUT_HEADERS - 1)
        h[n++] = (lk_http_header_t){it->string, v->valuestring};
  }
  hs = cJSON_GetObjectItemCaseSensitive(res, "cookies");
  if (r->v2)
    cJSON_ArrayForEach(it,
                       hs) if (cJSON_IsString(it) && n < MAX_OUT_HEADERS - 1)
        h[n++] = (lk_http_header_t){"Set-Cookie", it->valuestring};
  /* Response headers are the function's data: CR or LF in one would split
   * the response, so such an answer is refused, as a gateway must. */
  for (i = 0; i < n; i++)
    if (strpbrk(h[i].name, "\r\n:") || strpbrk(h[i].value, "\r\n"))
      goto done;
  for (i = 0; i < n && strcasecmp(h[i].name, "Content-Type") != 0; i++)
    ;
  if (i == n && n < MAX_OUT_HEADERS)
    h[n++] = (lk_http_header_t){"Content-Type",
                                r->v2 ? "text/plain" : "application/json"};
  lk_http_respond(req, status, h, n, out, out_len);
  rc = 0;
done:
  for (i = 0; i < n_owned; i++)
    free(owned[i]);
  lk_buf_free(&dec);
  cJSON_Delete(res);
  return rc;
}

static void exchange_free(exchange_t *x) {
  if (x->timer)
    uv_close((uv_handle_t *)x->timer, (uv_close_cb)free);
  free(x);
}

static void on_result(const lk_result_t *res, void *ud) {
  exchange_t *x = ud;

  x->invoked = 0;
  if (x->req) {
    lk_http_req_t *req = x->req;

    x->req = NULL;
    req->on_abort = NULL;
    if (res->error_type ||
        map_response(req, x->route, res->body, res->len) != 0)
      answer_json(req, 502, "Internal server error");
  }
  exchange_free(x);
}

static void on_timeout(uv_timer_t *t) {
  exchange_t *x = t->data;

  if (x->req) {
    lk_http_req_t *req = x->req;

    x->req = NULL;
    req->on_abort = NULL;
    answer_json(req, 504, "Endpoint request timed out");
  }
}

static void on_abort(lk_http_req_t *req) {
  exchange_t *x = req->data;

  x->req = NULL;
  lk_http_drop(req);
}

static void on_request(lk_http_req_t *req, void *ud) {
  lk_apigw_t *gw = ud;
  cJSON *params = NULL, *best_params = NULL;
  route_t *best = NULL;
  int i, best_score = -1;
  char *event, edge[600];
  exchange_t *x;

  if (req->body_too_large) {
    answer_json(req, 413, "Request Entity Too Large");
    return;
  }
  for (i = 0; i < gw->n; i++) {
    int s;

    params = cJSON_CreateObject();
    s = match(&gw->routes[i], req->method, req->path, params);
    if (s > best_score) {
      cJSON_Delete(best_params);
      best_params = params;
      best_score = s;
      best = &gw->routes[i];
    } else {
      cJSON_Delete(params);
    }
  }
  if (best == NULL) {
    if (gw->any_http_api)
      answer_json(req, 404, "Not Found");
    else
      answer_json(req, 403, "Missing Authentication Token");
    return;
  }
  event = best->v2 ? event_v2(gw->emu->app->account, best, req, best_params)
                   : event_v1(gw->emu->app->account, best, req, best_params);
  cJSON_Delete(best_params);
  x = calloc(1, sizeof(*x));
  if (event == NULL || x == NULL) {
    free(event);
    free(x);
    answer_json(req, 500, "Internal server error");
    return;
  }
  x->gw = gw;
  x->req = req;
  x->route = best;
  x->timer = malloc(sizeof(*x->timer));
  if (x->timer) {
    uv_timer_init(gw->emu->loop, x->timer);
    x->timer->data = x;
    uv_timer_start(x->timer, on_timeout, (uint64_t)gw->timeout_s * 1000, 0);
  }
  req->data = x;
  req->on_abort = on_abort;
  snprintf(edge, sizeof(edge), "http:%s %.500s", req->method, req->path);
  x->invoked = 1;
  if (lk_emu_invoke(gw->emu, best->def, event, strlen(event), 0, "apigw",
                    lk_http_header(req, "X-Amzn-Trace-Id"), edge, on_result,
                    x)) {
    x->invoked = 0;
    x->req = NULL;
    req->on_abort = NULL;
    answer_json(req, 502, "Internal server error");
    exchange_free(x);
  }
  free(event);
}

char *lk_apigw_event(int v2, int http_api, const char *account,
                     const char *method, const char *path_template,
                     const lk_http_req_t *req) {
  route_t r = {(char *)method, (char *)path_template, NULL, v2, http_api};
  cJSON *params = cJSON_CreateObject();
  char *ev = NULL;

  if (match(&r, req->method, req->path, params) >= 0)
    ev = v2 ? event_v2(account, &r, req, params)
            : event_v1(account, &r, req, params);
  cJSON_Delete(params);
  return ev;
}

/* ---- set-up ---- */

static int add_route(lk_apigw_t *gw, lk_function_t *def, const char *method,
                     const char *path, int v2, int http_api) {
  route_t *nr = realloc(gw->routes, sizeof(*nr) * (size_t)(gw->n + 1));
  route_t *r;
  char *p;

  if (nr == NULL)
    return LK_ENOMEM;
  gw->routes = nr;
  r = &gw->routes[gw->n++];
  r->def = def;
  r->v2 = v2;
  r->http_api = http_api;
  r->method = strdup(method && strcasecmp(method, "any") != 0 &&
                             strcmp(method, "*") != 0
                         ? method
                         : "ANY");
  r->path = strdup(path ? path : "$default");
  for (p = r->method; p && *p; p++)
    *p = (char)toupper((unsigned char)*p);
  gw->any_http_api |= http_api;
  return r->method && r->path ? 0 : LK_ENOMEM;
}

int lk_apigw_new(lk_emu_t *emu, const char *host, int port, int timeout_s,
                 lk_apigw_t **out) {
  lk_apigw_t *gw = calloc(1, sizeof(*gw));
  lk_app_t *app = emu->app;
  lk_http_opts_t ho = {host, port, LK_SYNC_MAX_PAYLOAD};
  int i, err = 0;

  *out = NULL;
  if (gw == NULL)
    return LK_ENOMEM;
  gw->emu = emu;
  gw->timeout_s = timeout_s > 0 ? timeout_s : LK_APIGW_TIMEOUT_S;
  for (i = 0; i < app->n_functions && err == 0; i++) {
    const cJSON *ev;

    cJSON_ArrayForEach(ev, app->functions[i].events) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      const char *type = str(ev, "Type");
      const char *fmt = str(p, "PayloadFormatVersion");

      if (type && strcmp(type, "Api") == 0)
        err = add_route(gw, &app->functions[i], str(p, "Method"),
                        str(p, "Path"), 0, 0);
      else if (type && strcmp(type, "HttpApi") == 0)
        err = add_route(gw, &app->functions[i], str(p, "Method"),
                        str(p, "Path"), !(fmt && strcmp(fmt, "1.0") == 0), 1);
    }
  }
  if (err == 0 && gw->n)
    err = lk_http_server_new(emu->loop, &ho, on_request, gw, &gw->srv);
  if (err || gw->n == 0) {
    lk_apigw_free(gw);
    return err;
  }
  *out = gw;
  return 0;
}

int lk_apigw_port(const lk_apigw_t *gw) {
  return gw && gw->srv ? lk_http_server_port(gw->srv) : -1;
}

int lk_apigw_n_routes(const lk_apigw_t *gw) {
  return gw ? gw->n : 0;
}

const char *lk_apigw_route(const lk_apigw_t *gw, int i, char *buf,
                           unsigned cap) {
  const route_t *r = &gw->routes[i];

  snprintf(buf, cap, "%-6s %-28s -> %s (payload %s)", r->method, r->path,
           r->def->name, r->v2 ? "2.0" : "1.0");
  return buf;
}

void lk_apigw_close(lk_apigw_t *gw) {
  if (gw && gw->srv) {
    lk_http_server_free(gw->srv);
    gw->srv = NULL;
  }
}

void lk_apigw_free(lk_apigw_t *gw) {
  int i;

  if (gw == NULL)
    return;
  for (i = 0; i < gw->n; i++) {
    free(gw->routes[i].method);
    free(gw->routes[i].path);
  }
  free(gw->routes);
  free(gw);
}
