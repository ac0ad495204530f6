/* Sample C handler that uses AWS services through the handler API: it
 * stores the event in S3 (s3://uploads/in/c-<request id>.json, which
 * on-upload is subscribed to), reads it back, and queues a job for the
 * node worker. Every call carries the invocation's trace, so lambkin sees
 * the chain store-c -> s3://uploads/... -> on-upload. */
#include <stdio.h>
#include <string.h>

#include <lambkin/handler.h>

int store_handler(const lk_request_t *req, lk_response_t *res);

int store_handler(const lk_request_t *req, lk_response_t *res) {
  char key[128], out[256];
  lk_bytes_t back = {0};
  int rc;

  snprintf(key, sizeof(key), "in/c-%s.json", req->request_id);
  rc = lk_s3_put(req, "uploads", key, req->payload, req->len);
  if (rc == 0)
    rc = lk_s3_get(req, "uploads", key, &back);
  if (rc == 0)
    rc = lk_sqs_send(req, "jobs", "job from C");
  if (rc)
    return lk_fail(res, req, "ServiceError", "an AWS call failed");
  snprintf(out, sizeof(out), "{\"key\":\"%s\",\"stored\":%zu}", key, back.len);
  lk_bytes_free(&back);
  return lk_respond(res, req, out, strlen(out));
}
