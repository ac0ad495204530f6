/* Loops: every invocation is placed in its chain (lineage.h) before it is
 * accepted; a chain that comes back to a function, or runs past the
 * depth limit, is reported (a line on stderr, a journal record, the
 * fuzzer's callback) and stopped, unless loops are allowed to run on to
 * the depth limit. The watcher owns its lineage tracker. */
#ifndef LK_LOOPS_H
#define LK_LOOPS_H

#include <stddef.h>

#include "journal.h"
#include "runtime.h"

typedef struct lk_loops lk_loops_t;

/* Hears of each loop (not of too-deep chains): the function it came back
 * to, the chain, and the event that closed it. With a listener, a
 * loop's line on stderr comes once per path: the listener counts the
 * rest. */
typedef void (*lk_loop_cb)(const char *function, const char *path,
                           const char *event, void *ud);

/* max_depth 0: AWS's own limit. allow: --allow-loops. */
lk_loops_t *lk_loops_new(int max_depth, int allow, lk_journal_t *journal,
                         lk_loop_cb cb, void *cb_ud);
void lk_loops_free(lk_loops_t *l);
/* The runtime's placement hook (lk_runtime_hooks_t.place); ud is the
 * lk_loops_t. */
int lk_loops_place(void *ud, const lk_placement_t *p, char *trace, char *why,
                   size_t why_cap);
/* Loops and too-deep chains reported so far. */
int lk_loops_count(const lk_loops_t *l);

#endif
