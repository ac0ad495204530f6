/* HTTP/2 over cleartext with prior knowledge (see http_int.h): nghttp2
 * does the framing, HPACK and flow control; each stream becomes one
 * lk_http_req_t with the same ceilings as HTTP/1.1 (head bytes, header
 * count, body), :authority becomes its Host, and goes through the same
 * browser checks to the same handler. Many requests may be in flight on
 * one connection. A stream owns its request until it is handed over and
 * its answer (copied) until nghttp2 has sent it; the session's output
 * goes through the connection, so held answers stay held. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "http_int.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define MAX_STREAMS 100 /* in flight on one connection */
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN (sizeof(PREFACE) - 1)

typedef struct stream {
  int32_t id;
  lk_http_req_t *req; /* being received, then the handler's */
  int in_flight;      /* handed to the handler */
  int overflow;       /* its head passed a ceiling: 431 */
  char *answer;       /* the body being sent */
  size_t len, off;
  struct stream *prev, *next;
} stream_t;

struct lk_h2 {
  lk_http_conn_t *conn;
  nghttp2_session *session;
  stream_t *streams; /* doubly linked */
  int in_flight;
  int receiving; /* inside nghttp2's callbacks: lk_h2_recv flushes after */
};

static nghttp2_session_callbacks *callbacks;

int lk_h2_preface(const char *data, size_t n) {
  size_t k = n < PREFACE_LEN ? n : PREFACE_LEN;

  if (memcmp(data, PREFACE, k) != 0)
    return 0;
  return n >= PREFACE_LEN ? 1 : -1;
}

int lk_h2_busy(const lk_h2_t *h2) {
  return h2->in_flight > 0;
}

/* Whatever nghttp2 has to say goes out now; -1 when the session is over
 * (both sides done, or a write failed). */
static int flush(lk_h2_t *h2) {
  const uint8_t *data;
  ssize_t n;

  while ((n = nghttp2_session_mem_send(h2->session, &data)) > 0)
    if (lk_http_send_(h2->conn, (const char *)data, (size_t)n) < 0)
      return -1;
  if (n < 0)
    return -1;
  return nghttp2_session_want_read(h2->session) ||
                 nghttp2_session_want_write(h2->session)
             ? 0
             : -1;
}

/* ---- streams ---- */

static stream_t *stream_of(const lk_h2_t *h2, int32_t id) {
  return nghttp2_session_get_stream_user_data(h2->session, id);
}

static void stream_free(lk_h2_t *h2, stream_t *st) {
  if (st->req) {
    if (st->in_flight) {
      /* The handler still owns it: tell it; its answer goes nowhere. */
      st->req->conn_ = NULL;
      h2->in_flight--;
      if (st->req->on_abort)
        st->req->on_abort(st->req);
    } else {
      lk_http_req_free_(st->req);
    }
  }
  if (st->prev)
    st->prev->next = st->next;
  else
    h2->streams = st->next;
  if (st->next)
    st->next->prev = st->prev;
  free(st->answer);
  free(st);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f,
                            void *ud) {
  lk_h2_t *h2 = ud;
  stream_t *st;

  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  st = lk_xcalloc(1, sizeof(*st));
  st->id = f->hd.stream_id;
  st->req = lk_http_req_new_(h2->conn->srv->max_body);
  st->req->h2_stream_ = st->id;
  st->next = h2->streams;
  if (h2->streams)
    h2->streams->prev = st;
  h2->streams = st;
  nghttp2_session_set_stream_user_data(s, st->id, st);
  return 0;
}

/* "name\0value\0" into the head's buffer, as HTTP/1.1 stores them;
 * pseudo-headers too, found by name once the head is whole. */
static int on_header(nghttp2_session *s, const nghttp2_frame *f,
                     const uint8_t *name, size_t nlen, const uint8_t *value,
                     size_t vlen, uint8_t flags, void *ud) {
  stream_t *st = stream_of(ud, f->hd.stream_id);
  lk_http_req_t *req = st ? st->req : NULL;

  (void)s;
  (void)flags;
  if (req == NULL || st->in_flight || st->overflow)
    return 0;
  if (req->n_headers == LK_HTTP_MAX_HEADERS ||
      lk_buf_room(&req->head_) < nlen + vlen + 2) {
    st->overflow = 1;
    return 0;
  }
  req->hoff_[req->n_headers][0] = req->head_.len;
  lk_buf_add(&req->head_, name, nlen);
  lk_buf_add(&req->head_, "", 1);
  req->hoff_[req->n_headers][1] = req->head_.len;
  lk_buf_add(&req->head_, value, vlen);
  lk_buf_add(&req->head_, "", 1);
  req->n_headers++;
  return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id,
                   const uint8_t *data, size_t len, void *ud) {
  stream_t *st = stream_of(ud, id);

  (void)s;
  (void)flags;
  if (st && st->req && !st->in_flight && !st->req->body_too_large &&
      lk_buf_add(&st->req->body, data, len) != 0)
    st->req->body_too_large = 1; /* the rest is read and thrown away */
  return 0;
}

/* The head's pointers, as HTTP/1.1 sets them: pseudo-headers become the
 * method and target, :authority the Host (unless one came too) and stays
 * a header (the JS SDK signs it), and the rest stay headers. -1 when there is
 * no :method or :path. */
static int finish_head(lk_http_req_t *req) {
  char *base = req->head_.data;
  const char *authority = NULL;
  char *path = NULL, *q;
  int i, n = 0;

  req->method = NULL;
  for (i = 0; i < req->n_headers; i++) {
    char *name = base + req->hoff_[i][0], *value = base + req->hoff_[i][1];

    if (strcmp(name, ":method") == 0)
      req->method = value;
    else if (strcmp(name, ":path") == 0)
      path = value;
    else if (name[0] != ':' || strcmp(name, ":authority") == 0)
      req->headers[n++] = (lk_http_header_t){name, value};
    if (strcmp(name, ":authority") == 0)
      authority = value;
  }
  req->n_headers = n;
  if (authority && lk_http_header(req, "host") == NULL &&
      n < LK_HTTP_MAX_HEADERS)
    req->headers[req->n_headers++] = (lk_http_header_t){"host", authority};
  if (req->method == NULL || path == NULL)
    return -1;
  req->url = req->path = path;
  q = strchr(path, '?');
  if (q) {
    *q = '\0';
    req->query = q + 1;
  } else {
    req->query = path + strlen(path);
  }
  req->is_head_ = strcmp(req->method, "HEAD") == 0;
  req->keep_alive_ = 1;
  return 0;
}

/* A request whose last frame came: answered here when it cannot be
 * one, else handed over. */
static void request_done(lk_h2_t *h2, stream_t *st) {
  lk_http_req_t *req = st->req;
  int bad = st->overflow ? 431 : finish_head(req) != 0 ? 400 : 0;

  req->conn_ = h2->conn;
  st->in_flight = 1;
  h2->in_flight++;
  lk_http_touch_(h2->conn);
  if (bad) {
    lk_http_header_t h = {"content-type", "application/json"};
    const char *msg = bad == 431 ? "{\"message\":\"header block too large\"}"
                                 : "{\"message\":\"Bad Request\"}";

    lk_h2_respond(req, bad, &h, 1, msg, strlen(msg));
    return;
  }
  if (req->body_too_large)
    lk_buf_reset(&req->body);
  lk_http_hand_over_(h2->conn, req);
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  lk_h2_t *h2 = ud;
  stream_t *st;

  (void)s;
  if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
      !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  st = stream_of(h2, f->hd.stream_id);
  if (st && st->req && !st->in_flight)
    request_done(h2, st);
  return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud) {
  stream_t *st = stream_of(ud, id);

  (void)s;
  (void)code;
  if (st)
    stream_free(ud, st);
  return 0;
}

/* ---- answers ---- */

static ssize_t read_answer(nghttp2_session *s, int32_t id, uint8_t *buf,
                           size_t length, uint32_t *flags,
                           nghttp2_data_source *src, void *ud) {
  stream_t *st = src->ptr;
  size_t n = st->len - st->off;

  (void)s;
  (void)id;
  (void)ud;
  if (n > length)
    n = length;
  memcpy(buf, st->answer + st->off, n);
  st->off += n;
  if (st->off == st->len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

/* Header names go lowercase, as HTTP/2 wants them; the ones that name
 * an HTTP/1.1 connection's framing do not go at all. */
static int connection_header(const char *name) {
  static const char *const hop[] = {"connection",        "keep-alive",
                                    "transfer-encoding", "upgrade",
                                    "proxy-connection",  "content-length"};
  size_t i;

  for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
    if (strcasecmp(name, hop[i]) == 0)
      return 1;
  return 0;
}

static nghttp2_nv nv(const char *name, const char *value) {
  nghttp2_nv v = {(uint8_t *)name, (uint8_t *)value, strlen(name),
                  strlen(value), NGHTTP2_NV_FLAG_NONE};

  return v;
}

int lk_h2_respond(lk_http_req_t *req, int status,
                  const lk_http_header_t *headers, int n_headers,
                  const void *body, size_t len) {
  lk_h2_t *h2 = req->conn_->h2;
  stream_t *st = h2 ? stream_of(h2, req->h2_stream_) : NULL;
  nghttp2_nv *v = lk_xmalloc(sizeof(*v) * (size_t)(n_headers + 8));
  char code[8], length[24], *names = NULL;
  nghttp2_data_provider data;
  size_t at = 0, need = 1;
  int i, n = 0, rc = 0;

  if (st == NULL) {
    free(v);
    lk_http_req_free_(req);
    return 0;
  }
  for (i = 0; i < n_headers; i++)
    need += strlen(headers[i].name) + 1;
  names = lk_xmalloc(need);
  snprintf(code, sizeof(code), "%d",
           status < 100 || status > 999 ? 500 : status);
  v[n++] = nv(":status", code);
  for (i = 0; i < n_headers; i++) {
    char *lower = names + at;
    size_t k, nl = strlen(headers[i].name);

    if (connection_header(headers[i].name))
      continue;
    for (k = 0; k <= nl; k++)
      lower[k] = (char)(headers[i].name[k] >= 'A' && headers[i].name[k] <= 'Z'
                            ? headers[i].name[k] + 32
                            : headers[i].name[k]);
    at += nl + 1;
    v[n++] = nv(lower, headers[i].value);
  }
  if (status != 204 && status != 304) {
    snprintf(length, sizeof(length), "%zu", len);
    v[n++] = nv("content-length", length);
  }
  if (req->cors_origin_) {
    v[n++] = nv("access-control-allow-origin", req->cors_origin_);
    v[n++] = nv("access-control-expose-headers", "*");
    v[n++] = nv("vary", "Origin");
  }
  st->req = NULL; /* answered: the stream keeps only the body */
  st->in_flight = 0;
  h2->in_flight--;
  if (req->is_head_ || status == 204 || status == 304)
    len = 0;
  if (len) {
    st->answer = lk_xmalloc(len);
    memcpy(st->answer, body, len);
    st->len = len;
    data.source.ptr = st;
    data.read_callback = read_answer;
  }
  if (nghttp2_submit_response(h2->session, st->id, v, (size_t)n,
                              len ? &data : NULL) != 0)
    nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id,
                              NGHTTP2_INTERNAL_ERROR);
  free(v);
  free(names);
  lk_http_req_free_(req);
  lk_http_touch_(h2->conn);
  if (!h2->receiving && flush(h2) != 0) {
    lk_http_conn_close_(h2->conn);
    rc = LK_EIO;
  }
  return rc;
}

void lk_h2_drop(lk_http_req_t *req) {
  lk_h2_t *h2 = req->conn_->h2;
  stream_t *st = stream_of(h2, req->h2_stream_);

  if (st && st->req == req) {
    st->req = NULL;
    st->in_flight = 0;
    h2->in_flight--;
    nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id,
                              NGHTTP2_CANCEL);
    if (!h2->receiving && flush(h2) != 0)
      lk_http_conn_close_(h2->conn);
  }
  lk_http_req_free_(req);
}

/* ---- the session ---- */

lk_h2_t *lk_h2_new(lk_http_conn_t *conn) {
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, LK_HTTP_MAX_HEAD_BYTES},
  };
  lk_h2_t *h2 = lk_xcalloc(1, sizeof(*h2));

  if (callbacks == NULL) {
    if (nghttp2_session_callbacks_new(&callbacks) != 0)
      abort();
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                              on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);
  }
  h2->conn = conn;
  if (nghttp2_session_server_new(&h2->session, callbacks, h2) != 0)
    abort(); /* only out of memory fails */
  nghttp2_submit_settings(h2->session, NGHTTP2_FLAG_NONE, iv,
                          sizeof(iv) / sizeof(iv[0]));
  return h2;
}

int lk_h2_recv(lk_h2_t *h2, const char *data, size_t n) {
  ssize_t used;

  h2->receiving = 1;
  used = nghttp2_session_mem_recv(h2->session, (const uint8_t *)data, n);
  h2->receiving = 0;
  if (used < 0 || (size_t)used != n) {
    flush(h2); /* a GOAWAY saying why, if it can */
    return -1;
  }
  return flush(h2);
}

void lk_h2_free(lk_h2_t *h2) {
  if (h2 == NULL)
    return;
  while (h2->streams)
    stream_free(h2, h2->streams);
  nghttp2_session_del(h2->session);
  free(h2);
}
