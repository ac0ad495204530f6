/* The fast path of the event-aware mutator (see spanmut.h). A scan of the
 * event's JSON text finds the same fields mutator.c's collect() finds in
 * a tree, as spans (offset and length of a string's contents), plus the
 * spans that follow them (md5OfBody, Content-Length). A change rewrites
 * those spans and copies the rest. The scanner is stricter than cJSON:
 * anything it is unsure of (escaped key names, duplicate keys, deep
 * nesting, a NUL or lone surrogate) it leaves to the slow path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "mem.h"
#include "spanmut.h"

#define MAX_SPANS 64           /* as mutator.c's MAX_SLOTS */
#define MAX_FIELD (256 * 1024) /* as mutator.c */
#define MAX_DEPTH 64

typedef enum { K_PLAIN, K_S3_KEY, K_SQS_BODY, K_HTTP_BODY, K_SLOW } kind_t;

/* The source whose field a span is; kept when the event is of it. */
typedef enum { G_S3, G_SQS, G_HTTP, G_V1_PATH, G_V2_PATH, G_ALL } group_t;

typedef struct span {
  uint32_t off, len; /* a string's contents, between its quotes */
  uint8_t kind, group;
  uint8_t json; /* an SQS body that looks like JSON: its slow twins */
  int16_t dep;  /* the aux span to redo when this one changes, or -1 */
} span_t;

typedef struct map {
  span_t slot[MAX_SPANS];
  int n;
  span_t aux[MAX_SPANS];
  int naux;
  lk_source_t src;
} map_t;

struct lk_spanmut {
  char *last, *next; /* the last output; where the next one is built */
  size_t last_len, cap;
  char *flat; /* an input without its layout */
  size_t flat_cap;
  int have;   /* last is an event of map.src */
  int map_ok; /* and map describes it */
  map_t map, other;
  /* Scratch for one field, of fixed size, filled byte by byte: through
   * a dynbuf each byte was a memcpy call, and under ASan each memcpy is
   * an interceptor that checks both regions. Allocated, not zeroed: a
   * field may be 256 KB, and a new mutator must stay cheap. */
  char *field, *donor; /* MAX_FIELD + 1 each */
  char *raw;           /* a key as the text holds it, unescaped */
  char *enc;           /* 6 * MAX_FIELD: a field as the text will hold it */
};

typedef enum {
  R_SKIP,
  R_TOP,
  R_RECORDS,
  R_RECORD,
  R_S3,
  R_S3_OBJECT,
  R_ATTRS,
  R_ATTR,
  R_HTTP_MAP,
  R_HEADERS
} role_t;

typedef struct scan {
  const char *s;
  size_t n, i;
  map_t *m;
  int rec;               /* index of the record being scanned */
  int rec_body, rec_md5; /* its body slot and md5OfBody aux */
  lk_source_t es;        /* what Records[0].eventSource names */
  int awslogs, v2, raw_path, method, path;
  int body_slot, body_state, b64, cl_aux;
} scan_t;

lk_spanmut_t *lk_spanmut_new(void) {
  return lk_xcalloc(1, sizeof(lk_spanmut_t));
}

/* The scratch, the first time a mutation needs it (a mutator that only
 * names sources never does). */
static void scratch(lk_spanmut_t *sm) {
  if (sm->field)
    return;
  sm->field = lk_xmalloc(MAX_FIELD + 1);
  sm->donor = lk_xmalloc(MAX_FIELD + 1);
  sm->raw = lk_xmalloc(MAX_FIELD + 1);
  sm->enc = lk_xmalloc(6 * MAX_FIELD);
}

void lk_spanmut_free(lk_spanmut_t *sm) {
  if (sm == NULL)
    return;
  free(sm->field);
  free(sm->donor);
  free(sm->raw);
  free(sm->enc);
  free(sm->last);
  free(sm->next);
  free(sm->flat);
  free(sm);
}

static void reserve(lk_spanmut_t *sm, size_t need) {
  if (need <= sm->cap)
    return;
  sm->last = lk_xrealloc(sm->last, need);
  sm->next = lk_xrealloc(sm->next, need);
  sm->cap = need;
}

/* The text without the spaces between tokens, as cJSON prints it and as
 * Lambda delivers events: a handler that looks for "key":" must see it
 * that way. Returns the text to use (the input itself when it has no such
 * spaces, or when there is no room for a copy) and sets *len. */
static const char *flatten(lk_spanmut_t *sm, const char *text, size_t *len) {
  size_t i, o = 0, n = *len;
  int in_str = 0;

  for (i = 0; i < n && (unsigned char)text[i] > 0x20; i++)
    ;
  if (i == n)
    return text;
  if (n > sm->flat_cap) {
    sm->flat = lk_xrealloc(sm->flat, n);
    sm->flat_cap = n;
  }
  for (i = 0; i < n; i++) {
    char c = text[i];

    if (in_str && c == '\\' && i + 1 < n) {
      sm->flat[o++] = c;
      sm->flat[o++] = text[++i];
      continue;
    }
    if (c == '"')
      in_str = !in_str;
    if (in_str || (unsigned char)c > 0x20)
      sm->flat[o++] = c;
  }
  *len = o;
  return sm->flat;
}

static long hex4(const char *p) {
  long v = 0;
  int k, d;

  for (k = 0; k < 4; k++) {
    d = lk_hexval(p[k]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* The code point of a \u escape at s[0..n) (a surrogate pair takes two),
 * and how many bytes it spans; -1 for what cJSON would refuse, or U+0000
 * (which would end cJSON's C string early). */
static long code_point(const char *s, size_t n, size_t *used) {
  long hi, lo;

  if (n < 6 || s[0] != '\\' || s[1] != 'u')
    return -1;
  hi = hex4(s + 2);
  if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
    return -1;
  *used = 6;
  if (hi < 0xD800 || hi > 0xDBFF)
    return hi;
  if (n < 12 || s[6] != '\\' || s[7] != 'u')
    return -1;
  lo = hex4(s + 8);
  if (lo < 0xDC00 || lo > 0xDFFF)
    return -1;
  *used = 12;
  return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
}

static void ws(scan_t *sc) {
  while (sc->i < sc->n && (unsigned char)sc->s[sc->i] <= 0x20)
    sc->i++;
}

static int peek(scan_t *sc) {
  ws(sc);
  return sc->i < sc->n ? (unsigned char)sc->s[sc->i] : -1;
}

/* The string at s[i]: its contents' span. 1 when it has escapes, 0 when
 * not, -1 when it is malformed or holds what only cJSON should judge. */
static int string(scan_t *sc, uint32_t *off, uint32_t *len) {
  size_t i = sc->i + 1, used;
  int esc = 0;

  while (i < sc->n) {
    unsigned char c = (unsigned char)sc->s[i];

    if (c == '"') {
      *off = (uint32_t)(sc->i + 1);
      *len = (uint32_t)(i - sc->i - 1);
      sc->i = i + 1;
      return esc;
    }
    if (c < 0x20)
      return -1;
    if (c != '\\') {
      i++;
      continue;
    }
    esc = 1;
    if (i + 1 >= sc->n)
      return -1;
    c = (unsigned char)sc->s[i + 1];
    if (c == 'u') {
      if (code_point(sc->s + i, sc->n - i, &used) < 0)
        return -1;
      i += used;
    } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
               c == 'n' || c == 'r' || c == 't') {
      i += 2;
    } else {
      return -1;
    }
  }
  return -1;
}

static int digits(scan_t *sc) {
  size_t start = sc->i;

  while (sc->i < sc->n && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
    sc->i++;
  return sc->i > start;
}

/* A number by JSON's grammar (stricter than cJSON's strtod). */
static int number(scan_t *sc) {
  if (sc->s[sc->i] == '-')
    sc->i++;
  if (sc->i < sc->n && sc->s[sc->i] == '0')
    sc->i++;
  else if (!digits(sc))
    return -1;
  if (sc->i < sc->n && sc->s[sc->i] == '.') {
    sc->i++;
    if (!digits(sc))
      return -1;
  }
  if (sc->i < sc->n && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
    sc->i++;
    if (sc->i < sc->n && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
      sc->i++;
    if (!digits(sc))
      return -1;
  }
  return 0;
}

static int literal(scan_t *sc, const char *w) {
  size_t k;

  for (k = 0; w[k]; k++)
    if (sc->i + k >= sc->n || sc->s[sc->i + k] != w[k])
      return -1;
  sc->i += k;
  return 0;
}

static int add_slot(scan_t *sc, uint32_t off, uint32_t len, kind_t kind,
                    group_t group) {
  span_t *s;

  if (sc->m->n >= MAX_SPANS)
    return -1; /* as collect(): fields past the cap are not picked */
  s = &sc->m->slot[sc->m->n];
  s->off = off;
  s->len = len;
  s->kind = (uint8_t)kind;
  s->group = (uint8_t)group;
  s->json = 0;
  s->dep = -1;
  return sc->m->n++;
}

static int add_aux(scan_t *sc, uint32_t off, uint32_t len) {
  span_t *s;

  if (sc->m->naux >= MAX_SPANS)
    return -1;
  s = &sc->m->aux[sc->m->naux];
  memset(s, 0, sizeof(*s));
  s->off = off;
  s->len = len;
  return sc->m->naux++;
}

static int value(scan_t *sc, role_t role, int depth);

/* An SQS body whose text may hold JSON has fields only the slow path
 * reaches: as many slow twins as it has string members (\":\" in the
 * escaped text), so they are picked about as often as the slow path's
 * collect() picks them; 0 for a body that is not JSON. An estimate from
 * the escaped text, at most 16. */
static int looks_json(const char *s, size_t n) {
  size_t k = 0;
  int members = 0;

  while (k < n && (unsigned char)s[k] <= 0x20)
    k++;
  if (k >= n || (s[k] != '{' && s[k] != '['))
    return 0;
  for (; k + 5 <= n && members < 16; k++)
    if (s[k] == '\\' && s[k + 1] == '"' && s[k + 2] == ':' &&
        s[k + 3] == '\\' && s[k + 4] == '"')
      members++;
  return members ? members : 1;
}

/* A string value for the field of this (role, key), when it is one. */
static int string_value(scan_t *sc, uint32_t *off, uint32_t *len) {
  return peek(sc) == '"' ? string(sc, off, len) : -2;
}

/* A byte loop, not memcmp: the engine runs under ASan, whose memcmp
 * interceptor checks both regions on every call. */
static int key_is(const scan_t *sc, uint32_t ko, uint32_t kl, const char *k) {
  uint32_t i;

  for (i = 0; i < kl; i++)
    if (k[i] != sc->s[ko + i]) /* k's NUL ends it too */
      return 0;
  return k[kl] == '\0';
}

/* Keys the scan acts on, by role; a second one of them is left to cJSON,
 * which takes the first (the scan would have to as well). */
static const char *const top_keys[] = {"Records",
                                       "awslogs",
                                       "version",
                                       "rawPath",
                                       "httpMethod",
                                       "path",
                                       "rawQueryString",
                                       "pathParameters",
                                       "queryStringParameters",
                                       "multiValueQueryStringParameters",
                                       "cookies",
                                       "headers",
                                       "body",
                                       "isBase64Encoded",
                                       NULL};
static const char *const record_keys[] = {
    "eventSource", "s3", "body", "md5OfBody", "messageAttributes", NULL};
static const char *const s3_keys[] = {"object", NULL};
static const char *const object_keys[] = {"key", NULL};
static const char *const attr_keys[] = {"stringValue", NULL};

static int key_id(const scan_t *sc, role_t role, uint32_t ko, uint32_t kl) {
  const char *const *t = role == R_TOP         ? top_keys
                         : role == R_RECORD    ? record_keys
                         : role == R_S3        ? s3_keys
                         : role == R_S3_OBJECT ? object_keys
                                               : attr_keys;
  int k;

  for (k = 0; t[k]; k++)
    if (key_is(sc, ko, kl, t[k]))
      return k;
  return -1;
}

/* A member of a map whose every string is a field (API Gateway's maps). */
static int map_member(scan_t *sc, role_t role, uint32_t ko, uint32_t kl,
                      int depth) {
  uint32_t off, len;
  int c = peek(sc);

  if (c == '[')
    return value(sc, R_HTTP_MAP, depth);
  if (c != '"')
    return value(sc, R_SKIP, depth);
  if (string(sc, &off, &len) < 0)
    return -1;
  add_slot(sc, off, len, K_PLAIN, G_HTTP);
  if (role == R_HEADERS && sc->cl_aux < 0 && kl == 14 &&
      strncasecmp(sc->s + ko, "content-length", 14) == 0) {
    sc->cl_aux = add_aux(sc, off, len);
    if (sc->cl_aux < 0)
      return -1;
  }
  return 0;
}

static int top_member(scan_t *sc, int id, int depth) {
  uint32_t off, len;
  int c = peek(sc), e;

  switch (id) {
  case 0: /* Records */
    return value(sc, c == '[' ? R_RECORDS : R_SKIP, depth);
  case 1: /* awslogs */
    sc->awslogs = c == '{';
    return value(sc, R_SKIP, depth);
  case 2: /* version */
  case 4: /* httpMethod */
    e = string_value(sc, &off, &len);
    if (e == -2)
      return value(sc, R_SKIP, depth);
    if (e != 0)
      return -1; /* an escaped version: let cJSON read it */
    if (id == 2)
      sc->v2 = key_is(sc, off, len, "2.0");
    else
      sc->method = 1;
    return 0;
  case 3: /* rawPath */
  case 5: /* path */
  case 6: /* rawQueryString */
    e = string_value(sc, &off, &len);
    if (e == -2)
      return value(sc, R_SKIP, depth);
    if (e < 0)
      return -1;
    if (id == 3)
      sc->raw_path = 1;
    if (id == 5)
      sc->path = 1;
    add_slot(sc, off, len, K_PLAIN,
             id == 3   ? G_V2_PATH
             : id == 5 ? G_V1_PATH
                       : G_HTTP);
    return 0;
  case 7:
  case 8:
  case 9:
  case 10: /* the parameter maps and cookies */
  case 11: /* headers */
    if (c != '{' && c != '[')
      return value(sc, R_SKIP, depth);
    return value(sc, id == 11 ? R_HEADERS : R_HTTP_MAP, depth);
  case 12: /* body */
    e = string_value(sc, &off, &len);
    if (e == -2) {
      sc->body_state = c == 'n' ? 2 : 3; /* null: the slow path adds "" */
      return value(sc, R_SKIP, depth);
    }
    if (e < 0)
      return -1;
    sc->body_state = 1;
    sc->body_slot = add_slot(sc, off, len, K_HTTP_BODY, G_HTTP);
    return 0;
  case 13: /* isBase64Encoded */
    sc->b64 = c == 't';
    return value(sc, R_SKIP, depth);
  }
  return value(sc, R_SKIP, depth);
}

static int record_member(scan_t *sc, role_t role, int id, int depth) {
  uint32_t off, len;
  int c = peek(sc), e, slot, twins;

  if (role == R_S3)
    return value(sc, c == '{' ? R_S3_OBJECT : R_SKIP, depth);
  if (role == R_S3_OBJECT || role == R_ATTR) {
    e = string_value(sc, &off, &len);
    if (e == -2)
      return value(sc, R_SKIP, depth);
    if (e < 0)
      return -1;
    add_slot(sc, off, len, role == R_ATTR ? K_PLAIN : K_S3_KEY,
             role == R_ATTR ? G_SQS : G_S3);
    return 0;
  }
  switch (id) { /* R_RECORD */
  case 0:       /* eventSource */
    e = string_value(sc, &off, &len);
    if (e == -2)
      return value(sc, R_SKIP, depth);
    if (e != 0)
      return -1;
    if (sc->rec == 0 && key_is(sc, off, len, "aws:s3"))
      sc->es = LK_SRC_S3;
    if (sc->rec == 0 && key_is(sc, off, len, "aws:sqs"))
      sc->es = LK_SRC_SQS;
    return 0;
  case 1: /* s3 */
    return value(sc, c == '{' ? R_S3 : R_SKIP, depth);
  case 2: /* body */
  case 3: /* md5OfBody */
    e = string_value(sc, &off, &len);
    if (e == -2)
      return value(sc, R_SKIP, depth);
    if (e < 0)
      return -1;
    if (id == 3) {
      sc->rec_md5 = add_aux(sc, off, len);
      return sc->rec_md5 < 0 ? -1 : 0;
    }
    slot = add_slot(sc, off, len, K_SQS_BODY, G_SQS);
    sc->rec_body = slot;
    twins = slot >= 0 ? looks_json(sc->s + off, len) : 0;
    if (slot >= 0)
      sc->m->slot[slot].json = (uint8_t)twins;
    while (twins-- > 0)
      add_slot(sc, 0, 0, K_SLOW, G_SQS); /* its inner fields: a tree */
    return 0;
  case 4: /* messageAttributes */
    return value(sc, c == '{' || c == '[' ? R_ATTRS : R_SKIP, depth);
  }
  return value(sc, R_SKIP, depth);
}

/* Steps to the next item of an object or array that ends with close:
 * its first byte; 0 past the end (close consumed); -1 when malformed. */
static int next_item(scan_t *sc, int close, int *first) {
  int c = peek(sc);

  if (c == close) {
    sc->i++;
    return 0;
  }
  if (!*first) {
    if (c != ',')
      return -1;
    sc->i++;
    c = peek(sc);
  }
  *first = 0;
  return c <= 0 ? -1 : c;
}

static int object(scan_t *sc, role_t role, int depth) {
  unsigned seen = 0;
  uint32_t ko, kl;
  int first = 1, kesc, id, err;

  sc->i++; /* '{' */
  if (role == R_RECORD)
    sc->rec_body = sc->rec_md5 = -1;
  for (;;) {
    int c = next_item(sc, '}', &first);

    if (c == 0)
      break;
    if (c != '"')
      return -1;
    kesc = string(sc, &ko, &kl);
    if (kesc < 0 || peek(sc) != ':')
      return -1;
    sc->i++;
    if (role == R_SKIP) {
      err = value(sc, R_SKIP, depth);
    } else if (role == R_HTTP_MAP || role == R_HEADERS) {
      err = map_member(sc, role, ko, kl, depth);
    } else if (role == R_ATTRS) {
      err = value(sc, peek(sc) == '{' ? R_ATTR : R_SKIP, depth);
    } else {
      if (kesc)
        return -1; /* a name that may decode to one the scan acts on */
      id = key_id(sc, role, ko, kl);
      if (id >= 0 && (seen & (1u << id)))
        return -1;
      if (id >= 0)
        seen |= 1u << id;
      if (id < 0)
        err = value(sc, R_SKIP, depth);
      else if (role == R_TOP)
        err = top_member(sc, id, depth);
      else
        err = record_member(sc, role, id, depth);
    }
    if (err)
      return -1;
  }
  if (role == R_RECORD && sc->rec_body >= 0 && sc->rec_md5 >= 0)
    sc->m->slot[sc->rec_body].dep = (int16_t)sc->rec_md5;
  return 0;
}

static int array(scan_t *sc, role_t role, int depth) {
  uint32_t off, len;
  int first = 1, err, c;

  sc->i++; /* '[' */
  for (;;) {
    c = next_item(sc, ']', &first);
    if (c == 0)
      break;
    if (c < 0)
      return -1;
    if (role == R_RECORDS) {
      err = value(sc, c == '{' ? R_RECORD : R_SKIP, depth);
      sc->rec++;
    } else if ((role == R_HTTP_MAP || role == R_HEADERS) && c == '"') {
      err = string(sc, &off, &len) < 0;
      if (!err)
        add_slot(sc, off, len, K_PLAIN, G_HTTP);
    } else if (role == R_HTTP_MAP || role == R_HEADERS) {
      err = value(sc, c == '[' ? R_HTTP_MAP : R_SKIP, depth);
    } else if (role == R_ATTRS) {
      err = value(sc, c == '{' ? R_ATTR : R_SKIP, depth);
    } else {
      err = value(sc, R_SKIP, depth);
    }
    if (err)
      return -1;
  }
  return 0;
}

static int value(scan_t *sc, role_t role, int depth) {
  uint32_t off, len;
  int c = peek(sc);

  if (depth >= MAX_DEPTH)
    return -1;
  switch (c) {
  case '{':
    return object(sc, role, depth + 1);
  case '[':
    return array(sc, role, depth + 1);
  case '"':
    return string(sc, &off, &len) < 0 ? -1 : 0;
  case 't':
    return literal(sc, "true");
  case 'f':
    return literal(sc, "false");
  case 'n':
    return literal(sc, "null");
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      return number(sc);
    return -1;
  }
}

/* Decides the source as mutator.c's source_of() does, and keeps the
 * fields of that source. */
static lk_source_t finish(scan_t *sc) {
  map_t *m = sc->m;
  lk_source_t src = sc->es;
  int i, j = 0;
  group_t path = G_ALL;

  if (src == LK_SRC_UNKNOWN)
    src = sc->awslogs              ? LK_SRC_LOGS
          : sc->v2 && sc->raw_path ? LK_SRC_APIGW_V2
          : sc->method && sc->path ? LK_SRC_APIGW_V1
                                   : LK_SRC_UNKNOWN;
  if (src == LK_SRC_APIGW_V1 || src == LK_SRC_APIGW_V2) {
    path = src == LK_SRC_APIGW_V1 ? G_V1_PATH : G_V2_PATH;
    if (sc->body_slot >= 0 && sc->b64)
      m->slot[sc->body_slot].kind = K_SLOW; /* base64: a decode first */
    else if (sc->body_slot >= 0)
      m->slot[sc->body_slot].dep = (int16_t)sc->cl_aux;
    else if (sc->body_state != 3)
      add_slot(sc, 0, 0, K_SLOW, G_HTTP); /* no body: the slow path adds */
  }
  for (i = 0; i < m->n; i++) {
    group_t g = (group_t)m->slot[i].group;
    int keep = (src == LK_SRC_S3 && g == G_S3) ||
               (src == LK_SRC_SQS && g == G_SQS) ||
               (path != G_ALL && (g == G_HTTP || g == path));

    if (keep)
      m->slot[j++] = m->slot[i];
  }
  m->n = j;
  if (src == LK_SRC_LOGS) { /* gzip inside base64: all slow */
    m->n = 0;
    add_slot(sc, 0, 0, K_SLOW, G_ALL);
  }
  m->src = src;
  return src;
}

static int scan(const char *s, size_t n, map_t *m) {
  scan_t sc;

  memset(&sc, 0, sizeof(sc));
  sc.s = s;
  sc.n = n;
  sc.m = m;
  sc.body_slot = sc.cl_aux = -1;
  m->n = m->naux = 0;
  m->src = LK_SRC_UNKNOWN;
  if (n > UINT32_MAX || peek(&sc) != '{' || value(&sc, R_TOP, 0) != 0)
    return 0;
  ws(&sc);
  if (sc.i != n)
    return 0; /* trailing bytes: cJSON decides */
  return finish(&sc) != LK_SRC_UNKNOWN;
}

/* The bytes a span stands for, as the function sees them (keys URL-
 * decoded), into out (at most MAX_FIELD); their count, or -1. */
static long span_value(lk_spanmut_t *sm, const span_t *sp, const char *text,
                       char *out) {
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *s = text + sp->off;
  char *dst = sp->kind == K_S3_KEY ? sm->raw : out;
  size_t i = 0, n = 0, used, k;
  long cp;

  while (i < sp->len) {
    if (s[i] != '\\') {
      if (n >= MAX_FIELD)
        return -1;
      dst[n++] = s[i++];
      continue;
    }
    if (s[i + 1] != 'u') {
      if (n >= MAX_FIELD)
        return -1;
      dst[n++] = to[strchr(from, s[i + 1]) - from];
      i += 2;
      continue;
    }
    cp = code_point(s + i, sp->len - i, &used);
    if (cp < 0 || n + 4 > MAX_FIELD)
      return -1;
    i += used;
    if (cp < 0x80) {
      dst[n++] = (char)cp;
    } else if (cp < 0x800) {
      dst[n++] = (char)(0xC0 | (cp >> 6));
      dst[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      dst[n++] = (char)(0xE0 | (cp >> 12));
      dst[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      dst[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
      dst[n++] = (char)(0xF0 | (cp >> 18));
      dst[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      dst[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      dst[n++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  if (sp->kind != K_S3_KEY)
    return (long)n;
  /* As lk_url_decode(form=1): %XX and '+' for a space. */
  for (i = 0, k = 0; i < n; i++, k++) {
    char c = sm->raw[i];

    if (c == '%' && i + 2 < n && lk_hexval(sm->raw[i + 1]) >= 0 &&
        lk_hexval(sm->raw[i + 2]) >= 0) {
      c = (char)(lk_hexval(sm->raw[i + 1]) * 16 + lk_hexval(sm->raw[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    out[k] = c;
  }
  return (long)k;
}

/* The field as the JSON text will hold it, into sm->enc: an S3 key
 * URL-encoded as lk_s3_key_encode does (nothing left to escape), anything
 * else escaped as lk_buf_add_json_str does. Returns its length. */
static size_t encode(lk_spanmut_t *sm, kind_t kind, const char *v, size_t n) {
  static const char hex[] = "0123456789ABCDEF", lhex[] = "0123456789abcdef";
  char *o = sm->enc;
  size_t i;

  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v[i];

    if (kind == K_S3_KEY) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
          c == '~' || c == '/') {
        *o++ = (char)c;
      } else if (c == ' ') {
        *o++ = '+';
      } else {
        *o++ = '%';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
      }
    } else if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = (char)c;
    } else {
      *o++ = '\\';
      switch (c) {
      case '"':
      case '\\':
        *o++ = (char)c;
        break;
      case '\n':
        *o++ = 'n';
        break;
      case '\r':
        *o++ = 'r';
        break;
      case '\t':
        *o++ = 't';
        break;
      default:
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = lhex[c >> 4];
        *o++ = lhex[c & 15];
      }
    }
  }
  return (size_t)(o - sm->enc);
}

typedef struct repl {
  uint32_t off, len; /* the span replaced */
  const char *p;
  size_t plen;
} repl_t;

/* The text with the replacements r[0..nr), in order, into sm->next. */
static void splice(lk_spanmut_t *sm, const char *text, size_t len,
                   const repl_t *r, int nr) {
  size_t pos = 0, o = 0;
  int k;

  for (k = 0; k < nr; k++) {
    memcpy(sm->next + o, text + pos, r[k].off - pos);
    o += r[k].off - pos;
    memcpy(sm->next + o, r[k].p, r[k].plen);
    o += r[k].plen;
    pos = r[k].off + r[k].len;
  }
  memcpy(sm->next + o, text + pos, len - pos);
}

/* The spans after each change move; the changed ones (a slot may also be
 * an aux span: a Content-Length header) take the new length. The later
 * change first, so the earlier's offset still holds. */
static void move_spans(map_t *m, const repl_t *r, int nr) {
  long delta;
  span_t *sp;
  int k, i;

  for (k = nr - 1; k >= 0; k--) {
    delta = (long)r[k].plen - (long)r[k].len;
    for (i = 0; i < m->n + m->naux; i++) {
      sp = i < m->n ? &m->slot[i] : &m->aux[i - m->n];
      if (sp->off == r[k].off && sp->len == r[k].len)
        sp->len = (uint32_t)r[k].plen;
      else if (sp->off > r[k].off)
        sp->off = (uint32_t)((long)sp->off + delta);
    }
  }
}

/* What the changed field's value n bytes long makes its dependent span
 * (the body's md5OfBody, or a Content-Length) say, into r. */
static void dependent(const span_t *s, const span_t *a, const char *field,
                      size_t n, repl_t *r, char md5[33], char cl[24]) {
  if (s->kind == K_SQS_BODY) {
    lk_md5_hex(field, n, md5);
    r->p = md5;
    r->plen = 32;
  } else {
    r->plen = (size_t)snprintf(cl, 24, "%zu", n);
    r->p = cl;
  }
  r->off = a->off;
  r->len = a->len;
}

/* Changes slot si of the event text (whose spans are m): a mutation, or
 * the donor's value. What depends on it is redone; the result becomes
 * sm->last, and m its spans. in_len is the event's length as the caller
 * gave it (before flattening): the room it may grow by is counted from
 * there, as mutator.c counts it. Returns its length, or 0. */
static size_t apply(lk_spanmut_t *sm, const char *text, size_t len, map_t *m,
                    int si, const char *donor, size_t dlen, lk_rand_t *rs,
                    lk_byte_mutator mutate, size_t max, size_t in_len) {
  span_t *s = &m->slot[si];
  repl_t r[2], t;
  char md5[33], cl[24], *swap;
  size_t n, out = len, cap = MAX_FIELD;
  size_t room = max > in_len + 64 ? max - in_len - 64 : 0;
  long got = span_value(sm, s, text, sm->field);
  int nr = 1, k;

  if (got < 0)
    return 0;
  /* the room the event has, as mutator.c reckons it (a key's bytes may
   * take 3 each) */
  if ((size_t)got + room / (s->kind == K_S3_KEY ? 3 : 1) < cap)
    cap = (size_t)got + room / (s->kind == K_S3_KEY ? 3 : 1);
  if (donor) {
    n = dlen < cap ? dlen : cap;
    memcpy(sm->field, donor, n);
  } else {
    n = lk_mutate_value(sm->field, (size_t)got, cap, rs, mutate);
  }
  lk_utf8_repair(sm->field, n); /* JSON text: no NUL, only UTF-8 */
  r[0].p = sm->enc;
  r[0].plen = encode(sm, (kind_t)s->kind, sm->field, n);
  r[0].off = s->off;
  r[0].len = s->len;
  if (s->dep >= 0) {
    dependent(s, &m->aux[s->dep], sm->field, n, &r[1], md5, cl);
    nr = 2;
    if (r[1].off < r[0].off) {
      t = r[0];
      r[0] = r[1];
      r[1] = t;
    }
  }
  for (k = 0; k < nr; k++)
    out = out - r[k].len + r[k].plen;
  if (out > max)
    return 0;
  reserve(sm, out);
  splice(sm, text, len, r, nr);
  move_spans(m, r, nr);
  swap = sm->last;
  sm->last = sm->next;
  sm->next = swap;
  sm->last_len = out;
  /* A body whose JSON members changed in number has other slow twins:
   * the next mutation scans afresh. */
  sm->map_ok =
      s->kind != K_SQS_BODY || looks_json(sm->last + s->off, s->len) == s->json;
  return out;
}

static int have(const lk_spanmut_t *sm, const char *ev, size_t len) {
  return sm->have && len == sm->last_len && memcmp(ev, sm->last, len) == 0;
}

size_t lk_spanmut_mutate(lk_spanmut_t *sm, char *buf, size_t len, size_t max,
                         unsigned seed, lk_byte_mutator mutate) {
  lk_rand_t rs;
  const char *text = buf;
  size_t n, in_len = len;
  int si;

  scratch(sm);
  if (!have(sm, buf, len) || !sm->map_ok) {
    sm->have = sm->map_ok = 0;
    text = flatten(sm, buf, &len);
    if (!scan(text, len, &sm->map))
      return 0;
  }
  if (sm->map.n == 0)
    return 0;
  lk_rand_seed(&rs, seed);
  si = (int)lk_rand_below(&rs, (uint32_t)sm->map.n);
  if (sm->map.slot[si].kind == K_SLOW)
    return 0;
  n = apply(sm, text, len, &sm->map, si, NULL, 0, &rs, mutate, max, in_len);
  if (n == 0)
    return 0; /* last and map as they were */
  sm->have = 1;
  memcpy(buf, sm->last, n);
  return n;
}

size_t lk_spanmut_crossover(lk_spanmut_t *sm, const char *a, size_t alen,
                            const char *b, size_t blen, char *out, size_t max,
                            unsigned seed) {
  lk_rand_t rs;
  const span_t *d;
  size_t n, in_len = alen;
  long dl;
  int si;

  scratch(sm);
  if (!scan(b, blen, &sm->other))
    return 0;
  if (!have(sm, a, alen) || !sm->map_ok) {
    sm->have = sm->map_ok = 0;
    a = flatten(sm, a, &alen);
    if (!scan(a, alen, &sm->map))
      return 0;
  }
  if (sm->map.src != sm->other.src || sm->map.n == 0 || sm->other.n == 0)
    return 0;
  lk_rand_seed(&rs, seed);
  d = &sm->other.slot[lk_rand_below(&rs, (uint32_t)sm->other.n)];
  si = (int)lk_rand_below(&rs, (uint32_t)sm->map.n);
  if (d->kind == K_SLOW || sm->map.slot[si].kind == K_SLOW)
    return 0;
  dl = span_value(sm, d, b, sm->donor);
  if (dl < 0)
    return 0;
  n = apply(sm, a, alen, &sm->map, si, sm->donor, (size_t)dl, &rs, NULL, max,
            in_len);
  if (n == 0)
    return 0;
  sm->have = 1;
  memcpy(out, sm->last, n);
  return n;
}

void lk_spanmut_note(lk_spanmut_t *sm, const char *ev, size_t len) {
  sm->have = 0;
  if (len == 0)
    return;
  reserve(sm, len);
  if (!scan(ev, len, &sm->map))
    return;
  memcpy(sm->last, ev, len);
  sm->last_len = len;
  sm->have = sm->map_ok = 1;
}

lk_source_t lk_spanmut_source(lk_spanmut_t *sm, const char *ev, size_t len) {
  if (have(sm, ev, len))
    return sm->map.src;
  return scan(ev, len, &sm->other) ? sm->other.src : LK_SRC_UNKNOWN;
}
