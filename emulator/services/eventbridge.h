/* Emulated EventBridge over JSON 1.1 ("X-Amz-Target: AWSEvents.*"): event
 * buses (the default one, and CreateEventBus), rules with event patterns
 * (matched by the shared pattern matcher), their targets with Input,
 * InputPath and InputTransformer, PutEvents and TestEventPattern. An
 * event that matches an enabled rule goes, shaped by each target, to the
 * delivery hook, which the event sources turn into an invocation, an SQS
 * message or an SNS publish. The store owns its buses, rules and
 * targets. */
#ifndef LK_EVENTBRIDGE_H
#define LK_EVENTBRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"

#define LK_EB_MAX_RULES 1000
#define LK_EB_MAX_TARGETS 5 /* a rule's, as EventBridge allows */
#define LK_EB_MAX_EVENT (256 * 1024)

typedef struct lk_eb lk_eb_t;

/* One event for one target of a rule: the target's ARN, and what it gets
 * (the event, or what its Input, InputPath or InputTransformer makes). */
typedef struct lk_eb_delivery {
  const char *rule_arn, *target_id, *target_arn;
  const char *payload;
  const char *trace;       /* the PutEvents caller's X-Amzn-Trace-Id, or NULL */
  const char *dead_letter; /* the target's DeadLetterConfig queue, or NULL */
} lk_eb_delivery_t;

typedef void (*lk_eb_deliver_cb)(void *ud, const lk_eb_delivery_t *d);
/* Hears that a rule was made, changed, enabled, disabled or deleted. */
typedef void (*lk_eb_rules_cb)(void *ud);
/* One enabled rule with a schedule, and the time zone it is read in
 * (NULL: UTC; a function's ScheduleV2 event may name one). */
typedef void (*lk_eb_schedule_cb)(void *ud, const char *bus, const char *rule,
                                  const char *expression, const char *tz);

lk_eb_t *lk_eb_new(const char *region, const char *account);
void lk_eb_free(lk_eb_t *eb);
void lk_eb_on_deliver(lk_eb_t *eb, lk_eb_deliver_cb cb, void *ud);
void lk_eb_on_rules(lk_eb_t *eb, lk_eb_rules_cb cb, void *ud);
/* Calls cb for each enabled rule that has a ScheduleExpression. */
void lk_eb_each_schedule(const lk_eb_t *eb, lk_eb_schedule_cb cb, void *ud);
/* An event bus: 0, LK_EEXIST, or LK_EINVAL for a name EventBridge
 * refuses. */
int lk_eb_create_bus(lk_eb_t *eb, const char *name);
/* A rule (made or replaced) on a bus (NULL: default), as PutRule takes
 * it: {Name, EventPattern (text or object), ScheduleExpression (rate,
 * cron or at: base/schedule.h), State}. 0, or LK_EINVAL with
 * EventBridge's message in err. */
int lk_eb_put_rule(lk_eb_t *eb, const char *bus, const cJSON *rule, char *err,
                   size_t errlen);
/* A target of a rule: {Id, Arn, Input, InputPath, InputTransformer}. 0,
 * LK_ENOENT (no such rule) or LK_EINVAL (with the message in err). */
int lk_eb_put_target(lk_eb_t *eb, const char *bus, const char *rule,
                     const cJSON *target, char *err, size_t errlen);
/* Fires a rule now, as its schedule would: the Scheduled Event to each
 * target. LK_ENOENT when there is no such rule. */
int lk_eb_fire(lk_eb_t *eb, const char *bus, const char *rule,
               const char *trace);
/* An event as EventBridge shapes it ({version, id, detail-type, source,
 * account, time, region, resources, detail}); detail becomes its (NULL:
 * {}). The caller frees it. `lambkin event` prints these. */
cJSON *lk_eb_event(const char *region, const char *account, const char *source,
                   const char *detail_type, cJSON *detail,
                   const cJSON *resources);

/* --state: buses, and rules with their targets, to one snapshot (which
 * holds everything before state log generation gen) and to the state
 * log as they change ({"events": "bus"|"rule"|"unrule", ...}, durable);
 * lk_eb_apply replays one. */
void lk_eb_on_record(lk_eb_t *eb, lk_record_cb cb, void *ud);
int lk_eb_save(const lk_eb_t *eb, const char *path, uint64_t gen);
int lk_eb_load(lk_eb_t *eb, const char *path, uint64_t *gen);
void lk_eb_apply(lk_eb_t *eb, const cJSON *record);

/* One JSON 1.1 call, without HTTP: the status and, in *out, the answer
 * (the caller's to free). */
int lk_eb_call(lk_eb_t *eb, const char *target, const char *trace,
               const char *body, size_t len, char **out);
void lk_eb_serve(lk_eb_t *eb, lk_http_req_t *req);

#endif
