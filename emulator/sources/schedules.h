/* EventBridge schedules on the clock: every enabled rule with a
 * ScheduleExpression (of the template, or made through the API) fires
 * its targets when its rate, cron or at() says, in UTC; a rate counts
 * from when its rule was made, as EventBridge's does. One timer, armed
 * for the next firing and re-armed whenever a rule changes. Owns its
 * timer: lk_schedules_close() stops it, lk_schedules_free() releases
 * the rest after the loop has run. */
#ifndef LK_SCHEDULES_H
#define LK_SCHEDULES_H

#include <uv.h>

#include "eventbridge.h"

typedef struct lk_schedules lk_schedules_t;

lk_schedules_t *lk_schedules_new(uv_loop_t *loop, lk_eb_t *eb);
void lk_schedules_close(lk_schedules_t *s);
void lk_schedules_free(lk_schedules_t *s);

#endif
