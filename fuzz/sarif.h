/* SARIF 2.1.0 documents, the shape code-scanning services read, for the
 * reports of lambkin fuzz and lambkin check. The document is a cJSON tree
 * the caller owns (cJSON_Delete); rules and results are added into it. */
#ifndef LK_SARIF_H
#define LK_SARIF_H

#include <cjson/cJSON.h>

typedef struct lk_sarif {
  cJSON *doc;
  cJSON *rules;   /* inside doc */
  cJSON *results; /* inside doc */
} lk_sarif_t;

/* A document with one run of the tool "lambkin". */
void lk_sarif_init(lk_sarif_t *s);
void lk_sarif_rule(lk_sarif_t *s, const char *id, const char *text,
                   const char *level);
/* One result at uri:line (line <= 0: no region). The rule's index and,
 * when fingerprint is not NULL, a partial fingerprint go with it. */
void lk_sarif_result(lk_sarif_t *s, const char *rule_id, const char *level,
                     const char *message, const char *uri, int line,
                     const char *fingerprint);

#endif
