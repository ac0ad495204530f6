/* The app model: what lambkin knows about a SAM/CloudFormation template.
 * lk_app_load() reads template.yaml (or a JSON template), resolves its
 * intrinsics and returns an app that the caller frees with lk_app_free().
 * Properties that later stages act on (Events, Policies, notification
 * configs) are kept as resolved cJSON trees. What lambkin does not run
 * (resource types, runtimes, intrinsics, missing code) loads anyway and
 * is said in the app's warnings, never as a load error. */
#ifndef LK_APP_H
#define LK_APP_H

#include <stdio.h>

#include <cjson/cJSON.h>

typedef enum lk_runtime_kind {
  LK_RT_PROVIDED, /* the user's bootstrap in CodeUri */
  LK_RT_C,        /* provided.* with C sources: lambkin's native bootstrap */
  LK_RT_PYTHON,
  LK_RT_NODE,
  LK_RT_NONE /* java, dotnet, ruby, go1.x, Image: checked, not run */
} lk_runtime_kind_t;

typedef struct lk_function {
  char *logical_id;
  char *name; /* FunctionName, or the logical id */
  char *arn;
  char *handler;
  char *runtime;
  lk_runtime_kind_t kind;
  char *code_dir; /* absolute CodeUri (or sam build's output) */
  /* Why lambkin cannot run it (an invoke is answered with this), or
   * NULL: a runtime it does not run, code that is not there. */
  char *unrunnable;
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
  char **layers;          /* the folders of its local layers, last one first */
  char **layer_builds;    /* each one's Metadata.BuildMethod, or NULL */
  int n_layers;
  /* Metadata {BuildMethod, BuildProperties} of a function whose source
   * sam build bundles (BuildMethod esbuild), or NULL. */
  cJSON *build;
  int inline_code; /* InlineCode or ZipFile: written out by lambkin */
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

/* The label of a template table's stream, as !GetAtt T.StreamArn gives
 * it: lambkin makes the stream with the same one, so the ARN a function
 * is given names the stream it reads. */
#define LK_APP_STREAM_LABEL "1970-01-01T00:00:00.000"

/* A DynamoDB table: AWS::DynamoDB::Table, or AWS::Serverless::SimpleTable
 * made into the same shape. spec is a CreateTable request (TableName,
 * KeySchema, AttributeDefinitions, indexes, StreamSpecification...). */
typedef struct lk_table {
  char *logical_id, *name;
  cJSON *spec;
  int line;
} lk_table_t;

/* A resource lambkin reads as its resolved Properties: an SNS topic
 * (AWS::SNS::Topic) or subscription (AWS::SNS::Subscription; name
 * NULL), an EventBridge rule (AWS::Events::Rule) or bus
 * (AWS::Events::EventBus), a Kinesis stream (AWS::Kinesis::Stream). */
typedef struct lk_res {
  char *logical_id, *name;
  cJSON *spec;
  int line;
} lk_res_t;

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
  lk_table_t *tables;
  int n_tables;
  lk_res_t *topics;
  int n_topics;
  lk_res_t *sns_subs;
  int n_sns_subs;
  lk_res_t *rules;
  int n_rules;
  lk_res_t *buses;
  int n_buses;
  lk_res_t *kstreams; /* AWS::Kinesis::Stream */
  int n_kstreams;
  lk_subscription_t *subscriptions;
  int n_subscriptions;
  char **warnings; /* "file:line: what", each once, to say at start */
  int n_warnings;
  char *inline_dir; /* InlineCode written out; removed by lk_app_free */
} lk_app_t;

/* How parameters get their values, strongest first: overrides (SAM's
 * --parameter-overrides text), samconfig's parameter_overrides (from
 * config_file, else samconfig.toml, .yaml or .yml beside the template;
 * section config_env, else "default"; command picks the [env.<command>]
 * section, as "local_invoke"), the parameter's Default, a placeholder
 * with a warning. */
typedef struct lk_app_opts {
  const char *overrides;
  const char *config_file;
  const char *config_env;
  const char *command;
} lk_app_opts_t;

/* On error returns a negative LK_E* and writes "file:line: what" to err.
 * opts may be NULL. */
int lk_app_load(const char *path, const lk_app_opts_t *opts, lk_app_t **out,
                char *err, size_t errlen);
void lk_app_free(lk_app_t *app);
/* SAM's --env-vars document: {"Parameters": {VAR: value}, "LogicalIdOr
 * FunctionName": {VAR: value}} sets, for each function, the variables
 * its template declares (as SAM CLI, it adds none); a function's own
 * entry wins over Parameters. 0, or LK_EINVAL with what in err. */
int lk_app_env_vars(lk_app_t *app, const cJSON *doc, char *err, size_t errlen);
/* The warnings, one "lambkin: warning: ..." line each, to f. */
void lk_app_say_warnings(const lk_app_t *app, FILE *f);
/* By FunctionName, logical id, or ARN (qualifier ignored). NULL if none. */
lk_function_t *lk_app_function(const lk_app_t *app, const char *name);
/* The name of the rule a function's EventBridgeRule, CloudWatchEvent,
 * Schedule or ScheduleV2 event makes: its RuleName or Name, else
 * FUNCTION-EVENT, into out. */
void lk_app_rule_name(const lk_function_t *f, const cJSON *event, char *out,
                      size_t cap);

#endif
