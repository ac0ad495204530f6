/* The event-aware mutator (see mutator.h). A slot is one string the source
 * fills with outside data, with its parent (to replace it) and what must
 * be redone when it changes. Log payloads and JSON bodies are decoded into
 * their own trees first, so their inner fields are slots too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "codec.h"
#include "mem.h"
#include "mutator.h"
#include "oracle.h"

#define MAX_SLOTS 64
/* longest field value the mutator writes: SQS's message limit */
#define MAX_FIELD (256 * 1024)

const char *const lk_attack_payloads[] = {
    ";lambkin-canary-cmd;",                  /* shell: the tripwire on PATH */
    "$(lambkin-canary-cmd)",                 /* shell substitution */
    "`lambkin-canary-cmd`",                  /* shell backticks */
    "|/tmp/lambkin-canary-cmd",              /* shell pipe to the fixed path */
    "' OR 'lambkin'='lambkin",               /* SQL string break */
    "\" OR \"lambkin\"=\"lambkin",           /* SQL, double quotes */
    "../../../../../../lambkin-canary-path", /* path traversal */
    "\nLAMBKIN-FORGED-LOG-LINE",             /* log forging */
    "\r\nX-Lambkin-Canary: 1",               /* header injection */
    "http://lambkin-canary.invalid/",        /* SSRF: the canary host */
    "http://169.254.169.254/latest/meta-data/", /* SSRF: instance metadata */
    "lambkin-canary.invalid",
    "%0d%0aX-Lambkin-Canary:%201",
    "{{lambkin}}${lambkin}",
    "\xc3\x28", /* an invalid UTF-8 pair, repaired */
    /* code injection: the canary function an evaluator would call */
    "lambkin_canary_code()",
    "'+lambkin_canary_code()+'",
    "${lambkin_canary_code()}",
    /* deserialization: a pickle (raw, and base64 as cookies and queues
     * carry it) and a serialized JS function that call the canary */
    "cbuiltins\nlambkin_canary_deser\n(tR.",
    "Y2J1aWx0aW5zCmxhbWJraW5fY2FuYXJ5X2Rlc2VyCih0Ui4=",
    "_$$ND_FUNC$$_function(){lambkin_canary_deser()}()",
    "!!python/object/apply:builtins.lambkin_canary_deser []", /* yaml.load */
    /* prototype pollution, when a JSON text is parsed and merged */
    "{\"__proto__\":{\"lambkin_canary_proto\":\"lambkin\"}}",
    /* a DynamoDB expression (or a name in one) built from event text */
    " OR attribute_exists(lambkin_canary_nosql)",
};
const size_t lk_n_attack_payloads =
    sizeof(lk_attack_payloads) / sizeof(lk_attack_payloads[0]);

typedef enum {
  FIX_NONE,
  FIX_S3_KEY,    /* value is URL-encoded with '+' for spaces */
  FIX_SQS_BODY,  /* md5OfBody follows the body */
  FIX_SQS_INNER, /* a field of the JSON body: reprint the body, then md5 */
  FIX_LOG,       /* a field of the decoded awslogs payload: re-encode */
  FIX_HTTP_BODY, /* maybe base64; Content-Length follows */
  FIX_DDB_KEY,   /* a key attribute: the record's images follow it */
  FIX_SNS_INNER, /* a field of the JSON Message: reprint the Message */
  FIX_KIN_DATA,  /* Kinesis data: base64 of the bytes the function reads */
  FIX_KIN_INNER  /* a field of JSON data: reprint it, then base64 */
} fix_t;

typedef struct slot {
  cJSON *parent, *item;
  fix_t fix;
  cJSON *owner; /* the record (SQS) or event (HTTP) the field belongs to */
  cJSON *inner; /* FIX_SQS_INNER: the parsed body */
} slot_t;

typedef struct ctx {
  slot_t slots[MAX_SLOTS];
  int n;
  cJSON *inner_docs[16]; /* parsed SQS bodies, owned here */
  int n_inner;
  cJSON *logs_doc;         /* the decoded awslogs payload, owned here */
  size_t room;             /* bytes the event may grow by and still fit */
  const lk_words_t *words; /* the function's own dictionary, or NULL */
} ctx_t;

static lk_source_t source_of(const cJSON *j) {
  const cJSON *rec =
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "Records"), 0);
  const char *es = lk_json_str(rec, "eventSource");

  if (es && strcmp(es, "aws:s3") == 0)
    return LK_SRC_S3;
  if (es && strcmp(es, "aws:sqs") == 0)
    return LK_SRC_SQS;
  if (es && strcmp(es, "aws:dynamodb") == 0)
    return LK_SRC_DYNAMODB;
  if (es && strcmp(es, "aws:kinesis") == 0)
    return LK_SRC_KINESIS;
  es = lk_json_str(rec, "EventSource");
  if (es && strcmp(es, "aws:sns") == 0)
    return LK_SRC_SNS;
  if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "awslogs")))
    return LK_SRC_LOGS;
  if (lk_json_str(j, "detail-type") && lk_json_str(j, "source") &&
      cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "detail")))
    return LK_SRC_EVENTBRIDGE;
  if (lk_json_str(j, "version") &&
      strcmp(lk_json_str(j, "version"), "2.0") == 0 &&
      lk_json_str(j, "rawPath"))
    return LK_SRC_APIGW_V2;
  if (lk_json_str(j, "httpMethod") && lk_json_str(j, "path"))
    return LK_SRC_APIGW_V1;
  return LK_SRC_UNKNOWN;
}

lk_source_t lk_event_source(const char *event, size_t len) {
  cJSON *j = cJSON_ParseWithLength(event, len);
  lk_source_t s = j ? source_of(j) : LK_SRC_UNKNOWN;

  cJSON_Delete(j);
  return s;
}

const char *lk_source_name(lk_source_t s) {
  static const char *const names[] = {
      "unknown",  "s3",       "sqs", "logs",    "apigw",
      "apigw-v2", "dynamodb", "sns", "kinesis", "eventbridge"};

  return names[s];
}

static void add(ctx_t *c, cJSON *parent, cJSON *item, fix_t fix, cJSON *owner,
                cJSON *inner) {
  if (c->n < MAX_SLOTS && cJSON_IsString(item)) {
    slot_t *s = &c->slots[c->n++];

    s->parent = parent;
    s->item = item;
    s->fix = fix;
    s->owner = owner;
    s->inner = inner;
  }
}

/* Every string in an object (or array), one level down. */
static void add_all(ctx_t *c, cJSON *parent, fix_t fix, cJSON *owner) {
  cJSON *it;

  cJSON_ArrayForEach(it, parent) {
    if (cJSON_IsString(it))
      add(c, parent, it, fix, owner, NULL);
    else if (cJSON_IsArray(it))
      add_all(c, it, fix, owner);
  }
}

/* Strings anywhere inside a JSON body (an SQS body, an SNS Message):
 * fix says how the text they came from is written back. */
static void add_inner(ctx_t *c, cJSON *node, cJSON *owner, cJSON *doc,
                      int depth, fix_t fix) {
  cJSON *it;

  if (depth > 8)
    return;
  cJSON_ArrayForEach(it, node) {
    if (cJSON_IsString(it))
      add(c, node, it, fix, owner, doc);
    else if (cJSON_IsObject(it) || cJSON_IsArray(it))
      add_inner(c, it, owner, doc, depth + 1, fix);
  }
}

/* SNS: each Message (and the strings inside one that is JSON), Subject
 * and message attribute value. */
static void collect_sns(ctx_t *c, cJSON *recs) {
  cJSON *r, *sns, *msg, *a, *doc;

  cJSON_ArrayForEach(r, recs) {
    sns = cJSON_GetObjectItemCaseSensitive(r, "Sns");
    msg = cJSON_GetObjectItemCaseSensitive(sns, "Message");
    add(c, sns, msg, FIX_NONE, sns, NULL);
    add(c, sns, cJSON_GetObjectItemCaseSensitive(sns, "Subject"), FIX_NONE, sns,
        NULL);
    cJSON_ArrayForEach(
        a, cJSON_GetObjectItemCaseSensitive(sns, "MessageAttributes")) {
      add(c, a, cJSON_GetObjectItemCaseSensitive(a, "Value"), FIX_NONE, sns,
          NULL);
    }
    if (!cJSON_IsString(msg) || c->n_inner >= 16)
      continue;
    doc = cJSON_Parse(msg->valuestring);
    if (cJSON_IsObject(doc) || cJSON_IsArray(doc)) {
      c->inner_docs[c->n_inner++] = doc;
      add_inner(c, doc, sns, doc, 0, FIX_SNS_INNER);
    } else {
      cJSON_Delete(doc);
    }
  }
}

/* Kinesis: each record's data (as the decoded bytes) and partition key,
 * and the strings inside data that is JSON. */
static void collect_kinesis(ctx_t *c, cJSON *recs) {
  cJSON *r, *k, *data, *doc;
  lk_buf_t raw;

  cJSON_ArrayForEach(r, recs) {
    k = cJSON_GetObjectItemCaseSensitive(r, "kinesis");
    data = cJSON_GetObjectItemCaseSensitive(k, "data");
    add(c, k, data, FIX_KIN_DATA, k, NULL);
    add(c, k, cJSON_GetObjectItemCaseSensitive(k, "partitionKey"), FIX_NONE, k,
        NULL);
    if (!cJSON_IsString(data) || c->n_inner >= 16)
      continue;
    lk_buf_init(&raw, MAX_FIELD);
    doc = lk_b64_decode(&raw, data->valuestring, strlen(data->valuestring)) == 0
              ? cJSON_ParseWithLength(raw.data ? raw.data : "", raw.len)
              : NULL;
    lk_buf_free(&raw);
    if (cJSON_IsObject(doc) || cJSON_IsArray(doc)) {
      c->inner_docs[c->n_inner++] = doc;
      add_inner(c, doc, k, doc, 0, FIX_KIN_INNER);
    } else {
      cJSON_Delete(doc);
    }
  }
}

/* S3: each record's object key. */
static void collect_s3(ctx_t *c, cJSON *recs) {
  cJSON *r, *o;

  cJSON_ArrayForEach(r, recs) {
    o = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "s3"), "object");
    add(c, o, cJSON_GetObjectItemCaseSensitive(o, "key"), FIX_S3_KEY, r, NULL);
  }
}

/* SQS: each body, its string attributes and, for a JSON body, the
 * strings inside it. */
static void collect_sqs(ctx_t *c, cJSON *recs) {
  cJSON *r, *body, *a, *doc;

  cJSON_ArrayForEach(r, recs) {
    body = cJSON_GetObjectItemCaseSensitive(r, "body");
    add(c, r, body, FIX_SQS_BODY, r, NULL);
    cJSON_ArrayForEach(
        a, cJSON_GetObjectItemCaseSensitive(r, "messageAttributes")) {
      add(c, a, cJSON_GetObjectItemCaseSensitive(a, "stringValue"), FIX_NONE, r,
          NULL);
    }
    if (!cJSON_IsString(body) || c->n_inner >= 16)
      continue;
    doc = cJSON_Parse(body->valuestring);
    if (cJSON_IsObject(doc) || cJSON_IsArray(doc)) {
      c->inner_docs[c->n_inner++] = doc;
      add_inner(c, doc, r, doc, 0, FIX_SQS_INNER);
    } else {
      cJSON_Delete(doc);
    }
  }
}

/* The strings of one attribute value of a stream record's image: S, SS,
 * and those inside M and L (typed: numbers and binaries keep their
 * form). */
static void add_ddb_value(ctx_t *c, cJSON *v, cJSON *record, int depth) {
  cJSON *it;

  if (depth > 32)
    return;
  add(c, v, cJSON_GetObjectItemCaseSensitive(v, "S"), FIX_NONE, record, NULL);
  add_all(c, cJSON_GetObjectItemCaseSensitive(v, "SS"), FIX_NONE, record);
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v, "M")) {
    add_ddb_value(c, it, record, depth + 1);
  }
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v, "L")) {
    add_ddb_value(c, it, record, depth + 1);
  }
}

/* DynamoDB streams: string key attributes (their images follow them) and
 * every other string attribute of the images. */
static void collect_ddb(ctx_t *c, cJSON *recs) {
  static const char *const images[] = {"NewImage", "OldImage"};
  cJSON *r, *d, *k, *a;
  size_t i;

  cJSON_ArrayForEach(r, recs) {
    d = cJSON_GetObjectItemCaseSensitive(r, "dynamodb");
    k = cJSON_GetObjectItemCaseSensitive(d, "Keys");
    cJSON_ArrayForEach(a, k) {
      add(c, a, cJSON_GetObjectItemCaseSensitive(a, "S"), FIX_DDB_KEY, d, NULL);
    }
    for (i = 0; i < 2; i++)
      cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(d, images[i])) {
        if (cJSON_GetObjectItemCaseSensitive(k, a->string) == NULL)
          add_ddb_value(c, a, d, 0);
      }
  }
}

/* CloudWatch Logs: each message of the decoded payload. */
static void collect_logs(ctx_t *c, cJSON *root) {
  const char *data =
      lk_json_str(cJSON_GetObjectItemCaseSensitive(root, "awslogs"), "data");
  lk_buf_t gz, js;
  cJSON *r;

  lk_buf_init(&gz, 1 << 20);
  lk_buf_init(&js, 4 << 20);
  if (data && lk_b64_decode(&gz, data, strlen(data)) == 0 &&
      lk_gunzip(&js, gz.data, gz.len) == 0)
    c->logs_doc = cJSON_ParseWithLength(js.data, js.len);
  lk_buf_free(&gz);
  lk_buf_free(&js);
  cJSON_ArrayForEach(
      r, cJSON_GetObjectItemCaseSensitive(c->logs_doc, "logEvents")) {
    add(c, r, cJSON_GetObjectItemCaseSensitive(r, "message"), FIX_LOG, NULL,
        NULL);
  }
}

/* API Gateway: the path, the query, parameters, headers, cookies and the
 * body (an absent one becomes "", so it can grow). */
static void collect_apigw(ctx_t *c, cJSON *root, int v1) {
  static const char *const maps[] = {"pathParameters", "queryStringParameters",
                                     "multiValueQueryStringParameters",
                                     "headers", "cookies"};
  cJSON *body = cJSON_GetObjectItemCaseSensitive(root, "body");
  size_t k;

  add(c, root, cJSON_GetObjectItemCaseSensitive(root, v1 ? "path" : "rawPath"),
      FIX_NONE, root, NULL);
  add(c, root, cJSON_GetObjectItemCaseSensitive(root, "rawQueryString"),
      FIX_NONE, root, NULL);
  for (k = 0; k < sizeof(maps) / sizeof(maps[0]); k++)
    add_all(c, cJSON_GetObjectItemCaseSensitive(root, maps[k]), FIX_NONE, root);
  if (body == NULL || cJSON_IsNull(body)) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, "body");
    cJSON_AddStringToObject(root, "body", "");
  }
  add(c, root, cJSON_GetObjectItemCaseSensitive(root, "body"), FIX_HTTP_BODY,
      root, NULL);
}

/* The outside-data fields of an event of src, as slots. */
static void collect(ctx_t *c, cJSON *root, lk_source_t src) {
  cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "Records");

  if (src == LK_SRC_S3)
    collect_s3(c, recs);
  else if (src == LK_SRC_SQS)
    collect_sqs(c, recs);
  else if (src == LK_SRC_DYNAMODB)
    collect_ddb(c, recs);
  else if (src == LK_SRC_SNS)
    collect_sns(c, recs);
  else if (src == LK_SRC_KINESIS)
    collect_kinesis(c, recs);
  else if (src == LK_SRC_EVENTBRIDGE) /* what the putter wrote: detail */
    add_inner(c, cJSON_GetObjectItemCaseSensitive(root, "detail"), root, root,
              0, FIX_NONE);
  else if (src == LK_SRC_LOGS)
    collect_logs(c, root);
  else if (src == LK_SRC_APIGW_V1 || src == LK_SRC_APIGW_V2)
    collect_apigw(c, root, src == LK_SRC_APIGW_V1);
}

/* The value grown to one of the lengths code trips over (a 256-byte
 * buffer, a 1 KB, 4 KB or 64 KB one, or all the room there is), by
 * repeating what it holds: byte mutations alone rarely get there. */
static size_t grow(char *buf, size_t n, size_t cap, lk_rand_t *rs) {
  static const size_t sizes[] = {256, 1024, 4096, 65536};
  size_t want[5], k = 0, i, to;

  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    if (sizes[i] > n && sizes[i] <= cap)
      want[k++] = sizes[i] + lk_rand_below(rs, 2); /* and one past */
  if (cap > n)
    want[k++] = cap;
  if (k == 0)
    return n;
  /* the small ones mostly: a big event slows every run that starts
   * from it, and one in eight reaches the far end */
  to = want[lk_rand_below(rs, 8) == 0 ? lk_rand_below(rs, (uint32_t)k)
                                      : lk_rand_below(rs, k < 2 ? 1 : 2)];
  if (to > cap)
    to = cap;
  if (n == 0)
    buf[n++] = 'A';
  for (i = n; i < to; i++)
    buf[i] = buf[i % n];
  return to;
}

/* p spliced into buf[0..n) (at most cap bytes), a third of the time
 * each: in place of the whole value (what a parser reads must start
 * with it), after it (a prefix the code tested stays), or at a random
 * place. The new length. */
static size_t splice(char *buf, size_t n, size_t cap, const char *p, size_t pl,
                     lk_rand_t *rs) {
  uint32_t how = lk_rand_below(rs, 3);
  size_t at = how == 1 ? n : lk_rand_below(rs, (uint32_t)n + 1);

  if (how == 0)
    n = 0, at = 0;
  if (n + pl > cap)
    pl = cap - n;
  memmove(buf + at + pl, buf + at, n - at);
  memcpy(buf + at, p, pl);
  return n + pl;
}

size_t lk_mutate_value(char *buf, size_t n, size_t cap, lk_rand_t *rs,
                       lk_byte_mutator mutate) {
  uint32_t op = lk_rand_below(rs, 12);

  if (op >= 10) {
    n = grow(buf, n, cap, rs);
  } else if (op < 6 && mutate) {
    n = mutate((uint8_t *)buf, n, cap);
  } else {
    const char *p =
        lk_attack_payloads[lk_rand_below(rs, (uint32_t)lk_n_attack_payloads)];

    n = splice(buf, n, cap, p, strlen(p), rs);
  }
  return n > cap ? cap : n;
}

int lk_s3_key_encode(lk_buf_t *out, const char *key, size_t n) {
  size_t i;
  int err = 0;

  for (i = 0; i < n && err == 0; i++) {
    unsigned char c = (unsigned char)key[i];

    if (c == ' ') /* S3 writes spaces as '+' */
      err = lk_buf_add(out, "+", 1);
    else
      err = lk_url_encode(out, key + i, 1, 1);
  }
  return err;
}

/* Replaces a string in place; an object member keeps its name (cJSON's
 * ReplaceItemViaPointer would drop it). */
static void set_string(cJSON *parent, cJSON *item, const char *v) {
  cJSON *fresh;

  if (parent == NULL || item == NULL)
    return;
  fresh = cJSON_CreateString(v);
  if (fresh == NULL) /* v is NULL: a value that did not fit */
    return;
  if (item->string && cJSON_IsObject(parent))
    fresh->string = lk_xstrdup(item->string);
  cJSON_ReplaceItemViaPointer(parent, item, fresh);
}

/* A key attribute changed in Keys: the same one in both images. */
static void fix_ddb_key(const slot_t *s) {
  static const char *const images[] = {"NewImage", "OldImage"};
  const char *name = s->parent->string;
  const cJSON *now = cJSON_GetObjectItemCaseSensitive(s->parent, "S");
  size_t i;

  for (i = 0; name && cJSON_IsString(now) && i < 2; i++) {
    cJSON *a = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s->owner, images[i]), name);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "S");

    if (cJSON_IsString(v))
      set_string(a, v, now->valuestring);
  }
}

static void fix_md5(cJSON *rec) {
  const char *body = lk_json_str(rec, "body");
  char md5[33];

  if (body == NULL)
    return;
  lk_md5_hex(body, strlen(body), md5);
  set_string(rec, cJSON_GetObjectItemCaseSensitive(rec, "md5OfBody"), md5);
}

static int reencode_logs(cJSON *root, cJSON *doc) {
  char *js = cJSON_PrintUnformatted(doc);
  lk_buf_t gz, b64;
  int err;

  lk_buf_init(&gz, 4 << 20);
  lk_buf_init(&b64, 8 << 20);
  err = js ? lk_gzip(&gz, js, strlen(js)) : -1;
  if (err == 0)
    err = lk_b64_encode(&b64, gz.data, gz.len);
  if (err == 0)
    err = lk_buf_add(&b64, "", 1);
  if (err == 0)
    set_string(cJSON_GetObjectItemCaseSensitive(root, "awslogs"),
               cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(root, "awslogs"), "data"),
               b64.data);
  cJSON_free(js); /* cJSON's allocator: the engine may swap it */
  lk_buf_free(&gz);
  lk_buf_free(&b64);
  return err;
}

static int is_b64(const slot_t *s) {
  return s->fix == FIX_KIN_DATA ||
         (s->fix == FIX_HTTP_BODY &&
          cJSON_IsTrue(
              cJSON_GetObjectItemCaseSensitive(s->owner, "isBase64Encoded")));
}

/* The slot's value as the function sees it (keys decoded, binary bodies
 * raw) into buf, at most cap bytes; its length, or -1. */
static long slot_value(const slot_t *s, char *buf, size_t cap) {
  const char *v = s->item->valuestring;
  lk_buf_t tmp;
  size_t n;
  int err;

  lk_buf_init(&tmp, MAX_FIELD);
  if (s->fix == FIX_S3_KEY)
    err = lk_url_decode(&tmp, v, strlen(v), 1);
  else if (is_b64(s))
    err = lk_b64_decode(&tmp, v, strlen(v));
  else
    err = lk_buf_adds(&tmp, v);
  n = tmp.len < cap ? tmp.len : cap;
  if (n)
    memcpy(buf, tmp.data, n);
  lk_buf_free(&tmp);
  return err ? -1 : (long)n;
}

static int redo(ctx_t *c, cJSON *root, const slot_t *s, size_t n);

/* A member "__proto__" holding the canary property, in the object a field
 * of a JSON body sits in: code that merges what it parsed into another
 * object sets Object.prototype's property instead. */
static int pollute(ctx_t *c, cJSON *root, const slot_t *s) {
  cJSON *p;

  if (cJSON_GetObjectItemCaseSensitive(s->parent, "__proto__"))
    return -1;
  p = cJSON_AddObjectToObject(s->parent, "__proto__");
  cJSON_AddStringToObject(p, LK_CANARY_PROTO, "lambkin");
  return redo(c, root, s, 0);
}

/* Changes the slot: a mutation of its value, or (crossover) the donor's
 * value; then what depends on it is redone. A field of a JSON body may
 * instead get a polluting sibling. */
static int apply(ctx_t *c, cJSON *root, slot_t *s, lk_rand_t *rs,
                 lk_byte_mutator mutate, const char *donor, size_t dlen) {
  int b64 = is_b64(s);
  /* what still fits the event, as the field will be written (base64
   * takes 4 bytes for 3, a URL-encoded key up to 3 for 1); the value as
   * the event holds it is at least as long as decoded */
  size_t held = strlen(s->item->valuestring);
  size_t n, cap = held + c->room / (b64 ? 2 : s->fix == FIX_S3_KEY ? 3 : 1);
  char *buf;
  lk_buf_t tmp;
  long got;

  if (!donor && s->inner && cJSON_IsObject(s->parent) && c->room > 64 &&
      lk_rand_below(rs, 16) == 0)
    return pollute(c, root, s);
  if (cap > MAX_FIELD)
    cap = MAX_FIELD;
  buf = lk_xmalloc(cap + 1);
  got = slot_value(s, buf, cap);
  if (got < 0) {
    free(buf);
    return -1;
  }
  if (donor) {
    n = dlen < cap ? dlen : cap;
    memcpy(buf, donor, n);
  } else if (c->words && c->words->n > 0 && lk_rand_below(rs, 6) == 0) {
    const char *w = c->words->word[lk_rand_below(rs, (uint32_t)c->words->n)];

    n = splice(buf, (size_t)got, cap, w, strlen(w), rs);
  } else {
    n = lk_mutate_value(buf, (size_t)got, cap, rs, mutate);
  }
  if (!b64)
    lk_utf8_repair(buf, n); /* JSON text: no NUL, only UTF-8 */
  buf[n] = '\0';
  lk_buf_init(&tmp, 4 * MAX_FIELD + 8);
  if (s->fix == FIX_S3_KEY) {
    lk_s3_key_encode(&tmp, buf, n);
  } else if (b64) {
    lk_b64_encode(&tmp, buf, n);
  } else {
    lk_buf_add(&tmp, buf, n);
  }
  lk_buf_add(&tmp, "", 1);
  set_string(s->parent, s->item, tmp.data);
  lk_buf_free(&tmp);
  free(buf);
  return redo(c, root, s, n);
}

/* What depends on the changed slot (now n bytes as the function reads
 * it): a checksum, the text it is inside, a length. */
static int redo(ctx_t *c, cJSON *root, const slot_t *s, size_t n) {
  lk_buf_t tmp;

  switch (s->fix) {
  case FIX_SQS_BODY:
    fix_md5(s->owner);
    break;
  case FIX_SQS_INNER: {
    char *body = cJSON_PrintUnformatted(s->inner);

    if (body)
      set_string(s->owner, cJSON_GetObjectItemCaseSensitive(s->owner, "body"),
                 body);
    cJSON_free(body);
    fix_md5(s->owner);
    break;
  }
  case FIX_SNS_INNER: {
    char *msg = cJSON_PrintUnformatted(s->inner);

    if (msg)
      set_string(s->owner,
                 cJSON_GetObjectItemCaseSensitive(s->owner, "Message"), msg);
    cJSON_free(msg);
    break;
  }
  case FIX_KIN_INNER: {
    char *doc = cJSON_PrintUnformatted(s->inner);

    if (doc) {
      lk_buf_init(&tmp, 4 * MAX_FIELD + 8);
      lk_b64_encode(&tmp, doc, strlen(doc));
      lk_buf_add(&tmp, "", 1);
      if (lk_buf_error(&tmp) == 0)
        set_string(s->owner, cJSON_GetObjectItemCaseSensitive(s->owner, "data"),
                   tmp.data);
      lk_buf_free(&tmp);
    }
    cJSON_free(doc);
    break;
  }
  case FIX_LOG:
    return reencode_logs(root, c->logs_doc);
  case FIX_DDB_KEY:
    fix_ddb_key(s);
    break;
  case FIX_HTTP_BODY: {
    cJSON *h = cJSON_GetObjectItemCaseSensitive(s->owner, "headers");
    cJSON *it;

    cJSON_ArrayForEach(it,
                       h) if (it->string &&
                              strcasecmp(it->string, "content-length") == 0 &&
                              cJSON_IsString(it)) {
      char len[24];

      snprintf(len, sizeof(len), "%zu", n);
      set_string(h, it, len);
      break;
    }
    break;
  }
  default:
    break;
  }
  return 0;
}

size_t lk_mutate_event(char *buf, size_t len, size_t max, unsigned seed,
                       lk_byte_mutator mutate) {
  return lk_mutate_event_words(buf, len, max, seed, mutate, NULL);
}

size_t lk_mutate_event_words(char *buf, size_t len, size_t max, unsigned seed,
                             lk_byte_mutator mutate, const lk_words_t *words) {
  cJSON *root = cJSON_ParseWithLength(buf, len);
  lk_source_t src = root ? source_of(root) : LK_SRC_UNKNOWN;
  ctx_t c;
  char *out;
  size_t n = 0;
  lk_rand_t rs;
  int i;

  if (src == LK_SRC_UNKNOWN) {
    cJSON_Delete(root);
    return 0;
  }
  memset(&c, 0, sizeof(c));
  c.room = max > len + 64 ? max - len - 64 : 0; /* 64: what fixes add */
  c.words = words;
  collect(&c, root, src);
  lk_rand_seed(&rs, seed);
  if (c.n > 0 && apply(&c, root, &c.slots[lk_rand_below(&rs, (uint32_t)c.n)],
                       &rs, mutate, NULL, 0) == 0) {
    out = cJSON_PrintUnformatted(root);
    if (out && strlen(out) <= max) {
      n = strlen(out);
      memcpy(buf, out, n);
    }
    cJSON_free(out);
  }
  for (i = 0; i < c.n_inner; i++)
    cJSON_Delete(c.inner_docs[i]);
  cJSON_Delete(c.logs_doc);
  cJSON_Delete(root);
  return n;
}

size_t lk_crossover_event(const char *a, size_t alen, const char *b,
                          size_t blen, char *out, size_t max, unsigned seed) {
  cJSON *ra = cJSON_ParseWithLength(a, alen);
  cJSON *rb = cJSON_ParseWithLength(b, blen);
  lk_source_t src = ra ? source_of(ra) : LK_SRC_UNKNOWN;
  ctx_t *ca = lk_xcalloc(1, sizeof(*ca)), *cb = lk_xcalloc(1, sizeof(*cb));
  char *donor = lk_xmalloc(MAX_FIELD + 1), *text = NULL;
  lk_rand_t rs;
  size_t n = 0;
  long dl;
  int i;

  if (src == LK_SRC_UNKNOWN || rb == NULL || source_of(rb) != src)
    goto done;
  ca->room = max > alen + 64 ? max - alen - 64 : 0;
  collect(ca, ra, src);
  collect(cb, rb, src);
  if (ca->n == 0 || cb->n == 0)
    goto done;
  lk_rand_seed(&rs, seed);
  dl = slot_value(&cb->slots[lk_rand_below(&rs, (uint32_t)cb->n)], donor,
                  MAX_FIELD);
  if (dl < 0 || apply(ca, ra, &ca->slots[lk_rand_below(&rs, (uint32_t)ca->n)],
                      &rs, NULL, donor, (size_t)dl) != 0)
    goto done;
  text = cJSON_PrintUnformatted(ra);
  if (text && strlen(text) <= max) {
    n = strlen(text);
    memcpy(out, text, n);
  }
done:
  cJSON_free(text);
  for (i = 0; i < ca->n_inner; i++)
    cJSON_Delete(ca->inner_docs[i]);
  for (i = 0; i < cb->n_inner; i++)
    cJSON_Delete(cb->inner_docs[i]);
  cJSON_Delete(ca->logs_doc);
  cJSON_Delete(cb->logs_doc);
  free(ca);
  free(cb);
  free(donor);
  cJSON_Delete(ra);
  cJSON_Delete(rb);
  return n;
}
