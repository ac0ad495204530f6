/* What the in-process tests share. cmocka's assertions longjmp, which is
 * only safe on the thread that runs the test: a client thread records its
 * failures with EXPECT() into an lkt_checks_t it alone writes, and the
 * main thread asserts them after pthread_join(). And a loop that will not
 * close because a handle is still open fails the test, naming the handle. */
#ifndef LAMBKIN_TEST_HARNESS_H
#define LAMBKIN_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>

#include <uv.h>

typedef struct lkt_checks {
  int failed;
  char first[2048]; /* the first failure, for the assertion message */
} lkt_checks_t;

static inline void lkt_fail(lkt_checks_t *k, const char *file, int line,
                            const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline void lkt_fail(lkt_checks_t *k, const char *file, int line,
                            const char *fmt, ...) {
  char msg[1536];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s:%d: %s\n", file, line, msg);
  if (k->failed++ == 0)
    snprintf(k->first, sizeof(k->first), "%s:%d: %s", file, line, msg);
}

/* Records a failure unless cond holds; the thread carries on. */
#define EXPECT(k, cond)                                                        \
  do {                                                                         \
    if (!(cond))                                                               \
      lkt_fail((k), __FILE__, __LINE__, "expected %s", #cond);                 \
  } while (0)

#define EXPECT_INT(k, a, b)                                                    \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    if (a_ != b_)                                                              \
      lkt_fail((k), __FILE__, __LINE__, "%s is %lld, wanted %lld", #a, a_,     \
               b_);                                                            \
  } while (0)

/* On the main thread, after the recording thread has joined. */
#define lkt_assert_checks(k)                                                   \
  do {                                                                         \
    if ((k)->failed)                                                           \
      fail_msg("%d failed check(s); the first: %s", (k)->failed, (k)->first);  \
  } while (0)

static inline void lkt_name_handle(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "  still open: %s%s\n", uv_handle_type_name(h->type),
          uv_is_closing(h) ? " (closing)" : "");
}

/* Closes the loop; a handle left open fails the test. */
#define lkt_loop_close(loop)                                                   \
  do {                                                                         \
    if (uv_loop_close(loop) != 0) {                                            \
      uv_walk((loop), lkt_name_handle, NULL);                                  \
      fail_msg("the loop still has open handles");                             \
    }                                                                          \
  } while (0)

#endif
