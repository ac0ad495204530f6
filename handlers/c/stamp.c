/* Sample C handler for the benchmarks: logs the wall clock in
 * microseconds the moment it starts, then the event, so bench/ can time
 * "S3 put to function start" from the function's own log. */
#include <stdio.h>
#include <time.h>

#include <lambkin/handler.h>

int stamp_handler(const lk_request_t *req, lk_response_t *res);

int stamp_handler(const lk_request_t *req, lk_response_t *res) {
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  printf("start_us=%lld %.*s\n",
         (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, (int)req->len,
         req->payload);
  fflush(stdout);
  return lk_respond(res, req, "{}", 2);
}
