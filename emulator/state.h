/* --state: S3, SQS, CloudWatch Logs, DynamoDB, SNS, EventBridge and
 * Kinesis kept in a folder across restarts, and across crashes. Each
 * service has a snapshot (s3.json, sqs.json, logs.json, dynamodb.json,
 * sns.json, events.json, kinesis.json, each naming the state log
 * generation it holds everything before), and every change since goes to
 * the state log (state.aof.<generation>), redis's AOF: replayed at start, then
 * folded into new snapshots. A change someone is told of reaches the disk
 * before the answer leaves: the endpoint's answers are held while a
 * durable record waits, and one fdatasync() per loop turn releases them
 * all (group commit). Function output is logged without a sync of its
 * own (the next sync, at most a second later, takes it). Past
 * LK_STATE_LOG_MAX the snapshots are rewritten by a forked child, from
 * the state as it was, while the parent writes a new generation. */
#ifndef LK_STATE_H
#define LK_STATE_H

#include <uv.h>

#include "dynamodb.h"
#include "eventbridge.h"
#include "http.h"
#include "kinesis.h"
#include "logs.h"
#include "s3.h"
#include "sns.h"
#include "sqs.h"

#define LK_STATE_LOG_MAX ((uint64_t)64 * 1024 * 1024)

typedef struct lk_state lk_state_t;

/* The services whose state is kept. */
typedef struct lk_state_svcs {
  lk_s3_t *s3;
  lk_sqs_t *sqs;
  lk_logs_t *logs;
  lk_ddb_t *ddb;
  lk_sns_t *sns;
  lk_eb_t *eb;
  lk_kin_t *kin;
} lk_state_svcs_t;

/* Loads dir's snapshots into the services, replays the state log, writes
 * it into fresh snapshots and starts a new one; from then on records
 * every change. api is the endpoint whose answers wait for the sync.
 * 0, or an error (printed). */
int lk_state_open(uv_loop_t *loop, const char *dir, const lk_state_svcs_t *svc,
                  lk_http_server_t *api, lk_state_t **out);
/* Holds req's answer until what it changed is on disk. */
void lk_state_hold(lk_state_t *st, lk_http_req_t *req);
/* After a request: when nothing waits for a sync, the held answers go. */
void lk_state_settle(lk_state_t *st);
/* Syncs, writes the final snapshots and drops the state log; its timers
 * close. The endpoint may be gone by then. */
void lk_state_close(lk_state_t *st);
void lk_state_free(lk_state_t *st);

#endif
