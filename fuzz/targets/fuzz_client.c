/* libFuzzer target, end to end: lambkin's outgoing HTTP client (SNS's
 * posts to http:// subscribers). Input: a URL, a newline, then what a
 * subscriber answers. The URL is called as given: it is refused (not
 * http://, not this machine, bytes a request line cannot hold) or the
 * call ends with a status or an error. Then a POST to a local server
 * that answers the rest of the input and closes. Invariants: the
 * callback runs exactly once, with a status in 100..599 or a negative
 * code; an answer that starts with a whole "HTTP/1.x NNN" line yields
 * that NNN; nothing crashes and every handle closes. */
#include <arpa/inet.h>
#include "check.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
  int calls, status;
  int listen_fd;
  const uint8_t *answer;
  size_t answer_len;
  uv_poll_t poll;
} ctx_t;

static void on_status(int status, void *ud) {
  ctx_t *c = ud;

  c->calls++;
  c->status = status;
}

/* The subscriber: takes the connection, answers, closes. */
static void on_accept(uv_poll_t *p, int status, int events) {
  ctx_t *c = p->data;
  int fd = accept(c->listen_fd, NULL, NULL);

  (void)status;
  (void)events;
  if (fd >= 0) {
    size_t off = 0;

    while (off < c->answer_len) {
      ssize_t w = write(fd, c->answer + off, c->answer_len - off);

      if (w <= 0)
        break;
      off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    close(fd);
  }
  uv_poll_stop(p);
  uv_close((uv_handle_t *)p, NULL);
}

static void call(uv_loop_t *loop, const char *url, ctx_t *c) {
  lk_http_call_t *h;
  int rc = lk_http_post(loop, url, NULL, 0, "{}", 2, 2000, on_status, c, &h);

  uv_run(loop, UV_RUN_DEFAULT);
  if (rc == 0) {
    CHECK(c->calls == 1);
    CHECK((c->status >= 100 && c->status <= 599) || c->status < 0);
  } else {
    CHECK(c->calls == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t ulen = nl ? (size_t)(nl - data) : size;
  struct sockaddr_in sa;
  socklen_t slen = sizeof(sa);
  char url[512];
  uv_loop_t loop;
  ctx_t c;

  memset(&c, 0, sizeof(c));
  CHECK(uv_loop_init(&loop) == 0);
  if (ulen < sizeof(url) && memchr(data, '\0', ulen) == NULL) {
    memcpy(url, data, ulen);
    url[ulen] = '\0';
    call(&loop, url, &c);
  }
  c.calls = 0;
  c.answer = nl ? nl + 1 : data + size;
  c.answer_len = nl ? size - ulen - 1 : 0;
  c.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(c.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
  CHECK(listen(c.listen_fd, 1) == 0);
  CHECK(getsockname(c.listen_fd, (struct sockaddr *)&sa, &slen) == 0);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
  uv_poll_init(&loop, &c.poll, c.listen_fd);
  c.poll.data = &c;
  uv_poll_start(&c.poll, UV_READABLE, on_accept);
  call(&loop, url, &c);
  if (c.answer_len >= 13 && memcmp(c.answer, "HTTP/1.1 ", 9) == 0 &&
      c.answer[9] >= '1' && c.answer[9] <= '5' && c.answer[10] >= '0' &&
      c.answer[10] <= '9' && c.answer[11] >= '0' && c.answer[11] <= '9' &&
      memchr(c.answer, '\n', c.answer_len < 4096 ? c.answer_len : 4096))
    CHECK(c.status == (c.answer[9] - '0') * 100 + (c.answer[10] - '0') * 10 +
                          (c.answer[11] - '0'));
  close(c.listen_fd);
  CHECK(uv_loop_close(&loop) == 0);
  return 0;
}
