/* Oracles (see oracle.h). The sink report is one line per watched call,
 * "kind\tfield\tfield", escaped by fuzz/sink.c; the log is the lines the
 * function printed, as lambkin split them. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mutator.h"
#include "oracle.h"

#define FIELD_MAX 8192
/* cwd + "/" + path, two fields: resolving one never truncates it. */
#define RESOLVED_MAX (2 * FIELD_MAX + 2)

static int add(lk_verdict_t *out, int n, int max, const char *cls,
               const char *sink, const char *evidence, size_t elen) {
  int i;

  for (i = 0; i < n; i++) /* one verdict per (class, sink) and invocation */
    if (strcmp(out[i].cls, cls) == 0 && strcmp(out[i].sink, sink) == 0)
      return n;
  if (n >= max)
    return n;
  out[n].cls = cls;
  snprintf(out[n].sink, sizeof(out[n].sink), "%s", sink);
  snprintf(out[n].evidence, sizeof(out[n].evidence), "%.*s",
           (int)(elen < sizeof(out[n].evidence) ? elen
                                                : sizeof(out[n].evidence) - 1),
           evidence);
  return n + 1;
}

/* Field k of a report line (0 = the kind), unescaped into buf. */
static size_t field(const char *line, size_t len, int k, char *buf,
                    size_t cap) {
  size_t i = 0, o = 0;

  buf[0] = '\0'; /* a missing field is empty, never the last line's */
  for (; k > 0 && i < len; i++)
    if (line[i] == '\t')
      k--;
  if (k > 0)
    return 0;
  for (; i < len && line[i] != '\t' && o + 1 < cap; i++) {
    char c = line[i];

    if (c == '\\' && i + 1 < len) {
      c = line[++i];
      if (c == 't')
        c = '\t';
      else if (c == 'n')
        c = '\n';
      else if (c == 'r')
        c = '\r';
      else if (c == 'x' && i + 2 < len) {
        char hex[3] = {line[i + 1], line[i + 2], '\0'};

        c = (char)strtol(hex, NULL, 16);
        i += 2;
      }
    }
    buf[o++] = c;
  }
  buf[o] = '\0';
  return o;
}

/* ---- SQL: a small lexer, enough to tell literals from structure ---- */

typedef enum { TOK_WORD, TOK_STRING, TOK_NUMBER, TOK_IDENT, TOK_PUNCT } tok_t;

/* Length of the token at sql[i], and its kind. */
static size_t sql_token(const char *s, size_t len, size_t i, tok_t *kind) {
  size_t j = i;
  char q = s[i];

  if (q == '\'' || q == '"' || q == '`' || q == '[') {
    char close = q == '[' ? ']' : q;

    *kind = q == '\'' ? TOK_STRING : TOK_IDENT;
    for (j = i + 1; j < len; j++)
      if (s[j] == close) {
        if (close != ']' && j + 1 < len && s[j + 1] == close) {
          j++; /* '' inside a literal is a quote */
          continue;
        }
        return j + 1 - i;
      }
    return len - i; /* unterminated: the rest */
  }
  if (isdigit((unsigned char)q) ||
      (q == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
    *kind = TOK_NUMBER;
    while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '.'))
      j++;
    return j - i;
  }
  if (isalpha((unsigned char)q) || q == '_' || (unsigned char)q >= 0x80) {
    *kind = TOK_WORD;
    while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_' ||
                       s[j] == '$' || (unsigned char)s[j] >= 0x80))
      j++;
    return j - i;
  }
  *kind = TOK_PUNCT;
  return 1;
}

int lk_sql_span_injects(const char *sql, size_t len, size_t at, size_t n) {
  size_t i = 0;

  while (i < len) {
    size_t tl;
    tok_t kind;

    if (isspace((unsigned char)sql[i])) {
      i++;
      continue;
    }
    if (sql[i] == '-' && i + 1 < len && sql[i + 1] == '-') {
      tl = 2;
      while (i + tl < len && sql[i + tl] != '\n')
        tl++;
      kind = TOK_PUNCT; /* a comment: never a literal */
    } else if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*') {
      const char *end = NULL;
      size_t k;

      for (k = i + 2; k + 1 < len && end == NULL; k++)
        if (sql[k] == '*' && sql[k + 1] == '/')
          end = sql + k + 2;
      tl = end ? (size_t)(end - (sql + i)) : len - i;
      kind = TOK_PUNCT;
    } else {
      tl = sql_token(sql, len, i, &kind);
    }
    if (i <= at && at < i + tl) /* the token where the span starts */
      return !((kind == TOK_STRING || kind == TOK_NUMBER) && at + n <= i + tl);
    i += tl;
  }
  return 0; /* the span is whitespace only */
}

/* ---- paths ---- */

/* Lexical resolution of cwd/path into out (RESOLVED_MAX bytes): "." and
 * ".." and "//" go. cwd and path are at most a field each. */
static void resolve(const char *cwd, const char *path, char *out, size_t cap) {
  char joined[RESOLVED_MAX];
  size_t o = 0, i = 0;

  if (path[0] == '/')
    snprintf(joined, sizeof(joined), "%s", path);
  else
    snprintf(joined, sizeof(joined), "%s/%s", cwd, path);
  out[0] = '\0';
  while (joined[i]) {
    size_t l;

    while (joined[i] == '/')
      i++;
    for (l = 0; joined[i + l] && joined[i + l] != '/'; l++)
      ;
    if (l == 0 || (l == 1 && joined[i] == '.')) {
      /* nothing */
    } else if (l == 2 && joined[i] == '.' && joined[i + 1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--; /* the slash before it */
    } else if (o + l + 2 < cap) {
      out[o++] = '/';
      memcpy(out + o, joined + i, l);
      o += l;
    }
    out[o] = '\0';
    i += l;
  }
  if (o == 0)
    snprintf(out, cap, "/");
}

static int under(const char *path, const char *root) {
  size_t l = strlen(root);

  while (l > 1 && root[l - 1] == '/')
    l--;
  return strncmp(path, root, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

int lk_path_escapes(const char *cwd, const char *path, const char *root) {
  char abs[RESOLVED_MAX], r[RESOLVED_MAX];

  resolve(cwd, path, abs, sizeof(abs));
  resolve("/", root ? root : "/nonexistent", r, sizeof(r));
  return !under(abs, r) && !under(abs, "/tmp");
}

/* ---- the response of an API Gateway function ---- */

static int bad_header(const char *name, const char *value) {
  return strpbrk(name, "\r\n") || (value && strpbrk(value, "\r\n")) ||
         strcasecmp(name, LK_CANARY_HEADER) == 0;
}

static int judge_headers(const lk_observed_t *o, lk_verdict_t *out, int n,
                         int max) {
  cJSON *r = cJSON_ParseWithLength(o->body, o->body_len), *h, *it, *v;
  char ev[600];

  /* Without statusCode, an HTTP API takes the whole object as the JSON
   * body (the v2 shorthand), and a REST API answers 502: no headers. */
  if (!cJSON_IsObject(r) ||
      cJSON_GetObjectItemCaseSensitive(r, "statusCode") == NULL) {
    cJSON_Delete(r);
    return n;
  }
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(r, "headers")) {
    if (h->string && bad_header(h->string, cJSON_GetStringValue(h))) {
      snprintf(ev, sizeof(ev), "%s: %s", h->string,
               cJSON_GetStringValue(h) ? cJSON_GetStringValue(h) : "");
      n = add(out, n, max, "header-injection", "response header", ev,
              strlen(ev));
    }
  }
  cJSON_ArrayForEach(h,
                     cJSON_GetObjectItemCaseSensitive(r, "multiValueHeaders")) {
    cJSON_ArrayForEach(v, h) {
      if (h->string && bad_header(h->string, cJSON_GetStringValue(v))) {
        snprintf(ev, sizeof(ev), "%s: %s", h->string,
                 cJSON_GetStringValue(v) ? cJSON_GetStringValue(v) : "");
        n = add(out, n, max, "header-injection", "response header", ev,
                strlen(ev));
      }
    }
  }
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "cookies")) {
    if (bad_header("Set-Cookie", cJSON_GetStringValue(it))) {
      snprintf(ev, sizeof(ev), "Set-Cookie: %s", cJSON_GetStringValue(it));
      n = add(out, n, max, "header-injection", "response cookie", ev,
              strlen(ev));
    }
  }
  cJSON_Delete(r);
  return n;
}

/* ---- the sink report ---- */

static int judge_sql(const char *sql, size_t len, lk_verdict_t *out, int n,
                     int max) {
  size_t k;

  for (k = 0; k < lk_n_attack_payloads; k++) {
    const char *p = lk_attack_payloads[k];
    size_t pl = strlen(p);
    const char *at;

    if (strstr(p, "lambkin") == NULL)
      continue;
    for (at = memmem(sql, len, p, pl); at;
         at = memmem(at + 1, len - (size_t)(at + 1 - sql), p, pl))
      if (lk_sql_span_injects(sql, len, (size_t)(at - sql), pl))
        return add(out, n, max, "sql-injection", "sqlite3_prepare", sql, len);
  }
  return n;
}

/* The processes a shell that event data reached started (by pid), so
 * what they do is counted as that command injection, not as a finding of
 * its own: a redirection in an injected command opens a file anywhere. */
typedef struct injected {
  long pids[32];
  int n;
} injected_t;

static int injected_by(const injected_t *in, long pid, long ppid) {
  int i;

  for (i = 0; pid > 0 && i < in->n; i++)
    if (in->pids[i] == pid || in->pids[i] == ppid)
      return 1;
  return 0;
}

static int is_shell(const char *base) {
  static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh"};
  size_t i;

  for (i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
    if (strcmp(base, shells[i]) == 0)
      return 1;
  return 0;
}

static void add_injected(injected_t *in, long pid) {
  if (pid > 0 && in->n < (int)(sizeof(in->pids) / sizeof(in->pids[0])))
    in->pids[in->n++] = pid;
}

/* An open that escapes the task root with the path canary in it. */
static int judge_open(const lk_oracle_ctx_t *c, const char *path,
                      const char *cwd, lk_verdict_t *out, int n, int max) {
  char ev[FIELD_MAX], abs[RESOLVED_MAX];

  if (strstr(path, LK_CANARY_PATH) == NULL ||
      !lk_path_escapes(cwd, path, c->task_root))
    return n;
  resolve(cwd, path, abs, sizeof(abs));
  snprintf(ev, sizeof(ev), "open(\"%.4000s\") resolves to %.4000s", path, abs);
  return add(out, n, max, "path-traversal", "open", ev, strlen(ev));
}

static int has(const lk_verdict_t *out, int n, const char *cls) {
  int i;

  for (i = 0; i < n; i++)
    if (strcmp(out[i].cls, cls) == 0)
      return 1;
  return 0;
}

/* Appends what the injected shell also did to a command injection's
 * evidence (one bug, one finding). */
static void also(lk_verdict_t *out, int n, const char *what, size_t len) {
  int i;

  for (i = 0; i < n; i++)
    if (strcmp(out[i].cls, "command-injection") == 0) {
      size_t o = strlen(out[i].evidence);

      snprintf(out[i].evidence + o, sizeof(out[i].evidence) - o,
               "; and it %.*s", (int)(len < 400 ? len : 400), what);
      return;
    }
}

/* A canary a runtime's bootstrap reported: "canary", its name, the sink
 * (eval, pickle.loads, Object.prototype...) and where it was tripped. */
static int judge_canary(const char *name, const char *sink, const char *where,
                        lk_verdict_t *out, int n, int max) {
  static const struct {
    const char *name, *cls;
  } canaries[] = {{LK_CANARY_CODE, "code-injection"},
                  {LK_CANARY_DESER, "deserialization"},
                  {LK_CANARY_PROTO, "prototype-pollution"}};
  char ev[FIELD_MAX];
  size_t k;

  for (k = 0; k < sizeof(canaries) / sizeof(canaries[0]); k++)
    if (strcmp(name, canaries[k].name) == 0) {
      snprintf(ev, sizeof(ev), "%.100s: %.4000s", name, where);
      return add(out, n, max, canaries[k].cls, sink[0] ? sink : name, ev,
                 strlen(ev));
    }
  return n;
}

/* A DynamoDB expression a call of this invocation sent (the emulator's
 * "nosql" line: the member, then the text) with the canary name in it. */
static int judge_nosql(const char *member, const char *text, lk_verdict_t *out,
                       int n, int max) {
  char ev[FIELD_MAX];

  if (strstr(text, LK_CANARY_NOSQL) == NULL)
    return n;
  snprintf(ev, sizeof(ev), "%.100s: %.4000s", member, text);
  return add(out, n, max, "nosql-injection", member, ev, strlen(ev));
}

/* *tainted: a shell event data reached ran (its command line carried a
 * canary), so what it printed is its doing, not a finding of its own. */
static int judge_sink(const lk_oracle_ctx_t *c, const char *rep, size_t len,
                      lk_verdict_t *out, int n, int max, int *tainted) {
  static char a[FIELD_MAX], b[FIELD_MAX], kind[32], cmd[FIELD_MAX], num[32];
  static char did[FIELD_MAX], where[FIELD_MAX];
  const char *line = rep, *end = rep + len;
  injected_t shells = {{0}, 0};
  int tripwire = 0;
  long pid, ppid;

  cmd[0] = did[0] = '\0';
  while (line < end) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);
    size_t al;

    field(line, ll, 0, kind, sizeof(kind));
    al = field(line, ll, 1, a, sizeof(a));
    field(line, ll, 2, b, sizeof(b));
    field(line, ll, 3, num, sizeof(num));
    pid = strtol(num, NULL, 10);
    field(line, ll, 4, num, sizeof(num));
    ppid = strtol(num, NULL, 10);
    if (strcmp(kind, "tripwire") == 0) {
      tripwire = 1;
    } else if (strcmp(kind, "exec") == 0) {
      const char *base = strrchr(b, '/') ? strrchr(b, '/') + 1 : b;

      if (strcmp(base, LK_CANARY_CMD) == 0)
        tripwire = 1;
      else if (cmd[0] == '\0') /* the shell that ran it: the evidence */
        snprintf(cmd, sizeof(cmd), "%s", a);
      if ((strstr(a, "lambkin-canary") || strstr(a, LK_CANARY_LOG)) &&
          is_shell(base))
        add_injected(&shells, pid); /* a shell event data reached */
    } else if (strcmp(kind, "sql") == 0) {
      n = judge_sql(a, al, out, n, max);
    } else if (strcmp(kind, "sql-error") == 0) {
      char ev[FIELD_MAX];

      snprintf(ev, sizeof(ev), "%.4000s (sqlite: %.200s)", a, b);
      n = add(out, n, max, "sql-injection", "sqlite3_prepare", ev, strlen(ev));
    } else if (strcmp(kind, "open") == 0) {
      if (injected_by(&shells, pid, ppid)) {
        add_injected(&shells, pid); /* and its own children */
        if (did[0] == '\0' && strstr(a, LK_CANARY_PATH))
          snprintf(did, sizeof(did), "opened %.1000s", a);
      } else {
        n = judge_open(c, a, b, out, n, max);
      }
    } else if (strcmp(kind, "canary") == 0) {
      field(line, ll, 3, where, sizeof(where));
      n = judge_canary(a, b, where, out, n, max);
    } else if (strcmp(kind, "nosql") == 0) {
      n = judge_nosql(a, b, out, n, max);
    } else if (strcmp(kind, "dns") == 0) {
      if (strstr(a, LK_CANARY_HOST))
        n = add(out, n, max, "ssrf", "getaddrinfo", a, al);
    } else if (strcmp(kind, "connect") == 0) {
      if (strncmp(a, "169.254.", 8) == 0) /* instance metadata */
        n = add(out, n, max, "ssrf", "connect", a, al);
    }
    line += ll + 1;
  }
  if (tripwire)
    n = add(out, n, max, "command-injection", "exec",
            cmd[0] ? cmd : LK_CANARY_CMD, strlen(cmd[0] ? cmd : LK_CANARY_CMD));
  if (did[0])
    also(out, n, did, strlen(did));
  *tainted = shells.n > 0;
  return n;
}

static int judge_log(const lk_observed_t *o, lk_verdict_t *out, int n,
                     int max) {
  const char *line = o->log, *end = o->log + o->log_len;
  size_t cl = strlen(LK_CANARY_LOG);

  while (line && line < end) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);

    if (ll >= cl && memcmp(line, LK_CANARY_LOG, cl) == 0)
      return add(out, n, max, "log-injection", "log line", line, ll);
    line += ll + 1;
  }
  return n;
}

/* What an error message gives away to whoever sent the event: the
 * function's secret key, its environment, or a stack trace. */
static const char *leak(const lk_oracle_ctx_t *c, const char *msg) {
  if (c->secret && c->secret[0] && strstr(msg, c->secret))
    return "the secret access key";
  if (strstr(msg, "AWS_SECRET_ACCESS_KEY") || strstr(msg, "AWS_SESSION_TOKEN"))
    return "the environment";
  if (strstr(msg, "Traceback (most recent call last)") ||
      strstr(msg, "\n    at "))
    return "a stack trace";
  return NULL;
}

/* A crash is keyed by how the process died, a timeout by its type; an
 * unhandled error is a finding only when its message leaks (below that,
 * an error is a behaviour the corpus keeps, not a bug report). */
static int judge_error(const lk_oracle_ctx_t *c, const lk_observed_t *o,
                       lk_verdict_t *out, int n, int max) {
  cJSON *j = cJSON_ParseWithLength(o->body, o->body_len);
  const char *msg =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "errorMessage"));
  char ev[2048], state[160];

  snprintf(ev, sizeof(ev), "%.*s",
           (int)(o->body_len < 1900 ? o->body_len : 1900), o->body);
  if (strcmp(o->error_type, "Runtime.ExitError") == 0) {
    const char *why = msg ? strstr(msg, " Error: ") : NULL;

    /* "RequestId: <id> Error: Runtime exited ...": the id differs. */
    snprintf(state, sizeof(state), "%s",
             why   ? why + 8
             : msg ? msg
                   : o->error_type);
    n = add(out, n, max, "crash", state, ev, strlen(ev));
  } else if (strcmp(o->error_type, "Sandbox.Timedout") == 0) {
    n = add(out, n, max, "timeout", o->error_type, ev, strlen(ev));
  } else if (msg && leak(c, msg)) {
    snprintf(ev, sizeof(ev), "%s leaks %s: %.1800s", o->error_type,
             leak(c, msg), msg);
    n = add(out, n, max, "unhandled-error", o->error_type, ev, strlen(ev));
  }
  cJSON_Delete(j);
  return n;
}

/* The secret v in what the function sent to a service (the emulator's
 * "out" lines: the call, then its body): a message, an object or a log
 * record others read. */
static int sent(const lk_observed_t *o, const char *v, const char *name,
                int n_name, lk_verdict_t *out, int n, int max) {
  static char call[FIELD_MAX], body[FIELD_MAX];
  const char *line = o->sink, *end = o->sink + o->sink_len;
  char ev[300];

  while (line && line < end) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);

    if (ll > 4 && memcmp(line, "out\t", 4) == 0) {
      field(line, ll, 1, call, sizeof(call));
      field(line, ll, 2, body, sizeof(body));
      if (strstr(body, v)) {
        snprintf(ev, sizeof(ev),
                 "a request (%.100s) carries the function's %.*s", call, n_name,
                 name);
        return add(out, n, max, "secret-leak", "request", ev, strlen(ev));
      }
    }
    line += ll + 1;
  }
  return n;
}

/* The secret v (named name, n bytes of it) in a successful answer, in
 * the log or in a request to a service; the evidence names it, never
 * holds it. */
static int leaked(const lk_observed_t *o, const char *v, const char *name,
                  int n_name, lk_verdict_t *out, int n, int max) {
  char ev[300];

  if (o->error_type == NULL && o->body &&
      memmem(o->body, o->body_len, v, strlen(v))) {
    snprintf(ev, sizeof(ev), "the response carries the function's %.*s", n_name,
             name);
    n = add(out, n, max, "secret-leak", "response", ev, strlen(ev));
  }
  if (o->log && memmem(o->log, o->log_len, v, strlen(v))) {
    snprintf(ev, sizeof(ev), "the log carries the function's %.*s", n_name,
             name);
    n = add(out, n, max, "secret-leak", "log", ev, strlen(ev));
  }
  return sent(o, v, name, n_name, out, n, max);
}

/* 1 when a variable's name says it holds a secret. */
static int secret_name(const char *name, size_t n) {
  static const char *const marks[] = {"PASSWORD",   "PASSWD",  "SECRET",
                                      "TOKEN",      "API_KEY", "APIKEY",
                                      "PRIVATE_KEY"};
  char up[128];
  size_t i;

  if (n >= sizeof(up))
    return 0;
  for (i = 0; i < n; i++)
    up[i] = (char)toupper((unsigned char)name[i]);
  up[n] = '\0';
  for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
    if (strstr(up, marks[i]))
      return 1;
  return 0;
}

/* The function's own credentials, and the template's variables whose
 * names mark them secret, in what it answered or logged: whoever sent
 * the event, or reads the log, can act as the function. An error whose
 * message leaks is judge_error's (unhandled-error). A variable's value
 * counts from eight bytes (a shorter one matches by accident). */
static int judge_secret(const lk_oracle_ctx_t *c, const lk_observed_t *o,
                        lk_verdict_t *out, int n, int max) {
  static const char *const keys[] = {"AWS_SECRET_ACCESS_KEY",
                                     "AWS_SESSION_TOKEN"};
  const char *const own[] = {c->secret, c->token};
  size_t k;
  int i;

  for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
    if (own[k] && strlen(own[k]) >= 16)
      n = leaked(o, own[k], keys[k], (int)strlen(keys[k]), out, n, max);
  for (i = 0; i < c->n_env; i++) {
    const char *eq = strchr(c->env[i], '=');
    size_t nl = eq ? (size_t)(eq - c->env[i]) : 0;

    if (eq && strlen(eq + 1) >= 8 && nl < 128 && secret_name(c->env[i], nl))
      n = leaked(o, eq + 1, c->env[i], (int)nl, out, n, max);
  }
  return n;
}

int lk_oracle_judge(const lk_oracle_ctx_t *c, const lk_observed_t *o,
                    lk_verdict_t *out, int max) {
  int n = 0, tainted = 0, before;

  if (o->sink && o->sink_len)
    n = judge_sink(c, o->sink, o->sink_len, out, n, max, &tainted);
  before = n;
  if (o->log && o->log_len)
    n = judge_log(o, out, n, max);
  if (tainted && n > before) { /* the forged line is the shell's doing */
    char line[600];

    snprintf(line, sizeof(line), "printed \"%.500s\"", out[before].evidence);
    n = before;
    also(out, n, line, strlen(line));
  }
  if (c->http && o->outcome && strcmp(o->outcome, "ok") == 0)
    n = judge_headers(o, out, n, max);
  if (o->error_type && strcmp(o->error_type, "Lambkin.Stopping") != 0) {
    before = n;
    n = judge_error(c, o, out, n, max);
    if (tainted && n > before && strcmp(out[before].cls, "timeout") == 0 &&
        has(out, before, "command-injection")) { /* the shell's commands */
      n = before;
      also(out, n, "ran past the timeout", 20);
    }
  }
  if (n == 0 || strcmp(out[n - 1].cls, "unhandled-error") != 0)
    n = judge_secret(c, o, out, n, max);
  return n;
}
