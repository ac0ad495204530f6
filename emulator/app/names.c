/* What Ref and GetAtt give for each resource type: its physical name, its
 * ARN, its id, and any attribute, shaped as AWS's. Types lambkin emulates
 * and the common ones it does not are rows of one table; any other type
 * gets values built from its service and resource names. Every value is
 * stable: ids are hashes of the logical id, so two loads agree. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app_int.h"
#include "lambkin/lambkin.h"

enum ref_kind { REF_NAME, REF_ARN, REF_ID, REF_URL };

/* {r} region, {a} account, {n} physical name, {i} the id Ref gives for
 * an id (res_id), {h} six stable hex digits. */
static const struct kind {
  const char *type, *name_prop;
  enum ref_kind ref;
  const char *arn;
} kinds[] = {
    {"AWS::Serverless::Function", "FunctionName", REF_NAME,
     "arn:aws:lambda:{r}:{a}:function:{n}"},
    {"AWS::Lambda::Function", "FunctionName", REF_NAME,
     "arn:aws:lambda:{r}:{a}:function:{n}"},
    {"AWS::S3::Bucket", "BucketName", REF_NAME, "arn:aws:s3:::{n}"},
    {"AWS::SQS::Queue", "QueueName", REF_URL, "arn:aws:sqs:{r}:{a}:{n}"},
    {"AWS::Logs::LogGroup", "LogGroupName", REF_NAME,
     "arn:aws:logs:{r}:{a}:log-group:{n}:*"},
    {"AWS::IAM::Role", "RoleName", REF_NAME, "arn:aws:iam::{a}:role/{n}"},
    {"AWS::IAM::User", "UserName", REF_NAME, "arn:aws:iam::{a}:user/{n}"},
    {"AWS::IAM::ManagedPolicy", "ManagedPolicyName", REF_ARN,
     "arn:aws:iam::{a}:policy/{n}"},
    {"AWS::IAM::Policy", "PolicyName", REF_ID, "arn:aws:iam::{a}:policy/{n}"},
    {"AWS::IAM::InstanceProfile", "InstanceProfileName", REF_NAME,
     "arn:aws:iam::{a}:instance-profile/{n}"},
    {"AWS::DynamoDB::Table", "TableName", REF_NAME,
     "arn:aws:dynamodb:{r}:{a}:table/{n}"},
    {"AWS::DynamoDB::GlobalTable", "TableName", REF_NAME,
     "arn:aws:dynamodb:{r}:{a}:table/{n}"},
    {"AWS::Serverless::SimpleTable", "TableName", REF_NAME,
     "arn:aws:dynamodb:{r}:{a}:table/{n}"},
    {"AWS::SNS::Topic", "TopicName", REF_ARN, "arn:aws:sns:{r}:{a}:{n}"},
    {"AWS::SNS::Subscription", NULL, REF_ARN, "arn:aws:sns:{r}:{a}:{n}:{i}"},
    {"AWS::Kinesis::Stream", "Name", REF_NAME,
     "arn:aws:kinesis:{r}:{a}:stream/{n}"},
    {"AWS::KinesisFirehose::DeliveryStream", "DeliveryStreamName", REF_NAME,
     "arn:aws:firehose:{r}:{a}:deliverystream/{n}"},
    {"AWS::Events::Rule", "Name", REF_NAME, "arn:aws:events:{r}:{a}:rule/{n}"},
    {"AWS::Events::EventBus", "Name", REF_NAME,
     "arn:aws:events:{r}:{a}:event-bus/{n}"},
    {"AWS::Scheduler::Schedule", "Name", REF_NAME,
     "arn:aws:scheduler:{r}:{a}:schedule/default/{n}"},
    {"AWS::StepFunctions::StateMachine", "StateMachineName", REF_ARN,
     "arn:aws:states:{r}:{a}:stateMachine:{n}"},
    {"AWS::Serverless::StateMachine", "Name", REF_ARN,
     "arn:aws:states:{r}:{a}:stateMachine:{n}"},
    {"AWS::SecretsManager::Secret", "Name", REF_ARN,
     "arn:aws:secretsmanager:{r}:{a}:secret:{n}-{h}"},
    {"AWS::SSM::Parameter", "Name", REF_NAME,
     "arn:aws:ssm:{r}:{a}:parameter/{n}"},
    {"AWS::KMS::Key", NULL, REF_ID, "arn:aws:kms:{r}:{a}:key/{i}"},
    {"AWS::KMS::Alias", "AliasName", REF_NAME, "arn:aws:kms:{r}:{a}:{n}"},
    {"AWS::Cognito::UserPool", "UserPoolName", REF_ID,
     "arn:aws:cognito-idp:{r}:{a}:userpool/{i}"},
    {"AWS::Cognito::UserPoolClient", "ClientName", REF_ID, NULL},
    {"AWS::Cognito::IdentityPool", "IdentityPoolName", REF_ID, NULL},
    {"AWS::ApiGateway::RestApi", "Name", REF_ID,
     "arn:aws:apigateway:{r}::/restapis/{i}"},
    {"AWS::Serverless::Api", "Name", REF_ID,
     "arn:aws:apigateway:{r}::/restapis/{i}"},
    {"AWS::ApiGatewayV2::Api", "Name", REF_ID,
     "arn:aws:apigateway:{r}::/apis/{i}"},
    {"AWS::Serverless::HttpApi", "Name", REF_ID,
     "arn:aws:apigateway:{r}::/apis/{i}"},
    {"AWS::AppSync::GraphQLApi", "Name", REF_ARN,
     "arn:aws:appsync:{r}:{a}:apis/{i}"},
    {"AWS::Lambda::LayerVersion", "LayerName", REF_ARN,
     "arn:aws:lambda:{r}:{a}:layer:{n}:1"},
    {"AWS::Serverless::LayerVersion", "LayerName", REF_ARN,
     "arn:aws:lambda:{r}:{a}:layer:{n}:1"},
    {"AWS::Lambda::Version", NULL, REF_ARN,
     "arn:aws:lambda:{r}:{a}:function:{n}:1"},
    {"AWS::Lambda::Alias", "Name", REF_ARN,
     "arn:aws:lambda:{r}:{a}:function:{n}"},
    {"AWS::Lambda::Permission", NULL, REF_ID, NULL},
    {"AWS::Lambda::EventSourceMapping", NULL, REF_ID, NULL},
    {"AWS::Lambda::Url", NULL, REF_ARN, "arn:aws:lambda:{r}:{a}:function:{n}"},
    {"AWS::ECR::Repository", "RepositoryName", REF_NAME,
     "arn:aws:ecr:{r}:{a}:repository/{n}"},
    {"AWS::CloudFront::Distribution", NULL, REF_ID,
     "arn:aws:cloudfront::{a}:distribution/{i}"},
    {"AWS::Serverless::Application", NULL, REF_ARN,
     "arn:aws:cloudformation:{r}:{a}:stack/{n}/{i}"},
    {"AWS::CloudFormation::Stack", NULL, REF_ARN,
     "arn:aws:cloudformation:{r}:{a}:stack/{n}/{i}"},
    {"AWS::EC2::VPC", NULL, REF_ID, NULL},
    {"AWS::EC2::Subnet", NULL, REF_ID, NULL},
    {"AWS::EC2::SecurityGroup", "GroupName", REF_ID, NULL},
};

static const struct kind *kind_of(const char *type) {
  size_t i;

  for (i = 0; type && i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (strcmp(type, kinds[i].type) == 0)
      return &kinds[i];
  return NULL;
}

const char *lk_app_res_type(ctx_t *c, yaml_node_t *res) {
  return lk_app_scalar(lk_app_get(c, res, "Type"));
}

int lk_app_physical_name(ctx_t *c, const char *id, yaml_node_t *res,
                         lk_buf_t *out) {
  const char *type = lk_app_res_type(c, res);
  const struct kind *k = kind_of(type);
  yaml_node_t *props = lk_app_get(c, res, "Properties");
  yaml_node_t *v = k && k->name_prop ? lk_app_get(c, props, k->name_prop) : 0;
  cJSON *given = v ? lk_app_json(c, v) : NULL;
  size_t i, start = out->len;

  if (v && given == NULL)
    return LK_EINVAL;
  if (given && !cJSON_IsRaw(given)) { /* AWS::NoValue: the default name */
    cJSON_Delete(given);
    return lk_app_str(c, v, out);
  }
  cJSON_Delete(given);
  if (lk_buf_adds(out, id))
    return LK_E2BIG;
  if (type && strcmp(type, "AWS::S3::Bucket") == 0) /* lowercase only */
    for (i = start; i < out->len; i++)
      out->data[i] = (char)tolower((unsigned char)out->data[i]);
  if (type && strcmp(type, "AWS::SQS::Queue") == 0) {
    v = lk_app_get(c, props, "FifoQueue");
    if (lk_app_scalar(v) && strcmp(lk_app_scalar(v), "true") == 0)
      return lk_buf_adds(out, ".fifo");
  }
  return 0;
}

/* ---- values ---- */

/* A resource as the formats see it. */
typedef struct res {
  const char *id, *type, *name;
  const struct kind *kind;
  char service[64], noun[64]; /* AWS::Service::Noun, lowercased */
} res_t;

/* A stable id of n lowercase hex digits (n <= 16) for the logical id. */
static void stable_id(const char *id, const char *salt, char *out, int n) {
  uint64_t h = 1469598103934665603ULL;
  const char *p;
  char hex[17];

  for (p = id; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  for (p = salt; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
  memcpy(out, hex, (size_t)n);
  out[n] = '\0';
}

static int res_id(const lk_app_t *app, const res_t *r, lk_buf_t *out);

static int expand(const lk_app_t *app, const res_t *r, const char *fmt,
                  lk_buf_t *out) {
  const char *p;
  char h[17];

  stable_id(r->id, "", h, 6);
  for (p = fmt; *p; p++) {
    if (p[0] == '{' && p[1] && p[2] == '}') {
      if (p[1] == 'i')
        res_id(app, r, out);
      else
        lk_buf_adds(out, p[1] == 'r'   ? app->region
                         : p[1] == 'a' ? app->account
                         : p[1] == 'n' ? r->name
                                       : h);
      p += 2;
    } else {
      lk_buf_add(out, p, 1);
    }
  }
  return lk_buf_error(out);
}

static int res_arn(const lk_app_t *app, const res_t *r, lk_buf_t *out) {
  char fmt[256];

  if (r->kind && r->kind->arn)
    return expand(app, r, r->kind->arn, out);
  snprintf(fmt, sizeof(fmt), "arn:aws:%s:{r}:{a}:%s/{n}", r->service, r->noun);
  return expand(app, r, fmt, out);
}

/* Ids look like the type's: sg-..., subnet-..., us-east-1_..., 10 chars
 * for an API. */
static int res_id(const lk_app_t *app, const res_t *r, lk_buf_t *out) {
  const char *t = r->type;
  char h[17];

  stable_id(r->id, "id", h, 16);
  if (strstr(t, "::EC2::VPC"))
    return lk_buf_printf(out, "vpc-%.12s", h);
  if (strstr(t, "::EC2::Subnet"))
    return lk_buf_printf(out, "subnet-%.12s", h);
  if (strstr(t, "::EC2::SecurityGroup"))
    return lk_buf_printf(out, "sg-%.12s", h);
  if (strstr(t, "::Cognito::UserPool") && !strstr(t, "Client"))
    return lk_buf_printf(out, "%s_%.9s", app->region, h);
  if (strstr(t, "::Cognito::IdentityPool"))
    return lk_buf_printf(out, "%s:%.8s-%.4s-%.4s-%.4s-%.12s", app->region, h,
                         h + 8, h + 12, h, h + 4);
  if (strstr(t, "Api"))
    return lk_buf_printf(out, "%.10s", h);
  if (strstr(t, "::KMS::") || strstr(t, "EventSourceMapping"))
    return lk_buf_printf(out, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h,
                         h + 4);
  return lk_buf_printf(out, "%s-%.12s", r->id, h);
}

/* The host name of the resource's endpoint. */
static int res_host(const lk_app_t *app, const res_t *r, lk_buf_t *out) {
  lk_buf_t id;
  int err;

  if (strcmp(r->type, "AWS::S3::Bucket") == 0)
    return lk_buf_printf(out, "%s.s3.amazonaws.com", r->name);
  lk_buf_init(&id, 256);
  res_id(app, r, &id);
  if (strstr(r->type, "CloudFront")) {
    char h[17];

    stable_id(r->id, "id", h, 16);
    err = lk_buf_printf(out, "d%.13s.cloudfront.net", h);
  } else if (strstr(r->type, "AppSync"))
    err = lk_buf_printf(out, "%s.appsync-api.%s.amazonaws.com", lk_buf_str(&id),
                        app->region);
  else if (strstr(r->type, "Api"))
    err = lk_buf_printf(out, "%s.execute-api.%s.amazonaws.com", lk_buf_str(&id),
                        app->region);
  else
    err = lk_buf_printf(out, "%s.%s.%s.amazonaws.com", lk_buf_str(&id),
                        r->service, app->region);
  lk_buf_free(&id);
  return err;
}

/* The URL attributes of each kind. */
static int res_url(const lk_app_t *app, const res_t *r, const char *attr,
                   lk_buf_t *out) {
  if (strcmp(r->type, "AWS::SQS::Queue") == 0)
    return lk_buf_printf(out, "https://sqs.%s.amazonaws.com/%s/%s", app->region,
                         app->account, r->name);
  if (strcmp(r->type, "AWS::S3::Bucket") == 0 &&
      strcmp(attr, "WebsiteURL") == 0)
    return lk_buf_printf(out, "http://%s.s3-website-%s.amazonaws.com", r->name,
                         app->region);
  lk_buf_adds(out, "https://");
  res_host(app, r, out);
  return strstr(r->type, "AppSync") ? lk_buf_adds(out, "/graphql")
                                    : lk_buf_error(out);
}

static int ends(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);

  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void lower(char *dst, size_t cap, const char *src, size_t n) {
  size_t i;

  for (i = 0; i < n && i + 1 < cap; i++)
    dst[i] = (char)tolower((unsigned char)src[i]);
  dst[i] = '\0';
}

/* The resource's name, kind and AWS::Service::Noun; 0, or an error. */
static int res_init(ctx_t *c, const char *id, yaml_node_t *res, res_t *r,
                    lk_buf_t *name) {
  const char *s1, *s2;
  int err;

  memset(r, 0, sizeof(*r));
  r->id = id;
  r->type = lk_app_res_type(c, res);
  if (r->type == NULL)
    r->type = "";
  r->kind = kind_of(r->type);
  s1 = strstr(r->type, "::");
  s2 = s1 ? strstr(s1 + 2, "::") : NULL;
  if (s1 && s2) {
    lower(r->service, sizeof(r->service), s1 + 2, (size_t)(s2 - s1 - 2));
    lower(r->noun, sizeof(r->noun), s2 + 2, strlen(s2 + 2));
  } else {
    snprintf(r->service, sizeof(r->service), "local");
    snprintf(r->noun, sizeof(r->noun), "resource");
  }
  err = lk_app_physical_name(c, id, res, name);
  r->name = lk_buf_str(name);
  return err;
}

int lk_app_ref_value(ctx_t *c, const char *id, yaml_node_t *res,
                     lk_buf_t *out) {
  lk_buf_t name;
  res_t r;
  int err;

  lk_buf_init(&name, 1024);
  err = res_init(c, id, res, &r, &name);
  if (err == 0) {
    switch (r.kind ? r.kind->ref : REF_NAME) {
    case REF_ARN:
      err = res_arn(c->app, &r, out);
      break;
    case REF_ID:
      err = res_id(c->app, &r, out);
      break;
    case REF_URL:
      err = res_url(c->app, &r, "", out);
      break;
    default:
      err = lk_buf_adds(out, r.name);
    }
  }
  lk_buf_free(&name);
  return err;
}

/* Attributes named by what they end in: ...Arn, ...Url, ...Name, ...Id. */
static int attr_value(ctx_t *c, const res_t *r, const char *attr,
                      lk_buf_t *out) {
  const lk_app_t *app = c->app;

  if (strcmp(attr, "Arn") == 0 || ends(attr, "Arn")) {
    int err = res_arn(app, r, out);

    if (err == 0 && strcmp(attr, "StreamArn") == 0)
      err = lk_buf_adds(out, "/stream/" LK_APP_STREAM_LABEL);
    return err;
  }
  if (ends(attr, "Url") || ends(attr, "URL") || ends(attr, "Endpoint"))
    return res_url(app, r, attr, out);
  if (ends(attr, "DomainName") || strcmp(attr, "ProviderName") == 0)
    return res_host(app, r, out);
  if (ends(attr, "Id") || strcmp(attr, "Version") == 0)
    return res_id(app, r, out);
  return lk_buf_adds(out, r->name); /* ...Name, and anything else */
}

int lk_app_attr_value(ctx_t *c, const char *id, yaml_node_t *res,
                      const char *attr, lk_buf_t *out) {
  yaml_node_t *prop = lk_app_get(c, lk_app_get(c, res, "Properties"), attr);
  lk_buf_t name;
  res_t r;
  int err;

  /* Many attributes give back a property (CidrBlock, Name): when the
   * template sets it, that is the value. */
  if (strcmp(attr, "Arn") != 0 && lk_app_scalar(prop))
    return lk_app_str(c, prop, out);
  lk_buf_init(&name, 1024);
  err = res_init(c, id, res, &r, &name);
  if (err == 0 && strcmp(r.type, "AWS::S3::Bucket") == 0 &&
      strcmp(attr, "RegionalDomainName") == 0)
    err = lk_buf_printf(out, "%s.s3.%s.amazonaws.com", r.name, c->app->region);
  else if (err == 0)
    err = attr_value(c, &r, attr, out);
  lk_buf_free(&name);
  return err;
}
