/* `lambkin policy [-t template.yaml] [--state DIR]`: for each function the
 * journal saw make service calls, the least-privilege policy document
 * (on stdout, one JSON object keyed by function), then on stderr each
 * call its template Policies would refuse in AWS and each policy item
 * that no observed call used. Everything it builds is freed before it
 * returns. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lambkin/lambkin.h"
#include "policy_cmd.h"

#define LINE_MAX_BYTES (16 * 1024 * 1024)

/* What a SAM policy template grants, on {} (its one parameter). */
static const struct sam {
  const char *name, *param, *resource[2];
  const char *actions[8];
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
      for (k = 0; k < 8 && sam[i].actions[k]; k++)
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

/* Does one item of a function's Policies allow the call? Its label goes
 * to *label. */
static int item_grants(const cJSON *item, const char *action,
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
  yes = item_grants(basic, action, resource, &label);
  cJSON_Delete(basic);
  for (item = f->policies ? f->policies->child : NULL; item && !yes;
       item = item->next)
    yes = item_grants(item, action, resource, &label);
  if (yes && by)
    *by = label;
  return yes;
}

/* {function: {resource: [actions]}} from the journal's access records. */
static cJSON *observed(const char *state) {
  char path[4096];
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  cJSON *all = cJSON_CreateObject();
  FILE *f;

  snprintf(path, sizeof(path), "%s/journal.jsonl", state);
  f = fopen(path, "r");
  if (f == NULL)
    return all;
  for (n = getline(&line, &cap, f); n > 0; n = getline(&line, &cap, f)) {
    cJSON *rec, *fn, *res, *acts, *a;
    const char *name, *action, *resource;

    if (n > LINE_MAX_BYTES || strstr(line, "\"type\":\"access\"") == NULL)
      continue;
    rec = cJSON_ParseWithLength(line, (size_t)n);
    name = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "function"));
    action = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "action"));
    resource = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "resource"));
    if (name && action && resource) {
      fn = cJSON_GetObjectItemCaseSensitive(all, name);
      fn = fn ? fn : cJSON_AddObjectToObject(all, name);
      res = cJSON_GetObjectItemCaseSensitive(fn, resource);
      acts = res ? res : cJSON_AddArrayToObject(fn, resource);
      cJSON_ArrayForEach(a, acts) {
        if (strcmp(a->valuestring, action) == 0)
          break;
      }
      if (a == NULL)
        cJSON_AddItemToArray(acts, cJSON_CreateString(action));
    }
    cJSON_Delete(rec);
  }
  free(line);
  fclose(f);
  return all;
}

/* The least-privilege document: one statement per resource. */
static cJSON *document(const cJSON *uses) {
  cJSON *doc = cJSON_CreateObject(), *list, *st;
  const cJSON *r;

  cJSON_AddStringToObject(doc, "Version", "2012-10-17");
  list = cJSON_AddArrayToObject(doc, "Statement");
  cJSON_ArrayForEach(r, uses) {
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "Effect", "Allow");
    cJSON_AddItemToObject(st, "Action", cJSON_Duplicate(r, 1));
    cJSON_AddStringToObject(st, "Resource", r->string);
    cJSON_AddItemToArray(list, st);
  }
  return doc;
}

/* Compares what was used with what the template grants; returns how
 * many used calls it would refuse. */
static int compare(const lk_function_t *f, const cJSON *uses) {
  const cJSON *r, *a, *item;
  const char *by;
  int refused = 0;

  cJSON_ArrayForEach(r, uses) {
    cJSON_ArrayForEach(a, r) {
      if (lk_policy_grants(f, a->valuestring, r->string, &by))
        continue;
      fprintf(stderr,
              "%s: %s on %s is not granted by its Policies: AccessDenied "
              "in AWS\n",
              f->name, a->valuestring, r->string);
      refused++;
    }
  }
  cJSON_ArrayForEach(item, f->policies) {
    const char *label = "";
    int used = 0;

    cJSON_ArrayForEach(r, uses) {
      cJSON_ArrayForEach(a, r) {
        used = used || item_grants(item, a->valuestring, r->string, &label);
      }
    }
    if (!used)
      fprintf(stderr, "%s: %s grants what no observed call used\n", f->name,
              label[0] ? label : "a policy");
  }
  return refused;
}

int lk_cmd_policy(int argc, char **argv) {
  const char *path = "template.yaml", *state = ".lambkin";
  char err[2048], *text;
  lk_app_t *app;
  cJSON *all, *out, *uses;
  int i, refused = 0;

  for (i = 2; i < argc; i++) {
    if ((strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--template") == 0) &&
        i + 1 < argc) {
      path = argv[++i];
    } else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
      state = argv[++i];
    } else {
      fprintf(stderr, "usage: lambkin policy [-t template.yaml] "
                      "[--state DIR]\n");
      return 2;
    }
  }
  if (lk_app_load(path, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return 2;
  }
  all = observed(state);
  out = cJSON_CreateObject();
  cJSON_ArrayForEach(uses, all) {
    const lk_function_t *f = lk_app_function(app, uses->string);

    cJSON_AddItemToObject(out, uses->string, document(uses));
    if (f)
      refused += compare(f, uses);
  }
  text = cJSON_Print(out);
  if (text)
    printf("%s\n", text);
  free(text);
  fprintf(stderr,
          "lambkin policy: %d function(s) seen calling AWS, %d call(s) "
          "their Policies would refuse\n",
          cJSON_GetArraySize(all), refused);
  cJSON_Delete(out);
  cJSON_Delete(all);
  lk_app_free(app);
  return refused ? 1 : 0;
}
