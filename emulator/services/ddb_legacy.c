/* DynamoDB's legacy parameters rewritten as expressions (see
 * ddb_legacy.h). The placeholders are #lkN and :lkN: a request with
 * legacy parameters may carry no ExpressionAttributeNames or Values of
 * its own, so they cannot collide. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "ddb_legacy.h"
#include "json.h"

#define MAX_EXPR (64 * 1024)

typedef struct gen {
  cJSON *names, *values;
  int n;
  char *err;
  size_t errlen;
} gen_t;

static int bad(gen_t *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bad(gen_t *g, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(g->err, g->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* A #name for attr, added to the buffer. */
static void add_name(gen_t *g, lk_buf_t *b, const char *attr) {
  char ph[24];

  snprintf(ph, sizeof(ph), "#lk%d", g->n++);
  cJSON_AddStringToObject(g->names, ph, attr);
  lk_buf_adds(b, ph);
}

static void add_value(gen_t *g, lk_buf_t *b, const cJSON *v) {
  char ph[24];

  snprintf(ph, sizeof(ph), ":lk%d", g->n++);
  cJSON_AddItemToObject(g->values, ph, cJSON_Duplicate(v, 1));
  lk_buf_adds(b, ph);
}

/* ---- conditions ---- */

static const struct {
  const char *op, *text; /* text: an infix operator, or a function */
  int args;              /* values it takes; -1: one or more */
  int call;
} ops[] = {
    {"EQ", " = ", 1, 0},
    {"NE", " <> ", 1, 0},
    {"LE", " <= ", 1, 0},
    {"LT", " < ", 1, 0},
    {"GE", " >= ", 1, 0},
    {"GT", " > ", 1, 0},
    {"NOT_NULL", "attribute_exists", 0, 1},
    {"NULL", "attribute_not_exists", 0, 1},
    {"CONTAINS", "contains", 1, 1},
    {"NOT_CONTAINS", "NOT contains", 1, 1},
    {"BEGINS_WITH", "begins_with", 1, 1},
    {"IN", " IN ", -1, 0},
    {"BETWEEN", " BETWEEN ", 2, 0},
};

/* attr OP values, as an expression. */
static int comparison(gen_t *g, lk_buf_t *b, const char *attr, const char *op,
                      const cJSON *values) {
  int n = cJSON_GetArraySize(values), i = 0;
  const cJSON *v;
  size_t k;

  for (k = 0; op && k < sizeof(ops) / sizeof(ops[0]); k++)
    if (strcmp(ops[k].op, op) == 0)
      break;
  if (op == NULL || k == sizeof(ops) / sizeof(ops[0]))
    return bad(g,
               "1 validation error detected: Value '%.32s' at "
               "'comparisonOperator' failed to satisfy constraint: Member "
               "must satisfy enum value set",
               op ? op : "null");
  if (ops[k].args >= 0 ? n != ops[k].args : n < 1)
    return bad(g,
               "One or more parameter values were invalid: Invalid "
               "number of argument(s) for the %s ComparisonOperator",
               op);
  if (ops[k].call) {
    lk_buf_printf(b, "%s(", ops[k].text);
    add_name(g, b, attr);
    cJSON_ArrayForEach(v, values) {
      lk_buf_adds(b, ", ");
      add_value(g, b, v);
    }
    lk_buf_adds(b, ")");
    return 0;
  }
  add_name(g, b, attr);
  lk_buf_adds(b, ops[k].text);
  if (strcmp(op, "IN") == 0)
    lk_buf_adds(b, "(");
  cJSON_ArrayForEach(v, values) {
    if (i++)
      lk_buf_adds(b, strcmp(op, "BETWEEN") == 0 ? " AND " : ", ");
    add_value(g, b, v);
  }
  if (strcmp(op, "IN") == 0)
    lk_buf_adds(b, ")");
  return 0;
}

/* One entry of Expected: {ComparisonOperator, AttributeValueList}, or
 * {Value, Exists}. */
static int expected(gen_t *g, lk_buf_t *b, const cJSON *e) {
  const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "Value");
  const cJSON *exists = cJSON_GetObjectItemCaseSensitive(e, "Exists");
  const char *op = lk_json_str(e, "ComparisonOperator");

  if (op)
    return comparison(
        g, b, e->string, op,
        cJSON_GetObjectItemCaseSensitive(e, "AttributeValueList"));
  if (cJSON_IsFalse(exists)) {
    if (value)
      return bad(g,
                 "One or more parameter values were invalid: Value "
                 "cannot be used when Exists is false for Attribute: %s",
                 e->string);
    lk_buf_adds(b, "attribute_not_exists(");
    add_name(g, b, e->string);
    lk_buf_adds(b, ")");
    return 0;
  }
  if (value == NULL)
    return bad(g,
               "One or more parameter values were invalid: Value must be "
               "provided when Exists is true for Attribute: %s",
               e->string);
  add_name(g, b, e->string);
  lk_buf_adds(b, " = ");
  add_value(g, b, value);
  return 0;
}

/* Expected, QueryFilter or ScanFilter: each entry in parentheses,
 * joined by ConditionalOperator; KeyConditions: joined by AND, bare, as
 * a key condition is written. */
static int conditions(gen_t *g, lk_buf_t *b, const cJSON *map, int legacy_exp,
                      const char *join) {
  int paren = join[0] == ')';
  const cJSON *e;
  int i = 0, rc = 0;

  if (!cJSON_IsObject(map) || map->child == NULL)
    return bad(g, "One or more parameter values were invalid: a condition "
                  "map must not be empty");
  cJSON_ArrayForEach(e, map) {
    if (rc)
      break;
    if (i++ || paren)
      lk_buf_adds(b, i > 1 ? join : "(");
    if (legacy_exp)
      rc = expected(g, b, e);
    else
      rc =
          comparison(g, b, e->string, lk_json_str(e, "ComparisonOperator"),
                     cJSON_GetObjectItemCaseSensitive(e, "AttributeValueList"));
  }
  if (paren)
    lk_buf_adds(b, ")");
  return rc;
}

/* ---- updates and projections ---- */

/* Which clause an AttributeUpdates entry goes to: SET for PUT (the
 * default), ADD, DELETE with a value (from a set), REMOVE without one;
 * -1 for another action. */
static int clause_of(const cJSON *e) {
  const char *action = lk_json_str(e, "Action");

  if (action == NULL || strcmp(action, "PUT") == 0)
    return 0;
  if (strcmp(action, "ADD") == 0)
    return 1;
  if (strcmp(action, "DELETE") == 0)
    return cJSON_GetObjectItemCaseSensitive(e, "Value") ? 2 : 3;
  return -1;
}

static int updates(gen_t *g, lk_buf_t *b, const cJSON *map) {
  static const char *const clauses[] = {"SET", "ADD", "DELETE", "REMOVE"};
  const cJSON *e;
  int k;

  if (!cJSON_IsObject(map))
    return bad(g, "AttributeUpdates must be a map");
  cJSON_ArrayForEach(e, map) {
    if (clause_of(e) < 0)
      return bad(g,
                 "1 validation error detected: Value '%.32s' at "
                 "'attributeUpdates.%.64s.member.action' failed to "
                 "satisfy constraint: Member must satisfy enum value "
                 "set: [ADD, PUT, DELETE]",
                 lk_json_str(e, "Action") ? lk_json_str(e, "Action") : "",
                 e->string);
    if (clause_of(e) < 2 && !cJSON_GetObjectItemCaseSensitive(e, "Value"))
      return bad(g, "One or more parameter values were invalid: Only "
                    "DELETE action is allowed when no attribute value is "
                    "specified");
  }
  for (k = 0; k < 4; k++) {
    int first = 1;

    cJSON_ArrayForEach(e, map) {
      if (clause_of(e) != k)
        continue;
      if (first)
        lk_buf_printf(b, "%s%s ", b->len ? " " : "", clauses[k]);
      else
        lk_buf_adds(b, ", ");
      first = 0;
      add_name(g, b, e->string);
      if (k < 3) {
        lk_buf_adds(b, k == 0 ? " = " : " ");
        add_value(g, b, cJSON_GetObjectItemCaseSensitive(e, "Value"));
      }
    }
  }
  return 0;
}

static int projection(gen_t *g, lk_buf_t *b, const cJSON *list) {
  const cJSON *a;
  int i = 0;

  if (!cJSON_IsArray(list) || list->child == NULL)
    return bad(g, "1 validation error detected: Value '[]' at "
                  "'attributesToGet' failed to satisfy constraint: Member "
                  "must have length greater than or equal to 1");
  cJSON_ArrayForEach(a, list) {
    if (!cJSON_IsString(a))
      return bad(g, "AttributesToGet must be a list of names");
    if (i++)
      lk_buf_adds(b, ", ");
    add_name(g, b, a->valuestring);
  }
  return 0;
}

/* ---- the request ---- */

enum { L_EXPECTED, L_UPDATES, L_GET, L_KEYS, L_QUERY, L_SCAN, N_LEGACY };

static const struct {
  const char *param, *expression;
} legacy[N_LEGACY] = {
    {"Expected", "ConditionExpression"},
    {"AttributeUpdates", "UpdateExpression"},
    {"AttributesToGet", "ProjectionExpression"},
    {"KeyConditions", "KeyConditionExpression"},
    {"QueryFilter", "FilterExpression"},
    {"ScanFilter", "FilterExpression"},
};

static const char *const expression_params[] = {
    "ConditionExpression",      "UpdateExpression", "ProjectionExpression",
    "KeyConditionExpression",   "FilterExpression", "ExpressionAttributeNames",
    "ExpressionAttributeValues"};

/* A request with both kinds is refused as DynamoDB refuses it. */
static int mixed(gen_t *g, const cJSON *req) {
  const char *old = NULL, *new = NULL;
  size_t k;

  for (k = 0; k < N_LEGACY && old == NULL; k++)
    if (cJSON_GetObjectItemCaseSensitive(req, legacy[k].param))
      old = legacy[k].param;
  for (k = 0; k < sizeof(expression_params) / sizeof(expression_params[0]) &&
              new == NULL;
       k++)
    if (cJSON_GetObjectItemCaseSensitive(req, expression_params[k]))
      new = expression_params[k];
  if (old && new)
    return bad(g,
               "Can not use both expression and non-expression "
               "parameters in the same request: Non-expression "
               "parameters: {%s} Expression parameters: {%s}",
               old, new);
  return 0;
}

static int rewrite_one(gen_t *g, cJSON *req, int k, const char *join) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, legacy[k].param);
  lk_buf_t b;
  int rc;

  if (v == NULL)
    return 0;
  lk_buf_init(&b, MAX_EXPR);
  rc = k == L_UPDATES ? updates(g, &b, v)
       : k == L_GET   ? projection(g, &b, v)
                      : conditions(g, &b, v, k == L_EXPECTED,
                                 k == L_KEYS ? " AND " : join);
  if (rc == 0 && lk_buf_error(&b))
    rc = bad(g, "Invalid %s: the expression it makes is too long",
             legacy[k].param);
  if (rc == 0 && b.len) /* AttributeUpdates of nothing: no expression */
    cJSON_AddStringToObject(req, legacy[k].expression, lk_buf_str(&b));
  lk_buf_free(&b);
  cJSON_DeleteItemFromObjectCaseSensitive(req, legacy[k].param);
  return rc;
}

int lk_ddb_legacy_rewrite(cJSON *req, char *err, size_t errlen) {
  const char *op = lk_json_str(req, "ConditionalOperator");
  gen_t g = {NULL, NULL, 0, err, errlen};
  const char *join = op && strcmp(op, "OR") == 0 ? ") OR (" : ") AND (";
  int k, rc;

  if (!cJSON_IsObject(req))
    return 0;
  rc = mixed(&g, req);
  if (rc == 0 && op && strcmp(op, "AND") != 0 && strcmp(op, "OR") != 0)
    rc = bad(&g,
             "1 validation error detected: Value '%.32s' at "
             "'conditionalOperator' failed to satisfy constraint: Member "
             "must satisfy enum value set: [OR, AND]",
             op);
  g.names = cJSON_CreateObject();
  g.values = cJSON_CreateObject();
  for (k = 0; k < N_LEGACY && rc == 0; k++)
    rc = rewrite_one(&g, req, k, join);
  cJSON_DeleteItemFromObjectCaseSensitive(req, "ConditionalOperator");
  if (rc == 0 && g.names->child) {
    cJSON_AddItemToObject(req, "ExpressionAttributeNames", g.names);
    g.names = NULL;
  }
  if (rc == 0 && g.values->child) {
    cJSON_AddItemToObject(req, "ExpressionAttributeValues", g.values);
    g.values = NULL;
  }
  cJSON_Delete(g.names);
  cJSON_Delete(g.values);
  return rc;
}
