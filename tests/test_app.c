/* Template loading: the sample app, intrinsics, Globals, JSON templates and
 * every bad case a user can make, each reported as file:line. */
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
#include "lambkin/lambkin.h"

static char dir[256];

static const char *write_template(const char *name, const char *text) {
  static char path[512];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static int setup(void **state) {
  char code[300];

  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/lambkin-test-app-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(code, sizeof(code), "%s/src", dir);
  mkdir(code, 0755);
  snprintf(code, sizeof(code), "%s/csrc", dir);
  mkdir(code, 0755);
  snprintf(code, sizeof(code), "%s/csrc/h.c", dir);
  fclose(fopen(code, "w"));
  return 0;
}

static int teardown(void **state) {
  char cmd[300];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static void expect_error(const char *text, const char *msg) {
  char err[1024];
  lk_app_t *app = NULL;
  const char *path = write_template("bad.yaml", text);
  char want[1200];

  assert_int_equal(lk_app_load(path, NULL, &app, err, sizeof(err)), LK_EINVAL);
  assert_null(app);
  if (msg[0] == '*') { /* any line */
    if (strstr(err, msg + 1) == NULL)
      fail_msg("error was \"%s\", wanted \"%s\"", err, msg + 1);
    return;
  }
  snprintf(want, sizeof(want), "%s:%s", path, msg);
  if (strstr(err, want) == NULL)
    fail_msg("error was \"%s\", wanted \"%s\"", err, want);
}

static void test_sample_app(void **state) {
  char err[1024];
  lk_app_t *app;
  lk_function_t *f;
  int i, found = 0;

  (void)state;
  assert_int_equal(lk_app_load(LK_SOURCE_DIR "/handlers/template.yaml", NULL,
                               &app, err, sizeof(err)),
                   0);
  assert_int_equal(app->n_functions, 23);
  assert_int_equal(app->n_buckets, 2);
  assert_int_equal(app->n_queues, 3);
  assert_int_equal(app->queues[0].max_receive_count, 2);
  assert_string_equal(app->queues[0].dlq_arn,
                      "arn:aws:sqs:us-east-1:123456789012:jobs-dead");
  f = lk_app_function(app, "echo-c");
  assert_non_null(f);
  assert_int_equal(f->kind, LK_RT_C);
  assert_string_equal(f->handler, "echo_handler");
  f = lk_app_function(app, "ContextPython"); /* by logical id */
  assert_non_null(f);
  assert_int_equal(f->kind, LK_RT_PYTHON);
  assert_int_equal(f->memory_mb, 256);
  assert_int_equal(f->timeout_s, 3); /* from Globals */
  for (i = 0; i < f->n_env; i++) {
    if (strcmp(f->env[i], "GREETING=hello from us-east-1 in dev") == 0)
      found |= 1;
    if (strcmp(f->env[i], "STAGE=dev") == 0)
      found |= 2;
  }
  assert_int_equal(found, 3);
  f = lk_app_function(
      app, "arn:aws:lambda:us-east-1:123456789012:function:one-python:$LATEST");
  assert_non_null(f);
  assert_int_equal(f->reserved_concurrency, 1);
  assert_int_equal(lk_app_function(app, "custom-provided")->kind,
                   LK_RT_PROVIDED);
  assert_int_equal(lk_app_function(app, "fail-python")->max_retry_attempts, 2);
  assert_null(lk_app_function(app, "nope"));
  lk_app_free(app);
}

static void test_intrinsics_and_resources(void **state) {
  char err[1024];
  lk_app_t *app;
  lk_function_t *f;
  cJSON *ev;
  const char *path = write_template(
      "t.yaml",
      "Parameters:\n"
      "  Env: {Type: String, Default: prod}\n"
      "Conditions:\n"
      "  IsProd: !Equals [!Ref Env, prod]\n"
      "Globals:\n"
      "  Function:\n"
      "    Runtime: python3.12\n"
      "    Timeout: 10\n"
      "    Environment: {Variables: {A: global, B: global}}\n"
      "Resources:\n"
      "  Uploads:\n"
      "    Type: AWS::S3::Bucket\n"
      "  Jobs:\n"
      "    Type: AWS::SQS::Queue\n"
      "    Properties:\n"
      "      VisibilityTimeout: 60\n"
      "      RedrivePolicy:\n"
      "        deadLetterTargetArn: !GetAtt Dead.Arn\n"
      "        maxReceiveCount: 3\n"
      "  Dead:\n"
      "    Type: AWS::SQS::Queue\n"
      "    Properties: {QueueName: !Sub '${Env}-dead'}\n"
      "  Logs:\n"
      "    Type: AWS::Logs::LogGroup\n"
      "    Properties: {LogGroupName: /app/logs}\n"
      "  Sub:\n"
      "    Type: AWS::Logs::SubscriptionFilter\n"
      "    Properties:\n"
      "      LogGroupName: !Ref Logs\n"
      "      FilterPattern: ERROR\n"
      "      DestinationArn: !GetAtt Worker.Arn\n"
      "  Worker:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties:\n"
      "      FunctionName: !Join ['-', [worker, !Ref Env]]\n"
      "      Handler: app.handler\n"
      "      CodeUri: src\n"
      "      MemorySize: !If [IsProd, 1024, 128]\n"
      "      Environment:\n"
      "        Variables:\n"
      "          B: mine\n"
      "          BUCKET: !Ref Uploads\n"
      "          QUEUE: !Ref Jobs\n"
      "          GONE: !Ref AWS::NoValue\n"
      "          ARN: {'Fn::GetAtt': [Jobs, Arn]}\n"
      "      Events:\n"
      "        Upload:\n"
      "          Type: S3\n"
      "          Properties: {Bucket: !Ref Uploads, Events: "
      "'s3:ObjectCreated:*'}\n"
      "      Policies:\n"
      "        - S3ReadPolicy: {BucketName: !Ref Uploads}\n"
      "      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Dead.Arn}\n"
      "  Native:\n"
      "    Type: AWS::Serverless::Function\n"
      "    Properties: {Runtime: provided.al2, Handler: h, CodeUri: csrc}\n");

  (void)state;
  if (lk_app_load(path, NULL, &app, err, sizeof(err)))
    fail_msg("%s", err);
  f = lk_app_function(app, "worker-prod");
  assert_non_null(f);
  assert_int_equal(f->memory_mb, 1024);
  assert_int_equal(f->timeout_s, 10);
  assert_int_equal(f->n_env, 5);
  assert_string_equal(f->env[0], "A=global");
  assert_string_equal(f->env[1], "B=mine");
  assert_string_equal(f->env[2], "BUCKET=uploads");
  assert_string_equal(
      f->env[3], "QUEUE=https://sqs.us-east-1.amazonaws.com/123456789012/Jobs");
  assert_string_equal(f->env[4], "ARN=arn:aws:sqs:us-east-1:123456789012:Jobs");
  ev = cJSON_GetObjectItem(cJSON_GetObjectItem(f->events, "Upload"),
                           "Properties");
  assert_string_equal(cJSON_GetObjectItem(ev, "Bucket")->valuestring,
                      "uploads");
  assert_int_equal(cJSON_GetArraySize(f->policies), 1);
  assert_string_equal(f->dlq_target,
                      "arn:aws:sqs:us-east-1:123456789012:prod-dead");
  assert_int_equal(app->n_queues, 2);
  assert_int_equal(app->queues[0].visibility_timeout_s, 60);
  assert_int_equal(app->queues[0].max_receive_count, 3);
  assert_string_equal(app->queues[0].dlq_arn,
                      "arn:aws:sqs:us-east-1:123456789012:prod-dead");
  assert_string_equal(app->log_groups[0].name, "/app/logs");
  assert_string_equal(app->subscriptions[0].log_group, "/app/logs");
  assert_string_equal(app->subscriptions[0].destination_arn,
                      "arn:aws:lambda:us-east-1:123456789012:function:"
                      "worker-prod");
  assert_int_equal(lk_app_function(app, "Native")->kind, LK_RT_C);
  lk_app_free(app);
}

static void test_json_template(void **state) {
  char err[1024];
  lk_app_t *app;
  const char *path = write_template(
      "t.json",
      "{\n"
      "  \"Resources\": {\n"
      "    \"Fn\": {\n"
      "      \"Type\": \"AWS::Serverless::Function\",\n"
      "      \"Properties\": {\n"
      "        \"Runtime\": \"nodejs20.x\", \"Handler\": \"index.handler\",\n"
      "        \"CodeUri\": \"src\", \"Timeout\": 30,\n"
      "        \"FunctionName\": {\"Fn::Sub\": \"fn-${AWS::AccountId}\"}\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "}\n");

  (void)state;
  if (lk_app_load(path, NULL, &app, err, sizeof(err)))
    fail_msg("%s", err);
  assert_int_equal(app->n_functions, 1);
  assert_string_equal(app->functions[0].name, "fn-123456789012");
  assert_int_equal(app->functions[0].kind, LK_RT_NODE);
  assert_int_equal(app->functions[0].timeout_s, 30);
  lk_app_free(app);
}

#define FN_HEAD                                                                \
  "Resources:\n"                                                               \
  "  F:\n"                                                                     \
  "    Type: AWS::Serverless::Function\n"                                      \
  "    Properties:\n"

static lk_app_t *load_ok(const char *text) {
  char err[1024];
  lk_app_t *app = NULL;

  if (lk_app_load(write_template("ok.yaml", text), NULL, &app, err,
                  sizeof(err)))
    fail_msg("load failed: %s", err);
  return app;
}

static int warned(const lk_app_t *app, const char *what) {
  int i;

  for (i = 0; i < app->n_warnings; i++)
    if (strstr(app->warnings[i], what))
      return 1;
  return 0;
}

/* What lambkin does not run loads, says why, and leaves the rest. */
static void expect_unrunnable(const char *text, const char *why) {
  lk_app_t *app = load_ok(text);

  assert_int_equal(app->n_functions, 1);
  if (app->functions[0].unrunnable == NULL ||
      strstr(app->functions[0].unrunnable, why) == NULL)
    fail_msg("unrunnable was \"%s\", wanted \"%s\"",
             app->functions[0].unrunnable ? app->functions[0].unrunnable
                                          : "(null)",
             why);
  lk_app_free(app);
}

static void test_loads_what_it_does_not_run(void **state) {
  lk_app_t *app;

  (void)state;
  expect_unrunnable(FN_HEAD "      Runtime: python3.11\n      CodeUri: src\n",
                    "Handler '' must be module.function");
  expect_unrunnable(FN_HEAD "      Runtime: ruby9\n      Handler: a.b\n",
                    "runtime ruby9 is not run by lambkin");
  expect_unrunnable(FN_HEAD "      Runtime: python3.11\n      Handler: a.b\n"
                            "      CodeUri: nowhere/\n",
                    "CodeUri 'nowhere/' does not exist");
  expect_unrunnable(FN_HEAD "      Runtime: provided.al2\n      Handler: x\n"
                            "      CodeUri: src\n",
                    "neither an executable bootstrap nor C sources");
  expect_unrunnable(FN_HEAD "      PackageType: Image\n",
                    "PackageType Image is not run");
  expect_unrunnable(FN_HEAD "      Runtime: java21\n      Handler: a.b\n"
                            "      CodeUri: {Bucket: b, Key: k}\n",
                    "runtime java21");
  app = load_ok(FN_HEAD "      Runtime: python3.11\n      Handler: !Bogus x\n"
                        "      CodeUri: src\n      Environment:\n"
                        "        Variables: {X: !Ref Missing}\n");
  assert_true(warned(app, "ok.yaml:6: Fn::Bogus is not evaluated"));
  assert_true(warned(app, "ok.yaml:9: Ref to 'Missing', which the template "
                          "does not define"));
  assert_string_equal(app->functions[0].env[0], "X=Missing");
  lk_app_free(app);
}

static void test_bad_templates(void **state) {
  (void)state;
  expect_error(FN_HEAD "      Runtime: python3.11\n      Handler: a.b\n"
                       "      CodeUri: src\n      Timeout: 901\n",
               "8: expected a whole number from 1 to 900");
  expect_error("Resources:\n  F: [unclosed\n", "3: YAML error");
  expect_error("just a string\n", "1: template must be a mapping");
  expect_error("Resources:\n  F: {Properties: {}}\n",
               "2: resource F has no Type");
  expect_error("a: &a [x, x, x, x, x, x, x, x]\n"
               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
               "g: &g [*f, *f, *f, *f, *f, *f, *f, *f]\n" FN_HEAD
               "      Runtime: python3.11\n      Handler: a.b\n"
               "      CodeUri: src\n      Events: {E: {Properties: *g}}\n",
               "*template expands to too many nodes");
}

static void test_missing_file(void **state) {
  char err[256];
  lk_app_t *app;

  (void)state;
  assert_int_equal(
      lk_app_load("/nonexistent/template.yaml", NULL, &app, err, sizeof(err)),
      LK_ENOENT);
  assert_string_equal(err, "/nonexistent/template.yaml:1: cannot read "
                           "template");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sample_app),
      cmocka_unit_test(test_intrinsics_and_resources),
      cmocka_unit_test(test_loads_what_it_does_not_run),
      cmocka_unit_test(test_json_template),
      cmocka_unit_test(test_bad_templates),
      cmocka_unit_test(test_missing_file),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
