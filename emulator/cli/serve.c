/* `lambkin serve`: the template's functions behind the Lambda API, S3, SQS
 * and CloudWatch Logs on one port, and API Gateway on another, until
 * SIGINT or SIGTERM. An edited template is loaded again and served in
 * place of the old one, the services keeping their data. */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "lambkin/lambkin.h"

#define SETTLE_MS 200 /* an editor's save is several writes */

static lk_emu_t *serving;
static lk_cli_run_t *options;
static uv_signal_t sig_int, sig_term;
static uv_fs_event_t template_watch;
static uv_timer_t template_settle;
static int watching, waiting;

static void stop_watching(void) {
  if (!watching)
    return;
  watching = 0;
  uv_close((uv_handle_t *)&template_watch, NULL);
  uv_close((uv_handle_t *)&template_settle, NULL);
}

/* The template again: a new app in place of the old once nothing runs
 * (an invocation in flight or queued finishes on the old one first); a
 * template that does not load leaves the last good one serving. */
static void on_settled(uv_timer_t *t) {
  const char *path = options->template_path;
  char err[1024];
  lk_app_t *app;

  if (lk_emu_busy(serving)) {
    if (!waiting)
      fprintf(stderr,
              "lambkin: %s changed; reloading once the running "
              "invocations are done\n",
              path);
    waiting = 1;
    uv_timer_start(t, on_settled, 100, 0);
    return;
  }
  waiting = 0;
  app = lk_cli_load(path, &options->app, options->env_vars);
  if (app == NULL) {
    fprintf(stderr,
            "lambkin: %s changed but does not load: still serving "
            "the last one\n",
            path);
    return;
  }
  if (lk_emu_reload(serving, app, err, sizeof(err)) != 0) {
    if (lk_emu_app(serving) != app) {
      fprintf(stderr,
              "lambkin: %s changed but %s: still serving the last "
              "one\n",
              path, err);
      lk_app_free(app);
      return;
    }
    fprintf(stderr, "lambkin: %s\n", err);
  }
  fprintf(stderr,
          "lambkin: %s changed: reloaded, %d function(s); S3, SQS "
          "and Logs kept their data\n",
          path, app->n_functions);
}

static void on_template(uv_fs_event_t *h, const char *name, int events,
                        int status) {
  char copy[PATH_MAX];

  (void)events;
  snprintf(copy, sizeof(copy), "%s", options->template_path);
  if (status == 0 && name && strcmp(name, basename(copy)) == 0)
    uv_timer_start(&template_settle, on_settled, SETTLE_MS, 0);
  (void)h;
}

/* Its folder, not the file: editors save by writing a new file and
 * renaming it over the old one. */
static void watch_template(uv_loop_t *loop) {
  char copy[PATH_MAX];

  snprintf(copy, sizeof(copy), "%s", options->template_path);
  uv_fs_event_init(loop, &template_watch);
  uv_timer_init(loop, &template_settle);
  if (uv_fs_event_start(&template_watch, on_template, dirname(copy), 0) == 0) {
    uv_unref((uv_handle_t *)&template_watch);
    uv_unref((uv_handle_t *)&template_settle);
    watching = 1;
  } else {
    uv_close((uv_handle_t *)&template_watch, NULL);
    uv_close((uv_handle_t *)&template_settle, NULL);
  }
}

/* A clean stop: lk_emu_close starts every close with its own callback, so
 * the loop drains and each object is freed by its owner. */
static void on_signal(uv_signal_t *s, int sig) {
  (void)s;
  (void)sig;
  fprintf(stderr, "lambkin: stopping\n");
  stop_watching();
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
  printf("Lambda API on http://%s:%d (also S3, SQS, SNS, EventBridge, Kinesis, "
         "CloudWatch Logs and DynamoDB)\n",
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
  options = &c;
  if (c.emu.watch)
    watch_template(loop);
  signal(SIGPIPE, SIG_IGN);
  uv_signal_init(loop, &sig_int);
  uv_signal_init(loop, &sig_term);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  banner(&c, app, emu);
  uv_run(loop, UV_RUN_DEFAULT);
  return lk_cli_teardown(loop, emu, lk_emu_app(emu)) ? 1 : 0;
}
