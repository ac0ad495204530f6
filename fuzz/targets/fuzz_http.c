/* libFuzzer target, end to end: bytes from a real TCP client into lambkin's
 * HTTP server on its own libuv loop, in one write, so every request after
 * the first is pipelined. A request whose path starts with /l is answered
 * on a later loop turn (as an invocation is), the others at once, so both
 * ways a pipeline resumes are fuzzed; the browser policy (Host, Origin,
 * CORS preflight) is on. Whatever the bytes, the client reads back only
 * whole HTTP/1.1 responses, the server never crashes, and every handle
 * closes (the loop closes cleanly after each input). Bytes that open with
 * HTTP/2's preface get HTTP/2 back: frames, the server's SETTINGS
 * first. */
#include <arpa/inet.h>
#include "check.h"
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
  lk_http_server_t *srv;
  uv_timer_t timer;
  lk_http_req_t *later; /* answered when the timer fires */
  uv_poll_t poll;
  int fd;
  char out[65536];
  size_t out_len;
  int eof;
} ctx_t;

static void answer(lk_http_req_t *req) {
  lk_http_respond(req, req->body_too_large ? 413 : 200, NULL, 0, "ok", 2);
}

static void on_timer(uv_timer_t *t) {
  ctx_t *c = t->data;
  lk_http_req_t *req = c->later;

  c->later = NULL;
  if (req)
    answer(req);
}

static void on_req(lk_http_req_t *req, void *ud) {
  ctx_t *c = ud;

  if (strncmp(req->path, "/l", 2) == 0 && c->later == NULL) {
    c->later = req;
    uv_timer_start(&c->timer, on_timer, 0, 0);
    return;
  }
  answer(req);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  ctx_t *c = p->data;
  ssize_t n;

  (void)events;
  if (status < 0) {
    c->eof = 1;
  } else {
    n = read(c->fd, c->out + c->out_len, sizeof(c->out) - c->out_len);
    if (n > 0)
      c->out_len += (size_t)n;
    else
      c->eof = 1;
  }
  if (c->eof || c->out_len == sizeof(c->out)) {
    uv_poll_stop(p);
    uv_close((uv_handle_t *)p, NULL);
    lk_http_server_free(c->srv);
    on_timer(&c->timer); /* an aborted request is still answered */
    uv_close((uv_handle_t *)&c->timer, NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uv_loop_t loop;
  static const char *const hosts[] = {"fuzz.test", ".lan"};
  static const char *const origins[] = {"https://app.example"};
  static const lk_browser_policy_t browser = {hosts, 2, origins, 1};
  lk_http_opts_t o = {"127.0.0.1", 0, 4096, &browser, NULL, NULL};
  struct sockaddr_in sa;
  ctx_t c;
  size_t off = 0;

  memset(&c, 0, sizeof(c));
  CHECK(uv_loop_init(&loop) == 0);
  CHECK(lk_http_server_new(&loop, &o, on_req, &c, &c.srv) == 0);
  uv_timer_init(&loop, &c.timer);
  c.timer.data = &c;
  c.fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)lk_http_server_port(c.srv));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* The connect completes in the kernel backlog; the loop accepts it. */
  CHECK(connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
  while (off < size) {
    ssize_t w = write(c.fd, data + off, size - off);

    if (w <= 0)
      break;
    off += (size_t)w;
  }
  shutdown(c.fd, SHUT_WR);
  uv_poll_init(&loop, &c.poll, c.fd);
  c.poll.data = &c;
  uv_poll_start(&c.poll, UV_READABLE | UV_DISCONNECT, on_poll);
  uv_run(&loop, UV_RUN_DEFAULT);
  close(c.fd);
  CHECK(uv_loop_close(&loop) == 0);
  /* Only whole responses come back, in the protocol asked for. */
  if (size >= 24 && memcmp(data, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) == 0)
    CHECK(c.out_len == 0 || (c.out_len >= 9 && c.out[3] == 0x04));
  else
    CHECK(c.out_len == 0 || strncmp(c.out, "HTTP/1.1 ", 9) == 0);
  return 0;
}
