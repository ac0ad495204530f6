/* Emulated CloudWatch Logs (see logs.h). Groups hold streams, streams hold
 * events in a ring that drops the oldest past LK_LOGS_MAX_EVENTS. Tokens
 * for GetLogEvents and FilterLogEvents are positions, written as "f/N" and
 * "b/N" the way CloudWatch's forward and backward tokens read. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "logfilter.h"
#include "logs.h"
#include "mem.h"

#define MAX_FILTERS 2 /* per group, as in CloudWatch */
#define PAGE_MAX 10000
#define PUT_MAX_EVENTS 10000

typedef struct event {
  int64_t ts, ingested;
  uint64_t seq;
  char *msg;
  size_t len; /* strlen(msg): the budget's count, without a cold re-read */
} event_t;

typedef struct stream {
  char *name;
  int64_t created;
  event_t *ev; /* ring of cap */
  int cap, start, n;
  uint64_t next_seq; /* sequence of the next event appended */
  uint64_t written;  /* lk_logs's seq at its creation or last event */
} stream_t;

typedef struct sub {
  char *name, *pattern, *dest;
} sub_t;

typedef struct group {
  char *name, *arn;
  int64_t created;
  int retention;
  stream_t **streams;
  int n;
  sub_t subs[MAX_FILTERS];
  int n_subs;
} group_t;

struct lk_logs {
  group_t **groups;
  int n;
  size_t bytes;  /* of all messages held */
  int n_streams; /* of all groups */
  uint64_t seq;
  char region[32], account[16];
  lk_logs_match_cb cb;
  void *ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
};

/* ---- records of the state log ---- */

static cJSON *rec_new(const char *op, const char *group) {
  cJSON *r = cJSON_CreateObject();

  cJSON_AddStringToObject(r, "logs", op);
  cJSON_AddStringToObject(r, "group", group);
  return r;
}

static void record(lk_logs_t *l, cJSON *rec, int durable) {
  if (l->rec_cb)
    l->rec_cb(l->rec_ud, rec, durable);
  cJSON_Delete(rec);
}

/* {"logs":"events", group, stream, events: []} for the caller to fill;
 * NULL when nothing records. */
static cJSON *rec_events(lk_logs_t *l, const char *group, const char *stream,
                         cJSON **events) {
  cJSON *r;

  if (l->rec_cb == NULL)
    return NULL;
  r = rec_new("events", group);
  cJSON_AddStringToObject(r, "stream", stream);
  *events = cJSON_AddArrayToObject(r, "events");
  return r;
}

static void add_event(cJSON *events, int64_t ts, const char *msg, size_t len) {
  cJSON *e = cJSON_CreateObject();
  char *m = lk_xstrndup(msg, len);

  cJSON_AddNumberToObject(e, "timestamp", (double)ts);
  cJSON_AddStringToObject(e, "message", m);
  cJSON_AddItemToArray(events, e);
  free(m);
}

lk_logs_t *lk_logs_new(const char *region, const char *account) {
  lk_logs_t *l = lk_xcalloc(1, sizeof(*l));

  snprintf(l->region, sizeof(l->region), "%s", region);
  snprintf(l->account, sizeof(l->account), "%s", account);
  return l;
}

static void stream_free(stream_t *s) {
  int i;

  for (i = 0; i < s->n; i++)
    free(s->ev[(s->start + i) % s->cap].msg);
  free(s->ev);
  free(s->name);
  free(s);
}

static void group_free(group_t *g) {
  int i;

  for (i = 0; i < g->n; i++)
    stream_free(g->streams[i]);
  for (i = 0; i < g->n_subs; i++) {
    free(g->subs[i].name);
    free(g->subs[i].pattern);
    free(g->subs[i].dest);
  }
  free(g->streams);
  free(g->name);
  free(g->arn);
  free(g);
}

void lk_logs_free(lk_logs_t *l) {
  int i;

  if (l == NULL)
    return;
  for (i = 0; i < l->n; i++)
    group_free(l->groups[i]);
  free(l->groups);
  free(l);
}

void lk_logs_on_match(lk_logs_t *l, lk_logs_match_cb cb, void *ud) {
  l->cb = cb;
  l->ud = ud;
}

static group_t *find_group(lk_logs_t *l, const char *name) {
  int i;

  for (i = 0; name && i < l->n; i++)
    if (strcmp(l->groups[i]->name, name) == 0)
      return l->groups[i];
  return NULL;
}

static stream_t *find_stream(group_t *g, const char *name) {
  int i;

  for (i = 0; name && i < g->n; i++)
    if (strcmp(g->streams[i]->name, name) == 0)
      return g->streams[i];
  return NULL;
}

static int valid_name(const char *s, size_t max) {
  size_t n = s ? strlen(s) : 0;

  return n > 0 && n <= max && strchr(s, ':') == NULL;
}

int lk_logs_create_group(lk_logs_t *l, const char *name) {
  group_t *g;

  if (!valid_name(name, 512))
    return LK_EINVAL;
  if (find_group(l, name))
    return LK_EEXIST;
  if (l->n >= LK_LOGS_MAX_GROUPS)
    return LK_ENOSPC;
  l->groups = lk_xrealloc(l->groups, sizeof(g) * (size_t)(l->n + 1));
  g = lk_xcalloc(1, sizeof(*g));
  g->name = lk_xstrdup(name);
  g->arn = lk_xasprintf("arn:aws:logs:%s:%s:log-group:%s:*", l->region,
                        l->account, name);
  g->created = (int64_t)lk_now_ms();
  l->groups[l->n++] = g;
  return 0;
}

static void drop_stream(lk_logs_t *l, group_t *g, int i) {
  stream_t *s = g->streams[i];
  int k;

  for (k = 0; k < s->n; k++)
    l->bytes -= s->ev[(s->start + k) % s->cap].len;
  stream_free(s);
  g->streams[i] = g->streams[--g->n];
  l->n_streams--;
}

/* At LK_LOGS_MAX_STREAMS the group's least recently written stream goes;
 * a group with none to give has no room. */
static int make_room(lk_logs_t *l, group_t *g) {
  int i, oldest = -1;

  if (l->n_streams < LK_LOGS_MAX_STREAMS)
    return 0;
  for (i = 0; i < g->n; i++)
    if (oldest < 0 || g->streams[i]->written < g->streams[oldest]->written)
      oldest = i;
  if (oldest < 0)
    return LK_ENOSPC;
  drop_stream(l, g, oldest);
  return 0;
}

static int create_stream(lk_logs_t *l, group_t *g, const char *name) {
  stream_t *s;
  int rc;

  if (!valid_name(name, 512))
    return LK_EINVAL;
  if (find_stream(g, name))
    return LK_EEXIST;
  rc = make_room(l, g);
  if (rc)
    return rc;
  g->streams = lk_xrealloc(g->streams, sizeof(s) * (size_t)(g->n + 1));
  s = lk_xcalloc(1, sizeof(*s));
  s->name = lk_xstrdup(name);
  s->created = (int64_t)lk_now_ms();
  s->written = ++l->seq;
  g->streams[g->n++] = s;
  l->n_streams++;
  return 0;
}

int lk_logs_subscribe(lk_logs_t *l, const char *group, const char *name,
                      const char *pattern, const char *dest) {
  group_t *g = find_group(l, group);
  sub_t *s = NULL;
  int i, bad = 0;

  if (g == NULL)
    return LK_ENOENT;
  lk_filter_match(pattern, "", 0, &bad);
  if (bad || dest == NULL || name == NULL)
    return LK_EINVAL;
  for (i = 0; i < g->n_subs; i++)
    if (strcmp(g->subs[i].name, name) == 0)
      s = &g->subs[i];
  if (s == NULL) {
    if (g->n_subs == MAX_FILTERS)
      return LK_ENOSPC;
    s = &g->subs[g->n_subs++];
  } else {
    free(s->name);
    free(s->pattern);
    free(s->dest);
  }
  s->name = lk_xstrdup(name);
  s->pattern = lk_xstrdup(pattern ? pattern : "");
  s->dest = lk_xstrdup(dest);
  return 0;
}

static void drop_oldest(lk_logs_t *l, stream_t *s) {
  event_t *e = &s->ev[s->start];

  l->bytes -= e->len;
  free(e->msg);
  s->start = (s->start + 1) % s->cap;
  s->n--;
}

/* Past the byte ceiling the oldest events go: first from the stream being
 * written, then from the others, so a busy function cannot grow lambkin
 * without bound. */
static void enforce_budget(lk_logs_t *l, stream_t *cur) {
  int i, k;

  while (l->bytes > LK_LOGS_MAX_BYTES && cur->n > 1)
    drop_oldest(l, cur);
  for (i = 0; i < l->n && l->bytes > LK_LOGS_MAX_BYTES; i++)
    for (k = 0; k < l->groups[i]->n && l->bytes > LK_LOGS_MAX_BYTES; k++) {
      stream_t *s = l->groups[i]->streams[k];

      while (s != cur && s->n && l->bytes > LK_LOGS_MAX_BYTES)
        drop_oldest(l, s);
    }
}

static event_t *append(lk_logs_t *l, stream_t *s, int64_t ts, const char *msg,
                       size_t len) {
  event_t *e;

  if (s->n == s->cap) {
    if (s->cap < LK_LOGS_MAX_EVENTS) {
      int cap = s->cap ? s->cap * 2 : 64, i;
      event_t *ne;

      if (cap > LK_LOGS_MAX_EVENTS)
        cap = LK_LOGS_MAX_EVENTS;
      ne = lk_xmalloc(sizeof(*ne) * (size_t)cap);
      for (i = 0; i < s->n; i++)
        ne[i] = s->ev[(s->start + i) % s->cap];
      free(s->ev);
      s->ev = ne;
      s->cap = cap;
      s->start = 0;
    } else { /* full: the oldest event goes */
      drop_oldest(l, s);
    }
  }
  e = &s->ev[(s->start + s->n) % s->cap];
  e->msg =
      lk_xstrndup(msg, len > LK_LOGS_MAX_MESSAGE ? LK_LOGS_MAX_MESSAGE : len);
  e->ts = ts;
  e->ingested = (int64_t)lk_now_ms();
  e->seq = ++l->seq;
  s->written = e->seq;
  e->len = strlen(e->msg);
  s->n++;
  s->next_seq++;
  l->bytes += e->len;
  enforce_budget(l, s);
  return e;
}

static void event_id(const event_t *e, char *out, size_t cap) {
  snprintf(out, cap, "%020llu", (unsigned long long)e->seq);
}

/* Hands the events of one put to each subscription whose filter they
 * match. first is the index (from the stream's start) of the first one. */
static void deliver(lk_logs_t *l, group_t *g, stream_t *s, int first,
                    const char *trace) {
  int i, k;

  if (l->cb == NULL)
    return;
  for (k = 0; k < g->n_subs; k++) {
    cJSON *events = cJSON_CreateArray();

    for (i = first; i < s->n; i++) {
      const event_t *e = &s->ev[(s->start + i) % s->cap];

      if (lk_filter_match(g->subs[k].pattern, e->msg, strlen(e->msg), NULL)) {
        cJSON *j = cJSON_CreateObject();
        char id[32];

        event_id(e, id, sizeof(id));
        cJSON_AddStringToObject(j, "id", id);
        cJSON_AddNumberToObject(j, "timestamp", (double)e->ts);
        cJSON_AddStringToObject(j, "message", e->msg);
        cJSON_AddItemToArray(events, j);
      }
    }
    if (cJSON_GetArraySize(events))
      l->cb(l->ud, g->name, s->name, g->subs[k].name, g->subs[k].dest, events,
            trace);
    cJSON_Delete(events);
  }
}

int lk_logs_put(lk_logs_t *l, const char *group, const char *stream, int64_t ts,
                const char *msg, size_t len, const char *trace) {
  group_t *g = find_group(l, group);
  stream_t *s;
  int err;

  if (g == NULL) {
    err = lk_logs_create_group(l, group);
    if (err)
      return err;
    g = find_group(l, group);
  }
  s = find_stream(g, stream);
  if (s == NULL) {
    err = create_stream(l, g, stream);
    if (err)
      return err;
    s = find_stream(g, stream);
  }
  /* Function output is not recorded: three lines an invoke would make
   * the state log the biggest writer of all for a store capped at 8 MB.
   * It is kept by every snapshot (a clean stop, a rewrite). */
  append(l, s, ts, msg, len);
  deliver(l, g, s, s->n - 1, trace);
  return 0;
}

/* ---- the wire protocol ---- */

typedef struct ctx {
  lk_logs_t *l;
  cJSON *in, *out;
  const char *err_type;
  char err_msg[256];
  const char *trace;
} ctx_t;

static int fail(ctx_t *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ctx_t *c, const char *type, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
  va_end(ap);
  c->err_type = type;
  return -1;
}

static int64_t num(const cJSON *o, const char *k, int64_t def) {
  return lk_json_long(o, k, def);
}

static group_t *need_group(ctx_t *c) {
  const char *name = lk_json_str(c->in, "logGroupName");
  group_t *g;

  if (name == NULL) {
    fail(c, "InvalidParameterException", "logGroupName is required");
    return NULL;
  }
  g = find_group(c->l, name);
  if (g == NULL)
    fail(c, "ResourceNotFoundException",
         "The specified log group does not exist.");
  return g;
}

static stream_t *need_stream(ctx_t *c, group_t *g) {
  stream_t *s = find_stream(g, lk_json_str(c->in, "logStreamName"));

  if (s == NULL)
    fail(c, "ResourceNotFoundException",
         "The specified log stream does not exist.");
  return s;
}

static int op_create_group(ctx_t *c) {
  const char *name = lk_json_str(c->in, "logGroupName");
  int err = lk_logs_create_group(c->l, name);

  if (err == LK_EEXIST)
    return fail(c, "ResourceAlreadyExistsException",
                "The specified log group already exists");
  if (err)
    return fail(c, "InvalidParameterException", "logGroupName: %s",
                lk_strerror(err));
  if (c->l->rec_cb) {
    cJSON *r = rec_new("group", name);

    cJSON_AddNumberToObject(r, "created",
                            (double)find_group(c->l, name)->created);
    record(c->l, r, 1);
  }
  return 0;
}

static int op_create_stream(ctx_t *c) {
  group_t *g = need_group(c);
  int err;

  if (g == NULL)
    return -1;
  err = create_stream(c->l, g, lk_json_str(c->in, "logStreamName"));
  if (err == LK_EEXIST)
    return fail(c, "ResourceAlreadyExistsException",
                "The specified log stream already exists");
  if (err == LK_ENOSPC)
    return fail(c, "LimitExceededException",
                "lambkin holds at most %d log streams", LK_LOGS_MAX_STREAMS);
  if (err)
    return fail(c, "InvalidParameterException", "logStreamName: %s",
                lk_strerror(err));
  if (c->l->rec_cb) {
    const char *sn = lk_json_str(c->in, "logStreamName");
    cJSON *r = rec_new("stream", g->name);

    cJSON_AddStringToObject(r, "stream", sn);
    cJSON_AddNumberToObject(r, "created", (double)find_stream(g, sn)->created);
    record(c->l, r, 1);
  }
  return 0;
}

static void remove_group(lk_logs_t *l, group_t *g) {
  int i;

  while (g->n) /* its bytes and streams leave the budgets with it */
    drop_stream(l, g, g->n - 1);
  for (i = 0; i < l->n; i++)
    if (l->groups[i] == g) {
      memmove(&l->groups[i], &l->groups[i + 1],
              sizeof(g) * (size_t)(l->n - i - 1));
      l->n--;
      break;
    }
  group_free(g);
}

static int op_delete_group(ctx_t *c) {
  group_t *g = need_group(c);

  if (g == NULL)
    return -1;
  record(c->l, rec_new("rmgroup", g->name), 1);
  remove_group(c->l, g);
  return 0;
}

static int op_put_events(ctx_t *c) {
  group_t *g = need_group(c);
  stream_t *s = g ? need_stream(c, g) : NULL;
  const cJSON *events = cJSON_GetObjectItemCaseSensitive(c->in, "logEvents");
  const cJSON *e;
  int first, n = cJSON_GetArraySize(events);
  cJSON *rec, *evs = NULL;
  char token[32];

  if (s == NULL)
    return -1;
  if (n == 0 || n > PUT_MAX_EVENTS)
    return fail(c, "InvalidParameterException",
                "logEvents must hold 1 to %d events", PUT_MAX_EVENTS);
  cJSON_ArrayForEach(e, events) {
    const char *m = lk_json_str(e, "message");

    if (m == NULL || !cJSON_IsNumber(cJSON_GetObjectItem(e, "timestamp")))
      return fail(c, "InvalidParameterException",
                  "each log event needs a timestamp and a message");
  }
  rec = rec_events(c->l, g->name, s->name, &evs);
  cJSON_ArrayForEach(e, events) {
    const char *m = lk_json_str(e, "message");

    append(c->l, s, num(e, "timestamp", 0), m, strlen(m));
    if (rec)
      add_event(evs, num(e, "timestamp", 0), m, strlen(m));
  }
  if (rec)
    record(c->l, rec, 1);
  /* The ring may have dropped old events; the new ones are at the end. */
  first = s->n > n ? s->n - n : 0;
  snprintf(token, sizeof(token), "%llu", (unsigned long long)s->next_seq);
  cJSON_AddStringToObject(c->out, "nextSequenceToken", token);
  deliver(c->l, g, s, first, c->trace);
  return 0;
}

static cJSON *event_json(const event_t *e, const char *stream) {
  cJSON *j = cJSON_CreateObject();

  if (stream) {
    char id[32];

    cJSON_AddStringToObject(j, "logStreamName", stream);
    event_id(e, id, sizeof(id));
    cJSON_AddStringToObject(j, "eventId", id);
  }
  cJSON_AddNumberToObject(j, "timestamp", (double)e->ts);
  cJSON_AddStringToObject(j, "message", e->msg);
  cJSON_AddNumberToObject(j, "ingestionTime", (double)e->ingested);
  return j;
}

static int in_window(const ctx_t *c, const event_t *e) {
  int64_t from = num(c->in, "startTime", INT64_MIN);
  int64_t to = num(c->in, "endTime", INT64_MAX);

  return e->ts >= from && e->ts <= to;
}

static int op_get_events(ctx_t *c) {
  group_t *g = need_group(c);
  stream_t *s = g ? need_stream(c, g) : NULL;
  const char *tok = lk_json_str(c->in, "nextToken");
  int64_t limit = num(c->in, "limit", PAGE_MAX);
  const cJSON *head = cJSON_GetObjectItemCaseSensitive(c->in, "startFromHead");
  int from_head = cJSON_IsTrue(head), pos, lo, hi, i;
  cJSON *list;
  char t[40];

  if (s == NULL)
    return -1;
  if (limit < 1 || limit > PAGE_MAX)
    limit = PAGE_MAX;
  /* Positions index the stream's events; a token is where to go on. */
  if (tok && (tok[0] == 'f' || tok[0] == 'b') && tok[1] == '/') {
    pos = (int)strtol(tok + 2, NULL, 10);
    from_head = tok[0] == 'f';
  } else {
    pos = from_head ? 0 : s->n;
  }
  if (pos < 0)
    pos = 0;
  if (pos > s->n)
    pos = s->n;
  if (from_head) {
    lo = pos;
    hi = lo + (int)limit > s->n ? s->n : lo + (int)limit;
  } else {
    hi = pos;
    lo = hi - (int)limit < 0 ? 0 : hi - (int)limit;
  }
  list = cJSON_AddArrayToObject(c->out, "events");
  for (i = lo; i < hi; i++) {
    const event_t *e = &s->ev[(s->start + i) % s->cap];

    if (in_window(c, e))
      cJSON_AddItemToArray(list, event_json(e, NULL));
  }
  snprintf(t, sizeof(t), "f/%d", hi);
  cJSON_AddStringToObject(c->out, "nextForwardToken", t);
  snprintf(t, sizeof(t), "b/%d", lo);
  cJSON_AddStringToObject(c->out, "nextBackwardToken", t);
  return 0;
}

static int wanted_stream(const cJSON *names, const char *prefix,
                         const char *s) {
  const cJSON *n;

  if (prefix && strncmp(s, prefix, strlen(prefix)) != 0)
    return 0;
  if (!cJSON_IsArray(names))
    return 1;
  cJSON_ArrayForEach(n, names) if (cJSON_IsString(n) &&
                                   strcmp(n->valuestring, s) == 0) return 1;
  return 0;
}

/* ---- FilterLogEvents: the group's streams merged by time, on a heap ---- */

typedef struct cursor {
  const stream_t *s;
  int at; /* the next event of s to merge */
} cursor_t;

static const event_t *cursor_event(const cursor_t *c) {
  return &c->s->ev[(c->s->start + c->at) % c->s->cap];
}

static int earlier(const cursor_t *a, const cursor_t *b) {
  const event_t *x = cursor_event(a), *y = cursor_event(b);

  return x->ts < y->ts || (x->ts == y->ts && x->seq < y->seq);
}

static void sift_down(cursor_t *h, int n, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    cursor_t t;

    if (l < n && earlier(&h[l], &h[m]))
      m = l;
    if (r < n && earlier(&h[r], &h[m]))
      m = r;
    if (m == i)
      return;
    t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

/* A heap of the wanted streams that have events; its size in *n. */
static cursor_t *merge_start(const ctx_t *c, const group_t *g, int *n) {
  const cJSON *names =
      cJSON_GetObjectItemCaseSensitive(c->in, "logStreamNames");
  const char *prefix = lk_json_str(c->in, "logStreamNamePrefix");
  cursor_t *h = lk_xcalloc((size_t)g->n + 1, sizeof(*h));
  int i;

  *n = 0;
  for (i = 0; i < g->n; i++)
    if (g->streams[i]->n && wanted_stream(names, prefix, g->streams[i]->name))
      h[(*n)++] = (cursor_t){g->streams[i], 0};
  for (i = *n / 2 - 1; i >= 0; i--)
    sift_down(h, *n, i);
  return h;
}

/* The next event in time order, and its stream; NULL when all are out. */
static const event_t *merge_next(cursor_t *h, int *n, const stream_t **s) {
  const event_t *e;

  if (*n == 0)
    return NULL;
  e = cursor_event(&h[0]);
  *s = h[0].s;
  if (++h[0].at >= h[0].s->n)
    h[0] = h[--*n];
  sift_down(h, *n, 0);
  return e;
}

/* Events of the group's streams in time order, filtered; the token is
 * the number already returned. */
static int op_filter_events(ctx_t *c) {
  group_t *g = need_group(c);
  const char *pattern = lk_json_str(c->in, "filterPattern");
  const char *tok = lk_json_str(c->in, "nextToken");
  int64_t limit = num(c->in, "limit", PAGE_MAX);
  int skip = tok ? (int)strtol(tok, NULL, 10) : 0, sent = 0, more = 0;
  int n, bad = 0;
  const stream_t *s;
  const event_t *e;
  cursor_t *heap;
  cJSON *list;

  if (g == NULL)
    return -1;
  lk_filter_match(pattern, "", 0, &bad);
  if (bad)
    return fail(c, "InvalidParameterException", "Invalid filter pattern");
  if (limit < 1 || limit > PAGE_MAX)
    limit = PAGE_MAX;
  heap = merge_start(c, g, &n);
  list = cJSON_AddArrayToObject(c->out, "events");
  while ((e = merge_next(heap, &n, &s)) != NULL) {
    if (!in_window(c, e) || !lk_filter_match(pattern, e->msg, e->len, NULL))
      continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    if (sent == limit) {
      more = 1;
      break;
    }
    cJSON_AddItemToArray(list, event_json(e, s->name));
    sent++;
  }
  free(heap);
  cJSON_AddArrayToObject(c->out, "searchedLogStreams");
  if (more) {
    char t[24];

    snprintf(t, sizeof(t), "%d", (tok ? (int)strtol(tok, NULL, 10) : 0) + sent);
    cJSON_AddStringToObject(c->out, "nextToken", t);
  }
  return 0;
}

static int op_describe_groups(ctx_t *c) {
  const char *prefix = lk_json_str(c->in, "logGroupNamePrefix");
  cJSON *list = cJSON_AddArrayToObject(c->out, "logGroups");
  int i;

  for (i = 0; i < c->l->n; i++) {
    group_t *g = c->l->groups[i];
    cJSON *j;

    if (prefix && strncmp(g->name, prefix, strlen(prefix)) != 0)
      continue;
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "logGroupName", g->name);
    cJSON_AddNumberToObject(j, "creationTime", (double)g->created);
    cJSON_AddNumberToObject(j, "metricFilterCount", 0);
    cJSON_AddStringToObject(j, "arn", g->arn);
    cJSON_AddNumberToObject(j, "storedBytes", 0);
    if (g->retention)
      cJSON_AddNumberToObject(j, "retentionInDays", g->retention);
    cJSON_AddItemToArray(list, j);
  }
  return 0;
}

static int op_describe_streams(ctx_t *c) {
  group_t *g = need_group(c);
  const char *prefix = lk_json_str(c->in, "logStreamNamePrefix");
  cJSON *list;
  int i;

  if (g == NULL)
    return -1;
  list = cJSON_AddArrayToObject(c->out, "logStreams");
  for (i = 0; i < g->n; i++) {
    stream_t *s = g->streams[i];
    cJSON *j;
    char arn[1200];

    if (prefix && strncmp(s->name, prefix, strlen(prefix)) != 0)
      continue;
    j = cJSON_CreateObject();
    snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s",
             c->l->region, c->l->account, g->name, s->name);
    cJSON_AddStringToObject(j, "logStreamName", s->name);
    cJSON_AddNumberToObject(j, "creationTime", (double)s->created);
    if (s->n) {
      cJSON_AddNumberToObject(j, "firstEventTimestamp",
                              (double)s->ev[s->start].ts);
      cJSON_AddNumberToObject(j, "lastEventTimestamp",
                              (double)s->ev[(s->start + s->n - 1) % s->cap].ts);
      cJSON_AddNumberToObject(
          j, "lastIngestionTime",
          (double)s->ev[(s->start + s->n - 1) % s->cap].ingested);
    }
    cJSON_AddStringToObject(j, "arn", arn);
    cJSON_AddNumberToObject(j, "storedBytes", 0);
    cJSON_AddItemToArray(list, j);
  }
  return 0;
}

static int op_put_subscription(ctx_t *c) {
  group_t *g = need_group(c);
  int err;

  if (g == NULL)
    return -1;
  err = lk_logs_subscribe(c->l, g->name, lk_json_str(c->in, "filterName"),
                          lk_json_str(c->in, "filterPattern"),
                          lk_json_str(c->in, "destinationArn"));
  if (err == LK_ENOSPC)
    return fail(c, "LimitExceededException",
                "Resource limit exceeded: two subscription filters per group");
  if (err)
    return fail(c, "InvalidParameterException",
                "filterName, filterPattern and destinationArn must be valid");
  if (c->l->rec_cb) {
    cJSON *r = rec_new("sub", g->name);

    cJSON_AddStringToObject(r, "name", lk_json_str(c->in, "filterName"));
    cJSON_AddStringToObject(r, "pattern",
                            lk_json_str(c->in, "filterPattern")
                                ? lk_json_str(c->in, "filterPattern")
                                : "");
    cJSON_AddStringToObject(r, "destination",
                            lk_json_str(c->in, "destinationArn"));
    record(c->l, r, 1);
  }
  return 0;
}

static int op_describe_subscriptions(ctx_t *c) {
  group_t *g = need_group(c);
  cJSON *list;
  int i;

  if (g == NULL)
    return -1;
  list = cJSON_AddArrayToObject(c->out, "subscriptionFilters");
  for (i = 0; i < g->n_subs; i++) {
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "filterName", g->subs[i].name);
    cJSON_AddStringToObject(j, "logGroupName", g->name);
    cJSON_AddStringToObject(j, "filterPattern", g->subs[i].pattern);
    cJSON_AddStringToObject(j, "destinationArn", g->subs[i].dest);
    cJSON_AddItemToArray(list, j);
  }
  return 0;
}

static int unsubscribe(group_t *g, const char *name) {
  int i;

  for (i = 0; name && i < g->n_subs; i++)
    if (strcmp(g->subs[i].name, name) == 0) {
      free(g->subs[i].name);
      free(g->subs[i].pattern);
      free(g->subs[i].dest);
      g->subs[i] = g->subs[--g->n_subs];
      return 0;
    }
  return LK_ENOENT;
}

static int op_delete_subscription(ctx_t *c) {
  group_t *g = need_group(c);
  const char *name = lk_json_str(c->in, "filterName");
  cJSON *r;

  if (g == NULL)
    return -1;
  if (unsubscribe(g, name) != 0)
    return fail(c, "ResourceNotFoundException",
                "The specified subscription filter does not exist.");
  r = rec_new("unsub", g->name);
  cJSON_AddStringToObject(r, "name", name);
  record(c->l, r, 1);
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} ops[] = {
    {"CreateLogGroup", op_create_group},
    {"CreateLogStream", op_create_stream},
    {"DeleteLogGroup", op_delete_group},
    {"PutLogEvents", op_put_events},
    {"GetLogEvents", op_get_events},
    {"FilterLogEvents", op_filter_events},
    {"DescribeLogGroups", op_describe_groups},
    {"DescribeLogStreams", op_describe_streams},
    {"PutSubscriptionFilter", op_put_subscription},
    {"DescribeSubscriptionFilters", op_describe_subscriptions},
    {"DeleteSubscriptionFilter", op_delete_subscription},
};

void lk_logs_serve(lk_logs_t *l, lk_http_req_t *req) {
  const char *target = lk_http_header(req, "X-Amz-Target");
  const char *op = target ? strchr(target, '.') : NULL;
  ctx_t c = {0};
  lk_buf_t b;
  char rid[37], *text = NULL;
  lk_http_header_t h[2];
  size_t i;

  lk_uuid(rid);
  c.l = l;
  c.trace = lk_http_header(req, "X-Amzn-Trace-Id");
  c.in = cJSON_ParseWithLength(req->body.len ? req->body.data : "{}",
                               req->body.len ? req->body.len : 2);
  c.out = cJSON_CreateObject();
  op = op ? op + 1 : "";
  if (!cJSON_IsObject(c.in) || req->body_too_large) {
    fail(&c, "SerializationException", "The request body is not JSON.");
  } else {
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
      if (strcmp(ops[i].name, op) == 0)
        break;
    if (i == sizeof(ops) / sizeof(ops[0]))
      fail(&c, "UnknownOperationException", "Unknown operation %.64s", op);
    else
      ops[i].fn(&c);
  }
  lk_buf_init(&b, 4096);
  if (c.err_type) {
    lk_buf_printf(&b, "{\"__type\":\"%s\",\"message\":", c.err_type);
    lk_buf_add_json_str(&b, c.err_msg, strlen(c.err_msg));
    lk_buf_adds(&b, "}");
  } else {
    text = cJSON_PrintUnformatted(c.out);
  }
  h[0] = (lk_http_header_t){"x-amzn-RequestId", rid};
  h[1] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.1"};
  if (text)
    lk_http_respond(req, 200, h, 2, text, strlen(text));
  else /* a bounded message: it fits */
    lk_http_respond(req, 400, h, 2, lk_buf_str(&b), b.len);
  free(text);
  lk_buf_free(&b);
  cJSON_Delete(c.in);
  cJSON_Delete(c.out);
}

/* ---- persistence (--state) ---- */

int lk_logs_save(lk_logs_t *l, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject();
  cJSON *gs = cJSON_AddArrayToObject(root, "groups");
  int i, k, e, err;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  for (i = 0; i < l->n; i++) {
    group_t *g = l->groups[i];
    cJSON *jg = cJSON_CreateObject(), *ss, *subs;

    cJSON_AddItemToArray(gs, jg);
    cJSON_AddStringToObject(jg, "name", g->name);
    cJSON_AddNumberToObject(jg, "created", (double)g->created);
    subs = cJSON_AddArrayToObject(jg, "subscriptions");
    for (k = 0; k < g->n_subs; k++) {
      cJSON *js = cJSON_CreateObject();

      cJSON_AddStringToObject(js, "name", g->subs[k].name);
      cJSON_AddStringToObject(js, "pattern", g->subs[k].pattern);
      cJSON_AddStringToObject(js, "destination", g->subs[k].dest);
      cJSON_AddItemToArray(subs, js);
    }
    ss = cJSON_AddArrayToObject(jg, "streams");
    for (k = 0; k < g->n; k++) {
      stream_t *s = g->streams[k];
      cJSON *jst = cJSON_CreateObject(), *evs;

      cJSON_AddItemToArray(ss, jst);
      cJSON_AddStringToObject(jst, "name", s->name);
      cJSON_AddNumberToObject(jst, "created", (double)s->created);
      evs = cJSON_AddArrayToObject(jst, "events");
      for (e = 0; e < s->n; e++) {
        const event_t *ev = &s->ev[(s->start + e) % s->cap];
        cJSON *je = cJSON_CreateObject();

        cJSON_AddNumberToObject(je, "timestamp", (double)ev->ts);
        cJSON_AddNumberToObject(je, "ingested", (double)ev->ingested);
        cJSON_AddStringToObject(je, "message", ev->msg);
        cJSON_AddItemToArray(evs, je);
      }
    }
  }
  err = lk_save_json(path, root);
  cJSON_Delete(root);
  return err;
}

/* The events of a snapshot's stream or a record into group/stream,
 * both made when missing. */
/* The stream sn of g, made when missing, with the creation time o
 * holds, and the events it lists. */
static void load_events(lk_logs_t *l, group_t *g, const char *sn,
                        const cJSON *o, const cJSON *events) {
  const cJSON *je;
  stream_t *s;

  create_stream(l, g, sn);
  s = find_stream(g, sn);
  if (s)
    s->created = num(o, "created", s->created);
  cJSON_ArrayForEach(je, events) {
    const char *m = lk_json_str(je, "message");
    event_t *ev;

    if (s == NULL || m == NULL)
      continue;
    ev = append(l, s, num(je, "timestamp", 0), m, strlen(m));
    ev->ingested = num(je, "ingested", ev->ingested);
  }
}

/* The group named by o's field, made when missing; NULL if unnamed. */
static group_t *group_of(lk_logs_t *l, const cJSON *o, const char *field) {
  const char *name = lk_json_str(o, field);

  if (name == NULL)
    return NULL;
  lk_logs_create_group(l, name);
  return find_group(l, name);
}

int lk_logs_load(lk_logs_t *l, const char *path, uint64_t *gen) {
  cJSON *root, *jg;
  int err = lk_load_json(path, &root);
  int64_t aof;

  if (err)
    return err;
  aof = num(root, "aof", 0);
  *gen = aof > 0 ? (uint64_t)aof : 0;
  cJSON_ArrayForEach(jg, cJSON_GetObjectItemCaseSensitive(root, "groups")) {
    group_t *g = group_of(l, jg, "name");
    const cJSON *js, *jst;

    if (g == NULL)
      continue;
    g->created = num(jg, "created", g->created);
    cJSON_ArrayForEach(js,
                       cJSON_GetObjectItemCaseSensitive(jg, "subscriptions"))
        lk_logs_subscribe(l, g->name, lk_json_str(js, "name"),
                          lk_json_str(js, "pattern"),
                          lk_json_str(js, "destination"));
    cJSON_ArrayForEach(jst, cJSON_GetObjectItemCaseSensitive(jg, "streams")) {
      if (lk_json_str(jst, "name"))
        load_events(l, g, lk_json_str(jst, "name"), jst,
                    cJSON_GetObjectItemCaseSensitive(jst, "events"));
    }
  }
  cJSON_Delete(root);
  return 0;
}

void lk_logs_on_record(lk_logs_t *l, lk_record_cb cb, void *ud) {
  l->rec_cb = cb;
  l->rec_ud = ud;
}

void lk_logs_apply(lk_logs_t *l, const cJSON *rec) {
  const char *op = lk_json_str(rec, "logs");
  group_t *g;

  if (op == NULL)
    return;
  if (strcmp(op, "rmgroup") == 0) {
    g = find_group(l, lk_json_str(rec, "group"));
    if (g)
      remove_group(l, g);
    return;
  }
  g = group_of(l, rec, "group");
  if (g == NULL)
    return;
  if (strcmp(op, "group") == 0) {
    g->created = num(rec, "created", g->created);
  } else if (strcmp(op, "stream") == 0 || strcmp(op, "events") == 0) {
    if (lk_json_str(rec, "stream"))
      load_events(l, g, lk_json_str(rec, "stream"), rec,
                  cJSON_GetObjectItemCaseSensitive(rec, "events"));
  } else if (strcmp(op, "sub") == 0) {
    lk_logs_subscribe(l, g->name, lk_json_str(rec, "name"),
                      lk_json_str(rec, "pattern"),
                      lk_json_str(rec, "destination"));
  } else if (strcmp(op, "unsub") == 0) {
    unsubscribe(g, lk_json_str(rec, "name"));
  }
}
