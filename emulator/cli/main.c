/* The lambkin command line: one row per command, each in a file of its
 * own (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lambkin/lambkin.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: lambkin COMMAND [options]\n"
          "\n"
          "commands:\n"
          "  serve                 run the template's functions behind the "
          "Lambda API\n"
          "  invoke FUNCTION       run one event through a function and exit\n"
          "  replay FILE|ID        re-run a journaled or saved event\n"
          "  event SOURCE [opts]   print a sample event (s3, sqs, sns, logs, "
          "dynamodb,\n"
          "                        kinesis, eventbridge, schedule, apigw, "
          "apigw-v2)\n"
          "  check [--dot|--json]  find loops, missing limits and broad "
          "policies in the\n"
          "                        template, without running it\n"
          "  policy [--state DIR]  least-privilege policies from the calls "
          "functions made,\n"
          "                        and the calls their Policies would "
          "refuse\n"
          "  fuzz [FUNCTION...]    fuzz functions with mutated events "
          "(--time S, --runs N,\n"
          "                        --jobs N, --out DIR, --seed N, --sarif/"
          "--junit/--json F,\n"
          "                        -- libFuzzer flags)\n"
          "  version               print the version\n"
          "\n"
          "options of serve, invoke and replay:\n"
          "  -t, --template FILE   SAM or CloudFormation template "
          "(default ./template.yaml)\n"
          "  --host ADDR           address to bind (default 127.0.0.1)\n"
          "  -p, --port N          Lambda API port (default 3001)\n"
          "  -e, --event FILE|-    event for invoke (default {})\n"
          "  --schedule            invoke: the event its schedule sends\n"
          "  --max-instances N     instances per function without reserved "
          "concurrency (default 16)\n"
          "  --idle-timeout S      stop instances idle this long (default "
          "300)\n"
          "  --retry-delay MS      first retry of a failed async invoke "
          "(default 1000, doubles)\n"
          "  --state DIR           journal and build folder (default "
          ".lambkin); given,\n"
          "                        it also keeps S3, SQS and Logs across "
          "restarts\n"
          "  --api-port N          API Gateway port (default 3000)\n"
          "  --api-timeout S       API Gateway integration timeout "
          "(default 29)\n"
          "  --scale-delay MS      start another instance once an invoke "
          "waited this\n"
          "                        long, one at a time; 0: at once, as "
          "Lambda (default 10)\n"
          "  --max-depth N         stop a chain of invocations this deep "
          "(default 16)\n"
          "  --allow-loops         report self-invocation loops, but let them "
          "run\n"
          "  --enforce-policies    refuse a function's calls that its Policies "
          "do not allow\n"
          "  -q, --quiet           do not echo function output\n"
          "  --no-watch            serve: do not reload on a code or "
          "template change\n"
          "  --no-sandbox          no /var/task, /opt layers and private "
          "/tmp for functions\n"
          "  --no-fork-server      start every python instance by exec, not "
          "by a fork\n"
          "  --max-memory SIZE     stop the least recently used idle "
          "instances while all\n"
          "                        hold more (PSS; 512M, 4G; default: half "
          "the RAM)\n"
          "  --no-install          do not npm/pip install what a function's "
          "package.json or\n"
          "                        requirements.txt lists (installed once "
          "into STATE/deps)\n"
          "  -n, --env-vars FILE   SAM's environment file (Parameters and "
          "per function)\n"
          "  -d, --debug-port N    wait for a debugger: node --inspect-brk, "
          "python debugpy\n"
          "  --debug-function NAME the one function --debug-port applies to\n"
          "\n"
          "options of every command that reads the template:\n"
          "  --parameter-overrides 'Key=Value ...'   template parameters, "
          "as SAM takes them\n"
          "  --config-file FILE    samconfig.toml or .yaml (default: beside "
          "the template)\n"
          "  --config-env ENV      its environment (default: default)\n"
          "\n"
          "exit codes: 0 ok, 1 function error, 2 usage or template error, "
          "3 loop found\n");
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
} commands[] = {
    {"serve", lk_cmd_serve},   {"invoke", lk_cmd_invoke},
    {"replay", lk_cmd_replay}, {"event", lk_cmd_event},
    {"check", lk_cmd_check},   {"policy", lk_cmd_policy},
    {"fuzz", lk_cmd_fuzz},
};

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "help";
  size_t i;

  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("lambkin %s\n", LK_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].run(argc, argv);
  fprintf(stderr, "lambkin: unknown command %s\n", cmd);
  usage(stderr);
  return 2;
}
