/* `lambkin check [-t template.yaml] [--dot|--json] [--sarif F]`: what the
 * template alone says about loops, limits and policies (graph.h), as
 * lines of text, JSON, a Graphviz graph, and SARIF for code scanning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "graph.h"
#include "json.h"
#include "sarif.h"

/* The rules, for SARIF: id, what it means, level. */
static const char *const rules[][3] = {
    {"loop",
     "A cycle in the trigger graph whose every write its grant names: the "
     "function can run itself",
     "error"},
    {"possible-loop",
     "Cycles in the trigger graph that only wildcard grants open: one "
     "finding per strongly connected component",
     "warning"},
    {"broad-policy", "A policy grants far more than a function needs",
     "warning"},
    {"no-concurrency-limit",
     "An event-run function without ReservedConcurrentExecutions", "warning"},
    {"no-dead-letter",
     "An asynchronously run function without a DLQ or OnFailure destination",
     "warning"},
    {"no-redrive", "An SQS event source without a RedrivePolicy", "warning"},
};

static int line_of(const cJSON *f) {
  return (int)lk_json_long(f, "line", 0);
}

static int write_sarif(const char *out, const char *template_path,
                       const cJSON *all) {
  lk_sarif_t sarif;
  const cJSON *f;
  const char *cycle;
  char msg[1400], key[1400];
  size_t k;
  int err;

  lk_sarif_init(&sarif);
  for (k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
    lk_sarif_rule(&sarif, rules[k][0], rules[k][1], rules[k][2]);
  cJSON_ArrayForEach(f, all) {
    cycle = lk_json_str(f, "cycle");
    snprintf(msg, sizeof(msg), "%s: %s", lk_json_str(f, "function"),
             lk_json_str(f, "message"));
    snprintf(key, sizeof(key), "%s/%s/%s", lk_json_str(f, "rule"),
             lk_json_str(f, "function"), cycle ? cycle : "");
    lk_sarif_result(&sarif, lk_json_str(f, "rule"), lk_json_str(f, "level"),
                    msg, template_path, line_of(f), key);
  }
  err = lk_save_json(out, sarif.doc);
  cJSON_Delete(sarif.doc);
  return err;
}

static void check_usage(FILE *f) {
  fprintf(f, "usage: lambkin check [-t template.yaml] [--dot | --json] "
             "[--sarif F] [--state DIR]\n"
             "exit codes: 0 nothing found, 1 warnings, 2 template error, "
             "3 a loop\n");
}

/* 3 with a loop, 1 with warnings only, 0 with nothing; each finding as
 * a line of text unless another format was asked for. */
static int print_findings(const cJSON *all, const char *path, int text) {
  const cJSON *f;
  int rc = 0;

  cJSON_ArrayForEach(f, all) {
    if (strcmp(lk_json_str(f, "rule"), "loop") == 0)
      rc = 3;
    else if (rc == 0)
      rc = 1;
    if (text)
      printf("%s:%d: %s: %s: %s [%s]\n", path, line_of(f),
             lk_json_str(f, "level"), lk_json_str(f, "function"),
             lk_json_str(f, "message"), lk_json_str(f, "rule"));
  }
  return rc;
}

int lk_cmd_check(int argc, char **argv) {
  const char *path = "template.yaml", *sarif = NULL, *state = NULL;
  int dot = 0, json = 0, rc;
  lk_app_opts_t ao = {0};
  const lk_opt_t opts[] = {
      {"template", 't', LK_OPT_STR, &path, 0, 0, NULL, NULL},
      LK_CLI_APP_OPTS(&ao),
      {"dot", 0, LK_OPT_FLAG, &dot, 0, 0, NULL, NULL},
      {"json", 0, LK_OPT_FLAG, &json, 0, 0, NULL, NULL},
      {"sarif", 0, LK_OPT_STR, &sarif, 0, 0, NULL, NULL},
      {"state", 0, LK_OPT_STR, &state, 0, 0, NULL, NULL},
  };
  lk_app_t *app;
  lk_args_t a;
  cJSON *all, *seen;
  char *s;

  if (lk_args_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]), &a) ||
      a.n_pos) {
    check_usage(stderr);
    return 2;
  }
  app = lk_cli_load(path, &ao, NULL);
  if (app == NULL)
    return 2;
  seen = state ? lk_cli_observed(state) : NULL;
  all = lk_check_app(app, seen);
  rc = print_findings(all, path, !dot && !json);
  if (sarif && write_sarif(sarif, path, all)) {
    fprintf(stderr, "lambkin: cannot write %s\n", sarif);
    rc = 2;
  }
  if (dot) {
    lk_check_dot(app, seen, stdout);
  } else if (json) {
    s = cJSON_Print(all);
    printf("%s\n", s);
    free(s);
  } else {
    fprintf(stderr, "lambkin check: %d finding(s) in %d function(s)\n",
            cJSON_GetArraySize(all), app->n_functions);
  }
  cJSON_Delete(all);
  cJSON_Delete(seen);
  lk_app_free(app);
  return rc;
}
