/* `lambkin event SOURCE [options]`: prints a valid sample event, as
 * `sam local generate-event` does, built by the same code that builds the
 * events lambkin delivers. The fuzzer's seed corpora come from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "apigw.h"
#include "cli.h"
#include "codec.h"
#include "ddb_stream.h"
#include "eventbridge.h"
#include "events.h"
#include "ids.h"
#include "kinesis.h"
#include "lambkin/lambkin.h"

#define REGION "us-east-1"
#define ACCOUNT "123456789012"
#define MAX_OPT_HEADERS 16

typedef struct opts {
  const char *bucket, *key, *event_name, *body, *queue, *group, *stream,
      *message, *method, *path, *resource, *query, *table, *topic, *source,
      *detail_type, *rule;
  long size;
  const char *headers[MAX_OPT_HEADERS];
  int n_headers;
} opts_t;

static void event_usage(FILE *f) {
  fprintf(f,
          "usage: lambkin event s3|sqs|sns|logs|dynamodb|kinesis|eventbridge|"
          "schedule|apigw|apigw-v2 [options]\n"
          "  s3:       --bucket B --key K --size N --event-name "
          "ObjectCreated:Put\n"
          "  sqs:      --queue NAME --body TEXT\n"
          "  sns:      --topic T --message TEXT\n"
          "  eventbridge: --source S --detail-type T --body DETAIL-JSON\n"
          "  schedule: --rule NAME\n"
          "  logs:     --group G --stream S --message TEXT\n"
          "  dynamodb: --table T --event-name INSERT|MODIFY|REMOVE --key ID "
          "--message TEXT\n"
          "  kinesis:  --stream S --key PARTITION-KEY --body DATA\n"
          "  apigw, apigw-v2:\n"
          "            --method M --path /p --resource /p/{x} --query a=1&b=2\n"
          "            --header 'Name: value' (repeatable) --body TEXT\n");
}

/* --header 'Name: value', up to MAX_OPT_HEADERS of them. */
static int add_header(const char *v, void *ud) {
  opts_t *o = ud;

  if (o->n_headers == MAX_OPT_HEADERS || strchr(v, ':') == NULL)
    return -1;
  o->headers[o->n_headers++] = v;
  return 0;
}

static int parse(int argc, char **argv, opts_t *o, const char **source) {
  int help = 0;
  const lk_opt_t opts[] = {
      {"bucket", 0, LK_OPT_STR, &o->bucket, 0, 0, NULL, NULL},
      {"key", 0, LK_OPT_STR, &o->key, 0, 0, NULL, NULL},
      {"event-name", 0, LK_OPT_STR, &o->event_name, 0, 0, NULL, NULL},
      {"body", 0, LK_OPT_STR, &o->body, 0, 0, NULL, NULL},
      {"queue", 0, LK_OPT_STR, &o->queue, 0, 0, NULL, NULL},
      {"group", 0, LK_OPT_STR, &o->group, 0, 0, NULL, NULL},
      {"stream", 0, LK_OPT_STR, &o->stream, 0, 0, NULL, NULL},
      {"message", 0, LK_OPT_STR, &o->message, 0, 0, NULL, NULL},
      {"method", 0, LK_OPT_STR, &o->method, 0, 0, NULL, NULL},
      {"path", 0, LK_OPT_STR, &o->path, 0, 0, NULL, NULL},
      {"resource", 0, LK_OPT_STR, &o->resource, 0, 0, NULL, NULL},
      {"query", 0, LK_OPT_STR, &o->query, 0, 0, NULL, NULL},
      {"table", 0, LK_OPT_STR, &o->table, 0, 0, NULL, NULL},
      {"topic", 0, LK_OPT_STR, &o->topic, 0, 0, NULL, NULL},
      {"source", 0, LK_OPT_STR, &o->source, 0, 0, NULL, NULL},
      {"detail-type", 0, LK_OPT_STR, &o->detail_type, 0, 0, NULL, NULL},
      {"rule", 0, LK_OPT_STR, &o->rule, 0, 0, NULL, NULL},
      /* S3's largest object: 5 TiB. */
      {"size", 0, LK_OPT_LONG, &o->size, 0, 5L * 1024 * 1024 * 1024 * 1024,
       NULL, NULL},
      {"header", 0, LK_OPT_CALL, o, 0, 0, NULL, add_header},
      {"help", 'h', LK_OPT_FLAG, &help, 0, 0, NULL, NULL},
  };
  lk_args_t a;

  if (lk_args_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]), &a) ||
      help || a.n_pos != 1)
    return -1;
  *source = a.pos[0];
  return 0;
}

static int print_json(char *text) {
  cJSON *j = text ? cJSON_Parse(text) : NULL;
  char *pretty = j ? cJSON_Print(j) : NULL;

  free(text);
  cJSON_Delete(j);
  if (pretty == NULL)
    return 1;
  printf("%s\n", pretty);
  free(pretty);
  return 0;
}

static int print_json_obj(cJSON *o) {
  char *text = cJSON_PrintUnformatted(o);

  cJSON_Delete(o);
  return print_json(text);
}

static int s3_event(const opts_t *o) {
  const char *body = o->body ? o->body : "hello";
  char etag[33];

  lk_md5_hex(body, strlen(body), etag);
  return print_json(lk_event_s3(
      REGION, o->bucket ? o->bucket : "example-bucket",
      o->event_name ? o->event_name : "ObjectCreated:Put",
      o->key ? o->key : "test/key.txt",
      o->size ? (size_t)o->size : strlen(body), etag, "lambkin-sample", 1));
}

static int sqs_event(const opts_t *o) {
  const char *body = o->body ? o->body : "Hello from SQS!";
  cJSON *msg = cJSON_CreateObject(), *attrs, *ev, *recs;
  char id[37], receipt[64], md5[33], now[24], arn[200], *text;

  lk_uuid(id);
  snprintf(receipt, sizeof(receipt), "%s#1", id);
  lk_md5_hex(body, strlen(body), md5);
  snprintf(now, sizeof(now), "%llu", (unsigned long long)lk_now_ms());
  snprintf(arn, sizeof(arn), "arn:aws:sqs:%s:%s:%s", REGION, ACCOUNT,
           o->queue ? o->queue : "my-queue");
  cJSON_AddStringToObject(msg, "MessageId", id);
  cJSON_AddStringToObject(msg, "ReceiptHandle", receipt);
  cJSON_AddStringToObject(msg, "Body", body);
  cJSON_AddStringToObject(msg, "MD5OfBody", md5);
  attrs = cJSON_AddObjectToObject(msg, "Attributes");
  cJSON_AddStringToObject(attrs, "ApproximateReceiveCount", "1");
  cJSON_AddStringToObject(attrs, "SentTimestamp", now);
  cJSON_AddStringToObject(attrs, "SenderId", "AIDAIENQZJOLO23YVJ4VO");
  cJSON_AddStringToObject(attrs, "ApproximateFirstReceiveTimestamp", now);
  ev = cJSON_CreateObject();
  recs = cJSON_AddArrayToObject(ev, "Records");
  cJSON_AddItemToArray(recs, lk_event_sqs_record(REGION, arn, msg));
  cJSON_Delete(msg);
  text = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  return print_json(text);
}

static int logs_event(const opts_t *o) {
  cJSON *events = cJSON_CreateArray(), *e = cJSON_CreateObject();
  char id[40];
  int rc;

  snprintf(id, sizeof(id), "%020llu", (unsigned long long)lk_now_ms());
  cJSON_AddStringToObject(e, "id", id);
  cJSON_AddNumberToObject(e, "timestamp", (double)lk_now_ms());
  cJSON_AddStringToObject(e, "message",
                          o->message ? o->message : "ERROR something failed");
  cJSON_AddItemToArray(events, e);
  rc = print_json(lk_event_logs(ACCOUNT, o->group ? o->group : "/app/logs",
                                o->stream ? o->stream : "stream-1",
                                "lambkin-sample", events));
  cJSON_Delete(events);
  return rc;
}

static int sns_event(const opts_t *o) {
  return print_json(lk_event_sns_sample(
      REGION, ACCOUNT, o->topic ? o->topic : "example-topic",
      o->message ? o->message : "Hello from SNS!"));
}

static int eventbridge_event(const opts_t *o) {
  cJSON *detail = cJSON_Parse(o->body ? o->body : "{\"hello\":\"world\"}");
  cJSON *e;

  if (!cJSON_IsObject(detail)) {
    cJSON_Delete(detail);
    fprintf(stderr, "lambkin: --body is the detail: a JSON object\n");
    return 2;
  }
  e = lk_eb_event(REGION, ACCOUNT, o->source ? o->source : "com.example",
                  o->detail_type ? o->detail_type : "Example", detail, NULL);
  return print_json_obj(e);
}

/* The Scheduled Event a rule's schedule sends. */
static int schedule_event(const opts_t *o) {
  cJSON *res = cJSON_CreateArray(), *e;
  char arn[300];

  snprintf(arn, sizeof(arn), "arn:aws:events:%s:%s:rule/%s", REGION, ACCOUNT,
           o->rule ? o->rule : "my-schedule");
  cJSON_AddItemToArray(res, cJSON_CreateString(arn));
  e = lk_eb_event(REGION, ACCOUNT, "aws.events", "Scheduled Event", NULL, res);
  cJSON_Delete(res);
  return print_json_obj(e);
}

static int dynamodb_event(const opts_t *o) {
  const char *name = o->event_name ? o->event_name : "INSERT";
  char *text = lk_ddb_sample_event(
      REGION, ACCOUNT, o->table ? o->table : "example-table", name,
      o->key ? o->key : "1", o->message ? o->message : "hello");

  if (text == NULL)
    fprintf(stderr, "lambkin: --event-name is INSERT, MODIFY or REMOVE\n");
  return print_json(text);
}

static int apigw_any(const opts_t *o, int v2) {
  lk_http_req_t req;
  char names[MAX_OPT_HEADERS][128];
  const char *path = o->path ? o->path : "/items/1";
  int i, rc;

  memset(&req, 0, sizeof(req));
  req.method = o->method ? o->method : "GET";
  req.url = path;
  req.path = path;
  req.query = o->query ? o->query : "";
  req.headers[req.n_headers++] = (lk_http_header_t){"Host", "localhost"};
  req.headers[req.n_headers++] =
      (lk_http_header_t){"User-Agent", "lambkin-event"};
  for (i = 0; i < o->n_headers; i++) {
    const char *colon = strchr(o->headers[i], ':');
    const char *v = colon + 1;

    snprintf(names[i], sizeof(names[i]), "%.*s", (int)(colon - o->headers[i]),
             o->headers[i]);
    while (*v == ' ')
      v++;
    req.headers[req.n_headers++] = (lk_http_header_t){names[i], v};
  }
  lk_buf_init(&req.body, LK_SYNC_MAX_PAYLOAD);
  if (o->body)
    lk_buf_adds(&req.body, o->body);
  rc = print_json(lk_apigw_event(v2, v2, ACCOUNT, "ANY",
                                 o->resource ? o->resource : path, &req));
  lk_buf_free(&req.body);
  if (rc)
    fprintf(stderr, "lambkin: --path %s does not fit --resource %s\n", path,
            o->resource ? o->resource : path);
  return rc;
}

static int apigw_event(const opts_t *o) {
  return apigw_any(o, 0);
}

static int apigw_v2_event(const opts_t *o) {
  return apigw_any(o, 1);
}

static int kinesis_event(const opts_t *o) {
  return print_json(lk_kin_sample_event(
      REGION, ACCOUNT, o->stream ? o->stream : "example-stream",
      o->key ? o->key : "1", o->body ? o->body : "{\"hello\":\"world\"}"));
}

/* The sample events, one builder per source. */
static const struct {
  const char *source;
  int (*build)(const opts_t *o);
} builders[] = {
    {"s3", s3_event},
    {"sqs", sqs_event},
    {"sns", sns_event},
    {"eventbridge", eventbridge_event},
    {"schedule", schedule_event},
    {"logs", logs_event},
    {"dynamodb", dynamodb_event},
    {"kinesis", kinesis_event},
    {"apigw", apigw_event},
    {"apigw-v2", apigw_v2_event},
};

int lk_cmd_event(int argc, char **argv) {
  const char *src = NULL;
  opts_t o;
  size_t i;

  memset(&o, 0, sizeof(o));
  if (parse(argc, argv, &o, &src)) {
    event_usage(stderr);
    return 2;
  }
  for (i = 0; i < sizeof(builders) / sizeof(builders[0]); i++)
    if (strcmp(src, builders[i].source) == 0)
      return builders[i].build(&o) ? 2 : 0;
  fprintf(stderr, "lambkin: event: unknown source %s\n", src);
  event_usage(stderr);
  return 2;
}
