/* libFuzzer target: the oracles, on what a hostile function could print.
 * Input: sink report, a NUL, a log, a NUL, a response body (any part may
 * be missing). Invariants: never more verdicts than asked for, every
 * verdict has a known class and a NUL-terminated key and evidence, the
 * same input gets the same verdicts, and a SQL span test stays in bounds. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known[] = {"crash",
                                    "command-injection",
                                    "sql-injection",
                                    "path-traversal",
                                    "log-injection",
                                    "header-injection",
                                    "ssrf",
                                    "self-invocation",
                                    "timeout",
                                    "unhandled-error",
                                    "secret-leak",
                                    "code-injection",
                                    "deserialization",
                                    "prototype-pollution",
                                    "nosql-injection"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char *env[] = {"DB_PASSWORD=lambkin-fz-password", "STAGE=prod"};
  static const lk_oracle_ctx_t c = {
      "/srv/task", "secret", 1, "lambkin-fz-0123456789abcdef", env, 2};
  const char *parts[3] = {"", "", ""};
  size_t lens[3] = {0, 0, 0}, at = 0;
  char *copy = malloc(size + 1);
  lk_verdict_t v[4], w[4];
  lk_observed_t o;
  int i, n, m, k;

  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  for (i = 0; i < 3 && at <= size; i++) {
    const char *nul = memchr(copy + at, '\0', size + 1 - at);

    parts[i] = copy + at;
    lens[i] = (size_t)(nul - (copy + at));
    at += lens[i] + 1;
  }
  memset(&o, 0, sizeof(o));
  o.sink = parts[0];
  o.sink_len = lens[0];
  o.log = parts[1];
  o.log_len = lens[1];
  o.outcome = size % 2 ? "ok" : "error";
  o.error_type = size % 3 == 0 ? "Runtime.ExitError" : "Error";
  o.body = parts[2];
  o.body_len = lens[2];
  n = lk_oracle_judge(&c, &o, v, 4);
  m = lk_oracle_judge(&c, &o, w, 4);
  CHECK(n >= 0 && n <= 4 && n == m);
  for (i = 0; i < n; i++) {
    int ok = 0;

    for (k = 0; k < (int)(sizeof(known) / sizeof(known[0])); k++)
      ok |= strcmp(v[i].cls, known[k]) == 0;
    CHECK(ok);
    CHECK(memchr(v[i].sink, '\0', sizeof(v[i].sink)) != NULL);
    CHECK(memchr(v[i].evidence, '\0', sizeof(v[i].evidence)) != NULL);
    CHECK(strcmp(v[i].cls, w[i].cls) == 0 &&
          strcmp(v[i].evidence, w[i].evidence) == 0);
  }
  if (lens[0] > 0)
    (void)lk_sql_span_injects(parts[0], lens[0], size % lens[0],
                              lens[0] - size % lens[0]);
  free(copy);
  return 0;
}
