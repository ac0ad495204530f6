/* Event patterns (see pattern.h): a check of the pattern's shape, then a
 * walk of pattern and event together. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

/* ---- checking ---- */

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(err, errlen, "Event pattern is not valid. Reason: ");

  va_start(ap, fmt);
  if (n > 0 && (size_t)n < errlen)
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static int is_scalar(const cJSON *v) {
  return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) ||
         cJSON_IsNull(v);
}

/* numeric: [op, n, op, n]: one or two comparisons. */
static int check_numeric(const cJSON *v, char *err, size_t errlen) {
  static const char *const ops[] = {"=", "<", "<=", ">", ">="};
  int n = cJSON_GetArraySize(v), i;
  size_t k;

  if (!cJSON_IsArray(v) || (n != 2 && n != 4))
    return bad(err, errlen, "Value of numeric must be an array of 2 or 4");
  for (i = 0; i < n; i += 2) {
    const cJSON *op = cJSON_GetArrayItem(v, i);
    int known = 0;

    for (k = 0; cJSON_IsString(op) && k < sizeof(ops) / sizeof(ops[0]); k++)
      known |= strcmp(op->valuestring, ops[k]) == 0;
    if (!known || !cJSON_IsNumber(cJSON_GetArrayItem(v, i + 1)))
      return bad(err, errlen, "Unrecognized numeric range operator");
  }
  return 0;
}

/* anything-but: a value, a list of values, or {prefix|suffix|
 * equals-ignore-case: ...}. */
static int check_anything_but(const cJSON *v, char *err, size_t errlen) {
  const cJSON *e;

  if (is_scalar(v))
    return 0;
  if (cJSON_IsArray(v)) {
    cJSON_ArrayForEach(e, v) {
      if (!is_scalar(e))
        return bad(err, errlen,
                   "Inside anything but list, start|null|"
                   "boolean is not supported.");
    }
    return 0;
  }
  if (cJSON_IsObject(v) && v->child && v->child->next == NULL &&
      (strcmp(v->child->string, "prefix") == 0 ||
       strcmp(v->child->string, "suffix") == 0 ||
       strcmp(v->child->string, "equals-ignore-case") == 0))
    return 0;
  return bad(err, errlen,
             "Value of anything-but must be an array or single "
             "string/number value.");
}

static int check_operator(const cJSON *op, char *err, size_t errlen) {
  const cJSON *v = op->child;
  const char *name = v ? v->string : "";

  if (v == NULL || v->next)
    return bad(err, errlen, "Only one key allowed in match expression");
  if (strcmp(name, "prefix") == 0 || strcmp(name, "suffix") == 0 ||
      strcmp(name, "equals-ignore-case") == 0 ||
      strcmp(name, "wildcard") == 0 || strcmp(name, "cidr") == 0)
    return cJSON_IsString(v) ? 0
                             : bad(err, errlen,
                                   "%s match pattern must be a "
                                   "string.",
                                   name);
  if (strcmp(name, "exists") == 0)
    return cJSON_IsBool(v) ? 0
                           : bad(err, errlen,
                                 "exists match pattern must be either true "
                                 "or false.");
  if (strcmp(name, "numeric") == 0)
    return check_numeric(v, err, errlen);
  if (strcmp(name, "anything-but") == 0)
    return check_anything_but(v, err, errlen);
  return bad(err, errlen, "Unrecognized match type %.64s", name);
}

static int check_object(const cJSON *p, int depth, char *err, size_t errlen);

static int check_field(const cJSON *f, int depth, char *err, size_t errlen) {
  const cJSON *e;

  if (strcmp(f->string, "$or") == 0) {
    if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) < 2)
      return bad(err, errlen, "$or must be an array of at least 2 patterns");
    cJSON_ArrayForEach(e, f) {
      if (check_object(e, depth + 1, err, errlen))
        return -1;
    }
    return 0;
  }
  if (cJSON_IsObject(f))
    return check_object(f, depth + 1, err, errlen);
  if (!cJSON_IsArray(f))
    return bad(err, errlen,
               "Match value must be String, number, true, "
               "false, or null");
  if (f->child == NULL)
    return bad(err, errlen, "Empty arrays are not allowed");
  cJSON_ArrayForEach(e, f) {
    if (cJSON_IsObject(e) ? check_operator(e, err, errlen) != 0
                          : !is_scalar(e) && bad(err, errlen,
                                                 "Match value must be "
                                                 "String, number, true, "
                                                 "false, or null"))
      return -1;
  }
  return 0;
}

static int check_object(const cJSON *p, int depth, char *err, size_t errlen) {
  const cJSON *f;

  if (!cJSON_IsObject(p))
    return bad(err, errlen, "Filter is not an object");
  if (depth > LK_PATTERN_MAX_DEPTH)
    return bad(err, errlen, "Filter is nested too deeply");
  cJSON_ArrayForEach(f, p) {
    if (check_field(f, depth, err, errlen))
      return -1;
  }
  return 0;
}

int lk_pattern_check(const cJSON *pattern, char *err, size_t errlen) {
  return check_object(pattern, 0, err, errlen);
}

/* ---- matching ---- */

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);

  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* '*' stands for any run of characters; nothing else is special. */
static int wildcard(const char *p, const char *s) {
  const char *star = NULL, *back = NULL;

  while (*s) {
    if (*p == '*') {
      star = p++;
      back = s;
    } else if (*p == *s) {
      p++;
      s++;
    } else if (star) {
      p = star + 1;
      s = ++back;
    } else {
      return 0;
    }
  }
  while (*p == '*')
    p++;
  return *p == '\0';
}

/* An IPv4 or IPv6 address in a CIDR block. */
static int in_cidr(const char *cidr, const char *ip) {
  unsigned char net[16], addr[16];
  char base[64];
  const char *slash = strchr(cidr, '/');
  int six = strchr(cidr, ':') != NULL, bits, len = six ? 16 : 4, i;
  char *end;

  if (slash == NULL || (size_t)(slash - cidr) >= sizeof(base))
    return 0;
  snprintf(base, sizeof(base), "%.*s", (int)(slash - cidr), cidr);
  bits = (int)strtol(slash + 1, &end, 10);
  if (*end || bits < 0 || bits > len * 8 ||
      inet_pton(six ? AF_INET6 : AF_INET, base, net) != 1 ||
      inet_pton(six ? AF_INET6 : AF_INET, ip, addr) != 1)
    return 0;
  for (i = 0; i < len && bits > 0; i++, bits -= 8) {
    unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;

    if ((net[i] & mask) != (addr[i] & mask))
      return 0;
  }
  return 1;
}

static int numeric(const cJSON *spec, double v) {
  const cJSON *op;

  for (op = spec->child; op && op->next; op = op->next->next) {
    const char *o = op->valuestring;
    double n = op->next->valuedouble;
    int ok = strcmp(o, "=") == 0    ? v == n
             : strcmp(o, "<") == 0  ? v < n
             : strcmp(o, "<=") == 0 ? v <= n
             : strcmp(o, ">") == 0  ? v > n
                                    : v >= n;

    if (!ok)
      return 0;
  }
  return 1;
}

static int same_scalar(const cJSON *a, const cJSON *v) {
  if (cJSON_IsString(a))
    return cJSON_IsString(v) && strcmp(a->valuestring, v->valuestring) == 0;
  if (cJSON_IsNumber(a))
    return cJSON_IsNumber(v) && a->valuedouble == v->valuedouble;
  if (cJSON_IsBool(a))
    return cJSON_IsBool(v) && cJSON_IsTrue(a) == cJSON_IsTrue(v);
  return cJSON_IsNull(a) && cJSON_IsNull(v);
}

static int anything_but(const cJSON *spec, const cJSON *v) {
  const cJSON *e;
  const char *s = cJSON_IsString(v) ? v->valuestring : NULL;

  if (cJSON_IsObject(spec)) {
    const char *k = spec->child->string, *x = spec->child->valuestring;

    if (s == NULL || x == NULL)
      return s == NULL ? 0 : 1;
    if (strcmp(k, "prefix") == 0)
      return strncmp(s, x, strlen(x)) != 0;
    if (strcmp(k, "suffix") == 0)
      return !ends_with(s, x);
    return strcasecmp(s, x) != 0;
  }
  if (cJSON_IsArray(spec)) {
    cJSON_ArrayForEach(e, spec) {
      if (same_scalar(e, v))
        return 0;
    }
    return 1;
  }
  return !same_scalar(spec, v);
}

/* One operator object against one (non-array) value. */
static int match_operator(const cJSON *op, const cJSON *v) {
  const cJSON *x = op->child;
  const char *k = x->string;
  const char *s = cJSON_IsString(v) ? v->valuestring : NULL;

  if (strcmp(k, "prefix") == 0)
    return s && strncmp(s, x->valuestring, strlen(x->valuestring)) == 0;
  if (strcmp(k, "suffix") == 0)
    return s && ends_with(s, x->valuestring);
  if (strcmp(k, "equals-ignore-case") == 0)
    return s && strcasecmp(s, x->valuestring) == 0;
  if (strcmp(k, "wildcard") == 0)
    return s && wildcard(x->valuestring, s);
  if (strcmp(k, "cidr") == 0)
    return s && in_cidr(x->valuestring, s);
  if (strcmp(k, "numeric") == 0)
    return cJSON_IsNumber(v) && numeric(x, v->valuedouble);
  if (strcmp(k, "anything-but") == 0)
    return anything_but(x, v);
  return 0;
}

/* One allowed value (a scalar or an operator) against the event's
 * value (NULL: the field is absent). */
static int match_one(const cJSON *alt, const cJSON *v) {
  const cJSON *e;

  if (cJSON_IsObject(alt) && strcmp(alt->child->string, "exists") == 0)
    return cJSON_IsTrue(alt->child) == (v != NULL && !cJSON_IsObject(v));
  if (v == NULL)
    return 0;
  if (cJSON_IsArray(v)) {
    cJSON_ArrayForEach(e, v) {
      if (match_one(alt, e))
        return 1;
    }
    return 0;
  }
  return cJSON_IsObject(alt) ? match_operator(alt, v) : same_scalar(alt, v);
}

static int match_object(const cJSON *p, const cJSON *ev);

/* A nested pattern: against the event's object, or any object of its
 * array; absent, only a pattern of exists:false can hold. */
static int match_nested(const cJSON *p, const cJSON *v) {
  const cJSON *e;

  if (cJSON_IsArray(v)) {
    cJSON_ArrayForEach(e, v) {
      if (cJSON_IsObject(e) && match_object(p, e))
        return 1;
    }
    return 0;
  }
  return match_object(p, cJSON_IsObject(v) ? v : NULL);
}

static int match_field(const cJSON *f, const cJSON *ev) {
  const cJSON *v = ev ? cJSON_GetObjectItemCaseSensitive(ev, f->string) : NULL;
  const cJSON *alt;

  if (strcmp(f->string, "$or") == 0) {
    cJSON_ArrayForEach(alt, f) {
      if (match_object(alt, ev))
        return 1;
    }
    return 0;
  }
  if (cJSON_IsObject(f))
    return match_nested(f, v);
  cJSON_ArrayForEach(alt, f) {
    if (match_one(alt, v))
      return 1;
  }
  return 0;
}

static int match_object(const cJSON *p, const cJSON *ev) {
  const cJSON *f;

  cJSON_ArrayForEach(f, p) {
    if (!match_field(f, ev))
      return 0;
  }
  return 1;
}

int lk_pattern_match(const cJSON *pattern, const cJSON *event) {
  return match_object(pattern, event);
}
