/* The commands of the lambkin command line, one file each, and what
 * serve, invoke and replay share. Every command takes argv as main() got
 * it (argv[1] is the command's name) and returns the process's exit code:
 * 0 ok, 1 a function error or findings, 2 usage or template error, 3 a
 * loop. */
#ifndef LK_CLI_H
#define LK_CLI_H

#include <uv.h>

#include "app.h"
#include "args.h"
#include "emu.h"

int lk_cmd_serve(int argc, char **argv);
int lk_cmd_invoke(int argc, char **argv);
int lk_cmd_replay(int argc, char **argv);
int lk_cmd_event(int argc, char **argv);
int lk_cmd_check(int argc, char **argv);
int lk_cmd_policy(int argc, char **argv);
int lk_cmd_fuzz(int argc, char **argv);

/* The values of a repeatable, comma-separated option (--allowed-hosts). */
#define LK_CLI_LIST_MAX 32
typedef struct lk_cli_list {
  const char *items[LK_CLI_LIST_MAX];
  int n;
  char buf[4096]; /* the items' copies */
  size_t used;
} lk_cli_list_t;

/* --parameter-overrides, --config-file and --config-env (SAM's), as rows
 * of a command's option table filling an lk_app_opts_t. */
/* clang-format off */
#define LK_CLI_APP_OPTS(o)                                                     \
  {"parameter-overrides", 0, LK_OPT_STR, &(o)->overrides, 0, 0, NULL, NULL},   \
  {"config-file", 0, LK_OPT_STR, &(o)->config_file, 0, 0, NULL, NULL},         \
  {"config-env", 0, LK_OPT_STR, &(o)->config_env, 0, 0, NULL, NULL}
/* clang-format on */

/* The options of serve, invoke and replay. */
typedef struct lk_cli_run {
  const char *template_path;
  const char *event;     /* -e FILE|- */
  lk_emu_opts_t emu;     /* what the options set, the rest 0 */
  lk_app_opts_t app;     /* parameters */
  const char *env_vars;  /* --env-vars FILE (SAM's format) */
  int scale_delay;       /* -1: the default */
  lk_cli_list_t hosts;   /* --allowed-hosts, and --host */
  lk_cli_list_t origins; /* --cors-origin */
  lk_cli_list_t creds;   /* --credentials KEY:SECRET */
  char env_cred[512];    /* the environment's, for --require-signature */
  int allow_unsigned;    /* --allow-unsigned, off loopback */
  int no_watch;          /* --no-watch: serve does not reload code */
  int no_sandbox;        /* --no-sandbox: no /var/task, shared /tmp */
  int no_install;        /* --no-install: no npm/pip install of deps */
  int schedule;          /* --schedule: invoke sends its schedule's event */
  lk_args_t args;        /* operands */
} lk_cli_run_t;

/* 1 for localhost, ::1 and 127.0.0.0/8. */
int lk_cli_is_loopback(const char *host);
/* Parses the shared options; 0, or -1 with the reason printed. Off
 * loopback (--host), --require-signature is on unless --allow-unsigned. */
int lk_cli_run_args(int argc, char **argv, lk_cli_run_t *c);
/* The template, or NULL with the error printed; its warnings are said.
 * env_vars: SAM's --env-vars file, or NULL. */
/* {function: {resource: [actions]}} from the access records of the
 * journal in state (the calls lambkin saw functions make); the caller
 * frees it. */
cJSON *lk_cli_observed(const char *state);
lk_app_t *lk_cli_load(const char *template_path, const lk_app_opts_t *opts,
                      const char *env_vars);
/* Closes the emulator, runs the loop dry, frees both and closes the
 * loop; 0, or a libuv error when a handle outlived it. */
int lk_cli_teardown(uv_loop_t *loop, lk_emu_t *emu, lk_app_t *app);

#endif
