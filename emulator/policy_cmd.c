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

/* A resource pattern of a SAM template with its parameter put in. */
static int sam_resource(const char *tpl, const char *v, const char *res) {
  char pat[1024];
  const char *at = strstr(tpl, "{}");

  snprintf(pat, sizeof(pat), "%.*s%s%s", (int)(at - tpl), tpl, v, at + 2);
  return match(pat, res);
}

/* A managed policy (by name or ARN) allows the action? */
static int managed_grants(const char *name, const char *action) {
  size_t i, k;

  if (strrchr(name, '/'))
    name = strrchr(name, '/') + 1;
  for (i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
    if (strcmp(name, managed[i].name) != 0)
      continue;
    for (k = 0; k < 4 && managed[i].actions[k]; k++)
      if (match(managed[i].actions[k], action))
        return 1;
  }
  return 0;
}

static int statement_allows(const cJSON *s, const char *action,
                            const char *resource) {
  const cJSON *e = cJSON_GetObjectItem(s, "Effect");

  return (!cJSON_IsString(e) || strcmp(e->valuestring, "Allow") == 0) &&
         any_match(cJSON_GetObjectItem(s, "Action"), action) &&
         any_match(cJSON_GetObjectItem(s, "Resource"), resource);
}

/* Does one item of a function's Policies allow the call? Its label (the
 * policy's name, or "an inline statement") goes to *label. */
static int item_grants(const cJSON *item, const char *action,
                       const char *resource, const char **label) {
  const cJSON *st, *s, *t;
  size_t i, k;

  if (cJSON_IsString(item)) {
    *label = strrchr(item->valuestring, '/')
                 ? strrchr(item->valuestring, '/') + 1
                 : item->valuestring;
    return managed_grants(item->valuestring, action);
  }
  st = cJSON_GetObjectItemCaseSensitive(item, "Statement");
  if (st) {
    *label = "an inline statement";
    if (cJSON_IsObject(st))
      return statement_allows(st, action, resource);
    cJSON_ArrayForEach(s, st) {
      if (statement_allows(s, action, resource))
        return 1;
    }
    return 0;
  }
  cJSON_ArrayForEach(t, item) {
    for (i = 0; t->string && i < sizeof(sam) / sizeof(sam[0]); i++) {
      const cJSON *v = cJSON_GetObjectItem(t, sam[i].param);

      if (strcmp(t->string, sam[i].name) != 0 || !cJSON_IsString(v))
        continue;
      *label = sam[i].name;
      for (k = 0; k < 8 && sam[i].actions[k]; k++) {
        if (!match(sam[i].actions[k], action))
          continue;
        if (sam_resource(sam[i].resource[0], v->valuestring, resource) ||
            (sam[i].resource[1] &&
             sam_resource(sam[i].resource[1], v->valuestring, resource)))
          return 1;
      }
    }
  }
  return 0;
}

int lk_policy_grants(const lk_app_t *app, const lk_function_t *f,
                     const char *action, const char *resource,
                     const char **by) {
  const cJSON *item;
  const char *label = "";

  (void)app;
  /* SAM gives every function the basic execution role. */
  if (managed_grants("AWSLambdaBasicExecutionRole", action)) {
    if (by)
      *by = "AWSLambdaBasicExecutionRole";
    return 1;
  }
  cJSON_ArrayForEach(item, f->policies) {
    if (item_grants(item, action, resource, &label)) {
      if (by)
        *by = label;
      return 1;
    }
  }
  return 0;
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
static int compare(const lk_app_t *app, const lk_function_t *f,
                   const cJSON *uses) {
  const cJSON *r, *a, *item;
  const char *by;
  int refused = 0;

  cJSON_ArrayForEach(r, uses) {
    cJSON_ArrayForEach(a, r) {
      if (lk_policy_grants(app, f, a->valuestring, r->string, &by))
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
      refused += compare(app, f, uses);
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
