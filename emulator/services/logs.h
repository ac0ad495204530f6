/* Emulated CloudWatch Logs over JSON 1.1 ("X-Amz-Target: Logs_20140328.*"):
 * log groups, streams and events in memory, filter patterns, and
 * subscription filters that hand matching events to a callback (the
 * subscribed function, later). The store owns everything in it. */
#ifndef LK_LOGS_H
#define LK_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"

#define LK_LOGS_MAX_EVENTS 10000 /* per stream: the oldest go first */
#define LK_LOGS_MAX_BYTES (8 * 1024 * 1024) /* all messages together */
#define LK_LOGS_MAX_MESSAGE (256 * 1024)
#define LK_LOGS_MAX_GROUPS 1000
/* Streams of all groups together: a new one past this takes the place of
 * the least recently written stream of its group, events and all. */
#define LK_LOGS_MAX_STREAMS 20000

typedef struct lk_logs lk_logs_t;

/* Events of one put that matched a subscription filter. events is an
 * array of {id, timestamp, message}; trace is the writer's trace header. */
typedef void (*lk_logs_match_cb)(void *ud, const char *group,
                                 const char *stream, const char *filter_name,
                                 const char *destination_arn,
                                 const cJSON *events, const char *trace);

lk_logs_t *lk_logs_new(const char *region, const char *account);
void lk_logs_free(lk_logs_t *logs);
void lk_logs_on_match(lk_logs_t *logs, lk_logs_match_cb cb, void *ud);
int lk_logs_create_group(lk_logs_t *logs, const char *group);
int lk_logs_subscribe(lk_logs_t *logs, const char *group, const char *name,
                      const char *pattern, const char *destination_arn);
/* Appends one event, creating the group and stream when missing (as the
 * Lambda service does for /aws/lambda/<name>). */
int lk_logs_put(lk_logs_t *logs, const char *group, const char *stream,
                int64_t timestamp_ms, const char *msg, size_t len,
                const char *trace);

void lk_logs_serve(lk_logs_t *logs, lk_http_req_t *req);

/* --state: every group, stream, event and subscription to one file, and
 * back (no subscription fires for what is loaded). */
int lk_logs_save(lk_logs_t *logs, const char *path, uint64_t gen);
int lk_logs_load(lk_logs_t *logs, const char *path, uint64_t *gen);
/* Every change made through the API from now on goes to cb as a durable
 * record ({"logs": op, ...}); function output (lk_logs_put) does not.
 * lk_logs_apply replays one. */
void lk_logs_on_record(lk_logs_t *logs, lk_record_cb cb, void *ud);
void lk_logs_apply(lk_logs_t *logs, const cJSON *record);

#endif
