/* Emulated S3 over REST-XML. Buckets live in an array; each bucket keeps
 * its objects sorted by key, so ListObjects walks them in order with a
 * binary search to its start. Every reply has the shape the SDKs parse:
 * an XML document in S3's namespace, or an <Error> with Code and Message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "s3.h"

#define XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define MAX_KEY 1024
#define LIST_MAX 1000

typedef struct bucket {
  char *name;
  time_t created;
  lk_s3_object_t **objs; /* sorted by key */
  int n, cap;
  char *notification; /* the last NotificationConfiguration, as sent */
} bucket_t;

struct lk_s3 {
  bucket_t **buckets;
  int n;
  size_t bytes;
  unsigned long long seq;
  char region[32];
  char account[16];
  lk_s3_event_cb cb;
  void *ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
};

/* ---- records of the state log ---- */

static cJSON *obj_json(const lk_s3_object_t *o);

/* {"s3": op, "bucket": bucket}, to which the caller adds; sent, freed. */
static cJSON *rec_new(const char *op, const char *bucket) {
  cJSON *r = cJSON_CreateObject();

  cJSON_AddStringToObject(r, "s3", op);
  cJSON_AddStringToObject(r, "bucket", bucket);
  return r;
}

static void record(lk_s3_t *s3, cJSON *rec) {
  if (s3->rec_cb)
    s3->rec_cb(s3->rec_ud, rec, 1); /* every S3 change is answered */
  cJSON_Delete(rec);
}

/* ---- the store ---- */

lk_s3_t *lk_s3_new(const char *region, const char *account) {
  lk_s3_t *s3 = lk_xcalloc(1, sizeof(*s3));

  snprintf(s3->region, sizeof(s3->region), "%s", region);
  snprintf(s3->account, sizeof(s3->account), "%s", account);
  return s3;
}

static void obj_free(lk_s3_object_t *o) {
  int i;

  if (o == NULL)
    return;
  for (i = 0; i < o->n_meta; i++) {
    free(o->meta[i][0]);
    free(o->meta[i][1]);
  }
  free(o->key);
  free(o->data);
  free(o->content_type);
  free(o);
}

static void bucket_free(bucket_t *b) {
  int i;

  for (i = 0; i < b->n; i++)
    obj_free(b->objs[i]);
  free(b->objs);
  free(b->notification);
  free(b->name);
  free(b);
}

void lk_s3_free(lk_s3_t *s3) {
  int i;

  if (s3 == NULL)
    return;
  for (i = 0; i < s3->n; i++)
    bucket_free(s3->buckets[i]);
  free(s3->buckets);
  free(s3);
}

void lk_s3_on_event(lk_s3_t *s3, lk_s3_event_cb cb, void *ud) {
  s3->cb = cb;
  s3->ud = ud;
}

static bucket_t *find_bucket(lk_s3_t *s3, const char *name) {
  int i;

  for (i = 0; name && i < s3->n; i++)
    if (strcmp(s3->buckets[i]->name, name) == 0)
      return s3->buckets[i];
  return NULL;
}

/* Index of the first object whose key is >= key. */
static int lower_bound(const bucket_t *b, const char *key) {
  int lo = 0, hi = b->n;

  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;

    if (strcmp(b->objs[mid]->key, key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int valid_bucket_name(const char *s) {
  size_t n = strlen(s), i;

  if (n < 3 || n > 63)
    return 0;
  for (i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '-' || s[i] == '.' || s[i] == '_'))
      return 0;
  return 1;
}

int lk_s3_create_bucket(lk_s3_t *s3, const char *name) {
  bucket_t *b;

  if (!valid_bucket_name(name))
    return LK_EINVAL;
  if (find_bucket(s3, name))
    return LK_EEXIST;
  if (s3->n >= LK_S3_MAX_BUCKETS)
    return LK_ENOSPC;
  s3->buckets = lk_xrealloc(s3->buckets, sizeof(b) * (size_t)(s3->n + 1));
  b = lk_xcalloc(1, sizeof(*b));
  b->name = lk_xstrdup(name);
  b->created = time(NULL);
  s3->buckets[s3->n++] = b;
  return 0;
}

static void emit(lk_s3_t *s3, const char *bucket, const char *event,
                 const char *key, const lk_s3_object_t *o, size_t size,
                 const char *etag, const char *trace) {
  if (s3->cb)
    s3->cb(s3->ud, bucket, event, key, o, size, etag, trace);
}

/* What an object counts against LK_S3_MAX_BYTES: its data, and its key,
 * content type and metadata, which a flood of empty objects would
 * otherwise pile up outside the budget. */
static size_t obj_size(const lk_s3_object_t *o) {
  size_t n = o->len + strlen(o->key) + strlen(o->content_type);
  int i;

  for (i = 0; i < o->n_meta; i++)
    n += strlen(o->meta[i][0]) + strlen(o->meta[i][1]);
  return n;
}

/* Stores o under its key, replacing an older version; takes o. */
static int store(lk_s3_t *s3, bucket_t *b, lk_s3_object_t *o) {
  int i = lower_bound(b, o->key);
  size_t old = 0;

  if (i < b->n && strcmp(b->objs[i]->key, o->key) == 0)
    old = obj_size(b->objs[i]);
  if (s3->bytes - old + obj_size(o) > LK_S3_MAX_BYTES) {
    obj_free(o);
    return LK_ENOSPC;
  }
  s3->bytes = s3->bytes - old + obj_size(o);
  o->seq = ++s3->seq;
  o->mtime = time(NULL);
  lk_md5_hex(o->data ? o->data : "", o->len, o->etag);
  if (s3->rec_cb) {
    cJSON *r = rec_new("put", b->name);

    cJSON_AddItemToObject(r, "object", obj_json(o));
    record(s3, r);
  }
  if (old || (i < b->n && strcmp(b->objs[i]->key, o->key) == 0)) {
    obj_free(b->objs[i]);
    b->objs[i] = o;
    return 0;
  }
  if (b->n == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 16;
    b->objs = lk_xrealloc(b->objs, sizeof(*b->objs) * (size_t)b->cap);
  }
  memmove(&b->objs[i + 1], &b->objs[i], sizeof(*b->objs) * (size_t)(b->n - i));
  b->objs[i] = o;
  b->n++;
  return 0;
}

static lk_s3_object_t *obj_new(const char *key, const void *data, size_t len,
                               const char *content_type) {
  lk_s3_object_t *o = lk_xcalloc(1, sizeof(*o));

  o->key = lk_xstrdup(key);
  o->data = lk_xmalloc(len ? len : 1);
  o->content_type =
      lk_xstrdup(content_type ? content_type : "binary/octet-stream");
  if (len)
    memcpy(o->data, data, len);
  o->len = len;
  return o;
}

int lk_s3_put_object(lk_s3_t *s3, const char *bucket, const char *key,
                     const void *data, size_t len, const char *content_type,
                     const char *trace) {
  bucket_t *b = find_bucket(s3, bucket);
  lk_s3_object_t *o;
  int err;

  if (b == NULL)
    return LK_ENOENT;
  if (len > LK_S3_MAX_OBJECT || strlen(key) > MAX_KEY || key[0] == '\0')
    return LK_EINVAL;
  o = obj_new(key, data, len, content_type);
  err = store(s3, b, o);
  if (err == 0)
    emit(s3, bucket, "ObjectCreated:Put", key, o, o->len, o->etag, trace);
  return err;
}

const lk_s3_object_t *lk_s3_get_object(lk_s3_t *s3, const char *bucket,
                                       const char *key) {
  bucket_t *b = find_bucket(s3, bucket);
  int i;

  if (b == NULL)
    return NULL;
  i = lower_bound(b, key);
  return i < b->n && strcmp(b->objs[i]->key, key) == 0 ? b->objs[i] : NULL;
}

int lk_s3_delete(lk_s3_t *s3, const char *bucket, const char *key,
                 const char *trace) {
  bucket_t *b = find_bucket(s3, bucket);
  int i;

  if (b == NULL)
    return LK_ENOENT;
  i = lower_bound(b, key);
  if (i >= b->n || strcmp(b->objs[i]->key, key) != 0)
    return 0; /* S3 deletes what is not there without complaint */
  if (s3->rec_cb) {
    cJSON *r = rec_new("del", bucket);

    cJSON_AddStringToObject(r, "key", key);
    record(s3, r);
  }
  s3->bytes -= obj_size(b->objs[i]);
  obj_free(b->objs[i]);
  memmove(&b->objs[i], &b->objs[i + 1],
          sizeof(*b->objs) * (size_t)(b->n - i - 1));
  b->n--;
  emit(s3, bucket, "ObjectRemoved:Delete", key, NULL, 0, NULL, trace);
  return 0;
}

const char *lk_s3_notification(lk_s3_t *s3, const char *bucket) {
  bucket_t *b = find_bucket(s3, bucket);

  return b ? b->notification : NULL;
}

/* ---- the wire protocol ---- */

typedef struct s3req {
  lk_s3_t *s3;
  lk_http_req_t *req;
  char bucket[64];
  lk_buf_t key; /* decoded; empty for bucket-level calls */
  char rid[17];
  /* The caller's X-Amzn-Trace-Id, copied: events fire after the reply,
   * when the request's own bytes are gone. */
  char trace[256];
} s3req_t;

static void http_date(time_t t, char *out, size_t cap) {
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void iso_date(time_t t, char *out, size_t cap) {
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static void reply(s3req_t *r, int status, lk_http_header_t *extra, int n_extra,
                  const char *body, size_t len) {
  lk_http_header_t h[LK_S3_MAX_META + 16];
  int n = 0, i;

  h[n++] = (lk_http_header_t){"x-amz-request-id", r->rid};
  h[n++] = (lk_http_header_t){"x-amz-id-2", r->rid};
  if (body && len && body[0] == '<')
    h[n++] = (lk_http_header_t){"Content-Type", "application/xml"};
  for (i = 0; i < n_extra && n < (int)(sizeof(h) / sizeof(h[0])); i++)
    h[n++] = extra[i];
  lk_http_respond(r->req, status, h, n, body, len);
}

static void s3_error(s3req_t *r, int status, const char *code, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/* A document that did not fit its ceiling is never sent in part. */
static void reply_buf(s3req_t *r, int status, lk_buf_t *b) {
  if (lk_buf_error(b))
    s3_error(r, 500, "InternalError", "the response is larger than %zu bytes",
             b->max);
  else
    reply(r, status, NULL, 0, b->data, b->len);
  lk_buf_free(b);
}

static void s3_error(s3req_t *r, int status, const char *code, const char *fmt,
                     ...) {
  lk_buf_t b;
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (strcmp(r->req->method, "HEAD") == 0) { /* no body on HEAD */
    reply(r, status, NULL, 0, NULL, 0);
    return;
  }
  lk_buf_init(&b, 64 * 1024);
  lk_buf_printf(&b, XML_HEAD "<Error><Code>%s</Code><Message>", code);
  lk_xml_escape(&b, msg, strlen(msg));
  lk_buf_adds(&b, "</Message>");
  if (r->bucket[0]) {
    lk_buf_adds(&b, "<BucketName>");
    lk_xml_escape(&b, r->bucket, strlen(r->bucket));
    lk_buf_adds(&b, "</BucketName>");
  }
  if (r->key.len) {
    lk_buf_adds(&b, "<Key>");
    lk_xml_escape(&b, r->key.data, r->key.len);
    lk_buf_adds(&b, "</Key>");
  }
  lk_buf_printf(&b, "<RequestId>%s</RequestId></Error>", r->rid);
  /* Fits by construction: the message and the names are bounded. */
  reply(r, status, NULL, 0, lk_buf_str(&b), b.len);
  lk_buf_free(&b);
}

/* The value of a query parameter, decoded into out; NULL when absent, ""
 * for a bare flag such as "?delete". */
static const char *query_param(const char *q, const char *name, lk_buf_t *out) {
  size_t nl = strlen(name);

  lk_buf_reset(out);
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t seg = amp ? (size_t)(amp - q) : strlen(q);

    if (seg >= nl && strncmp(q, name, nl) == 0 && (seg == nl || q[nl] == '=')) {
      if (seg > nl)
        lk_url_decode(out, q + nl + 1, seg - nl - 1, 1);
      return lk_buf_str(out);
    }
    q = amp ? amp + 1 : NULL;
  }
  return NULL;
}

static int has_param(const lk_http_req_t *req, const char *name) {
  lk_buf_t tmp;
  int found;

  lk_buf_init(&tmp, 4096);
  found = query_param(req->query, name, &tmp) != NULL;
  lk_buf_free(&tmp);
  return found;
}

/* ---- buckets ---- */

static void list_buckets(s3req_t *r) {
  lk_buf_t b;
  char d[40];
  int i;

  lk_buf_init(&b, 4 * 1024 * 1024);
  lk_buf_printf(&b,
                XML_HEAD "<ListAllMyBucketsResult xmlns=\"" XMLNS "\">"
                         "<Owner><ID>%s</ID><DisplayName>lambkin</DisplayName>"
                         "</Owner><Buckets>",
                r->s3->account);
  for (i = 0; i < r->s3->n; i++) {
    iso_date(r->s3->buckets[i]->created, d, sizeof(d));
    lk_buf_adds(&b, "<Bucket><Name>");
    lk_xml_escape(&b, r->s3->buckets[i]->name, strlen(r->s3->buckets[i]->name));
    lk_buf_printf(&b, "</Name><CreationDate>%s</CreationDate></Bucket>", d);
  }
  lk_buf_adds(&b, "</Buckets></ListAllMyBucketsResult>");
  reply_buf(r, 200, &b);
}

static void create_bucket(s3req_t *r) {
  int err = lk_s3_create_bucket(r->s3, r->bucket);
  char loc[80];
  lk_http_header_t h[1];
  cJSON *rec;

  if (err == LK_EEXIST) {
    s3_error(r, 409, "BucketAlreadyOwnedByYou",
             "Your previous request to create the named bucket succeeded "
             "and you already own it.");
    return;
  }
  if (err == LK_EINVAL) {
    s3_error(r, 400, "InvalidBucketName", "The specified bucket is not valid.");
    return;
  }
  if (err) {
    s3_error(r, 400, "TooManyBuckets", "%s", lk_strerror(err));
    return;
  }
  rec = rec_new("bucket", r->bucket);
  cJSON_AddNumberToObject(rec, "created",
                          (double)find_bucket(r->s3, r->bucket)->created);
  record(r->s3, rec);
  snprintf(loc, sizeof(loc), "/%s", r->bucket);
  h[0] = (lk_http_header_t){"Location", loc};
  reply(r, 200, h, 1, NULL, 0);
}

static void head_bucket(s3req_t *r, bucket_t *b) {
  lk_http_header_t h[] = {{"x-amz-bucket-region", r->s3->region}};

  (void)b;
  reply(r, 200, h, 1, NULL, 0);
}

static void remove_bucket(lk_s3_t *s3, bucket_t *b) {
  int i;

  for (i = 0; i < b->n; i++)
    s3->bytes -= obj_size(b->objs[i]);
  for (i = 0; i < s3->n; i++)
    if (s3->buckets[i] == b) {
      memmove(&s3->buckets[i], &s3->buckets[i + 1],
              sizeof(b) * (size_t)(s3->n - i - 1));
      s3->n--;
      break;
    }
  bucket_free(b);
}

static void delete_bucket(s3req_t *r, bucket_t *b) {
  if (b->n) {
    s3_error(r, 409, "BucketNotEmpty",
             "The bucket you tried to delete is not empty");
    return;
  }
  record(r->s3, rec_new("rmbucket", b->name));
  remove_bucket(r->s3, b);
  reply(r, 204, NULL, 0, NULL, 0);
}

static void get_location(s3req_t *r, bucket_t *b) {
  static const char loc[] =
      XML_HEAD "<LocationConstraint xmlns=\"" XMLNS "\"/>";

  (void)b;
  reply(r, 200, NULL, 0, loc, sizeof(loc) - 1);
}

static void add_key(lk_buf_t *b, const char *tag, const char *s, size_t n,
                    int url) {
  lk_buf_printf(b, "<%s>", tag);
  if (url) {
    lk_buf_t e;

    lk_buf_init(&e, 4 * MAX_KEY);
    lk_url_encode(&e, s, n, 1);
    lk_xml_escape(b, lk_buf_str(&e), e.len);
    lk_buf_free(&e);
  } else {
    lk_xml_escape(b, s, n);
  }
  lk_buf_printf(b, "</%s>", tag);
}

/* ---- ListObjects (v1) and ListObjectsV2 ---- */

/* One listing: its parameters, then what the walk over the keys found.
 * The continuation token is the last key returned, base64'd. */
typedef struct listing {
  lk_buf_t prefix, delim, start, tmp, last_cp;
  int v2, url, max;
  int count, truncated;
  const char *last; /* the last key (or common prefix) listed */
} listing_t;

static void listing_free(listing_t *l) {
  lk_buf_free(&l->prefix);
  lk_buf_free(&l->delim);
  lk_buf_free(&l->start);
  lk_buf_free(&l->tmp);
  lk_buf_free(&l->last_cp);
}

/* The query's parameters; 0, or -1 once the error is answered. */
static int list_params(s3req_t *r, listing_t *l) {
  const char *q = r->req->query, *v;
  long m;

  l->v2 = has_param(r->req, "list-type");
  l->max = LIST_MAX;
  query_param(q, "prefix", &l->prefix);
  query_param(q, "delimiter", &l->delim);
  v = query_param(q, "encoding-type", &l->tmp);
  l->url = v && strcmp(v, "url") == 0;
  v = query_param(q, "max-keys", &l->tmp);
  if (v && lk_parse_long(v, 0, 1L << 30, &m) != 0) {
    s3_error(r, 400, "InvalidArgument", "max-keys must be a number");
    return -1;
  }
  if (v)
    l->max = m > LIST_MAX ? LIST_MAX : (int)m;
  v = query_param(q, l->v2 ? "continuation-token" : "marker", &l->tmp);
  if (v && l->v2 && lk_b64_decode(&l->start, v, strlen(v))) {
    s3_error(r, 400, "InvalidArgument",
             "The continuation token provided is incorrect");
    return -1;
  }
  if (!l->v2 && v)
    lk_buf_adds(&l->start, v);
  if (l->v2 && v == NULL && query_param(q, "start-after", &l->tmp))
    lk_buf_adds(&l->start, lk_buf_str(&l->tmp));
  return 0;
}

/* The result's opening elements, echoing the request. */
static void list_head(s3req_t *r, bucket_t *b, listing_t *l, lk_buf_t *out) {
  const char *q = r->req->query;

  lk_buf_adds(out, XML_HEAD "<ListBucketResult xmlns=\"" XMLNS "\">");
  add_key(out, "Name", b->name, strlen(b->name), 0);
  add_key(out, "Prefix", lk_buf_str(&l->prefix), l->prefix.len, l->url);
  if (l->delim.len)
    add_key(out, "Delimiter", l->delim.data, l->delim.len, l->url);
  lk_buf_printf(out, "<MaxKeys>%d</MaxKeys>", l->max);
  if (l->url)
    lk_buf_adds(out, "<EncodingType>url</EncodingType>");
  if (l->v2 && query_param(q, "continuation-token", &l->tmp))
    add_key(out, "ContinuationToken", lk_buf_str(&l->tmp), l->tmp.len, 0);
  if (l->v2 && query_param(q, "start-after", &l->tmp))
    add_key(out, "StartAfter", lk_buf_str(&l->tmp), l->tmp.len, l->url);
  if (!l->v2 && query_param(q, "marker", &l->tmp))
    add_key(out, "Marker", lk_buf_str(&l->tmp), l->tmp.len, l->url);
}

/* A key that the delimiter rolls into a CommonPrefix: 1 when it is (and
 * listed, or already listed), 0 when the key stands on its own. */
static int list_common(listing_t *l, const char *key, lk_buf_t *common) {
  const char *hit =
      l->delim.len ? strstr(key + l->prefix.len, l->delim.data) : NULL;
  size_t cpl;

  if (hit == NULL)
    return 0;
  cpl = (size_t)(hit - key) + l->delim.len;
  if (l->last_cp.len == cpl && memcmp(l->last_cp.data, key, cpl) == 0)
    return 1; /* rolled into the same CommonPrefix */
  if (l->count == l->max) {
    l->truncated = 1;
    return 1;
  }
  lk_buf_reset(&l->last_cp);
  lk_buf_add(&l->last_cp, key, cpl);
  lk_buf_adds(common, "<CommonPrefixes>");
  add_key(common, "Prefix", key, cpl, l->url);
  lk_buf_adds(common, "</CommonPrefixes>");
  l->count++;
  l->last = key;
  return 1;
}

/* The keys after start and under the prefix, in order, up to max. */
static void list_walk(bucket_t *b, listing_t *l, lk_buf_t *out) {
  const char *from = l->prefix.len ? l->prefix.data : "";
  const char *start = lk_buf_str(&l->start);
  lk_buf_t common;
  char d[40];
  int i;

  lk_buf_init(&common, 8 * 1024 * 1024);
  if (strcmp(start, from) > 0)
    from = start;
  for (i = lower_bound(b, from); i < b->n && !l->truncated; i++) {
    const lk_s3_object_t *o = b->objs[i];

    if (start[0] && strcmp(o->key, start) <= 0)
      continue; /* keys strictly after the start */
    if (l->prefix.len && strncmp(o->key, l->prefix.data, l->prefix.len) != 0)
      break; /* sorted: past the prefix */
    if (list_common(l, o->key, &common))
      continue;
    if (l->count == l->max) {
      l->truncated = 1;
      break;
    }
    iso_date(o->mtime, d, sizeof(d));
    lk_buf_adds(out, "<Contents>");
    add_key(out, "Key", o->key, strlen(o->key), l->url);
    lk_buf_printf(out,
                  "<LastModified>%s</LastModified><ETag>&quot;%s&quot;"
                  "</ETag><Size>%zu</Size><StorageClass>STANDARD"
                  "</StorageClass></Contents>",
                  d, o->etag, o->len);
    l->count++;
    l->last = o->key;
  }
  if (lk_buf_error(&common))
    lk_buf_fail(out, lk_buf_error(&common));
  lk_buf_add(out, common.data, common.len);
  lk_buf_free(&common);
}

/* KeyCount, IsTruncated and where the next page starts. */
static void list_tail(listing_t *l, lk_buf_t *out) {
  if (l->v2)
    lk_buf_printf(out, "<KeyCount>%d</KeyCount>", l->count);
  lk_buf_printf(out, "<IsTruncated>%s</IsTruncated>",
                l->truncated ? "true" : "false");
  if (l->truncated && l->last) {
    /* After a CommonPrefix the next page starts past every key under it. */
    lk_buf_reset(&l->tmp);
    if (l->last_cp.len &&
        strncmp(l->last, l->last_cp.data, l->last_cp.len) == 0) {
      lk_buf_add(&l->tmp, l->last_cp.data, l->last_cp.len);
      lk_buf_add(&l->tmp, "\xff", 1);
    } else {
      lk_buf_adds(&l->tmp, l->last);
    }
    if (l->v2) {
      lk_buf_t tok;

      lk_buf_init(&tok, 8 * MAX_KEY);
      lk_b64_encode(&tok, lk_buf_str(&l->tmp), l->tmp.len);
      add_key(out, "NextContinuationToken", lk_buf_str(&tok), tok.len, 0);
      lk_buf_free(&tok);
    } else {
      add_key(out, "NextMarker", lk_buf_str(&l->tmp), l->tmp.len, l->url);
    }
  }
  lk_buf_adds(out, "</ListBucketResult>");
}

static void list_objects(s3req_t *r, bucket_t *b) {
  listing_t l;
  lk_buf_t out;

  memset(&l, 0, sizeof(l));
  lk_buf_init(&l.prefix, 4 * MAX_KEY);
  lk_buf_init(&l.delim, 64);
  lk_buf_init(&l.tmp, 4 * MAX_KEY);
  lk_buf_init(&l.start, 4 * MAX_KEY);
  lk_buf_init(&l.last_cp, 4 * MAX_KEY);
  lk_buf_init(&out, 16 * 1024 * 1024);
  if (list_params(r, &l) == 0) {
    list_head(r, b, &l, &out);
    list_walk(b, &l, &out);
    list_tail(&l, &out);
    reply_buf(r, 200, &out);
  }
  lk_buf_free(&out);
  listing_free(&l);
}

/* ---- notification configuration, DeleteObjects ---- */

static void put_notification(s3req_t *r, bucket_t *b) {
  const char *body = lk_buf_str(&r->req->body);

  if (r->req->body.len == 0 ||
      strstr(body, "NotificationConfiguration") == NULL) {
    s3_error(r, 400, "MalformedXML",
             "The XML you provided was not well-formed or did not validate "
             "against our published schema");
    return;
  }
  if (r->req->body.len > LK_S3_MAX_NOTIFICATION) {
    s3_error(r, 400, "EntityTooLarge",
             "lambkin keeps notification configurations of at most 256 KB");
    return;
  }
  free(b->notification);
  b->notification = lk_xstrndup(body, r->req->body.len);
  if (r->s3->rec_cb) {
    cJSON *rec = rec_new("notif", b->name);

    cJSON_AddStringToObject(rec, "doc", b->notification);
    record(r->s3, rec);
  }
  reply(r, 200, NULL, 0, NULL, 0);
}

static void get_notification(s3req_t *r, bucket_t *b) {
  static const char empty[] =
      XML_HEAD "<NotificationConfiguration xmlns=\"" XMLNS "\"/>";
  const char *doc = b->notification ? b->notification : empty;

  reply(r, 200, NULL, 0, doc, strlen(doc));
}

/* DeleteObjects: <Delete><Object><Key>k</Key></Object>...</Delete>. */
static void delete_objects(s3req_t *r, bucket_t *b) {
  const char *body = lk_buf_str(&r->req->body);
  const char *end = body + r->req->body.len, *cur = body, *obj;
  const char *trace = r->trace[0] ? r->trace : NULL;
  size_t ol;
  int quiet = strstr(body, "<Quiet>true</Quiet>") != NULL, n = 0;
  lk_buf_t out, key;

  lk_buf_init(&out, 8 * 1024 * 1024);
  lk_buf_init(&key, 4 * MAX_KEY);
  lk_buf_adds(&out, XML_HEAD "<DeleteResult xmlns=\"" XMLNS "\">");
  while ((obj = lk_xml_next(&cur, end, "Object", &ol)) != NULL) {
    const char *oc = obj, *k;
    size_t kl;

    k = lk_xml_next(&oc, obj + ol, "Key", &kl);
    if (k == NULL || ++n > LIST_MAX)
      break;
    lk_buf_reset(&key);
    lk_xml_unescape(&key, k, kl);
    lk_s3_delete(r->s3, b->name, lk_buf_str(&key), trace);
    if (!quiet) {
      lk_buf_adds(&out, "<Deleted>");
      add_key(&out, "Key", lk_buf_str(&key), key.len, 0);
      lk_buf_adds(&out, "</Deleted>");
    }
  }
  lk_buf_free(&key);
  if (n == 0 || n > LIST_MAX) {
    lk_buf_free(&out);
    s3_error(r, 400, "MalformedXML",
             "The XML you provided was not well-formed or did not validate "
             "against our published schema");
    return;
  }
  lk_buf_adds(&out, "</DeleteResult>");
  reply_buf(r, 200, &out);
}

/* ---- objects ---- */

/* Undoes aws-chunked framing (SigV4 streaming, or the unsigned trailer form
 * the newer SDKs use for checksums): "hex[;ext]\r\ndata\r\n ... 0\r\n". */
static int dechunk(const char *in, size_t n, lk_buf_t *out) {
  size_t i = 0;

  while (i < n) {
    size_t size = 0, start = i;
    const char *eol;

    while (i < n && in[i] != ';' && in[i] != '\r') {
      int d = lk_hexval(in[i]);

      if (d < 0 || i - start > 8)
        return LK_EINVAL;
      size = size * 16 + (size_t)d;
      i++;
    }
    eol = memchr(in + i, '\n', n - i);
    if (eol == NULL)
      return LK_EINVAL;
    i = (size_t)(eol - in) + 1;
    if (size == 0)
      return 0; /* trailers follow; nothing we keep */
    if (size > n - i)
      return LK_EINVAL;
    if (lk_buf_add(out, in + i, size))
      return LK_E2BIG;
    i += size;
    if (i + 2 <= n && in[i] == '\r' && in[i + 1] == '\n')
      i += 2;
  }
  return LK_EINVAL;
}

static int is_chunked(const lk_http_req_t *req) {
  const char *ce = lk_http_header(req, "Content-Encoding");
  const char *sha = lk_http_header(req, "x-amz-content-sha256");

  return (ce && strstr(ce, "aws-chunked")) ||
         (sha && strncmp(sha, "STREAMING-", 10) == 0);
}

static void add_meta(lk_s3_object_t *o, const char *name, const char *value) {
  char *lower, *p;

  if (o->n_meta >= LK_S3_MAX_META)
    return;
  lower = lk_xstrdup(name);
  for (p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  o->meta[o->n_meta][0] = lower;
  o->meta[o->n_meta][1] = lk_xstrdup(value);
  o->n_meta++;
}

static void copy_meta(lk_s3_object_t *o, const lk_http_req_t *req) {
  int i;

  for (i = 0; i < req->n_headers; i++)
    if (strncasecmp(req->headers[i].name, "x-amz-meta-", 11) == 0)
      add_meta(o, req->headers[i].name + 11, req->headers[i].value);
}

static void put_object(s3req_t *r, bucket_t *b) {
  lk_http_req_t *req = r->req;
  const char *data = lk_buf_str(&req->body);
  size_t len = req->body.len;
  const char *trace = r->trace[0] ? r->trace : NULL;
  lk_buf_t plain;
  lk_s3_object_t *o;
  lk_http_header_t h[1];
  char etag[40];

  if (req->body_too_large) {
    s3_error(r, 400, "EntityTooLarge",
             "Your proposed upload exceeds the maximum allowed size");
    return;
  }
  lk_buf_init(&plain, LK_S3_MAX_OBJECT);
  if (is_chunked(req) && dechunk(data, len, &plain)) {
    lk_buf_free(&plain);
    s3_error(r, 400, "IncompleteBody",
             "The request body's aws-chunked framing is malformed");
    return;
  }
  if (is_chunked(req)) {
    data = lk_buf_str(&plain);
    len = plain.len;
  }
  o = obj_new(r->key.data, data, len, lk_http_header(req, "Content-Type"));
  lk_buf_free(&plain);
  copy_meta(o, req);
  if (store(r->s3, b, o)) {
    s3_error(r, 507, "InsufficientStorage", "lambkin's S3 is full (%zu MB)",
             LK_S3_MAX_BYTES >> 20);
    return;
  }
  snprintf(etag, sizeof(etag), "\"%s\"", o->etag);
  h[0] = (lk_http_header_t){"ETag", etag};
  reply(r, 200, h, 1, NULL, 0);
  emit(r->s3, b->name, "ObjectCreated:Put", o->key, o, o->len, o->etag, trace);
}

/* "/bucket/key?versionId=..." of x-amz-copy-source: the source object, or
 * NULL once the error is answered. */
static const lk_s3_object_t *copy_source(s3req_t *r, const char *source) {
  const lk_s3_object_t *from = NULL;
  const char *s, *slash;
  char sb[64], *q;
  lk_buf_t src;

  lk_buf_init(&src, 4 * MAX_KEY);
  lk_url_decode(&src, source, strlen(source), 0);
  s = lk_buf_str(&src);
  s += s[0] == '/';
  q = strstr(s, "?versionId=");
  if (q)
    *q = '\0';
  slash = strchr(s, '/');
  if (slash == NULL || (size_t)(slash - s) >= sizeof(sb)) {
    s3_error(r, 400, "InvalidArgument",
             "Copy Source must mention the source bucket and key");
  } else {
    snprintf(sb, sizeof(sb), "%.*s", (int)(slash - s), s);
    from = lk_s3_get_object(r->s3, sb, slash + 1);
    if (from == NULL)
      s3_error(r, 404, find_bucket(r->s3, sb) ? "NoSuchKey" : "NoSuchBucket",
               "The specified %s does not exist.",
               find_bucket(r->s3, sb) ? "key" : "bucket");
  }
  lk_buf_free(&src);
  return from;
}

static void copy_object(s3req_t *r, bucket_t *b, const char *source) {
  const lk_s3_object_t *from = copy_source(r, source);
  const char *directive = lk_http_header(r->req, "x-amz-metadata-directive");
  lk_s3_object_t *o;
  char d[40];
  lk_buf_t out;
  int i;

  if (from == NULL)
    return;
  if (directive && strcmp(directive, "REPLACE") == 0) {
    o = obj_new(r->key.data, from->data, from->len,
                lk_http_header(r->req, "Content-Type"));
    copy_meta(o, r->req);
  } else {
    o = obj_new(r->key.data, from->data, from->len, from->content_type);
    for (i = 0; i < from->n_meta; i++)
      add_meta(o, from->meta[i][0], from->meta[i][1]);
  }
  if (store(r->s3, b, o)) {
    s3_error(r, 507, "InsufficientStorage", "lambkin's S3 is full");
    return;
  }
  iso_date(o->mtime, d, sizeof(d));
  lk_buf_init(&out, 4096);
  lk_buf_printf(&out,
                XML_HEAD "<CopyObjectResult xmlns=\"" XMLNS "\">"
                         "<LastModified>%s</LastModified><ETag>&quot;%s&quot;"
                         "</ETag></CopyObjectResult>",
                d, o->etag);
  reply_buf(r, 200, &out);
  emit(r->s3, b->name, "ObjectCreated:Copy", o->key, o, o->len, o->etag,
       r->trace[0] ? r->trace : NULL);
}

/* "bytes=a-b", "bytes=a-", "bytes=-n": 0 and the span, or -1 when the range
 * cannot be satisfied. A range S3 would ignore leaves the whole object. */
static int parse_range(const char *h, size_t size, size_t *from, size_t *to) {
  unsigned long long a = 0, b = 0;
  const char *p;
  int have_a = 0, have_b = 0;

  *from = 0;
  *to = size ? size - 1 : 0;
  if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
    return 1;
  for (p = h + 6; *p >= '0' && *p <= '9' && a < (1ULL << 50); p++, have_a = 1)
    a = a * 10 + (unsigned long long)(*p - '0');
  if (*p++ != '-')
    return 1;
  for (; *p >= '0' && *p <= '9' && b < (1ULL << 50); p++, have_b = 1)
    b = b * 10 + (unsigned long long)(*p - '0');
  if (*p != '\0' || (!have_a && !have_b))
    return 1;
  if (!have_a) { /* suffix */
    if (b == 0)
      return -1;
    *from = b >= size ? 0 : size - (size_t)b;
    return size ? 0 : -1;
  }
  if (a >= size)
    return -1;
  *from = (size_t)a;
  if (have_b) {
    if (b < a)
      return 1;
    *to = b >= size ? size - 1 : (size_t)b;
  }
  return 0;
}

/* GET and HEAD (the HTTP layer sends no body for HEAD, but its length). */
static void get_object(s3req_t *r, const lk_s3_object_t *o) {
  lk_http_header_t h[LK_S3_MAX_META + 10];
  char etag[40], date[40], range[96], names[LK_S3_MAX_META][80];
  size_t from, to;
  int n = 0, i, rc, status = 200;

  rc = parse_range(lk_http_header(r->req, "Range"), o->len, &from, &to);
  if (rc < 0) {
    s3_error(r, 416, "InvalidRange", "The requested range is not satisfiable");
    return;
  }
  snprintf(etag, sizeof(etag), "\"%s\"", o->etag);
  http_date(o->mtime, date, sizeof(date));
  h[n++] = (lk_http_header_t){"ETag", etag};
  h[n++] = (lk_http_header_t){"Last-Modified", date};
  h[n++] = (lk_http_header_t){"Content-Type", o->content_type};
  h[n++] = (lk_http_header_t){"Accept-Ranges", "bytes"};
  /* An object is whatever a client put: never a page that runs in
   * lambkin's origin, nor one the browser sniffs into HTML. */
  h[n++] = (lk_http_header_t){"Content-Security-Policy", "sandbox"};
  h[n++] = (lk_http_header_t){"X-Content-Type-Options", "nosniff"};
  if (rc == 0) {
    snprintf(range, sizeof(range), "bytes %zu-%zu/%zu", from, to, o->len);
    h[n++] = (lk_http_header_t){"Content-Range", range};
    status = 206;
  }
  for (i = 0; i < o->n_meta; i++) {
    snprintf(names[i], sizeof(names[i]), "x-amz-meta-%s", o->meta[i][0]);
    h[n++] = (lk_http_header_t){names[i], o->meta[i][1]};
  }
  reply(r, status, h, n, o->data + (o->len ? from : 0),
        o->len ? to - from + 1 : 0);
}

/* ---- routing ---- */

/* Virtual-host style: "bucket.localhost[:port]" or "bucket.s3.<anything>". */
static int host_bucket(const lk_http_req_t *req, char *out, size_t cap) {
  const char *host = lk_http_header(req, "Host");
  const char *colon, *mark, *s3;
  size_t hl;

  if (host == NULL)
    return 0;
  colon = strrchr(host, ':');
  hl = colon && !strchr(colon, ']') ? (size_t)(colon - host) : strlen(host);
  mark = NULL;
  if (hl > 10 && strncmp(host + hl - 10, ".localhost", 10) == 0)
    mark = host + hl - 10;
  s3 = strstr(host, ".s3.");
  if (s3 && s3 < host + hl && (mark == NULL || s3 < mark))
    mark = s3;
  if (mark && mark - host > 3 && strncmp(mark - 3, ".s3", 3) == 0 &&
      mark == host + hl - 10)
    mark -= 3; /* bucket.s3.localhost */
  if (mark == NULL || mark == host || (size_t)(mark - host) >= cap)
    return 0;
  memcpy(out, host, (size_t)(mark - host));
  out[mark - host] = '\0';
  return 1;
}

/* The bucket (from the Host or the path) and the decoded key; 0, or -1
 * once the error is answered. */
static int parse_target(s3req_t *r) {
  const char *path = r->req->path;
  lk_buf_t seg;
  int rc = 0;

  path += *path == '/';
  lk_buf_init(&seg, 4 * MAX_KEY);
  if (!host_bucket(r->req, r->bucket, sizeof(r->bucket))) {
    const char *slash = strchr(path, '/');
    size_t bl = slash ? (size_t)(slash - path) : strlen(path);

    if (lk_url_decode(&seg, path, bl, 0) || seg.len >= sizeof(r->bucket)) {
      s3_error(r, 400, "InvalidBucketName",
               "The specified bucket is not valid.");
      rc = -1;
    } else {
      memcpy(r->bucket, lk_buf_str(&seg), seg.len + 1);
    }
    path = slash ? slash + 1 : "";
  }
  if (rc == 0 &&
      (lk_url_decode(&r->key, path, strlen(path), 0) || r->key.len > MAX_KEY)) {
    lk_buf_reset(&r->key);
    s3_error(r, 400, "KeyTooLongError", "Your key is too long");
    rc = -1;
  }
  lk_buf_free(&seg);
  return rc;
}

static void not_allowed(s3req_t *r) {
  s3_error(r, 405, "MethodNotAllowed",
           "The specified method is not allowed against this resource.");
}

/* Calls on a bucket: the first row whose method (NULL: any) and query
 * flag (NULL: none needed) fit. */
static const struct {
  const char *method, *param;
  void (*fn)(s3req_t *r, bucket_t *b);
} bucket_ops[] = {
    {"HEAD", NULL, head_bucket},
    {"DELETE", NULL, delete_bucket},
    {"PUT", "notification", put_notification},
    {NULL, "notification", get_notification},
    {"POST", "delete", delete_objects},
    {"GET", "location", get_location},
    {"GET", NULL, list_objects},
};

static void serve_bucket(s3req_t *r) {
  bucket_t *b = find_bucket(r->s3, r->bucket);
  const char *m = r->req->method;
  size_t i;

  if (strcmp(m, "PUT") == 0 && !has_param(r->req, "notification")) {
    create_bucket(r);
    return;
  }
  if (b == NULL) {
    s3_error(r, 404, "NoSuchBucket", "The specified bucket does not exist");
    return;
  }
  for (i = 0; i < sizeof(bucket_ops) / sizeof(bucket_ops[0]); i++)
    if ((bucket_ops[i].method == NULL ||
         strcmp(m, bucket_ops[i].method) == 0) &&
        (bucket_ops[i].param == NULL ||
         has_param(r->req, bucket_ops[i].param))) {
      bucket_ops[i].fn(r, b);
      return;
    }
  not_allowed(r);
}

static void serve_object(s3req_t *r) {
  bucket_t *b = find_bucket(r->s3, r->bucket);
  const char *m = r->req->method;
  const char *copy_src = lk_http_header(r->req, "x-amz-copy-source");
  const lk_s3_object_t *o;

  if (b == NULL) {
    s3_error(r, 404, "NoSuchBucket", "The specified bucket does not exist");
  } else if (strcmp(m, "PUT") == 0 && copy_src) {
    copy_object(r, b, copy_src);
  } else if (strcmp(m, "PUT") == 0) {
    put_object(r, b);
  } else if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
    o = lk_s3_get_object(r->s3, r->bucket, r->key.data);
    if (o == NULL)
      s3_error(r, 404, "NoSuchKey", "The specified key does not exist.");
    else
      get_object(r, o);
  } else if (strcmp(m, "DELETE") == 0) {
    lk_s3_delete(r->s3, r->bucket, r->key.data, r->trace[0] ? r->trace : NULL);
    reply(r, 204, NULL, 0, NULL, 0);
  } else {
    not_allowed(r);
  }
}

void lk_s3_serve(lk_s3_t *s3, lk_http_req_t *req) {
  const char *trace = lk_http_header(req, "X-Amzn-Trace-Id");
  s3req_t r;

  memset(&r, 0, sizeof(r));
  r.s3 = s3;
  r.req = req;
  lk_hex(r.rid, 16);
  lk_str_copy(r.trace, sizeof(r.trace), trace ? trace : "");
  lk_buf_init(&r.key, 4 * MAX_KEY);
  if (parse_target(&r) != 0) {
    /* answered */
  } else if (r.bucket[0] == '\0' && strcmp(req->method, "GET") == 0) {
    list_buckets(&r);
  } else if (r.bucket[0] == '\0') {
    not_allowed(&r);
  } else if (r.key.len == 0) {
    serve_bucket(&r);
  } else {
    serve_object(&r);
  }
  lk_buf_free(&r.key);
}

/* ---- persistence (--state): one JSON document, bodies in base64 ---- */

static cJSON *obj_json(const lk_s3_object_t *o) {
  cJSON *jo = cJSON_CreateObject(), *meta;
  lk_buf_t enc;
  int m;

  lk_buf_init(&enc, 2 * (size_t)LK_S3_MAX_OBJECT);
  lk_b64_encode(&enc, o->data, o->len);
  cJSON_AddStringToObject(jo, "key", o->key);
  cJSON_AddStringToObject(jo, "data", lk_buf_str(&enc));
  cJSON_AddStringToObject(jo, "content_type", o->content_type);
  cJSON_AddNumberToObject(jo, "mtime", (double)o->mtime);
  meta = cJSON_AddObjectToObject(jo, "meta");
  for (m = 0; m < o->n_meta; m++)
    cJSON_AddStringToObject(meta, o->meta[m][0], o->meta[m][1]);
  lk_buf_free(&enc);
  return jo;
}

int lk_s3_save(lk_s3_t *s3, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject(),
        *bs = cJSON_AddArrayToObject(root, "buckets");
  int i, k, err = 0;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  for (i = 0; i < s3->n; i++) {
    bucket_t *b = s3->buckets[i];
    cJSON *jb = cJSON_CreateObject(), *objs;

    cJSON_AddItemToArray(bs, jb);
    cJSON_AddStringToObject(jb, "name", b->name);
    cJSON_AddNumberToObject(jb, "created", (double)b->created);
    if (b->notification)
      cJSON_AddStringToObject(jb, "notification", b->notification);
    objs = cJSON_AddArrayToObject(jb, "objects");
    for (k = 0; k < b->n; k++)
      cJSON_AddItemToArray(objs, obj_json(b->objs[k]));
  }
  err = lk_save_json(path, root);
  cJSON_Delete(root);
  return err;
}

/* An object of a snapshot or record into b. */
static void store_json(lk_s3_t *s3, bucket_t *b, const cJSON *jo) {
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(jo, "key");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(jo, "data");
  const cJSON *ct = cJSON_GetObjectItemCaseSensitive(jo, "content_type");
  const cJSON *m;
  lk_s3_object_t *o;
  lk_buf_t dec;

  if (!cJSON_IsString(k) || !cJSON_IsString(d))
    return;
  lk_buf_init(&dec, LK_S3_MAX_OBJECT);
  if (lk_b64_decode(&dec, d->valuestring, strlen(d->valuestring)) == 0) {
    o = obj_new(k->valuestring, lk_buf_str(&dec), dec.len,
                cJSON_IsString(ct) ? ct->valuestring : NULL);
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(jo, "meta")) {
      if (cJSON_IsString(m))
        add_meta(o, m->string, m->valuestring);
    }
    if (store(s3, b, o) == 0)
      o->mtime = (time_t)lk_json_long(jo, "mtime", (long)o->mtime);
  }
  lk_buf_free(&dec);
}

/* The bucket named in o, made if missing (the template's exist). */
static bucket_t *bucket_of(lk_s3_t *s3, const cJSON *o, const char *field) {
  const char *name = lk_json_str(o, field);

  if (name == NULL)
    return NULL;
  lk_s3_create_bucket(s3, name);
  return find_bucket(s3, name);
}

int lk_s3_load(lk_s3_t *s3, const char *path, uint64_t *gen) {
  cJSON *root, *jb;
  int err = lk_load_json(path, &root);
  long aof;

  if (err)
    return err;
  aof = lk_json_long(root, "aof", 0);
  *gen = aof > 0 ? (uint64_t)aof : 0;
  cJSON_ArrayForEach(jb, cJSON_GetObjectItemCaseSensitive(root, "buckets")) {
    const cJSON *notif = cJSON_GetObjectItemCaseSensitive(jb, "notification");
    bucket_t *b = bucket_of(s3, jb, "name");
    const cJSON *jo;

    if (b == NULL)
      continue;
    b->created = (time_t)lk_json_long(jb, "created", (long)b->created);
    if (cJSON_IsString(notif) && b->notification == NULL)
      b->notification = lk_xstrdup(notif->valuestring);
    cJSON_ArrayForEach(jo, cJSON_GetObjectItemCaseSensitive(jb, "objects"))
        store_json(s3, b, jo);
  }
  cJSON_Delete(root);
  return 0;
}

void lk_s3_on_record(lk_s3_t *s3, lk_record_cb cb, void *ud) {
  s3->rec_cb = cb;
  s3->rec_ud = ud;
}

void lk_s3_apply(lk_s3_t *s3, const cJSON *rec) {
  const char *op = lk_json_str(rec, "s3");
  bucket_t *b;

  if (op == NULL)
    return;
  if (strcmp(op, "rmbucket") == 0) {
    b = find_bucket(s3, lk_json_str(rec, "bucket"));
    if (b)
      remove_bucket(s3, b);
    return;
  }
  b = bucket_of(s3, rec, "bucket");
  if (b == NULL)
    return;
  if (strcmp(op, "bucket") == 0) {
    b->created = (time_t)lk_json_long(rec, "created", (long)b->created);
  } else if (strcmp(op, "put") == 0) {
    store_json(s3, b, cJSON_GetObjectItemCaseSensitive(rec, "object"));
  } else if (strcmp(op, "del") == 0 && lk_json_str(rec, "key")) {
    lk_s3_delete(s3, b->name, lk_json_str(rec, "key"), NULL);
  } else if (strcmp(op, "notif") == 0 && lk_json_str(rec, "doc")) {
    free(b->notification);
    b->notification = lk_xstrdup(lk_json_str(rec, "doc"));
  }
}
