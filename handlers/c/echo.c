/* Sample C handler: returns the event unchanged. */
#include <lambkin/handler.h>

int echo_handler(const lk_request_t *req, lk_response_t *res);

int echo_handler(const lk_request_t *req, lk_response_t *res) {
  return lk_respond(res, req, req->payload, req->len);
}
