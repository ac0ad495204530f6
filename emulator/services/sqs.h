/* Emulated SQS: queues and messages in memory, served over both wire
 * protocols the SDKs speak: the query protocol (form "Action=", XML
 * replies; Debian's aws CLI and boto3) and JSON 1.0 ("X-Amz-Target:
 * AmazonSQS.*"; the current JS SDK). The store owns every queue and
 * message. Long polls hold their request until a message arrives or the
 * wait ends. lk_sqs_close() answers the waiting polls; lk_sqs_free()
 * releases the rest once the loop has run. */
#ifndef LK_SQS_H
#define LK_SQS_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "http.h"
#include "json.h"

#define LK_SQS_MAX_BODY 262144     /* SQS's own message size limit */
#define LK_SQS_MAX_MESSAGES 100000 /* per queue */
#define LK_SQS_MAX_QUEUES 1000
#define LK_SQS_MAX_ATTRS 10 /* message attributes per message */
/* Bodies and attributes of all messages of all queues together. */
#define LK_SQS_MAX_BYTES ((size_t)256 * 1024 * 1024)
/* FIFO deduplication ids remembered per queue (the window is 5 minutes;
 * past this many, the oldest are forgotten early). */
#define LK_SQS_MAX_DEDUP 100000

typedef struct lk_sqs lk_sqs_t;

typedef struct lk_sqs_queue_def {
  const char *name;
  int fifo;
  int visibility_timeout_s;
  int delay_s;
  const char *dlq_arn;
  int max_receive_count;
} lk_sqs_queue_def_t;

/* A message sent into a queue; trace is the sender's X-Amzn-Trace-Id. */
typedef void (*lk_sqs_send_cb)(void *ud, const char *queue_arn,
                               const char *trace);

lk_sqs_t *lk_sqs_new(uv_loop_t *loop, const char *region, const char *account,
                     const char *endpoint);
void lk_sqs_close(lk_sqs_t *sqs);
void lk_sqs_free(lk_sqs_t *sqs);
void lk_sqs_on_send(lk_sqs_t *sqs, lk_sqs_send_cb cb, void *ud);
int lk_sqs_create_queue(lk_sqs_t *sqs, const lk_sqs_queue_def_t *def);
/* Sends a message with no attributes; the message id lands in id[37]. */
int lk_sqs_send(lk_sqs_t *sqs, const char *queue, const char *body, size_t len,
                const char *trace, char id[37]);
/* The same with a FIFO queue's MessageGroupId and MessageDeduplicationId
 * (each NULL for none; a FIFO queue refuses a message without a group). */
int lk_sqs_send_fifo(lk_sqs_t *sqs, const char *queue, const char *body,
                     size_t len, const char *trace, const char *group,
                     const char *dedup, char id[37]);
/* Counts for a queue (name, URL or ARN): visible, in flight, delayed. */
int lk_sqs_counts(lk_sqs_t *sqs, const char *queue, int *visible,
                  int *in_flight, int *delayed);

/* Takes up to max (1..10) visible messages for an event source mapping,
 * as ReceiveMessage would with all attributes; appends them to list in
 * the JSON protocol's shape. Returns how many, or a negative LK_E*. */
int lk_sqs_receive(lk_sqs_t *sqs, const char *queue, int max, cJSON *list);
int lk_sqs_delete(lk_sqs_t *sqs, const char *queue, const char *receipt);

/* --state: every queue and message to one file, and back; gen is the
 * state log's generation the file includes everything before. A message
 * comes back visible: an in-flight receive does not survive a stop. */
int lk_sqs_save(lk_sqs_t *sqs, const char *path, uint64_t gen);
int lk_sqs_load(lk_sqs_t *sqs, const char *path, uint64_t *gen);
/* Every change from now on goes to cb as a record ({"sqs": op, ...}), and
 * lk_sqs_apply replays one. */
void lk_sqs_on_record(lk_sqs_t *sqs, lk_record_cb cb, void *ud);
void lk_sqs_apply(lk_sqs_t *sqs, const cJSON *record);

/* Answers one request; the caller has decided it is SQS's (json: 1 for
 * JSON 1.0, 0 for the query protocol). */
void lk_sqs_serve(lk_sqs_t *sqs, lk_http_req_t *req, int json);
/* 1 when a request looks like the SQS query protocol. */
int lk_sqs_is_query(const lk_http_req_t *req);

#endif
