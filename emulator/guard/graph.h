/* The trigger graph: what the template alone says about the three
 * mistakes lambkin exists to catch (`lambkin check`). It builds the trigger
 * graph (which bucket, queue or log group runs which function, and what each
 * function's policies let it write), finds the cycles in it, and reports
 * functions without limits and policies wider than any code needs.
 * lk_check_app() returns a cJSON array of findings the caller owns. */
#ifndef LK_GRAPH_H
#define LK_GRAPH_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "app.h"

/* Each finding: {"rule","level" ("error"|"warning"),"function","line",
 * "message"}. Loops are reported one per strongly connected component of
 * the graph: "loop" (an error) when it holds a definite cycle (every
 * edge an event, or a write the grant names), with "cycle" (its
 * shortest, as text), "usd_per_day" (one chain at one hop per second,
 * list prices), "functions" and "cycles" (those found, bounded);
 * "possible-loop" (a warning) when cycles there need a wildcard grant,
 * with "grants" naming them. observed ({function: {resource: [actions]}},
 * the calls lambkin saw; NULL for none) confirms edges: a write seen is
 * definite, and one no policy grants is drawn. */
cJSON *lk_check_app(const lk_app_t *app, const cJSON *observed);
/* The trigger graph in Graphviz dot: each looping component a cluster,
 * definite cycles red, possible edges dashed. */
void lk_check_dot(const lk_app_t *app, const cJSON *observed, FILE *out);

#endif
