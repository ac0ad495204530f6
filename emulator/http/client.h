/* A small HTTP/1.1 client on the loop, for what lambkin itself sends out:
 * SNS's POSTs to http:// subscribers. Only to this machine (127.0.0.1,
 * ::1 or localhost): lambkin is never a way to reach another host. One
 * request per connection; the answer's status is all it reads (at most
 * 4 KB of it). The caller's callback runs exactly once, unless the
 * request is cancelled first; the client frees itself after it. */
#ifndef LK_HTTP_CLIENT_H
#define LK_HTTP_CLIENT_H

#include <stddef.h>

#include <uv.h>

#include "http.h"

typedef struct lk_http_call lk_http_call_t;

/* status: the answer's (100..599), or a negative LK_E* (LK_ETIMEDOUT,
 * LK_EIO for a refused or broken connection, LK_EPROTO for an answer
 * that is not HTTP). */
typedef void (*lk_http_call_cb)(int status, void *ud);

/* POSTs body to url (http://HOST[:PORT]/PATH) with the headers (Host,
 * Content-Length and Connection are added). 0 with *out set, or
 * LK_EINVAL for a URL it will not call (not http://, not this machine). */
int lk_http_post(uv_loop_t *loop, const char *url,
                 const lk_http_header_t *headers, int n_headers,
                 const char *body, size_t len, int timeout_ms,
                 lk_http_call_cb cb, void *ud, lk_http_call_t **out);
/* Stops it: the callback does not run. */
void lk_http_call_cancel(lk_http_call_t *call);

#endif
