/* HTTP/1.1 server on libuv + llhttp, and HTTP/2 over cleartext (h2c with
 * prior knowledge, on nghttp2) on the same port, shared by the Invoke
 * API, the Runtime API and the service endpoints: a handler sees one
 * request shape either way.
 * The server owns its connections. A request handed to the callback is owned
 * by the server until the handler calls lk_http_respond() (or
 * lk_http_drop()) exactly once; the handler may answer later, from any
 * callback on the same loop (long polls, invocations). */
#ifndef LK_HTTP_H
#define LK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "browser.h"
#include "buf.h"

/* Ceilings for every byte a client sends (STYLE.md: every buffer has one). */
#define LK_HTTP_MAX_HEADERS 100
#define LK_HTTP_MAX_HEAD_BYTES (16 * 1024) /* URL + all header bytes */
#define LK_HTTP_MAX_CONNS 1024
/* A request head must arrive whole within this; a connection with nothing
 * in flight is closed after this long without a byte. */
#define LK_HTTP_HEAD_TIMEOUT_MS 10000
#define LK_HTTP_IDLE_TIMEOUT_MS 75000

typedef struct lk_http_server lk_http_server_t;
typedef struct lk_http_conn lk_http_conn_t;
typedef struct lk_http_req lk_http_req_t;

typedef struct lk_http_header {
  const char *name;
  const char *value;
} lk_http_header_t;

struct lk_http_req {
  const char *method; /* "GET", "POST", ... */
  const char *url;    /* raw request target: path and query */
  const char *path;   /* url up to '?', not decoded */
  const char *query;  /* after '?', or "" */
  lk_http_header_t headers[LK_HTTP_MAX_HEADERS];
  int n_headers;
  lk_buf_t body;
  /* Set when the body passed the server's max_body; the bytes past it were
   * read and thrown away so the client can still read the error. */
  int body_too_large;
  void *data; /* the handler's */
  /* Called if the client goes away while the request waits for its answer.
   * The handler must still call lk_http_respond() or lk_http_drop(). */
  void (*on_abort)(lk_http_req_t *req);
  /* Called if the client ends its side of the connection (EOF) while the
   * request waits: most clients that do have hung up, though HTTP lets a
   * half-closed one still read its answer. A handler for which an answer
   * nobody reads is waste may lk_http_drop() the request here. */
  void (*on_hangup)(lk_http_req_t *req);
  /* private */
  lk_http_conn_t *conn_;
  lk_buf_t head_;
  size_t hoff_[LK_HTTP_MAX_HEADERS][2];
  size_t path_len_;
  int keep_alive_;
  int is_head_;
  int32_t h2_stream_;       /* HTTP/2: its stream; 0 for HTTP/1.1 */
  const char *cors_origin_; /* echoed in Access-Control-Allow-Origin */
};

typedef void (*lk_http_cb)(lk_http_req_t *req, void *ud);

typedef struct lk_http_opts {
  const char *host; /* default 127.0.0.1 */
  int port;         /* 0: any free port */
  size_t max_body;  /* default 6 MB */
  /* Checked on every request before the handler sees it (a refusal is a
   * 403; an allowed origin's CORS preflight is answered here, and its
   * answers carry Access-Control-Allow-Origin). NULL: no checks. It must
   * outlive the server. */
  const lk_browser_policy_t *browser;
  /* Asked on every accepted connection (fd is its socket): nonzero closes
   * it before a byte is read. NULL: every connection is taken. */
  int (*admit)(int fd, void *ud);
  void *admit_ud;
} lk_http_opts_t;

int lk_http_server_new(uv_loop_t *loop, const lk_http_opts_t *opts,
                       lk_http_cb cb, void *ud, lk_http_server_t **out);
/* Closes the listener and every connection; requests still owned by a
 * handler are aborted (on_abort) but stay valid until answered. */
void lk_http_server_free(lk_http_server_t *srv);
int lk_http_server_port(const lk_http_server_t *srv);

/* Case-insensitive header lookup; NULL when absent. */
const char *lk_http_header(const lk_http_req_t *req, const char *name);
/* Sends the answer (body is copied) and releases the request. */
int lk_http_respond(lk_http_req_t *req, int status,
                    const lk_http_header_t *headers, int n_headers,
                    const void *body, size_t len);
/* Holds the answers on req's connection (whatever their size) until
 * lk_http_release(): a service whose change must reach the disk before
 * anyone hears of it answers at once, and the answer waits here. */
void lk_http_hold(lk_http_req_t *req);
/* Sends every held answer (those of a connection inside its read wait
 * for the next call). */
void lk_http_release(lk_http_server_t *srv);
/* Releases a request without answering and closes its connection. */
void lk_http_drop(lk_http_req_t *req);
/* 1 while the client is still connected. */
int lk_http_req_open(const lk_http_req_t *req);
const char *lk_http_reason(int status);

#endif
