/* CloudWatch Logs filter patterns (see logfilter.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "logfilter.h"

#define MAX_TERMS 32
#define MAX_TERM 256

static int contains(const char *msg, size_t len, const char *t, size_t tl) {
  if (tl == 0)
    return 1;
  return tl <= len && memmem(msg, len, t, tl) != NULL;
}

/* Space-separated terms; "quoted" terms keep their spaces. */
static int match_terms(const char *p, const char *msg, size_t len, int *bad) {
  int n_any = 0, any_hit = 0, n = 0;

  while (*p) {
    char term[MAX_TERM];
    size_t tl = 0;
    int neg = 0, opt = 0;

    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      break;
    if (++n > MAX_TERMS) {
      *bad = 1;
      return 0;
    }
    if (*p == '-') {
      neg = 1;
      p++;
    } else if (*p == '?') {
      opt = 1;
      p++;
    }
    if (*p == '"') {
      const char *end = strchr(p + 1, '"');

      if (end == NULL || (size_t)(end - p - 1) >= sizeof(term)) {
        *bad = 1;
        return 0;
      }
      tl = (size_t)(end - p - 1);
      memcpy(term, p + 1, tl);
      p = end + 1;
    } else {
      while (*p && *p != ' ' && *p != '\t' && tl + 1 < sizeof(term))
        term[tl++] = *p++;
    }
    term[tl] = '\0';
    if (opt) {
      n_any++;
      any_hit |= contains(msg, len, term, tl);
    } else if (neg ? contains(msg, len, term, tl)
                   : !contains(msg, len, term, tl)) {
      return 0;
    }
  }
  return n_any == 0 || any_hit;
}

/* ---- JSON patterns ---- */

static const cJSON *select_path(const cJSON *root, const char *path, size_t n) {
  char name[MAX_TERM];
  const cJSON *cur = root;
  size_t i = 0;

  if (n == 0 || path[0] != '$')
    return NULL;
  i = 1;
  while (i < n && cur) {
    size_t k = 0;

    if (path[i] == '.') {
      i++;
      while (i < n && path[i] != '.' && path[i] != '[' && k + 1 < sizeof(name))
        name[k++] = path[i++];
      name[k] = '\0';
      cur = cJSON_GetObjectItemCaseSensitive(cur, name);
    } else if (path[i] == '[') {
      long idx = strtol(path + i + 1, NULL, 10);
      const char *close = memchr(path + i, ']', n - i);

      if (close == NULL)
        return NULL;
      cur = cJSON_GetArrayItem(cur, (int)idx);
      i = (size_t)(close - path) + 1;
    } else {
      return NULL;
    }
  }
  return cur;
}

/* value may end in '*' as a wildcard; quotes are stripped by the caller. */
static int str_eq(const char *have, const char *want, size_t wl) {
  if (wl && want[wl - 1] == '*')
    return strncmp(have, want, wl - 1) == 0;
  return strlen(have) == wl && strncmp(have, want, wl) == 0;
}

static int compare(const cJSON *root, const char *e, size_t n, int *bad) {
  static const char *const ops[] = {"!=", "<=", ">=", "=", "<", ">"};
  const char *op = NULL;
  size_t i, k, pl, ol = 0, vs, ve;
  const cJSON *v;
  char val[MAX_TERM];
  int which = -1;

  for (i = 0; i < n && op == NULL; i++)
    for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
      if (strncmp(e + i, ops[k], strlen(ops[k])) == 0) {
        op = e + i;
        ol = strlen(ops[k]);
        which = (int)k;
        break;
      }
  if (op == NULL) {
    *bad = 1;
    return 0;
  }
  pl = (size_t)(op - e);
  while (pl && isspace((unsigned char)e[pl - 1]))
    pl--;
  vs = (size_t)(op - e) + ol;
  ve = n;
  while (vs < ve && isspace((unsigned char)e[vs]))
    vs++;
  while (ve > vs && isspace((unsigned char)e[ve - 1]))
    ve--;
  if (ve > vs + 1 && e[vs] == '"' && e[ve - 1] == '"') {
    vs++;
    ve--;
  }
  if (ve - vs >= sizeof(val)) {
    *bad = 1;
    return 0;
  }
  memcpy(val, e + vs, ve - vs);
  val[ve - vs] = '\0';
  v = select_path(root, e, pl);
  if (v == NULL)
    return 0;
  if (cJSON_IsNumber(v) || (which >= 1 && which != 3)) {
    char *end;
    double want = strtod(val, &end), have;

    if (!cJSON_IsNumber(v) || *end)
      return which == 0 && cJSON_IsString(v)
                 ? !str_eq(v->valuestring, val, strlen(val))
                 : 0;
    have = v->valuedouble;
    switch (which) {
    case 0:
      return have != want;
    case 1:
      return have <= want;
    case 2:
      return have >= want;
    case 3:
      return have == want;
    case 4:
      return have < want;
    default:
      return have > want;
    }
  }
  if (cJSON_IsString(v))
    return which == 3 ? str_eq(v->valuestring, val, strlen(val))
                      : !str_eq(v->valuestring, val, strlen(val));
  if (cJSON_IsBool(v) || cJSON_IsNull(v)) {
    const char *s = cJSON_IsNull(v)   ? "NULL"
                    : cJSON_IsTrue(v) ? "true"
                                      : "false";

    return (which == 3) == (strcmp(s, val) == 0);
  }
  return 0;
}

/* a || b || c, where each is x && y && z; no parentheses. */
static int match_json(const char *p, size_t n, const char *msg, size_t len,
                      int *bad) {
  cJSON *root = cJSON_ParseWithLength(msg, len);
  size_t i = 0;
  int any = 0;

  if (root == NULL)
    return 0;
  while (i <= n && !any && !*bad) {
    size_t j = i, end;
    int all = 1;

    /* find the end of this || alternative */
    while (j < n && !(p[j] == '|' && j + 1 < n && p[j + 1] == '|'))
      j++;
    end = j;
    while (i < end && all && !*bad) {
      size_t a = i, b;

      while (a < end && !(p[a] == '&' && a + 1 < end && p[a + 1] == '&'))
        a++;
      b = a;
      while (i < b && isspace((unsigned char)p[i]))
        i++;
      if (i < b)
        all = compare(root, p + i, b - i, bad);
      i = b + 2;
    }
    any = all;
    i = end + 2;
  }
  cJSON_Delete(root);
  return any && !*bad;
}

int lk_filter_match(const char *pattern, const char *msg, size_t len,
                    int *bad) {
  int dummy = 0;
  const char *p = pattern;
  size_t n;

  if (bad == NULL)
    bad = &dummy;
  *bad = 0;
  if (p == NULL)
    return 1;
  while (isspace((unsigned char)*p))
    p++;
  n = strlen(p);
  while (n && isspace((unsigned char)p[n - 1]))
    n--;
  if (n == 0)
    return 1;
  if (p[0] == '{') {
    if (p[n - 1] != '}') {
      *bad = 1;
      return 0;
    }
    return match_json(p + 1, n - 2, msg, len, bad);
  }
  return match_terms(p, msg, len, bad) && !*bad;
}
