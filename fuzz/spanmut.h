/* The event-aware mutator's fast path, for the in-process engine, where
 * the mutator runs once per exec and a parse and print of the event cost
 * more than the handler. It finds the outside-data fields of an event as
 * spans of its JSON text in one pass of a small scanner (no tree), changes
 * one span the way lk_mutate_event would, and patches the fields that
 * follow it (md5OfBody, Content-Length) in place. What it cannot change
 * in place (a field inside a JSON body, a log payload, a base64 body) it
 * leaves to lk_mutate_event: a 0 return says "take the slow path".
 * Like the slow path (and like Lambda), it writes events without spaces
 * between tokens, whatever the layout of the seed.
 * The lk_spanmut_t keeps its last output and that output's spans, so a
 * further mutation of it, and the engine's "is this an event?" check,
 * need no scan at all. Owned by the caller (lk_spanmut_new/_free); one
 * per thread. */
#ifndef LK_SPANMUT_H
#define LK_SPANMUT_H

#include <stddef.h>

#include "mutator.h"

typedef struct lk_spanmut lk_spanmut_t;

lk_spanmut_t *lk_spanmut_new(void);
void lk_spanmut_free(lk_spanmut_t *sm);

/* As lk_mutate_event; 0 when the slow path must do it (or nothing can). */
size_t lk_spanmut_mutate(lk_spanmut_t *sm, char *buf, size_t len, size_t max,
                         unsigned seed, lk_byte_mutator mutate);

/* As lk_crossover_event; 0 when the slow path must do it. */
size_t lk_spanmut_crossover(lk_spanmut_t *sm, const char *a, size_t alen,
                            const char *b, size_t blen, char *out, size_t max,
                            unsigned seed);

/* Remembers an event the slow path wrote, so that the check below knows
 * it without a parse. */
void lk_spanmut_note(lk_spanmut_t *sm, const char *ev, size_t len);

/* The event's source when the scanner can tell (always for what this
 * object or the slow path wrote last); LK_SRC_UNKNOWN when it cannot, and
 * lk_event_source must decide. */
lk_source_t lk_spanmut_source(lk_spanmut_t *sm, const char *ev, size_t len);

#endif
