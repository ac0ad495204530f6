/* lambkin's native bootstrap for C handlers: a Runtime API client, like
 * any other runtime. It dlopens $LAMBKIN_HANDLER_SO, looks up $_HANDLER
 * and loops over /invocation/next. Blocking I/O on one keep-alive
 * connection: one process serves one invocation at a time. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lambkin/handler.h"

#define MAX_BODY (6 * 1024 * 1024 + 1024)
#define MAX_HEAD 65536 /* a client context of control bytes, escaped: 16 KB */

typedef struct conn {
  int fd;
  const char *host; /* AWS_LAMBDA_RUNTIME_API, sent as Host */
  char buf[65536];
  size_t pos, len;
} conn_t;

typedef struct reply {
  int status;
  char request_id[128];
  char arn[512];
  char trace[512];
  char client_context[4096];
  char cognito[4096];
  long long deadline;
  char *body;
  size_t len;
} reply_t;

static void die(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  fprintf(stderr, "lambkin-bootstrap-c: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static int parse_hostport(const char *s, struct sockaddr_in *sa) {
  char host[256];
  const char *colon = strrchr(s, ':');
  char *end;
  long port;

  if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
    return -1;
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  port = strtol(colon + 1, &end, 10);
  if (port <= 0 || port > 65535 || (*end && *end != '/'))
    return -1;
  memset(sa, 0, sizeof(*sa));
  sa->sin_family = AF_INET;
  sa->sin_port = htons((unsigned short)port);
  if (strcmp(host, "localhost") == 0)
    snprintf(host, sizeof(host), "127.0.0.1");
  return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int conn_open(conn_t *c, const char *hostport) {
  struct sockaddr_in sa;
  int one = 1;

  if (parse_hostport(hostport, &sa))
    return -1;
  c->host = hostport;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->pos = c->len = 0;
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int fill(conn_t *c) {
  ssize_t n;

  if (c->pos == c->len)
    c->pos = c->len = 0;
  if (c->len == sizeof(c->buf)) {
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
  }
  do
    n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return -1;
  c->len += (size_t)n;
  return 0;
}

static int read_line(conn_t *c, char *out, size_t cap) {
  size_t o = 0;

  for (;;) {
    while (c->pos < c->len) {
      char ch = c->buf[c->pos++];

      if (ch == '\n') {
        if (o && out[o - 1] == '\r')
          o--;
        out[o] = '\0';
        return 0;
      }
      if (o + 1 >= cap)
        return -1;
      out[o++] = ch;
    }
    if (fill(c))
      return -1;
  }
}

static void copy_header(char *dst, size_t cap, const char *v) {
  snprintf(dst, cap, "%s", v);
}

static int read_reply(conn_t *c, reply_t *r) {
  char line[MAX_HEAD];
  size_t clen = 0, got = 0;

  memset(r, 0, offsetof(reply_t, body));
  r->body = NULL;
  r->len = 0;
  if (read_line(c, line, sizeof(line)) || strncmp(line, "HTTP/1.", 7))
    return -1;
  r->status = (int)strtol(line + 9, NULL, 10);
  for (;;) {
    char *colon, *v;

    if (read_line(c, line, sizeof(line)))
      return -1;
    if (line[0] == '\0')
      break;
    colon = strchr(line, ':');
    if (colon == NULL)
      continue;
    *colon = '\0';
    for (v = colon + 1; *v == ' '; v++)
      ;
    if (strcasecmp(line, "Content-Length") == 0) {
      clen = strtoul(v, NULL, 10);
      if (clen > MAX_BODY)
        return -1;
    } else if (strcasecmp(line, "Lambda-Runtime-Aws-Request-Id") == 0) {
      copy_header(r->request_id, sizeof(r->request_id), v);
    } else if (strcasecmp(line, "Lambda-Runtime-Invoked-Function-Arn") == 0) {
      copy_header(r->arn, sizeof(r->arn), v);
    } else if (strcasecmp(line, "Lambda-Runtime-Trace-Id") == 0) {
      copy_header(r->trace, sizeof(r->trace), v);
    } else if (strcasecmp(line, "Lambda-Runtime-Client-Context") == 0) {
      copy_header(r->client_context, sizeof(r->client_context), v);
    } else if (strcasecmp(line, "Lambda-Runtime-Cognito-Identity") == 0) {
      copy_header(r->cognito, sizeof(r->cognito), v);
    } else if (strcasecmp(line, "Lambda-Runtime-Deadline-Ms") == 0) {
      r->deadline = strtoll(v, NULL, 10);
    }
  }
  r->body = malloc(clen + 1);
  if (r->body == NULL)
    return -1;
  while (got < clen) {
    size_t take;

    if (c->pos == c->len && fill(c))
      return -1;
    take = c->len - c->pos;
    if (take > clen - got)
      take = clen - got;
    memcpy(r->body + got, c->buf + c->pos, take);
    c->pos += take;
    got += take;
  }
  r->body[clen] = '\0';
  r->len = clen;
  return 0;
}

static int send_request(conn_t *c, const char *method, const char *path,
                        const char *extra, const char *body, size_t len) {
  char head[2048];
  int n = snprintf(head, sizeof(head),
                   "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: "
                   "%zu\r\n\r\n",
                   method, path, c->host, extra ? extra : "", len);

  if (n < 0 || (size_t)n >= sizeof(head))
    return -1;
  if (write_all(c->fd, head, (size_t)n))
    return -1;
  return len ? write_all(c->fd, body, len) : 0;
}

/* ---- JSON for errors (the only JSON the bootstrap writes) ---- */

static char *json_escape(const char *s) {
  size_t n = strlen(s), o = 0, i;
  char *out = malloc(n * 6 + 1);

  if (out == NULL)
    return NULL;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];

    if (ch == '"' || ch == '\\') {
      out[o++] = '\\';
      out[o++] = (char)ch;
    } else if (ch < 0x20) {
      o += (size_t)snprintf(out + o, 7, "\\u%04x", ch);
    } else {
      out[o++] = (char)ch;
    }
  }
  out[o] = '\0';
  return out;
}

static char *error_json(const char *type, const char *message) {
  char *t = json_escape(type), *m = json_escape(message), *out = NULL;

  if (t && m &&
      asprintf(&out,
               "{\"errorMessage\":\"%s\",\"errorType\":\"%s\","
               "\"stackTrace\":[]}",
               m, t) < 0)
    out = NULL;
  free(t);
  free(m);
  return out;
}

/* ---- the host table ---- */

static int host_respond(lk_response_t *res, const void *data, size_t len) {
  char *p = malloc(len + 1);

  if (p == NULL)
    return -12;
  memcpy(p, data, len);
  p[len] = '\0';
  free(res->data);
  res->data = p;
  res->len = len;
  res->failed = 0;
  return 0;
}

static int host_fail(lk_response_t *res, const char *type,
                     const char *message) {
  char *j = error_json(type ? type : "Error", message ? message : "");

  if (j == NULL)
    return -12;
  free(res->data);
  res->data = j;
  res->len = strlen(j);
  res->failed = 1;
  snprintf(res->error_type, sizeof(res->error_type), "%s",
           type ? type : "Error");
  return 0;
}

/* One call to lambkin's endpoint (AWS_ENDPOINT_URL) on a fresh
 * connection, carrying the invocation's trace so lambkin can follow the
 * chain. out (if given) takes the reply body. 0, or a negative errno. */
static int service_call(const lk_request_t *req, const char *method,
                        const char *path, const char *headers, const void *body,
                        size_t len, lk_bytes_t *out) {
  const char *ep = getenv("AWS_ENDPOINT_URL");
  const char *token = getenv("AWS_SESSION_TOKEN");
  char extra[2048];
  conn_t *c;
  reply_t r;
  int rc = -5;

  if (ep == NULL || strncmp(ep, "http://", 7) != 0)
    return -38;
  c = malloc(sizeof(*c));
  if (c == NULL)
    return -12;
  if (conn_open(c, ep + 7)) {
    free(c);
    return -111;
  }
  /* The session token names the function's credentials, as an SDK's
   * X-Amz-Security-Token does: lambkin attributes the call by it. */
  snprintf(extra, sizeof(extra),
           "%sX-Amzn-Trace-Id: %s\r\n%s%s%sConnection: close\r\n",
           headers ? headers : "", req->trace_id ? req->trace_id : "",
           token ? "X-Amz-Security-Token: " : "", token ? token : "",
           token ? "\r\n" : "");
  if (send_request(c, method, path, extra, body, len) == 0 &&
      read_reply(c, &r) == 0) {
    rc = r.status < 300 ? 0 : r.status == 404 ? -2 : -5;
    if (out && rc == 0) {
      out->data = r.body;
      out->len = r.len;
    } else {
      free(r.body);
    }
  }
  close(c->fd);
  free(c);
  return rc;
}

/* Lambda Invoke through lambkin's endpoint. */
static int host_invoke(const lk_request_t *req, const char *function,
                       const void *payload, size_t len, int async,
                       lk_bytes_t *out) {
  char path[1024], extra[128];

  snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations",
           function);
  snprintf(extra, sizeof(extra), "X-Amz-Invocation-Type: %s\r\n",
           async ? "Event" : "RequestResponse");
  return service_call(req, "POST", path, extra, payload, len, out);
}

/* "/bucket/key" with the key percent-encoded ('/' kept), as S3 wants. */
static int s3_path(char *out, size_t cap, const char *bucket, const char *key) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = (size_t)snprintf(out, cap, "/%s/", bucket);

  for (; *key && o + 4 < cap; key++) {
    unsigned char ch = (unsigned char)*key;

    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
        (ch >= '0' && ch <= '9') || strchr("-_.~/", ch)) {
      out[o++] = (char)ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  out[o] = '\0';
  return *key ? -36 : 0; /* -ENAMETOOLONG */
}

static int host_s3_put(const lk_request_t *req, const char *bucket,
                       const char *key, const void *data, size_t len) {
  char path[4096];

  if (s3_path(path, sizeof(path), bucket, key))
    return -36;
  return service_call(req, "PUT", path, NULL, data, len, NULL);
}

static int host_s3_get(const lk_request_t *req, const char *bucket,
                       const char *key, lk_bytes_t *out) {
  char path[4096];

  if (s3_path(path, sizeof(path), bucket, key))
    return -36;
  return service_call(req, "GET", path, NULL, NULL, 0, out);
}

/* SendMessage in SQS's JSON 1.0 protocol; queue is a URL, name or ARN. */
static int host_sqs_send(const lk_request_t *req, const char *queue,
                         const char *body) {
  char *q = json_escape(queue), *b = json_escape(body), *doc = NULL;
  int rc = -12;

  if (q && b &&
      asprintf(&doc, "{\"QueueUrl\":\"%s\",\"MessageBody\":\"%s\"}", q, b) >= 0)
    rc = service_call(req, "POST", "/",
                      "X-Amz-Target: AmazonSQS.SendMessage\r\n"
                      "Content-Type: application/x-amz-json-1.0\r\n",
                      doc, strlen(doc), NULL);
  free(q);
  free(b);
  free(doc);
  return rc;
}

/* The handler: "file.so:symbol", "module.symbol" or "symbol" names the
 * symbol (what follows the last ':' or '.'). NULL once the failure has
 * gone to /init/error, as Lambda's own runtimes report it. */
static lk_handler_fn *load_handler(conn_t *c, const char *so, const char *sym) {
  const char *colon = strrchr(sym, ':');
  lk_handler_fn *fn = NULL;
  char msg[1024], *j;
  reply_t r;
  void *dl;

  if (colon == NULL)
    colon = strrchr(sym, '.');
  if (colon)
    sym = colon + 1;
  dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (dl)
    *(void **)&fn = dlsym(dl, sym);
  if (fn)
    return fn;
  snprintf(msg, sizeof(msg), "%s", dlerror());
  j = error_json("Runtime.InvalidEntrypoint", msg);
  fprintf(stderr, "%s\n", msg);
  send_request(c, "POST", "/2018-06-01/runtime/init/error",
               "Lambda-Runtime-Function-Error-Type: "
               "Runtime.InvalidEntrypoint\r\n",
               j, j ? strlen(j) : 0);
  if (read_reply(c, &r) == 0)
    free(r.body);
  return NULL;
}

/* One event through the handler, and its answer back to the Runtime
 * API; 0, or -1 when the API is gone. */
static int run_one(conn_t *c, lk_handler_fn *fn, const lk_host_t *host,
                   reply_t *r) {
  const char *fname = getenv("AWS_LAMBDA_FUNCTION_NAME");
  lk_request_t req;
  lk_response_t res;
  char path[256], extra[256], msg[64];
  int rc;

  memset(&req, 0, sizeof(req));
  memset(&res, 0, sizeof(res));
  req.payload = r->body;
  req.len = r->len;
  req.request_id = r->request_id;
  req.function_name = fname ? fname : "";
  req.function_arn = r->arn;
  req.trace_id = r->trace;
  req.client_context = r->client_context[0] ? r->client_context : NULL;
  req.cognito_identity = r->cognito[0] ? r->cognito : NULL;
  req.deadline_ms = r->deadline;
  req.host = host;
  rc = fn(&req, &res);
  if (rc != 0 && !res.failed) {
    snprintf(msg, sizeof(msg), "handler returned %d", rc);
    host_fail(&res, "HandlerError", msg);
  }
  fflush(stdout);
  fflush(stderr);
  if (res.failed) {
    snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/error",
             r->request_id);
    snprintf(extra, sizeof(extra), "Lambda-Runtime-Function-Error-Type: %s\r\n",
             res.error_type);
    rc = send_request(c, "POST", path, extra, res.data, res.len);
  } else {
    snprintf(path, sizeof(path), "/2018-06-01/runtime/invocation/%s/response",
             r->request_id);
    rc = send_request(c, "POST", path, NULL, res.data ? res.data : "",
                      res.data ? res.len : 0);
  }
  free(res.data);
  return rc;
}

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  const char *so = getenv("LAMBKIN_HANDLER_SO");
  const char *sym = getenv("_HANDLER");
  const lk_host_t host = {host_respond, host_fail,     host_invoke, host_s3_put,
                          host_s3_get,  host_sqs_send, NULL};
  conn_t *c = malloc(sizeof(conn_t));
  lk_handler_fn *fn;
  reply_t r;
  int rc;

  if (api == NULL || so == NULL || sym == NULL || c == NULL)
    die("AWS_LAMBDA_RUNTIME_API, LAMBKIN_HANDLER_SO and _HANDLER must be set");
  if (conn_open(c, api))
    die("cannot reach the Runtime API at %s", api);
  fn = load_handler(c, so, sym);
  if (fn == NULL)
    return 1;
  for (;;) {
    if (send_request(c, "GET", "/2018-06-01/runtime/invocation/next", NULL,
                     NULL, 0) ||
        read_reply(c, &r))
      die("lost the Runtime API");
    if (r.status != 200) {
      free(r.body);
      continue;
    }
    rc = run_one(c, fn, &host, &r);
    free(r.body);
    if (rc || read_reply(c, &r))
      die("lost the Runtime API");
    free(r.body);
  }
}
