/* What serve, invoke and replay share: their options, loading the
 * template, and a teardown after which uv_loop_close() succeeds. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lambkin/lambkin.h"

int lk_cli_run_args(int argc, char **argv, lk_cli_run_t *c) {
  lk_emu_opts_t *o = &c->emu;
  const lk_opt_t opts[] = {
      {"template", 't', LK_OPT_STR, &c->template_path, 0, 0, NULL, NULL},
      {"event", 'e', LK_OPT_STR, &c->event, 0, 0, NULL, NULL},
      {"host", 0, LK_OPT_STR, &o->host, 0, 0, NULL, NULL},
      {"port", 'p', LK_OPT_INT, &o->port, 0, 65535, NULL, NULL},
      {"max-instances", 0, LK_OPT_INT, &o->max_instances, 1, 1000, NULL, NULL},
      {"idle-timeout", 0, LK_OPT_INT, &o->idle_timeout_s, 1, 86400, NULL, NULL},
      {"retry-delay", 0, LK_OPT_INT, &o->retry_delay_ms, 1, 3600000, NULL,
       NULL},
      {"state", 0, LK_OPT_STR, &o->state_dir, 0, 0, &o->persist, NULL},
      {"api-port", 0, LK_OPT_INT, &o->api_port, 0, 65535, NULL, NULL},
      {"api-timeout", 0, LK_OPT_INT, &o->api_timeout_s, 1, 900, NULL, NULL},
      {"scale-delay", 0, LK_OPT_INT, &c->scale_delay, 0, 60000, NULL, NULL},
      {"max-depth", 0, LK_OPT_INT, &o->max_depth, 1, 1000, NULL, NULL},
      {"allow-loops", 0, LK_OPT_FLAG, &o->allow_loops, 0, 0, NULL, NULL},
      {"enforce-policies", 0, LK_OPT_FLAG, &o->enforce_policies, 0, 0, NULL,
       NULL},
      {"quiet", 'q', LK_OPT_FLAG, &o->quiet, 0, 0, NULL, NULL},
  };

  memset(c, 0, sizeof(*c));
  c->template_path = "template.yaml";
  c->scale_delay = -1;
  o->port = 3001;
  o->api_port = 3000;
  o->state_dir = ".lambkin";
  return lk_args_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]),
                       &c->args);
}

lk_app_t *lk_cli_load(const char *template_path) {
  char err[2048];
  lk_app_t *app;

  if (lk_app_load(template_path, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return NULL;
  }
  return app;
}

int lk_cli_teardown(uv_loop_t *loop, lk_emu_t *emu, lk_app_t *app) {
  if (emu)
    lk_emu_close(emu);
  uv_run(loop, UV_RUN_DEFAULT);
  lk_emu_free(emu);
  lk_app_free(app);
  return lk_emu_loop_close(loop);
}
