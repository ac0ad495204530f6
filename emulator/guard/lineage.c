/* Lineage and loop detection (see lineage.h). Spans sit in a ring indexed
 * by a hash of their id; an old span is simply overwritten, so a chain
 * older than the ring is seen as new: it is bounded, never wrong about a
 * loop it reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "lineage.h"
#include "mem.h"

typedef struct span {
  char id[17];
  char root[48];
  int depth;
  char path[LK_LINEAGE_PATH];
  char origin[160];
  char origin_id[40];
  uint64_t chain_start_ms;
  int chain_invocations; /* as of this span */
} span_t;

struct lk_lineage {
  span_t *ring;
  int max_depth;
};

lk_lineage_t *lk_lineage_new(int max_depth) {
  lk_lineage_t *l = lk_xcalloc(1, sizeof(*l));

  l->ring = lk_xcalloc(LK_LINEAGE_SPANS, sizeof(*l->ring));
  l->max_depth = max_depth > 0 ? max_depth : LK_DEFAULT_MAX_DEPTH;
  return l;
}

void lk_lineage_free(lk_lineage_t *l) {
  if (l == NULL)
    return;
  free(l->ring);
  free(l);
}

static unsigned slot(const char *id) {
  unsigned h = 2166136261u;

  for (; *id; id++)
    h = (h ^ (unsigned char)*id) * 16777619u;
  return h % LK_LINEAGE_SPANS;
}

/* Copies the value of "key=" in a trace header ("Root=..;Parent=..."). */
static int field(const char *trace, const char *key, char *out, size_t cap) {
  size_t kl = strlen(key);
  const char *p = trace;

  while (p && *p) {
    while (*p == ' ' || *p == ';')
      p++;
    if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
      size_t n = strcspn(p + kl + 1, ";");

      if (n == 0 || n >= cap)
        return 0;
      memcpy(out, p + kl + 1, n);
      out[n] = '\0';
      return 1;
    }
    p = strchr(p, ';');
  }
  return 0;
}

static int hex_run(const char *s, int n) {
  int i;

  for (i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

/* X-Ray's shape, "1-<8 hex>-<24 hex>", and nothing else: a root from
 * outside is copied into every trace and journal line of its chain. */
static int valid_root(const char *r) {
  return strlen(r) == 35 && r[0] == '1' && r[1] == '-' && hex_run(r + 2, 8) &&
         r[10] == '-' && hex_run(r + 11, 24);
}

/* The path goes function, edge, function...; an edge may be several
 * hops ("sns://t -> sqs://q"), each of which holds a ':' that no function
 * name has ("invoke" is one edge without). fn is in the chain when it is
 * one of the function tokens. A path cut at its ceiling ends in "...",
 * which names no function. */
static int in_path(const char *path, const char *fn) {
  size_t fl = strlen(fn);
  const char *p = path;
  int want_fn = 1;

  while (p && *p) {
    const char *sep = strstr(p, " -> ");
    size_t tl = sep ? (size_t)(sep - p) : strlen(p);

    if (!want_fn)
      want_fn = 1; /* the edge out of a function */
    else if (memchr(p, ':', tl) == NULL) {
      if (tl == fl && memcmp(p, fn, fl) == 0)
        return 1;
      want_fn = 0;
    } /* else one more hop of the edge */
    p = sep ? sep + 4 : NULL;
  }
  return 0;
}

/* The hops an edge went through before it ("Via=sns://t,events://r" in
 * the trace), then the edge, into out. */
static void full_edge(const char *incoming, const char *edge, char *out,
                      size_t cap) {
  char hops[LK_LINEAGE_PATH];
  size_t i, o = 0;

  if (incoming == NULL || !field(incoming, "Via", hops, sizeof(hops))) {
    lk_str_copy(out, cap, edge);
    return;
  }
  for (i = 0; hops[i] && o + 5 < cap; i++) {
    if (hops[i] == ',') {
      memcpy(out + o, " -> ", 4);
      o += 4;
    } else {
      out[o++] = hops[i];
    }
  }
  snprintf(out + o, cap - o, " -> %s", edge);
}

static span_t *find(lk_lineage_t *l, const char *id) {
  span_t *s = &l->ring[slot(id)];

  return strcmp(s->id, id) == 0 ? s : NULL;
}

void lk_lineage_enter(lk_lineage_t *l, const char *incoming, const char *fn,
                      const char *edge, const char *origin, const char *inv_id,
                      lk_hop_t *hop) {
  char parent_id[17], root[48], id[17], sampled[4] = "0";
  char hops[LK_LINEAGE_PATH];
  span_t *parent = NULL, *s;
  uint64_t now = lk_now_ms();
  int in_chain = 0;

  memset(hop, 0, sizeof(*hop));
  /* The caller's sampling decision carries on down the chain, as X-Ray's */
  if (incoming && field(incoming, "Sampled", sampled, sizeof(sampled)) &&
      strcmp(sampled, "1") != 0)
    snprintf(sampled, sizeof(sampled), "0");
  if (incoming && field(incoming, "Parent", parent_id, sizeof(parent_id)))
    parent = find(l, parent_id);
  if (!(incoming && field(incoming, "Root", root, sizeof(root)) &&
        valid_root(root))) {
    char hex[25];

    lk_hex(hex, 24);
    snprintf(root, sizeof(root), "1-%08llx-%s",
             (unsigned long long)(now / 1000), hex);
  }
  lk_hex(id, 16);
  s = &l->ring[slot(id)];
  memset(s, 0, sizeof(*s));
  lk_str_copy(s->id, sizeof(s->id), id);
  lk_str_copy(s->root, sizeof(s->root), root);
  if (parent) {
    s->depth = parent->depth + 1;
    s->chain_start_ms = parent->chain_start_ms;
    s->chain_invocations = parent->chain_invocations + 1;
    lk_str_copy(s->origin, sizeof(s->origin), parent->origin);
    lk_str_copy(s->origin_id, sizeof(s->origin_id), parent->origin_id);
    in_chain = in_path(parent->path, fn);
    int n;

    full_edge(incoming, edge, hops, sizeof(hops));
    n = snprintf(s->path, sizeof(s->path), "%s -> %s -> %s", parent->path, hops,
                 fn);

    if (n < 0 || (size_t)n >= sizeof(s->path)) /* bounded: mark the cut */
      memcpy(s->path + sizeof(s->path) - 4, "...", 4);
  } else {
    s->chain_start_ms = now;
    s->chain_invocations = 1;
    lk_str_copy(s->origin, sizeof(s->origin), origin ? origin : edge);
    lk_str_copy(s->origin_id, sizeof(s->origin_id), inv_id ? inv_id : "");
    lk_str_copy(s->path, sizeof(s->path), fn);
  }

  hop->depth = s->depth;
  hop->chain_invocations = s->chain_invocations;
  lk_str_copy(hop->path, sizeof(hop->path), s->path);
  lk_str_copy(hop->origin, sizeof(hop->origin), s->origin);
  lk_str_copy(hop->origin_id, sizeof(hop->origin_id), s->origin_id);
  hop->rate = now > s->chain_start_ms ? s->chain_invocations * 1000.0 /
                                            (double)(now - s->chain_start_ms)
                                      : (double)s->chain_invocations * 1000.0;
  snprintf(hop->trace, sizeof(hop->trace),
           "Root=%s;Parent=%s;Sampled=%s;Lineage=%d", root, id,
           sampled[0] == '1' ? "1" : "0", s->depth);
  if (s->depth >= l->max_depth)
    hop->verdict = LK_HOP_DEPTH;
  else if (in_chain)
    hop->verdict = LK_HOP_LOOP;
}
