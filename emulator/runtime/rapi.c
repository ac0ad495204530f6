/* The Runtime API an instance's process talks to, on its own loopback
 * port: /2018-06-01/runtime/invocation/next (a long poll the next event
 * answers), /invocation/ID/response and /error, and /init/error. Each
 * route is one function; a request is answered here or parked on the
 * instance until the next event. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lambkin/lambkin.h"
#include "mem.h"
#include "runtime_int.h"

#define RAPI "/2018-06-01/runtime"

static void reply(lk_http_req_t *req, int status, const char *body) {
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};

  lk_http_respond(req, status, h, 1, body, strlen(body));
}

static void not_found(lk_http_req_t *req) {
  reply(req, 404,
        "{\"errorMessage\":\"not found\",\"errorType\":\"NotFound\"}");
}

static void on_next_abort(lk_http_req_t *req) {
  lk_instance_t *in = req->data;

  if (in && in->next_req == req)
    in->next_req = NULL;
  lk_http_respond(req, 200, NULL, 0, NULL, 0);
}

/* Takes the invocation off the instance: it has its answer. */
static lk_invocation_t *detach(lk_instance_t *in) {
  lk_invocation_t *inv = in->cur;

  in->cur = NULL;
  inv->inst = NULL;
  uv_timer_stop(&in->timer);
  return inv;
}

/* GET /invocation/next: the instance is ready for work. */
static void next(lk_instance_t *in, lk_http_req_t *req) {
  static const char unanswered[] =
      "{\"errorMessage\":\"runtime asked for the next event without "
      "answering\",\"errorType\":\"Runtime.InvalidResponse\"}";

  if (in->next_req) { /* only one long poll at a time */
    reply(req, 400,
          "{\"errorMessage\":\"a /next is already waiting\","
          "\"errorType\":\"InvalidStateTransition\"}");
    return;
  }
  /* Asked for more work without answering: that is a failed invoke. */
  if (in->cur)
    lk_rt_complete(detach(in), "error", "Runtime.InvalidResponse", unanswered,
                   sizeof(unanswered) - 1);
  req->data = in;
  req->on_abort = on_next_abort;
  in->next_req = req;
  if (in->state == INST_STARTING) {
    in->init_ms = (double)(uv_hrtime() - in->spawn_ns) / 1e6;
    in->fn->n_starting--;
    uv_timer_stop(&in->timer);
  }
  in->state = INST_IDLE;
  in->idle_since_ns = uv_hrtime();
  if (in->mem_read_ns == 0)
    lk_instance_sample_mem(in, NULL);
  if (lk_rt_retired(in)) { /* its code changed: the next runs a new one */
    in->ever_ready = 1;    /* not an init failure */
    lk_instance_stop_idle(in);
  } else
    lk_rt_instance_ready(in);
}

/* The JSON error body a runtime posted, made whole if it is not. */
static void post_error(lk_http_req_t *req, char **type, char **body,
                       size_t *len) {
  const char *hdr = lk_http_header(req, "Lambda-Runtime-Function-Error-Type");
  cJSON *j = cJSON_ParseWithLength(lk_buf_str(&req->body), req->body.len);
  cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "errorType");
  lk_buf_t b;

  *type = lk_xstrdup(cJSON_IsString(t) ? t->valuestring
                     : hdr             ? hdr
                                       : "Unhandled");
  if (cJSON_IsObject(j)) {
    *body = lk_buf_steal(&req->body, len);
  } else {
    lk_buf_init(&b, LK_SYNC_MAX_PAYLOAD); /* 4 KB of message: it fits */
    lk_buf_adds(&b, "{\"errorMessage\":");
    lk_buf_add_json_str(&b, lk_buf_str(&req->body),
                        req->body.len > 4096 ? 4096 : req->body.len);
    lk_buf_adds(&b, ",\"errorType\":");
    lk_buf_add_json_str(&b, *type, strlen(*type));
    lk_buf_adds(&b, "}");
    *body = lk_buf_steal(&b, len);
  }
  cJSON_Delete(j);
}

/* POST /init/error: kept until the instance is gone, when the invocation
 * that waited for it gets it. */
static void init_error(lk_instance_t *in, lk_http_req_t *req) {
  size_t len;

  free(in->init_error_type);
  free(in->init_error_body);
  post_error(req, &in->init_error_type, &in->init_error_body, &len);
  reply(req, 202, "{\"status\":\"OK\"}");
}

/* POST /invocation/ID/response. */
static void response(lk_instance_t *in, lk_http_req_t *req) {
  static const char too_large[] =
      "{\"errorMessage\":\"Response payload size exceeded maximum "
      "allowed payload size (6291556 bytes).\",\"errorType\":"
      "\"Function.ResponseSizeTooLarge\"}";
  lk_invocation_t *inv = detach(in);

  lk_instance_sample_mem(in, inv);
  if (req->body_too_large) {
    reply(req, 413,
          "{\"errorMessage\":\"payload too large\","
          "\"errorType\":\"RequestEntityTooLarge\"}");
    lk_rt_complete(inv, "error", "Function.ResponseSizeTooLarge", too_large,
                   sizeof(too_large) - 1);
    return;
  }
  lk_rt_complete(inv, "ok", NULL, lk_buf_str(&req->body), req->body.len);
  reply(req, 202, "{\"status\":\"OK\"}");
}

/* POST /invocation/ID/error. */
static void error(lk_instance_t *in, lk_http_req_t *req) {
  lk_invocation_t *inv = detach(in);
  char *type, *body;
  size_t len;

  lk_instance_sample_mem(in, inv);
  post_error(req, &type, &body, &len);
  lk_rt_complete(inv, "error", type, body, len);
  free(type);
  free(body);
  reply(req, 202, "{\"status\":\"OK\"}");
}

/* /invocation/ID/VERB for the invocation this instance runs. */
static void invocation(lk_instance_t *in, lk_http_req_t *req,
                       const char *rest) {
  const char *slash = strchr(rest, '/');
  size_t n = slash ? (size_t)(slash - rest) : 0;

  if (slash == NULL || in->cur == NULL || n != strlen(in->cur->id) ||
      strncmp(rest, in->cur->id, n) != 0) {
    reply(req, 400,
          "{\"errorMessage\":\"unknown request id\","
          "\"errorType\":\"InvalidRequestID\"}");
  } else if (strcmp(slash, "/response") == 0) {
    response(in, req);
  } else if (strcmp(slash, "/error") == 0) {
    error(in, req);
  } else { /* not a known verb: the invocation keeps running */
    not_found(req);
  }
}

void lk_rapi_serve(lk_http_req_t *req, void *instance) {
  lk_instance_t *in = instance;
  const char *path = req->path;
  int get = strcmp(req->method, "GET") == 0;
  int post = strcmp(req->method, "POST") == 0;

  if (strncmp(path, RAPI, sizeof(RAPI) - 1) != 0) {
    not_found(req);
    return;
  }
  path += sizeof(RAPI) - 1;
  if (get && strcmp(path, "/invocation/next") == 0)
    next(in, req);
  else if (post && strcmp(path, "/init/error") == 0)
    init_error(in, req);
  else if (post && strncmp(path, "/invocation/", 12) == 0)
    invocation(in, req, path + 12);
  else
    not_found(req);
}
