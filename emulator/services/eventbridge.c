/* Emulated EventBridge (see eventbridge.h): buses by name, rules in
 * creation order with their parsed patterns, each with up to five
 * targets; one function per JSON 1.1 action. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "eventbridge.h"
#include "ids.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "pattern.h"
#include "schedule.h"

#define MAX_BUSES 100
#define MAX_ENTRIES 10 /* PutEvents */

typedef struct target {
  char *id, *arn;
  cJSON *spec; /* as PutTargets took it */
} target_t;

typedef struct rule {
  char *name, *bus, *arn;
  cJSON *spec;    /* {Name, EventPattern, ScheduleExpression, State...} */
  cJSON *pattern; /* parsed and checked, or NULL for a schedule */
  target_t targets[LK_EB_MAX_TARGETS];
  int n_targets;
} rule_t;

struct lk_eb {
  char *region, *account;
  char *buses[MAX_BUSES];
  int n_buses;
  rule_t **rules;
  int n_rules;
  lk_eb_deliver_cb cb;
  void *ud;
  lk_eb_rules_cb rules_cb;
  void *rules_ud;
  lk_record_cb rec_cb; /* --state: the state log */
  void *rec_ud;
};

lk_eb_t *lk_eb_new(const char *region, const char *account) {
  lk_eb_t *eb = lk_xcalloc(1, sizeof(*eb));

  eb->region = lk_xstrdup(region);
  eb->account = lk_xstrdup(account);
  eb->buses[eb->n_buses++] = lk_xstrdup("default");
  return eb;
}

static void target_free(target_t *t) {
  free(t->id);
  free(t->arn);
  cJSON_Delete(t->spec);
}

static void rule_free(rule_t *r) {
  int i;

  for (i = 0; i < r->n_targets; i++)
    target_free(&r->targets[i]);
  free(r->name);
  free(r->bus);
  free(r->arn);
  cJSON_Delete(r->spec);
  cJSON_Delete(r->pattern);
  free(r);
}

void lk_eb_free(lk_eb_t *eb) {
  int i;

  if (eb == NULL)
    return;
  for (i = 0; i < eb->n_rules; i++)
    rule_free(eb->rules[i]);
  for (i = 0; i < eb->n_buses; i++)
    free(eb->buses[i]);
  free(eb->rules);
  free(eb->region);
  free(eb->account);
  free(eb);
}

void lk_eb_on_rules(lk_eb_t *eb, lk_eb_rules_cb cb, void *ud) {
  eb->rules_cb = cb;
  eb->rules_ud = ud;
}

/* A rule as the state log and snapshot keep it: its bus, its spec as
 * PutRule took it, and its targets as PutTargets did. */
static cJSON *rule_state(const rule_t *r) {
  cJSON *o = cJSON_CreateObject(), *ts;
  int i;

  cJSON_AddStringToObject(o, "bus", r->bus);
  cJSON_AddItemToObject(o, "spec", cJSON_Duplicate(r->spec, 1));
  ts = cJSON_AddArrayToObject(o, "targets");
  for (i = 0; i < r->n_targets; i++)
    cJSON_AddItemToArray(ts, cJSON_Duplicate(r->targets[i].spec, 1));
  return o;
}

static void record(const lk_eb_t *eb, const char *op, cJSON *o) {
  if (eb->rec_cb) {
    cJSON_AddStringToObject(o, "events", op);
    eb->rec_cb(eb->rec_ud, o, 1);
  }
  cJSON_Delete(o);
}

/* A rule or its targets changed (r), or a rule went (r NULL): the state
 * log hears it, then the schedules. */
static void rules_changed(const lk_eb_t *eb, const rule_t *r) {
  if (r && eb->rec_cb)
    record(eb, "rule", rule_state(r));
  if (eb->rules_cb)
    eb->rules_cb(eb->rules_ud);
}

void lk_eb_on_deliver(lk_eb_t *eb, lk_eb_deliver_cb cb, void *ud) {
  eb->cb = cb;
  eb->ud = ud;
}

/* A bus by name or ARN; "default" when none is named. */
static const char *bus_name(const char *given) {
  const char *slash = given ? strrchr(given, '/') : NULL;

  if (given == NULL || given[0] == '\0')
    return "default";
  return strncmp(given, "arn:", 4) == 0 && slash ? slash + 1 : given;
}

static int find_bus(const lk_eb_t *eb, const char *name) {
  int i;

  for (i = 0; i < eb->n_buses; i++)
    if (strcmp(eb->buses[i], name) == 0)
      return i;
  return -1;
}

static rule_t *find_rule(const lk_eb_t *eb, const char *bus, const char *name) {
  int i;

  for (i = 0; name && i < eb->n_rules; i++)
    if (strcmp(eb->rules[i]->name, name) == 0 &&
        strcmp(eb->rules[i]->bus, bus_name(bus)) == 0)
      return eb->rules[i];
  return NULL;
}

static int failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return LK_EINVAL;
}

/* ---- rules and targets ---- */

static int valid_name(const char *s) {
  size_t n = s ? strlen(s) : 0;

  return n >= 1 && n <= 64 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789._-") == n;
}

/* EventPattern as text or an object: parsed and checked; NULL (and err
 * set) when it is not a pattern. */
static cJSON *parse_pattern(const cJSON *given, char *err, size_t errlen) {
  cJSON *p = cJSON_IsString(given) ? cJSON_Parse(given->valuestring)
                                   : cJSON_Duplicate(given, 1);

  if (lk_pattern_check(p, err, errlen) != 0) {
    if (p == NULL)
      snprintf(err, errlen,
               "Event pattern is not valid. Reason: it is not "
               "JSON");
    cJSON_Delete(p);
    return NULL;
  }
  return p;
}

int lk_eb_put_rule(lk_eb_t *eb, const char *bus, const cJSON *spec, char *err,
                   size_t errlen) {
  const char *name = lk_json_str(spec, "Name");
  const cJSON *given = cJSON_GetObjectItemCaseSensitive(spec, "EventPattern");
  const char *schedule = lk_json_str(spec, "ScheduleExpression");
  cJSON *pattern = NULL;
  lk_sched_t sched;
  rule_t *r;

  bus = bus_name(bus);
  if (!valid_name(name))
    return failf(err, errlen,
                 "1 validation error detected: Value '%.64s' at 'name' failed "
                 "to satisfy constraint: Member must satisfy regular "
                 "expression pattern: [\\.\\-_A-Za-z0-9]+",
                 name ? name : "null");
  if (find_bus(eb, bus) < 0)
    return failf(err, errlen, "Event bus %.64s does not exist.", bus);
  if (given == NULL && schedule == NULL)
    return failf(err, errlen,
                 "Parameter(s) EventPattern or "
                 "ScheduleExpression must be specified.");
  if (schedule && lk_sched_parse(schedule, &sched, err, errlen) != 0)
    return LK_EINVAL;
  if (lk_json_str(spec, "ScheduleExpressionTimezone") &&
      !lk_sched_zone_ok(lk_json_str(spec, "ScheduleExpressionTimezone")))
    return failf(err, errlen,
                 "Parameter ScheduleExpressionTimezone is not valid: no "
                 "such time zone");
  if (given && (pattern = parse_pattern(given, err, errlen)) == NULL)
    return LK_EINVAL;
  r = find_rule(eb, bus, name);
  if (r == NULL) {
    if (eb->n_rules == LK_EB_MAX_RULES) {
      cJSON_Delete(pattern);
      return failf(err, errlen,
                   "The requested resource exceeds the maximum "
                   "number allowed.");
    }
    r = lk_xcalloc(1, sizeof(*r));
    r->name = lk_xstrdup(name);
    r->bus = lk_xstrdup(bus);
    r->arn = strcmp(bus, "default") == 0
                 ? lk_xasprintf("arn:aws:events:%s:%s:rule/%s", eb->region,
                                eb->account, name)
                 : lk_xasprintf("arn:aws:events:%s:%s:rule/%s/%s", eb->region,
                                eb->account, bus, name);
    eb->rules =
        lk_xrealloc(eb->rules, sizeof(*eb->rules) * (size_t)(eb->n_rules + 1));
    eb->rules[eb->n_rules++] = r;
  }
  cJSON_Delete(r->spec);
  cJSON_Delete(r->pattern);
  r->spec = cJSON_Duplicate(spec, 1);
  r->pattern = pattern;
  rules_changed(eb, r);
  return 0;
}

static int enabled(const rule_t *r) {
  const char *state = lk_json_str(r->spec, "State");

  return state == NULL || strcmp(state, "DISABLED") != 0;
}

void lk_eb_each_schedule(const lk_eb_t *eb, lk_eb_schedule_cb cb, void *ud) {
  int i;

  for (i = 0; i < eb->n_rules; i++) {
    const rule_t *r = eb->rules[i];
    const char *expr = lk_json_str(r->spec, "ScheduleExpression");

    if (expr && enabled(r))
      cb(ud, r->bus, r->name, expr,
         lk_json_str(r->spec, "ScheduleExpressionTimezone"));
  }
}

int lk_eb_put_target(lk_eb_t *eb, const char *bus, const char *rule,
                     const cJSON *spec, char *err, size_t errlen) {
  rule_t *r = find_rule(eb, bus, rule);
  const char *id = lk_json_str(spec, "Id"), *arn = lk_json_str(spec, "Arn");
  int i;

  if (r == NULL)
    return LK_ENOENT;
  if (id == NULL || arn == NULL)
    return failf(err, errlen, "A target needs an Id and an Arn");
  for (i = 0; i < r->n_targets && strcmp(r->targets[i].id, id) != 0; i++)
    ;
  if (i == LK_EB_MAX_TARGETS)
    return failf(err, errlen,
                 "The requested resource exceeds the maximum "
                 "number allowed.");
  if (i == r->n_targets)
    r->n_targets++;
  else
    target_free(&r->targets[i]);
  r->targets[i].id = lk_xstrdup(id);
  r->targets[i].arn = lk_xstrdup(arn);
  r->targets[i].spec = cJSON_Duplicate(spec, 1);
  rules_changed(eb, r);
  return 0;
}

/* ---- what a target gets ---- */

/* "$", or "$.a.b": the node of the event it names, or NULL. */
static const cJSON *json_path(const cJSON *event, const char *path) {
  const cJSON *at = event;
  char part[256];

  if (path == NULL || path[0] != '$')
    return NULL;
  path++;
  while (*path == '.' && at) {
    size_t n = strcspn(path + 1, ".");

    if (n == 0 || n >= sizeof(part))
      return NULL;
    memcpy(part, path + 1, n);
    part[n] = '\0';
    at = cJSON_GetObjectItemCaseSensitive(at, part);
    path += 1 + n;
  }
  return *path == '\0' ? at : NULL;
}

/* InputTransformer: each <name> of InputTemplate replaced by the value
 * its InputPathsMap path selects (a string as it is, anything else as
 * JSON), or by what EventBridge predefines. */
static char *transform(const cJSON *tr, const cJSON *event, const rule_t *r) {
  const char *tpl = lk_json_str(tr, "InputTemplate");
  const cJSON *paths = cJSON_GetObjectItemCaseSensitive(tr, "InputPathsMap");
  lk_buf_t b;
  const char *p;

  lk_buf_init(&b, LK_EB_MAX_EVENT * 2);
  for (p = tpl ? tpl : ""; *p;) {
    const char *close = *p == '<' ? strchr(p, '>') : NULL;
    char name[128];
    const cJSON *v;

    if (close == NULL || (size_t)(close - p - 1) >= sizeof(name)) {
      lk_buf_add(&b, p++, 1);
      continue;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
    if (strcmp(name, "aws.events.rule-arn") == 0)
      lk_buf_adds(&b, r->arn);
    else if (strcmp(name, "aws.events.rule-name") == 0)
      lk_buf_adds(&b, r->name);
    else if (strcmp(name, "aws.events.event") == 0 ||
             strcmp(name, "aws.events.event.json") == 0) {
      char *text = cJSON_PrintUnformatted(event);

      lk_buf_adds(&b, text);
      free(text);
    } else if (cJSON_GetObjectItemCaseSensitive(paths, name)) {
      v = json_path(event, lk_json_str(paths, name));
      if (cJSON_IsString(v)) {
        lk_buf_adds(&b, v->valuestring);
      } else if (v) {
        char *text = cJSON_PrintUnformatted(v);

        lk_buf_adds(&b, text);
        free(text);
      }
    } else {
      lk_buf_add(&b, p, (size_t)(close - p + 1)); /* not a placeholder */
    }
    p = close + 1;
  }
  return lk_buf_steal(&b, NULL);
}

/* What one target of a rule gets for an event (the caller frees it). */
static char *payload_for(const target_t *t, const cJSON *event,
                         const rule_t *r) {
  const char *input = lk_json_str(t->spec, "Input");
  const char *path = lk_json_str(t->spec, "InputPath");
  const cJSON *tr =
      cJSON_GetObjectItemCaseSensitive(t->spec, "InputTransformer");

  if (input)
    return lk_xstrdup(input);
  if (tr)
    return transform(tr, event, r);
  if (path) {
    const cJSON *v = json_path(event, path);

    return v ? cJSON_PrintUnformatted(v) : lk_xstrdup("null");
  }
  return cJSON_PrintUnformatted(event);
}

static void deliver(lk_eb_t *eb, const rule_t *r, const cJSON *event,
                    const char *trace) {
  int i;

  for (i = 0; eb->cb && i < r->n_targets; i++) {
    char *payload = payload_for(&r->targets[i], event, r);
    const cJSON *dlc = cJSON_GetObjectItemCaseSensitive(r->targets[i].spec,
                                                        "DeadLetterConfig");
    lk_eb_delivery_t d = {
        r->arn, r->targets[i].id,       r->targets[i].arn, payload,
        trace,  lk_json_str(dlc, "Arn")};

    if (payload)
      eb->cb(eb->ud, &d);
    free(payload);
  }
}

/* The clock schedules fire by: time() is a coarse clock that can still
 * show the second before. */
static void iso_now(char *out, size_t cap) {
  time_t now = (time_t)(lk_now_ms() / 1000);
  struct tm tm;

  gmtime_r(&now, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cJSON *lk_eb_event(const char *region, const char *account, const char *source,
                   const char *detail_type, cJSON *detail,
                   const cJSON *resources) {
  cJSON *e = cJSON_CreateObject();
  char id[37], when[32];

  lk_uuid(id);
  iso_now(when, sizeof(when));
  cJSON_AddStringToObject(e, "version", "0");
  cJSON_AddStringToObject(e, "id", id);
  cJSON_AddStringToObject(e, "detail-type", detail_type);
  cJSON_AddStringToObject(e, "source", source);
  cJSON_AddStringToObject(e, "account", account);
  cJSON_AddStringToObject(e, "time", when);
  cJSON_AddStringToObject(e, "region", region);
  cJSON_AddItemToObject(e, "resources",
                        resources ? cJSON_Duplicate(resources, 1)
                                  : cJSON_CreateArray());
  cJSON_AddItemToObject(e, "detail", detail ? detail : cJSON_CreateObject());
  return e;
}

int lk_eb_fire(lk_eb_t *eb, const char *bus, const char *rule,
               const char *trace) {
  rule_t *r = find_rule(eb, bus, rule);
  cJSON *res, *e;

  if (r == NULL)
    return LK_ENOENT;
  res = cJSON_CreateArray();
  cJSON_AddItemToArray(res, cJSON_CreateString(r->arn));
  e = lk_eb_event(eb->region, eb->account, "aws.events", "Scheduled Event",
                  NULL, res);
  deliver(eb, r, e, trace);
  cJSON_Delete(e);
  cJSON_Delete(res);
  return 0;
}

/* ---- the wire protocol ---- */

typedef struct ctx {
  lk_eb_t *eb;
  cJSON *in, *out;
  const char *trace;
  const char *err_type;
  char err_msg[512];
} ctx_t;

static int fail(ctx_t *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(ctx_t *c, const char *type, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
  va_end(ap);
  c->err_type = type;
  return -1;
}

static rule_t *need_rule(ctx_t *c, const char *field) {
  const char *name = lk_json_str(c->in, field);
  rule_t *r = find_rule(c->eb, lk_json_str(c->in, "EventBusName"), name);

  if (r == NULL)
    fail(c, "ResourceNotFoundException", "Rule %.64s does not exist.",
         name ? name : "null");
  return r;
}

/* One PutEvents entry: its event, or NULL with why in err. */
static cJSON *entry_event(ctx_t *c, const cJSON *en, size_t *bytes,
                          const char **code, char *err, size_t errlen) {
  const char *source = lk_json_str(en, "Source");
  const char *type = lk_json_str(en, "DetailType");
  const char *detail = lk_json_str(en, "Detail");
  cJSON *d;

  *code = "InvalidArgument";
  if (source == NULL || type == NULL || detail == NULL) {
    snprintf(err, errlen,
             "Parameters Source, DetailType and Detail are "
             "required.");
    return NULL;
  }
  *bytes += strlen(source) + strlen(type) + strlen(detail);
  d = cJSON_Parse(detail);
  if (!cJSON_IsObject(d)) {
    cJSON_Delete(d);
    *code = "MalformedDetail";
    snprintf(err, errlen, "Detail is malformed.");
    return NULL;
  }
  return lk_eb_event(c->eb->region, c->eb->account, source, type, d,
                     cJSON_GetObjectItemCaseSensitive(en, "Resources"));
}

static int op_put_events(ctx_t *c) {
  const cJSON *entries = cJSON_GetObjectItemCaseSensitive(c->in, "Entries");
  const cJSON *en;
  cJSON *results;
  size_t bytes = 0;
  int failed = 0, n = cJSON_GetArraySize(entries), i;

  if (!cJSON_IsArray(entries) || n < 1 || n > MAX_ENTRIES)
    return fail(c, "ValidationException",
                "1 validation error detected: Value at 'entries' failed to "
                "satisfy constraint: Member must have length less than or "
                "equal to 10");
  cJSON_ArrayForEach(en, entries) {
    const char *s = lk_json_str(en, "Detail");

    bytes += s ? strlen(s) : 0;
  }
  if (bytes > LK_EB_MAX_EVENT)
    return fail(c, "ValidationException",
                "Total size of the entries in the request is over the limit.");
  results = cJSON_AddArrayToObject(c->out, "Entries");
  bytes = 0;
  cJSON_ArrayForEach(en, entries) {
    const char *bus = bus_name(lk_json_str(en, "EventBusName"));
    const char *code;
    char err[256];
    cJSON *r = cJSON_CreateObject();
    cJSON *e = entry_event(c, en, &bytes, &code, err, sizeof(err));

    if (e && find_bus(c->eb, bus) < 0) {
      cJSON_Delete(e);
      e = NULL;
      code = "InvalidArgument";
      snprintf(err, sizeof(err), "Event bus %.64s does not exist.", bus);
    }
    if (e == NULL) {
      cJSON_AddStringToObject(r, "ErrorCode", code);
      cJSON_AddStringToObject(r, "ErrorMessage", err);
      failed++;
    } else {
      cJSON_AddStringToObject(r, "EventId", lk_json_str(e, "id"));
      for (i = 0; i < c->eb->n_rules; i++) {
        const rule_t *rule = c->eb->rules[i];

        if (strcmp(rule->bus, bus) == 0 && rule->pattern && enabled(rule) &&
            lk_pattern_match(rule->pattern, e))
          deliver(c->eb, rule, e, c->trace);
      }
      cJSON_Delete(e);
    }
    cJSON_AddItemToArray(results, r);
  }
  cJSON_AddNumberToObject(c->out, "FailedEntryCount", failed);
  return 0;
}

static int op_put_rule(ctx_t *c) {
  char err[512];
  const rule_t *r;

  if (lk_eb_put_rule(c->eb, lk_json_str(c->in, "EventBusName"), c->in, err,
                     sizeof(err)) != 0)
    return fail(
        c,
        strncmp(err, "Event pattern", 13) == 0 ? "InvalidEventPatternException"
        : strncmp(err, "Event bus", 9) == 0    ? "ResourceNotFoundException"
                                               : "ValidationException",
        "%s", err);
  r = find_rule(c->eb, lk_json_str(c->in, "EventBusName"),
                lk_json_str(c->in, "Name"));
  cJSON_AddStringToObject(c->out, "RuleArn", r->arn);
  return 0;
}

static cJSON *rule_json(const rule_t *r) {
  cJSON *o = cJSON_CreateObject();
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->spec, "EventPattern");
  static const char *const copied[] = {"ScheduleExpression", "Description",
                                       "RoleArn"};
  size_t k;

  cJSON_AddStringToObject(o, "Name", r->name);
  cJSON_AddStringToObject(o, "Arn", r->arn);
  if (cJSON_IsString(p)) {
    cJSON_AddStringToObject(o, "EventPattern", p->valuestring);
  } else if (p) {
    char *text = cJSON_PrintUnformatted(p);

    cJSON_AddStringToObject(o, "EventPattern", text);
    free(text);
  }
  for (k = 0; k < sizeof(copied) / sizeof(copied[0]); k++)
    if (lk_json_str(r->spec, copied[k]))
      cJSON_AddStringToObject(o, copied[k], lk_json_str(r->spec, copied[k]));
  cJSON_AddStringToObject(o, "State", enabled(r) ? "ENABLED" : "DISABLED");
  cJSON_AddStringToObject(o, "EventBusName", r->bus);
  return o;
}

static int op_describe_rule(ctx_t *c) {
  rule_t *r = need_rule(c, "Name");
  cJSON *o, *it;

  if (r == NULL)
    return -1;
  o = rule_json(r);
  while ((it = o->child) != NULL)
    cJSON_AddItemToObject(c->out, it->string,
                          cJSON_DetachItemViaPointer(o, it));
  cJSON_Delete(o);
  return 0;
}

static int op_list_rules(ctx_t *c) {
  const char *prefix = lk_json_str(c->in, "NamePrefix");
  const char *bus = bus_name(lk_json_str(c->in, "EventBusName"));
  cJSON *list = cJSON_AddArrayToObject(c->out, "Rules");
  int i;

  for (i = 0; i < c->eb->n_rules; i++) {
    const rule_t *r = c->eb->rules[i];

    if (strcmp(r->bus, bus) == 0 &&
        (prefix == NULL || strncmp(r->name, prefix, strlen(prefix)) == 0))
      cJSON_AddItemToArray(list, rule_json(r));
  }
  return 0;
}

/* The rule goes, targets and all. */
static void drop_rule(lk_eb_t *eb, rule_t *r) {
  cJSON *gone = cJSON_CreateObject();
  int i;

  cJSON_AddStringToObject(gone, "bus", r->bus);
  cJSON_AddStringToObject(gone, "name", r->name);
  record(eb, "unrule", gone);
  for (i = 0; eb->rules[i] != r; i++)
    ;
  memmove(&eb->rules[i], &eb->rules[i + 1],
          sizeof(*eb->rules) * (size_t)(eb->n_rules - i - 1));
  eb->n_rules--;
  rule_free(r);
  rules_changed(eb, NULL);
}

static int op_delete_rule(ctx_t *c) {
  rule_t *r = find_rule(c->eb, lk_json_str(c->in, "EventBusName"),
                        lk_json_str(c->in, "Name"));

  if (r == NULL)
    return 0; /* EventBridge answers a delete of nothing with success */
  if (r->n_targets)
    return fail(c, "ValidationException",
                "Rule can't be deleted since it has targets.");
  drop_rule(c->eb, r);
  return 0;
}

static int set_state(ctx_t *c, const char *state) {
  rule_t *r = need_rule(c, "Name");

  if (r == NULL)
    return -1;
  cJSON_DeleteItemFromObjectCaseSensitive(r->spec, "State");
  cJSON_AddStringToObject(r->spec, "State", state);
  rules_changed(c->eb, r);
  return 0;
}

static int op_enable_rule(ctx_t *c) {
  return set_state(c, "ENABLED");
}

static int op_disable_rule(ctx_t *c) {
  return set_state(c, "DISABLED");
}

static int op_put_targets(ctx_t *c) {
  rule_t *r = need_rule(c, "Rule");
  const cJSON *t;
  cJSON *failed;
  int n = 0;

  if (r == NULL)
    return -1;
  failed = cJSON_AddArrayToObject(c->out, "FailedEntries");
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c->in, "Targets")) {
    char err[256];

    if (lk_eb_put_target(c->eb, lk_json_str(c->in, "EventBusName"), r->name, t,
                         err, sizeof(err)) != 0) {
      cJSON *f = cJSON_CreateObject();

      cJSON_AddStringToObject(f, "TargetId",
                              lk_json_str(t, "Id") ? lk_json_str(t, "Id") : "");
      cJSON_AddStringToObject(f, "ErrorCode", "LimitExceededException");
      cJSON_AddStringToObject(f, "ErrorMessage", err);
      cJSON_AddItemToArray(failed, f);
      n++;
    }
  }
  cJSON_AddNumberToObject(c->out, "FailedEntryCount", n);
  return 0;
}

static int op_remove_targets(ctx_t *c) {
  rule_t *r = need_rule(c, "Rule");
  const cJSON *id;
  int i;

  if (r == NULL)
    return -1;
  cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(c->in, "Ids")) {
    for (i = 0; cJSON_IsString(id) && i < r->n_targets; i++)
      if (strcmp(r->targets[i].id, id->valuestring) == 0) {
        target_free(&r->targets[i]);
        memmove(&r->targets[i], &r->targets[i + 1],
                sizeof(r->targets[0]) * (size_t)(r->n_targets - i - 1));
        r->n_targets--;
        break;
      }
  }
  rules_changed(c->eb, r);
  cJSON_AddNumberToObject(c->out, "FailedEntryCount", 0);
  cJSON_AddArrayToObject(c->out, "FailedEntries");
  return 0;
}

static int op_list_targets(ctx_t *c) {
  rule_t *r = need_rule(c, "Rule");
  cJSON *list;
  int i;

  if (r == NULL)
    return -1;
  list = cJSON_AddArrayToObject(c->out, "Targets");
  for (i = 0; i < r->n_targets; i++)
    cJSON_AddItemToArray(list, cJSON_Duplicate(r->targets[i].spec, 1));
  return 0;
}

int lk_eb_create_bus(lk_eb_t *eb, const char *name) {
  if (!valid_name(name) || strcmp(name, "default") == 0)
    return LK_EINVAL;
  if (find_bus(eb, name) >= 0)
    return LK_EEXIST;
  if (eb->n_buses == MAX_BUSES)
    return LK_ENOSPC;
  eb->buses[eb->n_buses++] = lk_xstrdup(name);
  if (eb->rec_cb) {
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "name", name);
    record(eb, "bus", o);
  }
  return 0;
}

/* ---- --state ---- */

void lk_eb_on_record(lk_eb_t *eb, lk_record_cb cb, void *ud) {
  eb->rec_cb = cb;
  eb->rec_ud = ud;
}

int lk_eb_save(const lk_eb_t *eb, const char *path, uint64_t gen) {
  cJSON *root = cJSON_CreateObject(), *list;
  int i, err;

  cJSON_AddNumberToObject(root, "aof", (double)gen);
  list = cJSON_AddArrayToObject(root, "buses");
  for (i = 1; i < eb->n_buses; i++) /* not the default one */
    cJSON_AddItemToArray(list, cJSON_CreateString(eb->buses[i]));
  list = cJSON_AddArrayToObject(root, "rules");
  for (i = 0; i < eb->n_rules; i++)
    cJSON_AddItemToArray(list, rule_state(eb->rules[i]));
  err = lk_save_json(path, root);
  cJSON_Delete(root);
  return err;
}

/* A rule as saved: put again (over the template's, if it has one), its
 * targets those it had. */
static void load_rule(lk_eb_t *eb, const cJSON *o) {
  const char *bus = lk_json_str(o, "bus");
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec"), *t;
  char err[512];
  rule_t *r;
  int i;

  if (lk_eb_put_rule(eb, bus, spec, err, sizeof(err)) != 0 ||
      (r = find_rule(eb, bus, lk_json_str(spec, "Name"))) == NULL)
    return;
  for (i = 0; i < r->n_targets; i++)
    target_free(&r->targets[i]);
  r->n_targets = 0;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(o, "targets")) {
    lk_eb_put_target(eb, bus, r->name, t, err, sizeof(err));
  }
}

int lk_eb_load(lk_eb_t *eb, const char *path, uint64_t *gen) {
  cJSON *root;
  const cJSON *o, *aof;
  int err = lk_load_json(path, &root);

  if (err)
    return err;
  aof = cJSON_GetObjectItemCaseSensitive(root, "aof");
  *gen = cJSON_IsNumber(aof) && aof->valuedouble > 0 && aof->valuedouble < 9e18
             ? (uint64_t)aof->valuedouble
             : 0;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "buses")) {
    if (cJSON_IsString(o))
      lk_eb_create_bus(eb, o->valuestring);
  }
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "rules")) {
    load_rule(eb, o);
  }
  cJSON_Delete(root);
  return 0;
}

void lk_eb_apply(lk_eb_t *eb, const cJSON *rec) {
  const char *op = lk_json_str(rec, "events");
  rule_t *r;

  if (op && strcmp(op, "bus") == 0) {
    lk_eb_create_bus(eb, lk_json_str(rec, "name"));
  } else if (op && strcmp(op, "rule") == 0) {
    load_rule(eb, rec);
  } else if (op && strcmp(op, "unrule") == 0) {
    r = find_rule(eb, lk_json_str(rec, "bus"), lk_json_str(rec, "name"));
    if (r)
      drop_rule(eb, r);
  }
}

static int op_create_event_bus(ctx_t *c) {
  const char *name = lk_json_str(c->in, "Name");
  int rc = lk_eb_create_bus(c->eb, name);
  char *arn;

  if (rc == LK_EINVAL)
    return fail(c, "ValidationException", "Invalid event bus name: %.64s",
                name ? name : "null");
  if (rc == LK_EEXIST)
    return fail(c, "ResourceAlreadyExistsException",
                "Event bus %.64s already exists.", name);
  if (rc)
    return fail(c, "LimitExceededException",
                "The requested resource exceeds the maximum number allowed.");
  arn = lk_xasprintf("arn:aws:events:%s:%s:event-bus/%s", c->eb->region,
                     c->eb->account, name);
  cJSON_AddStringToObject(c->out, "EventBusArn", arn);
  free(arn);
  return 0;
}

static int op_list_event_buses(ctx_t *c) {
  cJSON *list = cJSON_AddArrayToObject(c->out, "EventBuses");
  int i;

  for (i = 0; i < c->eb->n_buses; i++) {
    cJSON *o = cJSON_CreateObject();
    char *arn = lk_xasprintf("arn:aws:events:%s:%s:event-bus/%s", c->eb->region,
                             c->eb->account, c->eb->buses[i]);

    cJSON_AddStringToObject(o, "Name", c->eb->buses[i]);
    cJSON_AddStringToObject(o, "Arn", arn);
    cJSON_AddItemToArray(list, o);
    free(arn);
  }
  return 0;
}

static int op_test_event_pattern(ctx_t *c) {
  const char *text = lk_json_str(c->in, "Event");
  cJSON *event = text ? cJSON_Parse(text) : NULL;
  char err[512];
  cJSON *p =
      parse_pattern(cJSON_GetObjectItemCaseSensitive(c->in, "EventPattern"),
                    err, sizeof(err));
  int rc = 0;

  if (p == NULL)
    rc = fail(c, "InvalidEventPatternException", "%s", err);
  else if (!cJSON_IsObject(event))
    rc = fail(c, "InvalidEventPatternException", "Event is not valid JSON.");
  else
    cJSON_AddBoolToObject(c->out, "Result", lk_pattern_match(p, event));
  cJSON_Delete(p);
  cJSON_Delete(event);
  return rc;
}

static const struct {
  const char *name;
  int (*fn)(ctx_t *c);
} ops[] = {
    {"PutEvents", op_put_events},
    {"PutRule", op_put_rule},
    {"DescribeRule", op_describe_rule},
    {"ListRules", op_list_rules},
    {"DeleteRule", op_delete_rule},
    {"EnableRule", op_enable_rule},
    {"DisableRule", op_disable_rule},
    {"PutTargets", op_put_targets},
    {"RemoveTargets", op_remove_targets},
    {"ListTargetsByRule", op_list_targets},
    {"CreateEventBus", op_create_event_bus},
    {"ListEventBuses", op_list_event_buses},
    {"TestEventPattern", op_test_event_pattern},
};

int lk_eb_call(lk_eb_t *eb, const char *target, const char *trace,
               const char *body, size_t len, char **out) {
  const char *op = target ? strchr(target, '.') : NULL;
  ctx_t c = {0};
  cJSON *e;
  size_t i;

  c.eb = eb;
  c.trace = trace;
  c.in = cJSON_ParseWithLength(len ? body : "{}", len ? len : 2);
  c.out = cJSON_CreateObject();
  for (i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
    if (strcmp(ops[i].name, op + 1) == 0)
      break;
  if (!cJSON_IsObject(c.in) || body == NULL)
    fail(&c, "SerializationException",
         "Start of structure or map found "
         "where not expected");
  else if (op == NULL || i == sizeof(ops) / sizeof(ops[0]))
    fail(&c, "UnknownOperationException",
         "lambkin does not emulate events.%.64s", op ? op + 1 : "");
  else
    ops[i].fn(&c);
  if (c.err_type) {
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "__type", c.err_type);
    cJSON_AddStringToObject(e, "message", c.err_msg);
  } else {
    e = c.out;
    c.out = NULL;
  }
  *out = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  cJSON_Delete(c.in);
  cJSON_Delete(c.out);
  return c.err_type ? 400 : 200;
}

void lk_eb_serve(lk_eb_t *eb, lk_http_req_t *req) {
  lk_http_header_t h[2];
  char rid[37], *text;
  int status = lk_eb_call(
      eb, lk_http_header(req, "X-Amz-Target"),
      lk_http_header(req, "X-Amzn-Trace-Id"),
      req->body_too_large ? NULL : (req->body.len ? req->body.data : ""),
      req->body.len, &text);

  lk_uuid(rid);
  h[0] = (lk_http_header_t){"x-amzn-RequestId", rid};
  h[1] = (lk_http_header_t){"Content-Type", "application/x-amz-json-1.1"};
  lk_http_respond(req, status, h, 2, text, strlen(text));
  free(text);
}
