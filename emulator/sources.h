/* Event sources: S3 notifications, SQS event source mappings and CloudWatch
 * Logs subscriptions, each turning a service change into an invocation with
 * the event shape Lambda sends. Created once the services exist; owns its
 * mappings and its poll timer. lk_sources_close() stops the timer;
 * lk_sources_free() releases the rest after the loop has run. */
#ifndef LK_SOURCES_H
#define LK_SOURCES_H

typedef struct lk_sources lk_sources_t;
struct lk_emu;

int lk_sources_new(struct lk_emu *emu, lk_sources_t **out);
void lk_sources_close(lk_sources_t *src);
void lk_sources_free(lk_sources_t *src);

#endif
