/* DynamoDB attribute values (see ddb_value.h). A number is held as
 * DynamoDB prints it; to compare two, each is split into sign, digits
 * and decimal exponent (value = 0.DIGITS x 10^exp). */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "ddb_value.h"

#define NUM_TEXT_MAX 1024 /* longer than any number DynamoDB takes */

static int fail(char *err, size_t errlen, const char *msg) {
  snprintf(err, errlen, "%s", msg);
  return -1;
}

/* ---- numbers ---- */

typedef struct num {
  int neg;
  int exp;
  int n;
  char d[NUM_TEXT_MAX + 1];
} num_t;

/* The digits of text, and where its point is: 0, or -1 when text is not
 * a number. */
static int scan(const char *t, num_t *x) {
  const char *p = t;
  int ints = 0, point = 0, any = 0;
  long e = 0;

  memset(x, 0, sizeof(*x));
  if (strlen(t) > NUM_TEXT_MAX)
    return -1;
  if (*p == '+' || *p == '-')
    x->neg = *p++ == '-';
  for (; (*p >= '0' && *p <= '9') || (*p == '.' && !point); p++) {
    if (*p == '.') {
      point = 1;
      continue;
    }
    any = 1;
    x->d[x->n++] = *p;
    ints += !point;
  }
  if (!any)
    return -1;
  if (*p == 'e' || *p == 'E') {
    int eneg = 0, edigits = 0;

    p++;
    if (*p == '+' || *p == '-')
      eneg = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++, edigits++)
      if (e < 100000)
        e = e * 10 + (*p - '0');
    if (edigits == 0)
      return -1;
    e = eneg ? -e : e;
  }
  if (*p)
    return -1;
  x->exp = ints + (int)e;
  return 0;
}

/* Leading and trailing zeros off; a zero has no digits and no sign. */
static void trim(num_t *x) {
  int lz = 0;

  while (lz < x->n && x->d[lz] == '0')
    lz++;
  memmove(x->d, x->d + lz, (size_t)(x->n - lz));
  x->n -= lz;
  x->exp -= lz;
  while (x->n > 0 && x->d[x->n - 1] == '0')
    x->n--;
  x->d[x->n] = '\0';
  if (x->n == 0) {
    x->neg = 0;
    x->exp = 0;
  }
}

static void print(const num_t *x, char *out) {
  char *o = out;
  int i;

  if (x->n == 0) {
    out[0] = '0';
    out[1] = '\0';
    return;
  }
  if (x->neg)
    *o++ = '-';
  if (x->exp <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (i = 0; i < -x->exp; i++)
      *o++ = '0';
    memcpy(o, x->d, (size_t)x->n);
    o += x->n;
  } else if (x->exp >= x->n) {
    memcpy(o, x->d, (size_t)x->n);
    o += x->n;
    for (i = x->n; i < x->exp; i++)
      *o++ = '0';
  } else {
    memcpy(o, x->d, (size_t)x->exp);
    o += x->exp;
    *o++ = '.';
    memcpy(o, x->d + x->exp, (size_t)(x->n - x->exp));
    o += x->n - x->exp;
  }
  *o = '\0';
}

int lk_ddb_num_canon(const char *text, char *out, char *err, size_t errlen) {
  num_t x;

  if (scan(text, &x) != 0)
    return fail(err, errlen,
                "A value provided cannot be converted into a number");
  trim(&x);
  if (x.n > LK_DDB_NUM_DIGITS)
    return fail(err, errlen,
                "Attempting to store more than 38 significant digits in a "
                "Number");
  if (x.n && x.exp > 126)
    return fail(err, errlen,
                "Number overflow. Attempting to store a number with "
                "magnitude larger than supported range");
  if (x.n && x.exp < -129)
    return fail(err, errlen,
                "Number underflow. Attempting to store a number with "
                "magnitude smaller than supported range");
  print(&x, out);
  return 0;
}

int lk_ddb_num_cmp(const char *a, const char *b) {
  num_t x, y;
  int i, c = 0, sx, sy;

  if (scan(a, &x) != 0 || scan(b, &y) != 0)
    return strcmp(a, b);
  trim(&x);
  trim(&y);
  sx = x.n == 0 ? 0 : x.neg ? -1 : 1;
  sy = y.n == 0 ? 0 : y.neg ? -1 : 1;
  if (sx != sy || sx == 0)
    return sx < sy ? -1 : sx > sy;
  if (x.exp != y.exp)
    c = x.exp < y.exp ? -1 : 1;
  for (i = 0; c == 0 && (i < x.n || i < y.n); i++) {
    char dx = i < x.n ? x.d[i] : '0', dy = i < y.n ? y.d[i] : '0';

    c = dx < dy ? -1 : dx > dy;
  }
  return sx < 0 ? -c : c;
}

/* ---- values ---- */

static const char *const types[] = {"S", "N",  "B",  "BOOL", "NULL", "M",
                                    "L", "SS", "NS", "BS",   NULL};

const char *lk_ddb_type(const cJSON *v) {
  return v && v->child ? v->child->string : NULL;
}

const cJSON *lk_ddb_payload(const cJSON *v) {
  return v ? v->child : NULL;
}

static int known(const char *t) {
  int i;

  for (i = 0; t && types[i]; i++)
    if (strcmp(t, types[i]) == 0)
      return 1;
  return 0;
}

static int canon_in_place(cJSON *s, char *err, size_t errlen) {
  char c[LK_DDB_NUM_MAX];

  if (!cJSON_IsString(s))
    return fail(err, errlen,
                "A value provided cannot be converted into a number");
  if (lk_ddb_num_canon(s->valuestring, c, err, errlen) != 0)
    return -1;
  if (strcmp(c, s->valuestring) != 0)
    cJSON_SetValuestring(s, c);
  return 0;
}

static int b64_ok(const cJSON *s) {
  lk_buf_t b;
  int ok;

  if (!cJSON_IsString(s))
    return 0;
  lk_buf_init(&b, strlen(s->valuestring) + 4);
  ok = lk_b64_decode(&b, s->valuestring, strlen(s->valuestring)) == 0;
  lk_buf_free(&b);
  return ok;
}

static int check(cJSON *v, int depth, char *err, size_t errlen);

/* SS, NS, BS: strings, not empty, no two equal (as numbers for NS). */
static int check_set(cJSON *set, const char *t, char *err, size_t errlen) {
  cJSON *a, *b;

  if (!cJSON_IsArray(set) || set->child == NULL)
    return fail(err, errlen,
                t[0] == 'S'   ? "One or more parameter values were invalid: "
                                "An string set  may not be empty"
                : t[0] == 'N' ? "One or more parameter values were invalid: "
                                "An number set  may not be empty"
                              : "One or more parameter values were invalid: "
                                "Binary sets should not be empty");
  cJSON_ArrayForEach(a, set) {
    if (!cJSON_IsString(a))
      return fail(err, errlen, "Supplied AttributeValue has an invalid set");
    if (t[0] == 'N' && canon_in_place(a, err, errlen) != 0)
      return -1;
    if (t[0] == 'B' && !b64_ok(a))
      return fail(err, errlen, "Invalid Binary value in a binary set");
  }
  cJSON_ArrayForEach(a, set) {
    for (b = a->next; b; b = b->next)
      if (strcmp(a->valuestring, b->valuestring) == 0)
        return fail(err, errlen,
                    "One or more parameter values were invalid: Input "
                    "collection contains duplicates");
  }
  return 0;
}

static int check_payload(cJSON *p, const char *t, int depth, char *err,
                         size_t errlen) {
  cJSON *it;

  if (strcmp(t, "S") == 0)
    return cJSON_IsString(p) ? 0 : fail(err, errlen, "Invalid S value");
  if (strcmp(t, "N") == 0)
    return canon_in_place(p, err, errlen);
  if (strcmp(t, "B") == 0)
    return b64_ok(p) ? 0 : fail(err, errlen, "Invalid Binary value");
  if (strcmp(t, "BOOL") == 0)
    return cJSON_IsBool(p) ? 0 : fail(err, errlen, "Invalid BOOL value");
  if (strcmp(t, "NULL") == 0)
    return cJSON_IsTrue(p) ? 0
                           : fail(err, errlen,
                                  "One or more parameter values were "
                                  "invalid: Null attribute value types must "
                                  "have the value of true");
  if (strcmp(t, "M") == 0 || strcmp(t, "L") == 0) {
    if (t[0] == 'M' ? !cJSON_IsObject(p) : !cJSON_IsArray(p))
      return fail(err, errlen, "Invalid collection value");
    cJSON_ArrayForEach(it,
                       p) if (check(it, depth + 1, err, errlen) != 0) return -1;
    return 0;
  }
  return check_set(p, t, err, errlen);
}

static int check(cJSON *v, int depth, char *err, size_t errlen) {
  if (depth > LK_DDB_MAX_DEPTH)
    return fail(err, errlen,
                "Nesting Levels have exceeded supported limits: Maximum "
                "nesting level is 32");
  if (!cJSON_IsObject(v) || v->child == NULL)
    return fail(err, errlen,
                "Supplied AttributeValue is empty, must contain exactly one "
                "of the supported datatypes");
  if (v->child->next)
    return fail(err, errlen,
                "Supplied AttributeValue has more than one datatypes set, "
                "must contain exactly one of the supported datatypes");
  if (!known(v->child->string))
    return fail(err, errlen,
                "Supplied AttributeValue is empty, must contain exactly one "
                "of the supported datatypes");
  return check_payload(v->child, v->child->string, depth, err, errlen);
}

int lk_ddb_value_check(cJSON *value, char *err, size_t errlen) {
  return check(value, 1, err, errlen);
}

int lk_ddb_item_check(cJSON *item, char *err, size_t errlen) {
  cJSON *v;

  if (!cJSON_IsObject(item))
    return fail(err, errlen, "Item must be a map of attribute values");
  cJSON_ArrayForEach(v, item) {
    if (v->string == NULL || v->string[0] == '\0')
      return fail(err, errlen,
                  "One or more parameter values are not valid. The "
                  "AttributeValue for a key attribute cannot contain an "
                  "empty string value.");
    if (check(v, 1, err, errlen) != 0)
      return -1;
  }
  return 0;
}

static int set_has(const cJSON *set, const char *s) {
  const cJSON *it;

  cJSON_ArrayForEach(it, set) if (strcmp(it->valuestring, s) == 0) return 1;
  return 0;
}

int lk_ddb_value_eq(const cJSON *a, const cJSON *b) {
  const char *t = lk_ddb_type(a);
  const cJSON *x = lk_ddb_payload(a), *y = lk_ddb_payload(b), *it;

  if (t == NULL || lk_ddb_type(b) == NULL || strcmp(t, lk_ddb_type(b)) != 0)
    return 0;
  if (cJSON_IsString(x))
    return cJSON_IsString(y) && strcmp(x->valuestring, y->valuestring) == 0;
  if (cJSON_IsBool(x))
    return cJSON_IsTrue(x) == cJSON_IsTrue(y);
  if (cJSON_GetArraySize(x) != cJSON_GetArraySize(y))
    return 0;
  if (strcmp(t, "M") == 0) {
    cJSON_ArrayForEach(it, x) if (!lk_ddb_value_eq(
                                      it, cJSON_GetObjectItemCaseSensitive(
                                              y, it->string))) return 0;
    return 1;
  }
  if (strcmp(t, "L") == 0) {
    const cJSON *o = y->child;

    cJSON_ArrayForEach(it, x) {
      if (!lk_ddb_value_eq(it, o))
        return 0;
      o = o->next;
    }
    return 1;
  }
  cJSON_ArrayForEach(it, x) if (!set_has(y, it->valuestring)) return 0;
  return 1;
}

static size_t num_size(const char *n) {
  size_t digits = 0;

  for (; *n; n++)
    digits += *n >= '0' && *n <= '9';
  return digits / 2 + 1;
}

static size_t value_size(const cJSON *v) {
  const char *t = lk_ddb_type(v);
  const cJSON *p = lk_ddb_payload(v), *it;
  size_t n = 0;

  if (t == NULL)
    return 0;
  if (strcmp(t, "S") == 0)
    return strlen(p->valuestring);
  if (strcmp(t, "N") == 0)
    return num_size(p->valuestring);
  if (strcmp(t, "B") == 0)
    return strlen(p->valuestring) * 3 / 4;
  if (strcmp(t, "BOOL") == 0 || strcmp(t, "NULL") == 0)
    return 1;
  n = 3;
  cJSON_ArrayForEach(it, p) {
    if (strcmp(t, "M") == 0)
      n += strlen(it->string) + value_size(it) + 1;
    else if (strcmp(t, "L") == 0)
      n += value_size(it) + 1;
    else if (strcmp(t, "NS") == 0)
      n += num_size(it->valuestring);
    else
      n += strlen(it->valuestring);
  }
  return n;
}

size_t lk_ddb_item_size(const cJSON *item) {
  const cJSON *v;
  size_t n = 0;

  cJSON_ArrayForEach(v, item) n += strlen(v->string) + value_size(v);
  return n;
}
