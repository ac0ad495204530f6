/* `lambkin invoke` and `lambkin replay`: one event through one function,
 * then whatever it set off runs until all is quiet (a loop shows itself
 * only there), and the process exits with the outcome. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cli.h"
#include "eventbridge.h"
#include "fuzz.h"
#include "journal.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define EVENT_MAX (6 * 1024 * 1024)
#define QUIET_MS 150
#define SETTLE_MAX_MS 30000

typedef struct one_shot {
  lk_emu_t *emu;
  uv_loop_t *loop;
  uv_timer_t quiet;
  int failed;
  char *outcome;
  char *error_type;
  int idle_checks;
  int waited_ms;
  int loops;
} one_shot_t;

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
  s->failed = r->error_type != NULL;
  s->outcome = lk_xstrdup(r->outcome);
  s->error_type = r->error_type ? lk_xstrdup(r->error_type) : NULL;
  /* What the function set off (an S3 put, a message, another invoke)
   * runs on: a loop shows itself only there. Stop once all is quiet. */
  uv_timer_init(s->loop, &s->quiet);
  s->quiet.data = s;
  uv_timer_start(&s->quiet, on_quiet_check, QUIET_MS, QUIET_MS);
}

/* A whole event file, or stdin for "-"; NULL with the reason printed. */
static char *read_event(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  lk_buf_t b;
  char chunk[65536];
  size_t n;

  if (f == NULL) {
    fprintf(stderr, "lambkin: cannot read %s\n", path);
    return NULL;
  }
  lk_buf_init(&b, EVENT_MAX);
  for (n = fread(chunk, 1, sizeof(chunk), f); n > 0;
       n = fread(chunk, 1, sizeof(chunk), f))
    lk_buf_add(&b, chunk, n);
  if (f != stdin)
    fclose(f);
  if (lk_buf_error(&b))
    fprintf(stderr, "lambkin: event %s is larger than %d bytes\n", path,
            EVENT_MAX);
  return lk_buf_steal(&b, len);
}

/* What the function's first Schedule or ScheduleV2 event sends when it
 * fires: its Input, else EventBridge's Scheduled Event naming the rule.
 * NULL (with why) when it has none. */
static char *schedule_event(const lk_app_t *app, const lk_function_t *fn) {
  const cJSON *ev;

  cJSON_ArrayForEach(ev, fn->events) {
    const char *type = lk_json_str(ev, "Type");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "Properties");
    const char *bus = lk_json_str(p, "EventBusName");
    char rule[128], *arn, *text;
    cJSON *res, *e;

    if (type == NULL || strncmp(type, "Schedule", 8) != 0)
      continue;
    if (lk_json_str(p, "Input"))
      return lk_xstrdup(lk_json_str(p, "Input"));
    lk_app_rule_name(fn, ev, rule, sizeof(rule));
    arn = bus && strcmp(bus, "default") != 0
              ? lk_xasprintf("arn:aws:events:%s:%s:rule/%s/%s", app->region,
                             app->account, bus, rule)
              : lk_xasprintf("arn:aws:events:%s:%s:rule/%s", app->region,
                             app->account, rule);
    res = cJSON_CreateArray();
    cJSON_AddItemToArray(res, cJSON_CreateString(arn));
    e = lk_eb_event(app->region, app->account, "aws.events", "Scheduled Event",
                    NULL, res);
    text = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    cJSON_Delete(res);
    free(arn);
    return text;
  }
  fprintf(stderr, "lambkin: %s has no Schedule or ScheduleV2 event\n",
          fn->name);
  return NULL;
}

/* Ctrl-C or SIGTERM stops the emulator, and with it the function's
 * process group: an instance runs in a session of its own, where the
 * terminal's signal does not reach it (a hung function, or one waiting
 * for a debugger, must not outlive lambkin). */
static uv_signal_t stop_int, stop_term;
static lk_emu_t *running;

static void on_stop(uv_signal_t *h, int sig) {
  (void)h;
  (void)sig;
  fprintf(stderr, "lambkin: stopping\n");
  lk_emu_close(running);
}

static void catch_stop(uv_loop_t *loop, lk_emu_t *emu) {
  running = emu;
  uv_signal_init(loop, &stop_int);
  uv_signal_init(loop, &stop_term);
  uv_signal_start(&stop_int, on_stop, SIGINT);
  uv_signal_start(&stop_term, on_stop, SIGTERM);
  uv_unref((uv_handle_t *)&stop_int); /* they keep nothing running */
  uv_unref((uv_handle_t *)&stop_term);
}

static void release_stop(void) {
  uv_close((uv_handle_t *)&stop_int, NULL);
  uv_close((uv_handle_t *)&stop_term, NULL);
}

/* The emulator with no API Gateway and a port of its own (functions may
 * call back into the Invoke API), one event, the loop until all is
 * quiet. 0, or 2 when it could not run. */
static int run_one(const lk_cli_run_t *c, const char *fname, const char *event,
                   size_t len, const char *source, one_shot_t *s) {
  uv_loop_t *loop = uv_default_loop();
  lk_emu_opts_t o = c->emu;
  lk_app_t *app = lk_cli_load(c->template_path, &c->app, c->env_vars);
  lk_function_t *fn;
  char *scheduled = NULL;
  cJSON *check = NULL;
  int rc;

  if (app == NULL)
    return 2;
  fn = lk_app_function(app, fname);
  if (fn && c->schedule && (scheduled = schedule_event(app, fn)) != NULL) {
    event = scheduled;
    len = strlen(scheduled);
    source = "eventbridge";
  }
  if (fn && (!c->schedule || scheduled))
    check = cJSON_ParseWithLength(event, len);
  if (fn == NULL || check == NULL) {
    if (fn == NULL)
      fprintf(stderr, "lambkin: no function %s in %s\n", fname, app->path);
    else if (!c->schedule || scheduled)
      fprintf(stderr, "lambkin: the event is not valid JSON\n");
    cJSON_Delete(check);
    free(scheduled);
    lk_app_free(app);
    return 2;
  }
  cJSON_Delete(check);
  o.port = 0;
  o.quiet = 1;
  o.api_port = -1;
  /* One instance, started long before a fork server had loaded boto3. */
  o.no_fork_server = 1;
  o.persist = 0;
  s->loop = loop;
  if (lk_emu_new(loop, app, &o, &s->emu)) {
    lk_app_free(app);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  catch_stop(loop, s->emu);
  rc = lk_emu_invoke(s->emu, fn, event, len, 0, source, NULL, NULL, on_result,
                     s);
  free(scheduled);
  if (rc) {
    if (fn->reserved_concurrency == 0)
      fprintf(stderr,
              "lambkin: %s has ReservedConcurrentExecutions 0: Lambda "
              "throttles every invocation of it (TooManyRequestsException)\n",
              fname);
    else
      fprintf(stderr, "lambkin: cannot invoke %s\n", fname);
    release_stop();
    lk_cli_teardown(loop, s->emu, app);
    return 2;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  s->loops = lk_emu_loops(s->emu);
  release_stop();
  lk_cli_teardown(loop, s->emu, app);
  return 0;
}

int lk_cmd_invoke(int argc, char **argv) {
  one_shot_t s;
  lk_cli_run_t c;
  char *event;
  size_t len = 2;
  int rc;

  if (lk_cli_run_args(argc, argv, &c))
    return 2;
  c.app.command = "local_invoke";
  if (c.args.n_pos < 1) {
    fprintf(stderr, "lambkin: invoke needs a FUNCTION\n");
    return 2;
  }
  if (c.schedule && c.event) {
    fprintf(stderr, "lambkin: --schedule and --event: give one of them\n");
    return 2;
  }
  event = c.event ? read_event(c.event, &len) : lk_xstrdup("{}");
  if (event == NULL)
    return 2;
  memset(&s, 0, sizeof(s));
  rc = run_one(&c, c.args.pos[0], event, len, "cli", &s);
  free(event);
  free(s.outcome);
  free(s.error_type);
  if (rc)
    return rc;
  return s.loops ? 3 : s.failed ? 1 : 0;
}

/* A record to replay: a file (a reproducer, or any JSON with function
 * and event), else an invocation id in the journal. */
static cJSON *replay_record(const char *arg, const char *state_dir) {
  cJSON *rec = NULL;
  char *text;
  size_t len;

  if (access(arg, R_OK) != 0)
    return lk_journal_find(state_dir, arg);
  text = read_event(arg, &len);
  if (text)
    rec = cJSON_ParseWithLength(text, len);
  free(text);
  return rec;
}

/* The journal keeps the exact event text; a hand-written file may hold
 * the event as a JSON value instead. Says whether the outcome is the
 * recorded one. */
static int replay_invocation(const lk_cli_run_t *c, const cJSON *rec) {
  const char *fn = lk_json_str(rec, "function");
  const char *outcome = lk_json_str(rec, "outcome");
  const char *etype = lk_json_str(rec, "error_type");
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
  char *event = cJSON_IsString(ev) ? lk_xstrdup(ev->valuestring)
                                   : cJSON_PrintUnformatted(ev);
  one_shot_t s;
  int rc, same;

  memset(&s, 0, sizeof(s));
  rc = run_one(c, fn, event, strlen(event), "replay", &s);
  if (rc == 0) {
    same =
        outcome == NULL ||
        (strcmp(outcome, s.outcome) == 0 &&
         (etype == NULL || (s.error_type && strcmp(etype, s.error_type) == 0)));
    fprintf(stderr, "replay: %s outcome %s%s%s; recorded %s%s%s: %s\n", fn,
            s.outcome, s.error_type ? " " : "",
            s.error_type ? s.error_type : "", outcome ? outcome : "(none)",
            etype ? " " : "", etype ? etype : "",
            same ? "reproduced" : "differs");
    rc = s.loops ? 3 : s.failed ? 1 : 0;
  }
  free(event);
  free(s.outcome);
  free(s.error_type);
  return rc;
}

int lk_cmd_replay(int argc, char **argv) {
  lk_cli_run_t c;
  cJSON *rec;
  int rc;

  if (lk_cli_run_args(argc, argv, &c))
    return 2;
  c.app.command = "local_invoke";
  if (c.args.n_pos < 1 || c.schedule) {
    fprintf(stderr, c.schedule ? "lambkin: replay sends the recorded event, "
                                 "not a schedule's\n"
                               : "lambkin: replay needs a FILE or an "
                                 "invocation ID\n");
    return 2;
  }
  rec = replay_record(c.args.pos[0], c.emu.state_dir);
  if (rec == NULL) {
    fprintf(stderr,
            "lambkin: %s is neither a readable record nor an "
            "invocation in %s/journal.jsonl\n",
            c.args.pos[0], c.emu.state_dir);
    return 2;
  }
  if (lk_json_str(rec, "function") == NULL ||
      cJSON_GetObjectItemCaseSensitive(rec, "event") == NULL) {
    fprintf(stderr, "lambkin: %s has no function and event\n", c.args.pos[0]);
    rc = 2;
  } else if (lk_json_str(rec, "class")) {
    /* A fuzzer finding: the same oracles judge the event once more. */
    rc = lk_fuzz_replay(c.template_path, &c.app, c.emu.state_dir, rec);
  } else {
    rc = replay_invocation(&c, rec);
  }
  cJSON_Delete(rec);
  return rc;
}
