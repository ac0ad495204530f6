/* Event source mappings that read a stream in order: Events of type
 * DynamoDB and Kinesis. One batch in flight per mapping (a Kinesis
 * mapping is one per shard, times its ParallelizationFactor, in order
 * per partition key), so records reach the function in the order of the
 * writes; BatchSize,
 * MaximumBatchingWindowInSeconds, FilterCriteria,
 * ReportBatchItemFailures, BisectBatchOnFunctionError,
 * MaximumRetryAttempts and DestinationConfig.OnFailure (an SQS queue)
 * as Lambda does them. A record leaves the stream's hold only once its
 * batch succeeded, was filtered out, or went to OnFailure. Owns its
 * mappings and their timers: lk_streams_close() stops them, and
 * lk_streams_free() releases the rest after the loop has run. */
#ifndef LK_STREAMS_H
#define LK_STREAMS_H

#include <uv.h>

#include "app.h"
#include "dynamodb.h"
#include "kinesis.h"
#include "runtime.h"
#include "sqs.h"

typedef struct lk_streams lk_streams_t;

/* The mappings of every function's DynamoDB and Kinesis events; one
 * whose filter or stream is unusable is left out with a warning. */
lk_streams_t *lk_streams_new(uv_loop_t *loop, const lk_app_t *app,
                             lk_runtime_t *rt, lk_ddb_t *ddb, lk_kin_t *kin,
                             lk_sqs_t *sqs);
void lk_streams_close(lk_streams_t *s);
void lk_streams_free(lk_streams_t *s);

#endif
