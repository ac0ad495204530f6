/* HTTP/1.1 server: libuv streams in, llhttp parses, one request in flight
 * per connection (pipelined bytes wait in a bounded buffer). llhttp's
 * lenient flags stay off: they open request smuggling.
 * The server owns connections; see http.h for who owns a request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

#include "http_int.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define DEFAULT_MAX_BODY (6 * 1024 * 1024)
/* Past max_body we keep reading (and discarding) up to this much, so the
 * client sees the 413 instead of a reset; then we close. */
#define DISCARD_MAX (64 * 1024 * 1024)
#define READ_CHUNK LK_HTTP_READ_CHUNK
#define CORK_MAX (64 * 1024)
/* Answers a client has not read yet: past this, its requests wait. */
#define WRITE_QUEUE_MAX (1024 * 1024)
/* Held answers of one connection: an S3 GET of the largest object. */
#define HOLD_MAX (64 * 1024 * 1024)

typedef struct write_req {
  uv_write_t w;
  lk_http_conn_t *conn;
  int close_after;
  char data[]; /* what the socket did not take at once */
} write_req_t;

static llhttp_settings_t settings;

static int cork_flush(lk_http_conn_t *conn);

const char *lk_http_reason(int status) {
  /* Functions behind API Gateway may answer any status; the common ones
   * get their name, the rest a name by class. */
  static const struct {
    int code;
    const char *text;
  } names[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Payload Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Range Not Satisfiable"},
      {422, "Unprocessable Content"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {507, "Insufficient Storage"},
  };
  static const char *const by_class[] = {"Unknown",      "Informational",
                                         "Success",      "Redirection",
                                         "Client Error", "Server Error"};
  size_t i;

  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].code == status)
      return names[i].text;
  return status >= 100 && status < 600 ? by_class[status / 100] : by_class[0];
}

static void req_free(lk_http_req_t *req) {
  if (req == NULL)
    return;
  lk_buf_free(&req->body);
  lk_buf_free(&req->head_);
  free(req);
}

static lk_http_req_t *req_new(size_t max_body) {
  lk_http_req_t *req = lk_xcalloc(1, sizeof(*req));

  lk_buf_init(&req->body, max_body);
  lk_buf_init(&req->head_, LK_HTTP_MAX_HEAD_BYTES);
  return req;
}

void lk_http_req_free_(lk_http_req_t *req) {
  req_free(req);
}

lk_http_req_t *lk_http_req_new_(size_t max_body) {
  return req_new(max_body);
}

static void on_conn_close(uv_handle_t *h) {
  lk_http_conn_t *conn = h->data;

  lk_buf_free(&conn->pending);
  lk_buf_free(&conn->cork);
  free(conn);
}

static void conn_close(lk_http_conn_t *conn) {
  lk_http_server_t *srv = conn->srv;
  lk_http_req_t *req = conn->req;

  if (conn->closing)
    return;
  conn->closing = 1;
  if (conn->h2) {
    lk_h2_free(conn->h2); /* its requests in flight hear of it */
    conn->h2 = NULL;
  }
  if (conn->held) {
    lk_http_conn_t **pp;

    for (pp = &srv->held; *pp && *pp != conn; pp = &(*pp)->next_held)
      ;
    if (*pp)
      *pp = conn->next_held;
    conn->held = 0;
  }
  if (conn->prev)
    conn->prev->next = conn->next;
  else
    srv->conns = conn->next;
  if (conn->next)
    conn->next->prev = conn->prev;
  srv->n_conns--;
  conn->req = NULL;
  if (req) {
    if (conn->in_flight) {
      /* The handler still owns it: tell it, let it answer into the void. */
      req->conn_ = NULL;
      if (req->on_abort)
        req->on_abort(req);
    } else {
      req_free(req);
    }
  }
  uv_close((uv_handle_t *)&conn->tcp, on_conn_close);
}

/* ---- llhttp callbacks: stitch the pieces into one bounded buffer ---- */

/* The deadline a connection is held to now: a head must come whole in
 * LK_HTTP_HEAD_TIMEOUT_MS from its first byte (a slow one is no excuse,
 * so it is not pushed back by bytes); a body or an idle keep-alive gets
 * LK_HTTP_IDLE_TIMEOUT_MS from the last byte; a request in flight is the
 * handler's, with no deadline here. */
static void conn_touch(lk_http_conn_t *conn) {
  uint64_t now = uv_now(conn->srv->loop);

  conn->active = ++conn->srv->ticks;
  if (conn->in_flight || (conn->h2 && lk_h2_busy(conn->h2)))
    conn->deadline = 0;
  else if (!conn->in_head)
    conn->deadline = now + LK_HTTP_IDLE_TIMEOUT_MS;
}

static void head_begins(lk_http_conn_t *conn) {
  conn->in_head = 1;
  conn->deadline = uv_now(conn->srv->loop) + LK_HTTP_HEAD_TIMEOUT_MS;
}

static int on_message_begin(llhttp_t *p) {
  lk_http_conn_t *conn = p->data;

  conn->req = req_new(conn->srv->max_body);
  head_begins(conn);
  conn->last_was_value = 0;
  conn->head_done = 0;
  conn->discarded = 0;
  return 0;
}

/* Past the head's ceiling the client is owed a 431, not a 400: flag it,
 * and return HPE_USER itself so llhttp keeps our reason (-1 replaces it). */
static int head_add(lk_http_conn_t *conn, const char *at, size_t n) {
  if (lk_buf_add(&conn->req->head_, at, n)) {
    llhttp_set_error_reason(&conn->parser, "header block too large");
    conn->head_overflow = 1;
    return HPE_USER;
  }
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n) {
  return head_add(p->data, at, n);
}

static int on_url_complete(llhttp_t *p) {
  lk_http_conn_t *conn = p->data;

  conn->req->path_len_ = conn->req->head_.len;
  return head_add(conn, "", 1); /* NUL after the URL */
}

/* Trailers are dropped, as most servers drop them: the head's buffer and
 * the header pointers into it are final once the head is complete. */
static int on_header_field(llhttp_t *p, const char *at, size_t n) {
  lk_http_conn_t *conn = p->data;
  lk_http_req_t *req = conn->req;

  if (conn->head_done)
    return 0;
  if (req->n_headers == 0 || conn->last_was_value) {
    if (req->n_headers == LK_HTTP_MAX_HEADERS) {
      llhttp_set_error_reason(p, "too many headers");
      conn->head_overflow = 1;
      return HPE_USER;
    }
    if (req->n_headers > 0 && head_add(conn, "", 1))
      return HPE_USER;
    req->hoff_[req->n_headers][0] = req->head_.len;
    req->hoff_[req->n_headers][1] = 0;
    req->n_headers++;
    conn->last_was_value = 0;
  }
  return head_add(conn, at, n);
}

static int on_header_value(llhttp_t *p, const char *at, size_t n) {
  lk_http_conn_t *conn = p->data;
  lk_http_req_t *req = conn->req;

  if (conn->head_done)
    return 0;
  if (!conn->last_was_value) {
    if (head_add(conn, "", 1))
      return HPE_USER;
    req->hoff_[req->n_headers - 1][1] = req->head_.len;
    conn->last_was_value = 1;
  }
  return head_add(conn, at, n);
}

static int on_headers_complete(llhttp_t *p) {
  lk_http_conn_t *conn = p->data;
  lk_http_req_t *req = conn->req;
  const char *expect;
  char *base;
  int i;

  if (head_add(conn, "", 1))
    return -1; /* not a status code here: 0, 1, 2 mean things */
  conn->head_done = 1;
  conn->in_head = 0;
  conn_touch(conn);
  base = req->head_.data;
  for (i = 0; i < req->n_headers; i++) {
    req->headers[i].name = base + req->hoff_[i][0];
    /* A header with an empty value never saw on_header_value. */
    req->headers[i].value =
        req->hoff_[i][1] ? base + req->hoff_[i][1] : base + req->head_.len - 1;
  }
  req->url = base;
  req->method = llhttp_method_name(p->method);
  req->is_head_ = p->method == HTTP_HEAD;
  {
    char *q = memchr(base, '?', req->path_len_);

    if (q) {
      *q = '\0';
      req->query = q + 1;
    } else {
      req->query = base + req->path_len_;
    }
    req->path = base;
  }
  /* The URL split wrote into url; keep a pristine copy reachable. */
  if (p->content_length > conn->srv->max_body &&
      p->content_length != ULLONG_MAX)
    req->body_too_large = 1;
  expect = lk_http_header(req, "expect");
  if (expect && strcasecmp(expect, "100-continue") == 0 &&
      !req->body_too_large) {
    static char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t b = uv_buf_init(cont, sizeof(cont) - 1);

    /* Behind any corked answer to an earlier request, never ahead. */
    if (conn->corked && lk_buf_room(&conn->cork) >= sizeof(cont) - 1) {
      lk_buf_add(&conn->cork, cont, sizeof(cont) - 1);
    } else {
      if (cork_flush(conn) < 0)
        return -1;
      uv_try_write((uv_stream_t *)&conn->tcp, &b, 1);
    }
  }
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n) {
  lk_http_conn_t *conn = p->data;
  lk_http_req_t *req = conn->req;

  if (!req->body_too_large && lk_buf_add(&req->body, at, n) == 0)
    return 0;
  req->body_too_large = 1;
  conn->discarded += n;
  if (conn->discarded > DISCARD_MAX) {
    llhttp_set_error_reason(p, "body too large");
    return -1;
  }
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  lk_http_conn_t *conn = p->data;

  if (conn->req->body_too_large)
    lk_buf_reset(&conn->req->body);
  conn->req->keep_alive_ = llhttp_should_keep_alive(p);
  return HPE_PAUSED;
}

/* ---- writing ---- */

static void maybe_read_again(lk_http_conn_t *conn);

static void on_write(uv_write_t *w, int status) {
  write_req_t *wr = (write_req_t *)w;
  lk_http_conn_t *conn = wr->conn;

  if ((status < 0 || wr->close_after) && !conn->closing)
    conn_close(conn);
  free(wr);
  if (conn->write_held && !conn->closing &&
      uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) <
          WRITE_QUEUE_MAX / 2) {
    conn->write_held = 0;
    if (!conn->in_flight)
      maybe_read_again(conn);
  }
}

/* Sends bufs in order: straight to the socket when it takes them; what it
 * refuses is copied into a write request, behind which later writes
 * queue. Returns 1 when all is written, 0 when some is queued (on_write
 * then closes if close_after), or an error. */
static int send_out(lk_http_conn_t *conn, const uv_buf_t *bufs, int nbufs,
                    int close_after) {
  size_t total = 0, skip = 0, n;
  write_req_t *wr;
  uv_buf_t one;
  char *p;
  int i, err;

  for (i = 0; i < nbufs; i++)
    total += bufs[i].len;
  if (total == 0)
    return 1;
  /* EAGAIN (an earlier write still queued) just means: queue this one. */
  err = uv_try_write((uv_stream_t *)&conn->tcp, bufs, (unsigned)nbufs);
  if (err > 0)
    skip = (size_t)err;
  else if (err != UV_EAGAIN && err != UV_ENOSYS)
    return err;
  if (skip == total)
    return 1;
  wr = lk_xmalloc(sizeof(*wr) + total - skip);
  wr->conn = conn;
  wr->close_after = close_after;
  p = wr->data;
  for (i = 0; i < nbufs; i++) {
    if (skip >= bufs[i].len) {
      skip -= bufs[i].len;
      continue;
    }
    n = bufs[i].len - skip;
    memcpy(p, bufs[i].base + skip, n);
    p += n;
    skip = 0;
  }
  one = uv_buf_init(wr->data, (unsigned)(p - wr->data));
  err = uv_write(&wr->w, (uv_stream_t *)&conn->tcp, &one, 1, on_write);
  if (err)
    free(wr);
  return err ? err : 0;
}

/* Sends what waits in the cork; 0/1, or an error. */
static int cork_flush(lk_http_conn_t *conn) {
  uv_buf_t b;
  int err;

  if (conn->cork.len == 0 || conn->held)
    return 1;
  b = uv_buf_init(conn->cork.data, (unsigned)conn->cork.len);
  err = send_out(conn, &b, 1, 0);
  if (conn->cork.cap > 4096)
    lk_buf_free(&conn->cork); /* a big answer: do not keep its room */
  else
    lk_buf_reset(&conn->cork);
  return err;
}

/* Writes v in decimal at out; returns the length. */
static size_t put_uint(char *out, size_t v) {
  char tmp[24];
  size_t n = 0, i;

  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

static char *put(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

/* The head is sized first and written with memcpy: this runs twice per
 * invocation, and printf was a sixth of the server's own CPU. When the
 * socket takes everything at once (the usual case on loopback), nothing
 * is allocated or copied. Returns as send_out; it never closes. */
static int conn_write(lk_http_conn_t *conn, int status,
                      const lk_http_header_t *headers, int n_headers,
                      const void *body, size_t len, int skip_body,
                      int close_after, const char *cors) {
  static const char conn_close_hdr[] = "Connection: close\r\n";
  static const char cors_hdr[] = "Access-Control-Allow-Origin: ";
  static const char cors_more[] = "\r\nAccess-Control-Expose-Headers: *"
                                  "\r\nVary: Origin\r\n";
  const char *reason = lk_http_reason(status);
  char stack[2048], *head = stack, *p;
  size_t need, i, hlen;
  uv_buf_t bufs[2];
  int nbufs = 1, err, with_len = status != 204 && status != 304;

  need = sizeof("HTTP/1.1  \r\n") + 24 + strlen(reason) + 2;
  for (i = 0; i < (size_t)n_headers; i++)
    need += strlen(headers[i].name) + strlen(headers[i].value) + 4;
  need += sizeof("Content-Length: \r\n") + 24 + sizeof(conn_close_hdr);
  if (cors)
    need += sizeof(cors_hdr) + strlen(cors) + sizeof(cors_more);
  if (need > LK_HTTP_MAX_HEAD_BYTES * 4)
    return LK_E2BIG;
  if (need > sizeof(stack))
    head = lk_xmalloc(need);
  p = put(head, "HTTP/1.1 ", 9);
  p += put_uint(p, status < 0 ? 0 : (size_t)status);
  p = put(p, " ", 1);
  p = put(p, reason, strlen(reason));
  p = put(p, "\r\n", 2);
  for (i = 0; i < (size_t)n_headers; i++) {
    p = put(p, headers[i].name, strlen(headers[i].name));
    p = put(p, ": ", 2);
    p = put(p, headers[i].value, strlen(headers[i].value));
    p = put(p, "\r\n", 2);
  }
  if (with_len) {
    p = put(p, "Content-Length: ", 16);
    p += put_uint(p, len);
    p = put(p, "\r\n", 2);
  }
  if (cors) {
    p = put(p, cors_hdr, sizeof(cors_hdr) - 1);
    p = put(p, cors, strlen(cors));
    p = put(p, cors_more, sizeof(cors_more) - 1);
  }
  if (close_after)
    p = put(p, conn_close_hdr, sizeof(conn_close_hdr) - 1);
  p = put(p, "\r\n", 2);
  hlen = (size_t)(p - head);
  if (skip_body)
    len = 0;
  bufs[0] = uv_buf_init(head, (unsigned)hlen);
  if (len) {
    bufs[1] = uv_buf_init((char *)body, (unsigned)len);
    nbufs = 2;
  }
  if (conn->held && hlen + len <= lk_buf_room(&conn->cork)) {
    lk_buf_add(&conn->cork, head, hlen);
    lk_buf_add(&conn->cork, body, len);
    conn->held_close |= close_after;
    if (head != stack)
      free(head);
    return 1;
  }
  if (conn->corked && !close_after && hlen + len <= lk_buf_room(&conn->cork)) {
    /* Answers to pipelined requests go out in one write at the end of
     * the read (a Runtime API client sends its response and its next
     * poll together: the 202 and the next event then share a packet). */
    lk_buf_add(&conn->cork, head, hlen);
    lk_buf_add(&conn->cork, body, len);
    if (head != stack)
      free(head);
    return 1;
  }
  err = cork_flush(conn);
  if (err >= 0)
    err = send_out(conn, bufs, nbufs, close_after);
  if (head != stack)
    free(head);
  return err;
}

static void send_error_and_close(lk_http_conn_t *conn, int status,
                                 const char *msg) {
  char body[256];
  int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};

  if (conn->req && !conn->in_flight) {
    req_free(conn->req);
    conn->req = NULL;
  }
  uv_read_stop((uv_stream_t *)&conn->tcp);
  if (conn_write(conn, status, h, 1, body, (size_t)n, 0, 1, NULL) != 0 &&
      !conn->held) /* a held one closes when its answers go */
    conn_close(conn);
}

/* ---- reading ---- */

static size_t conn_feed(lk_http_conn_t *conn, const char *data, size_t n);

/* Moves the unparsed part of pending to its start, so the room at its end
 * is all the room there is. Once per read at most, never per request. */
static void pending_compact(lk_http_conn_t *conn) {
  lk_buf_t *b = &conn->pending;

  if (conn->pending_off == 0)
    return;
  memmove(b->data, b->data + conn->pending_off, b->len - conn->pending_off);
  b->len -= conn->pending_off;
  conn->pending_off = 0;
}

/* While a request is in flight the socket stays in the loop, and what
 * arrives waits in pending: stopping and restarting the read for every
 * request cost two epoll_ctl calls each time. Only a full pending buffer
 * stops the reading, so a pipelining client is still held to its ceiling. */
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  lk_http_conn_t *conn = h->data;
  size_t room;

  (void)hint;
  pending_compact(conn);
  room = conn->pending.max - conn->pending.len;
  buf->base = conn->rbuf;
  buf->len = sizeof(conn->rbuf);
  if (conn->in_flight && room < buf->len)
    buf->len = room; /* 0 reads as UV_ENOBUFS */
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Reading stops for a full pending buffer or for a client that does not
 * read its answers (paused, and write_held for the second); it starts
 * again once neither holds. */
static void maybe_read_again(lk_http_conn_t *conn) {
  if (conn->closing || conn->eof || conn->write_held || !conn->paused)
    return;
  conn->paused = 0;
  uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
}

/* A client that pipelines requests and does not read the answers would
 * have them pile up here: past WRITE_QUEUE_MAX its requests wait. */
static void hold_if_unread(lk_http_conn_t *conn) {
  if (conn->closing || uv_stream_get_write_queue_size(
                           (uv_stream_t *)&conn->tcp) <= WRITE_QUEUE_MAX)
    return;
  conn->write_held = 1;
  conn->paused = 1;
  uv_read_stop((uv_stream_t *)&conn->tcp);
}

/* The first bytes of a connection say its protocol: HTTP/2's preface
 * (what the JS SDK v3 sends to an http:// endpoint), else HTTP/1.1. A
 * preface cut short waits in pending for the rest. Once HTTP/2, every
 * byte goes to its session. 0, or -1 to close. */
static int sniff_or_h2(lk_http_conn_t *conn, const char *data, size_t n) {
  int is;

  if (conn->h2)
    return lk_h2_recv(conn->h2, data, n);
  if (conn->pending.len) { /* a preface's start came before */
    if (lk_buf_add(&conn->pending, data, n))
      return -1;
    data = conn->pending.data;
    n = conn->pending.len;
  }
  is = lk_h2_preface(data, n);
  if (is < 0) {
    if (conn->pending.len == 0 && lk_buf_add(&conn->pending, data, n))
      return -1;
    return 0;
  }
  conn->sniffed = 1;
  if (is == 0)
    return conn->pending.len ? -1 : 0; /* a broken preface: neither */
  conn->in_head = 0;
  conn->h2 = lk_h2_new(conn);
  lk_http_touch_(conn);
  is = lk_h2_recv(conn->h2, data, n);
  lk_buf_reset(&conn->pending);
  return is;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  lk_http_conn_t *conn = s->data;
  size_t used;

  if (conn->in_flight && (nread == UV_EOF || nread == UV_ENOBUFS)) {
    /* Half-closed after its request, or pipelined past the ceiling: the
     * answer still goes out; conn_resume decides what comes next. */
    conn->eof = nread == UV_EOF;
    conn->paused = 1;
    uv_read_stop(s);
    if (conn->eof && conn->req && conn->req->on_hangup)
      conn->req->on_hangup(conn->req);
    return;
  }
  if (nread < 0) {
    conn_close(conn);
    return;
  }
  if (nread == 0)
    return;
  conn_touch(conn);
  if (conn->h2 || !conn->sniffed) {
    if (sniff_or_h2(conn, buf->base, (size_t)nread) != 0)
      conn_close(conn);
    if (conn->h2 || conn->closing || !conn->sniffed)
      return;
  }
  if (conn->in_flight) {
    if (lk_buf_add(&conn->pending, buf->base, (size_t)nread)) {
      conn_close(conn); /* out of memory: the stream cannot go on */
      return;
    }
    if (conn->pending.len == conn->pending.max) {
      conn->paused = 1;
      uv_read_stop(s);
    }
    return;
  }
  conn->corked = 1;
  used = conn_feed(conn, buf->base, (size_t)nread);
  conn->corked = 0;
  if (!conn->closing && used < (size_t)nread &&
      lk_buf_add(&conn->pending, buf->base + used, (size_t)nread - used))
    conn_close(conn); /* cannot happen: a read fits in pending */
  if (!conn->closing && cork_flush(conn) < 0)
    conn_close(conn);
  hold_if_unread(conn);
}

/* Parses data up to the end of one message: 1 when one is whole (the
 * parser pauses there), 0 when data ran out first, -1 after answering a
 * parse error. *used is how much of data it took. */
static int parse_one(lk_http_conn_t *conn, const char *data, size_t n,
                     size_t *used) {
  llhttp_errno_t rc;
  const char *pos;
  int status = 400;

  if (llhttp_get_errno(&conn->parser) == HPE_PAUSED)
    llhttp_resume(&conn->parser);
  rc = llhttp_execute(&conn->parser, data, n);
  *used = n;
  if (rc == HPE_OK)
    return 0;
  if (rc == HPE_PAUSED) {
    pos = llhttp_get_error_pos(&conn->parser);
    if (pos)
      *used = (size_t)(pos - data);
    return 1;
  }
  if (conn->head_overflow)
    status = 431;
  else if (rc == HPE_USER && conn->req && conn->req->body_too_large)
    status = 413;
  send_error_and_close(conn, status, lk_http_reason(status));
  return -1;
}

static void refuse(lk_http_req_t *req, int status, const char *why) {
  lk_http_header_t h[] = {{"Content-Type", "application/json"}};
  char body[256];
  int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", why);

  lk_http_respond(req, status, h, 1, body, (size_t)n);
}

/* An allowed origin's CORS preflight: whatever it asks for. */
static void preflight(lk_http_req_t *req) {
  const char *want = lk_http_header(req, "Access-Control-Request-Headers");
  lk_http_header_t h[] = {
      {"Access-Control-Allow-Methods",
       "GET, HEAD, PUT, POST, DELETE, PATCH, OPTIONS"},
      {"Access-Control-Max-Age", "600"},
      {"Access-Control-Allow-Headers", want ? want : "*"},
  };

  lk_http_respond(req, 204, h, 3, NULL, 0);
}

/* Hands a whole message to the handler, unless the browser policy
 * refuses it or it is a preflight, which the server answers itself. */
static void dispatch(lk_http_conn_t *conn) {
  conn->req->conn_ = conn;
  conn->in_flight = 1;
  conn_touch(conn);
  lk_http_hand_over_(conn, conn->req);
}

void lk_http_hand_over_(lk_http_conn_t *conn, lk_http_req_t *req) {
  const lk_browser_policy_t *browser = conn->srv->browser;
  const char *why = "";
  int status;

  if (browser) {
    status = lk_browser_check(browser, req, &why);
    if (status) {
      refuse(req, status, why);
      return;
    }
    req->cors_origin_ = lk_browser_cors_origin(browser, req);
    if (req->cors_origin_ && lk_browser_is_preflight(req)) {
      preflight(req);
      return;
    }
  }
  conn->srv->cb(req, conn->srv->ud);
}

/* Parses and dispatches the messages in data one after another; returns
 * how much of data it took. An answer given inside the callback (the
 * usual case) lets the loop go on to the next pipelined message, so a
 * write of thousands of requests is served in a loop, never by recursion,
 * and nothing is copied per request. The loop stops at a message answered
 * later: what follows it waits in pending for conn_resume. */
static size_t conn_feed(lk_http_conn_t *conn, const char *data, size_t n) {
  size_t off = 0, used;
  int whole;

  conn->feeding = 1;
  while (off < n && !conn->closing && !conn->in_flight) {
    whole = parse_one(conn, data + off, n - off, &used);
    if (whole < 0)
      break;
    off += used;
    if (whole)
      dispatch(conn);
  }
  conn->feeding = 0;
  return off;
}

/* The message in flight was answered later than its callback: go on with
 * what waited behind it, then with the socket. */
static void conn_resume(lk_http_conn_t *conn) {
  lk_buf_t *b = &conn->pending;

  if (b->len > conn->pending_off) {
    conn->corked = 1;
    conn->pending_off += conn_feed(conn, b->data + conn->pending_off,
                                   b->len - conn->pending_off);
    conn->corked = 0;
    if (!conn->closing && cork_flush(conn) < 0)
      conn_close(conn);
    hold_if_unread(conn);
  }
  if (conn->pending_off == b->len) {
    lk_buf_reset(b);
    conn->pending_off = 0;
  }
  if (conn->closing || conn->in_flight)
    return;
  if (conn->eof)
    conn_close(conn); /* everything it sent is answered */
  else
    maybe_read_again(conn);
}

int lk_http_respond(lk_http_req_t *req, int status,
                    const lk_http_header_t *headers, int n_headers,
                    const void *body, size_t len) {
  lk_http_conn_t *conn = req->conn_;
  int err, close_after;

  if (conn == NULL) { /* client went away */
    req_free(req);
    return 0;
  }
  if (req->h2_stream_)
    return lk_h2_respond(req, status, headers, n_headers, body, len);
  close_after = !req->keep_alive_ || conn->srv->closing ||
                (req->body_too_large && conn->discarded > 0 &&
                 conn->discarded >= DISCARD_MAX);
  err = conn_write(conn, status, headers, n_headers, body, len, req->is_head_,
                   close_after, req->cors_origin_);
  req_free(req);
  conn->req = NULL;
  conn->in_flight = 0;
  conn_touch(conn);
  if (err > 0 && close_after && conn->held) { /* closes once released */
    uv_read_stop((uv_stream_t *)&conn->tcp);
    return 0;
  }
  if (err < 0 || close_after) {
    uv_read_stop((uv_stream_t *)&conn->tcp);
    if (err != 0) /* written, or failed: either way, done with it */
      conn_close(conn);
    return err < 0 ? err : 0;
  }
  if (!conn->feeding) /* inside the callback, conn_feed's loop goes on */
    conn_resume(conn);
  return 0;
}

void lk_http_drop(lk_http_req_t *req) {
  lk_http_conn_t *conn = req->conn_;

  if (conn && req->h2_stream_) {
    lk_h2_drop(req); /* the stream goes; the connection serves on */
    return;
  }
  if (conn) {
    conn->req = NULL;
    conn->in_flight = 0;
    conn_close(conn);
  }
  req_free(req);
}

void lk_http_hold(lk_http_req_t *req) {
  lk_http_conn_t *conn = req->conn_;

  if (conn == NULL || conn->held || conn->closing)
    return;
  conn->held = 1;
  conn->cork.max = HOLD_MAX;
  conn->next_held = conn->srv->held;
  conn->srv->held = conn;
}

/* Its held answers go out; then, if one said so, the connection closes. */
static void release_one(lk_http_conn_t *conn) {
  uv_buf_t b;
  int err = 1;

  conn->held = 0;
  if (conn->cork.len) {
    b = uv_buf_init(conn->cork.data, (unsigned)conn->cork.len);
    err = send_out(conn, &b, 1, conn->held_close);
  }
  if (conn->cork.cap > 4096)
    lk_buf_free(&conn->cork);
  else
    lk_buf_reset(&conn->cork);
  conn->cork.max = CORK_MAX;
  if (err < 0 || (err > 0 && conn->held_close))
    conn_close(conn); /* written whole, or failed: done with it */
}

void lk_http_release(lk_http_server_t *srv) {
  lk_http_conn_t *conn, *next;

  if (srv == NULL)
    return;
  conn = srv->held;
  srv->held = NULL;
  for (; conn; conn = next) {
    next = conn->next_held;
    conn->next_held = NULL;
    if (conn->corked) { /* inside its read: the next release sends it */
      conn->next_held = srv->held;
      srv->held = conn;
    } else {
      release_one(conn);
    }
  }
}

int lk_http_send_(lk_http_conn_t *conn, const char *data, size_t len) {
  uv_buf_t b;

  if (conn->held) {
    if (lk_buf_add(&conn->cork, data, len))
      return LK_ENOMEM;
    return 1;
  }
  b = uv_buf_init((char *)data, (unsigned)len);
  return send_out(conn, &b, 1, 0);
}

void lk_http_touch_(lk_http_conn_t *conn) {
  conn_touch(conn);
}

void lk_http_conn_close_(lk_http_conn_t *conn) {
  conn_close(conn);
}

int lk_http_req_open(const lk_http_req_t *req) {
  return req->conn_ != NULL;
}

const char *lk_http_header(const lk_http_req_t *req, const char *name) {
  int i;

  for (i = 0; i < req->n_headers; i++)
    if (strcasecmp(req->headers[i].name, name) == 0)
      return req->headers[i].value;
  return NULL;
}

/* ---- server ---- */

/* Past its deadline: a head that did not come whole gets its 408. */
static void expire(lk_http_conn_t *conn) {
  if (conn->in_head && conn->req) {
    conn->in_head = 0; /* the next sweep closes it, read or not */
    conn->deadline = uv_now(conn->srv->loop) + 1;
    send_error_and_close(conn, 408, "request head timed out");
  } else {
    conn_close(conn);
  }
}

static void on_sweep(uv_timer_t *t) {
  lk_http_server_t *srv = t->data;
  uint64_t now = uv_now(srv->loop);
  lk_http_conn_t *conn, *next;

  for (conn = srv->conns; conn; conn = next) {
    next = conn->next;
    if (conn->deadline && now >= conn->deadline)
      expire(conn);
  }
}

/* At the ceiling, the connection that has waited longest without a
 * request in flight makes room: a client that holds every slot with
 * heads it never finishes cannot lock the others out. 0 when one went. */
static int make_room(lk_http_server_t *srv) {
  lk_http_conn_t *conn, *oldest = NULL;

  for (conn = srv->conns; conn; conn = conn->next)
    if (!conn->in_flight && (oldest == NULL || conn->active < oldest->active))
      oldest = conn;
  if (oldest == NULL)
    return -1;
  conn_close(oldest);
  return 0;
}

static int admitted(lk_http_server_t *srv, lk_http_conn_t *conn) {
  uv_os_fd_t fd;

  if (srv->admit == NULL)
    return 1;
  return uv_fileno((uv_handle_t *)&conn->tcp, &fd) == 0 &&
         srv->admit(fd, srv->admit_ud) == 0;
}

static void on_connection(uv_stream_t *server, int status) {
  lk_http_server_t *srv = server->data;
  lk_http_conn_t *conn;

  if (status < 0)
    return;
  conn = lk_xcalloc(1, sizeof(*conn));
  uv_tcp_init(srv->loop, &conn->tcp);
  conn->tcp.data = conn;
  conn->srv = srv;
  lk_buf_init(&conn->pending, READ_CHUNK);
  lk_buf_init(&conn->cork, CORK_MAX);
  if (uv_accept(server, (uv_stream_t *)&conn->tcp) || !admitted(srv, conn) ||
      (srv->n_conns >= LK_HTTP_MAX_CONNS && make_room(srv) != 0)) {
    uv_close((uv_handle_t *)&conn->tcp, on_conn_close);
    return;
  }
  conn->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = conn;
  srv->conns = conn;
  srv->n_conns++;
  uv_tcp_nodelay(&conn->tcp, 1);
  llhttp_init(&conn->parser, HTTP_REQUEST, &settings);
  conn->parser.data = conn;
  conn->active = ++srv->ticks;
  head_begins(conn);
  uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
}

int lk_http_server_new(uv_loop_t *loop, const lk_http_opts_t *opts,
                       lk_http_cb cb, void *ud, lk_http_server_t **out) {
  lk_http_server_t *srv;
  struct sockaddr_storage ss;
  int namelen = sizeof(ss);
  const char *host = opts && opts->host ? opts->host : "127.0.0.1";
  int port = opts ? opts->port : 0;
  int err;

  if (settings.on_message_begin == NULL) {
    llhttp_settings_init(&settings);
    settings.on_message_begin = on_message_begin;
    settings.on_url = on_url;
    settings.on_url_complete = on_url_complete;
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
  }
  srv = lk_xcalloc(1, sizeof(*srv));
  srv->loop = loop;
  srv->cb = cb;
  srv->ud = ud;
  srv->max_body = opts && opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
  srv->browser = opts ? opts->browser : NULL;
  srv->admit = opts ? opts->admit : NULL;
  srv->admit_ud = opts ? opts->admit_ud : NULL;
  uv_tcp_init(loop, &srv->tcp);
  srv->tcp.data = srv;
  if (strchr(host, ':'))
    err = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
  else
    err = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  if (err == 0)
    err = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&ss, 0);
  if (err == 0)
    err = uv_listen((uv_stream_t *)&srv->tcp, 511, on_connection);
  if (err == 0)
    err = uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&ss, &namelen);
  if (err) {
    srv->closing = 1;
    uv_close((uv_handle_t *)&srv->tcp, lk_free_handle);
    return err;
  }
  srv->port =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
  srv->open_handles = 2;
  uv_timer_init(loop, &srv->sweep);
  srv->sweep.data = srv;
  uv_timer_start(&srv->sweep, on_sweep, 1000, 1000);
  uv_unref((uv_handle_t *)&srv->sweep); /* it never keeps the loop alive */
  *out = srv;
  return 0;
}

int lk_http_server_port(const lk_http_server_t *srv) {
  return srv->port;
}

static void on_server_close(uv_handle_t *h) {
  lk_http_server_t *srv = h->data;

  if (--srv->open_handles == 0)
    free(srv);
}

void lk_http_server_free(lk_http_server_t *srv) {
  if (srv == NULL)
    return;
  srv->closing = 1;
  while (srv->conns)
    conn_close(srv->conns);
  uv_close((uv_handle_t *)&srv->sweep, on_server_close);
  uv_close((uv_handle_t *)&srv->tcp, on_server_close);
}
