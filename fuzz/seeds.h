/* Seed events for lambkin fuzz: one shaped like a function's first event
 * source (or like --source), the events of corpora/<source>/ beside the
 * template and in lambkin's own tree, and the user's --seeds. Every event
 * returned is a string the caller frees. */
#ifndef LK_SEEDS_H
#define LK_SEEDS_H

#include "app.h"

/* A seed for f's first event source lambkin can shape, its source's name
 * in *source ("s3", "sqs", "logs", "apigw", "apigw-v2"); with forced, a
 * sample of that source instead. NULL when there is none. */
char *lk_seed_event(const lk_app_t *app, const lk_function_t *f,
                    const char *forced, const char **source);
/* The first seed: from f's events (or forced), else the first event of
 * the seeds path, whose shape then names the source. */
char *lk_seed_first(const lk_app_t *app, const lk_function_t *f,
                    const char *forced, const char *seeds_path,
                    const char **source);
/* Adds to seeds[n..max) every event in path (a file, or the files of one
 * folder, not its subfolders) that a known source could send; returns
 * the new count. */
int lk_seeds_read(const char *path, char **seeds, int n, int max);
/* Adds the events of corpora/<source>/ and of the function's own
 * corpora/<source>/<function>/ (beside the template, then in lambkin's
 * tree) and of seeds_path (may be NULL); the new count. */
int lk_seeds_corpora(const lk_app_t *app, const char *source,
                     const char *function, const char *seeds_path, char **seeds,
                     int n, int max);

#endif
