/* Emulated SQS (see sqs.h). Both protocols meet in one shape: a query-form
 * request is first rebuilt as the JSON 1.0 request it stands for, each
 * operation reads that and builds the JSON 1.0 result, and the query
 * protocol's XML is written from that result. So the semantics exist once.
 * Messages of a queue sit in one list in send order; visibility is a
 * deadline per message, checked when a receive walks the list. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "strmap.h"
#include "sqs.h"

#define QXMLNS "http://queue.amazonaws.com/doc/2012-11-05/"
#define TICK_MS 50
#define MAX_WAIT_S 20
#define MAX_BATCH 10

typedef struct mattr {
  char *name, *type;
  char *value; /* string, or the decoded bytes of a Binary */
  size_t len;
  int binary;
} mattr_t;

typedef struct msg {
  struct msg *prev, *next;
  char id[37];
  char *body;
  size_t len;
  char md5_body[33];
  mattr_t attrs[LK_SQS_MAX_ATTRS];
  int n_attrs;
  uint64_t sent_ms, first_recv_ms, visible_at_ms;
  int receive_count;
  char receipt[96];
  char *group;
  char *trace; /* the sender's X-Amzn-Trace-Id: SQS's AWSTraceHeader */
  unsigned long long seq;
} msg_t;

typedef struct queue {
  lk_sqs_t *sqs;
  char *name, *url, *arn;
  int fifo;
  int visibility_s, delay_s, wait_s, max_receive;
  char *dlq_arn;
  uint64_t created_ms, modified_ms;
  msg_t *head, *tail;
  int n;
  /* FIFO deduplication: ids seen in the last five minutes, indexed, and
   * in the order they came, for their expiry (a ring) */
  lk_strmap_t *dedup;
  char **dedup_ids;
  uint64_t *dedup_at;
  int dedup_head, n_dedup, dedup_cap;
} queue_t;

typedef struct waiter {
  struct waiter *next;
  lk_sqs_t *sqs;
  lk_http_req_t *req;
  cJSON *in;
  char *queue_name;
  int json;
  uint64_t deadline_ms;
  char rid[37];
} waiter_t;

struct lk_sqs {
  uv_loop_t *loop;
  queue_t **queues;
  int n;
  waiter_t *waiters;
  uv_timer_t *tick; /* its own allocation: it outlives a failed start */
  int ticking;
  int closing;
  size_t bytes; /* bodies and attributes of every queued message */
  unsigned long long seq;
  char region[32], account[16], endpoint[64];
  lk_sqs_send_cb cb;
  void *ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
};

/* An operation's outcome: a result object, or an error to render. */
/* ---- records of the state log ---- */

static void record(lk_sqs_t *s, cJSON *rec, int durable) {
  if (s->rec_cb)
    s->rec_cb(s->rec_ud, rec, durable);
  cJSON_Delete(rec);
}

static cJSON *rec_new(const char *op, const queue_t *q) {
  cJSON *r = cJSON_CreateObject();

  cJSON_AddStringToObject(r, "sqs", op);
  cJSON_AddStringToObject(r, "queue", q->name);
  return r;
}

static cJSON *queue_json(const queue_t *q);
static cJSON *msg_json(const msg_t *m);

static void record_queue(lk_sqs_t *s, const queue_t *q) {
  cJSON *r;

  if (s->rec_cb == NULL)
    return;
  r = rec_new("queue", q);
  cJSON_AddItemToObject(r, "def", queue_json(q));
  record(s, r, 1);
}

static void record_msg(lk_sqs_t *s, const queue_t *q, const msg_t *m) {
  cJSON *r;

  if (s->rec_cb == NULL)
    return;
  r = rec_new("msg", q);
  cJSON_AddItemToObject(r, "msg", msg_json(m));
  record(s, r, 1);
}

/* A change to one message by id: "del", "recv", or "move" to dest. */
static void record_id(lk_sqs_t *s, const char *op, const queue_t *q,
                      const msg_t *m, const char *dest, int durable) {
  cJSON *r;

  if (s->rec_cb == NULL)
    return;
  r = rec_new(op, q);
  cJSON_AddStringToObject(r, "id", m->id);
  if (dest)
    cJSON_AddStringToObject(r, "to", dest);
  record(s, r, durable);
}

typedef struct op_ctx {
  lk_sqs_t *sqs;
  const char *op;
  cJSON *in;
  cJSON *out;
  int status;
  const char *err_type; /* JSON 1.0 type, e.g. QueueDoesNotExist */
  const char *err_code; /* query protocol code */
  char err_msg[512];
  const char *trace;
  int internal; /* an event source mapping's: its deletes need no sync */
} op_ctx_t;

static uint64_t now_ms(void) {
  return lk_now_ms();
}

/* ---- store ---- */

static void msg_free(msg_t *m) {
  int i;

  for (i = 0; i < m->n_attrs; i++) {
    free(m->attrs[i].name);
    free(m->attrs[i].type);
    free(m->attrs[i].value);
  }
  free(m->body);
  free(m->group);
  free(m->trace);
  free(m);
}

/* What a message counts against LK_SQS_MAX_BODY and LK_SQS_MAX_BYTES:
 * its body and every attribute's name, type and value, as SQS counts. */
static size_t msg_size(const msg_t *m) {
  size_t n = m->len;
  int i;

  for (i = 0; i < m->n_attrs; i++)
    n += strlen(m->attrs[i].name) + strlen(m->attrs[i].type) + m->attrs[i].len;
  return n;
}

static void unlink_msg(queue_t *q, msg_t *m) {
  q->sqs->bytes -= msg_size(m);
  if (m->prev)
    m->prev->next = m->next;
  else
    q->head = m->next;
  if (m->next)
    m->next->prev = m->prev;
  else
    q->tail = m->prev;
  m->prev = m->next = NULL;
  q->n--;
}

static void append_msg(queue_t *q, msg_t *m) {
  q->sqs->bytes += msg_size(m);
  m->prev = q->tail;
  m->next = NULL;
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  q->n++;
}

static void queue_free(queue_t *q) {
  int i;

  while (q->head) {
    msg_t *m = q->head;

    unlink_msg(q, m);
    msg_free(m);
  }
  for (i = 0; i < q->n_dedup; i++)
    free(q->dedup_ids[(q->dedup_head + i) % q->dedup_cap]);
  free(q->dedup_ids);
  free(q->dedup_at);
  lk_strmap_free(q->dedup);
  free(q->name);
  free(q->url);
  free(q->arn);
  free(q->dlq_arn);
  free(q);
}

lk_sqs_t *lk_sqs_new(uv_loop_t *loop, const char *region, const char *account,
                     const char *endpoint) {
  lk_sqs_t *s = lk_xcalloc(1, sizeof(*s));

  s->loop = loop;
  snprintf(s->region, sizeof(s->region), "%s", region);
  snprintf(s->account, sizeof(s->account), "%s", account);
  snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
  s->tick = lk_xmalloc(sizeof(*s->tick));
  uv_timer_init(loop, s->tick);
  s->tick->data = s;
  return s;
}

void lk_sqs_on_send(lk_sqs_t *sqs, lk_sqs_send_cb cb, void *ud) {
  sqs->cb = cb;
  sqs->ud = ud;
}

/* A queue named by its name, URL or ARN: the last segment is the name. */
static queue_t *find_queue(lk_sqs_t *s, const char *ref) {
  const char *name;
  int i;

  if (ref == NULL)
    return NULL;
  name = strrchr(ref, '/');
  if (name == NULL)
    name = strrchr(ref, ':');
  name = name ? name + 1 : ref;
  for (i = 0; i < s->n; i++)
    if (strcmp(s->queues[i]->name, name) == 0)
      return s->queues[i];
  return NULL;
}

static int valid_queue_name(const char *n) {
  size_t len = strlen(n), i, base = len;

  if (len > 5 && strcmp(n + len - 5, ".fifo") == 0)
    base = len - 5;
  if (len == 0 || len > 80)
    return 0;
  for (i = 0; i < base; i++)
    if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
          (n[i] >= '0' && n[i] <= '9') || n[i] == '-' || n[i] == '_'))
      return 0;
  return 1;
}

int lk_sqs_create_queue(lk_sqs_t *s, const lk_sqs_queue_def_t *def) {
  queue_t *q;

  if (!valid_queue_name(def->name))
    return LK_EINVAL;
  if (find_queue(s, def->name))
    return LK_EEXIST;
  if (s->n >= LK_SQS_MAX_QUEUES)
    return LK_ENOSPC;
  s->queues = lk_xrealloc(s->queues, sizeof(q) * (size_t)(s->n + 1));
  q = lk_xcalloc(1, sizeof(*q));
  q->sqs = s;
  q->name = lk_xstrdup(def->name);
  q->url = lk_xasprintf("%s/%s/%s", s->endpoint, s->account, def->name);
  q->arn =
      lk_xasprintf("arn:aws:sqs:%s:%s:%s", s->region, s->account, def->name);
  q->dlq_arn = def->dlq_arn ? lk_xstrdup(def->dlq_arn) : NULL;
  q->fifo = def->fifo || strstr(def->name, ".fifo") != NULL;
  q->visibility_s =
      def->visibility_timeout_s > 0 ? def->visibility_timeout_s : 30;
  q->delay_s = def->delay_s;
  q->max_receive = def->max_receive_count;
  q->created_ms = q->modified_ms = now_ms();
  s->queues[s->n++] = q;
  return 0;
}

/* ---- message attributes and their MD5, as the SDKs verify it ---- */

static int put_u32(lk_buf_t *b, size_t v) {
  unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};

  return lk_buf_add(b, x, 4);
}

static int cmp_attr(const void *a, const void *b) {
  return strcmp(((const mattr_t *)a)->name, ((const mattr_t *)b)->name);
}

/* Name, type, transport byte (1 string, 2 binary) and value, each
 * length-prefixed, over the attributes sorted by name. */
static void attrs_md5(const mattr_t *attrs, int n, char out[33]) {
  mattr_t sorted[LK_SQS_MAX_ATTRS];
  lk_buf_t b;
  int i;

  memcpy(sorted, attrs, sizeof(*attrs) * (size_t)n);
  qsort(sorted, (size_t)n, sizeof(*sorted), cmp_attr);
  lk_buf_init(&b, 4 * LK_SQS_MAX_BODY);
  for (i = 0; i < n; i++) {
    unsigned char t = sorted[i].binary ? 2 : 1;

    put_u32(&b, strlen(sorted[i].name));
    lk_buf_adds(&b, sorted[i].name);
    put_u32(&b, strlen(sorted[i].type));
    lk_buf_adds(&b, sorted[i].type);
    lk_buf_add(&b, &t, 1);
    put_u32(&b, sorted[i].len);
    lk_buf_add(&b, sorted[i].value, sorted[i].len);
  }
  lk_md5_hex(lk_buf_str(&b), b.len, out);
  lk_buf_free(&b);
}

/* ---- request helpers ---- */

/* A number given as a JSON number or (query protocol) a string; def when
 * absent; -1 when present but not a whole number. */
static long in_int(const cJSON *in, const char *key, long def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
  char *end;
  long n;

  if (v == NULL)
    return def;
  if (cJSON_IsNumber(v))
    return v->valuedouble >= 0 && v->valuedouble < 1e9 ? (long)v->valuedouble
                                                       : -1;
  if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
    return -1;
  n = strtol(v->valuestring, &end, 10);
  return *end || n < 0 || n > 1000000000L ? -1 : n;
}

static int fail(op_ctx_t *c, const char *type, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(op_ctx_t *c, const char *type, const char *code,
                const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
  va_end(ap);
  c->status = 400;
  c->err_type = type;
  c->err_code = code;
  return -1;
}

static int bad_value(op_ctx_t *c, const char *what) {
  return fail(c, "InvalidParameterValue", "InvalidParameterValue",
              "Value for parameter %s is invalid.", what);
}

static queue_t *need_queue(op_ctx_t *c) {
  const char *url = lk_json_str(c->in, "QueueUrl");
  queue_t *q;

  if (url == NULL) {
    fail(c, "MissingParameter", "MissingParameter",
         "The request must contain the parameter QueueUrl.");
    return NULL;
  }
  q = find_queue(c->sqs, url);
  if (q == NULL)
    fail(c, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
         "The specified queue does not exist.");
  return q;
}

/* ---- operations ---- */

static int apply_attributes(op_ctx_t *c, queue_t *q, const cJSON *attrs) {
  const cJSON *a;

  cJSON_ArrayForEach(a, attrs) {
    const char *v = cJSON_IsString(a) ? a->valuestring : NULL;
    long n = v ? strtol(v, NULL, 10) : -1;

    if (v == NULL)
      return bad_value(c, a->string);
    if (strcmp(a->string, "VisibilityTimeout") == 0) {
      if (n < 0 || n > 43200)
        return bad_value(c, "VisibilityTimeout");
      q->visibility_s = (int)n;
    } else if (strcmp(a->string, "DelaySeconds") == 0) {
      if (n < 0 || n > 900)
        return bad_value(c, "DelaySeconds");
      q->delay_s = (int)n;
    } else if (strcmp(a->string, "ReceiveMessageWaitTimeSeconds") == 0) {
      if (n < 0 || n > MAX_WAIT_S)
        return bad_value(c, "ReceiveMessageWaitTimeSeconds");
      q->wait_s = (int)n;
    } else if (strcmp(a->string, "RedrivePolicy") == 0) {
      cJSON *rp = cJSON_Parse(v);
      const char *arn = lk_json_str(rp, "deadLetterTargetArn");
      long max = in_int(rp, "maxReceiveCount", -1);

      if (v[0] == '\0') { /* an empty policy removes it */
        free(q->dlq_arn);
        q->dlq_arn = NULL;
        q->max_receive = 0;
      } else if (arn == NULL || max < 1 || max > 1000) {
        cJSON_Delete(rp);
        return bad_value(c, "RedrivePolicy");
      } else {
        free(q->dlq_arn);
        q->dlq_arn = lk_xstrdup(arn);
        q->max_receive = (int)max;
      }
      cJSON_Delete(rp);
    }
    /* Other attributes (retention, KMS, policy) are accepted and have no
     * local effect. */
  }
  q->modified_ms = now_ms();
  return 0;
}

static int op_create_queue(op_ctx_t *c) {
  const char *name = lk_json_str(c->in, "QueueName");
  const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(c->in, "Attributes");
  const char *fifo = lk_json_str(attrs, "FifoQueue");
  lk_sqs_queue_def_t def = {0};
  queue_t *q;
  int err;

  if (name == NULL)
    return fail(c, "MissingParameter", "MissingParameter",
                "The request must contain the parameter QueueName.");
  q = find_queue(c->sqs, name);
  if (q == NULL) {
    def.name = name;
    def.fifo = fifo && strcmp(fifo, "true") == 0;
    if (def.fifo !=
        (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".fifo") == 0))
      return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                  "The name of a FIFO queue can only include alphanumeric "
                  "characters, hyphens, or underscores, must end with .fifo "
                  "suffix.");
    err = lk_sqs_create_queue(c->sqs, &def);
    if (err == LK_EINVAL)
      return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                  "Can only include alphanumeric characters, hyphens, or "
                  "underscores. 1 to 80 in length");
    if (err)
      return fail(c, "OverLimit", "OverLimit", "%s", lk_strerror(err));
    q = find_queue(c->sqs, name);
    if (apply_attributes(c, q, attrs))
      return -1;
    record_queue(c->sqs, q);
  }
  cJSON_AddStringToObject(c->out, "QueueUrl", q->url);
  return 0;
}

static int op_get_queue_url(op_ctx_t *c) {
  queue_t *q = find_queue(c->sqs, lk_json_str(c->in, "QueueName"));

  if (q == NULL)
    return fail(c, "QueueDoesNotExist",
                "AWS.SimpleQueueService.NonExistentQueue",
                "The specified queue does not exist.");
  cJSON_AddStringToObject(c->out, "QueueUrl", q->url);
  return 0;
}

static int op_list_queues(op_ctx_t *c) {
  const char *prefix = lk_json_str(c->in, "QueueNamePrefix");
  cJSON *urls = cJSON_AddArrayToObject(c->out, "QueueUrls");
  int i;

  for (i = 0; i < c->sqs->n; i++)
    if (prefix == NULL ||
        strncmp(c->sqs->queues[i]->name, prefix, strlen(prefix)) == 0)
      cJSON_AddItemToArray(urls, cJSON_CreateString(c->sqs->queues[i]->url));
  return 0;
}

static void drop_waiters_of(lk_sqs_t *s, queue_t *q);

static void remove_queue(lk_sqs_t *s, queue_t *q) {
  int i;

  drop_waiters_of(s, q);
  for (i = 0; i < s->n; i++)
    if (s->queues[i] == q) {
      memmove(&s->queues[i], &s->queues[i + 1],
              sizeof(q) * (size_t)(s->n - i - 1));
      s->n--;
      break;
    }
  queue_free(q);
}

static int op_delete_queue(op_ctx_t *c) {
  queue_t *q = need_queue(c);

  if (q == NULL)
    return -1;
  record(c->sqs, rec_new("rmqueue", q), 1);
  remove_queue(c->sqs, q);
  return 0;
}

static void purge(queue_t *q) {
  while (q->head) {
    msg_t *m = q->head;

    unlink_msg(q, m);
    msg_free(m);
  }
}

static int op_purge_queue(op_ctx_t *c) {
  queue_t *q = need_queue(c);

  if (q == NULL)
    return -1;
  record(c->sqs, rec_new("purge", q), 1);
  purge(q);
  return 0;
}

/* Reads MessageAttributes {name: {DataType, StringValue|BinaryValue}}. */
static int read_attrs(op_ctx_t *c, const cJSON *ma, msg_t *m) {
  const cJSON *a;

  cJSON_ArrayForEach(a, ma) {
    const char *type = lk_json_str(a, "DataType");
    const char *sv = lk_json_str(a, "StringValue");
    const char *bv = lk_json_str(a, "BinaryValue");
    mattr_t *t;
    lk_buf_t dec;

    if (m->n_attrs == LK_SQS_MAX_ATTRS)
      return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                  "Number of message attributes [%d] exceeds the allowed "
                  "maximum [%d].",
                  cJSON_GetArraySize(ma), LK_SQS_MAX_ATTRS);
    if (type == NULL || (sv == NULL && bv == NULL) || a->string == NULL ||
        a->string[0] == '\0' || strlen(a->string) > 256)
      return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                  "The message attribute '%.64s' must contain non-empty "
                  "message attribute value and type.",
                  a->string ? a->string : "");
    t = &m->attrs[m->n_attrs];
    lk_buf_init(&dec, LK_SQS_MAX_BODY);
    if (strncmp(type, "Binary", 6) == 0) {
      if (bv == NULL || lk_b64_decode(&dec, bv, strlen(bv))) {
        lk_buf_free(&dec);
        return bad_value(c, "MessageAttribute.BinaryValue");
      }
      t->binary = 1;
    } else if (strncmp(type, "String", 6) == 0 ||
               strncmp(type, "Number", 6) == 0) {
      if (sv == NULL || lk_buf_adds(&dec, sv)) {
        lk_buf_free(&dec);
        return bad_value(c, "MessageAttribute.StringValue");
      }
    } else {
      lk_buf_free(&dec);
      return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                  "The type of message attribute '%.64s' is invalid.",
                  a->string);
    }
    t->len = dec.len;
    t->value = lk_buf_steal(&dec, NULL);
    t->name = lk_xstrdup(a->string);
    t->type = lk_xstrdup(type);
    m->n_attrs++;
  }
  return 0;
}

#define DEDUP_WINDOW_MS (5 * 60 * 1000)

/* The oldest id leaves the window (or makes room at the ceiling). */
static void dedup_pop(queue_t *q) {
  char *id = q->dedup_ids[q->dedup_head];

  lk_strmap_del(q->dedup, id);
  free(id);
  q->dedup_head = (q->dedup_head + 1) % q->dedup_cap;
  q->n_dedup--;
}

static int dedup_seen(queue_t *q, const char *id, uint64_t now) {
  while (q->n_dedup &&
         now - q->dedup_at[q->dedup_head] > (uint64_t)DEDUP_WINDOW_MS)
    dedup_pop(q);
  return q->dedup && lk_strmap_get(q->dedup, id, NULL);
}

/* The ring grows by doubling up to LK_SQS_MAX_DEDUP, laid out anew from
 * its head. */
static void dedup_grow(queue_t *q) {
  int cap = q->dedup_cap ? q->dedup_cap * 2 : 64, i;
  char **ids;
  uint64_t *at;

  if (cap > LK_SQS_MAX_DEDUP)
    cap = LK_SQS_MAX_DEDUP;
  ids = lk_xmalloc(sizeof(*ids) * (size_t)cap);
  at = lk_xmalloc(sizeof(*at) * (size_t)cap);
  for (i = 0; i < q->n_dedup; i++) {
    ids[i] = q->dedup_ids[(q->dedup_head + i) % q->dedup_cap];
    at[i] = q->dedup_at[(q->dedup_head + i) % q->dedup_cap];
  }
  free(q->dedup_ids);
  free(q->dedup_at);
  q->dedup_ids = ids;
  q->dedup_at = at;
  q->dedup_cap = cap;
  q->dedup_head = 0;
}

static void dedup_add(queue_t *q, const char *id, uint64_t now) {
  if (q->dedup == NULL)
    q->dedup = lk_strmap_new();
  if (q->n_dedup == q->dedup_cap && q->dedup_cap < LK_SQS_MAX_DEDUP)
    dedup_grow(q);
  if (q->n_dedup == q->dedup_cap)
    dedup_pop(q); /* at the ceiling: the oldest id goes early */
  q->dedup_ids[(q->dedup_head + q->n_dedup) % q->dedup_cap] = lk_xstrdup(id);
  q->dedup_at[(q->dedup_head + q->n_dedup) % q->dedup_cap] = now;
  q->n_dedup++;
  lk_strmap_put(q->dedup, id, now);
}

static void serve_waiters(lk_sqs_t *s);

/* A new message from an entry's body and attributes, held to SQS's size
 * limit and lambkin's byte budget; NULL once the error is set. */
static msg_t *msg_from_entry(op_ctx_t *c, queue_t *q, const cJSON *e) {
  const char *body = lk_json_str(e, "MessageBody");
  const char *group = lk_json_str(e, "MessageGroupId");
  msg_t *m;

  if (body == NULL || body[0] == '\0') {
    fail(c, "MissingParameter", "MissingParameter",
         "The request must contain the parameter MessageBody.");
    return NULL;
  }
  if (q->fifo && group == NULL) {
    fail(c, "MissingParameter", "MissingParameter",
         "The request must contain the parameter MessageGroupId.");
    return NULL;
  }
  m = lk_xcalloc(1, sizeof(*m));
  lk_uuid(m->id);
  m->len = strlen(body);
  m->body = lk_xstrdup(body);
  m->group = group ? lk_xstrdup(group) : NULL;
  m->trace = c->trace ? lk_xstrdup(c->trace) : NULL;
  lk_md5_hex(body, m->len, m->md5_body);
  if (read_attrs(c, cJSON_GetObjectItemCaseSensitive(e, "MessageAttributes"),
                 m) == 0) {
    if (msg_size(m) > LK_SQS_MAX_BODY)
      fail(c, "InvalidParameterValue", "InvalidParameterValue",
           "One or more parameters are invalid. Reason: Message must be "
           "shorter than %d bytes.",
           LK_SQS_MAX_BODY);
    else if (q->sqs->bytes + msg_size(m) > LK_SQS_MAX_BYTES)
      fail(c, "OverLimit", "OverLimit",
           "lambkin holds at most %zu MB of messages in all queues",
           LK_SQS_MAX_BYTES >> 20);
    else
      return m;
  }
  msg_free(m);
  return NULL;
}

/* One message into q from an entry (SendMessage's request or a batch
 * entry): res gets its MessageId and digests. */
static int send_one(op_ctx_t *c, queue_t *q, const cJSON *e, cJSON *res) {
  long delay = in_int(e, "DelaySeconds", q->delay_s);
  const char *dedup = lk_json_str(e, "MessageDeduplicationId");
  char dd[33];
  uint64_t now = now_ms();
  msg_t *m;

  if (delay < 0 || delay > 900)
    return bad_value(c, "DelaySeconds");
  if (q->n >= LK_SQS_MAX_MESSAGES)
    return fail(c, "OverLimit", "OverLimit",
                "lambkin holds at most %d messages per queue",
                LK_SQS_MAX_MESSAGES);
  m = msg_from_entry(c, q, e);
  if (m == NULL)
    return -1;
  cJSON_AddStringToObject(res, "MD5OfMessageBody", m->md5_body);
  if (m->n_attrs) {
    char md5[33];

    attrs_md5(m->attrs, m->n_attrs, md5);
    cJSON_AddStringToObject(res, "MD5OfMessageAttributes", md5);
  }
  if (q->fifo) {
    if (dedup == NULL) { /* content-based */
      lk_md5_hex(m->body, m->len, dd);
      dedup = dd;
    }
    if (dedup_seen(q, dedup, now)) { /* accepted, not enqueued again */
      cJSON_AddStringToObject(res, "MessageId", m->id);
      msg_free(m);
      return 0;
    }
    dedup_add(q, dedup, now);
    delay = 0; /* per-message delay does not apply to FIFO */
  }
  m->seq = ++c->sqs->seq;
  m->sent_ms = now;
  m->visible_at_ms = now + (uint64_t)delay * 1000;
  append_msg(q, m);
  record_msg(c->sqs, q, m);
  cJSON_AddStringToObject(res, "MessageId", m->id);
  if (q->fifo) {
    char seq[24];

    snprintf(seq, sizeof(seq), "%020llu", m->seq);
    cJSON_AddStringToObject(res, "SequenceNumber", seq);
  }
  if (c->sqs->cb)
    c->sqs->cb(c->sqs->ud, q->arn, c->trace);
  return 0;
}

static int op_send_message(op_ctx_t *c) {
  queue_t *q = need_queue(c);

  if (q == NULL || send_one(c, q, c->in, c->out))
    return -1;
  serve_waiters(c->sqs);
  return 0;
}

static cJSON *batch_entries(op_ctx_t *c) {
  cJSON *e = cJSON_GetObjectItemCaseSensitive(c->in, "Entries");
  int n = cJSON_GetArraySize(e);

  if (n == 0) {
    fail(c, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
         "There should be at least one entry in the request.");
    return NULL;
  }
  if (n > MAX_BATCH) {
    fail(c, "TooManyEntriesInBatchRequest",
         "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
         "Maximum number of entries per request are %d. You have sent %d.",
         MAX_BATCH, n);
    return NULL;
  }
  return e;
}

static void batch_failed(cJSON *failed, const char *id, op_ctx_t *c) {
  cJSON *f = cJSON_CreateObject();

  cJSON_AddStringToObject(f, "Id", id ? id : "");
  cJSON_AddBoolToObject(f, "SenderFault", 1);
  cJSON_AddStringToObject(f, "Code", c->err_type);
  cJSON_AddStringToObject(f, "Message", c->err_msg);
  cJSON_AddItemToArray(failed, f);
  c->status = 0;
  c->err_type = c->err_code = NULL;
}

typedef int (*entry_fn)(op_ctx_t *c, queue_t *q, const cJSON *e, cJSON *res);

/* Runs one entry function per batch entry: each lands in Successful (with
 * its Id and whatever the function added) or in Failed, never both. */
static int run_batch(op_ctx_t *c, entry_fn one) {
  queue_t *q = need_queue(c);
  cJSON *entries, *e, *ok, *failed;

  if (q == NULL || (entries = batch_entries(c)) == NULL)
    return -1;
  ok = cJSON_AddArrayToObject(c->out, "Successful");
  failed = cJSON_AddArrayToObject(c->out, "Failed");
  cJSON_ArrayForEach(e, entries) {
    cJSON *res = cJSON_CreateObject();

    cJSON_AddStringToObject(res, "Id",
                            lk_json_str(e, "Id") ? lk_json_str(e, "Id") : "");
    if (one(c, q, e, res)) {
      cJSON_Delete(res);
      batch_failed(failed, lk_json_str(e, "Id"), c);
    } else {
      cJSON_AddItemToArray(ok, res);
    }
  }
  serve_waiters(c->sqs);
  return 0;
}

static int op_send_message_batch(op_ctx_t *c) {
  return run_batch(c, send_one);
}

static int wants(const cJSON *names, const char *name) {
  const cJSON *n;

  cJSON_ArrayForEach(n, names) {
    const char *s = cJSON_IsString(n) ? n->valuestring : "";
    size_t l = strlen(s);

    if (strcmp(s, "All") == 0 || strcmp(s, ".*") == 0 || strcmp(s, name) == 0 ||
        (l > 2 && strcmp(s + l - 2, ".*") == 0 && strncmp(s, name, l - 2) == 0))
      return 1;
  }
  return 0;
}

static void add_received(op_ctx_t *c, cJSON *list, msg_t *m) {
  cJSON *j = cJSON_CreateObject(), *attrs;
  const cJSON *names =
      cJSON_GetObjectItemCaseSensitive(c->in, "AttributeNames");
  const cJSON *sys =
      cJSON_GetObjectItemCaseSensitive(c->in, "MessageSystemAttributeNames");
  const cJSON *man =
      cJSON_GetObjectItemCaseSensitive(c->in, "MessageAttributeNames");
  char num[32];
  mattr_t picked[LK_SQS_MAX_ATTRS];
  int i, n = 0;

  cJSON_AddStringToObject(j, "MessageId", m->id);
  cJSON_AddStringToObject(j, "ReceiptHandle", m->receipt);
  cJSON_AddStringToObject(j, "MD5OfBody", m->md5_body);
  cJSON_AddStringToObject(j, "Body", m->body);
  attrs = cJSON_CreateObject();
#define SYS_ATTR(name, fmt, val)                                               \
  if (wants(names, name) || wants(sys, name)) {                                \
    snprintf(num, sizeof(num), fmt, val);                                      \
    cJSON_AddStringToObject(attrs, name, num);                                 \
  }
  SYS_ATTR("SenderId", "%s", "AIDAIENQZJOLO23YVJ4VO")
  SYS_ATTR("SentTimestamp", "%llu", (unsigned long long)m->sent_ms)
  SYS_ATTR("ApproximateReceiveCount", "%d", m->receive_count)
  SYS_ATTR("ApproximateFirstReceiveTimestamp", "%llu",
           (unsigned long long)m->first_recv_ms)
#undef SYS_ATTR
  if (m->group &&
      (wants(names, "MessageGroupId") || wants(sys, "MessageGroupId")))
    cJSON_AddStringToObject(attrs, "MessageGroupId", m->group);
  if (m->trace &&
      (wants(names, "AWSTraceHeader") || wants(sys, "AWSTraceHeader")))
    cJSON_AddStringToObject(attrs, "AWSTraceHeader", m->trace);
  if (cJSON_GetArraySize(attrs))
    cJSON_AddItemToObject(j, "Attributes", attrs);
  else
    cJSON_Delete(attrs);
  for (i = 0; i < m->n_attrs; i++)
    if (wants(man, m->attrs[i].name))
      picked[n++] = m->attrs[i];
  if (n) {
    cJSON *ma = cJSON_AddObjectToObject(j, "MessageAttributes");
    char md5[33];

    for (i = 0; i < n; i++) {
      cJSON *v = cJSON_AddObjectToObject(ma, picked[i].name);

      if (picked[i].binary) {
        lk_buf_t b;

        lk_buf_init(&b, 2 * LK_SQS_MAX_BODY);
        lk_b64_encode(&b, picked[i].value, picked[i].len);
        cJSON_AddStringToObject(v, "BinaryValue", lk_buf_str(&b));
        lk_buf_free(&b);
      } else {
        cJSON_AddStringToObject(v, "StringValue", picked[i].value);
      }
      cJSON_AddStringToObject(v, "DataType", picked[i].type);
    }
    attrs_md5(picked, n, md5);
    cJSON_AddStringToObject(j, "MD5OfMessageAttributes", md5);
  }
  cJSON_AddItemToArray(list, j);
}

static int group_in_flight(queue_t *q, const char *group, uint64_t now) {
  msg_t *m;

  for (m = q->head; m; m = m->next)
    if (m->group && strcmp(m->group, group) == 0 && m->receive_count &&
        m->visible_at_ms > now)
      return 1;
  return 0;
}

/* Takes up to max visible messages (moving those past maxReceiveCount to
 * the dead-letter queue); returns how many were taken. */
static int take(op_ctx_t *c, queue_t *q, cJSON *list) {
  long max = in_int(c->in, "MaxNumberOfMessages", 1);
  long vis = in_int(c->in, "VisibilityTimeout", q->visibility_s);
  uint64_t now = now_ms();
  msg_t *m, *next;
  const char *mine[10]; /* FIFO groups this receive has taken from */
  int got = 0, n_mine = 0, i, own;

  for (m = q->head; m && got < max; m = next) {
    next = m->next;
    if (m->visible_at_ms > now)
      continue;
    /* A FIFO group is blocked while another receive holds one of its
     * messages; this receive may take several of a group, in order. */
    for (own = 0, i = 0; m->group && i < n_mine; i++)
      own |= strcmp(mine[i], m->group) == 0;
    if (q->fifo && m->group && !own && group_in_flight(q, m->group, now))
      continue;
    if (q->dlq_arn && q->max_receive > 0 &&
        m->receive_count >= q->max_receive) {
      queue_t *dlq = find_queue(c->sqs, q->dlq_arn);

      if (dlq && dlq != q) {
        record_id(c->sqs, "move", q, m, dlq->name, 0);
        unlink_msg(q, m);
        m->visible_at_ms = now;
        append_msg(dlq, m);
        continue;
      }
    }
    record_id(c->sqs, "recv", q, m, NULL, 0);
    m->receive_count++;
    if (m->first_recv_ms == 0)
      m->first_recv_ms = now;
    m->visible_at_ms = now + (uint64_t)vis * 1000;
    snprintf(m->receipt, sizeof(m->receipt), "%s#%llu", m->id, ++c->sqs->seq);
    if (m->group && !own && n_mine < 10)
      mine[n_mine++] = m->group;
    add_received(c, list, m);
    got++;
  }
  return got;
}

static int check_receive(op_ctx_t *c, queue_t *q, long *wait) {
  long max = in_int(c->in, "MaxNumberOfMessages", 1);
  long vis = in_int(c->in, "VisibilityTimeout", q->visibility_s);

  *wait = in_int(c->in, "WaitTimeSeconds", q->wait_s);
  if (max < 1 || max > 10)
    return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                "Value %ld for parameter MaxNumberOfMessages is invalid. "
                "Reason: Must be between 1 and 10, if provided.",
                max);
  if (vis < 0 || vis > 43200)
    return bad_value(c, "VisibilityTimeout");
  if (*wait < 0 || *wait > MAX_WAIT_S)
    return fail(c, "InvalidParameterValue", "InvalidParameterValue",
                "Value %ld for parameter WaitTimeSeconds is invalid. "
                "Reason: Must be >= 0 and <= 20, if provided.",
                *wait);
  return 0;
}

static msg_t *by_receipt(queue_t *q, const char *handle) {
  msg_t *m;
  size_t idl;
  const char *hash = strchr(handle, '#');

  for (m = q->head; m; m = m->next)
    if (strcmp(m->receipt, handle) == 0)
      return m;
  /* An older handle of a message still there also names it, as in SQS. */
  idl = hash ? (size_t)(hash - handle) : 0;
  for (m = q->head; m && idl == 36; m = m->next)
    if (strncmp(m->id, handle, 36) == 0)
      return m;
  return NULL;
}

static int well_formed_receipt(const char *h) {
  const char *hash = h ? strchr(h, '#') : NULL;

  return hash && hash - h == 36 && hash[1] != '\0';
}

static int delete_one(op_ctx_t *c, queue_t *q, const char *handle) {
  msg_t *m;

  if (!well_formed_receipt(handle))
    return fail(c, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
                "The input receipt handle \"%.100s\" is not a valid receipt "
                "handle.",
                handle ? handle : "");
  m = by_receipt(q, handle);
  if (m) {
    record_id(c->sqs, "del", q, m, NULL, !c->internal);
    unlink_msg(q, m);
    msg_free(m);
  }
  return 0; /* deleting what is gone is not an error */
}

static int op_delete_message(op_ctx_t *c) {
  queue_t *q = need_queue(c);

  return q ? delete_one(c, q, lk_json_str(c->in, "ReceiptHandle")) : -1;
}

static int delete_entry(op_ctx_t *c, queue_t *q, const cJSON *e, cJSON *res) {
  (void)res;
  return delete_one(c, q, lk_json_str(e, "ReceiptHandle"));
}

static int op_delete_message_batch(op_ctx_t *c) {
  return run_batch(c, delete_entry);
}

static int change_one(op_ctx_t *c, queue_t *q, const cJSON *e) {
  const char *handle = lk_json_str(e, "ReceiptHandle");
  long t = in_int(e, "VisibilityTimeout", -1);
  uint64_t now = now_ms();
  msg_t *m;

  if (t < 0 || t > 43200)
    return bad_value(c, "VisibilityTimeout");
  if (!well_formed_receipt(handle))
    return fail(c, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
                "The input receipt handle is not a valid receipt handle.");
  m = by_receipt(q, handle);
  if (m == NULL || m->visible_at_ms <= now || m->receive_count == 0)
    return fail(c, "MessageNotInflight",
                "AWS.SimpleQueueService.MessageNotInflight",
                "Message does not exist or is not available for visibility "
                "timeout change.");
  m->visible_at_ms = now + (uint64_t)t * 1000;
  return 0;
}

static int op_change_visibility(op_ctx_t *c) {
  queue_t *q = need_queue(c);

  if (q == NULL || change_one(c, q, c->in))
    return -1;
  serve_waiters(c->sqs);
  return 0;
}

static int change_entry(op_ctx_t *c, queue_t *q, const cJSON *e, cJSON *res) {
  (void)res;
  return change_one(c, q, e);
}

static int op_change_visibility_batch(op_ctx_t *c) {
  return run_batch(c, change_entry);
}

static void count(queue_t *q, int *visible, int *in_flight, int *delayed) {
  uint64_t now = now_ms();
  msg_t *m;

  *visible = *in_flight = *delayed = 0;
  for (m = q->head; m; m = m->next) {
    if (m->visible_at_ms <= now)
      (*visible)++;
    else if (m->receive_count)
      (*in_flight)++;
    else
      (*delayed)++;
  }
}

int lk_sqs_counts(lk_sqs_t *sqs, const char *queue, int *visible,
                  int *in_flight, int *delayed) {
  queue_t *q = find_queue(sqs, queue);

  if (q == NULL)
    return LK_ENOENT;
  count(q, visible, in_flight, delayed);
  return 0;
}

static int op_get_attributes(op_ctx_t *c) {
  queue_t *q = need_queue(c);
  const cJSON *names =
      cJSON_GetObjectItemCaseSensitive(c->in, "AttributeNames");
  cJSON *a;
  char v[64];
  int vis, inf, del;

  if (q == NULL)
    return -1;
  count(q, &vis, &inf, &del);
  a = cJSON_AddObjectToObject(c->out, "Attributes");
#define ATTR(name, fmt, val)                                                   \
  if (wants(names, name)) {                                                    \
    snprintf(v, sizeof(v), fmt, val);                                          \
    cJSON_AddStringToObject(a, name, v);                                       \
  }
  ATTR("QueueArn", "%s", q->arn)
  ATTR("ApproximateNumberOfMessages", "%d", vis)
  ATTR("ApproximateNumberOfMessagesNotVisible", "%d", inf)
  ATTR("ApproximateNumberOfMessagesDelayed", "%d", del)
  ATTR("VisibilityTimeout", "%d", q->visibility_s)
  ATTR("DelaySeconds", "%d", q->delay_s)
  ATTR("ReceiveMessageWaitTimeSeconds", "%d", q->wait_s)
  ATTR("MaximumMessageSize", "%d", LK_SQS_MAX_BODY)
  ATTR("MessageRetentionPeriod", "%d", 345600)
  ATTR("CreatedTimestamp", "%llu", (unsigned long long)(q->created_ms / 1000))
  ATTR("LastModifiedTimestamp", "%llu",
       (unsigned long long)(q->modified_ms / 1000))
#undef ATTR
  if (q->fifo && wants(names, "FifoQueue"))
    cJSON_AddStringToObject(a, "FifoQueue", "true");
  if (q->dlq_arn && wants(names, "RedrivePolicy")) {
    char rp[400];

    snprintf(rp, sizeof(rp),
             "{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%d}",
             q->dlq_arn, q->max_receive);
    cJSON_AddStringToObject(a, "RedrivePolicy", rp);
  }
  if (cJSON_GetArraySize(a) == 0)
    cJSON_DeleteItemFromObject(c->out, "Attributes");
  return 0;
}

static int op_set_attributes(op_ctx_t *c) {
  queue_t *q = need_queue(c);

  if (q == NULL ||
      apply_attributes(c, q,
                       cJSON_GetObjectItemCaseSensitive(c->in, "Attributes")))
    return -1;
  record_queue(c->sqs, q);
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(op_ctx_t *c);
} ops[] = {
    {"CreateQueue", op_create_queue},
    {"GetQueueUrl", op_get_queue_url},
    {"ListQueues", op_list_queues},
    {"DeleteQueue", op_delete_queue},
    {"PurgeQueue", op_purge_queue},
    {"SendMessage", op_send_message},
    {"SendMessageBatch", op_send_message_batch},
    {"ReceiveMessage", NULL}, /* may wait: handled in serve() */
    {"DeleteMessage", op_delete_message},
    {"DeleteMessageBatch", op_delete_message_batch},
    {"ChangeMessageVisibility", op_change_visibility},
    {"ChangeMessageVisibilityBatch", op_change_visibility_batch},
    {"GetQueueAttributes", op_get_attributes},
    {"SetQueueAttributes", op_set_attributes},
};

/* ---- query protocol: form -> JSON request, JSON result -> XML ---- */

/* "A.1.B" = v becomes {"A": {"1": {"B": v}}}; the numbered maps are turned
 * into the JSON protocol's lists and maps afterwards. */
static void form_set(cJSON *root, const char *key, const char *val) {
  cJSON *node = root;
  const char *seg = key;
  int depth = 0;

  while (depth++ < 8) {
    const char *dot = strchr(seg, '.');
    char name[128];
    cJSON *child;

    snprintf(name, sizeof(name), "%.*s",
             (int)(dot ? (size_t)(dot - seg) : strlen(seg)), seg);
    child = cJSON_GetObjectItemCaseSensitive(node, name);
    if (dot == NULL) {
      if (child == NULL)
        cJSON_AddStringToObject(node, name, val);
      return;
    }
    if (child == NULL)
      child = cJSON_AddObjectToObject(node, name);
    if (!cJSON_IsObject(child))
      return;
    node = child;
    seg = dot + 1;
  }
}

static int by_index(const void *a, const void *b) {
  long x = strtol((*(cJSON *const *)a)->string, NULL, 10);
  long y = strtol((*(cJSON *const *)b)->string, NULL, 10);

  return x < y ? -1 : x > y;
}

/* {"1": x, "2": y} -> [x, y], in index order. */
static cJSON *as_list(cJSON *numbered) {
  cJSON *items[64], *it, *list = cJSON_CreateArray();
  int n = 0, i;

  cJSON_ArrayForEach(it, numbered) if (n < 64) items[n++] = it;
  qsort(items, (size_t)n, sizeof(*items), by_index);
  for (i = 0; i < n; i++)
    cJSON_AddItemToArray(list, cJSON_Duplicate(items[i], 1));
  return list;
}

static void normalize(cJSON *o);

/* {"1": {"Name": n, "Value": v}} -> {n: v} */
static cJSON *as_map(cJSON *numbered) {
  cJSON *it, *map = cJSON_CreateObject();

  cJSON_ArrayForEach(it, numbered) {
    const char *name = lk_json_str(it, "Name");
    cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "Value");

    if (name && v && cJSON_GetObjectItemCaseSensitive(map, name) == NULL) {
      cJSON *copy = cJSON_Duplicate(v, 1);

      normalize(copy);
      cJSON_AddItemToObject(map, name, copy);
    }
  }
  return map;
}

static void normalize(cJSON *o) {
  static const struct {
    const char *form, *json;
    int map;
  } renames[] = {
      {"Attribute", "Attributes", 1},
      {"MessageAttribute", "MessageAttributes", 1},
      {"AttributeName", "AttributeNames", 0},
      {"MessageAttributeName", "MessageAttributeNames", 0},
      {"MessageSystemAttributeName", "MessageSystemAttributeNames", 0},
      {"SendMessageBatchRequestEntry", "Entries", 0},
      {"DeleteMessageBatchRequestEntry", "Entries", 0},
      {"ChangeMessageVisibilityBatchRequestEntry", "Entries", 0},
  };
  size_t i;

  if (!cJSON_IsObject(o))
    return;
  for (i = 0; i < sizeof(renames) / sizeof(renames[0]); i++) {
    cJSON *n = cJSON_DetachItemFromObjectCaseSensitive(o, renames[i].form);
    cJSON *conv, *e;

    if (n == NULL)
      continue;
    conv = renames[i].map ? as_map(n) : as_list(n);
    cJSON_Delete(n);
    if (!renames[i].map)
      cJSON_ArrayForEach(e, conv) normalize(e);
    cJSON_AddItemToObject(o, renames[i].json, conv);
  }
}

static cJSON *parse_form(const char *body, size_t len, lk_buf_t *action) {
  cJSON *root = cJSON_CreateObject();
  const char *p = body, *end = body + len;
  int fields = 0;

  while (p < end && fields++ < 2000) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *stop = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(stop - p));
    lk_buf_t k, v;

    lk_buf_init(&k, 256);
    lk_buf_init(&v, 2 * LK_SQS_MAX_BODY);
    if (eq && lk_url_decode(&k, p, (size_t)(eq - p), 1) == 0 &&
        lk_url_decode(&v, eq + 1, (size_t)(stop - eq - 1), 1) == 0) {
      if (strcmp(lk_buf_str(&k), "Action") == 0) {
        lk_buf_reset(action);
        lk_buf_adds(action, lk_buf_str(&v));
      } else if (strcmp(lk_buf_str(&k), "Version") != 0) {
        form_set(root, lk_buf_str(&k), lk_buf_str(&v));
      }
    }
    lk_buf_free(&k);
    lk_buf_free(&v);
    p = stop + 1;
  }
  normalize(root);
  return root;
}

static const char *list_element(const char *op, const char *key) {
  if (strcmp(key, "Messages") == 0)
    return "Message";
  if (strcmp(key, "QueueUrls") == 0)
    return "QueueUrl";
  if (strcmp(key, "Failed") == 0)
    return "BatchResultErrorEntry";
  if (strcmp(key, "Successful") == 0) {
    if (strcmp(op, "SendMessageBatch") == 0)
      return "SendMessageBatchResultEntry";
    if (strcmp(op, "DeleteMessageBatch") == 0)
      return "DeleteMessageBatchResultEntry";
    return "ChangeMessageVisibilityBatchResultEntry";
  }
  return key;
}

static void to_xml(lk_buf_t *b, const char *op, const cJSON *o) {
  const cJSON *it;

  cJSON_ArrayForEach(it, o) {
    const char *k = it->string;

    if (cJSON_IsString(it)) {
      lk_buf_printf(b, "<%s>", k);
      lk_xml_escape(b, it->valuestring, strlen(it->valuestring));
      lk_buf_printf(b, "</%s>", k);
    } else if (cJSON_IsBool(it)) {
      lk_buf_printf(b, "<%s>%s</%s>", k, cJSON_IsTrue(it) ? "true" : "false",
                    k);
    } else if (cJSON_IsArray(it)) {
      const char *el = list_element(op, k);
      const cJSON *e;

      cJSON_ArrayForEach(e, it) {
        lk_buf_printf(b, "<%s>", el);
        if (cJSON_IsString(e))
          lk_xml_escape(b, e->valuestring, strlen(e->valuestring));
        else
          to_xml(b, op, e);
        lk_buf_printf(b, "</%s>", el);
      }
    } else if (cJSON_IsObject(it) && (strcmp(k, "Attributes") == 0 ||
                                      strcmp(k, "MessageAttributes") == 0)) {
      const char *el = k[0] == 'A' ? "Attribute" : "MessageAttribute";
      const cJSON *e;

      cJSON_ArrayForEach(e, it) {
        lk_buf_printf(b, "<%s><Name>", el);
        lk_xml_escape(b, e->string, strlen(e->string));
        lk_buf_adds(b, "</Name><Value>");
        if (cJSON_IsString(e))
          lk_xml_escape(b, e->valuestring, strlen(e->valuestring));
        else
          to_xml(b, op, e);
        lk_buf_printf(b, "</Value></%s>", el);
      }
    }
  }
}

/* ---- answering ---- */

static void respond(lk_sqs_t *s, lk_http_req_t *req, int json, op_ctx_t *c,
                    const char *rid) {
  lk_buf_t b;
  lk_http_header_t h[3];
  char qe[160];
  int n = 0;

  (void)s;
  lk_buf_init(&b, 64 * 1024 * 1024);
  h[n++] = (lk_http_header_t){"x-amzn-RequestId", rid};
  if (c->err_type && json) {
    snprintf(qe, sizeof(qe), "%s;Sender", c->err_code);
    h[n++] = (lk_http_header_t){"x-amzn-query-error", qe};
    h[n++] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.0"};
    lk_buf_printf(
        &b, "{\"__type\":\"com.amazonaws.sqs#%s\",\"message\":", c->err_type);
    lk_buf_add_json_str(&b, c->err_msg, strlen(c->err_msg));
    lk_buf_adds(&b, "}");
  } else if (c->err_type) {
    h[n++] = (lk_http_header_t){"Content-Type", "text/xml"};
    lk_buf_printf(&b,
                  "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"" QXMLNS
                  "\"><Error><Type>Sender</Type><Code>%s</Code><Message>",
                  c->err_code);
    lk_xml_escape(&b, c->err_msg, strlen(c->err_msg));
    lk_buf_printf(&b,
                  "</Message><Detail/></Error><RequestId>%s</RequestId>"
                  "</ErrorResponse>",
                  rid);
  } else if (json) {
    char *out = cJSON_PrintUnformatted(c->out);

    h[n++] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.0"};
    lk_buf_adds(&b, out ? out : "{}");
    free(out);
  } else {
    h[n++] = (lk_http_header_t){"Content-Type", "text/xml"};
    lk_buf_printf(&b,
                  "<?xml version=\"1.0\"?><%sResponse xmlns=\"" QXMLNS
                  "\"><%sResult>",
                  c->op, c->op);
    to_xml(&b, c->op, c->out);
    lk_buf_printf(&b,
                  "</%sResult><ResponseMetadata><RequestId>%s</RequestId>"
                  "</ResponseMetadata></%sResponse>",
                  c->op, rid, c->op);
  }
  if (lk_buf_error(&b)) { /* never half a document */
    static const char too_big[] = "response too large";

    lk_http_respond(req, 500, h, 1, too_big, sizeof(too_big) - 1);
  } else {
    lk_http_respond(req, c->err_type ? c->status : 200, h, n, b.data, b.len);
  }
  lk_buf_free(&b);
}

static void waiter_free(waiter_t *w) {
  cJSON_Delete(w->in);
  free(w->queue_name);
  free(w);
}

static void unlink_waiter(lk_sqs_t *s, waiter_t *w) {
  waiter_t **pp;

  for (pp = &s->waiters; *pp; pp = &(*pp)->next)
    if (*pp == w) {
      *pp = w->next;
      break;
    }
  if (s->waiters == NULL && s->ticking) {
    uv_timer_stop(s->tick);
    s->ticking = 0;
  }
}

/* Answers a waiting poll with what its queue has now (maybe nothing). */
static void finish_waiter(lk_sqs_t *s, waiter_t *w, queue_t *q) {
  op_ctx_t c = {0};

  c.sqs = s;
  c.op = "ReceiveMessage";
  c.in = w->in;
  c.out = cJSON_CreateObject();
  if (q)
    take(&c, q, cJSON_AddArrayToObject(c.out, "Messages"));
  if (cJSON_GetArraySize(cJSON_GetObjectItem(c.out, "Messages")) == 0)
    cJSON_DeleteItemFromObject(c.out, "Messages");
  unlink_waiter(s, w);
  w->req->on_abort = NULL;
  respond(s, w->req, w->json, &c, w->rid);
  cJSON_Delete(c.out);
  waiter_free(w);
}

static int has_visible(queue_t *q) {
  uint64_t now = now_ms();
  msg_t *m;

  for (m = q->head; m; m = m->next)
    if (m->visible_at_ms <= now &&
        !(q->fifo && m->group && group_in_flight(q, m->group, now)))
      return 1;
  return 0;
}

static void serve_waiters(lk_sqs_t *s) {
  uint64_t now = now_ms();
  waiter_t *w, *next;

  for (w = s->waiters; w; w = next) {
    queue_t *q = find_queue(s, w->queue_name);

    next = w->next;
    if (q == NULL || has_visible(q) || now >= w->deadline_ms)
      finish_waiter(s, w, q);
  }
}

static void drop_waiters_of(lk_sqs_t *s, queue_t *q) {
  waiter_t *w, *next;

  for (w = s->waiters; w; w = next) {
    next = w->next;
    if (strcmp(w->queue_name, q->name) == 0)
      finish_waiter(s, w, NULL);
  }
}

static void on_tick(uv_timer_t *t) {
  serve_waiters(t->data);
}

static void on_waiter_abort(lk_http_req_t *req) {
  waiter_t *w = req->data;

  unlink_waiter(w->sqs, w);
  lk_http_drop(req);
  waiter_free(w);
}

static void receive(lk_sqs_t *s, lk_http_req_t *req, int json, op_ctx_t *c,
                    const char *rid) {
  queue_t *q = need_queue(c);
  long wait = 0;
  cJSON *list;

  if (q == NULL || check_receive(c, q, &wait)) {
    respond(s, req, json, c, rid);
    return;
  }
  list = cJSON_AddArrayToObject(c->out, "Messages");
  if (take(c, q, list) == 0 && wait > 0 && !s->closing) {
    waiter_t *w = lk_xcalloc(1, sizeof(*w));

    w->sqs = s;
    w->req = req;
    w->in = c->in;
    c->in = NULL; /* the waiter owns the request now */
    w->queue_name = lk_xstrdup(q->name);
    w->json = json;
    w->deadline_ms = now_ms() + (uint64_t)wait * 1000;
    snprintf(w->rid, sizeof(w->rid), "%s", rid);
    w->next = s->waiters;
    s->waiters = w;
    req->data = w;
    req->on_abort = on_waiter_abort;
    if (!s->ticking) {
      uv_timer_start(s->tick, on_tick, TICK_MS, TICK_MS);
      s->ticking = 1;
    }
    return;
  }
  if (cJSON_GetArraySize(list) == 0)
    cJSON_DeleteItemFromObject(c->out, "Messages");
  respond(s, req, json, c, rid);
}

int lk_sqs_is_query(const lk_http_req_t *req) {
  const char *ct = lk_http_header(req, "Content-Type");

  if (strstr(req->query, "Action=") != NULL)
    return 1;
  return strcmp(req->method, "POST") == 0 && ct &&
         strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
         req->body.len > 7 && req->body.data &&
         (strncmp(req->body.data, "Action=", 7) == 0 ||
          memmem(req->body.data, req->body.len, "&Action=", 8) != NULL);
}

void lk_sqs_serve(lk_sqs_t *s, lk_http_req_t *req, int json) {
  op_ctx_t c = {0};
  lk_buf_t action;
  char rid[37], op[64] = "";
  const char *trace = lk_http_header(req, "X-Amzn-Trace-Id");
  size_t i;

  lk_uuid(rid);
  lk_buf_init(&action, 64);
  c.sqs = s;
  c.trace = trace;
  if (json) {
    const char *target = lk_http_header(req, "X-Amz-Target");
    const char *dot = target ? strchr(target, '.') : NULL;

    snprintf(op, sizeof(op), "%s", dot ? dot + 1 : "");
    c.in = cJSON_ParseWithLength(req->body.data ? req->body.data : "{}",
                                 req->body.len ? req->body.len : 2);
    if (!cJSON_IsObject(c.in)) {
      fail(&c, "InvalidParameterValue", "InvalidParameterValue",
           "The request body is not a JSON object.");
    }
  } else {
    const char *src = req->body.len ? req->body.data : req->query;
    size_t len = req->body.len ? req->body.len : strlen(req->query);

    c.in = parse_form(src, len, &action);
    if (action.len)
      snprintf(op, sizeof(op), "%.*s", (int)action.len, action.data);
    /* Posted to the queue's own URL: QueueUrl is implied. */
    if (lk_json_str(c.in, "QueueUrl") == NULL && strchr(req->path + 1, '/'))
      cJSON_AddStringToObject(c.in, "QueueUrl", req->path);
  }
  lk_buf_free(&action);
  c.op = op;
  c.out = cJSON_CreateObject();
  if (c.err_type == NULL && req->body_too_large)
    fail(&c, "InvalidParameterValue", "InvalidParameterValue",
         "The request is too large.");
  if (c.err_type) {
    respond(s, req, json, &c, rid);
    goto done;
  }
  for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
    if (strcmp(ops[i].name, op) == 0)
      break;
  if (i == sizeof(ops) / sizeof(ops[0])) {
    fail(&c, "InvalidAction", "InvalidAction",
         "The action %.64s is not valid for this endpoint.", op);
    respond(s, req, json, &c, rid);
  } else if (ops[i].fn == NULL) {
    receive(s, req, json, &c, rid);
  } else {
    ops[i].fn(&c);
    respond(s, req, json, &c, rid);
  }
done:
  cJSON_Delete(c.in);
  cJSON_Delete(c.out);
}

int lk_sqs_send(lk_sqs_t *sqs, const char *queue, const char *body, size_t len,
                const char *trace, char id[37]) {
  return lk_sqs_send_fifo(sqs, queue, body, len, trace, NULL, NULL, id);
}

int lk_sqs_send_fifo(lk_sqs_t *sqs, const char *queue, const char *body,
                     size_t len, const char *trace, const char *group,
                     const char *dedup, char id[37]) {
  op_ctx_t c = {0};
  queue_t *q = find_queue(sqs, queue);
  cJSON *res;
  int rc;

  if (q == NULL)
    return LK_ENOENT;
  c.sqs = sqs;
  c.trace = trace;
  c.in = cJSON_CreateObject();
  {
    char *copy = lk_xstrndup(body, len);

    cJSON_AddStringToObject(c.in, "MessageBody", copy);
    free(copy);
  }
  if (group)
    cJSON_AddStringToObject(c.in, "MessageGroupId", group);
  if (dedup)
    cJSON_AddStringToObject(c.in, "MessageDeduplicationId", dedup);
  res = cJSON_CreateObject();
  rc = send_one(&c, q, c.in, res);
  if (rc == 0 && id)
    snprintf(id, 37, "%s", lk_json_str(res, "MessageId"));
  cJSON_Delete(res);
  cJSON_Delete(c.in);
  if (rc == 0)
    serve_waiters(sqs);
  return rc ? LK_EINVAL : 0;
}

int lk_sqs_receive(lk_sqs_t *sqs, const char *queue, int max, cJSON *list) {
  op_ctx_t c = {0};
  queue_t *q = find_queue(sqs, queue);
  cJSON *all;
  int n;

  if (q == NULL)
    return LK_ENOENT;
  c.sqs = sqs;
  c.in = cJSON_CreateObject();
  all = cJSON_CreateStringArray((const char *[]){"All"}, 1);
  cJSON_AddItemToObject(c.in, "AttributeNames", all);
  cJSON_AddItemToObject(c.in, "MessageAttributeNames",
                        cJSON_CreateStringArray((const char *[]){"All"}, 1));
  cJSON_AddNumberToObject(c.in, "MaxNumberOfMessages",
                          max < 1    ? 1
                          : max > 10 ? 10
                                     : max);
  n = take(&c, q, list);
  cJSON_Delete(c.in);
  return n;
}

int lk_sqs_delete(lk_sqs_t *sqs, const char *queue, const char *receipt) {
  op_ctx_t c = {0};
  queue_t *q = find_queue(sqs, queue);

  if (q == NULL)
    return LK_ENOENT;
  c.sqs = sqs;
  c.internal = 1;
  return delete_one(&c, q, receipt) ? LK_EINVAL : 0;
}

void lk_sqs_close(lk_sqs_t *s) {
  if (s->closing)
    return;
  s->closing = 1;
  while (s->waiters)
    finish_waiter(s, s->waiters, find_queue(s, s->waiters->queue_name));
  if (s->tick)
    uv_close((uv_handle_t *)s->tick, lk_free_handle);
  s->tick = NULL;
}

void lk_sqs_free(lk_sqs_t *s) {
  int i;

  if (s == NULL)
    return;
  for (i = 0; i < s->n; i++)
    queue_free(s->queues[i]);
  free(s->queues);
  free(s);
}

/* ---- persistence (--state) ---- */

static cJSON *queue_json(const queue_t *q) {
  cJSON *jq = cJSON_CreateObject();

  cJSON_AddStringToObject(jq, "name", q->name);
  cJSON_AddBoolToObject(jq, "fifo", q->fifo);
  cJSON_AddNumberToObject(jq, "visibility", q->visibility_s);
  cJSON_AddNumberToObject(jq, "delay", q->delay_s);
  cJSON_AddNumberToObject(jq, "wait", q->wait_s);
  cJSON_AddNumberToObject(jq, "max_receive", q->max_receive);
  if (q->dlq_arn)
    cJSON_AddStringToObject(jq, "dlq", q->dlq_arn);
  return jq;
}

static cJSON *msg_json(const msg_t *m) {
  cJSON *jm = cJSON_CreateObject(), *ja = cJSON_CreateObject();
  int k;

  cJSON_AddStringToObject(jm, "id", m->id);
  cJSON_AddStringToObject(jm, "body", m->body);
  cJSON_AddNumberToObject(jm, "sent", (double)m->sent_ms);
  cJSON_AddNumberToObject(jm, "first_receive", (double)m->first_recv_ms);
  cJSON_AddNumberToObject(jm, "receive_count", m->receive_count);
  if (m->group)
    cJSON_AddStringToObject(jm, "group", m->group);
  if (m->trace)
    cJSON_AddStringToObject(jm, "trace", m->trace);
  for (k = 0; k < m->n_attrs; k++) {
    cJSON *a = cJSON_AddObjectToObject(ja, m->attrs[k].name);
    lk_buf_t b;

    lk_buf_init(&b, 2 * LK_SQS_MAX_BODY);
    lk_b64_encode(&b, m->attrs[k].value, m->attrs[k].len);
    cJSON_AddStringToObject(a, "DataType", m->attrs[k].type);
    cJSON_AddStringToObject(
        a, m->attrs[k].binary ? "BinaryValue" : "StringValue",
        m->attrs[k].binary ? lk_buf_str(&b) : m->attrs[k].value);
    lk_buf_free(&b);
  }
  cJSON_AddItemToObject(jm, "attributes", ja);
  return jm;
}

int lk_sqs_save(lk_sqs_t *sqs, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject();
  cJSON *qs = cJSON_AddArrayToObject(root, "queues");
  int i, err;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  for (i = 0; i < sqs->n; i++) {
    cJSON *jq = queue_json(sqs->queues[i]);
    cJSON *ms = cJSON_AddArrayToObject(jq, "messages");
    const msg_t *m;

    for (m = sqs->queues[i]->head; m; m = m->next)
      cJSON_AddItemToArray(ms, msg_json(m));
    cJSON_AddItemToArray(qs, jq);
  }
  err = lk_save_json(path, root);
  cJSON_Delete(root);
  return err;
}

static uint64_t stamp(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e15
             ? (uint64_t)v->valuedouble
             : 0;
}

/* The queue of jq, made or brought to jq's settings; NULL if unnamed. */
static queue_t *queue_from_json(lk_sqs_t *sqs, const cJSON *jq) {
  lk_sqs_queue_def_t d = {0};
  queue_t *q;

  d.name = lk_json_str(jq, "name");
  if (d.name == NULL)
    return NULL;
  d.fifo = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(jq, "fifo"));
  lk_sqs_create_queue(sqs, &d); /* the template's exist already */
  q = find_queue(sqs, d.name);
  if (q == NULL)
    return NULL;
  q->visibility_s = (int)in_int(jq, "visibility", 30);
  q->delay_s = (int)in_int(jq, "delay", 0);
  q->max_receive = (int)in_int(jq, "max_receive", 0);
  q->wait_s = (int)in_int(jq, "wait", 0);
  free(q->dlq_arn);
  q->dlq_arn =
      lk_json_str(jq, "dlq") ? lk_xstrdup(lk_json_str(jq, "dlq")) : NULL;
  return q;
}

/* A message of a snapshot or record, visible now; NULL if malformed. */
static msg_t *msg_from_json(lk_sqs_t *sqs, const cJSON *jm) {
  const char *id = lk_json_str(jm, "id"), *body = lk_json_str(jm, "body");
  op_ctx_t c = {0};
  msg_t *m;

  if (id == NULL || body == NULL || strlen(id) != 36)
    return NULL;
  m = lk_xcalloc(1, sizeof(*m));
  c.sqs = sqs;
  memcpy(m->id, id, 37);
  m->body = lk_xstrdup(body);
  m->len = strlen(body);
  lk_md5_hex(body, m->len, m->md5_body);
  m->group =
      lk_json_str(jm, "group") ? lk_xstrdup(lk_json_str(jm, "group")) : NULL;
  m->trace =
      lk_json_str(jm, "trace") ? lk_xstrdup(lk_json_str(jm, "trace")) : NULL;
  m->sent_ms = stamp(jm, "sent");
  m->first_recv_ms = stamp(jm, "first_receive");
  m->receive_count = (int)in_int(jm, "receive_count", 0);
  m->visible_at_ms = now_ms();
  m->seq = ++sqs->seq;
  if (read_attrs(&c, cJSON_GetObjectItemCaseSensitive(jm, "attributes"), m)) {
    msg_free(m);
    return NULL;
  }
  return m;
}

int lk_sqs_load(lk_sqs_t *sqs, const char *path, uint64_t *gen) {
  cJSON *root, *jq;
  int err = lk_load_json(path, &root);

  if (err)
    return err;
  *gen = stamp(root, "aof");
  cJSON_ArrayForEach(jq, cJSON_GetObjectItemCaseSensitive(root, "queues")) {
    queue_t *q = queue_from_json(sqs, jq);
    const cJSON *jm;

    cJSON_ArrayForEach(jm, cJSON_GetObjectItemCaseSensitive(jq, "messages")) {
      msg_t *m = q ? msg_from_json(sqs, jm) : NULL;

      if (m)
        append_msg(q, m);
    }
  }
  cJSON_Delete(root);
  return 0;
}

void lk_sqs_on_record(lk_sqs_t *sqs, lk_record_cb cb, void *ud) {
  sqs->rec_cb = cb;
  sqs->rec_ud = ud;
}

static msg_t *by_id(queue_t *q, const char *id) {
  msg_t *m;

  for (m = q->head; id && m; m = m->next)
    if (strcmp(m->id, id) == 0)
      return m;
  return NULL;
}

/* A record on one message of q (del, recv, move). */
static void apply_to_msg(lk_sqs_t *sqs, queue_t *q, const char *op,
                         const cJSON *rec) {
  msg_t *m = by_id(q, lk_json_str(rec, "id"));
  queue_t *to = find_queue(sqs, lk_json_str(rec, "to"));

  if (m == NULL)
    return;
  if (strcmp(op, "recv") == 0) {
    m->receive_count++;
    return;
  }
  unlink_msg(q, m);
  if (strcmp(op, "move") == 0 && to)
    append_msg(to, m);
  else
    msg_free(m);
}

void lk_sqs_apply(lk_sqs_t *sqs, const cJSON *rec) {
  const char *op = lk_json_str(rec, "sqs");
  queue_t *q = find_queue(sqs, lk_json_str(rec, "queue"));
  msg_t *m;

  if (op == NULL)
    return;
  if (strcmp(op, "queue") == 0) {
    queue_from_json(sqs, cJSON_GetObjectItemCaseSensitive(rec, "def"));
  } else if (q == NULL) {
    return; /* its queue is gone: so is what the record changed */
  } else if (strcmp(op, "rmqueue") == 0) {
    remove_queue(sqs, q);
  } else if (strcmp(op, "purge") == 0) {
    purge(q);
  } else if (strcmp(op, "msg") == 0) {
    m = msg_from_json(sqs, cJSON_GetObjectItemCaseSensitive(rec, "msg"));
    if (m)
      append_msg(q, m);
  } else {
    apply_to_msg(sqs, q, op, rec);
  }
}
