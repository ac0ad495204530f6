/* The sink report's lines (see sinkrep.h). One iterator cuts the bytes
 * into lines; each reader looks at the lines of its own kind. */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sinkrep.h"

typedef struct line {
  const char *p, *end; /* what is left of the report */
  const char *s;       /* this line, without its newline */
  size_t n;
} line_t;

/* The next line into l->s and l->n; 0 at the end. */
static int next_line(line_t *l) {
  const char *nl;

  if (l->p == NULL || l->p >= l->end)
    return 0;
  nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
  l->s = l->p;
  l->n = (size_t)((nl ? nl : l->end) - l->p);
  l->p = nl ? nl + 1 : l->end;
  return 1;
}

/* The rest of a line after "tag\t", or NULL when it is another kind. */
static const char *field(const line_t *l, const char *tag, size_t *n) {
  size_t t = strlen(tag);

  if (l->n <= t || memcmp(l->s, tag, t) != 0 || l->s[t] != '\t')
    return NULL;
  *n = l->n - t - 1;
  return l->s + t + 1;
}

size_t lk_sinkrep_kinds(const char *rep, size_t len, char *out, size_t cap) {
  static const char *const kinds[] = {"exec",      "open",     "dns",  "sql",
                                      "sql-error", "tripwire", "nosql"};
  line_t l = {rep, rep + len, NULL, 0};
  unsigned seen = 0;
  size_t k, o = 0, kl;

  while (next_line(&l)) {
    const char *tab = memchr(l.s, '\t', l.n);

    kl = tab ? (size_t)(tab - l.s) : l.n;
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
      if (kl == strlen(kinds[k]) && memcmp(l.s, kinds[k], kl) == 0)
        seen |= 1u << k;
  }
  if (cap)
    out[0] = '\0';
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    kl = strlen(kinds[k]);
    if ((seen & (1u << k)) && o + kl + 2 <= cap) {
      out[o++] = '|';
      memcpy(out + o, kinds[k], kl + 1);
      o += kl;
    }
  }
  return o;
}

long lk_sinkrep_cov(const char *rep, size_t len) {
  line_t l = {rep, rep + len, NULL, 0};
  char digits[24];
  const char *v;
  size_t n;
  long cov = 0;

  while (next_line(&l)) {
    v = field(&l, "cov", &n);
    if (v == NULL)
      continue;
    n = n < sizeof(digits) - 1 ? n : sizeof(digits) - 1;
    memcpy(digits, v, n); /* bounded: the report need not end in NUL */
    digits[n] = '\0';
    cov = strtol(digits, NULL, 10);
  }
  return cov;
}

/* 1 when words[0..n) has w already. */
static int known(char *const *words, int n, const char *w, size_t wl) {
  int i;

  for (i = 0; i < n; i++)
    if (strlen(words[i]) == wl && memcmp(words[i], w, wl) == 0)
      return 1;
  return 0;
}

int lk_sinkrep_words(const char *rep, size_t len, char **words, int n,
                     int max) {
  line_t l = {rep, rep + len, NULL, 0};
  const char *w;
  size_t wl;

  while (n < max && next_line(&l)) {
    w = field(&l, "dict", &wl);
    if (w == NULL || wl < 2 || wl > LK_SINKREP_WORD_MAX ||
        memchr(w, '\\', wl) || memchr(w, '\t', wl) || memchr(w, '\0', wl) ||
        known(words, n, w, wl))
      continue;
    words[n++] = lk_xstrndup(w, wl);
  }
  return n;
}

/* One hex number of at most 8 digits at *q (before end); 0 when there
 * is none. */
static int hex_unit(const char **q, const char *end, uint32_t *u) {
  const char *s = *q;
  uint32_t v = 0;
  int digits = 0, d;

  for (; s < end && digits < 8; s++, digits++) {
    d = *s >= '0' && *s <= '9'   ? *s - '0'
        : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
        : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                 : -1;
    if (d < 0)
      break;
    v = v << 4 | (uint32_t)d;
  }
  if (digits == 0)
    return 0;
  *u = v;
  *q = s;
  return 1;
}

int lk_sinkrep_units(const char *rep, size_t len, uint32_t *units, int max) {
  line_t l = {rep, rep + len, NULL, 0};
  const char *q, *end;
  size_t n;
  int count = 0;

  while (count < max && next_line(&l)) {
    q = field(&l, "covu", &n);
    for (end = q ? q + n : NULL; q && q < end && count < max;) {
      if (!hex_unit(&q, end, &units[count]))
        break;
      count++;
      if (q < end && *q != ',')
        break;
      q += q < end;
    }
  }
  return count;
}
