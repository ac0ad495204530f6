/* IAM evaluation, as far as lambkin reads policies: SAM policy templates,
 * the AWS managed policies serverless apps use, and inline documents,
 * each turned into Allow statements; a call is granted when an Action and
 * a Resource pattern of one statement match it (IAM's * and ?). Every
 * tree returned is the caller's. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "lambkin/lambkin.h"

#define N_ACTIONS 16

/* What a SAM policy template grants, on {} (its one parameter). */
static const struct sam {
  const char *name, *param, *resource[2];
  const char *actions[N_ACTIONS];
} sam[] = {
    {"S3ReadPolicy",
     "BucketName",
     {"arn:aws:s3:::{}", "arn:aws:s3:::{}/*"},
     {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation",
      "s3:GetObjectVersion", "s3:GetLifecycleConfiguration"}},
    {"S3WritePolicy",
     "BucketName",
     {"arn:aws:s3:::{}", "arn:aws:s3:::{}/*"},
     {"s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"}},
    {"S3CrudPolicy",
     "BucketName",
     {"arn:aws:s3:::{}", "arn:aws:s3:::{}/*"},
     {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation",
      "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl",
      "s3:GetLifecycleConfiguration", "s3:DeleteObject"}},
    {"S3FullAccessPolicy",
     "BucketName",
     {"arn:aws:s3:::{}", "arn:aws:s3:::{}/*"},
     {"s3:*"}},
    {"SQSSendMessagePolicy",
     "QueueName",
     {"arn:aws:sqs:*:*:{}"},
     {"sqs:SendMessage*"}},
    {"SQSPollerPolicy",
     "QueueName",
     {"arn:aws:sqs:*:*:{}"},
     {"sqs:ChangeMessageVisibility*", "sqs:DeleteMessage*",
      "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}},
    {"DynamoDBCrudPolicy",
     "TableName",
     {"arn:aws:dynamodb:*:*:table/{}", "arn:aws:dynamodb:*:*:table/{}/index/*"},
     {"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem",
      "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem",
      "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem",
      "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"}},
    {"DynamoDBReadPolicy",
     "TableName",
     {"arn:aws:dynamodb:*:*:table/{}", "arn:aws:dynamodb:*:*:table/{}/index/*"},
     {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query",
      "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}},
    {"DynamoDBWritePolicy",
     "TableName",
     {"arn:aws:dynamodb:*:*:table/{}", "arn:aws:dynamodb:*:*:table/{}/index/*"},
     {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}},
    {"SNSPublishMessagePolicy",
     "TopicName",
     {"arn:aws:sns:*:*:{}"},
     {"sns:Publish"}},
    {"SNSCrudPolicy",
     "TopicName",
     {"arn:aws:sns:*:*:{}*"},
     {"sns:ListSubscriptionsByTopic", "sns:CreateTopic",
      "sns:SetTopicAttributes", "sns:Subscribe", "sns:Publish"}},
    {"KinesisCrudPolicy",
     "StreamName",
     {"arn:aws:kinesis:*:*:stream/{}"},
     {"kinesis:AddTagsToStream", "kinesis:CreateStream",
      "kinesis:DecreaseStreamRetentionPeriod", "kinesis:DeleteStream",
      "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
      "kinesis:GetShardIterator", "kinesis:IncreaseStreamRetentionPeriod",
      "kinesis:ListTagsForStream", "kinesis:MergeShards", "kinesis:PutRecord",
      "kinesis:PutRecords", "kinesis:SplitShard",
      "kinesis:RemoveTagsFromStream"}},
    {"KinesisStreamReadPolicy",
     "StreamName",
     {"arn:aws:kinesis:*:*:stream/{}"},
     {"kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"}},
    {"EventBridgePutEventsPolicy",
     "EventBusName",
     {"arn:aws:events:*:*:event-bus/{}"},
     {"events:PutEvents"}},
    {"LambdaInvokePolicy",
     "FunctionName",
     {"arn:aws:lambda:*:*:function:{}*"},
     {"lambda:InvokeFunction"}},
};

/* AWS managed policies, by what they allow (on every resource). */
static const struct managed {
  const char *name;
  const char *actions[4];
} managed[] = {
    {"AdministratorAccess", {"*"}},
    {"PowerUserAccess", {"*"}},
    {"AmazonS3FullAccess", {"s3:*"}},
    {"AmazonS3ReadOnlyAccess", {"s3:Get*", "s3:List*"}},
    {"AmazonSQSFullAccess", {"sqs:*"}},
    {"AmazonSNSFullAccess", {"sns:*"}},
    {"AmazonEventBridgeFullAccess", {"events:*"}},
    {"CloudWatchEventsFullAccess", {"events:*"}},
    {"AmazonSNSReadOnlyAccess", {"sns:GetTopicAttributes", "sns:List*"}},
    {"AmazonDynamoDBFullAccess", {"dynamodb:*"}},
    {"AmazonDynamoDBReadOnlyAccess",
     {"dynamodb:BatchGet*", "dynamodb:Describe*", "dynamodb:Get*",
      "dynamodb:List*"}},
    {"AWSLambda_FullAccess", {"lambda:*"}},
    {"AWSLambdaFullAccess", {"lambda:*"}},
    {"AWSLambdaRole", {"lambda:InvokeFunction"}},
    {"AWSLambdaExecute", {"s3:GetObject", "s3:PutObject", "logs:*"}},
    {"AWSLambdaBasicExecutionRole",
     {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}},
};

static int match(const char *pattern, const char *s) {
  return fnmatch(pattern, s, FNM_CASEFOLD) == 0;
}

static int any_match(const cJSON *patterns, const char *s) {
  const cJSON *p;

  if (cJSON_IsString(patterns))
    return match(patterns->valuestring, s);
  cJSON_ArrayForEach(p, patterns) {
    if (cJSON_IsString(p) && match(p->valuestring, s))
      return 1;
  }
  return 0;
}

/* Strings as a cJSON array (a lone string becomes one item). */
static cJSON *string_list(const cJSON *v) {
  cJSON *out = cJSON_CreateArray();
  const cJSON *e;

  if (cJSON_IsString(v))
    cJSON_AddItemToArray(out, cJSON_CreateString(v->valuestring));
  cJSON_ArrayForEach(e, v) {
    if (cJSON_IsString(e))
      cJSON_AddItemToArray(out, cJSON_CreateString(e->valuestring));
  }
  return out;
}

static void add_statement(cJSON *out, cJSON *actions, cJSON *resources) {
  cJSON *st = cJSON_CreateObject();

  cJSON_AddItemToObject(st, "Action", actions);
  cJSON_AddItemToObject(st, "Resource", resources);
  cJSON_AddItemToArray(out, st);
}

cJSON *lk_policy_statements(const cJSON *item, const char **label) {
  cJSON *out = cJSON_CreateArray(), *acts, *res;
  const cJSON *st, *s, *t;
  size_t i, k;

  *label = "a policy";
  if (cJSON_IsString(item)) { /* a managed policy, by name or ARN */
    const char *name = strrchr(item->valuestring, '/')
                           ? strrchr(item->valuestring, '/') + 1
                           : item->valuestring;

    *label = name;
    for (i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
      if (strcmp(name, managed[i].name) != 0)
        continue;
      acts = cJSON_CreateArray();
      for (k = 0; k < 4 && managed[i].actions[k]; k++)
        cJSON_AddItemToArray(acts, cJSON_CreateString(managed[i].actions[k]));
      res = cJSON_CreateArray();
      cJSON_AddItemToArray(res, cJSON_CreateString("*"));
      add_statement(out, acts, res);
    }
    return out;
  }
  st = cJSON_GetObjectItemCaseSensitive(item, "Statement");
  if (st) { /* an inline document: its Allow statements */
    *label = "an inline statement";
    for (s = cJSON_IsObject(st) ? st : st->child; s;
         s = cJSON_IsObject(st) ? NULL : s->next) {
      const cJSON *e = cJSON_GetObjectItem(s, "Effect");

      if (!cJSON_IsString(e) || strcmp(e->valuestring, "Allow") == 0)
        add_statement(out, string_list(cJSON_GetObjectItem(s, "Action")),
                      string_list(cJSON_GetObjectItem(s, "Resource")));
    }
    return out;
  }
  cJSON_ArrayForEach(t, item) { /* SAM templates: {"Name": {Param: v}} */
    for (i = 0; t->string && i < sizeof(sam) / sizeof(sam[0]); i++) {
      const cJSON *v = cJSON_GetObjectItem(t, sam[i].param);

      if (strcmp(t->string, sam[i].name) != 0 || !cJSON_IsString(v))
        continue;
      *label = sam[i].name;
      acts = cJSON_CreateArray();
      for (k = 0; k < N_ACTIONS && sam[i].actions[k]; k++)
        cJSON_AddItemToArray(acts, cJSON_CreateString(sam[i].actions[k]));
      res = cJSON_CreateArray();
      for (k = 0; k < 2 && sam[i].resource[k]; k++) {
        const char *at = strstr(sam[i].resource[k], "{}");
        char pat[1024];

        snprintf(pat, sizeof(pat), "%.*s%s%s", (int)(at - sam[i].resource[k]),
                 sam[i].resource[k], v->valuestring, at + 2);
        cJSON_AddItemToArray(res, cJSON_CreateString(pat));
      }
      add_statement(out, acts, res);
    }
  }
  return out;
}

int lk_policy_item_grants(const cJSON *item, const char *action,
                          const char *resource, const char **label) {
  cJSON *all = lk_policy_statements(item, label);
  const cJSON *st;
  int yes = 0;

  cJSON_ArrayForEach(st, all) {
    yes = yes || (any_match(cJSON_GetObjectItem(st, "Action"), action) &&
                  any_match(cJSON_GetObjectItem(st, "Resource"), resource));
  }
  cJSON_Delete(all);
  return yes;
}

int lk_policy_grants(const lk_function_t *f, const char *action,
                     const char *resource, const char **by) {
  const cJSON *item;
  const char *label = "";
  cJSON *basic = cJSON_CreateString("AWSLambdaBasicExecutionRole");
  int yes;

  /* SAM gives every function the basic execution role. */
  yes = lk_policy_item_grants(basic, action, resource, &label);
  cJSON_Delete(basic);
  for (item = f->policies ? f->policies->child : NULL; item && !yes;
       item = item->next)
    yes = lk_policy_item_grants(item, action, resource, &label);
  if (yes && by)
    *by = label;
  return yes;
}
