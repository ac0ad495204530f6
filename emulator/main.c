/* The lambkin command line: serve, invoke, replay. Each command builds an
 * app from the template, runs the emulator on the default loop and tears
 * it down so that uv_loop_close() succeeds. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "codec.h"
#include "apigw.h"
#include "check_cmd.h"
#include "policy_cmd.h"
#include "emu.h"
#include "event_cmd.h"
#include "fuzz_cmd.h"
#include "lambkin/lambkin.h"

#define EVENT_MAX (6 * 1024 * 1024)

typedef struct cli {
  const char *template_path;
  const char *host;
  int port;
  int max_instances;
  int idle_timeout;
  int retry_delay;
  const char *state_dir;
  int quiet;
  int max_depth;
  int allow_loops;
  int enforce_policies;
  int api_port;
  int api_timeout;
  int scale_delay; /* -1: the default */
  int persist;     /* --state given: keep the services' contents there */
  const char *event;
  const char *positional[8];
  int n_positional;
} cli_t;

static void usage(FILE *f) {
  fprintf(f,
          "usage: lambkin COMMAND [options]\n"
          "\n"
          "commands:\n"
          "  serve                 run the template's functions behind the "
          "Lambda API\n"
          "  invoke FUNCTION       run one event through a function and exit\n"
          "  replay FILE|ID        re-run a journaled or saved event\n"
          "  event SOURCE [opts]   print a sample s3, sqs, logs, apigw or "
          "apigw-v2 event\n"
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
          "options:\n"
          "  -t, --template FILE   SAM or CloudFormation template "
          "(default ./template.yaml)\n"
          "  --host ADDR           address to bind (default 127.0.0.1)\n"
          "  -p, --port N          Lambda API port (default 3001)\n"
          "  -e, --event FILE|-    event for invoke (default {})\n"
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
          "\n"
          "exit codes: 0 ok, 1 function error, 2 usage or template error, "
          "3 loop found\n");
}

/* An option's number, whole and in [lo, hi] (lk_parse_long). */
static int parse_int(const char *s, long lo, long hi, int *out) {
  long v;
  int err = lk_parse_long(s, lo, hi, &v);

  if (err == 0)
    *out = (int)v;
  return err;
}

static int parse_args(int argc, char **argv, cli_t *c) {
  int i;

  memset(c, 0, sizeof(*c));
  c->template_path = "template.yaml";
  c->port = 3001;
  c->scale_delay = -1;
  c->api_port = 3000;
  c->state_dir = ".lambkin";
  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;

    if (strcmp(a, "-t") == 0 || strcmp(a, "--template") == 0) {
      c->template_path = v;
      bad = v == NULL;
      i++;
    } else if (strcmp(a, "--host") == 0) {
      c->host = v;
      bad = v == NULL;
      i++;
    } else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) {
      bad = parse_int(v, 0, 65535, &c->port) != 0;
      i++;
    } else if (strcmp(a, "-e") == 0 || strcmp(a, "--event") == 0) {
      c->event = v;
      bad = v == NULL;
      i++;
    } else if (strcmp(a, "--max-instances") == 0) {
      bad = parse_int(v, 1, 1000, &c->max_instances) != 0;
      i++;
    } else if (strcmp(a, "--idle-timeout") == 0) {
      bad = parse_int(v, 1, 86400, &c->idle_timeout) != 0;
      i++;
    } else if (strcmp(a, "--retry-delay") == 0) {
      bad = parse_int(v, 1, 3600000, &c->retry_delay) != 0;
      i++;
    } else if (strcmp(a, "--state") == 0) {
      c->state_dir = v;
      c->persist = 1;
      bad = v == NULL;
      i++;
    } else if (strcmp(a, "--api-port") == 0) {
      bad = parse_int(v, 0, 65535, &c->api_port) != 0;
      i++;
    } else if (strcmp(a, "--api-timeout") == 0) {
      bad = parse_int(v, 1, 900, &c->api_timeout) != 0;
      i++;
    } else if (strcmp(a, "--scale-delay") == 0) {
      bad = parse_int(v, 0, 60000, &c->scale_delay) != 0;
      i++;
    } else if (strcmp(a, "--max-depth") == 0) {
      bad = parse_int(v, 1, 1000, &c->max_depth) != 0;
      i++;
    } else if (strcmp(a, "--allow-loops") == 0) {
      c->allow_loops = 1;
    } else if (strcmp(a, "--enforce-policies") == 0) {
      c->enforce_policies = 1;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      c->quiet = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "lambkin: unknown option %s\n", a);
      return LK_EINVAL;
    } else if (c->n_positional < 8) {
      c->positional[c->n_positional++] = a;
    }
    if (bad) {
      fprintf(stderr, "lambkin: %s needs a valid value\n", a);
      return LK_EINVAL;
    }
  }
  return 0;
}

static lk_app_t *load(const cli_t *c) {
  char err[2048];
  lk_app_t *app;

  if (lk_app_load(c->template_path, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return NULL;
  }
  return app;
}

static void walk_close(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Runs the loop dry after lk_emu_close and checks nothing was left. */
static int teardown(uv_loop_t *loop, lk_emu_t *emu, lk_app_t *app) {
  int rc;

  if (emu)
    lk_emu_close(emu);
  uv_run(loop, UV_RUN_DEFAULT);
  lk_emu_free(emu);
  lk_app_free(app);
  rc = uv_loop_close(loop);
  if (rc) { /* a handle we forgot: close it rather than leak the loop */
    uv_walk(loop, walk_close, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(loop);
  }
  return rc;
}

/* ---- serve ---- */

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

static int cmd_serve(const cli_t *c) {
  uv_loop_t *loop = uv_default_loop();
  lk_emu_opts_t o = {0};
  lk_app_t *app = load(c);
  lk_emu_t *emu;
  int i;

  if (app == NULL)
    return 2;
  o.host = c->host;
  o.port = c->port;
  o.max_instances = c->max_instances;
  o.idle_timeout_s = c->idle_timeout;
  o.retry_delay_ms = c->retry_delay;
  o.scale_delay_ms = c->scale_delay < 0 ? LK_SCALE_DELAY_MS : c->scale_delay;
  o.state_dir = c->state_dir;
  o.quiet = c->quiet;
  o.max_depth = c->max_depth;
  o.allow_loops = c->allow_loops;
  o.enforce_policies = c->enforce_policies;
  o.api_port = c->api_port;
  o.api_timeout_s = c->api_timeout;
  o.persist = c->persist;
  if (lk_emu_new(loop, app, &o, &emu)) {
    lk_app_free(app);
    return 2;
  }
  serving = emu;
  signal(SIGPIPE, SIG_IGN);
  uv_signal_init(loop, &sig_int);
  uv_signal_init(loop, &sig_term);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  printf("lambkin %s: %d function(s) from %s\n", LK_VERSION, app->n_functions,
         app->path);
  for (i = 0; i < app->n_functions; i++)
    printf("  %-24s %-16s %s\n", app->functions[i].name,
           app->functions[i].runtime, app->functions[i].handler);
  printf("Lambda API on http://%s:%d (also S3, SQS and CloudWatch Logs)\n",
         c->host ? c->host : "127.0.0.1", lk_emu_port(emu));
  if (lk_emu_apigw(emu)) {
    char route[400];

    printf("API Gateway on http://%s:%d\n", c->host ? c->host : "127.0.0.1",
           lk_apigw_port(lk_emu_apigw(emu)));
    for (i = 0; i < lk_apigw_n_routes(lk_emu_apigw(emu)); i++)
      printf("  %s\n",
             lk_apigw_route(lk_emu_apigw(emu), i, route, sizeof(route)));
  }
  fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  return teardown(loop, emu, app) ? 1 : 0;
}

/* ---- invoke and replay: one event, then exit ---- */

typedef struct one_shot {
  lk_emu_t *emu;
  int done;
  int failed;
  char *outcome;
  char *error_type;
  uv_loop_t *loop;
  uv_timer_t quiet;
  int idle_checks;
  int waited_ms;
  int loops;
} one_shot_t;

#define QUIET_MS 150
#define SETTLE_MAX_MS 30000

static void on_quiet_check(uv_timer_t *t) {
  one_shot_t *s = t->data;

  s->waited_ms += QUIET_MS;
  s->idle_checks = lk_emu_busy(s->emu) ? 0 : s->idle_checks + 1;
  if (s->idle_checks < 2 && s->waited_ms < SETTLE_MAX_MS)
    return;
  uv_close((uv_handle_t *)t, NULL);
  lk_emu_close(s->emu);
}

static void on_result(const lk_result_t *r, void *ud) {
  one_shot_t *s = ud;

  fwrite(r->log, 1, r->log_len, stderr);
  fwrite(r->body, 1, r->len, stdout);
  printf("\n");
  fflush(stdout);
  s->done = 1;
  s->failed = r->error_type != NULL;
  s->outcome = strdup(r->outcome);
  s->error_type = r->error_type ? strdup(r->error_type) : NULL;
  /* What the function set off (an S3 put, a message, another invoke)
   * runs on: a loop shows itself only there. Stop once all is quiet. */
  uv_timer_init(s->loop, &s->quiet);
  s->quiet.data = s;
  uv_timer_start(&s->quiet, on_quiet_check, QUIET_MS, QUIET_MS);
}

static char *read_event(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  lk_buf_t b;
  char chunk[65536];
  size_t n;
  int err = 0;

  if (f == NULL) {
    fprintf(stderr, "lambkin: cannot read %s\n", path);
    return NULL;
  }
  lk_buf_init(&b, EVENT_MAX);
  while (err == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    err = lk_buf_add(&b, chunk, n);
  if (f != stdin)
    fclose(f);
  if (err) {
    fprintf(stderr, "lambkin: event %s is larger than %d bytes\n", path,
            EVENT_MAX);
    lk_buf_free(&b);
    return NULL;
  }
  return lk_buf_steal(&b, len);
}

static int run_one(const cli_t *c, const char *fname, const char *event,
                   size_t len, const char *source, one_shot_t *s) {
  uv_loop_t *loop = uv_default_loop();
  lk_emu_opts_t o = {0};
  lk_app_t *app = load(c);
  lk_function_t *fn;
  cJSON *check;

  if (app == NULL)
    return 2;
  fn = lk_app_function(app, fname);
  if (fn == NULL) {
    fprintf(stderr, "lambkin: no function %s in %s\n", fname, app->path);
    lk_app_free(app);
    return 2;
  }
  check = cJSON_ParseWithLength(event, len);
  if (check == NULL) {
    fprintf(stderr, "lambkin: the event is not valid JSON\n");
    lk_app_free(app);
    return 2;
  }
  cJSON_Delete(check);
  o.host = c->host;
  o.port = 0; /* functions may call back into the Invoke API */
  o.state_dir = c->state_dir;
  o.quiet = 1;
  o.max_depth = c->max_depth;
  o.allow_loops = c->allow_loops;
  o.enforce_policies = c->enforce_policies;
  o.api_port = -1; /* one event, through the Invoke path only */
  s->loop = loop;
  if (lk_emu_new(loop, app, &o, &s->emu)) {
    lk_app_free(app);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (lk_emu_invoke(s->emu, fn, event, len, 0, source, NULL, NULL, on_result,
                    s)) {
    fprintf(stderr, "lambkin: cannot invoke %s\n", fname);
    teardown(loop, s->emu, app);
    return 2;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  s->loops = lk_emu_loops(s->emu);
  teardown(loop, s->emu, app);
  return 0;
}

static int cmd_invoke(const cli_t *c) {
  one_shot_t s = {0};
  char *event;
  size_t len;
  int rc;

  if (c->n_positional < 1) {
    fprintf(stderr, "lambkin: invoke needs a FUNCTION\n");
    return 2;
  }
  if (c->event) {
    event = read_event(c->event, &len);
    if (event == NULL)
      return 2;
  } else {
    event = strdup("{}");
    len = 2;
  }
  rc = run_one(c, c->positional[0], event, len, "cli", &s);
  free(event);
  free(s.outcome);
  free(s.error_type);
  if (rc)
    return rc;
  return s.loops ? 3 : s.failed ? 1 : 0;
}

static int cmd_replay(const cli_t *c) {
  one_shot_t s = {0};
  cJSON *rec = NULL, *fn, *ev, *outcome, *etype;
  const char *arg;
  char *text, *event = NULL;
  size_t len;
  int rc, same;

  if (c->n_positional < 1) {
    fprintf(stderr, "lambkin: replay needs a FILE or an invocation ID\n");
    return 2;
  }
  arg = c->positional[0];
  if (access(arg, R_OK) == 0) {
    text = read_event(arg, &len);
    if (text)
      rec = cJSON_ParseWithLength(text, len);
    free(text);
  } else {
    rec = lk_journal_find(c->state_dir, arg);
  }
  if (rec == NULL) {
    fprintf(stderr,
            "lambkin: %s is neither a readable record nor an "
            "invocation in %s/journal.jsonl\n",
            arg, c->state_dir);
    return 2;
  }
  fn = cJSON_GetObjectItemCaseSensitive(rec, "function");
  ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
  outcome = cJSON_GetObjectItemCaseSensitive(rec, "outcome");
  etype = cJSON_GetObjectItemCaseSensitive(rec, "error_type");
  if (!cJSON_IsString(fn) || ev == NULL) {
    fprintf(stderr, "lambkin: %s has no function and event\n", arg);
    cJSON_Delete(rec);
    return 2;
  }
  /* The journal keeps the exact event text; a hand-written file may hold
   * the event as a JSON value instead. */
  if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "class"))) {
    /* A fuzzer finding: the same oracles judge the event once more. */
    rc = lk_fuzz_replay(c->template_path, c->state_dir, rec);
    cJSON_Delete(rec);
    return rc;
  }
  event =
      cJSON_IsString(ev) ? strdup(ev->valuestring) : cJSON_PrintUnformatted(ev);
  rc = run_one(c, fn->valuestring, event, strlen(event), "replay", &s);
  if (rc == 0) {
    same = !cJSON_IsString(outcome) ||
           (strcmp(outcome->valuestring, s.outcome) == 0 &&
            (!cJSON_IsString(etype) ||
             (s.error_type && strcmp(etype->valuestring, s.error_type) == 0)));
    fprintf(stderr, "replay: %s outcome %s%s%s; recorded %s%s%s: %s\n",
            fn->valuestring, s.outcome, s.error_type ? " " : "",
            s.error_type ? s.error_type : "",
            cJSON_IsString(outcome) ? outcome->valuestring : "(none)",
            cJSON_IsString(etype) ? " " : "",
            cJSON_IsString(etype) ? etype->valuestring : "",
            same ? "reproduced" : "differs");
    rc = s.loops ? 3 : s.failed ? 1 : 0;
  }
  free(event);
  free(s.outcome);
  free(s.error_type);
  cJSON_Delete(rec);
  return rc;
}

int main(int argc, char **argv) {
  cli_t c;
  const char *cmd = argc > 1 ? argv[1] : "help";

  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("lambkin %s\n", LK_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "event") == 0)
    return lk_cmd_event(argc, argv);
  if (strcmp(cmd, "fuzz") == 0)
    return lk_cmd_fuzz(argc, argv);
  if (strcmp(cmd, "check") == 0)
    return lk_cmd_check(argc, argv);
  if (strcmp(cmd, "policy") == 0)
    return lk_cmd_policy(argc, argv);
  if (parse_args(argc, argv, &c))
    return 2;
  if (strcmp(cmd, "serve") == 0)
    return cmd_serve(&c);
  if (strcmp(cmd, "invoke") == 0)
    return cmd_invoke(&c);
  if (strcmp(cmd, "replay") == 0)
    return cmd_replay(&c);
  fprintf(stderr, "lambkin: unknown command %s\n", cmd);
  usage(stderr);
  return 2;
}
