/* A DELIBERATE BUG, kept as a sample for the fuzzer: the handler copies
 * the S3 object key into a 32-byte buffer without a bound. Every key in
 * the sample events is short, so unit tests pass; a long key (one event
 * away, for anyone who can upload) overflows the stack. lambkin's
 * in-process fuzzer finds it in seconds from `lambkin event s3`. */
#include <stdio.h>
#include <string.h>

#include <lambkin/handler.h>

int thumb_name_handler(const lk_request_t *req, lk_response_t *res);

int thumb_name_handler(const lk_request_t *req, lk_response_t *res) {
  char name[32], out[96];
  const char *k = strstr(req->payload, "\"key\":\"");
  size_t i = 0;

  if (k == NULL)
    return lk_fail(res, req, "BadEvent", "no S3 key");
  for (k += 7; *k && *k != '"'; k++)
    name[i++] = *k; /* the bug: no check against sizeof(name) */
  name[i] = '\0';
  snprintf(out, sizeof(out), "{\"thumb\":\"thumbs/%.64s\"}", name);
  return lk_respond(res, req, out, strlen(out));
}
