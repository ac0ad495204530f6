/* Event sources: S3 notifications, SQS, DynamoDB stream and Kinesis
 * event source mappings, SNS deliveries, EventBridge targets and CloudWatch
 * Logs subscriptions, each turning a service change into an invocation with the
 * event shape Lambda sends. Created once the services and the runtime exist;
 * owns its mappings and its poll timer. lk_sources_close() stops the timer;
 * lk_sources_free() releases the rest after the loop has run. */
#ifndef LK_SOURCES_H
#define LK_SOURCES_H

#include <uv.h>

#include "app.h"
#include "dynamodb.h"
#include "eventbridge.h"
#include "kinesis.h"
#include "logs.h"
#include "runtime.h"
#include "s3.h"
#include "sns.h"
#include "sqs.h"

typedef struct lk_sources lk_sources_t;

/* What the sources connect: the app, its runtime, the services, and
 * the endpoint's URL (for the links events carry). */
typedef struct lk_sources_deps {
  uv_loop_t *loop;
  const lk_app_t *app;
  lk_runtime_t *rt;
  lk_s3_t *s3;
  lk_sqs_t *sqs;
  lk_logs_t *logs;
  lk_ddb_t *ddb;
  lk_sns_t *sns;
  lk_eb_t *eb;
  lk_kin_t *kin;
  const char *endpoint;
} lk_sources_deps_t;

lk_sources_t *lk_sources_new(const lk_sources_deps_t *deps);
void lk_sources_close(lk_sources_t *src);
void lk_sources_free(lk_sources_t *src);

#endif
