/* The trigger graph of `lambkin check`: its loops, missing limits and
 * over-broad policies, found without running anything. Nodes are the
 * functions and the buckets, queues, log groups and tables that trigger
 * them or that they may write; edges go from a resource to the function
 * it runs (its events, bucket notifications, subscription filters, table
 * streams) and from a
 * function to what its Policies allow it to write (and to its own log
 * group, which every function writes). A cycle through a function is a
 * loop. The graph is built per call and freed before it returns. */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "buf.h"
#include "graph.h"
#include "iam.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "s3filter.h"

#define MAX_NODES 512
#define MAX_EDGES 2048
#define MAX_CYCLES 64
#define MAX_STEPS 200000 /* bounds the cycle search on a pathological graph */
#define NAME_MAX_LEN 256

/* us-east-1 list prices, for the cost of a loop. */
#define USD_PER_REQUEST (0.20 / 1e6)
#define USD_PER_GB_S 0.0000166667
#define USD_PER_S3_PUT (0.005 / 1000)
#define USD_PER_SQS_REQUEST (0.40 / 1e6)
#define USD_PER_DDB_WRITE (0.625 / 1e6)   /* on demand; a stream read is free */
#define USD_PER_SNS_PUBLISH (0.50 / 1e6)  /* delivery to Lambda, SQS: free */
#define USD_PER_EVENT (1.00 / 1e6)        /* a custom event put on a bus */
#define USD_PER_KINESIS_PUT (0.014 / 1e6) /* a 25 KB PUT payload unit */

enum { N_FN, N_S3, N_SQS, N_LOGS, N_DDB, N_SNS, N_BUS, N_KIN };

typedef struct node {
  int kind;
  char name[NAME_MAX_LEN];
  int fn; /* index in app->functions, or -1 */
} node_t;

typedef struct edge {
  int from, to;
  int write;              /* function -> resource; else a trigger */
  char why[NAME_MAX_LEN]; /* the policy, event or filter behind it */
  char key[NAME_MAX_LEN]; /* write to S3: the object key pattern */
  char pre[NAME_MAX_LEN]; /* S3 trigger: key prefix and suffix rules */
  char suf[NAME_MAX_LEN];
  int wild;    /* a write only a wildcard grant allows: a possible edge */
  int seen;    /* a write lambkin saw the function make */
  int in_loop; /* on a definite cycle */
} edge_t;

typedef struct graph {
  const lk_app_t *app;
  const cJSON *observed; /* {function: {resource: [actions]}}, or NULL */
  node_t nodes[MAX_NODES];
  int n_nodes;
  edge_t edges[MAX_EDGES];
  int n_edges;
  cJSON *findings;
  /* strongly connected components (Tarjan) */
  int comp[MAX_NODES], n_comps, looped[MAX_NODES]; /* looped: by comp */
  int index[MAX_NODES], low[MAX_NODES], stack[MAX_NODES], on_stack[MAX_NODES];
  int n_index, sp;
  /* cycle search, inside one component */
  int path[MAX_NODES], path_edge[MAX_NODES], on_path[MAX_NODES];
  int depth, n_cycles, in_comp, definite_only;
  long steps;
  cJSON *cycles;   /* the paths found, as text */
  char best[2048]; /* the shortest of them */
  int best_depth, best_fn;
  double best_usd;
} graph_t;

static const char *kind_prefix(int kind) {
  static const char *p[] = {"",          "s3://",       "sqs://",
                            "logs:",     "dynamodb://", "sns://",
                            "events://", "kinesis://"};

  return p[kind];
}

static void finding(graph_t *g, const char *rule, const char *level,
                    const lk_function_t *f, int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void finding(graph_t *g, const char *rule, const char *level,
                    const lk_function_t *f, int line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  cJSON *o = cJSON_CreateObject();

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  cJSON_AddStringToObject(o, "rule", rule);
  cJSON_AddStringToObject(o, "level", level);
  cJSON_AddStringToObject(o, "function", f ? f->name : "");
  cJSON_AddNumberToObject(o, "line", line);
  cJSON_AddStringToObject(o, "message", msg);
  cJSON_AddItemToArray(g->findings, o);
}

/* ---- the graph ---- */

static int node(graph_t *g, int kind, const char *name, int fn) {
  int i;

  for (i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].kind == kind && strcmp(g->nodes[i].name, name) == 0)
      return i;
  if (g->n_nodes == MAX_NODES)
    return -1;
  g->nodes[i].kind = kind;
  lk_str_copy(g->nodes[i].name, sizeof(g->nodes[i].name), name);
  g->nodes[i].fn = fn;
  return g->n_nodes++;
}

static edge_t *edge(graph_t *g, int from, int to, int write, const char *why) {
  edge_t *e;

  if (from < 0 || to < 0 || g->n_edges == MAX_EDGES)
    return NULL;
  e = &g->edges[g->n_edges++];
  memset(e, 0, sizeof(*e));
  e->from = from;
  e->to = to;
  e->write = write;
  lk_str_copy(e->why, sizeof(e->why), why);
  lk_str_copy(e->key, sizeof(e->key), "*");
  return e;
}

/* A function by the name, ARN or logical id a template gives it. */
static int fn_node(graph_t *g, const char *ref) {
  const lk_function_t *f = ref ? lk_app_function(g->app, ref) : NULL;

  return f ? (int)(f - g->app->functions) : -1;
}

/* A trigger's key filter (Filter.S3Key.Rules). */
static void key_rules(const cJSON *filter, edge_t *e) {
  lk_s3_filter_t f;

  if (e == NULL)
    return;
  lk_s3_filter_json(filter, &f);
  lk_str_copy(e->pre, sizeof(e->pre), f.prefix);
  lk_str_copy(e->suf, sizeof(e->suf), f.suffix);
}

/* The last ':'-separated part of an ARN, or the text itself. */
static const char *arn_name(const char *s) {
  const char *c = strrchr(s, ':');

  return c ? c + 1 : s;
}

/* The name after kind ("table", "stream") in an ARN into out: a
 * DynamoDB table's (of a table, index or stream ARN) or a Kinesis
 * stream's (of a stream or consumer ARN). 0, or -1 when it names none. */
static int arn_named(const char *arn, const char *kind, char *out, size_t cap) {
  char mark[16];
  const char *t;

  snprintf(mark, sizeof(mark), ":%s/", kind);
  t = strstr(arn, mark);
  if (t == NULL)
    return -1;
  t += strlen(mark);
  snprintf(out, cap, "%.*s", (int)strcspn(t, "/"), t);
  return out[0] ? 0 : -1;
}

/* A topic's subscription: to a function it runs, to a queue it fills. */
static void sns_edge(graph_t *g, const char *topic, const cJSON *sub,
                     const char *why) {
  const char *protocol = lk_json_str(sub, "Protocol");
  const char *endpoint = lk_json_str(sub, "Endpoint");
  int from, to;

  if (topic == NULL || protocol == NULL || endpoint == NULL)
    return;
  from = node(g, N_SNS, arn_name(topic), -1);
  if (strcmp(protocol, "lambda") == 0 && (to = fn_node(g, endpoint)) >= 0)
    edge(g, from, to, 0, why);
  else if (strcmp(protocol, "sqs") == 0)
    edge(g, from, node(g, N_SQS, arn_name(endpoint), -1), 0, why);
}

static void add_sns_subscriptions(graph_t *g) {
  const lk_app_t *app = g->app;
  const cJSON *s;
  int i;

  for (i = 0; i < app->n_topics; i++)
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(app->topics[i].spec,
                                                           "Subscription")) {
      sns_edge(g, app->topics[i].name, s, "topic subscription");
    }
  for (i = 0; i < app->n_sns_subs; i++)
    sns_edge(g, lk_json_str(app->sns_subs[i].spec, "TopicArn"),
             app->sns_subs[i].spec, "SNS subscription");
}

/* A bus by name or ARN ("default" when none is named). */
static const char *bus_of(const char *given) {
  const char *slash = given ? strrchr(given, '/') : NULL;

  if (given == NULL || given[0] == '\0')
    return "default";
  return strncmp(given, "arn:", 4) == 0 && slash ? slash + 1 : given;
}

/* The template's rules with a pattern: from their bus to each target. */
static void add_rule_targets(graph_t *g) {
  const lk_app_t *app = g->app;
  const cJSON *t;
  int i, to;

  for (i = 0; i < app->n_rules; i++) {
    const cJSON *spec = app->rules[i].spec;
    int from;

    if (!cJSON_GetObjectItemCaseSensitive(spec, "EventPattern"))
      continue; /* a schedule: nothing puts its events */
    from = node(g, N_BUS, bus_of(lk_json_str(spec, "EventBusName")), -1);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(spec, "Targets")) {
      const char *arn = lk_json_str(t, "Arn");

      if (arn == NULL)
        continue;
      if (strncmp(arn, "arn:aws:lambda:", 15) == 0 &&
          (to = fn_node(g, arn)) >= 0)
        edge(g, from, to, 0, "rule target");
      else if (strncmp(arn, "arn:aws:sqs:", 12) == 0)
        edge(g, from, node(g, N_SQS, arn_name(arn), -1), 0, "rule target");
      else if (strncmp(arn, "arn:aws:sns:", 12) == 0)
        edge(g, from, node(g, N_SNS, arn_name(arn), -1), 0, "rule target");
    }
  }
}

static void add_triggers(graph_t *g) {
  const lk_app_t *app = g->app;
  const cJSON *ev, *c;
  int i;

  for (i = 0; i < app->n_functions; i++) {
    const lk_function_t *f = &app->functions[i];

    cJSON_ArrayForEach(ev, f->events) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      const char *type = lk_json_str(ev, "Type");
      const char *bucket = lk_json_str(p, "Bucket"),
                 *queue = lk_json_str(p, "Queue");
      const char *group = lk_json_str(p, "LogGroupName");
      const char *stream = lk_json_str(p, "Stream");
      char why[NAME_MAX_LEN], table[NAME_MAX_LEN];

      if (type == NULL)
        continue;
      snprintf(why, sizeof(why), "event %s", ev->string ? ev->string : type);
      if (strcmp(type, "S3") == 0 && bucket)
        key_rules(cJSON_GetObjectItemCaseSensitive(p, "Filter"),
                  edge(g, node(g, N_S3, bucket, -1), i, 0, why));
      else if (strcmp(type, "SQS") == 0 && queue)
        edge(g, node(g, N_SQS, arn_name(queue), -1), i, 0, why);
      else if (strcmp(type, "CloudWatchLogs") == 0 && group)
        edge(g, node(g, N_LOGS, group, -1), i, 0, why);
      else if (strcmp(type, "DynamoDB") == 0 && stream &&
               arn_named(stream, "table", table, sizeof(table)) == 0)
        edge(g, node(g, N_DDB, table, -1), i, 0, why);
      else if (strcmp(type, "Kinesis") == 0 && stream &&
               arn_named(stream, "stream", table, sizeof(table)) == 0)
        edge(g, node(g, N_KIN, table, -1), i, 0, why);
      else if (strcmp(type, "SNS") == 0 && lk_json_str(p, "Topic"))
        edge(g, node(g, N_SNS, arn_name(lk_json_str(p, "Topic")), -1), i, 0,
             why);
      else if ((strcmp(type, "EventBridgeRule") == 0 ||
                strcmp(type, "CloudWatchEvent") == 0) &&
               cJSON_GetObjectItemCaseSensitive(p, "Pattern"))
        edge(g, node(g, N_BUS, bus_of(lk_json_str(p, "EventBusName")), -1), i,
             0, why);
    }
  }
  add_sns_subscriptions(g);
  add_rule_targets(g);
  for (i = 0; i < app->n_buckets; i++)
    cJSON_ArrayForEach(
        c, cJSON_GetObjectItemCaseSensitive(app->buckets[i].notification,
                                            "LambdaConfigurations")) {
      int to = fn_node(g, lk_json_str(c, "Function"));

      if (to >= 0)
        key_rules(cJSON_GetObjectItemCaseSensitive(c, "Filter"),
                  edge(g, node(g, N_S3, app->buckets[i].name, -1), to, 0,
                       "bucket notification"));
    }
  for (i = 0; i < app->n_subscriptions; i++) {
    const lk_subscription_t *s = &app->subscriptions[i];
    int to = fn_node(g, s->destination_arn);

    if (to >= 0 && s->log_group)
      edge(g, node(g, N_LOGS, s->log_group, -1), to, 0, "subscription filter");
  }
}

/* A write the policies allow: to every resource of the kind whose name
 * matches the pattern (IAM's * and ?), or to the one it names. */
static void add_write(graph_t *g, int fn, int kind, const char *name,
                      const char *key, const char *why) {
  int i, matched = 0, n = g->n_nodes;

  for (i = 0; i < n; i++) {
    edge_t *e;

    if (g->nodes[i].kind != kind || fnmatch(name, g->nodes[i].name, 0) != 0)
      continue;
    matched = 1;
    e = edge(g, fn, i, 1, why);
    if (e && key)
      lk_str_copy(e->key, sizeof(e->key), key);
    if (e) /* a pattern's edges are possible ones */
      e->wild = strpbrk(name, "*?") != NULL;
  }
  if (!matched && strpbrk(name, "*?") == NULL) {
    edge_t *e = edge(g, fn, node(g, kind, name, -1), 1, why);

    if (e && key)
      lk_str_copy(e->key, sizeof(e->key), key);
  }
}

/* Does the action pattern of a statement cover the concrete action? */
static int covers(const cJSON *actions, const char *action) {
  const cJSON *a;

  cJSON_ArrayForEach(a, actions) {
    if (fnmatch(a->valuestring, action, FNM_CASEFOLD) == 0)
      return 1;
  }
  return 0;
}

/* What one resource pattern of a statement lets a write reach. */
static void statement_writes(graph_t *g, int fn, const cJSON *actions,
                             const char *res, const char *why) {
  if (covers(actions, "s3:PutObject")) {
    char bucket[NAME_MAX_LEN];
    const char *key = "*";

    if (strncmp(res, "arn:aws:s3:::", 13) == 0) {
      const char *slash = strchr(res + 13, '/');
      size_t n = slash ? (size_t)(slash - res - 13) : strlen(res + 13);

      if (slash == NULL && strchr(res + 13, '*') == NULL)
        n = 0; /* a bucket ARN: PutObject needs an object ARN */
      snprintf(bucket, sizeof(bucket), "%.*s", (int)n, res + 13);
      key = slash ? slash + 1 : "*";
    } else {
      snprintf(bucket, sizeof(bucket), "%s", strcmp(res, "*") ? "" : "*");
    }
    if (bucket[0])
      add_write(g, fn, N_S3, bucket, key, why);
  }
  if (covers(actions, "sqs:SendMessage") &&
      (strcmp(res, "*") == 0 || strncmp(res, "arn:aws:sqs:", 12) == 0))
    add_write(g, fn, N_SQS, arn_name(res), NULL, why);
  if (covers(actions, "events:PutEvents") &&
      (strcmp(res, "*") == 0 || strncmp(res, "arn:aws:events:", 15) == 0))
    add_write(g, fn, N_BUS,
              strcmp(res, "*") == 0 ? "*"
              : strchr(res, '/')    ? strrchr(res, '/') + 1
                                    : "*",
              NULL, why);
  if (covers(actions, "sns:Publish") &&
      (strcmp(res, "*") == 0 || strncmp(res, "arn:aws:sns:", 12) == 0))
    add_write(g, fn, N_SNS, arn_name(res), NULL, why);
  if (covers(actions, "dynamodb:PutItem") ||
      covers(actions, "dynamodb:UpdateItem") ||
      covers(actions, "dynamodb:DeleteItem") ||
      covers(actions, "dynamodb:BatchWriteItem")) {
    char table[NAME_MAX_LEN];

    /* an index or stream ARN takes no write */
    if (strcmp(res, "*") == 0)
      add_write(g, fn, N_DDB, "*", NULL, why);
    else if (strncmp(res, "arn:aws:dynamodb:", 17) == 0 &&
             arn_named(res, "table", table, sizeof(table)) == 0 &&
             strchr(strstr(res, ":table/") + 7, '/') == NULL)
      add_write(g, fn, N_DDB, table, NULL, why);
  }
  if (covers(actions, "kinesis:PutRecord") ||
      covers(actions, "kinesis:PutRecords")) {
    char stream[NAME_MAX_LEN];

    if (strcmp(res, "*") == 0)
      add_write(g, fn, N_KIN, "*", NULL, why);
    else if (strncmp(res, "arn:aws:kinesis:", 16) == 0 &&
             arn_named(res, "stream", stream, sizeof(stream)) == 0)
      add_write(g, fn, N_KIN, stream, NULL, why);
  }
  if (covers(actions, "lambda:InvokeFunction") &&
      (strcmp(res, "*") == 0 || strncmp(res, "arn:aws:lambda:", 15) == 0)) {
    const char *f = strstr(res, ":function:");
    char name[NAME_MAX_LEN];
    size_t n;

    snprintf(name, sizeof(name), "%s", f ? f + 10 : "*");
    if (strchr(name, ':'))
      *strchr(name, ':') = '\0'; /* a qualifier */
    /* "name*" (LambdaInvokePolicy's) is that function with its
     * versions and aliases, when a function has that name */
    n = strlen(name);
    if (n > 1 && name[n - 1] == '*' && strcspn(name, "*?") == n - 1) {
      name[n - 1] = '\0';
      if (lk_app_function(g->app, name) == NULL)
        name[n - 1] = '*';
    }
    add_write(g, fn, N_FN, name, NULL, why);
  }
}

/* A resource pattern that names every bucket, queue or function: "*", or
 * an ARN whose name part is only wildcards. */
static int every(const char *res) {
  const char *name = strstr(res, ":function:");
  const char *table = strstr(res, ":table/");
  const char *stream = strstr(res, ":stream/");
  size_t n;

  if (name)
    name += 10;
  else if (table)
    name = table + 7;
  else if (stream)
    name = stream + 8;
  else if (strncmp(res, "arn:aws:s3:::", 13) == 0)
    name = res + 13;
  else
    name = arn_name(res);
  n = strcspn(name, "/"); /* S3: the bucket part */
  return n > 0 && strspn(name, "*") >= n;
}

/* Why a statement is wider than any code needs, or NULL. */
static const char *too_wide(const cJSON *st, char *why, size_t cap) {
  const cJSON *acts = cJSON_GetObjectItem(st, "Action"), *a, *r;
  static const char *const writes[] = {
      "s3:PutObject",     "sqs:SendMessage", "lambda:InvokeFunction",
      "dynamodb:PutItem", "sns:Publish",     "kinesis:PutRecord"};
  static const char *const kinds[] = {"bucket", "queue", "function",
                                      "table",  "topic", "stream"};
  int any_res = 0, all_res = 0;
  size_t k;

  cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "Resource")) {
    any_res = any_res || strcmp(r->valuestring, "*") == 0;
    all_res = all_res || every(r->valuestring);
  }
  cJSON_ArrayForEach(a, acts) {
    size_t n = strlen(a->valuestring);

    if (strcmp(a->valuestring, "*") == 0) {
      snprintf(why, cap, "allows every action%s",
               any_res ? " on every resource" : "");
      return why;
    }
    if (any_res && n > 2 && strcmp(a->valuestring + n - 2, ":*") == 0) {
      snprintf(why, cap, "allows %s on every resource", a->valuestring);
      return why;
    }
  }
  for (k = 0; all_res && k < sizeof(writes) / sizeof(writes[0]); k++)
    if (covers(acts, writes[k])) {
      snprintf(why, cap, "allows %s on every %s", writes[k], kinds[k]);
      return why;
    }
  return NULL;
}

/* Each item of a function's Policies, read as lambkin policy reads it
 * (lk_policy_statements): what it lets the function write, and at most
 * one broad-policy finding. */
static void add_writes(graph_t *g) {
  const lk_app_t *app = g->app;
  const cJSON *p, *st, *r;
  char group[NAME_MAX_LEN], why[256];
  int i;

  for (i = 0; i < app->n_functions; i++) {
    const lk_function_t *f = &app->functions[i];

    snprintf(group, sizeof(group), "/aws/lambda/%s", f->name);
    edge(g, i, node(g, N_LOGS, group, -1), 1, "its own log");
    cJSON_ArrayForEach(p, f->policies) {
      const char *label = "";
      cJSON *all = lk_policy_statements(p, &label);
      int flagged = 0;

      cJSON_ArrayForEach(st, all) {
        if (!flagged && too_wide(st, why, sizeof(why))) {
          finding(g, "broad-policy", "warning", f, f->line, "%s %s", label,
                  why);
          flagged = 1;
        }
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(st, "Resource")) {
          statement_writes(g, i, cJSON_GetObjectItem(st, "Action"),
                           r->valuestring, label);
        }
      }
      cJSON_Delete(all);
    }
  }
}

/* ---- loops ---- */

/* Can a key written under the glob pattern land under the trigger's
 * prefix and suffix? Only the literal ends of the pattern are compared. */
static int keys_overlap(const char *glob, const char *pre, const char *suf) {
  size_t lp = strcspn(glob, "*?"), n = strlen(glob), ls;
  const char *last = glob + n;

  if (lp == n) /* no wildcard: one key */
    return strncmp(glob, pre, strlen(pre)) == 0 && n >= strlen(suf) &&
           strcmp(glob + n - strlen(suf), suf) == 0;
  if (strncmp(glob, pre, lp < strlen(pre) ? lp : strlen(pre)) != 0)
    return 0;
  while (last > glob && last[-1] != '*' && last[-1] != '?')
    last--;
  ls = strlen(last);
  if (ls > strlen(suf))
    return strcmp(last + ls - strlen(suf), suf) == 0;
  return strcmp(suf + strlen(suf) - ls, last) == 0;
}

static double fn_hop_usd(const lk_function_t *f) {
  return USD_PER_REQUEST + f->memory_mb / 1024.0 * USD_PER_GB_S;
}

static double node_usd(const graph_t *g, const node_t *n) {
  static const double per_kind[] = {[N_S3] = USD_PER_S3_PUT,
                                    [N_SQS] = 3 * USD_PER_SQS_REQUEST,
                                    [N_LOGS] = 0,
                                    [N_DDB] = USD_PER_DDB_WRITE,
                                    [N_SNS] = USD_PER_SNS_PUBLISH,
                                    [N_BUS] = USD_PER_EVENT,
                                    [N_KIN] = USD_PER_KINESIS_PUT};

  return n->kind == N_FN ? fn_hop_usd(&g->app->functions[n->fn])
                         : per_kind[n->kind];
}

/* The cycle on the search's path: kept once (two grants of one write
 * make two edges, not two cycles), the shortest remembered. */
static void record_cycle(graph_t *g) {
  char path[2048];
  const cJSON *seen;
  size_t o = 0;
  double usd = 0;
  int i, first = -1;

  for (i = 0; i < g->depth; i++) {
    const node_t *n = &g->nodes[g->path[i]];

    o += (size_t)snprintf(path + o, o < sizeof(path) ? sizeof(path) - o : 0,
                          "%s%s%s", i ? " -> " : "", kind_prefix(n->kind),
                          n->name);
    usd += node_usd(g, n);
    if (n->kind == N_FN && first < 0)
      first = n->fn;
    if (g->definite_only)
      g->edges[g->path_edge[i]].in_loop = 1;
  }
  snprintf(path + o, o < sizeof(path) ? sizeof(path) - o : 0, " -> %s",
           g->nodes[g->path[0]].name);
  cJSON_ArrayForEach(seen, g->cycles) {
    if (strcmp(seen->valuestring, path) == 0)
      return;
  }
  cJSON_AddItemToArray(g->cycles, cJSON_CreateString(path));
  if (g->best[0] == '\0' || g->depth < g->best_depth) {
    lk_str_copy(g->best, sizeof(g->best), path);
    g->best_depth = g->depth;
    g->best_fn = first;
    g->best_usd = usd;
  }
}

/* Simple cycles through the start function inside its component, each
 * found once: only from its lowest-numbered function. in: the edge that
 * reached at. */
static void search(graph_t *g, int start, int at, const edge_t *in) {
  int i;

  for (i = 0; i < g->n_edges && g->n_cycles < MAX_CYCLES; i++) {
    const edge_t *e = &g->edges[i];
    const node_t *to = &g->nodes[e->to];

    if (e->from != at || ++g->steps > MAX_STEPS ||
        g->comp[e->to] != g->in_comp || (g->definite_only && e->wild))
      continue;
    if (g->nodes[at].kind == N_S3 && in && in->write && !e->write &&
        !keys_overlap(in->key, e->pre, e->suf))
      continue;
    if (to->kind == N_FN && to->fn < g->nodes[start].fn)
      continue;
    g->path_edge[g->depth - 1] = i;
    if (e->to == start) {
      record_cycle(g);
      g->n_cycles++;
      continue;
    }
    if (g->on_path[e->to] || g->depth == MAX_NODES)
      continue;
    g->on_path[e->to] = 1;
    g->path[g->depth++] = e->to;
    search(g, start, e->to, e);
    g->depth--;
    g->on_path[e->to] = 0;
  }
}

/* Tarjan's strongly connected components over every edge. */
static void strong(graph_t *g, int v) {
  int i, w;

  g->index[v] = g->low[v] = ++g->n_index;
  g->stack[g->sp++] = v;
  g->on_stack[v] = 1;
  for (i = 0; i < g->n_edges; i++) {
    if (g->edges[i].from != v)
      continue;
    w = g->edges[i].to;
    if (g->index[w] == 0) {
      strong(g, w);
      if (g->low[w] < g->low[v])
        g->low[v] = g->low[w];
    } else if (g->on_stack[w] && g->index[w] < g->low[v]) {
      g->low[v] = g->index[w];
    }
  }
  if (g->low[v] != g->index[v])
    return;
  do {
    w = g->stack[--g->sp];
    g->on_stack[w] = 0;
    g->comp[w] = g->n_comps;
  } while (w != v);
  g->n_comps++;
}

/* The component's cycles (definite ones only, or all) into g->cycles,
 * the shortest into g->best. */
static void component_cycles(graph_t *g, int c, int definite_only) {
  int i;

  cJSON_Delete(g->cycles);
  g->cycles = cJSON_CreateArray();
  g->best[0] = '\0';
  g->in_comp = c;
  g->definite_only = definite_only;
  g->n_cycles = 0;
  g->steps = 0;
  for (i = 0; i < g->n_nodes; i++) {
    if (g->comp[i] != c || g->nodes[i].kind != N_FN)
      continue;
    memset(g->on_path, 0, sizeof(g->on_path));
    g->path[0] = i;
    g->on_path[i] = 1;
    g->depth = 1;
    search(g, i, i, NULL);
  }
}

/* A long chain keeps its two ends: text lines stay about 200 wide. */
static void shorten(const char *path, char *out, size_t cap) {
  const char *second, *cut;
  size_t n = strlen(path);

  if (n <= 100) {
    lk_str_copy(out, cap, path);
    return;
  }
  second = strstr(path, " -> ");
  second = second ? strstr(second + 4, " -> ") : NULL;
  cut = path + n;
  while (cut > path && n - (size_t)(cut - path) < 40)
    cut--;
  cut = strstr(cut, " -> ");
  if (second == NULL || cut == NULL || cut <= second) {
    snprintf(out, cap, "%.*s ...", 110, path);
    return;
  }
  snprintf(out, cap, "%.*s -> ... %s", (int)(second - path), path, cut);
}

/* The grants behind the component's possible edges, ", "-joined. */
static void wild_grants(const graph_t *g, int c, char *out, size_t cap) {
  size_t o = 0;
  int i, j, n = 0;

  out[0] = '\0';
  for (i = 0; i < g->n_edges && n < 4; i++) {
    const edge_t *e = &g->edges[i];

    if (!e->wild || g->comp[e->from] != c || g->comp[e->to] != c)
      continue;
    for (j = 0; j < i; j++) /* named once */
      if (g->edges[j].wild && g->comp[g->edges[j].from] == c &&
          g->comp[g->edges[j].to] == c && strcmp(g->edges[j].why, e->why) == 0)
        break;
    if (j < i)
      continue;
    o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", n ? ", " : "",
                          e->why);
    n++;
  }
}

static int count_functions(const graph_t *g, int c, cJSON *names) {
  int i, n = 0;

  for (i = 0; i < g->n_nodes; i++)
    if (g->comp[i] == c && g->nodes[i].kind == N_FN) {
      cJSON_AddItemToArray(names, cJSON_CreateString(g->nodes[i].name));
      n++;
    }
  return n;
}

static cJSON *last_finding(const graph_t *g) {
  return cJSON_GetArrayItem(g->findings, cJSON_GetArraySize(g->findings) - 1);
}

/* One component's findings: a definite loop (every edge an event and a
 * write its grant names) is an error with its shortest cycle; cycles
 * that need a wildcard grant make one warning that names the grants. */
static void report_component(graph_t *g, int c) {
  cJSON *definite, *all, *names = cJSON_CreateArray(), *it, *f;
  char short_path[400], grants[600];
  int n_fn = count_functions(g, c, names), n_def, n_more = 0;

  component_cycles(g, c, 1);
  definite = g->cycles;
  g->cycles = NULL;
  n_def = cJSON_GetArraySize(definite);
  if (n_def) {
    const lk_function_t *fn = &g->app->functions[g->best_fn];

    g->looped[c] = 1;
    shorten(g->best, short_path, sizeof(short_path));
    finding(g, "loop", "error", fn, fn->line,
            "self-invocation loop: %s (about $%.2f a day for one chain at "
            "one hop per second)%s",
            short_path, g->best_usd * 86400,
            n_def > 1 ? "; more in --json" : "");
    f = last_finding(g);
    cJSON_AddStringToObject(f, "cycle", g->best);
    cJSON_AddNumberToObject(f, "usd_per_day", g->best_usd * 86400);
    cJSON_AddStringToObject(f, "certainty", "definite");
    cJSON_AddItemToObject(f, "functions", cJSON_Duplicate(names, 1));
    cJSON_AddItemToObject(f, "cycles", cJSON_Duplicate(definite, 1));
  }
  component_cycles(g, c, 0);
  all = g->cycles;
  g->cycles = NULL;
  g->best[0] = '\0';
  cJSON_ArrayForEach(it, all) { /* the cycles a wildcard opens */
    const cJSON *d;
    int known = 0;

    cJSON_ArrayForEach(d, definite) {
      known = known || strcmp(d->valuestring, it->valuestring) == 0;
    }
    if (known)
      continue;
    n_more++;
    if (g->best[0] == '\0' || strlen(it->valuestring) < strlen(g->best))
      lk_str_copy(g->best, sizeof(g->best), it->valuestring);
  }
  if (n_more) {
    char first[NAME_MAX_LEN];
    const lk_function_t *fn;

    /* a cycle starts at a function: its name is the first hop */
    snprintf(first, sizeof(first), "%.*s", (int)strcspn(g->best, " "), g->best);
    fn = lk_app_function(g->app, first);
    g->looped[c] = 1;
    wild_grants(g, c, grants, sizeof(grants));
    shorten(g->best, short_path, sizeof(short_path));
    finding(g, "possible-loop", "warning", fn, fn->line,
            "possible loop through %d function(s) via wildcard grants "
            "(%s): %s%s; scope them to close it%s",
            n_fn, grants, short_path, n_more > 1 ? " and more" : "",
            g->observed ? " (none of these writes was seen)" : "");
    f = last_finding(g);
    cJSON_AddStringToObject(f, "cycle", g->best);
    cJSON_AddStringToObject(f, "certainty", "possible");
    cJSON_AddStringToObject(f, "grants", grants);
    cJSON_AddItemToObject(f, "functions", cJSON_Duplicate(names, 1));
    cJSON_AddItemToObject(f, "cycles", cJSON_Duplicate(all, 1));
  }
  cJSON_Delete(definite);
  cJSON_Delete(all);
  cJSON_Delete(names);
}

/* One finding per strongly connected component that holds a cycle
 * through a function, however many cycles it holds. */
static void find_loops(graph_t *g) {
  int i, c;

  for (i = 0; i < g->n_nodes; i++)
    if (g->index[i] == 0)
      strong(g, i);
  for (c = 0; c < g->n_comps; c++) {
    for (i = 0; i < g->n_nodes; i++)
      if (g->comp[i] == c && g->nodes[i].kind == N_FN)
        break;
    if (i < g->n_nodes)
      report_component(g, c);
  }
}

/* ---- what lambkin saw ---- */

/* The node a write names: an observed action on a resource ARN. -1
 * when it is no write the graph draws. */
static int written(graph_t *g, const char *action, const char *res) {
  char name[NAME_MAX_LEN];
  const char *p;

  if (strcmp(action, "s3:PutObject") == 0 &&
      strncmp(res, "arn:aws:s3:::", 13) == 0) {
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(res + 13, "/"), res + 13);
    return node(g, N_S3, name, -1);
  }
  if (strncmp(action, "sqs:SendMessage", 15) == 0)
    return node(g, N_SQS, arn_name(res), -1);
  if (strcmp(action, "sns:Publish") == 0)
    return node(g, N_SNS, arn_name(res), -1);
  if (strcmp(action, "lambda:InvokeFunction") == 0 &&
      (p = strstr(res, ":function:")) != NULL) {
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(p + 10, ":"), p + 10);
    return fn_node(g, name);
  }
  if ((strcmp(action, "dynamodb:PutItem") == 0 ||
       strcmp(action, "dynamodb:UpdateItem") == 0 ||
       strcmp(action, "dynamodb:DeleteItem") == 0 ||
       strcmp(action, "dynamodb:BatchWriteItem") == 0) &&
      arn_named(res, "table", name, sizeof(name)) == 0)
    return node(g, N_DDB, name, -1);
  if (strncmp(action, "kinesis:PutRecord", 17) == 0 &&
      arn_named(res, "stream", name, sizeof(name)) == 0)
    return node(g, N_KIN, name, -1);
  if (strcmp(action, "events:PutEvents") == 0 &&
      (p = strstr(res, ":event-bus/")) != NULL)
    return node(g, N_BUS, p + 11, -1);
  return -1;
}

/* A write lambkin saw a function make is definite: its edge stops being
 * a possible one (or is drawn, when no policy of the template grants
 * it). */
static void add_observed(graph_t *g) {
  const cJSON *fn, *res, *act;
  int i;

  cJSON_ArrayForEach(fn, g->observed) {
    int from = fn_node(g, fn->string);

    cJSON_ArrayForEach(res, fn) {
      cJSON_ArrayForEach(act, res) {
        int to = from < 0 || !cJSON_IsString(act)
                     ? -1
                     : written(g, act->valuestring, res->string);
        int found = 0;

        for (i = 0; to >= 0 && i < g->n_edges; i++)
          if (g->edges[i].from == from && g->edges[i].to == to &&
              g->edges[i].write) {
            g->edges[i].seen = 1;
            g->edges[i].wild = 0;
            found = 1;
          }
        if (to >= 0 && !found) {
          edge_t *e = edge(g, from, to, 1, "observed call");

          if (e)
            e->seen = 1;
        }
      }
    }
  }
}

/* ---- limits ---- */

static const char *on_failure_of(const cJSON *p) {
  const cJSON *dc = cJSON_GetObjectItemCaseSensitive(p, "DestinationConfig");

  return lk_json_str(cJSON_GetObjectItemCaseSensitive(dc, "OnFailure"),
                     "Destination");
}

#define KIND(k) (1u << (k))

/* Run by a resource of one of the kinds (a mask of KIND()s). */
static int triggered_by(const graph_t *g, int fn, unsigned kinds) {
  int i;

  for (i = 0; i < g->n_edges; i++)
    if (!g->edges[i].write && g->nodes[g->edges[i].to].fn == fn &&
        (kinds & KIND(g->nodes[g->edges[i].from].kind)))
      return 1;
  return 0;
}

static void check_limits(graph_t *g) {
  const lk_app_t *app = g->app;
  const cJSON *ev;
  int i;

  for (i = 0; i < app->n_functions; i++) {
    const lk_function_t *f = &app->functions[i];
    const cJSON *on_failure =
        cJSON_GetObjectItemCaseSensitive(f->destinations, "OnFailure");

    /* Only where no caller waits: an event source runs it, so a loop or
     * a burst has nothing else to slow it down. A stream runs one batch
     * per shard at a time: it bounds itself. */
    if (f->reserved_concurrency < 0 &&
        triggered_by(g, i,
                     KIND(N_S3) | KIND(N_SQS) | KIND(N_LOGS) | KIND(N_SNS) |
                         KIND(N_BUS)))
      finding(g, "no-concurrency-limit", "warning", f, f->line,
              "no ReservedConcurrentExecutions: nothing but the account's "
              "limit bounds how many copies a loop or a burst runs");
    /* Pollers invoke synchronously and keep what failed themselves. */
    if (triggered_by(g, i,
                     KIND(N_S3) | KIND(N_LOGS) | KIND(N_SNS) | KIND(N_BUS)) &&
        f->dlq_type == NULL && on_failure == NULL)
      finding(g, "no-dead-letter", "warning", f, f->line,
              "invoked asynchronously but has no DeadLetterQueue or "
              "OnFailure destination: an event that fails 3 times is lost");
    cJSON_ArrayForEach(ev, f->events) {
      const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
      const char *type = lk_json_str(ev, "Type"), *q = lk_json_str(p, "Queue");
      int k;

      if (type &&
          (strcmp(type, "DynamoDB") == 0 || strcmp(type, "Kinesis") == 0) &&
          lk_json_long(p, "MaximumRetryAttempts", -1) < 0 &&
          on_failure_of(p) == NULL)
        finding(g, "no-retry-limit", "warning", f, f->line,
                "event %s has neither MaximumRetryAttempts nor an OnFailure "
                "destination: a record that keeps failing blocks its "
                "shard for up to 24 hours",
                ev->string ? ev->string : type);
      if (type == NULL || strcmp(type, "SQS") != 0 || q == NULL)
        continue;
      for (k = 0; k < app->n_queues; k++)
        if (strcmp(app->queues[k].name, arn_name(q)) == 0 &&
            app->queues[k].dlq_arn == NULL)
          finding(g, "no-redrive", "warning", f, app->queues[k].line,
                  "queue %s has no RedrivePolicy: a message that keeps "
                  "failing comes back until its retention ends",
                  app->queues[k].name);
    }
  }
}

static graph_t *build(const lk_app_t *app, const cJSON *observed) {
  graph_t *g = lk_xcalloc(1, sizeof(*g));
  int i;

  g->app = app;
  g->observed = observed;
  g->findings = cJSON_CreateArray();
  for (i = 0; i < app->n_functions; i++)
    node(g, N_FN, app->functions[i].name, i);
  for (i = 0; i < app->n_buckets; i++)
    node(g, N_S3, app->buckets[i].name, -1);
  for (i = 0; i < app->n_queues; i++)
    node(g, N_SQS, app->queues[i].name, -1);
  for (i = 0; i < app->n_log_groups; i++)
    node(g, N_LOGS, app->log_groups[i].name, -1);
  for (i = 0; i < app->n_tables; i++)
    node(g, N_DDB, app->tables[i].name, -1);
  for (i = 0; i < app->n_topics; i++)
    node(g, N_SNS, app->topics[i].name, -1);
  for (i = 0; i < app->n_buses; i++)
    node(g, N_BUS, app->buses[i].name, -1);
  for (i = 0; i < app->n_kstreams; i++)
    node(g, N_KIN, app->kstreams[i].name, -1);
  add_triggers(g);
  add_writes(g);
  add_observed(g);
  find_loops(g);
  check_limits(g);
  return g;
}

cJSON *lk_check_app(const lk_app_t *app, const cJSON *observed) {
  graph_t *g = build(app, observed);
  cJSON *out;

  out = g->findings;
  free(g);
  return out;
}

/* ---- output ---- */

static void dot_id(FILE *out, const node_t *n) {
  const char *p;

  fprintf(out, "\"%s", kind_prefix(n->kind));
  for (p = n->name; *p; p++)
    fprintf(out, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
  fputc('"', out);
}

/* A function's write to its own log group matters only when a
 * subscription on that group runs something: then it can close a loop. */
static int runs_something(const graph_t *g, int node) {
  int i;

  for (i = 0; i < g->n_edges; i++)
    if (g->edges[i].from == node)
      return 1;
  return 0;
}

static int drawn(const graph_t *g, const edge_t *e) {
  return strcmp(e->why, "its own log") != 0 || runs_something(g, e->to);
}

static void dot_node(FILE *out, const graph_t *g, int i, const char *indent) {
  fputs(indent, out);
  dot_id(out, &g->nodes[i]);
  fprintf(out, " [shape=%s];\n", g->nodes[i].kind == N_FN ? "box" : "ellipse");
}

/* Each component with a loop is a cluster; definite cycles are red and
 * the edges only a wildcard grant opens are dashed. */
void lk_check_dot(const lk_app_t *app, const cJSON *observed, FILE *out) {
  graph_t *g = build(app, observed);
  int i, c, k;

  fprintf(out, "digraph lambkin {\n  rankdir=LR;\n");
  for (c = 0, k = 0; c < g->n_comps; c++) {
    if (!g->looped[c])
      continue;
    fprintf(out, "  subgraph cluster_%d {\n    label=\"loop %d\";\n", k, k + 1);
    for (i = 0; i < g->n_nodes; i++)
      if (g->comp[i] == c)
        dot_node(out, g, i, "    ");
    fprintf(out, "  }\n");
    k++;
  }
  for (i = 0; i < g->n_nodes; i++)
    if (!g->looped[g->comp[i]] &&
        (g->nodes[i].kind != N_LOGS ||
         strncmp(g->nodes[i].name, "/aws/lambda/", 12) != 0 ||
         runs_something(g, i)))
      dot_node(out, g, i, "  ");
  for (i = 0; i < g->n_edges; i++) {
    const edge_t *e = &g->edges[i];

    if (!drawn(g, e))
      continue;
    fputs("  ", out);
    dot_id(out, &g->nodes[e->from]);
    fputs(" -> ", out);
    dot_id(out, &g->nodes[e->to]);
    fprintf(out, " [label=\"%s\"%s%s];\n", e->why,
            e->wild ? ",style=dashed" : "", e->in_loop ? ",color=red" : "");
  }
  fprintf(out, "}\n");
  cJSON_Delete(g->findings);
  free(g);
}
