/* The oracles: each class fires on its canary and on nothing that merely
 * looks like it (a payload inside a SQL literal, a canary path under /tmp,
 * a header without CR/LF, an error that leaks nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "oracle.h"

static char *env[] = {"SMTP_PASSWORD=correct-horse-battery",
                      "TABLE=orders-table-with-a-long-name", "API_KEY=short"};
static const lk_oracle_ctx_t ctx = {
    "/srv/task", "s3cr3tKEY", 0, "lambkin-f-0123456789abcdef", env, 3};

static int judge(const lk_oracle_ctx_t *c, const char *sink, const char *log,
                 const char *outcome, const char *etype, const char *body,
                 lk_verdict_t *v) {
  lk_observed_t o;

  memset(&o, 0, sizeof(o));
  o.sink = sink;
  o.sink_len = sink ? strlen(sink) : 0;
  o.log = log;
  o.log_len = log ? strlen(log) : 0;
  o.outcome = outcome;
  o.error_type = etype;
  o.body = body ? body : "";
  o.body_len = body ? strlen(body) : 0;
  return lk_oracle_judge(c, &o, v, LK_VERDICT_MAX);
}

static void sql_span_outside_a_literal_injects(void **state) {
  const char *inj = "SELECT * FROM t WHERE c = 'al' OR 'lambkin'='lambkin'";
  const char *p = strstr(inj, "' OR 'lambkin'='lambkin");
  const char *lit = "SELECT * FROM t WHERE c = 'a\" OR \"lambkin\"=\"lambkin'";
  const char *q = strstr(lit, "\" OR \"lambkin\"=\"lambkin");
  const char *doubled = "SELECT 1 WHERE c = 'x'' OR ''lambkin''=''y'";
  const char *num = "SELECT 1 WHERE id = 1 OR 1=1";

  (void)state;
  assert_int_equal(lk_sql_span_injects(inj, strlen(inj), (size_t)(p - inj),
                                       strlen("' OR 'lambkin'='lambkin")),
                   1);
  /* The same payload, wholly inside one string literal: no change. */
  assert_int_equal(lk_sql_span_injects(lit, strlen(lit), (size_t)(q - lit),
                                       strlen("\" OR \"lambkin\"=\"lambkin")),
                   0);
  /* Escaped quotes keep the span in the literal. */
  assert_int_equal(lk_sql_span_injects(doubled, strlen(doubled),
                                       (size_t)(strstr(doubled, "x") - doubled),
                                       10),
                   0);
  /* "1 OR 1=1" in a number's place is structure, "1" alone is not. */
  assert_int_equal(lk_sql_span_injects(num, strlen(num), 20, 8), 1);
  assert_int_equal(lk_sql_span_injects(num, strlen(num), 20, 1), 0);
}

static void sql_sink_reports(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];
  int n;

  (void)state;
  n = judge(&ctx,
            "sql\tSELECT id FROM o WHERE c = 'a' OR 'lambkin'='lambkin'\n",
            NULL, "ok", NULL, "{}", v);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].cls, "sql-injection");
  /* A parameterized query never shows the payload: the SQL has '?'. */
  assert_int_equal(judge(&ctx, "sql\tSELECT id FROM o WHERE c = ?\n", NULL,
                         "ok", NULL, "{}", v),
                   0);
  /* A payload inside a literal: the statement is unchanged. */
  assert_int_equal(judge(&ctx,
                         "sql\tSELECT 1 WHERE c = ';lambkin-canary-cmd;'\n",
                         NULL, "ok", NULL, "{}", v),
                   0);
  /* sqlite refusing tainted text is the other signal. */
  n = judge(&ctx, "sql-error\tSELECT 1 WHERE c = x;lambkin\tnear \";\"\n", NULL,
            "ok", NULL, "{}", v);
  assert_int_equal(n, 1);
  assert_non_null(strstr(v[0].evidence, "sqlite: near"));
}

static void tripwire_and_shell_evidence(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];
  int n;

  (void)state;
  /* A shell that carried the payload, but nothing ran: no finding. */
  assert_int_equal(
      judge(&ctx, "exec\t/bin/sh -c echo 'lambkin-canary-cmd'\t/bin/sh\n", NULL,
            "ok", NULL, "{}", v),
      0);
  n = judge(&ctx,
            "exec\t/bin/sh -c echo a;lambkin-canary-cmd;\t/bin/sh\n"
            "exec\tlambkin-canary-cmd\t/out/bin/lambkin-canary-cmd\n"
            "tripwire\t\n",
            NULL, "ok", NULL, "{}", v);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].cls, "command-injection");
  assert_string_equal(v[0].evidence, "/bin/sh -c echo a;lambkin-canary-cmd;");
}

/* A deep cwd and a long climb, each within a report field: joined they
 * pass one field's size, and cutting the join would keep the path inside. */
static void long_paths_resolve_whole(void **state) {
  char cwd[4000], path[6000];
  size_t i, o = 0;

  (void)state;
  o = (size_t)snprintf(cwd, sizeof(cwd), "/srv/task");
  for (i = 0; i < 1800; i++)
    o += (size_t)snprintf(cwd + o, sizeof(cwd) - o, "/a");
  for (o = 0, i = 0; i < 1801; i++)
    o += (size_t)snprintf(path + o, sizeof(path) - o, "../");
  snprintf(path + o, sizeof(path) - o, "etc/x"); /* /srv/etc/x */
  assert_true(strlen(cwd) + strlen(path) > 8192);
  assert_int_equal(lk_path_escapes(cwd, path, "/srv/task"), 1);
  path[o - 3] = '\0'; /* one climb fewer: /srv/task */
  assert_int_equal(lk_path_escapes(cwd, path, "/srv/task"), 0);
}

static void paths_escape_only_outside_root_and_tmp(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];

  (void)state;
  assert_int_equal(lk_path_escapes("/srv/task", "a/../b", "/srv/task"), 0);
  assert_int_equal(lk_path_escapes("/srv/task", "../../etc/x", "/srv/task"), 1);
  assert_int_equal(lk_path_escapes("/", "/tmp/up/../f", "/srv/task"), 0);
  assert_int_equal(lk_path_escapes("/", "/tmp/../etc", "/srv/task"), 1);
  assert_int_equal(lk_path_escapes("/", "/srv/taskother", "/srv/task"), 1);
  assert_int_equal(judge(&ctx,
                         "open\t/tmp/files/lambkin-canary-path\t/srv/task\n",
                         NULL, "ok", NULL, "{}", v),
                   0);
  assert_int_equal(judge(&ctx,
                         "open\t../../../lambkin-canary-path\t/srv/task/sub\n",
                         NULL, "ok", NULL, "{}", v),
                   1);
  assert_string_equal(v[0].cls, "path-traversal");
  assert_non_null(strstr(v[0].evidence, "resolves to /lambkin-canary-path"));
}

/* A file that a shell event data reached opens (a redirection in the
 * injected command, in the shell or a subshell of it) belongs to that
 * command injection; the function's own open of the same path is a path
 * traversal of its own. */
static void opens_of_an_injected_shell_are_not_traversals(void **state) {
  static const char shell[] =
      "exec\t/bin/sh -c echo /tmp/`x>../../lambkin-canary-path`\t/bin/sh"
      "\t200\t100\n";
  lk_verdict_t v[LK_VERDICT_MAX];
  char rep[512];

  (void)state;
  snprintf(rep, sizeof(rep), "%s%s", shell,
           "open\t../../lambkin-canary-path\t/srv/task\t201\t200\n");
  assert_int_equal(judge(&ctx, rep, NULL, "ok", NULL, "{}", v), 0);
  snprintf(rep, sizeof(rep), "%s%s", shell,
           "open\t../../lambkin-canary-path\t/srv/task\t200\t100\n");
  assert_int_equal(judge(&ctx, rep, NULL, "ok", NULL, "{}", v), 0);
  snprintf(rep, sizeof(rep), "%s%s", shell,
           "open\t../../lambkin-canary-path\t/srv/task\t100\t1\n");
  assert_int_equal(judge(&ctx, rep, NULL, "ok", NULL, "{}", v), 1);
  assert_string_equal(v[0].cls, "path-traversal");
}

/* One bug, one finding: an injected shell that also opens a canary
 * path and prints a forged log line is one command injection, with what
 * else it did in its evidence; without the tripwire, nothing. */
static void an_injected_shell_is_one_finding(void **state) {
  static const char rep[] =
      "exec\t/bin/sh -c convert /tmp/x;lambkin-canary-cmd;"
      "echo LAMBKIN-FORGED-LOG-LINE >../../lambkin-canary-path\t/bin/sh"
      "\t200\t100\n"
      "exec\tlambkin-canary-cmd\t/usr/bin/lambkin-canary-cmd\t201\t200\n"
      "tripwire\t\t\t201\t200\n"
      "open\t../../lambkin-canary-path\t/srv/task\t200\t100\n";
  static const char log[] = "START\nLAMBKIN-FORGED-LOG-LINE\nEND\n";
  lk_verdict_t v[LK_VERDICT_MAX];

  (void)state;
  assert_int_equal(judge(&ctx, rep, log, "ok", NULL, "{}", v), 1);
  assert_string_equal(v[0].cls, "command-injection");
  assert_non_null(strstr(v[0].evidence, "opened ../../lambkin-canary-path"));
  assert_non_null(strstr(v[0].evidence, "printed \"LAMBKIN-FORGED-LOG-LINE"));
  /* A timeout while the injected shell ran its commands is the same bug. */
  assert_int_equal(judge(&ctx, rep, NULL, "timeout", "Sandbox.Timedout",
                         "{\"errorType\":\"Sandbox.Timedout\"}", v),
                   1);
  assert_string_equal(v[0].cls, "command-injection");
  assert_non_null(strstr(v[0].evidence, "ran past the timeout"));
  /* The shell reached, the tripwire not run: its lines are its own
   * doing, not a log injection. */
  assert_int_equal(judge(&ctx,
                         "exec\t/bin/sh -c a\\nLAMBKIN-FORGED-LOG-LINE\t/bin/sh"
                         "\t200\t100\n",
                         log, "ok", NULL, "{}", v),
                   0);
}

/* The function's own credentials in its answer or its log; an error
 * that leaks them stays an unhandled-error, one finding. */
static void secret_leaks(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];
  lk_oracle_ctx_t keyed = ctx;

  /* A variable marked secret by its name; others, and values too short
   * to tell, are not secrets. */
  assert_int_equal(judge(&ctx, NULL, "smtp login bob correct-horse-battery\n",
                         "ok", NULL,
                         "{\"t\":\"orders-table-with-a-long-name\"}", v),
                   1);
  assert_string_equal(v[0].cls, "secret-leak");
  assert_string_equal(v[0].evidence,
                      "the log carries the function's SMTP_PASSWORD");
  assert_int_equal(
      judge(&ctx, NULL, "key short\n", "ok", NULL, "{\"k\":\"short\"}", v), 0);
  /* In a request the function sent to a service (the emulator's line). */
  assert_int_equal(judge(&ctx,
                         "out\tSendMessage\tAction=SendMessage&MessageBody="
                         "lambkin-f-0123456789abcdef\n",
                         NULL, "ok", NULL, "{}", v),
                   1);
  assert_string_equal(v[0].sink, "request");
  assert_string_equal(v[0].evidence, "a request (SendMessage) carries the "
                                     "function's AWS_SESSION_TOKEN");

  (void)state;
  keyed.secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  assert_int_equal(judge(&keyed, NULL, NULL, "ok", NULL,
                         "{\"settings\":{\"AWS_SECRET_ACCESS_KEY\":"
                         "\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}}",
                         v),
                   1);
  assert_string_equal(v[0].cls, "secret-leak");
  assert_string_equal(v[0].sink, "response");
  assert_null(strstr(v[0].evidence, "wJalr")); /* never the secret itself */
  assert_int_equal(judge(&keyed, NULL, "token lambkin-f-0123456789abcdef\n",
                         "ok", NULL, "{}", v),
                   1);
  assert_string_equal(v[0].sink, "log");
  assert_non_null(strstr(v[0].evidence, "AWS_SESSION_TOKEN"));
  assert_int_equal(
      judge(&keyed, NULL, "nothing here\n", "ok", NULL, "{\"ok\":true}", v), 0);
}

static void log_headers_dns(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];
  lk_oracle_ctx_t http = ctx;
  int n;

  (void)state;
  http.http = 1;
  assert_int_equal(judge(&ctx, NULL, "AUDIT x: \\nLAMBKIN-FORGED-LOG-LINE\n",
                         "ok", NULL, "{}", v),
                   0); /* escaped: still one line */
  n = judge(&ctx, NULL, "START\nAUDIT x: a\nLAMBKIN-FORGED-LOG-LINE\nEND\n",
            "ok", NULL, "{}", v);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].cls, "log-injection");
  n = judge(&http, NULL, NULL, "ok", NULL,
            "{\"statusCode\":302,\"headers\":{\"Location\":\"/a\\r\\nX: 1\"}}",
            v);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].cls, "header-injection");
  assert_int_equal(judge(&http, NULL, NULL, "ok", NULL,
                         "{\"statusCode\":200,\"multiValueHeaders\":{"
                         "\"X-Lambkin-Canary\":[\"1\"]}}",
                         v),
                   1);
  /* No statusCode: the v2 shorthand, a JSON body, not headers. */
  assert_int_equal(judge(&http, NULL, NULL, "ok", NULL,
                         "{\"headers\":{\"a\":\"b\\r\\nc\"}}", v),
                   0);
  assert_int_equal(judge(&ctx, "dns\texample.com.lambkin-canary.invalid\t80\n",
                         NULL, "ok", NULL, "{}", v),
                   1);
  assert_string_equal(v[0].cls, "ssrf");
  assert_int_equal(
      judge(&ctx, "connect\t169.254.169.254:80\n", NULL, "ok", NULL, "{}", v),
      1);
  assert_string_equal(v[0].sink, "connect");
  assert_int_equal(
      judge(&ctx, "connect\t10.0.0.1:80\n", NULL, "ok", NULL, "{}", v), 0);
}

/* The runtimes' canaries and the emulator's DynamoDB expression lines. */
static void canaries_and_expressions(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];
  int n;

  (void)state;
  n = judge(&ctx,
            "canary\tlambkin_canary_code\tevaluator\tat handler "
            "(calc.js:13:22)\n"
            "canary\tlambkin_canary_deser\tdeserializer\tjobs.py:16: "
            "pickle.loads(b)\n"
            "canary\tlambkin_canary_proto\tObject.prototype\tset\n",
            NULL, "ok", NULL, "{}", v);
  assert_int_equal(n, 3);
  assert_string_equal(v[0].cls, "code-injection");
  assert_string_equal(v[0].sink, "evaluator");
  assert_string_equal(v[0].evidence,
                      "lambkin_canary_code: at handler (calc.js:13:22)");
  assert_string_equal(v[1].cls, "deserialization");
  assert_string_equal(v[2].cls, "prototype-pollution");
  /* A name no runtime defines is nothing. */
  assert_int_equal(judge(&ctx, "canary\tlambkin_canary_other\tx\ty\n", NULL,
                         "ok", NULL, "{}", v),
                   0);
  n = judge(&ctx,
            "nosql\tProjectionExpression\tpages, price OR "
            "attribute_exists(lambkin_canary_nosql)\n",
            NULL, "ok", NULL, "{}", v);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].cls, "nosql-injection");
  assert_string_equal(v[0].sink, "ProjectionExpression");
  /* An expression the code wrote, event data only in its values. */
  assert_int_equal(judge(&ctx,
                         "nosql\tKeyConditionExpression\t#n0 = :v0\n"
                         "nosql\tFilterExpression\tlambkin = :x\n",
                         NULL, "ok", NULL, "{}", v),
                   0);
}

static void errors_crashes_timeouts(void **state) {
  lk_verdict_t v[LK_VERDICT_MAX];

  (void)state;
  /* An error that leaks nothing is a behaviour, not a finding. */
  assert_int_equal(judge(&ctx, NULL, NULL, "error", "KeyError",
                         "{\"errorMessage\":\"'task'\"}", v),
                   0);
  assert_int_equal(
      judge(&ctx, NULL, NULL, "error", "Error",
            "{\"errorMessage\":\"bad: {\\\"K\\\":\\\"s3cr3tKEY\\\"}"
            "\"}",
            v),
      1);
  assert_string_equal(v[0].cls, "unhandled-error");
  assert_non_null(strstr(v[0].evidence, "leaks the secret access key"));
  /* Two crashes of one kind share a key, whatever their request ids. */
  assert_int_equal(judge(&ctx, NULL, NULL, "crash", "Runtime.ExitError",
                         "{\"errorMessage\":\"RequestId: 1 Error: Runtime "
                         "exited with error: signal: Aborted\"}",
                         v),
                   1);
  assert_string_equal(v[0].cls, "crash");
  assert_string_equal(v[0].sink, "Runtime exited with error: signal: Aborted");
  assert_int_equal(
      judge(&ctx, NULL, NULL, "timeout", "Sandbox.Timedout", "{}", v), 1);
  assert_string_equal(v[0].cls, "timeout");
  assert_int_equal(
      judge(&ctx, NULL, NULL, "error", "Lambkin.Stopping", "{}", v), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sql_span_outside_a_literal_injects),
      cmocka_unit_test(sql_sink_reports),
      cmocka_unit_test(tripwire_and_shell_evidence),
      cmocka_unit_test(paths_escape_only_outside_root_and_tmp),
      cmocka_unit_test(long_paths_resolve_whole),
      cmocka_unit_test(opens_of_an_injected_shell_are_not_traversals),
      cmocka_unit_test(an_injected_shell_is_one_finding),
      cmocka_unit_test(secret_leaks),
      cmocka_unit_test(log_headers_dns),
      cmocka_unit_test(errors_crashes_timeouts),
      cmocka_unit_test(canaries_and_expressions),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
