/* The HTTP server's edge cases, driven over real loopback sockets by a
 * client thread while the server's loop runs in the main thread; the
 * client records its checks, the main thread asserts them. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "http.h"
#include "lambkin/lambkin.h"

typedef struct fixture {
  uv_loop_t loop;
  uv_async_t done;
  uv_timer_t later;         /* answers /later a moment after it came */
  lk_http_req_t *later_req; /* the request it will answer */
  lk_http_server_t *srv;
  int port;
  void (*client)(struct fixture *);
  int requests;
  lkt_checks_t checks; /* the client thread's; asserted after join */
} fixture_t;

static void echo(lk_http_req_t *req) {
  char body[1024];
  const char *x = lk_http_header(req, "x-test");
  int n = snprintf(body, sizeof(body), "%s %s ?%s x=%s len=%zu", req->method,
                   req->path, req->query, x ? x : "-", req->body.len);

  lk_http_respond(req, 200, NULL, 0, body, (size_t)n);
}

static void on_later(uv_timer_t *t) {
  fixture_t *f = t->data;
  lk_http_req_t *req = f->later_req;

  f->later_req = NULL;
  echo(req);
}

/* Echoes what it parsed, so the client can assert on it. /later is
 * answered 50 ms on, so the client can act while it is in flight. */
static void on_req(lk_http_req_t *req, void *ud) {
  fixture_t *f = ud;

  f->requests++;
  if (req->body_too_large) {
    lk_http_respond(req, 413, NULL, 0, "too large", 9);
    return;
  }
  if (strcmp(req->path, "/later") == 0 && f->later_req == NULL) {
    f->later_req = req;
    uv_timer_start(&f->later, on_later, 50, 0);
    return;
  }
  echo(req);
}

static int connect_to(int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  /* A server that never answers fails the test instead of hanging it. */
  struct timeval tv = {10, 0};

  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
    return -1;
  return fd;
}

/* Sends a string literal whole; no byte counts to get wrong. */
#define send_str(fd, lit) send_all((fd), (lit), sizeof(lit) - 1)

static void send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);

    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

/* Reads until `want` responses' worth of bytes have arrived or EOF. */
static size_t read_until(int fd, char *buf, size_t cap, const char *needle,
                         int count) {
  size_t len = 0;
  int seen = 0;

  while (len + 1 < cap) {
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    const char *p;

    if (r <= 0)
      break;
    len += (size_t)r;
    buf[len] = '\0';
    if (needle == NULL)
      continue; /* read to EOF */
    for (seen = 0, p = buf; (p = strstr(p, needle)) != NULL; p++)
      seen++;
    if (seen >= count)
      break;
  }
  buf[len] = '\0';
  return len;
}

static void *client_main(void *arg) {
  fixture_t *f = arg;

  f->client(f);
  uv_async_send(&f->done);
  return NULL;
}

static void on_done(uv_async_t *a) {
  fixture_t *f = a->data;

  lk_http_server_free(f->srv);
  uv_close((uv_handle_t *)&f->later, NULL);
  uv_close((uv_handle_t *)a, NULL);
}

static void run_client(void (*client)(fixture_t *)) {
  fixture_t f;
  lk_http_opts_t o = {"127.0.0.1", 0, 1024, NULL, NULL, NULL};
  pthread_t t;

  memset(&f, 0, sizeof(f));
  assert_int_equal(uv_loop_init(&f.loop), 0);
  assert_int_equal(lk_http_server_new(&f.loop, &o, on_req, &f, &f.srv), 0);
  f.port = lk_http_server_port(f.srv);
  f.client = client;
  uv_async_init(&f.loop, &f.done, on_done);
  f.done.data = &f;
  uv_timer_init(&f.loop, &f.later);
  f.later.data = &f;
  pthread_create(&t, NULL, client_main, &f);
  uv_run(&f.loop, UV_RUN_DEFAULT);
  pthread_join(t, NULL);
  lkt_loop_close(&f.loop);
  lkt_assert_checks(&f.checks);
}

/* ---- cases ---- */

static void simple_and_keepalive(fixture_t *f) {
  char buf[4096];
  int fd = connect_to(f->port);

  send_str(fd, "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Test: one\r\n\r\n");
  read_until(fd, buf, sizeof(buf), "GET /a/b ?x=1 x=one len=0", 1);
  EXPECT(&f->checks, strstr(buf, "HTTP/1.1 200 OK\r\n") != NULL);
  EXPECT(&f->checks, strstr(buf, "Content-Length: 25\r\n") != NULL);
  send_str(fd, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  read_until(fd, buf, sizeof(buf), "POST /p ? x=- len=5", 1);
  EXPECT(&f->checks, strstr(buf, "POST /p ? x=- len=5") != NULL);
  close(fd);
}

static void test_simple_and_keepalive(void **state) {
  (void)state;
  run_client(simple_and_keepalive);
}

static void pipelined(fixture_t *f) {
  char buf[4096];
  int fd = connect_to(f->port);
  const char req[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                     "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                     "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";

  send_all(fd, req, sizeof(req) - 1);
  read_until(fd, buf, sizeof(buf), "HTTP/1.1 200", 3);
  /* In order, each answered once, the chunked body stitched together. */
  EXPECT(&f->checks, strstr(buf, "GET /1 ") < strstr(buf, "GET /2 "));
  EXPECT(&f->checks,
         strstr(buf, "GET /2 ") < strstr(buf, "POST /3 ? x=- len=5"));
  close(fd);
}

static void test_pipelined(void **state) {
  (void)state;
  run_client(pipelined);
}

/* Bytes that arrive while a request is in flight wait their turn, and a
 * client that half-closes after its request still gets the answer. */
static void while_in_flight(fixture_t *f) {
  char buf[4096];
  int fd = connect_to(f->port);

  send_str(fd, "GET /later HTTP/1.1\r\nHost: h\r\n\r\n");
  usleep(10000); /* the first is in flight now */
  send_str(fd, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  read_until(fd, buf, sizeof(buf), "HTTP/1.1 200", 2);
  EXPECT(&f->checks, strstr(buf, "GET /later ") != NULL);
  EXPECT(&f->checks, strstr(buf, "GET /later ") < strstr(buf, "GET /next "));
  close(fd);

  fd = connect_to(f->port);
  send_str(fd, "GET /later HTTP/1.1\r\nHost: h\r\n\r\n"
               "GET /after HTTP/1.1\r\nHost: h\r\n\r\n");
  shutdown(fd, SHUT_WR);
  read_until(fd, buf, sizeof(buf), NULL, 0); /* to EOF: the server closes */
  EXPECT(&f->checks, strstr(buf, "GET /later ") != NULL);
  EXPECT(&f->checks, strstr(buf, "GET /after ") != NULL);
  close(fd);
}

static void test_while_in_flight(void **state) {
  (void)state;
  run_client(while_in_flight);
}

/* A client pipelining far past the pending ceiling while one request is
 * in flight is held back, not cut off: every request gets its answer. */
static void flood_in_flight(fixture_t *f) {
  static const char one[] = "GET /n HTTP/1.1\r\n\r\n";
  enum { N = 8000 }; /* about 170 KB: past the 64 KB ceiling */
  size_t len = 0, cap = 4 * 1024 * 1024, n = sizeof(one) - 1;
  char *all = malloc(N * n), *buf = malloc(cap);
  const char *p;
  int fd = connect_to(f->port), i, seen = 0;

  for (i = 0; i < N; i++)
    memcpy(all + (size_t)i * n, one, n);
  send_str(fd, "GET /later HTTP/1.1\r\n\r\n");
  usleep(10000);
  send_all(fd, all, N * n);
  shutdown(fd, SHUT_WR);
  len = read_until(fd, buf, cap, NULL, 0);
  for (p = buf; (p = strstr(p, "GET /n ")) != NULL; p++)
    seen++;
  EXPECT(&f->checks, len > 0);
  EXPECT(&f->checks, strstr(buf, "GET /later ") != NULL);
  EXPECT_INT(&f->checks, seen, N);
  close(fd);
  free(all);
  free(buf);
}

static void test_flood_in_flight(void **state) {
  (void)state;
  run_client(flood_in_flight);
}

static void oversized(fixture_t *f) {
  char buf[4096];
  char *big = malloc(LK_HTTP_MAX_HEAD_BYTES + 100);
  int fd = connect_to(f->port), i;
  size_t n;

  /* A header block past the ceiling: 431, and the connection closes. */
  n = (size_t)snprintf(big, 64, "GET / HTTP/1.1\r\nX-Big: ");
  memset(big + n, 'a', LK_HTTP_MAX_HEAD_BYTES);
  n += LK_HTTP_MAX_HEAD_BYTES;
  memcpy(big + n, "\r\n\r\n", 4);
  send_all(fd, big, n + 4);
  read_until(fd, buf, sizeof(buf), NULL, 0);
  EXPECT(&f->checks, strstr(buf, "HTTP/1.1 431 ") != NULL);
  EXPECT(&f->checks, strstr(buf, "Connection: close") != NULL);
  close(fd);

  /* Too many headers: also 431. */
  fd = connect_to(f->port);
  n = (size_t)snprintf(big, 64, "GET / HTTP/1.1\r\n");
  for (i = 0; i < LK_HTTP_MAX_HEADERS + 5; i++)
    n += (size_t)snprintf(big + n, 32, "H%d: v\r\n", i);
  memcpy(big + n, "\r\n", 2);
  send_all(fd, big, n + 2);
  read_until(fd, buf, sizeof(buf), NULL, 0);
  EXPECT(&f->checks, strstr(buf, "HTTP/1.1 431 ") != NULL);
  close(fd);

  /* A body past max_body (1024 here): the handler sees the flag and the
   * client gets its answer, and the connection still works after. */
  fd = connect_to(f->port);
  n = (size_t)snprintf(big, 128,
                       "POST / HTTP/1.1\r\nContent-Length: 4000\r\n\r\n");
  memset(big + n, 'b', 4000);
  send_all(fd, big, n + 4000);
  send_str(fd, "GET /after HTTP/1.1\r\n\r\n");
  read_until(fd, buf, sizeof(buf), "GET /after", 1);
  EXPECT(&f->checks, strstr(buf, "HTTP/1.1 413 ") != NULL);
  EXPECT(&f->checks, strstr(buf, "GET /after") != NULL);
  close(fd);
  free(big);
}

static void test_oversized(void **state) {
  (void)state;
  run_client(oversized);
}

static void malformed(fixture_t *f) {
  char buf[4096];
  static const char *bad[] = {
      "GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      /* Smuggling shapes stay errors: lenient flags are off. */
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3"
      "\r\n\r\n0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", NULL};
  int i, fd;

  for (i = 0; bad[i]; i++) {
    fd = connect_to(f->port);
    send_all(fd, bad[i], strlen(bad[i]));
    read_until(fd, buf, sizeof(buf), NULL, 0);
    if (strstr(buf, "HTTP/1.1 400 ") == NULL)
      lkt_fail(&f->checks, __FILE__, __LINE__, "case %d answered \"%s\"", i,
               buf);
    close(fd);
  }
  /* And the server still answers a good request. */
  fd = connect_to(f->port);
  send_str(fd, "GET /ok HTTP/1.1\r\n\r\n");
  read_until(fd, buf, sizeof(buf), "GET /ok", 1);
  EXPECT(&f->checks, strstr(buf, "200 OK") != NULL);
  close(fd);
  EXPECT_INT(&f->checks, f->requests, 1);
}

static void test_malformed(void **state) {
  (void)state;
  run_client(malformed);
}

static void expect_continue(fixture_t *f) {
  char buf[4096];
  int fd = connect_to(f->port);

  send_str(fd, "PUT /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue"
               "\r\n\r\n");
  read_until(fd, buf, sizeof(buf), "100 Continue", 1);
  EXPECT(&f->checks, strstr(buf, "HTTP/1.1 100 Continue") != NULL);
  send_str(fd, "abc");
  read_until(fd, buf, sizeof(buf), "len=3", 1);
  EXPECT(&f->checks, strstr(buf, "PUT /e ? x=- len=3") != NULL);
  close(fd);

  /* Pipelined behind a request answered in the same read: the 100 comes
   * after that answer, never ahead of it. */
  fd = connect_to(f->port);
  send_str(fd, "GET /first HTTP/1.1\r\n\r\n"
               "PUT /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue"
               "\r\n\r\n");
  read_until(fd, buf, sizeof(buf), "100 Continue", 1);
  EXPECT(&f->checks, strstr(buf, "GET /first ") != NULL);
  EXPECT(&f->checks, strstr(buf, "GET /first ") < strstr(buf, "100 Continue"));
  send_str(fd, "abc");
  read_until(fd, buf, sizeof(buf), "len=3", 1);
  EXPECT(&f->checks, strstr(buf, "PUT /e ? x=- len=3") != NULL);
  close(fd);
}

static void test_expect_continue(void **state) {
  (void)state;
  run_client(expect_continue);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_and_keepalive),
      cmocka_unit_test(test_pipelined),
      cmocka_unit_test(test_while_in_flight),
      cmocka_unit_test(test_flood_in_flight),
      cmocka_unit_test(test_oversized),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_expect_continue),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
