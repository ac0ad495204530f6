/* `lambkin fuzz [FUNCTION...] [options] [-- libFuzzer flags]`: the options
 * of a fuzzing run, handed to the fuzzer (fuzz.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "fuzz.h"

static void fuzz_usage(FILE *f) {
  fprintf(
      f,
      "usage: lambkin fuzz [FUNCTION...] [-t template.yaml] "
      "[--time S] [--runs N] [--jobs N] [--first]\n"
      "                    [--no-fork-server] [--out DIR] [--seed N] "
      "[--source s3|sqs|sns|logs|dynamodb|kinesis|eventbridge|apigw|apigw-v2] "
      "[--seeds FILE|DIR]\n"
      "                    [--sarif F] [--junit F] [--json F] "
      "[-- libFuzzer flags]\n");
}

int lk_cmd_fuzz(int argc, char **argv) {
  lk_fuzz_opts_t o = {0};
  int time_set = 0;
  const lk_opt_t opts[] = {
      {"template", 't', LK_OPT_STR, &o.template_path, 0, 0, NULL, NULL},
      {"out", 0, LK_OPT_STR, &o.out, 0, 0, NULL, NULL},
      {"sarif", 0, LK_OPT_STR, &o.sarif, 0, 0, NULL, NULL},
      {"junit", 0, LK_OPT_STR, &o.junit, 0, 0, NULL, NULL},
      {"json", 0, LK_OPT_STR, &o.json, 0, 0, NULL, NULL},
      {"source", 0, LK_OPT_STR, &o.source, 0, 0, NULL, NULL},
      {"seeds", 0, LK_OPT_STR, &o.seeds, 0, 0, NULL, NULL},
      {"time", 0, LK_OPT_INT, &o.time_s, 1, 7 * 86400, &time_set, NULL},
      {"runs", 0, LK_OPT_LONG, &o.runs, 1, 1000000000L, NULL, NULL},
      {"jobs", 0, LK_OPT_INT, &o.jobs, 1, 64, NULL, NULL},
      {"seed", 0, LK_OPT_LONG, &o.seed, 0, 4294967295L, NULL, NULL},
      {"first", 0, LK_OPT_FLAG, &o.first, 0, 0, NULL, NULL},
      {"no-fork-server", 0, LK_OPT_FLAG, &o.no_fork_server, 0, 0, NULL, NULL},
      LK_CLI_APP_OPTS(&o.app),
  };
  const char *driver = getenv("LAMBKIN_FUZZ_DRIVER");
  lk_args_t a;

  o.template_path = "template.yaml";
  o.out = ".lambkin/fuzz";
  o.time_s = 60;
  o.jobs = 2;
  o.seed = -1;
  if (lk_args_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]), &a)) {
    fuzz_usage(stderr);
    return 2;
  }
  if (o.runs > 0 && !time_set)
    o.time_s = 0; /* --runs alone: as many runs as it takes */
  o.fns = a.pos;
  o.n_fns = a.n_pos;
  o.pass = a.rest;
  o.n_pass = a.n_rest;
  o.driver = driver ? driver : LK_SOURCE_DIR "/build-fuzz/fuzz/fuzz_handler";
  return lk_fuzz_run(&o);
}
