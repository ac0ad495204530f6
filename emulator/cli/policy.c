/* `lambkin policy [-t template.yaml] [--state DIR]`: for each function the
 * journal saw make service calls, the least-privilege policy document
 * (on stdout, one JSON object keyed by function), then on stderr each
 * call its template Policies would refuse in AWS and each policy item
 * that no observed call used. Everything it builds is freed before it
 * returns. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "fs.h"
#include "iam.h"

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

/* Each used call the template's Policies would refuse; how many. */
static int refusals(const lk_function_t *f, const cJSON *uses) {
  const cJSON *r, *a;
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
  return refused;
}

/* Each policy item that no observed call used. */
static void unused_items(const lk_function_t *f, const cJSON *uses) {
  const cJSON *r, *a, *item;
  const char *label;
  int used;

  cJSON_ArrayForEach(item, f->policies) {
    label = "";
    used = 0;
    cJSON_ArrayForEach(r, uses) {
      cJSON_ArrayForEach(a, r) {
        used = used ||
               lk_policy_item_grants(item, a->valuestring, r->string, &label);
      }
    }
    if (!used)
      fprintf(stderr, "%s: %s grants what no observed call used\n", f->name,
              label[0] ? label : "a policy");
  }
}

int lk_cmd_policy(int argc, char **argv) {
  const char *path = "template.yaml", *state = ".lambkin";
  lk_app_opts_t ao = {0};
  const lk_opt_t opts[] = {
      {"template", 't', LK_OPT_STR, &path, 0, 0, NULL, NULL},
      LK_CLI_APP_OPTS(&ao),
      {"state", 0, LK_OPT_STR, &state, 0, 0, NULL, NULL},
  };
  const lk_function_t *f;
  lk_app_t *app;
  lk_args_t a;
  cJSON *all, *out, *uses;
  char *text;
  int refused = 0;

  if (lk_args_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]), &a) ||
      a.n_pos) {
    fprintf(stderr, "usage: lambkin policy [-t template.yaml] "
                    "[--state DIR]\n");
    return 2;
  }
  app = lk_cli_load(path, &ao, NULL);
  if (app == NULL)
    return 2;
  all = lk_cli_observed(state);
  out = cJSON_CreateObject();
  cJSON_ArrayForEach(uses, all) {
    cJSON_AddItemToObject(out, uses->string, document(uses));
    f = lk_app_function(app, uses->string);
    if (f) {
      refused += refusals(f, uses);
      unused_items(f, uses);
    }
  }
  text = cJSON_Print(out);
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
