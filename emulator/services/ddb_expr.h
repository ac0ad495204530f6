/* DynamoDB's expression language, parsed once into a tree and then
 * evaluated against items: condition expressions (ConditionExpression,
 * FilterExpression, KeyConditionExpression: comparisons, BETWEEN, IN,
 * AND/OR/NOT, attribute_exists, attribute_not_exists, attribute_type,
 * begins_with, contains, size), update expressions (SET with + and -,
 * if_not_exists and list_append; REMOVE; ADD; DELETE) and projection
 * expressions, with nested paths (a.b[2].c) and the request's
 * ExpressionAttributeNames (#n) and ExpressionAttributeValues (:v).
 * A parsed expression borrows the request's names and values, so it
 * lives no longer than the request; lk_ddb_expr_free() frees it. */
#ifndef LK_DDB_EXPR_H
#define LK_DDB_EXPR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_DDB_EXPR_MAX 4096 /* bytes of one expression, as DynamoDB */

typedef struct lk_ddb_expr lk_ddb_expr_t;

typedef enum lk_ddb_expr_kind {
  LK_DDB_CONDITION,
  LK_DDB_UPDATE,
  LK_DDB_PROJECTION
} lk_ddb_expr_kind_t;

/* The request's placeholders, and which of them its expressions used
 * (DynamoDB refuses a request that defines one it does not use). */
typedef struct lk_ddb_names {
  const cJSON *names;  /* ExpressionAttributeNames, or NULL */
  const cJSON *values; /* ExpressionAttributeValues, or NULL */
  cJSON *used;         /* "#n" / ":v" -> true, filled by the parser */
} lk_ddb_names_t;

/* Parses text as an expression of kind `what` names in messages
 * ("ConditionExpression", "UpdateExpression", ...). 0, or -1 with
 * DynamoDB's ValidationException message in err. */
int lk_ddb_expr_parse(const char *text, lk_ddb_expr_kind_t kind,
                      const char *what, lk_ddb_names_t *names,
                      lk_ddb_expr_t **out, char *err, size_t errlen);
void lk_ddb_expr_free(lk_ddb_expr_t *e);
/* -1 when a placeholder defined in names was used by none of the
 * request's expressions, with DynamoDB's message in err. */
int lk_ddb_names_check_unused(const lk_ddb_names_t *names, char *err,
                              size_t errlen);

/* A condition on item (NULL: no item): 1 true, 0 false, -1 with the
 * message in err (an operand of a function of the wrong type). */
int lk_ddb_expr_test(const lk_ddb_expr_t *e, const cJSON *item, char *err,
                     size_t errlen);
/* Applies an update expression to item in place (a new item when it
 * was absent: the caller passes the key attributes). 0, or -1 with the
 * message in err, item then half changed: apply to a copy. */
int lk_ddb_expr_update(const lk_ddb_expr_t *e, cJSON *item, char *err,
                       size_t errlen);
/* A new item with only the projected paths of item. */
cJSON *lk_ddb_expr_project(const lk_ddb_expr_t *e, const cJSON *item);
/* For KeyConditionExpression: the attribute a top-level comparison is
 * on, to tell the partition key's equality from the sort key's range.
 * Walks the AND of a key condition: cb gets each term's attribute name,
 * operator ("=", "<", "BETWEEN", "begins_with", ...), whether it is
 * simple (a name against values) and, then, its value (BETWEEN's two). */
typedef void (*lk_ddb_term_cb)(void *ud, const char *attr, const char *op,
                               int simple, const cJSON *value,
                               const cJSON *value2);
void lk_ddb_expr_terms(const lk_ddb_expr_t *e, lk_ddb_term_cb cb, void *ud);

/* Decimal arithmetic on canonical numbers, as SET a = a + :n and ADD do:
 * the canonical result into out[LK_DDB_NUM_MAX]; 0, or -1 with the
 * message in err (past 38 digits, or out of range). */
int lk_ddb_num_add(const char *a, const char *b, int subtract, char *out,
                   char *err, size_t errlen);

#endif
