/* Seed events for lambkin fuzz (see seeds.h), built by the same code that
 * builds the events lambkin delivers. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "apigw.h"
#include "codec.h"
#include "ddb_stream.h"
#include "eventbridge.h"
#include "events.h"
#include "fs.h"
#include "json.h"
#include "kinesis.h"
#include "mutator.h"
#include "seeds.h"

#define SEED_MAX (256 * 1024 - 1) /* SQS's message limit */

static char *s3_seed(const lk_app_t *app, const cJSON *ev, const cJSON *p) {
  const char *bucket = lk_json_str(p, "Bucket");

  return lk_event_s3(app->region, bucket ? bucket : "bucket",
                     "ObjectCreated:Put", "uploads/photo.jpg", 5,
                     "5d41402abc4b2a76b9719d911017c592", ev->string, 1);
}

static char *logs_seed(const lk_app_t *app, const cJSON *ev, const cJSON *p) {
  const char *group = lk_json_str(p, "LogGroupName");
  cJSON *events = cJSON_CreateArray(), *e = cJSON_CreateObject();
  char *out;

  cJSON_AddStringToObject(e, "id", "0");
  cJSON_AddNumberToObject(e, "timestamp", 1700000000000.0);
  cJSON_AddStringToObject(e, "message", "ERROR something failed");
  cJSON_AddItemToArray(events, e);
  out = lk_event_logs(app->account, group ? group : "/app", "stream",
                      ev->string, events);
  cJSON_Delete(events);
  return out;
}

static char *sqs_seed(const lk_app_t *app, const cJSON *ev, const cJSON *p) {
  static const char body[] = "{\"task\":\"seed\"}";
  const char *queue = lk_json_str(p, "Queue");
  cJSON *msg = cJSON_CreateObject(), *doc = cJSON_CreateObject(), *recs;
  char *out, md5[33];

  (void)ev;
  cJSON_AddStringToObject(msg, "MessageId",
                          "00000000-0000-4000-8000-000000000000");
  cJSON_AddStringToObject(msg, "ReceiptHandle", "seed#1");
  lk_md5_hex(body, sizeof(body) - 1, md5);
  cJSON_AddStringToObject(msg, "Body", body);
  cJSON_AddStringToObject(msg, "MD5OfBody", md5);
  recs = cJSON_AddArrayToObject(doc, "Records");
  cJSON_AddItemToArray(
      recs, lk_event_sqs_record(app->region, queue ? queue : "queue", msg));
  out = cJSON_PrintUnformatted(doc);
  cJSON_Delete(msg);
  cJSON_Delete(doc);
  return out;
}

/* A message on the topic the event subscribes to. */
static char *sns_seed(const lk_app_t *app, const cJSON *ev, const cJSON *p) {
  const char *topic = lk_json_str(p, "Topic");
  const char *name =
      topic && strrchr(topic, ':') ? strrchr(topic, ':') + 1 : "topic";

  (void)ev;
  return lk_event_sns_sample(app->region, app->account, name, "hello");
}

/* A new item {id, message} in the table of the stream the event reads. */
static char *ddb_seed(const lk_app_t *app, const cJSON *ev, const cJSON *p) {
  const char *arn = lk_json_str(p, "Stream");
  const char *t = arn ? strstr(arn, ":table/") : NULL;
  char table[256];

  (void)ev;
  snprintf(table, sizeof(table), "%.*s", t ? (int)strcspn(t + 7, "/") : 5,
           t ? t + 7 : "table");
  return lk_ddb_sample_event(app->region, app->account, table, "INSERT", "1",
                             "hello");
}

/* A JSON record on the stream the event reads. */
static char *kinesis_seed(const lk_app_t *app, const cJSON *ev,
                          const cJSON *p) {
  const char *arn = lk_json_str(p, "Stream");
  const char *s = arn ? strstr(arn, ":stream/") : NULL;
  char stream[256];

  (void)ev;
  snprintf(stream, sizeof(stream), "%.*s", s ? (int)strcspn(s + 8, "/") : 6,
           s ? s + 8 : "stream");
  return lk_kin_sample_event(app->region, app->account, stream, "1",
                             "{\"id\":\"1\",\"message\":\"hello\"}");
}

/* What a pattern asks for: each field's first listed string or number
 * (nested objects followed), so the seed is an event the rule sends. */
static cJSON *sample_of(const cJSON *pattern, int depth) {
  cJSON *out = cJSON_CreateObject();
  const cJSON *f, *first;

  cJSON_ArrayForEach(f, pattern) {
    first = cJSON_IsArray(f) ? f->child : NULL;
    if (cJSON_IsObject(f) && depth < 8)
      cJSON_AddItemToObject(out, f->string, sample_of(f, depth + 1));
    else if (cJSON_IsString(first) || cJSON_IsNumber(first))
      cJSON_AddItemToObject(out, f->string, cJSON_Duplicate(first, 0));
  }
  return out;
}

/* An event the rule's pattern matches, with a detail to mutate. */
static char *eventbridge_seed(const lk_app_t *app, const cJSON *ev,
                              const cJSON *p) {
  cJSON *want = sample_of(cJSON_GetObjectItemCaseSensitive(p, "Pattern"), 0);
  cJSON *detail = cJSON_DetachItemFromObjectCaseSensitive(want, "detail");
  cJSON *e;
  char *out;

  (void)ev;
  if (!cJSON_IsObject(detail)) {
    cJSON_Delete(detail);
    detail = cJSON_CreateObject();
  }
  if (detail->child == NULL)
    cJSON_AddStringToObject(detail, "message", "hello");
  e = lk_eb_event(
      app->region, app->account,
      lk_json_str(want, "source") ? lk_json_str(want, "source") : "com.example",
      lk_json_str(want, "detail-type") ? lk_json_str(want, "detail-type")
                                       : "Example",
      detail, NULL);
  out = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  cJSON_Delete(want);
  return out;
}

/* {param} and {proxy+} become "1": a path the route matches. */
static void sample_path(const char *tmpl, char *path, size_t cap) {
  size_t i, o = 0;

  for (i = 0; tmpl[i] && o + 2 < cap; i++) {
    if (tmpl[i] != '{') {
      path[o++] = tmpl[i];
      continue;
    }
    while (tmpl[i] && tmpl[i] != '}')
      i++;
    path[o++] = '1';
    if (!tmpl[i])
      break;
  }
  path[o] = '\0';
}

static char *apigw_seed(const lk_app_t *app, const cJSON *p, int v2) {
  const char *tmpl = lk_json_str(p, "Path") ? lk_json_str(p, "Path") : "/";
  const char *method = lk_json_str(p, "Method");
  char path[1024], *out;
  lk_http_req_t req;

  sample_path(tmpl, path, sizeof(path));
  memset(&req, 0, sizeof(req));
  req.method = method && strcasecmp(method, "any") ? method : "GET";
  req.path = req.url = path;
  req.query = "q=1";
  req.headers[req.n_headers++] = (lk_http_header_t){"Host", "localhost"};
  lk_buf_init(&req.body, 64);
  lk_buf_adds(&req.body, "{\"seed\":true}");
  out = lk_apigw_event(v2, v2, app->account, "ANY", tmpl, &req);
  lk_buf_free(&req.body);
  return out;
}

static char *apigw_v1_seed(const lk_app_t *app, const cJSON *ev,
                           const cJSON *p) {
  (void)ev;
  return apigw_seed(app, p, 0);
}

static char *apigw_v2_seed(const lk_app_t *app, const cJSON *ev,
                           const cJSON *p) {
  (void)ev;
  return apigw_seed(app, p, 1);
}

/* The event types lambkin shapes seeds for, and their sources' names. */
static const struct {
  const char *type, *source;
  char *(*seed)(const lk_app_t *app, const cJSON *ev, const cJSON *p);
} shapers[] = {
    {"S3", "s3", s3_seed},
    {"CloudWatchLogs", "logs", logs_seed},
    {"SQS", "sqs", sqs_seed},
    {"DynamoDB", "dynamodb", ddb_seed},
    {"SNS", "sns", sns_seed},
    {"Kinesis", "kinesis", kinesis_seed},
    {"EventBridgeRule", "eventbridge", eventbridge_seed},
    {"CloudWatchEvent", "eventbridge", eventbridge_seed},
    {"Api", "apigw", apigw_v1_seed},
    {"HttpApi", "apigw-v2", apigw_v2_seed},
};

/* A seed for the first of the events lambkin can shape. */
static char *events_seed(const lk_app_t *app, const cJSON *evs,
                         const char **source) {
  const cJSON *ev, *p;
  const char *type;
  size_t k;

  cJSON_ArrayForEach(ev, evs) {
    p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
    type = lk_json_str(ev, "Type");
    for (k = 0; type && k < sizeof(shapers) / sizeof(shapers[0]); k++)
      if (strcmp(type, shapers[k].type) == 0) {
        *source = shapers[k].source;
        return shapers[k].seed(app, ev, p);
      }
  }
  return NULL;
}

char *lk_seed_event(const lk_app_t *app, const lk_function_t *f,
                    const char *forced, const char **source) {
  static const struct {
    const char *name, *type, *props;
  } kinds[] = {
      {"s3", "S3", "{\"Bucket\":\"bucket\"}"},
      {"sqs", "SQS", "{\"Queue\":\"arn:aws:sqs:us-east-1:123456789012:q\"}"},
      {"logs", "CloudWatchLogs", "{\"LogGroupName\":\"/app\"}"},
      {"sns", "SNS", "{\"Topic\":\"arn:aws:sns:us-east-1:123456789012:t\"}"},
      {"kinesis", "Kinesis",
       "{\"Stream\":\"arn:aws:kinesis:us-east-1:123456789012:stream/s\"}"},
      {"eventbridge", "EventBridgeRule",
       "{\"Pattern\":{\"source\":[\"com.example\"]}}"},
      {"dynamodb", "DynamoDB",
       "{\"Stream\":\"arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/"
       "1970-01-01T00:00:00.000\"}"},
      {"apigw", "Api", "{\"Path\":\"/items/{id}\",\"Method\":\"get\"}"},
      {"apigw-v2", "HttpApi", "{\"Path\":\"/items/{id}\",\"Method\":\"GET\"}"},
  };
  cJSON *events, *one;
  char *out;
  size_t k;

  if (forced == NULL)
    return events_seed(app, f->events, source);
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
    if (strcmp(kinds[k].name, forced) == 0)
      break;
  if (k == sizeof(kinds) / sizeof(kinds[0]))
    return NULL;
  events = cJSON_CreateObject();
  one = cJSON_AddObjectToObject(events, "Source");
  cJSON_AddStringToObject(one, "Type", kinds[k].type);
  cJSON_AddItemToObject(one, "Properties", cJSON_Parse(kinds[k].props));
  out = events_seed(app, events, source);
  cJSON_Delete(events);
  return out;
}

static int read_one(const char *path, char **seeds, int n, int max) {
  size_t len;
  char *text = n < max ? lk_read_file(path, SEED_MAX, &len) : NULL;

  if (text && lk_event_source(text, len) != LK_SRC_UNKNOWN)
    seeds[n++] = text;
  else
    free(text);
  return n;
}

int lk_seeds_read(const char *path, char **seeds, int n, int max) {
  DIR *d = opendir(path);
  struct dirent *e;
  char file[PATH_MAX];

  if (d == NULL)
    return read_one(path, seeds, n, max);
  for (e = readdir(d); e && n < max; e = readdir(d))
    if (e->d_name[0] != '.' &&
        lk_path_join(file, sizeof(file), path, e->d_name) == 0)
      n = read_one(file, seeds, n, max); /* not into subfolders */
  closedir(d);
  return n;
}

int lk_seeds_corpora(const lk_app_t *app, const char *source,
                     const char *function, const char *seeds_path, char **seeds,
                     int n, int max) {
  const char *roots[2] = {app->dir, LK_SOURCE_DIR};
  char dir[PATH_MAX], sub[2][300];
  int r, k;

  snprintf(sub[0], sizeof(sub[0]), "corpora/%s", source);
  snprintf(sub[1], sizeof(sub[1]), "corpora/%s/%s", source, function);
  for (r = 0; r < 2; r++) {
    if (r == 1 && strcmp(roots[0], roots[1]) == 0)
      break;
    for (k = 0; k < 2; k++)
      if (lk_path_join(dir, sizeof(dir), roots[r], sub[k]) == 0)
        n = lk_seeds_read(dir, seeds, n, max);
  }
  return seeds_path ? lk_seeds_read(seeds_path, seeds, n, max) : n;
}

char *lk_seed_first(const lk_app_t *app, const lk_function_t *f,
                    const char *forced, const char *seeds_path,
                    const char **source) {
  char *ev = lk_seed_event(app, f, forced, source), *given[1];

  if (ev || seeds_path == NULL || lk_seeds_read(seeds_path, given, 0, 1) == 0)
    return ev;
  *source = lk_source_name(lk_event_source(given[0], strlen(given[0])));
  return given[0];
}
