/* PLANTED BUG (self-invocation, S3, in C): shrink_handler writes a small
 * copy of each upload to uploads/small/<name>, in the bucket whose
 * uploads/ prefix triggers it, so every copy triggers another run, forever.
 * The clean twin, shrink_safe_handler, writes the copy to small/<name>,
 * outside the trigger's prefix. Found in process: lambkin fuzz tells the
 * driver which names, buckets and queues trigger the function. */
#include <stdio.h>
#include <string.h>

#include <lambkin/handler.h>

#include "s3event.h"

int shrink_handler(const lk_request_t *req, lk_response_t *res);
int shrink_safe_handler(const lk_request_t *req, lk_response_t *res);

static int shrink(const lk_request_t *req, lk_response_t *res,
                  const char *dir) {
  char key[512], bucket[256], out[600];
  const char *name;

  if (!s3_key(req->payload, key, sizeof(key)) ||
      !s3_bucket(req->payload, bucket, sizeof(bucket)))
    return lk_fail(res, req, "BadEvent", "no S3 key or bucket");
  name = strrchr(key, '/') ? strrchr(key, '/') + 1 : key;
  snprintf(out, sizeof(out), "%s%s", dir, name);
  if (lk_s3_put(req, bucket, out, "small", 5) != 0)
    return lk_fail(res, req, "PutFailed", "cannot write the small copy");
  return lk_respond(res, req, "{\"shrunk\":true}", 15);
}

int shrink_handler(const lk_request_t *req, lk_response_t *res) {
  return shrink(req, res, "uploads/small/"); /* the bug: inside uploads/ */
}

int shrink_safe_handler(const lk_request_t *req, lk_response_t *res) {
  return shrink(req, res, "small/");
}
