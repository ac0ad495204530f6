/* The outgoing HTTP/1.1 client (see client.h): connect, one write of the
 * whole request, read until the status line is whole, close. A timer
 * bounds the whole exchange. The call owns its handles; it is freed once
 * both have closed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "client.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define ANSWER_MAX 4096
#define REQUEST_MAX (2 * 1024 * 1024)

struct lk_http_call {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  uv_timer_t timer;
  lk_buf_t request;
  char answer[ANSWER_MAX];
  size_t got;
  lk_http_call_cb cb;
  void *ud;
  int open_handles, done;
};

/* http://HOST[:PORT]/PATH, HOST one of this machine's names: the
 * address, the port and the path (at most cap bytes). 0, or -1. */
static int parse_url(const char *url, struct sockaddr_storage *addr, char *host,
                     size_t hcap, char *path, size_t pcap) {
  const char *p, *slash, *colon;
  unsigned long port = 80;
  char name[64];
  size_t n;

  if (url == NULL || strncasecmp(url, "http://", 7) != 0)
    return -1;
  for (p = url; *p; p++) /* it goes into the request line as it is */
    if ((unsigned char)*p <= ' ' || *p == 0x7f)
      return -1;
  p = url + 7;
  slash = strchr(p, '/');
  n = slash ? (size_t)(slash - p) : strlen(p);
  if (n == 0 || n >= hcap || n >= sizeof(name))
    return -1;
  memcpy(host, p, n);
  host[n] = '\0';
  snprintf(path, pcap, "%s", slash ? slash : "/");
  colon = p[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
  snprintf(name, sizeof(name), "%.*s",
           (int)(colon ? (size_t)(colon - host) + (p[0] == '[') : n), host);
  if (colon) {
    char *end;

    port = strtoul(colon + (p[0] == '[' ? 2 : 1), &end, 10);
    if (*end != '\0' || port == 0 || port > 65535)
      return -1;
  }
  if (strcasecmp(name, "localhost") == 0 || strcmp(name, "127.0.0.1") == 0)
    return uv_ip4_addr("127.0.0.1", (int)port, (struct sockaddr_in *)addr);
  if (strcmp(name, "[::1]") == 0)
    return uv_ip6_addr("::1", (int)port, (struct sockaddr_in6 *)addr);
  return -1; /* not this machine: lambkin calls no one else */
}

static void on_closed(uv_handle_t *h) {
  lk_http_call_t *c = h->data;

  if (--c->open_handles == 0) {
    lk_buf_free(&c->request);
    free(c);
  }
}

/* Ends the call: the callback (once, unless cancelled), then the
 * handles close. */
static void finish(lk_http_call_t *c, int status) {
  if (c->done)
    return;
  c->done = 1;
  if (c->cb)
    c->cb(status, c->ud);
  uv_close((uv_handle_t *)&c->tcp, on_closed);
  uv_close((uv_handle_t *)&c->timer, on_closed);
}

/* "HTTP/1.x NNN ...": the status, 0 while the line is not whole, or
 * LK_EPROTO. */
static int status_of(const lk_http_call_t *c) {
  const char *eol = memchr(c->answer, '\n', c->got);

  if (eol == NULL)
    return c->got == ANSWER_MAX ? LK_EPROTO : 0;
  if (c->got < 12 || strncmp(c->answer, "HTTP/1.", 7) != 0 ||
      c->answer[8] != ' ' || c->answer[9] < '1' || c->answer[9] > '5' ||
      c->answer[10] < '0' || c->answer[10] > '9' || c->answer[11] < '0' ||
      c->answer[11] > '9')
    return LK_EPROTO;
  return (c->answer[9] - '0') * 100 + (c->answer[10] - '0') * 10 +
         (c->answer[11] - '0');
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  lk_http_call_t *c = h->data;

  (void)hint;
  *buf = uv_buf_init(c->answer + c->got, (unsigned)(ANSWER_MAX - c->got));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lk_http_call_t *c = s->data;
  int status;

  (void)buf;
  if (n < 0) {
    status = status_of(c);
    finish(c, status > 0 ? status : status < 0 ? status : LK_EIO);
    return;
  }
  c->got += (size_t)n;
  status = status_of(c);
  if (status != 0)
    finish(c, status);
}

static void on_write(uv_write_t *w, int status) {
  lk_http_call_t *c = w->data;

  if (status < 0)
    finish(c, LK_EIO);
  else if (!c->done)
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_connect(uv_connect_t *req, int status) {
  lk_http_call_t *c = req->data;
  uv_buf_t b;

  if (c->done)
    return;
  if (status < 0) {
    finish(c, LK_EIO);
    return;
  }
  b = uv_buf_init(c->request.data, (unsigned)c->request.len);
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0)
    finish(c, LK_EIO);
}

static void on_timeout(uv_timer_t *t) {
  finish(t->data, LK_ETIMEDOUT);
}

int lk_http_post(uv_loop_t *loop, const char *url,
                 const lk_http_header_t *headers, int n_headers,
                 const char *body, size_t len, int timeout_ms,
                 lk_http_call_cb cb, void *ud, lk_http_call_t **out) {
  struct sockaddr_storage addr;
  char host[300], path[2048];
  lk_http_call_t *c;
  int i;

  if (parse_url(url, &addr, host, sizeof(host), path, sizeof(path)) != 0)
    return LK_EINVAL;
  c = lk_xcalloc(1, sizeof(*c));
  c->cb = cb;
  c->ud = ud;
  lk_buf_init(&c->request, REQUEST_MAX);
  lk_buf_printf(&c->request,
                "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n",
                path, host, len);
  for (i = 0; i < n_headers; i++)
    lk_buf_printf(&c->request, "%s: %s\r\n", headers[i].name, headers[i].value);
  lk_buf_add(&c->request, "\r\n", 2);
  lk_buf_add(&c->request, body, len);
  uv_tcp_init(loop, &c->tcp);
  uv_timer_init(loop, &c->timer);
  c->tcp.data = c->timer.data = c->connect.data = c;
  c->open_handles = 2;
  uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
  if (lk_buf_error(&c->request) ||
      uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&addr,
                     on_connect) != 0) {
    c->cb = NULL; /* failed before it began: say so here, not later */
    finish(c, LK_EIO);
    return LK_EIO;
  }
  *out = c;
  return 0;
}

void lk_http_call_cancel(lk_http_call_t *call) {
  if (call == NULL)
    return;
  call->cb = NULL;
  finish(call, 0);
}
