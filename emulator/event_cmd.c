/* `lambkin event SOURCE [options]`: prints a valid sample event, as
 * `sam local generate-event` does, built by the same code that builds the
 * events lambkin delivers. The fuzzer's seed corpora come from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "apigw.h"
#include "codec.h"
#include "emu.h"
#include "event_cmd.h"
#include "events.h"
#include "http.h"
#include "lambkin/lambkin.h"

#define REGION "us-east-1"
#define ACCOUNT "123456789012"
#define MAX_OPT_HEADERS 16

typedef struct opts {
  const char *bucket, *key, *event_name, *body, *queue, *group, *stream,
      *message, *method, *path, *resource, *query;
  long size;
  const char *headers[MAX_OPT_HEADERS];
  int n_headers;
} opts_t;

static void event_usage(FILE *f) {
  fprintf(f,
          "usage: lambkin event s3|sqs|logs|apigw|apigw-v2 [options]\n"
          "  s3:       --bucket B --key K --size N --event-name "
          "ObjectCreated:Put\n"
          "  sqs:      --queue NAME --body TEXT\n"
          "  logs:     --group G --stream S --message TEXT\n"
          "  apigw, apigw-v2:\n"
          "            --method M --path /p --resource /p/{x} --query a=1&b=2\n"
          "            --header 'Name: value' (repeatable) --body TEXT\n");
}

static int parse(int argc, char **argv, opts_t *o) {
  int i;

  for (i = 3; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    const char **slot = NULL;

    if (strcmp(a, "--bucket") == 0)
      slot = &o->bucket;
    else if (strcmp(a, "--key") == 0)
      slot = &o->key;
    else if (strcmp(a, "--event-name") == 0)
      slot = &o->event_name;
    else if (strcmp(a, "--body") == 0)
      slot = &o->body;
    else if (strcmp(a, "--queue") == 0)
      slot = &o->queue;
    else if (strcmp(a, "--group") == 0)
      slot = &o->group;
    else if (strcmp(a, "--stream") == 0)
      slot = &o->stream;
    else if (strcmp(a, "--message") == 0)
      slot = &o->message;
    else if (strcmp(a, "--method") == 0)
      slot = &o->method;
    else if (strcmp(a, "--path") == 0)
      slot = &o->path;
    else if (strcmp(a, "--resource") == 0)
      slot = &o->resource;
    else if (strcmp(a, "--query") == 0)
      slot = &o->query;
    if (slot && v) {
      *slot = v;
      i++;
    } else if (strcmp(a, "--size") == 0 && v) {
      long size;

      /* S3's largest object: 5 TiB. */
      if (lk_parse_long(v, 0, 5L * 1024 * 1024 * 1024 * 1024, &size)) {
        fprintf(stderr, "lambkin: --size wants a number\n");
        return -1;
      }
      o->size = size;
      i++;
    } else if (strcmp(a, "--header") == 0 && v &&
               o->n_headers < MAX_OPT_HEADERS && strchr(v, ':')) {
      o->headers[o->n_headers++] = v;
      i++;
    } else {
      fprintf(stderr, "lambkin: event: bad option %s\n", a);
      return -1;
    }
  }
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

static int apigw_event(const opts_t *o, int v2) {
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

int lk_cmd_event(int argc, char **argv) {
  opts_t o;
  const char *src = argc > 2 ? argv[2] : NULL;

  memset(&o, 0, sizeof(o));
  if (src == NULL || strcmp(src, "--help") == 0 || parse(argc, argv, &o)) {
    event_usage(stderr);
    return 2;
  }
  if (strcmp(src, "s3") == 0)
    return s3_event(&o) ? 2 : 0;
  if (strcmp(src, "sqs") == 0)
    return sqs_event(&o) ? 2 : 0;
  if (strcmp(src, "logs") == 0)
    return logs_event(&o) ? 2 : 0;
  if (strcmp(src, "apigw") == 0)
    return apigw_event(&o, 0) ? 2 : 0;
  if (strcmp(src, "apigw-v2") == 0)
    return apigw_event(&o, 1) ? 2 : 0;
  fprintf(stderr, "lambkin: event: unknown source %s\n", src);
  event_usage(stderr);
  return 2;
}
