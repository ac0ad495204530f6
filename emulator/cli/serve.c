/* `lambkin serve`: the template's functions behind the Lambda API, S3, SQS
 * and CloudWatch Logs on one port, and API Gateway on another, until
 * SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "lambkin/lambkin.h"

static lk_emu_t *serving;
static uv_signal_t sig_int, sig_term;

/* A clean stop: lk_emu_close starts every close with its own callback, so
 * the loop drains and each object is freed by its owner. */
static void on_signal(uv_signal_t *s, int sig) {
  (void)s;
  (void)sig;
  fprintf(stderr, "lambkin: stopping\n");
  lk_emu_close(serving);
  uv_close((uv_handle_t *)&sig_int, NULL);
  uv_close((uv_handle_t *)&sig_term, NULL);
}

/* Room for LK_HTTP_MAX_CONNS connections on each server, and the pipes
 * and sockets of every instance: the usual soft limit of 1024 is not. */
static void raise_fd_limit(void) {
  struct rlimit r;

  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= 65536)
    return;
  r.rlim_cur = r.rlim_max < 65536 ? r.rlim_max : 65536;
  setrlimit(RLIMIT_NOFILE, &r);
}

static void banner(const lk_cli_run_t *c, const lk_app_t *app, lk_emu_t *emu) {
  const char *host = c->emu.host ? c->emu.host : "127.0.0.1";
  lk_apigw_t *gw = lk_emu_apigw(emu);
  char route[400];
  int i;

  printf("lambkin %s: %d function(s) from %s\n", LK_VERSION, app->n_functions,
         app->path);
  for (i = 0; i < app->n_functions; i++)
    printf("  %-24s %-16s %s\n", app->functions[i].name,
           app->functions[i].runtime, app->functions[i].handler);
  printf("Lambda API on http://%s:%d (also S3, SQS and CloudWatch Logs)\n",
         host, lk_emu_port(emu));
  if (gw) {
    printf("API Gateway on http://%s:%d\n", host, lk_apigw_port(gw));
    for (i = 0; i < lk_apigw_n_routes(gw); i++)
      printf("  %s\n", lk_apigw_route(gw, i, route, sizeof(route)));
  }
  fflush(stdout);
  if (!lk_cli_is_loopback(host))
    fprintf(stderr,
            "lambkin: WARNING: listening on %s, not on loopback: anyone who "
            "can reach this address can call lambkin. %s\n",
            host,
            c->emu.require_signature
                ? "Only calls signed with a function's key or --credentials "
                  "are served."
                : "--allow-unsigned: unsigned calls are served too.");
}

int lk_cmd_serve(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  lk_cli_run_t c;
  lk_app_t *app;
  lk_emu_t *emu;

  if (lk_cli_run_args(argc, argv, &c))
    return 2;
  raise_fd_limit();
  c.app.command = "local_start_api";
  app = lk_cli_load(c.template_path, &c.app, c.env_vars);
  if (app == NULL)
    return 2;
  c.emu.scale_delay_ms = c.scale_delay < 0 ? LK_SCALE_DELAY_MS : c.scale_delay;
  c.emu.watch = !c.no_watch;
  if (lk_emu_new(loop, app, &c.emu, &emu)) {
    lk_app_free(app);
    return 2;
  }
  serving = emu;
  signal(SIGPIPE, SIG_IGN);
  uv_signal_init(loop, &sig_int);
  uv_signal_init(loop, &sig_term);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  banner(&c, app, emu);
  uv_run(loop, UV_RUN_DEFAULT);
  return lk_cli_teardown(loop, emu, app) ? 1 : 0;
}
