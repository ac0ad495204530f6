/* Lineage: which invocation caused which, across every path a function can
 * trigger another (Lambda Invoke, an S3 put that notifies, an SQS send that
 * feeds a mapping, a log line that feeds a subscription). Each invocation
 * gets its own trace header, "Root=<chain>;Parent=<span>;Sampled=0;
 * Lineage=<hops>"; the SDKs send it back as X-Amzn-Trace-Id on every call
 * the function makes, so the next invocation finds its parent by span. A
 * chain that reaches a function already in it is a loop. The tracker owns
 * a bounded ring of recent spans; nothing it returns needs freeing. */
#ifndef LK_LINEAGE_H
#define LK_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#define LK_LINEAGE_SPANS 4096   /* remembered invocations */
#define LK_LINEAGE_PATH 512     /* bytes of "a -> s3://b/k -> a" kept */
#define LK_DEFAULT_MAX_DEPTH 16 /* AWS's own recursion limit */

typedef struct lk_lineage lk_lineage_t;

typedef enum {
  LK_HOP_OK = 0,
  LK_HOP_LOOP = 1, /* the function is already in the chain */
  LK_HOP_DEPTH = 2 /* the chain is past max depth */
} lk_hop_verdict_t;

typedef struct lk_hop {
  lk_hop_verdict_t verdict;
  char trace[200];            /* header for the new invocation */
  int depth;                  /* 0 for an invocation nobody caused */
  char path[LK_LINEAGE_PATH]; /* the chain up to and including this one */
  char origin[160];           /* what started the chain: "api", "s3" ... */
  char origin_id[40];         /* its first invocation (journal id) */
  double rate;                /* invocations per second the chain sustains */
  int chain_invocations;
} lk_hop_t;

lk_lineage_t *lk_lineage_new(int max_depth);
void lk_lineage_free(lk_lineage_t *l);
/* Places a new invocation (id) of fn: caused by whatever sent
 * incoming_trace (a call's X-Amzn-Trace-Id, or NULL), through edge
 * ("invoke", "s3://bucket/key", "sqs://queue", "logs:group"). origin names
 * the first source when the chain is new. Always fills hop->trace. */
void lk_lineage_enter(lk_lineage_t *l, const char *incoming_trace,
                      const char *fn, const char *edge, const char *origin,
                      const char *id, lk_hop_t *hop);

#endif
