/* Sample C handler that crashes on purpose: it writes through a NULL
 * pointer, so its process dies with SIGSEGV. lambkin must report
 * Runtime.ExitError and keep serving. */
#include <stdio.h>

#include <lambkin/handler.h>

int crash_handler(const lk_request_t *req, lk_response_t *res);

int crash_handler(const lk_request_t *req, lk_response_t *res) {
  volatile int *p = NULL;

  (void)res;
  printf("about to crash on %zu bytes\n", req->len);
  fflush(stdout);
  *p = 42; /* the planted bug */
  return 0;
}
