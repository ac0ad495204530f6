/* The app model: what lambkin knows about a SAM/CloudFormation template.
 * lk_app_load() reads template.yaml (or a JSON template), resolves the
 * intrinsics it supports and returns an app that the caller frees with
 * lk_app_free(). Properties that later stages act on (Events, Policies,
 * notification configs) are kept as resolved cJSON trees. */
#ifndef LK_APP_H
#define LK_APP_H

#include <cjson/cJSON.h>

typedef enum lk_runtime_kind {
  LK_RT_PROVIDED, /* the user's bootstrap in CodeUri */
  LK_RT_C,        /* provided.* with C sources: lambkin's native bootstrap */
  LK_RT_PYTHON,
  LK_RT_NODE
} lk_runtime_kind_t;

typedef struct lk_function {
  char *logical_id;
  char *name; /* FunctionName, or the logical id */
  char *arn;
  char *handler;
  char *runtime;
  lk_runtime_kind_t kind;
  char *code_dir; /* absolute CodeUri */
  int timeout_s;
  int memory_mb;
  char **env; /* "KEY=VALUE", n_env of them */
  int n_env;
  int reserved_concurrency; /* -1: not set */
  cJSON *events;            /* object: name -> {Type, Properties} */
  cJSON *policies;          /* array (a lone policy is wrapped) */
  char *dlq_type;           /* "SQS" / "SNS" or NULL */
  char *dlq_target;
  int max_retry_attempts; /* EventInvokeConfig; -1: Lambda's default, 2 */
  int max_event_age_s;    /* -1: default */
  cJSON *destinations;    /* EventInvokeConfig.DestinationConfig or NULL */
  int line;               /* where the resource starts in the template */
} lk_function_t;

typedef struct lk_bucket {
  char *logical_id, *name;
  cJSON *notification; /* NotificationConfiguration or NULL */
  int line;
} lk_bucket_t;

typedef struct lk_queue {
  char *logical_id, *name, *arn;
  int fifo;
  int visibility_timeout_s; /* default 30 */
  int delay_s;
  char *dlq_arn; /* RedrivePolicy.deadLetterTargetArn */
  int max_receive_count;
  int line;
} lk_queue_t;

typedef struct lk_log_group {
  char *logical_id, *name;
  int retention_days;
  int line;
} lk_log_group_t;

typedef struct lk_subscription {
  char *logical_id, *log_group, *pattern, *destination_arn;
  int line;
} lk_subscription_t;

typedef struct lk_app {
  char *path; /* the template file */
  char *dir;  /* its folder: CodeUri is relative to it */
  char *region, *account;
  lk_function_t *functions;
  int n_functions;
  lk_bucket_t *buckets;
  int n_buckets;
  lk_queue_t *queues;
  int n_queues;
  lk_log_group_t *log_groups;
  int n_log_groups;
  lk_subscription_t *subscriptions;
  int n_subscriptions;
} lk_app_t;

/* On error returns a negative LK_E* and writes "file:line: what" to err. */
int lk_app_load(const char *path, lk_app_t **out, char *err, size_t errlen);
void lk_app_free(lk_app_t *app);
/* By FunctionName, logical id, or ARN (qualifier ignored). NULL if none. */
lk_function_t *lk_app_function(const lk_app_t *app, const char *name);

#endif
