/* PLANTED BUG (crash, SQS): tag_handler files each message under its
 * first word, copied into a 24-byte buffer with no bound. Every message in
 * the team's tests starts with a short word, so they pass; a sender whose
 * message starts with a long word overflows the stack (ASan:
 * stack-buffer-overflow). The clean twin, tag_safe_handler, stops at the
 * buffer's end. */
#include <stdio.h>
#include <string.h>

#include <lambkin/handler.h>

int tag_handler(const lk_request_t *req, lk_response_t *res);
int tag_safe_handler(const lk_request_t *req, lk_response_t *res);

static int tag(const lk_request_t *req, lk_response_t *res, int bounded) {
  const char *p = strstr(req->payload, "\"body\":\"");
  char word[24], out[96];
  size_t i = 0;

  if (p == NULL)
    return lk_fail(res, req, "BadEvent", "no SQS body");
  for (p += 8; *p && *p != '"' && *p != ' ' && *p != '\\'; p++) {
    if (bounded && i + 1 >= sizeof(word))
      break;
    word[i++] = *p; /* the bug, when unbounded */
  }
  word[i] = '\0';
  snprintf(out, sizeof(out), "{\"tag\":\"%.64s\"}", word);
  return lk_respond(res, req, out, strlen(out));
}

int tag_handler(const lk_request_t *req, lk_response_t *res) {
  return tag(req, res, 0);
}

int tag_safe_handler(const lk_request_t *req, lk_response_t *res) {
  return tag(req, res, 1);
}
