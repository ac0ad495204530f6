/* The C handler API: one shape for every host that runs a C handler.
 *
 * A handler is a shared object exporting
 *
 *   int handler(const lk_request_t *req, lk_response_t *res);
 *
 * (any symbol name: the function's Handler property names it). Request
 * bytes come in, a response or an error goes out. Everything else (the
 * context, calls to AWS services) goes through req->host, a table the host
 * fills in: lambkin's native bootstrap does so over the Runtime API and
 * HTTP; the in-process fuzzer fills it with the emulator's services
 * directly. The handler owns nothing it did not allocate; bytes handed to
 * lk_respond() are copied.
 *
 * Modelled on aws-lambda-cpp's invocation_request / invocation_response. */
#ifndef LAMBKIN_HANDLER_H
#define LAMBKIN_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lk_request lk_request_t;
typedef struct lk_response lk_response_t;

/* Bytes a host hands back (a service call's result); free with
 * lk_bytes_free(). */
typedef struct lk_bytes {
  char *data;
  size_t len;
} lk_bytes_t;

typedef struct lk_host {
  /* Sets the response payload (copied). */
  int (*respond)(lk_response_t *res, const void *data, size_t len);
  /* Marks the invocation failed: errorType and errorMessage. */
  int (*fail)(lk_response_t *res, const char *type, const char *message);
  /* Calls another function; the chain's trace header goes along, so
   * lambkin can follow it. async: Event invocation. */
  int (*invoke)(const lk_request_t *req, const char *function,
                const void *payload, size_t len, int async, lk_bytes_t *out);
  int (*s3_put)(const lk_request_t *req, const char *bucket, const char *key,
                const void *data, size_t len);
  int (*s3_get)(const lk_request_t *req, const char *bucket, const char *key,
                lk_bytes_t *out);
  int (*sqs_send)(const lk_request_t *req, const char *queue_url,
                  const char *body);
  void *data; /* the host's */
} lk_host_t;

struct lk_request {
  const char *payload; /* the event, NUL-terminated */
  size_t len;
  const char *request_id;
  const char *function_name;
  const char *function_arn;
  const char *trace_id;         /* Lambda-Runtime-Trace-Id */
  const char *client_context;   /* JSON or NULL */
  const char *cognito_identity; /* JSON or NULL */
  int64_t deadline_ms;          /* Unix ms */
  const lk_host_t *host;
};

/* Filled through host->respond / host->fail; private to the host. */
struct lk_response {
  char *data;
  size_t len;
  int failed;
  char error_type[128];
  void *host_data;
};

typedef int lk_handler_fn(const lk_request_t *req, lk_response_t *res);

static inline int lk_respond(lk_response_t *res, const lk_request_t *req,
                             const void *data, size_t len) {
  return req->host->respond(res, data, len);
}

static inline int lk_fail(lk_response_t *res, const lk_request_t *req,
                          const char *type, const char *message) {
  return req->host->fail(res, type, message);
}

/* Milliseconds left before the deadline (may be negative). */
static inline int64_t lk_remaining_ms(const lk_request_t *req) {
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return req->deadline_ms -
         ((int64_t)ts.tv_sec * 1000 + (int64_t)ts.tv_nsec / 1000000);
}

static inline int lk_invoke(const lk_request_t *req, const char *function,
                            const void *payload, size_t len, int async,
                            lk_bytes_t *out) {
  return req->host->invoke
             ? req->host->invoke(req, function, payload, len, async, out)
             : -38; /* -ENOSYS */
}

static inline int lk_s3_put(const lk_request_t *req, const char *bucket,
                            const char *key, const void *data, size_t len) {
  return req->host->s3_put ? req->host->s3_put(req, bucket, key, data, len)
                           : -38;
}

static inline int lk_s3_get(const lk_request_t *req, const char *bucket,
                            const char *key, lk_bytes_t *out) {
  return req->host->s3_get ? req->host->s3_get(req, bucket, key, out) : -38;
}

static inline int lk_sqs_send(const lk_request_t *req, const char *queue_url,
                              const char *body) {
  return req->host->sqs_send ? req->host->sqs_send(req, queue_url, body) : -38;
}

static inline void lk_bytes_free(lk_bytes_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

#ifdef __cplusplus
}
#endif

#endif
