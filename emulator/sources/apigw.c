/* API Gateway (see apigw.h): the route table from the template, the
 * server, and the mapping of a function's answer back to HTTP. An
 * exchange lives from the request to the answer: the client may leave,
 * or the timeout may answer first, and the invocation still ends cleanly.
 * Routes and events are in apigw_event.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "apigw.h"
#include "apigw_int.h"
#include "codec.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define MAX_OUT_HEADERS 64

struct lk_apigw {
  uv_loop_t *loop;
  const lk_app_t *app;
  lk_runtime_t *rt;
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

/* The response's headers: headers, multiValueHeaders and (v2) cookies as
 * Set-Cookie; numbers and booleans printed into owned[]. The count, or
 * -1 when a name or value holds CR or LF: response headers are the
 * function's data, and a gateway must not let them split the response. */
static int collect_headers(const cJSON *res, int v2, lk_http_header_t *h,
                           char **owned, int *n_owned) {
  const cJSON *it, *v;
  int n = 0, i;

  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "headers")) {
    if (n < MAX_OUT_HEADERS - 1 && cJSON_IsString(it)) {
      h[n++] = (lk_http_header_t){it->string, it->valuestring};
    } else if (n < MAX_OUT_HEADERS - 1 &&
               (cJSON_IsNumber(it) || cJSON_IsBool(it))) {
      owned[*n_owned] = cJSON_PrintUnformatted(it);
      h[n++] = (lk_http_header_t){it->string, owned[(*n_owned)++]};
    }
  }
  cJSON_ArrayForEach(it,
                     cJSON_GetObjectItemCaseSensitive(res, "multiValueHeaders"))
      cJSON_ArrayForEach(v, it) {
    if (cJSON_IsString(v) && n < MAX_OUT_HEADERS - 1)
      h[n++] = (lk_http_header_t){it->string, v->valuestring};
  }
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "cookies")) {
    if (v2 && cJSON_IsString(it) && n < MAX_OUT_HEADERS - 1)
      h[n++] = (lk_http_header_t){"Set-Cookie", it->valuestring};
  }
  for (i = 0; i < n; i++)
    if (strpbrk(h[i].name, "\r\n:") || strpbrk(h[i].value, "\r\n"))
      return -1;
  return n;
}

/* The body of a {statusCode, body, isBase64Encoded} answer into *out
 * (dec holds a decoded one); 0, or -1 when it is not a string or not
 * base64. */
static int answer_body(const cJSON *res, lk_buf_t *dec, const char **out,
                       size_t *len) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(res, "body");

  *out = "";
  *len = 0;
  if (it && !cJSON_IsString(it) && !cJSON_IsNull(it))
    return -1; /* a body must be a string */
  if (cJSON_IsString(it)) {
    *out = it->valuestring;
    *len = strlen(*out);
  }
  if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isBase64Encoded")))
    return 0;
  if (lk_b64_decode(dec, *out, *len))
    return -1;
  *out = lk_buf_str(dec);
  *len = dec->len;
  return 0;
}

/* v2's shorthand: an answer without statusCode is the body (a bare string
 * as it is, other JSON as JSON), with 200. */
static void answer_plain(lk_http_req_t *req, const cJSON *res, const char *body,
                         size_t len) {
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};

  if (cJSON_IsString(res))
    lk_http_respond(req, 200, h, 1, res->valuestring, strlen(res->valuestring));
  else
    lk_http_respond(req, 200, h, 1, body, len);
}

/* Maps a function's answer to the HTTP response; 0, or -1 when it cannot
 * be mapped (the caller answers 502). */
static int map_response(lk_http_req_t *req, const route_t *r, const char *body,
                        size_t len) {
  cJSON *res = cJSON_ParseWithLength(body, len);
  const cJSON *sc = cJSON_GetObjectItemCaseSensitive(res, "statusCode");
  lk_http_header_t h[MAX_OUT_HEADERS];
  char *owned[MAX_OUT_HEADERS];
  int n = -1, n_owned = 0, i, rc = -1;
  const char *out = "";
  size_t out_len = 0;
  lk_buf_t dec;

  lk_buf_init(&dec, (size_t)LK_SYNC_MAX_PAYLOAD);
  if (res && r->v2 && (!cJSON_IsObject(res) || sc == NULL)) {
    answer_plain(req, res, body, len);
    rc = 0;
  } else if (cJSON_IsObject(res) && cJSON_IsNumber(sc) &&
             sc->valuedouble >= 100 && sc->valuedouble <= 599 &&
             answer_body(res, &dec, &out, &out_len) == 0) {
    n = collect_headers(res, r->v2, h, owned, &n_owned);
  }
  if (n >= 0) {
    for (i = 0; i < n && strcasecmp(h[i].name, "Content-Type") != 0; i++)
      ;
    if (i == n)
      h[n++] = (lk_http_header_t){"Content-Type",
                                  r->v2 ? "text/plain" : "application/json"};
    lk_http_respond(req, (int)sc->valuedouble, h, n, out, out_len);
    rc = 0;
  }
  for (i = 0; i < n_owned; i++)
    free(owned[i]);
  lk_buf_free(&dec);
  cJSON_Delete(res);
  return rc;
}

/* ---- an exchange ---- */

static void exchange_free(exchange_t *x) {
  if (x->timer)
    uv_close((uv_handle_t *)x->timer, lk_free_handle);
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

/* The route that fits the request best and its path parameters (the
 * caller frees them); NULL when none fits. */
static route_t *best_route(lk_apigw_t *gw, const lk_http_req_t *req,
                           cJSON **params) {
  route_t *best = NULL;
  cJSON *p;
  int i, s, best_score = -1;

  *params = NULL;
  for (i = 0; i < gw->n; i++) {
    p = cJSON_CreateObject();
    s = lk_apigw_match(&gw->routes[i], req->method, req->path, p);
    if (s > best_score) {
      cJSON_Delete(*params);
      *params = p;
      best_score = s;
      best = &gw->routes[i];
    } else {
      cJSON_Delete(p);
    }
  }
  return best;
}

/* Waits for the invocation, or the integration timeout. */
static exchange_t *exchange_new(lk_apigw_t *gw, lk_http_req_t *req,
                                route_t *route) {
  exchange_t *x = lk_xcalloc(1, sizeof(*x));

  x->gw = gw;
  x->req = req;
  x->route = route;
  x->timer = lk_xmalloc(sizeof(*x->timer));
  uv_timer_init(gw->loop, x->timer);
  x->timer->data = x;
  uv_timer_start(x->timer, on_timeout, (uint64_t)gw->timeout_s * 1000, 0);
  req->data = x;
  req->on_abort = on_abort;
  return x;
}

static void on_request(lk_http_req_t *req, void *ud) {
  lk_apigw_t *gw = ud;
  cJSON *params;
  route_t *best;
  char *event, edge[600];
  exchange_t *x;

  if (req->body_too_large) {
    answer_json(req, 413, "Request Entity Too Large");
    return;
  }
  best = best_route(gw, req, &params);
  if (best == NULL) {
    if (gw->any_http_api)
      answer_json(req, 404, "Not Found");
    else
      answer_json(req, 403, "Missing Authentication Token");
    cJSON_Delete(params);
    return;
  }
  event = lk_apigw_build(gw->app->account, best, req, params);
  cJSON_Delete(params);
  x = exchange_new(gw, req, best);
  snprintf(edge, sizeof(edge), "http:%s %.500s", req->method, req->path);
  x->invoked = 1;
  if (lk_runtime_invoke(gw->rt, best->def, event, strlen(event), 0, "apigw",
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

/* ---- set-up ---- */

static void add_route(lk_apigw_t *gw, const lk_function_t *def,
                      const char *method, const char *path, int v2,
                      int http_api) {
  route_t *r;
  char *p;

  gw->routes = lk_xrealloc(gw->routes, sizeof(*r) * (size_t)(gw->n + 1));
  r = &gw->routes[gw->n++];
  r->def = def;
  r->v2 = v2;
  r->http_api = http_api;
  r->method = lk_xstrdup(method && strcasecmp(method, "any") != 0 &&
                                 strcmp(method, "*") != 0
                             ? method
                             : "ANY");
  r->path = lk_xstrdup(path ? path : "$default");
  for (p = r->method; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  gw->any_http_api |= http_api;
}

/* Events of type Api (payload 1.0) and HttpApi (2.0, unless
 * PayloadFormatVersion says 1.0). */
static void add_routes(lk_apigw_t *gw, const lk_app_t *app) {
  const cJSON *ev, *p;
  const char *type, *fmt;
  int i;

  for (i = 0; i < app->n_functions; i++)
    cJSON_ArrayForEach(ev, app->functions[i].events) {
      p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      type = lk_json_str(ev, "Type");
      fmt = lk_json_str(p, "PayloadFormatVersion");
      if (type && strcmp(type, "Api") == 0)
        add_route(gw, &app->functions[i], lk_json_str(p, "Method"),
                  lk_json_str(p, "Path"), 0, 0);
      else if (type && strcmp(type, "HttpApi") == 0)
        add_route(gw, &app->functions[i], lk_json_str(p, "Method"),
                  lk_json_str(p, "Path"), !(fmt && strcmp(fmt, "1.0") == 0), 1);
    }
}

int lk_apigw_new(uv_loop_t *loop, const lk_app_t *app, lk_runtime_t *rt,
                 const lk_apigw_opts_t *opts, lk_apigw_t **out) {
  lk_apigw_t *gw = lk_xcalloc(1, sizeof(*gw));
  lk_http_opts_t ho = {opts->host,    opts->port, LK_SYNC_MAX_PAYLOAD,
                       opts->browser, NULL,       NULL};
  int err = 0;

  *out = NULL;
  gw->loop = loop;
  gw->app = app;
  gw->rt = rt;
  gw->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : LK_APIGW_TIMEOUT_S;
  add_routes(gw, app);
  if (gw->n)
    err = lk_http_server_new(loop, &ho, on_request, gw, &gw->srv);
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
