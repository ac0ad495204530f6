/* The Invoke API, REST-JSON as botocore and the JS SDK speak it:
 * ListFunctions, GetFunction, GetFunctionConfiguration and Invoke
 * (RequestResponse, Event, DryRun; Tail logs; client context). A
 * synchronous caller's request waits on its invocation until the answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "runtime_int.h"

#define NAME_MAX_BYTES 512

/* The type in x-amzn-ErrorType, the message in the body: what botocore
 * and the JS SDK parse. */
void lk_api_error(lk_http_req_t *req, int status, const char *type,
                  const char *fmt, ...) {
  char msg[1024], id[37];
  lk_buf_t b;
  va_list ap;
  lk_http_header_t h[3];

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  lk_uuid(id);
  lk_buf_init(&b, 8192); /* the message is bounded: it always fits */
  lk_buf_adds(&b, "{\"Type\":\"User\",\"message\":");
  lk_buf_add_json_str(&b, msg, strlen(msg));
  if (status == 429)
    lk_buf_adds(&b, ",\"Reason\":\"ReservedFunctionConcurrentInvocationLimit"
                    "Exceeded\"");
  lk_buf_adds(&b, "}");
  h[0] = (lk_http_header_t){"Content-Type", "application/json"};
  h[1] = (lk_http_header_t){"x-amzn-ErrorType", type};
  h[2] = (lk_http_header_t){"x-amzn-RequestId", id};
  lk_http_respond(req, status, h, 3, lk_buf_str(&b), b.len);
  lk_buf_free(&b);
}

/* The last 4 KB of the invocation's log, base64'd, for X-Amz-Log-Result;
 * the caller frees it. */
static char *log_tail(const lk_invocation_t *inv) {
  size_t off = inv->log.len > LK_LOG_TAIL ? inv->log.len - LK_LOG_TAIL : 0;
  lk_buf_t b;

  lk_buf_init(&b, LK_LOG_TAIL * 2);
  lk_b64_encode(&b, lk_buf_str(&inv->log) + off, inv->log.len - off);
  return lk_buf_steal(&b, NULL);
}

void lk_api_respond(lk_invocation_t *inv) {
  lk_http_header_t h[6];
  char *tail = NULL;
  int n = 0;

  h[n++] = (lk_http_header_t){"Content-Type", "application/json"};
  h[n++] = (lk_http_header_t){"X-Amz-Executed-Version", "$LATEST"};
  h[n++] = (lk_http_header_t){"x-amzn-RequestId", inv->id};
  if (inv->error_type)
    h[n++] = (lk_http_header_t){"X-Amz-Function-Error", "Unhandled"};
  if (inv->tail)
    tail = log_tail(inv);
  if (tail)
    h[n++] = (lk_http_header_t){"X-Amz-Log-Result", tail};
  lk_http_respond(inv->req, 200, h, n, inv->body ? inv->body : "",
                  inv->body_len);
  inv->req = NULL;
  free(tail);
}

static cJSON *fn_config(const lk_app_t *app, const lk_function_t *f) {
  cJSON *c = cJSON_CreateObject(), *env, *vars;
  char role[256];
  int i;

  snprintf(role, sizeof(role), "arn:aws:iam::%s:role/%s-role", app->account,
           f->name);
  cJSON_AddStringToObject(c, "FunctionName", f->name);
  cJSON_AddStringToObject(c, "FunctionArn", f->arn);
  cJSON_AddStringToObject(c, "Runtime", f->runtime);
  cJSON_AddStringToObject(c, "Role", role);
  cJSON_AddStringToObject(c, "Handler", f->handler);
  cJSON_AddNumberToObject(c, "CodeSize", 0);
  cJSON_AddStringToObject(c, "Description", "");
  cJSON_AddNumberToObject(c, "Timeout", f->timeout_s);
  cJSON_AddNumberToObject(c, "MemorySize", f->memory_mb);
  cJSON_AddStringToObject(c, "LastModified", "2024-01-01T00:00:00.000+0000");
  cJSON_AddStringToObject(c, "CodeSha256", "");
  cJSON_AddStringToObject(c, "Version", "$LATEST");
  cJSON_AddStringToObject(c, "PackageType", "Zip");
  cJSON_AddStringToObject(c, "State", "Active");
  cJSON_AddStringToObject(c, "LastUpdateStatus", "Successful");
  cJSON_AddItemToObject(c, "Architectures",
                        cJSON_CreateStringArray((const char *[]){"x86_64"}, 1));
  env = cJSON_AddObjectToObject(c, "Environment");
  vars = cJSON_AddObjectToObject(env, "Variables");
  for (i = 0; i < f->n_env; i++) {
    const char *eq = strchr(f->env[i], '=');
    char key[256];

    snprintf(key, sizeof(key), "%.*s", (int)(eq - f->env[i]), f->env[i]);
    cJSON_AddStringToObject(vars, key, eq + 1);
  }
  return c;
}

static void respond_json(lk_http_req_t *req, int status, cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};

  lk_http_respond(req, status, h, 1, s, strlen(s));
  free(s);
  cJSON_Delete(j);
}

/* X-Amz-Client-Context: base64 of a JSON object, at most 3583 bytes, as
 * Lambda takes it. Returns the JSON on one line (caller frees), NULL
 * when the header is absent; *bad is set when it is not valid. */
static char *client_context(const lk_http_req_t *req, int *bad) {
  const char *h = lk_http_header(req, "X-Amz-Client-Context");
  lk_buf_t dec;
  cJSON *j = NULL;
  char *out = NULL;

  *bad = 0;
  if (h == NULL)
    return NULL;
  lk_buf_init(&dec, LK_CLIENT_CONTEXT_MAX);
  if (strlen(h) <= LK_CLIENT_CONTEXT_MAX &&
      lk_b64_decode(&dec, h, strlen(h)) == 0)
    j = cJSON_ParseWithLength(lk_buf_str(&dec), dec.len);
  if (cJSON_IsObject(j)) /* printed anew: JSON may hold raw CR/LF */
    out = cJSON_PrintUnformatted(j);
  else
    *bad = 1;
  cJSON_Delete(j);
  lk_buf_free(&dec);
  return out;
}

/* X-Amz-Invocation-Type: 0 sync, 1 async, 2 DryRun; -1 once the error is
 * answered. */
static int invocation_type(lk_http_req_t *req) {
  const char *type = lk_http_header(req, "X-Amz-Invocation-Type");

  if (type == NULL || strcmp(type, "RequestResponse") == 0)
    return 0;
  if (strcmp(type, "Event") == 0)
    return 1;
  if (strcmp(type, "DryRun") == 0)
    return 2;
  lk_api_error(req, 400, "InvalidParameterValueException",
               "1 validation error detected: Value '%.64s' at "
               "'invocationType' failed to satisfy constraint",
               type);
  return -1;
}

/* The payload must fit the invocation type's limit and be JSON (an empty
 * one is {}); 0, or -1 once the error is answered. */
static int check_payload(lk_http_req_t *req, int async, const char **body,
                         size_t *len) {
  size_t max = async ? LK_ASYNC_MAX_PAYLOAD : LK_SYNC_MAX_PAYLOAD;
  const char *at;
  cJSON *parsed;

  *body = lk_buf_str(&req->body);
  *len = req->body.len;
  if (req->body_too_large || *len > max) {
    lk_api_error(req, 413, "RequestTooLargeException",
                 "Request must be smaller than %zu bytes for the %s operation",
                 max, async ? "InvokeAsync" : "Invoke");
    return -1;
  }
  if (*len == 0) { /* no payload: the function sees {} */
    *body = "{}";
    *len = 2;
  }
  parsed = cJSON_ParseWithLength(*body, *len);
  if (parsed) {
    cJSON_Delete(parsed);
    return 0;
  }
  at = cJSON_GetErrorPtr();
  lk_api_error(req, 400, "InvalidRequestContentException",
               "Could not parse request body into json: Unexpected "
               "character at offset %zu",
               at && at >= *body && at <= *body + *len ? (size_t)(at - *body)
                                                       : (size_t)0);
  return -1;
}

/* Reserved concurrency and the queues' ceilings; 0, or -1 once the 429
 * is answered. */
static int check_capacity(lk_http_req_t *req, lk_fn_t *fn, int async,
                          size_t len) {
  int reserved = fn->def->reserved_concurrency;

  if (!async && reserved >= 0 &&
      lk_rt_running(fn) + fn->queued_sync >= reserved) {
    lk_api_error(req, 429, "TooManyRequestsException", "Rate Exceeded.");
    return -1;
  }
  if (fn->queued >= LK_QUEUE_MAX) {
    lk_api_error(req, 429, "TooManyRequestsException",
                 "Too many queued invocations for %s", fn->def->name);
    return -1;
  }
  if (lk_rt_queue_full(fn->rt, len)) {
    lk_api_error(req, 429, "TooManyRequestsException",
                 "Too many bytes of queued invocations");
    return -1;
  }
  return 0;
}

/* The caller of a synchronous invoke went away, or ended its side of the
 * connection. One still queued is dropped, payload and all: nobody waits
 * for its answer. One already running finishes, and its answer goes out
 * (a half-closed caller still reads it) or nowhere. */
static void on_caller_gone(lk_http_req_t *req) {
  lk_invocation_t *inv = req->data;

  if (inv == NULL || inv->req != req || lk_rt_unqueue(inv->fn, inv) != 0)
    return;
  inv->req = NULL;
  lk_http_drop(req);
  lk_inv_free(inv);
}

static void api_invoke(lk_runtime_t *rt, lk_http_req_t *req,
                       const lk_function_t *def) {
  lk_fn_t *fn = lk_rt_fn(rt, def);
  const char *log = lk_http_header(req, "X-Amz-Log-Type");
  int type = invocation_type(req), bad_cc;
  lk_invocation_t *inv;
  const char *body;
  char *cc, why[1024];
  size_t len;

  if (type < 0 || check_payload(req, type == 1, &body, &len))
    return;
  cc = client_context(req, &bad_cc);
  if (bad_cc) {
    lk_api_error(req, 400, "InvalidRequestContentException",
                 "Client context must be a valid Base64-encoded JSON object.");
    return;
  }
  if (type == 2) {
    lk_http_header_t h[] = {{"x-amzn-RequestId", "dryrun"}};

    free(cc);
    lk_http_respond(req, 204, h, 1, NULL, 0);
    return;
  }
  if (check_capacity(req, fn, type == 1, len)) {
    free(cc);
    return;
  }
  inv = lk_inv_new(fn, body, len, type == 1, "api");
  if (type == 0) /* Lambda hands it over on synchronous invokes only */
    inv->client_context = cc;
  else
    free(cc);
  if (lk_inv_place(inv, lk_http_header(req, "X-Amzn-Trace-Id"), "invoke", why,
                   sizeof(why))) {
    lk_inv_free(inv);
    lk_api_error(req, 400, "RecursiveInvocationException",
                 "Lambda detected that this invocation is part of a "
                 "recursive loop: %.900s",
                 why);
    return;
  }
  if (type == 1) {
    lk_http_header_t h[] = {{"x-amzn-RequestId", inv->id},
                            {"Content-Type", "application/json"}};

    lk_http_respond(req, 202, h, 2, NULL, 0);
  } else {
    inv->req = req;
    inv->tail = log && strcmp(log, "Tail") == 0;
    req->data = inv;
    req->on_abort = on_caller_gone;
    req->on_hangup = on_caller_gone;
  }
  lk_rt_enqueue(fn, inv);
  lk_rt_schedule(fn);
}

static void list_functions(lk_runtime_t *rt, lk_http_req_t *req) {
  cJSON *out, *list;
  int i;

  if (strcmp(req->method, "GET") != 0) {
    lk_api_error(req, 405, "UnknownOperationException", "use GET");
    return;
  }
  out = cJSON_CreateObject();
  list = cJSON_AddArrayToObject(out, "Functions");
  for (i = 0; i < rt->app->n_functions; i++)
    cJSON_AddItemToArray(list, fn_config(rt->app, &rt->app->functions[i]));
  respond_json(req, 200, out);
}

static void get_function(lk_runtime_t *rt, lk_http_req_t *req,
                         const lk_function_t *def) {
  cJSON *out = cJSON_CreateObject(), *code;

  cJSON_AddItemToObject(out, "Configuration", fn_config(rt->app, def));
  code = cJSON_AddObjectToObject(out, "Code");
  cJSON_AddStringToObject(code, "RepositoryType", "S3");
  cJSON_AddStringToObject(code, "Location", def->code_dir);
  respond_json(req, 200, out);
}

/* /2015-03-31/functions[/NAME[/invocations|/configuration]]; the name may
 * be an ARN, percent-encoded. */
void lk_runtime_serve(lk_runtime_t *rt, lk_http_req_t *req) {
  const char *p = req->path + sizeof(LK_LAMBDA_API_PREFIX) - 1;
  const char *slash, *m = req->method;
  const lk_function_t *def;
  lk_buf_t name;

  if (strcmp(p, "") == 0 || strcmp(p, "/") == 0) {
    list_functions(rt, req);
    return;
  }
  p++;
  slash = strchr(p, '/');
  lk_buf_init(&name, NAME_MAX_BYTES);
  lk_url_decode(&name, p, slash ? (size_t)(slash - p) : strlen(p), 0);
  def = lk_app_function(rt->app, lk_buf_str(&name));
  if (def == NULL)
    lk_api_error(req, 404, "ResourceNotFoundException",
                 "Function not found: arn:aws:lambda:%s:%s:function:%.200s",
                 rt->app->region, rt->app->account, lk_buf_str(&name));
  else if (slash && strcmp(slash, "/invocations") == 0 &&
           strcmp(m, "POST") == 0)
    api_invoke(rt, req, def);
  else if (slash == NULL && strcmp(m, "GET") == 0)
    get_function(rt, req, def);
  else if (slash && strcmp(slash, "/configuration") == 0 &&
           strcmp(m, "GET") == 0)
    respond_json(req, 200, fn_config(rt->app, def));
  else
    lk_api_error(req, 404, "UnknownOperationException",
                 "Unknown operation %s %.200s", m, req->path);
  lk_buf_free(&name);
}
