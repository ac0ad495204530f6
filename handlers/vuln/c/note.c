/* PLANTED BUG (crash by size, SQS): note_handler keeps a message's text
 * in a 512-byte line buffer, copying the body up to its closing quote
 * with no bound: notes are a line or two, so every test passes, and a
 * body longer than the buffer overflows the stack (ASan:
 * stack-buffer-overflow). Only length trips it: no byte in the body
 * matters. The clean twin, note_safe_handler, cuts the note at the
 * buffer's end. */
#include <stdio.h>
#include <string.h>

#include <lambkin/handler.h>

int note_handler(const lk_request_t *req, lk_response_t *res);
int note_safe_handler(const lk_request_t *req, lk_response_t *res);

static int note(const lk_request_t *req, lk_response_t *res, int bounded) {
  const char *p = strstr(req->payload, "\"body\":\"");
  char line[512], out[128];
  size_t n;

  if (p == NULL)
    return lk_fail(res, req, "BadEvent", "no SQS body");
  p += 8;
  for (n = 0; p[n] && p[n] != '"'; n++)
    if (p[n] == '\\' && p[n + 1])
      n++; /* an escaped quote does not end it */
  if (bounded && n >= sizeof(line))
    n = sizeof(line) - 1;
  memcpy(line, p, n); /* the bug, when unbounded */
  line[n] = '\0';
  snprintf(out, sizeof(out), "{\"noted\":%zu,\"starts\":\"%.16s\"}",
           strlen(line), line);
  return lk_respond(res, req, out, strlen(out));
}

int note_handler(const lk_request_t *req, lk_response_t *res) {
  return note(req, res, 0);
}

int note_safe_handler(const lk_request_t *req, lk_response_t *res) {
  return note(req, res, 1);
}
