/* What serve, invoke and replay share: their options, loading the
 * template, and a teardown after which uv_loop_close() succeeds. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec.h"
#include "journal.h"
#include "json.h"
#include "lambkin/lambkin.h"

/* Takes "a,b, c" into the list; -1 when it is full. */
/* --max-memory SIZE: megabytes, or a number with K, M or G after it;
 * at most a petabyte. */
static int set_size(const char *value, void *ud) {
  static const char units[] = "KMG";
  size_t n = strlen(value);
  const char *u = n ? strchr(units, value[n - 1] & ~0x20) : NULL;
  int shift = u && *u ? 10 * (int)(u - units + 1) : 20;
  char digits[24];
  long v;

  if (u && *u)
    n--;
  if (n == 0 || n >= sizeof(digits))
    return -1;
  memcpy(digits, value, n);
  digits[n] = '\0';
  if (lk_parse_long(digits, 1, 1L << (50 - shift), &v) != 0)
    return -1;
  *(uint64_t *)ud = (uint64_t)v << shift;
  return 0;
}

static int add_items(const char *value, void *ud) {
  lk_cli_list_t *l = ud;
  const char *p = value;

  while (*p) {
    size_t n;

    p += strspn(p, " ,");
    n = strcspn(p, ",");
    while (n > 0 && p[n - 1] == ' ')
      n--;
    if (n == 0)
      break;
    if (l->n == LK_CLI_LIST_MAX || l->used + n + 1 > sizeof(l->buf))
      return -1;
    memcpy(l->buf + l->used, p, n);
    l->buf[l->used + n] = '\0';
    l->items[l->n++] = l->buf + l->used;
    l->used += n + 1;
    p += n;
  }
  return 0;
}

int lk_cli_is_loopback(const char *host) {
  struct in_addr a;

  if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
    return 1;
  return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* "KEY:SECRET", both non-empty. */
static int add_cred(const char *value, void *ud) {
  const char *colon = strchr(value, ':');

  if (colon == NULL || colon == value || colon[1] == '\0')
    return -1;
  return add_items(value, ud);
}

/* With --require-signature and no --credentials, the credentials in
 * lambkin's own environment: the ones the user's aws CLI signs with. */
static void env_credentials(lk_cli_run_t *c) {
  const char *key = getenv("AWS_ACCESS_KEY_ID");
  const char *secret = getenv("AWS_SECRET_ACCESS_KEY");

  if (c->creds.n || key == NULL || secret == NULL || !key[0] || !secret[0])
    return;
  snprintf(c->env_cred, sizeof(c->env_cred), "%s:%s", key, secret);
  c->creds.items[c->creds.n++] = c->env_cred;
}

int lk_cli_run_args(int argc, char **argv, lk_cli_run_t *c) {
  lk_emu_opts_t *o = &c->emu;
  const lk_opt_t opts[] = {
      {"template", 't', LK_OPT_STR, &c->template_path, 0, 0, NULL, NULL},
      {"event", 'e', LK_OPT_STR, &c->event, 0, 0, NULL, NULL},
      {"schedule", 0, LK_OPT_FLAG, &c->schedule, 0, 0, NULL, NULL},
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
      {"no-watch", 0, LK_OPT_FLAG, &c->no_watch, 0, 0, NULL, NULL},
      {"no-sandbox", 0, LK_OPT_FLAG, &c->no_sandbox, 0, 0, NULL, NULL},
      {"no-install", 0, LK_OPT_FLAG, &c->no_install, 0, 0, NULL, NULL},
      {"no-fork-server", 0, LK_OPT_FLAG, &o->no_fork_server, 0, 0, NULL, NULL},
      {"max-memory", 0, LK_OPT_CALL, &o->max_memory, 0, 0, NULL, set_size},
      {"debug-port", 'd', LK_OPT_INT, &o->debug_port, 1, 65535, NULL, NULL},
      {"debug-function", 0, LK_OPT_STR, &o->debug_function, 0, 0, NULL, NULL},
      {"env-vars", 'n', LK_OPT_STR, &c->env_vars, 0, 0, NULL, NULL},
      {"allowed-hosts", 0, LK_OPT_CALL, &c->hosts, 0, 0, NULL, add_items},
      {"cors-origin", 0, LK_OPT_CALL, &c->origins, 0, 0, NULL, add_items},
      {"credentials", 0, LK_OPT_CALL, &c->creds, 0, 0, NULL, add_cred},
      {"require-signature", 0, LK_OPT_FLAG, &o->require_signature, 0, 0, NULL,
       NULL},
      {"allow-unsigned", 0, LK_OPT_FLAG, &c->allow_unsigned, 0, 0, NULL, NULL},
      LK_CLI_APP_OPTS(&c->app),
  };
  int rc;

  memset(c, 0, sizeof(*c));
  c->template_path = "template.yaml";
  c->scale_delay = -1;
  o->port = 3001;
  o->api_port = 3000;
  o->state_dir = ".lambkin";
  rc = lk_args_parse(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]),
                     &c->args);
  o->sandbox = !c->no_sandbox;
  o->install = !c->no_install;
  if (rc == 0 && o->host && add_items(o->host, &c->hosts)) {
    fprintf(stderr, "lambkin: too many --allowed-hosts\n");
    rc = -1;
  }
  if (rc == 0 && o->host && !lk_cli_is_loopback(o->host) && !c->allow_unsigned)
    o->require_signature = 1; /* reachable from elsewhere: no anonymity */
  if (rc == 0 && o->require_signature)
    env_credentials(c);
  o->credentials = c->creds.items;
  o->n_credentials = c->creds.n;
  o->browser.hosts = c->hosts.items;
  o->browser.n_hosts = c->hosts.n;
  o->browser.origins = c->origins.items;
  o->browser.n_origins = c->origins.n;
  return rc;
}

/* SAM's --env-vars file, applied to the app's functions. */
static int env_vars(lk_app_t *app, const char *path, char *err, size_t cap) {
  cJSON *doc = NULL;
  int rc = lk_load_json(path, &doc);

  if (rc) {
    snprintf(err, cap, "--env-vars: cannot read %s as JSON", path);
    return rc;
  }
  rc = lk_app_env_vars(app, doc, err, cap);
  cJSON_Delete(doc);
  return rc;
}

lk_app_t *lk_cli_load(const char *template_path, const lk_app_opts_t *opts,
                      const char *env_file) {
  char err[2048];
  lk_app_t *app;

  if (lk_app_load(template_path, opts, &app, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    return NULL;
  }
  if (env_file && env_vars(app, env_file, err, sizeof(err))) {
    fprintf(stderr, "lambkin: %s\n", err);
    lk_app_free(app);
    return NULL;
  }
  lk_app_say_warnings(app, stderr);
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

#define LINE_MAX_BYTES (16 * 1024 * 1024) /* a journal line read */

/* Adds one access record to {function: {resource: [actions]}}. */
static void add_use(cJSON *all, const cJSON *rec) {
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "function"));
  const char *action = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "action"));
  const char *resource =
      cJSON_GetStringValue(cJSON_GetObjectItem(rec, "resource"));
  cJSON *fn, *acts, *a;

  if (name == NULL || action == NULL || resource == NULL)
    return;
  fn = cJSON_GetObjectItemCaseSensitive(all, name);
  fn = fn ? fn : cJSON_AddObjectToObject(all, name);
  acts = cJSON_GetObjectItemCaseSensitive(fn, resource);
  acts = acts ? acts : cJSON_AddArrayToObject(fn, resource);
  cJSON_ArrayForEach(a, acts) {
    if (strcmp(a->valuestring, action) == 0)
      return;
  }
  cJSON_AddItemToArray(acts, cJSON_CreateString(action));
}

static void add_line(const char *line, size_t len, void *ud) {
  cJSON *rec;

  if (len > LINE_MAX_BYTES)
    return;
  rec = cJSON_ParseWithLength(line, len);
  add_use(ud, rec);
  cJSON_Delete(rec);
}

/* {function: {resource: [actions]}} from the journal's access records. */
cJSON *lk_cli_observed(const char *state) {
  cJSON *all = cJSON_CreateObject();

  lk_journal_each(state, "\"type\":\"access\"", add_line, all);
  return all;
}
