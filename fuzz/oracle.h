/* Oracles: what one fuzzed invocation proves. Each class is decided by a
 * canary the attack payloads carry (fuzz/mutator.c) and that cannot show
 * up by accident: the tripwire command ran, event text changed a SQL
 * statement's token structure, a file opened outside the task root, a
 * forged log line, CR/LF in a response header, a DNS lookup of the canary
 * host or a connect to the instance metadata address, a canary function
 * an evaluator or a deserializer called, a canary property on
 * Object.prototype, a canary name in a DynamoDB expression. The inputs are what
 * the emulator saw: the sink library's report (fuzz/sink.c), the invocation's
 * log, its outcome and its response. Pure functions; the caller owns every
 * buffer.
 */
#ifndef LK_ORACLE_H
#define LK_ORACLE_H

#include <stddef.h>

#define LK_CANARY_CMD "lambkin-canary-cmd"
#define LK_CANARY_PATH "lambkin-canary-path"
#define LK_CANARY_HOST "lambkin-canary.invalid"
#define LK_CANARY_LOG "LAMBKIN-FORGED-LOG-LINE"
#define LK_CANARY_HEADER "X-Lambkin-Canary"
/* Names the python and node bootstraps define under lambkin fuzz and
 * replay; calling one reports a "canary" sink line. */
#define LK_CANARY_CODE "lambkin_canary_code"   /* run by an evaluator */
#define LK_CANARY_DESER "lambkin_canary_deser" /* revived by a deserializer */
/* The property a polluted Object.prototype carries (node). */
#define LK_CANARY_PROTO "lambkin_canary_proto"
/* A name in a DynamoDB expression: expressions hold no literals, so event
 * text in one is structure. */
#define LK_CANARY_NOSQL "lambkin_canary_nosql"

#define LK_VERDICT_MAX 8

typedef struct lk_oracle_ctx {
  const char *task_root; /* the function's code directory */
  const char *secret;    /* its AWS_SECRET_ACCESS_KEY, to spot a leak */
  int http;              /* an API Gateway event: judge the headers */
  const char *token;     /* its AWS_SESSION_TOKEN, to spot a leak */
  /* Its template environment ("KEY=VALUE"): a variable whose name marks
   * it secret (PASSWORD, SECRET, TOKEN, API_KEY...) must not leak either. */
  char *const *env;
  int n_env;
} lk_oracle_ctx_t;

typedef struct lk_verdict {
  const char *cls;     /* "crash", "command-injection", ... (static) */
  char sink[160];      /* the sink or crash state: part of the dedup key */
  char evidence[2048]; /* the command line, SQL text, path, header ... */
} lk_verdict_t;

typedef struct lk_observed {
  const char *sink; /* the sink library's report lines */
  size_t sink_len;
  const char *log; /* the invocation's log */
  size_t log_len;
  const char *outcome; /* "ok", "error", "timeout", "crash" */
  const char *error_type;
  const char *body; /* response, or the error JSON */
  size_t body_len;
} lk_observed_t;

/* Fills out[] with what the invocation proves; returns how many. */
int lk_oracle_judge(const lk_oracle_ctx_t *c, const lk_observed_t *o,
                    lk_verdict_t *out, int max);

/* The Su & Wassermann test: 1 when the tainted span sql[at, at+n) is not
 * inside one literal token, so replacing it with a neutral literal would
 * change the statement's token structure. */
int lk_sql_span_injects(const char *sql, size_t len, size_t at, size_t n);

/* 1 when path (relative to cwd) resolves outside root and outside /tmp.
 * Each string is at most 8191 bytes, as a sink report's fields are. */
int lk_path_escapes(const char *cwd, const char *path, const char *root);

#endif
