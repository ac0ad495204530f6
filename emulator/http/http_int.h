/* The HTTP server's insides, shared by http.c (connections, HTTP/1.1)
 * and http2.c (HTTP/2 over cleartext, prior knowledge, as the JS SDK v3
 * speaks it to an http:// endpoint). Nothing outside this folder
 * includes it. */
#ifndef LK_HTTP_INT_H
#define LK_HTTP_INT_H

#include <stdint.h>

#include <llhttp.h>
#include <uv.h>

#include "http.h"

#define LK_HTTP_READ_CHUNK (64 * 1024)

typedef struct lk_h2 lk_h2_t;

struct lk_http_server {
  uv_tcp_t tcp;
  uv_timer_t sweep; /* closes connections past their deadline */
  int open_handles; /* tcp and sweep: freed when both have closed */
  uint64_t ticks;   /* counts activity: orders connections by their last */
  uv_loop_t *loop;
  lk_http_cb cb;
  void *ud;
  size_t max_body;
  const lk_browser_policy_t *browser;
  int (*admit)(int fd, void *ud);
  void *admit_ud;
  int port;
  int n_conns;
  int closing;
  lk_http_conn_t *conns; /* doubly linked */
  lk_http_conn_t *held;  /* connections whose answers wait (next_held) */
};

struct lk_http_conn {
  uv_tcp_t tcp;
  lk_http_server_t *srv;
  llhttp_t parser;
  lk_http_req_t *req; /* being parsed or waiting for its answer */
  int in_flight;      /* req handed to the callback */
  int closing;
  int last_was_value;
  int head_done;     /* later header callbacks are a chunked body's trailers */
  int head_overflow; /* the head passed a ceiling: 431, not 400 */
  int paused;        /* reading stopped: pending is full */
  int corked;        /* answers wait in cork until the read is handled */
  int eof;           /* the client finished sending while one was in flight */
  int feeding;       /* conn_feed's loop runs: an answer must not re-enter */
  int write_held;    /* reading stopped: the client does not read answers */
  int held;          /* answers wait in cork for lk_http_release */
  int held_close;    /* and the connection closes after them */
  lk_http_conn_t *next_held;
  lk_h2_t *h2;       /* HTTP/2: the session, once the preface came */
  int sniffed;       /* the first bytes said which protocol */
  int in_head;       /* reading a request head, against head_deadline */
  uint64_t deadline; /* loop time it is closed at; 0: none (in flight) */
  uint64_t active;   /* srv->ticks at its last byte or answer */
  size_t discarded;
  lk_buf_t pending;   /* bytes read past the message in flight */
  size_t pending_off; /* of which this many are parsed already */
  lk_buf_t cork;      /* answers written while corked */
  char rbuf[LK_HTTP_READ_CHUNK];
  lk_http_conn_t *prev, *next;
};

/* ---- http.c, for http2.c ---- */

lk_http_req_t *lk_http_req_new_(size_t max_body);
void lk_http_req_free_(lk_http_req_t *req);
/* Bytes out in order (into the cork while the connection's answers are
 * held): as send_out, 1 written, 0 queued, or an error. */
int lk_http_send_(lk_http_conn_t *conn, const char *data, size_t len);
/* A whole request to the browser checks, then the handler. */
void lk_http_hand_over_(lk_http_conn_t *conn, lk_http_req_t *req);
/* Activity: pushes the idle deadline back (none while busy). */
void lk_http_touch_(lk_http_conn_t *conn);
void lk_http_conn_close_(lk_http_conn_t *conn);

/* ---- http2.c ---- */

/* 1 when data starts with the HTTP/2 client preface, -1 when it is too
 * short to tell but could, 0 when it does not. */
int lk_h2_preface(const char *data, size_t n);
lk_h2_t *lk_h2_new(lk_http_conn_t *conn);
/* Bytes from the client: 0, or -1 when the connection must close. */
int lk_h2_recv(lk_h2_t *h2, const char *data, size_t n);
/* 1 while a request waits for its answer. */
int lk_h2_busy(const lk_h2_t *h2);
int lk_h2_respond(lk_http_req_t *req, int status,
                  const lk_http_header_t *headers, int n_headers,
                  const void *body, size_t len);
/* Resets the request's stream (lk_http_drop). */
void lk_h2_drop(lk_http_req_t *req);
/* The connection closes: requests in flight are aborted (on_abort). */
void lk_h2_free(lk_h2_t *h2);

#endif
