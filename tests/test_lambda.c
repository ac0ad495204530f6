/* The Invoke API's answers and error shapes, as an SDK parses them: the
 * emulator runs in this process on a loopback port, a client thread speaks
 * raw HTTP to it and records what it saw, and the main thread asserts it
 * once the loop has closed clean. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "harness.h"
#include "lambkin/lambkin.h"

static int port;
static uv_async_t done;
static lk_emu_t *emu;
static lkt_checks_t checks; /* the client thread's; asserted after join */

/* One request on a fresh connection; the whole answer into buf. */
static void request(const char *head, const char *body, size_t len, char *buf,
                    size_t cap) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  char h[1024];
  size_t got = 0;
  int n;

  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  buf[0] = '\0';
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    lkt_fail(&checks, __FILE__, __LINE__, "cannot connect to port %d", port);
    close(fd);
    return;
  }
  n = snprintf(h, sizeof(h),
               "%sContent-Length: %zu\r\nConnection: close\r\n"
               "\r\n",
               head, len);
  EXPECT_INT(&checks, write(fd, h, (size_t)n), n);
  while (len) {
    ssize_t w = write(fd, body, len);

    if (w <= 0)
      break;
    body += w;
    len -= (size_t)w;
  }
  for (;;) {
    ssize_t r = read(fd, buf + got, cap - 1 - got);

    if (r <= 0)
      break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  close(fd);
}

static void expect(const char *buf, const char *what) {
  if (strstr(buf, what) == NULL)
    lkt_fail(&checks, __FILE__, __LINE__, "wanted \"%s\" in:\n%.600s", what,
             buf);
}

static void *client(void *arg) {
  char *buf = malloc(1 << 16);
  size_t big_len = 6 * 1024 * 1024 + 10;
  char *big = malloc(big_len);

  (void)arg;
  request("POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n",
          "{\"a\":1}", 7, buf, 1 << 16);
  expect(buf, "HTTP/1.1 200 OK");
  expect(buf, "X-Amz-Executed-Version: $LATEST");
  expect(buf, "\r\n\r\n{\"a\":1}");

  request("POST /2015-03-31/functions/nope/invocations HTTP/1.1\r\n", "{}", 2,
          buf, 1 << 16);
  expect(buf, "HTTP/1.1 404 ");
  expect(buf, "x-amzn-ErrorType: ResourceNotFoundException");
  expect(buf, "\"message\":\"Function not found: "
              "arn:aws:lambda:us-east-1:123456789012:function:nope\"");

  request("POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n", "{nope",
          5, buf, 1 << 16);
  expect(buf, "HTTP/1.1 400 ");
  expect(buf, "x-amzn-ErrorType: InvalidRequestContentException");
  expect(buf, "Could not parse request body into json");

  request("POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n"
          "X-Amz-Invocation-Type: Sometimes\r\n",
          "{}", 2, buf, 1 << 16);
  expect(buf, "x-amzn-ErrorType: InvalidParameterValueException");

  request("POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n"
          "X-Amz-Invocation-Type: DryRun\r\n",
          "{}", 2, buf, 1 << 16);
  expect(buf, "HTTP/1.1 204 ");

  /* Every path Lambda does not own is S3's, which answers in XML. */
  request("GET /2099-01-01/whatever HTTP/1.1\r\n", "", 0, buf, 1 << 16);
  expect(buf, "HTTP/1.1 404 ");
  expect(buf, "<Code>NoSuchBucket</Code>");

  memset(big, ' ', big_len);
  big[0] = '{';
  big[big_len - 1] = '}';
  request("POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n", big,
          big_len, buf, 1 << 16);
  expect(buf, "HTTP/1.1 413 ");
  expect(buf, "x-amzn-ErrorType: RequestTooLargeException");

  request("POST /2015-03-31/functions/echo-c/invocations HTTP/1.1\r\n"
          "X-Amz-Invocation-Type: Event\r\n",
          big, 1024 * 1024 + 1, buf, 1 << 16);
  expect(buf, "HTTP/1.1 413 ");

  request("GET /2015-03-31/functions/ HTTP/1.1\r\n", "", 0, buf, 1 << 16);
  expect(buf, "\"FunctionName\":\"echo-python\"");

  free(big);
  free(buf);
  uv_async_send(&done);
  return NULL;
}

static void on_done(uv_async_t *a) {
  lk_emu_close(emu);
  uv_close((uv_handle_t *)a, NULL);
}

static void test_error_shapes(void **state) {
  uv_loop_t loop;
  lk_app_t *app;
  lk_emu_opts_t o = {0};
  char err[1024], dir[] = "/tmp/lambkin-test-lambda-XXXXXX", cmd[128];
  pthread_t t;

  (void)state;
  assert_non_null(mkdtemp(dir));
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(lk_app_load(LK_SOURCE_DIR "/handlers/template.yaml", NULL,
                               &app, err, sizeof(err)),
                   0);
  o.port = 0;
  o.quiet = 1;
  o.state_dir = dir;
  assert_int_equal(lk_emu_new(&loop, app, &o, &emu), 0);
  port = lk_emu_port(emu);
  uv_async_init(&loop, &done, on_done);
  pthread_create(&t, NULL, client, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  pthread_join(t, NULL);
  lk_emu_free(emu);
  lk_app_free(app);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
  lkt_loop_close(&loop);
  lkt_assert_checks(&checks);
}

/* In test builds a handle still open when lambkin closes its loop is a
 * failure that names the handle, not something tidied away in silence. */
static void test_open_handle_at_close_aborts(void **state) {
  int status;
  pid_t pid;

  (void)state;
#ifndef LK_STRICT_LOOP
  skip(); /* only test builds are strict */
#endif
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    uv_loop_t loop;
    uv_timer_t forgotten;

    uv_loop_init(&loop);
    uv_timer_init(&loop, &forgotten);
    lk_emu_loop_close(&loop);
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_shapes),
      cmocka_unit_test(test_open_handle_at_close_aborts),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
