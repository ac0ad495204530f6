/* lambkin check: loops found from the template alone (through buckets,
 * queues, log groups, table streams and direct invokes, with S3 key
 * filters honoured),
 * over-broad policies, and functions without limits; and lambkin
 * policy's reading of what Policies grant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app.h"
#include "buf.h"
#include "json.h"
#include "graph.h"
#include "iam.h"
#include "lambkin/lambkin.h"

static char dir[256];

#define HEAD                                                                   \
  "Transform: AWS::Serverless-2016-10-31\n"                                    \
  "Resources:\n"

/* A python function named NAME, with EXTRA properties (indented 6). */
#define FN(logical, name, extra)                                               \
  "  " logical ":\n"                                                           \
  "    Type: AWS::Serverless::Function\n"                                      \
  "    Properties:\n"                                                          \
  "      FunctionName: " name "\n"                                             \
  "      Runtime: python3.11\n"                                                \
  "      CodeUri: src/\n"                                                      \
  "      Handler: h.handler\n" extra

#define BUCKET(logical, name)                                                  \
  "  " logical ":\n"                                                           \
  "    Type: AWS::S3::Bucket\n"                                                \
  "    Properties: {BucketName: " name "}\n"

/* Run by every object created in the bucket REF. */
#define ON_NEW(ref)                                                            \
  "      Events:\n"                                                            \
  "        New: {Type: S3, Properties: {Bucket: !Ref " ref ", "                \
  "Events: 's3:ObjectCreated:*'}}\n"

/* Run by the photos bucket for keys under in/; may write ACTION on the
 * keys matching KEYS. */
#define UNDER_IN(action, keys)                                                 \
  "      Events:\n"                                                            \
  "        New:\n"                                                             \
  "          Type: S3\n"                                                       \
  "          Properties:\n"                                                    \
  "            Bucket: !Ref Photos\n"                                          \
  "            Events: 's3:ObjectCreated:*'\n"                                 \
  "            Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}]}}\n"       \
  "      Policies:\n"                                                          \
  "        - Statement:\n"                                                     \
  "            - Effect: Allow\n"                                              \
  "              Action: " action "\n"                                         \
  "              Resource: arn:aws:s3:::photos/" keys "\n"

/* The findings for a template text; the caller deletes them. */
/* The calls lambkin saw, for the next check(): NULL for none. */
static const cJSON *observed_calls;

static cJSON *check(const char *text) {
  char path[512], err[1024];
  lk_app_t *app = NULL;
  cJSON *out;
  FILE *f;

  snprintf(path, sizeof(path), "%s/template.yaml", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  if (lk_app_load(path, NULL, &app, err, sizeof(err)))
    fail_msg("template: %s", err);
  out = lk_check_app(app, observed_calls);
  assert_non_null(out);
  lk_app_free(app);
  return out;
}

/* How many findings of the rule; the first one's message in *msg. */
static int count(const cJSON *all, const char *rule, const char **msg) {
  const cJSON *f;
  int n = 0;

  cJSON_ArrayForEach(f, all) {
    if (strcmp(cJSON_GetObjectItem(f, "rule")->valuestring, rule) != 0)
      continue;
    if (n++ == 0 && msg)
      *msg = cJSON_GetObjectItem(f, "message")->valuestring;
  }
  return n;
}

static const char *cycle_of(const cJSON *all) {
  const cJSON *f;

  cJSON_ArrayForEach(f, all) {
    const cJSON *c = cJSON_GetObjectItem(f, "cycle");

    if (c)
      return c->valuestring;
  }
  return "";
}

static int setup(void **state) {
  char src[300];

  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/lambkin-test-check-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(src, sizeof(src), "%s/src", dir);
  mkdir(src, 0755);
  return 0;
}

static int teardown(void **state) {
  char cmd[300];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static void test_s3_loop_and_key_filters(void **state) {
  const char *msg = NULL;
  cJSON *r;

  (void)state;
  /* Writes the bucket that triggers it: a loop, with its cost. */
  r = check(HEAD BUCKET("Photos", "photos") FN(
      "Thumb", "thumb",
      ON_NEW("Photos") "      Policies:\n"
                       "        - S3CrudPolicy: {BucketName: !Ref Photos}\n"));
  assert_int_equal(count(r, "loop", &msg), 1);
  assert_string_equal(cycle_of(r), "thumb -> s3://photos -> thumb");
  assert_non_null(strstr(msg, "a day"));
  cJSON_Delete(r);

  /* Triggered under in/, allowed to write only out/: no loop. */
  r = check(HEAD BUCKET("Photos", "photos")
                FN("Thumb", "thumb", UNDER_IN("s3:PutObject", "out/*")));
  assert_int_equal(count(r, "loop", NULL), 0);
  cJSON_Delete(r);

  /* The same, allowed to write in/: the loop is back. */
  r = check(HEAD BUCKET("Photos", "photos") FN(
      "Thumb", "thumb", UNDER_IN("[s3:GetObject, 's3:Put*']", "in/*")));
  assert_int_equal(count(r, "loop", NULL), 1);
  cJSON_Delete(r);
}

static void test_chains_logs_and_invoke(void **state) {
  const char *msg = NULL;
  cJSON *r;

  (void)state;
  /* Two functions through two queues: one loop, reported once. */
  r = check(HEAD "  Q1:\n    Type: AWS::SQS::Queue\n"
                 "    Properties: {QueueName: q1}\n"
                 "  Q2:\n    Type: AWS::SQS::Queue\n"
                 "    Properties: {QueueName: q2}\n" FN(
                     "A", "a",
                     "      Events:\n"
                     "        In: {Type: SQS, Properties: {Queue: !GetAtt "
                     "Q1.Arn}}\n"
                     "      Policies:\n"
                     "        - SQSSendMessagePolicy: {QueueName: !GetAtt "
                     "Q2.QueueName}\n")
                     FN("B", "b",
                        "      Events:\n"
                        "        In: {Type: SQS, Properties: {Queue: "
                        "!GetAtt Q2.Arn}}\n"
                        "      Policies:\n"
                        "        - SQSSendMessagePolicy: {QueueName: "
                        "!GetAtt Q1.QueueName}\n"));
  assert_int_equal(count(r, "loop", NULL), 1);
  assert_string_equal(cycle_of(r), "a -> sqs://q2 -> b -> sqs://q1 -> a");
  /* And neither queue has a RedrivePolicy. */
  assert_int_equal(count(r, "no-redrive", NULL), 2);
  cJSON_Delete(r);

  /* A subscription filter on the function's own log group. */
  r = check(
      HEAD FN("L", "shout", "") "  Sub:\n"
                                "    Type: AWS::Logs::SubscriptionFilter\n"
                                "    Properties:\n"
                                "      LogGroupName: /aws/lambda/shout\n"
                                "      FilterPattern: SHOUT\n"
                                "      DestinationArn: !GetAtt L.Arn\n");
  assert_int_equal(count(r, "loop", NULL), 1);
  assert_string_equal(cycle_of(r), "shout -> logs:/aws/lambda/shout -> shout");
  cJSON_Delete(r);

  /* Allowed to invoke every function, itself among them: a loop only a
   * wildcard opens is a possible one, a warning naming the grant. */
  r = check(HEAD FN("S", "self",
                    "      Policies:\n"
                    "        - LambdaInvokePolicy: {FunctionName: '*'}\n"));
  assert_int_equal(count(r, "loop", NULL), 0);
  assert_int_equal(count(r, "possible-loop", &msg), 1);
  assert_non_null(strstr(msg, "LambdaInvokePolicy"));
  assert_string_equal(cycle_of(r), "self -> self");
  assert_int_equal(count(r, "broad-policy", NULL), 1);
  cJSON_Delete(r);
}

static void test_broad_policies(void **state) {
  const char *msg = NULL;
  cJSON *r;

  (void)state;
  /* A managed policy that writes every bucket: broad, and a loop through
   * the bucket that triggers it; a second policy to the same bucket is
   * the same loop, reported once. */
  r = check(HEAD BUCKET("Up", "uploads") FN(
      "F", "f",
      ON_NEW("Up") "      Policies:\n"
                   "        - AmazonS3FullAccess\n"
                   "        - S3CrudPolicy: {BucketName: !Ref Up}\n"));
  assert_int_equal(count(r, "broad-policy", &msg), 1);
  assert_non_null(strstr(msg, "AmazonS3FullAccess"));
  assert_int_equal(count(r, "loop", NULL), 1);
  cJSON_Delete(r);

  r = check(HEAD FN("F", "f",
                    "      Policies:\n"
                    "        - Statement:\n"
                    "            - Effect: Allow\n"
                    "              Action: '*'\n"
                    "              Resource: '*'\n"));
  assert_int_equal(count(r, "broad-policy", &msg), 1);
  assert_non_null(strstr(msg, "every action on every resource"));
  cJSON_Delete(r);

  r = check(HEAD FN("F", "f",
                    "      Policies:\n"
                    "        - Statement:\n"
                    "            Effect: Allow\n"
                    "            Action: 'dynamodb:*'\n"
                    "            Resource: '*'\n"));
  assert_int_equal(count(r, "broad-policy", &msg), 1);
  assert_non_null(strstr(msg, "dynamodb:*"));
  cJSON_Delete(r);
}

/* Role: the template's AWS::IAM::Role is what applies (its inline
 * PolicyDocuments and ManagedPolicyArns); the function's own Policies,
 * which SAM then ignores, do not. */
static void test_role(void **state) {
  char path[512], err[1024];
  lk_app_t *app = NULL;
  cJSON *r;
  const char *text = HEAD BUCKET(
      "Photos", "photos") "  R:\n"
                          "    Type: AWS::IAM::Role\n"
                          "    Properties:\n"
                          "      ManagedPolicyArns: "
                          "[arn:aws:iam::aws:policy/AWSLambdaRole]\n"
                          "      Policies:\n"
                          "        - PolicyName: put\n"
                          "          PolicyDocument:\n"
                          "            Statement:\n"
                          "              - Effect: Allow\n"
                          "                Action: s3:PutObject\n"
                          "                Resource: !Sub "
                          "'arn:aws:s3:::${Photos}/*'\n" FN(
                              "F", "f",
                              "      Role: !GetAtt R.Arn\n" ON_NEW(
                                  "Photos") "      Policies:\n"
                                            "        - SQSSendMessagePolicy: "
                                            "{QueueName: jobs}\n");
  FILE *fp;

  (void)state;
  r = check(text);
  /* Through the bucket (the inline document): definite; straight back
   * (the managed policy invokes every function): possible. One
   * component, both told. */
  assert_int_equal(count(r, "loop", NULL), 1);
  assert_string_equal(cycle_of(r), "f -> s3://photos -> f");
  assert_int_equal(count(r, "possible-loop", NULL), 1);
  assert_int_equal(count(r, "broad-policy", NULL), 1);
  cJSON_Delete(r);
  snprintf(path, sizeof(path), "%s/template.yaml", dir);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
  if (lk_app_load(path, NULL, &app, err, sizeof(err)))
    fail_msg("template: %s", err);
  assert_true(lk_policy_grants(lk_app_function(app, "f"), "s3:PutObject",
                               "arn:aws:s3:::photos/a", NULL));
  assert_false(lk_policy_grants(lk_app_function(app, "f"), "sqs:SendMessage",
                                "arn:aws:sqs:us-east-1:123456789012:jobs",
                                NULL));
  lk_app_free(app);
}

static void test_limits_and_clean(void **state) {
  cJSON *r;

  (void)state;
  /* S3-triggered, no reserved concurrency, no DLQ: two warnings. */
  r = check(HEAD BUCKET("Up", "uploads") FN("F", "f", ON_NEW("Up")));
  assert_int_equal(count(r, "no-concurrency-limit", NULL), 1);
  assert_int_equal(count(r, "no-dead-letter", NULL), 1);
  assert_int_equal(cJSON_GetArraySize(r), 2);
  cJSON_Delete(r);

  /* The same with both limits, and an API function: nothing to say. */
  r = check(HEAD BUCKET(
      "Up",
      "uploads") "  Dlq:\n"
                 "    Type: AWS::SQS::Queue\n" FN(
                     "F", "f",
                     "      ReservedConcurrentExecutions: 5\n"
                     "      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt "
                     "Dlq.Arn}\n" ON_NEW("Up") "      Policies:\n"
                                               "        - S3ReadPolicy: "
                                               "{BucketName: !Ref Up}\n")
                     FN("Api", "api",
                        "      Events:\n"
                        "        Get: {Type: HttpApi, Properties: {Path: /, "
                        "Method: GET}}\n"));
  assert_int_equal(cJSON_GetArraySize(r), 0);
  cJSON_Delete(r);
}

/* lambkin policy's reading of Policies, as AWS would grant. */
static void test_policy_grants(void **state) {
  char path[512], err[1024];
  lk_app_t *app = NULL;
  const lk_function_t *f;
  const char *by = NULL;
  FILE *fp;

  (void)state;
  snprintf(path, sizeof(path), "%s/template.yaml", dir);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(HEAD BUCKET("Photos", "photos")
            FN("F", "f",
               "      Policies:\n"
               "        - S3CrudPolicy: {BucketName: !Ref Photos}\n"
               "        - AmazonS3ReadOnlyAccess\n"
               "        - Statement:\n"
               "            - Effect: Allow\n"
               "              Action: 'sqs:Send*'\n"
               "              Resource: arn:aws:sqs:*:*:jobs\n"),
        fp);
  fclose(fp);
  if (lk_app_load(path, NULL, &app, err, sizeof(err)))
    fail_msg("template: %s", err);
  f = lk_app_function(app, "f");
  assert_true(
      lk_policy_grants(f, "s3:PutObject", "arn:aws:s3:::photos/thumbs/*", &by));
  assert_string_equal(by, "S3CrudPolicy");
  assert_false(
      lk_policy_grants(f, "s3:PutObject", "arn:aws:s3:::other/*", NULL));
  /* Read-only on every bucket: a read elsewhere, no write. */
  assert_true(lk_policy_grants(f, "s3:GetObject", "arn:aws:s3:::other/*", &by));
  assert_string_equal(by, "AmazonS3ReadOnlyAccess");
  assert_true(lk_policy_grants(f, "sqs:SendMessage",
                               "arn:aws:sqs:us-east-1:123456789012:jobs", &by));
  assert_false(lk_policy_grants(
      f, "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:other", NULL));
  assert_false(lk_policy_grants(f, "lambda:InvokeFunction",
                                "arn:aws:lambda:us-east-1:1:function:f", NULL));
  /* Every function may write its logs. */
  assert_true(lk_policy_grants(f, "logs:PutLogEvents", "*", &by));
  lk_app_free(app);
}

#define TABLE(logical, name)                                                   \
  "  " logical ":\n"                                                           \
  "    Type: AWS::DynamoDB::Table\n"                                           \
  "    Properties:\n"                                                          \
  "      TableName: " name "\n"                                                \
  "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"      \
  "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"                    \
  "      StreamSpecification: {StreamViewType: NEW_IMAGE}\n"

/* Run by the stream of table REF, with EXTRA mapping properties. */
#define ON_STREAM(ref, extra)                                                  \
  "      Events:\n"                                                            \
  "        Changes:\n"                                                         \
  "          Type: DynamoDB\n"                                                 \
  "          Properties:\n"                                                    \
  "            Stream: !GetAtt " ref ".StreamArn\n"                            \
  "            StartingPosition: LATEST\n" extra

#define RETRIES "            MaximumRetryAttempts: 2\n"
#define CRUD_ON(ref)                                                           \
  "      Policies:\n"                                                          \
  "        - DynamoDBCrudPolicy: {TableName: !Ref " ref "}\n"

static void test_table_streams(void **state) {
  cJSON *r;

  (void)state;
  /* Writes to the table whose stream runs it: a loop. */
  r = check(HEAD TABLE("T", "orders")
                FN("F", "f", ON_STREAM("T", RETRIES) CRUD_ON("T")));
  assert_int_equal(count(r, "loop", NULL), 1);
  assert_string_equal(cycle_of(r), "f -> dynamodb://orders -> f");
  /* A stream bounds its own concurrency and keeps its failures. */
  assert_int_equal(count(r, "no-concurrency-limit", NULL), 0);
  assert_int_equal(count(r, "no-dead-letter", NULL), 0);
  assert_int_equal(count(r, "no-retry-limit", NULL), 0);
  cJSON_Delete(r);

  /* Only reads its table, and writes another: no loop; the mapping
   * would block its shard on a poison record. */
  r = check(HEAD TABLE("T", "orders") TABLE("U", "audit") FN(
      "F", "f",
      ON_STREAM("T",
                "") "      Policies:\n"
                    "        - DynamoDBReadPolicy: {TableName: !Ref T}\n"
                    "        - DynamoDBWritePolicy: {TableName: !Ref U}\n"));
  assert_int_equal(count(r, "loop", NULL), 0);
  assert_int_equal(count(r, "no-retry-limit", NULL), 1);
  cJSON_Delete(r);

  /* dynamodb:* on every table: a possible loop, and a broad policy. */
  r = check(HEAD TABLE("T", "orders") FN(
      "F", "f",
      ON_STREAM("T", "") "      Policies: [AmazonDynamoDBFullAccess]\n"));
  assert_int_equal(count(r, "loop", NULL), 0);
  assert_int_equal(count(r, "possible-loop", NULL), 1);
  assert_int_equal(count(r, "broad-policy", NULL), 1);
  cJSON_Delete(r);
}

#define TOPIC(logical, name)                                                   \
  "  " logical ":\n"                                                           \
  "    Type: AWS::SNS::Topic\n"                                                \
  "    Properties: {TopicName: " name "}\n"

static void test_sns_edges(void **state) {
  cJSON *r;

  (void)state;
  /* Publishes to the topic that runs it. */
  r = check(HEAD TOPIC("T", "events") FN(
      "F", "f",
      "      Events: {In: {Type: SNS, Properties: {Topic: !Ref T}}}\n"
      "      Policies:\n"
      "        - SNSPublishMessagePolicy: {TopicName: events}\n"));
  assert_int_equal(count(r, "loop", NULL), 1);
  assert_string_equal(cycle_of(r), "f -> sns://events -> f");
  assert_int_equal(count(r, "no-dead-letter", NULL), 1); /* SNS is async */
  cJSON_Delete(r);

  /* A mixed chain: topic -> queue (a subscription) -> function. */
  r = check(HEAD TOPIC("T", "events") "  Q:\n    Type: AWS::SQS::Queue\n"
                                      "    Properties: {QueueName: work}\n"
                                      "  S:\n"
                                      "    Type: AWS::SNS::Subscription\n"
                                      "    Properties:\n"
                                      "      TopicArn: !Ref T\n"
                                      "      Protocol: sqs\n"
                                      "      Endpoint: !GetAtt Q.Arn\n" FN(
                                          "F", "f",
                                          "      Events: {In: {Type: SQS, "
                                          "Properties: {Queue: !GetAtt "
                                          "Q.Arn}}}\n"
                                          "      Policies: "
                                          "[AmazonSNSFullAccess]\n"));
  assert_int_equal(count(r, "possible-loop", NULL), 1); /* sns:* on * */
  assert_string_equal(cycle_of(r), "f -> sns://events -> sqs://work -> f");
  assert_int_equal(count(r, "broad-policy", NULL), 1);
  cJSON_Delete(r);
}

#define KSTREAM(logical, name)                                                 \
  "  " logical ":\n"                                                           \
  "    Type: AWS::Kinesis::Stream\n"                                           \
  "    Properties: {Name: " name ", ShardCount: 1}\n"
#define ON_KINESIS(logical, extra)                                             \
  "      Events:\n"                                                            \
  "        In:\n"                                                              \
  "          Type: Kinesis\n"                                                  \
  "          Properties:\n"                                                    \
  "            Stream: !GetAtt " logical ".Arn\n"                              \
  "            StartingPosition: TRIM_HORIZON\n" extra

static void test_kinesis_edges(void **state) {
  cJSON *r;

  (void)state;
  /* Puts records on the stream that runs it. */
  r = check(HEAD KSTREAM("K", "clicks") FN(
      "F", "f",
      ON_KINESIS("K",
                 "") "      Policies:\n"
                     "        - KinesisCrudPolicy: {StreamName: clicks}\n"));
  assert_int_equal(count(r, "loop", NULL), 1);
  assert_string_equal(cycle_of(r), "f -> kinesis://clicks -> f");
  assert_int_equal(count(r, "no-retry-limit", NULL), 1);
  assert_int_equal(count(r, "no-dead-letter", NULL), 0); /* a poller */
  cJSON_Delete(r);

  /* Only reads it, with a retry limit: clean. */
  r = check(HEAD KSTREAM("K", "clicks") FN(
      "F", "f",
      ON_KINESIS(
          "K",
          "            MaximumRetryAttempts: 2\n") "      Policies:\n"
                                                   "        - "
                                                   "KinesisStreamReadPolicy: "
                                                   "{StreamName: clicks}\n"));
  assert_int_equal(count(r, "loop", NULL), 0);
  assert_int_equal(count(r, "no-retry-limit", NULL), 0);
  cJSON_Delete(r);

  /* kinesis:* on every stream: a possible loop, and a broad policy. */
  r = check(HEAD KSTREAM("K", "clicks")
                FN("F", "f",
                   ON_KINESIS("K", "") "      Policies:\n"
                                       "        - Statement:\n"
                                       "            - Effect: Allow\n"
                                       "              Action: kinesis:*\n"
                                       "              Resource: '*'\n"));
  assert_int_equal(count(r, "loop", NULL), 0);
  assert_int_equal(count(r, "possible-loop", NULL), 1);
  assert_int_equal(count(r, "broad-policy", NULL), 1);
  cJSON_Delete(r);
}

/* Twelve functions, each run by its queue and allowed to send to every
 * queue: a dense component whose simple cycles number in the billions.
 * Beside it, two functions that feed each other through queues they
 * name. One finding per component: the dense one possible, the pair
 * definite; lines stay short; --json keeps the cycles found. */
static void test_dense_wildcard_component(void **state) {
  lk_buf_t t;
  const char *msg = NULL;
  const cJSON *f;
  cJSON *r, *seen;
  char *text;
  int i;

  (void)state;
  lk_buf_init(&t, 1 << 20);
  lk_buf_adds(&t, HEAD);
  for (i = 0; i < 12; i++)
    lk_buf_printf(&t,
                  "  Q%d:\n    Type: AWS::SQS::Queue\n"
                  "    Properties: {QueueName: q%d}\n"
                  "  F%d:\n    Type: AWS::Serverless::Function\n"
                  "    Properties:\n      FunctionName: f%d\n"
                  "      Runtime: python3.11\n      CodeUri: src/\n"
                  "      Handler: app.handler\n"
                  "      Events: {In: {Type: SQS, Properties: {Queue: "
                  "!GetAtt Q%d.Arn}}}\n"
                  "      Policies:\n        - Statement:\n"
                  "            - Effect: Allow\n"
                  "              Action: sqs:SendMessage\n"
                  "              Resource: '*'\n",
                  i, i, i, i, i);
  for (i = 0; i < 2; i++)
    lk_buf_printf(&t,
                  "  A%d:\n    Type: AWS::SQS::Queue\n"
                  "    Properties: {QueueName: a%d}\n"
                  "  G%d:\n    Type: AWS::Serverless::Function\n"
                  "    Properties:\n      FunctionName: g%d\n"
                  "      Runtime: python3.11\n      CodeUri: src/\n"
                  "      Handler: app.handler\n"
                  "      Events: {In: {Type: SQS, Properties: {Queue: "
                  "!GetAtt A%d.Arn}}}\n"
                  "      Policies:\n"
                  "        - SQSSendMessagePolicy: {QueueName: a%d}\n",
                  i, i, i, i, i, 1 - i);
  text = lk_buf_steal(&t, NULL);
  r = check(text);
  assert_int_equal(count(r, "possible-loop", &msg), 1);
  assert_true(strlen(msg) < 200);
  assert_non_null(strstr(msg, "12 function(s)"));
  assert_int_equal(count(r, "loop", NULL), 1);
  cJSON_ArrayForEach(f, r) {
    const char *rule = cJSON_GetObjectItem(f, "rule")->valuestring;

    if (strcmp(rule, "loop") == 0) {
      assert_string_equal(cJSON_GetObjectItem(f, "cycle")->valuestring,
                          "g0 -> sqs://a1 -> g1 -> sqs://a0 -> g0");
      assert_string_equal(cJSON_GetObjectItem(f, "certainty")->valuestring,
                          "definite");
    } else if (strcmp(rule, "possible-loop") == 0) {
      assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "functions")),
                       12);
      assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(f, "cycles")) > 1);
    }
  }
  cJSON_Delete(r);

  /* lambkin saw f0 send to q1 and f1 to q0: that cycle is definite now;
   * the rest stays possible, and says none of it was seen. */
  seen = cJSON_Parse(
      "{\"f0\": {\"arn:aws:sqs:us-east-1:123456789012:q1\": "
      "[\"sqs:SendMessage\"]}, \"f1\": "
      "{\"arn:aws:sqs:us-east-1:123456789012:q0\": [\"sqs:SendMessage\"]}}");
  observed_calls = seen;
  r = check(text);
  observed_calls = NULL;
  assert_int_equal(count(r, "loop", NULL), 2);
  cJSON_ArrayForEach(f, r) {
    const char *c = lk_json_str(f, "cycle");

    if (c && strcmp(lk_json_str(f, "rule"), "loop") == 0 &&
        strncmp(c, "f0", 2) == 0)
      assert_string_equal(c, "f0 -> sqs://q1 -> f1 -> sqs://q0 -> f0");
  }
  assert_int_equal(count(r, "possible-loop", &msg), 1);
  assert_non_null(strstr(msg, "none of these writes was seen"));
  cJSON_Delete(r);
  cJSON_Delete(seen);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sns_edges),
      cmocka_unit_test(test_kinesis_edges),
      cmocka_unit_test(test_dense_wildcard_component),
      cmocka_unit_test(test_s3_loop_and_key_filters),
      cmocka_unit_test(test_chains_logs_and_invoke),
      cmocka_unit_test(test_table_streams),
      cmocka_unit_test(test_broad_policies),
      cmocka_unit_test(test_role),
      cmocka_unit_test(test_limits_and_clean),
      cmocka_unit_test(test_policy_grants),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
