/* DynamoDB expressions (see ddb_expr.h): a tokenizer, a recursive
 * descent parser into nodes kept in one array of the expression's, and
 * evaluators over items in their wire form. Precedence, loosest first:
 * OR, AND, NOT, then a comparison, BETWEEN, IN or a function. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "codec.h"
#include "ddb_expr.h"
#include "ddb_value.h"
#include "mem.h"

#define MAX_NODES 1024
#define MAX_SEGS 32  /* a path's parts: DynamoDB's nesting limit */
#define MAX_ARGS 100 /* IN takes up to 100 values */
#define TOKEN_MAX 256

typedef enum {
  N_PATH,
  N_VALUE,
  N_CMP,
  N_BETWEEN,
  N_IN,
  N_AND,
  N_OR,
  N_NOT,
  N_FUNC,
  N_ARITH
} ntype_t;

typedef struct seg {
  char *name; /* resolved (#n replaced); NULL for an index */
  int index;
} seg_t;

typedef struct node {
  ntype_t t;
  char op[24]; /* comparator, function name, "+" or "-" */
  struct node *a, *b, *c;
  struct node **args;
  int n_args;
  seg_t *segs;
  int n_segs;
  const cJSON *value; /* N_VALUE: the request's, borrowed */
} node_t;

typedef enum { A_SET, A_REMOVE, A_ADD, A_DELETE } action_t;

typedef struct act {
  action_t kind;
  node_t *path, *value;
} act_t;

struct lk_ddb_expr {
  lk_ddb_expr_kind_t kind;
  node_t *root;   /* a condition */
  act_t *acts;    /* an update */
  node_t **paths; /* a projection */
  int n_acts, n_paths;
  node_t *nodes[MAX_NODES];
  int n_nodes;
};

typedef struct parser {
  const char *s, *p, *what;
  char tok[TOKEN_MAX];
  lk_ddb_names_t *names;
  lk_ddb_expr_t *e;
  char *err;
  size_t errlen;
  int failed;
} parser_t;

static int failp(parser_t *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int failp(parser_t *ps, const char *fmt, ...) {
  va_list ap;

  if (ps->failed)
    return -1;
  va_start(ap, fmt);
  vsnprintf(ps->err, ps->errlen, fmt, ap);
  va_end(ap);
  ps->failed = 1;
  return -1;
}

static int syntax(parser_t *ps) {
  return failp(ps, "Invalid %s: Syntax error; token: \"%s\", near: \"%.40s\"",
               ps->what, ps->tok[0] ? ps->tok : "<EOF>",
               ps->p > ps->s + 10 ? ps->p - 10 : ps->s);
}

/* ---- tokens ---- */

static int ident_char(char c) {
  return isalnum((unsigned char)c) || c == '_';
}

/* The next token into ps->tok without taking it; its length. */
static size_t peek(parser_t *ps) {
  const char *p = ps->p;
  size_t n = 0;

  while (isspace((unsigned char)*p))
    p++;
  ps->p = p;
  if (*p == '\0') {
    ps->tok[0] = '\0';
    return 0;
  }
  if (*p == '#' || *p == ':' || ident_char(*p)) {
    n = 1;
    while (ident_char(p[n]))
      n++;
  } else if ((p[0] == '<' && (p[1] == '>' || p[1] == '=')) ||
             (p[0] == '>' && p[1] == '=')) {
    n = 2;
  } else {
    n = 1;
  }
  if (n >= TOKEN_MAX)
    n = TOKEN_MAX - 1;
  memcpy(ps->tok, p, n);
  ps->tok[n] = '\0';
  return n;
}

static void take(parser_t *ps) {
  ps->p += peek(ps);
}

static int is(parser_t *ps, const char *word) {
  peek(ps);
  return strcasecmp(ps->tok, word) == 0;
}

static int accept(parser_t *ps, const char *word) {
  if (!is(ps, word))
    return 0;
  take(ps);
  return 1;
}

static int expect(parser_t *ps, const char *word) {
  return accept(ps, word) ? 0 : syntax(ps);
}

/* ---- nodes ---- */

static node_t *node(parser_t *ps, ntype_t t) {
  node_t *n;

  if (ps->e->n_nodes == MAX_NODES) {
    failp(ps, "Invalid %s: The expression has too many operators", ps->what);
    return NULL;
  }
  n = lk_xcalloc(1, sizeof(*n));
  n->t = t;
  ps->e->nodes[ps->e->n_nodes++] = n;
  return n;
}

static void mark_used(parser_t *ps, const char *ref) {
  if (!cJSON_GetObjectItemCaseSensitive(ps->names->used, ref))
    cJSON_AddTrueToObject(ps->names->used, ref);
}

/* DynamoDB's reserved words, in order: one used bare as a name is
 * refused (a #placeholder stands for it). The list is AWS's. */
static const char *const reserved[] = {
    "ABORT",
    "ABSOLUTE",
    "ACTION",
    "ADD",
    "AFTER",
    "AGENT",
    "AGGREGATE",
    "ALL",
    "ALLOCATE",
    "ALTER",
    "ANALYZE",
    "AND",
    "ANY",
    "ARCHIVE",
    "ARE",
    "ARRAY",
    "AS",
    "ASC",
    "ASCII",
    "ASENSITIVE",
    "ASSERTION",
    "ASYMMETRIC",
    "AT",
    "ATOMIC",
    "ATTACH",
    "ATTRIBUTE",
    "AUTH",
    "AUTHORIZATION",
    "AUTHORIZE",
    "AUTO",
    "AVG",
    "BACK",
    "BACKUP",
    "BASE",
    "BATCH",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BIT",
    "BLOB",
    "BLOCK",
    "BOOLEAN",
    "BOTH",
    "BREADTH",
    "BUCKET",
    "BULK",
    "BY",
    "BYTE",
    "CALL",
    "CALLED",
    "CALLING",
    "CAPACITY",
    "CASCADE",
    "CASCADED",
    "CASE",
    "CAST",
    "CATALOG",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "CLASS",
    "CLOB",
    "CLOSE",
    "CLUSTER",
    "CLUSTERED",
    "CLUSTERING",
    "CLUSTERS",
    "COALESCE",
    "COLLATE",
    "COLLATION",
    "COLLECTION",
    "COLUMN",
    "COLUMNS",
    "COMBINE",
    "COMMENT",
    "COMMIT",
    "COMPACT",
    "COMPILE",
    "COMPRESS",
    "CONDITION",
    "CONFLICT",
    "CONNECT",
    "CONNECTION",
    "CONSISTENCY",
    "CONSISTENT",
    "CONSTRAINT",
    "CONSTRAINTS",
    "CONSTRUCTOR",
    "CONSUMED",
    "CONTINUE",
    "CONVERT",
    "COPY",
    "CORRESPONDING",
    "COUNT",
    "COUNTER",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT",
    "CURSOR",
    "CYCLE",
    "DATA",
    "DATABASE",
    "DATE",
    "DATETIME",
    "DAY",
    "DEALLOCATE",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DEFINE",
    "DEFINED",
    "DEFINITION",
    "DELETE",
    "DELIMITED",
    "DEPTH",
    "DEREF",
    "DESC",
    "DESCRIBE",
    "DESCRIPTOR",
    "DETACH",
    "DETERMINISTIC",
    "DIAGNOSTICS",
    "DIRECTORIES",
    "DISABLE",
    "DISCONNECT",
    "DISTINCT",
    "DISTRIBUTE",
    "DO",
    "DOMAIN",
    "DOUBLE",
    "DROP",
    "DUMP",
    "DURATION",
    "DYNAMIC",
    "EACH",
    "ELEMENT",
    "ELSE",
    "ELSEIF",
    "EMPTY",
    "ENABLE",
    "END",
    "EQUAL",
    "EQUALS",
    "ERROR",
    "ESCAPE",
    "ESCAPED",
    "EVAL",
    "EVALUATE",
    "EXCEEDED",
    "EXCEPT",
    "EXCEPTION",
    "EXCEPTIONS",
    "EXCLUSIVE",
    "EXEC",
    "EXECUTE",
    "EXISTS",
    "EXIT",
    "EXPLAIN",
    "EXPLODE",
    "EXPORT",
    "EXPRESSION",
    "EXTENDED",
    "EXTERNAL",
    "EXTRACT",
    "FAIL",
    "FALSE",
    "FAMILY",
    "FETCH",
    "FIELDS",
    "FILE",
    "FILTER",
    "FILTERING",
    "FINAL",
    "FINISH",
    "FIRST",
    "FIXED",
    "FLATTERN",
    "FLOAT",
    "FOR",
    "FORCE",
    "FOREIGN",
    "FORMAT",
    "FORWARD",
    "FOUND",
    "FREE",
    "FROM",
    "FULL",
    "FUNCTION",
    "FUNCTIONS",
    "GENERAL",
    "GENERATE",
    "GET",
    "GLOB",
    "GLOBAL",
    "GO",
    "GOTO",
    "GRANT",
    "GREATER",
    "GROUP",
    "GROUPING",
    "HANDLER",
    "HASH",
    "HAVE",
    "HAVING",
    "HEAP",
    "HIDDEN",
    "HOLD",
    "HOUR",
    "IDENTIFIED",
    "IDENTITY",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IMPORT",
    "IN",
    "INCLUDING",
    "INCLUSIVE",
    "INCREMENT",
    "INCREMENTAL",
    "INDEX",
    "INDEXED",
    "INDEXES",
    "INDICATOR",
    "INFINITE",
    "INITIALLY",
    "INLINE",
    "INNER",
    "INNTER",
    "INOUT",
    "INPUT",
    "INSENSITIVE",
    "INSERT",
    "INSTEAD",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "INVALIDATE",
    "IS",
    "ISOLATION",
    "ITEM",
    "ITEMS",
    "ITERATE",
    "JOIN",
    "KEY",
    "KEYS",
    "LAG",
    "LANGUAGE",
    "LARGE",
    "LAST",
    "LATERAL",
    "LEAD",
    "LEADING",
    "LEAVE",
    "LEFT",
    "LENGTH",
    "LESS",
    "LEVEL",
    "LIKE",
    "LIMIT",
    "LIMITED",
    "LINES",
    "LIST",
    "LOAD",
    "LOCAL",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "LOCATION",
    "LOCATOR",
    "LOCK",
    "LOCKS",
    "LOG",
    "LOGED",
    "LONG",
    "LOOP",
    "LOWER",
    "MAP",
    "MATCH",
    "MATERIALIZED",
    "MAX",
    "MAXLEN",
    "MEMBER",
    "MERGE",
    "METHOD",
    "METRICS",
    "MIN",
    "MINUS",
    "MINUTE",
    "MISSING",
    "MOD",
    "MODE",
    "MODIFIES",
    "MODIFY",
    "MODULE",
    "MONTH",
    "MULTI",
    "MULTISET",
    "NAME",
    "NAMES",
    "NATIONAL",
    "NATURAL",
    "NCHAR",
    "NCLOB",
    "NEW",
    "NEXT",
    "NO",
    "NONE",
    "NOT",
    "NULL",
    "NULLIF",
    "NUMBER",
    "NUMERIC",
    "OBJECT",
    "OF",
    "OFFLINE",
    "OFFSET",
    "OLD",
    "ON",
    "ONLINE",
    "ONLY",
    "OPAQUE",
    "OPEN",
    "OPERATOR",
    "OPTION",
    "OR",
    "ORDER",
    "ORDINALITY",
    "OTHER",
    "OTHERS",
    "OUT",
    "OUTER",
    "OUTPUT",
    "OVER",
    "OVERLAPS",
    "OVERRIDE",
    "OWNER",
    "PAD",
    "PARALLEL",
    "PARAMETER",
    "PARAMETERS",
    "PARTIAL",
    "PARTITION",
    "PARTITIONED",
    "PARTITIONS",
    "PATH",
    "PERCENT",
    "PERCENTILE",
    "PERMISSION",
    "PERMISSIONS",
    "PIPE",
    "PIPELINED",
    "PLAN",
    "POOL",
    "POSITION",
    "PRECISION",
    "PREPARE",
    "PRESERVE",
    "PRIMARY",
    "PRIOR",
    "PRIVATE",
    "PRIVILEGES",
    "PROCEDURE",
    "PROCESSED",
    "PROJECT",
    "PROJECTION",
    "PROPERTY",
    "PROVISIONING",
    "PUBLIC",
    "PUT",
    "QUERY",
    "QUIT",
    "QUORUM",
    "RAISE",
    "RANDOM",
    "RANGE",
    "RANK",
    "RAW",
    "READ",
    "READS",
    "REAL",
    "REBUILD",
    "RECORD",
    "RECURSIVE",
    "REDUCE",
    "REF",
    "REFERENCE",
    "REFERENCES",
    "REFERENCING",
    "REGEXP",
    "REGION",
    "REINDEX",
    "RELATIVE",
    "RELEASE",
    "REMAINDER",
    "RENAME",
    "REPEAT",
    "REPLACE",
    "REQUEST",
    "RESET",
    "RESIGNAL",
    "RESOURCE",
    "RESPONSE",
    "RESTORE",
    "RESTRICT",
    "RESULT",
    "RETURN",
    "RETURNING",
    "RETURNS",
    "REVERSE",
    "REVOKE",
    "RIGHT",
    "ROLE",
    "ROLES",
    "ROLLBACK",
    "ROLLUP",
    "ROUTINE",
    "ROW",
    "ROWS",
    "RULE",
    "RULES",
    "SAMPLE",
    "SATISFIES",
    "SAVE",
    "SAVEPOINT",
    "SCAN",
    "SCHEMA",
    "SCOPE",
    "SCROLL",
    "SEARCH",
    "SECOND",
    "SECTION",
    "SEGMENT",
    "SEGMENTS",
    "SELECT",
    "SELF",
    "SEMI",
    "SENSITIVE",
    "SEPARATE",
    "SEQUENCE",
    "SERIALIZABLE",
    "SESSION",
    "SET",
    "SETS",
    "SHARD",
    "SHARE",
    "SHARED",
    "SHORT",
    "SHOW",
    "SIGNAL",
    "SIMILAR",
    "SIZE",
    "SKEWED",
    "SMALLINT",
    "SNAPSHOT",
    "SOME",
    "SOURCE",
    "SPACE",
    "SPACES",
    "SPARSE",
    "SPECIFIC",
    "SPECIFICTYPE",
    "SPLIT",
    "SQL",
    "SQLCODE",
    "SQLERROR",
    "SQLEXCEPTION",
    "SQLSTATE",
    "SQLWARNING",
    "START",
    "STATE",
    "STATIC",
    "STATUS",
    "STORAGE",
    "STORE",
    "STORED",
    "STREAM",
    "STRING",
    "STRUCT",
    "STYLE",
    "SUB",
    "SUBMULTISET",
    "SUBPARTITION",
    "SUBSTRING",
    "SUBTYPE",
    "SUM",
    "SUPER",
    "SYMMETRIC",
    "SYNONYM",
    "SYSTEM",
    "TABLE",
    "TABLESAMPLE",
    "TEMP",
    "TEMPORARY",
    "TERMINATED",
    "TEXT",
    "THAN",
    "THEN",
    "THROUGHPUT",
    "TIME",
    "TIMESTAMP",
    "TIMEZONE",
    "TINYINT",
    "TO",
    "TOKEN",
    "TOTAL",
    "TOUCH",
    "TRAILING",
    "TRANSACTION",
    "TRANSFORM",
    "TRANSLATE",
    "TRANSLATION",
    "TREAT",
    "TRIGGER",
    "TRIM",
    "TRUE",
    "TRUNCATE",
    "TTL",
    "TUPLE",
    "TYPE",
    "UNDER",
    "UNDO",
    "UNION",
    "UNIQUE",
    "UNIT",
    "UNKNOWN",
    "UNLOGGED",
    "UNNEST",
    "UNPROCESSED",
    "UNSIGNED",
    "UNTIL",
    "UPDATE",
    "UPPER",
    "URL",
    "USAGE",
    "USE",
    "USER",
    "USERS",
    "USING",
    "UUID",
    "VACUUM",
    "VALUE",
    "VALUED",
    "VALUES",
    "VARCHAR",
    "VARIABLE",
    "VARIANCE",
    "VARINT",
    "VARYING",
    "VIEW",
    "VIEWS",
    "VIRTUAL",
    "VOID",
    "WAIT",
    "WHEN",
    "WHENEVER",
    "WHERE",
    "WHILE",
    "WINDOW",
    "WITH",
    "WITHIN",
    "WITHOUT",
    "WORK",
    "WRAPPED",
    "WRITE",
    "YEAR",
    "ZONE",
};

static int by_word(const void *key, const void *elem) {
  return strcasecmp(key, *(const char *const *)elem);
}

static int is_reserved(const char *name) {
  return bsearch(name, reserved, sizeof(reserved) / sizeof(reserved[0]),
                 sizeof(reserved[0]), by_word) != NULL;
}

/* A name of a path: an identifier, or #n from ExpressionAttributeNames. */
static char *path_name(parser_t *ps) {
  const cJSON *v;

  peek(ps);
  if (ps->tok[0] == '#') {
    v = cJSON_GetObjectItemCaseSensitive(ps->names->names, ps->tok);
    if (!cJSON_IsString(v)) {
      failp(ps,
            "Invalid %s: An expression attribute name used in the document "
            "path is not defined; attribute name: %s",
            ps->what, ps->tok);
      return NULL;
    }
    mark_used(ps, ps->tok);
    take(ps);
    return lk_xstrdup(v->valuestring);
  }
  if (!isalpha((unsigned char)ps->tok[0]) && ps->tok[0] != '_') {
    syntax(ps);
    return NULL;
  }
  if (is_reserved(ps->tok)) {
    failp(ps,
          "Invalid %s: Attribute name is a reserved keyword; reserved "
          "keyword: %s",
          ps->what, ps->tok);
    return NULL;
  }
  take(ps);
  return lk_xstrdup(ps->tok);
}

static node_t *parse_path(parser_t *ps) {
  node_t *n = node(ps, N_PATH);

  if (n == NULL)
    return NULL;
  n->segs = lk_xcalloc(MAX_SEGS, sizeof(seg_t));
  do {
    if (n->n_segs == MAX_SEGS) {
      failp(ps, "Invalid %s: The document path is too deep", ps->what);
      return NULL;
    }
    n->segs[n->n_segs].name = path_name(ps);
    if (n->segs[n->n_segs++].name == NULL)
      return NULL;
    while (accept(ps, "[")) {
      char *end;
      long i;

      peek(ps);
      i = strtol(ps->tok, &end, 10);
      if (!isdigit((unsigned char)ps->tok[0]) || *end || i > 1000000 ||
          n->n_segs == MAX_SEGS) {
        syntax(ps);
        return NULL;
      }
      take(ps);
      n->segs[n->n_segs].index = (int)i;
      n->segs[n->n_segs++].name = NULL;
      if (expect(ps, "]"))
        return NULL;
    }
  } while (accept(ps, "."));
  return n;
}

static node_t *parse_value_ref(parser_t *ps) {
  node_t *n;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(ps->names->values, ps->tok);

  if (v == NULL) {
    failp(ps,
          "Invalid %s: An expression attribute value used in expression is "
          "not defined; attribute value: %s",
          ps->what, ps->tok);
    return NULL;
  }
  mark_used(ps, ps->tok);
  take(ps);
  n = node(ps, N_VALUE);
  if (n)
    n->value = v;
  return n;
}

static node_t *parse_operand(parser_t *ps);

/* name(arg, ...), name already read into n->op. */
static node_t *parse_call(parser_t *ps, node_t *n) {
  node_t *args[MAX_ARGS];

  if (expect(ps, "("))
    return NULL;
  do {
    if (n->n_args == 3 || (args[n->n_args++] = parse_operand(ps)) == NULL)
      return n->n_args == 3 ? (syntax(ps), NULL) : NULL;
  } while (accept(ps, ","));
  if (expect(ps, ")"))
    return NULL;
  n->args = lk_xcalloc((size_t)n->n_args, sizeof(node_t *));
  memcpy(n->args, args, sizeof(node_t *) * (size_t)n->n_args);
  return n;
}

static const char *const functions[] = {"attribute_exists",
                                        "attribute_not_exists",
                                        "attribute_type",
                                        "begins_with",
                                        "contains",
                                        "size",
                                        "if_not_exists",
                                        "list_append",
                                        NULL};

static const char *function_name(parser_t *ps) {
  const char *q = ps->p + strlen(ps->tok);
  int i;

  while (isspace((unsigned char)*q))
    q++;
  if (*q != '(')
    return NULL;
  for (i = 0; functions[i]; i++)
    if (strcmp(ps->tok, functions[i]) == 0)
      return functions[i];
  failp(ps, "Invalid %s: Invalid function name; function: %s", ps->what,
        ps->tok);
  return NULL;
}

static node_t *parse_function(parser_t *ps, const char *name) {
  node_t *n = node(ps, N_FUNC);

  if (n == NULL)
    return NULL;
  snprintf(n->op, sizeof(n->op), "%s", name);
  take(ps);
  return parse_call(ps, n);
}

static node_t *parse_operand(parser_t *ps) {
  const char *fn;

  peek(ps);
  if (ps->tok[0] == ':')
    return parse_value_ref(ps);
  if (ps->tok[0] == '\0' || (!ident_char(ps->tok[0]) && ps->tok[0] != '#')) {
    syntax(ps);
    return NULL;
  }
  fn = ps->tok[0] != '#' ? function_name(ps) : NULL;
  if (ps->failed)
    return NULL;
  return fn ? parse_function(ps, fn) : parse_path(ps);
}

/* ---- conditions ---- */

static node_t *parse_or(parser_t *ps);

static node_t *binary(parser_t *ps, ntype_t t, const char *op, node_t *a,
                      node_t *b) {
  node_t *n = a && b ? node(ps, t) : NULL;

  if (n) {
    snprintf(n->op, sizeof(n->op), "%s", op);
    n->a = a;
    n->b = b;
  }
  return n;
}

static const char *const comparators[] = {
    "=", "<>", "<", "<=", ">", ">=", NULL};

static node_t *parse_in(parser_t *ps, node_t *a) {
  node_t *n = node(ps, N_IN), *list[MAX_ARGS];

  if (n == NULL || expect(ps, "("))
    return NULL;
  n->a = a;
  do {
    if (n->n_args == MAX_ARGS) {
      failp(ps,
            "Invalid %s: The IN operator is provided with too many "
            "operands; number of operands: %d",
            ps->what, MAX_ARGS + 1);
      return NULL;
    }
    if ((list[n->n_args++] = parse_operand(ps)) == NULL)
      return NULL;
  } while (accept(ps, ","));
  if (expect(ps, ")"))
    return NULL;
  n->args = lk_xcalloc((size_t)n->n_args, sizeof(node_t *));
  memcpy(n->args, list, sizeof(node_t *) * (size_t)n->n_args);
  return n;
}

static node_t *parse_predicate(parser_t *ps) {
  node_t *a, *n;
  int i;

  if (accept(ps, "(")) {
    n = parse_or(ps);
    return n && expect(ps, ")") == 0 ? n : NULL;
  }
  a = parse_operand(ps);
  if (a == NULL)
    return NULL;
  peek(ps);
  for (i = 0; comparators[i]; i++)
    if (strcmp(ps->tok, comparators[i]) == 0) {
      take(ps);
      return binary(ps, N_CMP, comparators[i], a, parse_operand(ps));
    }
  if (accept(ps, "BETWEEN")) {
    n = node(ps, N_BETWEEN);
    if (n == NULL || (n->b = parse_operand(ps)) == NULL || expect(ps, "AND") ||
        (n->c = parse_operand(ps)) == NULL)
      return NULL;
    snprintf(n->op, sizeof(n->op), "BETWEEN");
    n->a = a;
    return n;
  }
  if (accept(ps, "IN"))
    return parse_in(ps, a);
  if (a->t == N_FUNC && strcmp(a->op, "size") != 0 &&
      strcmp(a->op, "if_not_exists") != 0 && strcmp(a->op, "list_append") != 0)
    return a;
  syntax(ps);
  return NULL;
}

static node_t *parse_not(parser_t *ps) {
  node_t *n;

  if (!accept(ps, "NOT"))
    return parse_predicate(ps);
  n = node(ps, N_NOT);
  if (n && (n->a = parse_not(ps)) == NULL)
    return NULL;
  return n;
}

static node_t *parse_and(parser_t *ps) {
  node_t *n = parse_not(ps);

  while (n && accept(ps, "AND"))
    n = binary(ps, N_AND, "AND", n, parse_not(ps));
  return n;
}

static node_t *parse_or(parser_t *ps) {
  node_t *n = parse_and(ps);

  while (n && accept(ps, "OR"))
    n = binary(ps, N_OR, "OR", n, parse_and(ps));
  return n;
}

/* ---- updates and projections ---- */

static node_t *parse_set_value(parser_t *ps) {
  node_t *a = parse_operand(ps);

  peek(ps);
  if (a && (strcmp(ps->tok, "+") == 0 || strcmp(ps->tok, "-") == 0)) {
    char op[2] = {ps->tok[0], '\0'};

    take(ps);
    return binary(ps, N_ARITH, op, a, parse_operand(ps));
  }
  return a;
}

static int add_act(parser_t *ps, action_t kind, node_t *path, node_t *value) {
  lk_ddb_expr_t *e = ps->e;

  if (path == NULL || (kind != A_REMOVE && value == NULL))
    return -1;
  e->acts = lk_xrealloc(e->acts, sizeof(act_t) * (size_t)(e->n_acts + 1));
  e->acts[e->n_acts++] = (act_t){kind, path, value};
  return 0;
}

static int parse_clause(parser_t *ps, action_t kind) {
  do {
    node_t *path = parse_path(ps), *value = NULL;

    if (path && kind == A_SET) {
      if (expect(ps, "="))
        return -1;
      value = parse_set_value(ps);
    } else if (path && kind != A_REMOVE) {
      peek(ps);
      value = ps->tok[0] == ':' ? parse_value_ref(ps) : NULL;
      if (value == NULL)
        return syntax(ps);
    }
    if (add_act(ps, kind, path, value))
      return -1;
  } while (accept(ps, ","));
  return 0;
}

static int parse_update(parser_t *ps) {
  static const char *const words[] = {"SET", "REMOVE", "ADD", "DELETE", NULL};
  int seen[4] = {0}, i;

  do {
    for (i = 0; words[i] && !is(ps, words[i]); i++)
      ;
    if (words[i] == NULL)
      return syntax(ps);
    if (seen[i]++)
      return failp(ps,
                   "Invalid %s: The \"%s\" section can only be used once in "
                   "an update expression;",
                   ps->what, words[i]);
    take(ps);
    if (parse_clause(ps, (action_t)i))
      return -1;
    peek(ps);
  } while (ps->tok[0]);
  return 0;
}

static int parse_projection(parser_t *ps) {
  lk_ddb_expr_t *e = ps->e;

  do {
    node_t *p = parse_path(ps);

    if (p == NULL)
      return -1;
    e->paths =
        lk_xrealloc(e->paths, sizeof(node_t *) * (size_t)(e->n_paths + 1));
    e->paths[e->n_paths++] = p;
  } while (accept(ps, ","));
  return 0;
}

int lk_ddb_expr_parse(const char *text, lk_ddb_expr_kind_t kind,
                      const char *what, lk_ddb_names_t *names,
                      lk_ddb_expr_t **out, char *err, size_t errlen) {
  parser_t ps = {text, text, what, "", names, NULL, err, errlen, 0};
  int rc = 0;

  *out = NULL;
  if (strlen(text) > LK_DDB_EXPR_MAX) {
    snprintf(err, errlen,
             "Invalid %s: Expression size has exceeded the maximum allowed "
             "size; expression size: %zu",
             what, strlen(text));
    return -1;
  }
  peek(&ps);
  if (ps.tok[0] == '\0') {
    snprintf(err, errlen, "Invalid %s: The expression can not be empty;", what);
    return -1;
  }
  ps.e = lk_xcalloc(1, sizeof(*ps.e));
  ps.e->kind = kind;
  if (kind == LK_DDB_CONDITION)
    rc = (ps.e->root = parse_or(&ps)) ? 0 : -1;
  else if (kind == LK_DDB_UPDATE)
    rc = parse_update(&ps);
  else
    rc = parse_projection(&ps);
  if (rc == 0 && peek(&ps) != 0)
    rc = syntax(&ps);
  if (rc != 0 || ps.failed) {
    if (!ps.failed)
      syntax(&ps);
    lk_ddb_expr_free(ps.e);
    return -1;
  }
  *out = ps.e;
  return 0;
}

void lk_ddb_expr_free(lk_ddb_expr_t *e) {
  int i, k;

  if (e == NULL)
    return;
  for (i = 0; i < e->n_nodes; i++) {
    node_t *n = e->nodes[i];

    for (k = 0; k < n->n_segs; k++)
      free(n->segs[k].name);
    free(n->segs);
    free(n->args);
    free(n);
  }
  free(e->acts);
  free(e->paths);
  free(e);
}

int lk_ddb_names_check_unused(const lk_ddb_names_t *names, char *err,
                              size_t errlen) {
  const cJSON *it;

  cJSON_ArrayForEach(it, names->values) {
    if (!cJSON_GetObjectItemCaseSensitive(names->used, it->string)) {
      snprintf(err, errlen,
               "Value provided in ExpressionAttributeValues unused in "
               "expressions: keys: {%s}",
               it->string);
      return -1;
    }
  }
  cJSON_ArrayForEach(it, names->names) {
    if (!cJSON_GetObjectItemCaseSensitive(names->used, it->string)) {
      snprintf(err, errlen,
               "Value provided in ExpressionAttributeNames unused in "
               "expressions: keys: {%s}",
               it->string);
      return -1;
    }
  }
  return 0;
}

/* ---- numbers ---- */

#define WIDE 400 /* digit positions two canonical numbers can span */

/* A canonical number's digits by position: value = sum d[k] 10^(lo+k). */
typedef struct wide {
  int neg;
  int d[WIDE];
} wide_t;

static void spread(const char *s, int lo, wide_t *w) {
  const char *point = strchr(s, '.');
  int neg = *s == '-', e, pos;

  memset(w, 0, sizeof(*w));
  w->neg = neg;
  s += neg;
  e = point ? (int)(point - s) : (int)strlen(s); /* digits before '.' */
  for (pos = e - 1; *s; s++) {
    if (*s == '.')
      continue;
    if (pos - lo >= 0 && pos - lo < WIDE)
      w->d[pos - lo] = *s - '0';
    pos--;
  }
}

static int lowest(const char *s) {
  const char *point = strchr(s, '.');

  return point ? -(int)strlen(point + 1) : 0;
}

static int mag_cmp(const wide_t *a, const wide_t *b) {
  int k;

  for (k = WIDE - 1; k >= 0; k--)
    if (a->d[k] != b->d[k])
      return a->d[k] < b->d[k] ? -1 : 1;
  return 0;
}

int lk_ddb_num_add(const char *a, const char *b, int subtract, char *out,
                   char *err, size_t errlen) {
  int lo = lowest(a) < lowest(b) ? lowest(a) : lowest(b), k, carry = 0;
  wide_t x, y, *big, *small;
  char text[WIDE + 32], *t = text;
  int neg;

  spread(a, lo, &x);
  spread(b, lo, &y);
  y.neg ^= subtract && strcmp(b, "0") != 0;
  if (x.neg == y.neg) {
    for (k = 0; k < WIDE; k++) {
      int s = x.d[k] + y.d[k] + carry;

      x.d[k] = s % 10;
      carry = s / 10;
    }
    neg = x.neg;
    big = &x;
  } else {
    big = mag_cmp(&x, &y) >= 0 ? &x : &y;
    small = big == &x ? &y : &x;
    for (k = 0; k < WIDE; k++) {
      int s = big->d[k] - small->d[k] - carry;

      carry = s < 0;
      big->d[k] = s + (s < 0 ? 10 : 0);
    }
    neg = big->neg;
  }
  if (neg)
    *t++ = '-';
  for (k = WIDE - 1; k >= 0; k--)
    *t++ = (char)('0' + big->d[k]);
  snprintf(t, sizeof(text) - (size_t)(t - text), "e%d", lo);
  return lk_ddb_num_canon(text, out, err, errlen);
}

/* ---- evaluation ---- */

typedef struct ev {
  cJSON *temps; /* values made while evaluating: freed at the end */
  char *err;
  size_t errlen;
  int failed;
} ev_t;

static int fail_ev(ev_t *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail_ev(ev_t *ev, const char *fmt, ...) {
  va_list ap;

  if (!ev->failed) {
    va_start(ap, fmt);
    vsnprintf(ev->err, ev->errlen, fmt, ap);
    va_end(ap);
  }
  ev->failed = 1;
  return -1;
}

static const cJSON *temp(ev_t *ev, cJSON *v) {
  cJSON_AddItemToArray(ev->temps, v);
  return v;
}

static const cJSON *typed(ev_t *ev, const char *type, cJSON *payload) {
  cJSON *v = cJSON_CreateObject();

  cJSON_AddItemToObject(v, type, payload);
  return temp(ev, v);
}

/* The value at a path in item, or NULL. */
static const cJSON *get_path(const cJSON *item, const node_t *p) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, p->segs[0].name);
  int i;

  for (i = 1; v && i < p->n_segs; i++) {
    const char *t = lk_ddb_type(v);

    if (p->segs[i].name)
      v = t && strcmp(t, "M") == 0 ? cJSON_GetObjectItemCaseSensitive(
                                         lk_ddb_payload(v), p->segs[i].name)
                                   : NULL;
    else
      v = t && strcmp(t, "L") == 0
              ? cJSON_GetArrayItem(lk_ddb_payload(v), p->segs[i].index)
              : NULL;
  }
  return v;
}

static const cJSON *operand(ev_t *ev, const node_t *n, const cJSON *item);

static size_t utf8_len(const char *s) {
  size_t n = 0;

  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static const cJSON *size_of(ev_t *ev, const cJSON *v) {
  const char *t = lk_ddb_type(v);
  const cJSON *p = lk_ddb_payload(v);
  char num[32];
  size_t n;

  if (t == NULL)
    return NULL;
  if (strcmp(t, "S") == 0)
    n = utf8_len(p->valuestring);
  else if (strcmp(t, "B") == 0)
    n = strlen(p->valuestring) / 4 * 3 -
        (strchr(p->valuestring, '=') ? strlen(strchr(p->valuestring, '=')) : 0);
  else if (cJSON_IsArray(p) || cJSON_IsObject(p))
    n = (size_t)cJSON_GetArraySize(p);
  else {
    fail_ev(ev,
            "Invalid ConditionExpression: Incorrect operand type for "
            "operator or function; operator or function: size, operand "
            "type: %s",
            t);
    return NULL;
  }
  snprintf(num, sizeof(num), "%zu", n);
  return typed(ev, "N", cJSON_CreateString(num));
}

static const cJSON *arith(ev_t *ev, const node_t *n, const cJSON *item) {
  const cJSON *a = operand(ev, n->a, item), *b = operand(ev, n->b, item);
  char out[LK_DDB_NUM_MAX];

  if (a == NULL || b == NULL || strcmp(lk_ddb_type(a), "N") != 0 ||
      strcmp(lk_ddb_type(b), "N") != 0) {
    fail_ev(ev, a && b ? "An operand in the update expression has an "
                         "incorrect data type"
                       : "The provided expression refers to an attribute "
                         "that does not exist in the item");
    return NULL;
  }
  if (lk_ddb_num_add(lk_ddb_payload(a)->valuestring,
                     lk_ddb_payload(b)->valuestring, n->op[0] == '-', out,
                     ev->err, ev->errlen) != 0) {
    ev->failed = 1;
    return NULL;
  }
  return typed(ev, "N", cJSON_CreateString(out));
}

static const cJSON *list_append(ev_t *ev, const node_t *n, const cJSON *item) {
  const cJSON *a = operand(ev, n->args[0], item);
  const cJSON *b = n->n_args > 1 ? operand(ev, n->args[1], item) : NULL;
  cJSON *l;
  const cJSON *it;

  if (a == NULL || b == NULL || strcmp(lk_ddb_type(a), "L") != 0 ||
      strcmp(lk_ddb_type(b), "L") != 0) {
    fail_ev(ev, "Invalid UpdateExpression: Incorrect operand type for "
                "operator or function; operator or function: list_append");
    return NULL;
  }
  l = cJSON_Duplicate(lk_ddb_payload(a), 1);
  cJSON_ArrayForEach(it, lk_ddb_payload(b))
      cJSON_AddItemToArray(l, cJSON_Duplicate(it, 1));
  return typed(ev, "L", l);
}

static const cJSON *operand(ev_t *ev, const node_t *n, const cJSON *item) {
  if (ev->failed)
    return NULL;
  if (n->t == N_VALUE)
    return n->value;
  if (n->t == N_PATH)
    return item ? get_path(item, n) : NULL;
  if (n->t == N_ARITH)
    return arith(ev, n, item);
  if (strcmp(n->op, "size") == 0 && n->n_args == 1 && n->args[0]->t == N_PATH) {
    const cJSON *v = operand(ev, n->args[0], item);

    return v ? size_of(ev, v) : NULL;
  }
  if (strcmp(n->op, "if_not_exists") == 0 && n->n_args == 2) {
    const cJSON *v = operand(ev, n->args[0], item);

    return v ? v : operand(ev, n->args[1], item);
  }
  if (strcmp(n->op, "list_append") == 0 && n->n_args == 2)
    return list_append(ev, n, item);
  fail_ev(ev, "Invalid expression: the function %s is not allowed here", n->op);
  return NULL;
}

static int bin_cmp(const char *a, const char *b) {
  lk_buf_t x, y;
  int c;

  lk_buf_init(&x, strlen(a) + 4);
  lk_buf_init(&y, strlen(b) + 4);
  lk_b64_decode(&x, a, strlen(a));
  lk_b64_decode(&y, b, strlen(b));
  c = memcmp(x.data ? x.data : "", y.data ? y.data : "",
             x.len < y.len ? x.len : y.len);
  if (c == 0)
    c = (x.len > y.len) - (x.len < y.len);
  lk_buf_free(&x);
  lk_buf_free(&y);
  return c;
}

/* Order of two scalars of one type (S, N, B); 0 in *ok otherwise. */
static int order(const cJSON *a, const cJSON *b, int *ok) {
  const char *t = lk_ddb_type(a);
  const char *x, *y;

  *ok = a && b && t && strcmp(t, lk_ddb_type(b)) == 0 && strlen(t) == 1 &&
        strchr("SNB", t[0]);
  if (!*ok)
    return 0;
  x = lk_ddb_payload(a)->valuestring;
  y = lk_ddb_payload(b)->valuestring;
  if (t[0] == 'N')
    return lk_ddb_num_cmp(x, y);
  return t[0] == 'B' ? bin_cmp(x, y) : strcmp(x, y);
}

static int compare(const char *op, const cJSON *a, const cJSON *b) {
  int ok, c;

  if (strcmp(op, "=") == 0)
    return a && b && lk_ddb_value_eq(a, b);
  if (strcmp(op, "<>") == 0)
    return !(a && b && lk_ddb_value_eq(a, b)) && a != NULL;
  c = order(a, b, &ok);
  if (!ok)
    return 0;
  if (strcmp(op, "<") == 0)
    return c < 0;
  if (strcmp(op, "<=") == 0)
    return c <= 0;
  if (strcmp(op, ">") == 0)
    return c > 0;
  return c >= 0;
}

static int contains(const cJSON *hay, const cJSON *needle) {
  const char *t = lk_ddb_type(hay), *nt = lk_ddb_type(needle);
  const cJSON *it;

  if (t == NULL || nt == NULL)
    return 0;
  if (strcmp(t, "S") == 0 && strcmp(nt, "S") == 0)
    return strstr(lk_ddb_payload(hay)->valuestring,
                  lk_ddb_payload(needle)->valuestring) != NULL;
  if (strcmp(t, "L") == 0) {
    cJSON_ArrayForEach(
        it, lk_ddb_payload(hay)) if (lk_ddb_value_eq(it, needle)) return 1;
    return 0;
  }
  if (strlen(t) == 2 && t[1] == 'S' && strlen(nt) == 1 && nt[0] == t[0]) {
    cJSON_ArrayForEach(it, lk_ddb_payload(hay)) {
      if (t[0] == 'N' ? lk_ddb_num_cmp(it->valuestring,
                                       lk_ddb_payload(needle)->valuestring) == 0
                      : strcmp(it->valuestring,
                               lk_ddb_payload(needle)->valuestring) == 0)
        return 1;
    }
  }
  return 0;
}

static int function(ev_t *ev, const node_t *n, const cJSON *item) {
  const cJSON *a = n->n_args > 0 ? operand(ev, n->args[0], item) : NULL;
  const cJSON *b = n->n_args > 1 ? operand(ev, n->args[1], item) : NULL;
  const char *f = n->op;

  if (n->n_args < 1 || n->args[0]->t != N_PATH)
    return fail_ev(ev,
                   "Invalid ConditionExpression: Incorrect operand type "
                   "for operator or function; operator or function: %s",
                   f);
  if (strcmp(f, "attribute_exists") == 0)
    return a != NULL;
  if (strcmp(f, "attribute_not_exists") == 0)
    return a == NULL;
  if (n->n_args != 2 || n->args[1]->t == N_FUNC || b == NULL)
    return n->n_args != 2 ? fail_ev(ev,
                                    "Invalid ConditionExpression: Incorrect "
                                    "number of operands for operator or "
                                    "function; operator or function: %s",
                                    f)
                          : 0;
  if (strcmp(f, "attribute_type") == 0) {
    if (strcmp(lk_ddb_type(b), "S") != 0)
      return fail_ev(ev, "Invalid ConditionExpression: Incorrect operand "
                         "type for operator or function; operator or "
                         "function: attribute_type");
    return a && strcmp(lk_ddb_type(a), lk_ddb_payload(b)->valuestring) == 0;
  }
  if (strcmp(f, "begins_with") == 0) {
    const char *t = a ? lk_ddb_type(a) : NULL;

    return t && strcmp(t, lk_ddb_type(b)) == 0 &&
           (strcmp(t, "S") == 0 || strcmp(t, "B") == 0) &&
           strncmp(lk_ddb_payload(a)->valuestring,
                   lk_ddb_payload(b)->valuestring,
                   strlen(lk_ddb_payload(b)->valuestring)) == 0;
  }
  if (strcmp(f, "contains") == 0)
    return a && contains(a, b);
  return fail_ev(ev,
                 "Invalid ConditionExpression: The function is not "
                 "allowed to be used this way in an expression; "
                 "function: %s",
                 f);
}

static int test(ev_t *ev, const node_t *n, const cJSON *item) {
  int i;

  if (ev->failed)
    return -1;
  switch (n->t) {
  case N_AND:
    return test(ev, n->a, item) == 1 && test(ev, n->b, item) == 1;
  case N_OR:
    return test(ev, n->a, item) == 1 || test(ev, n->b, item) == 1;
  case N_NOT:
    return test(ev, n->a, item) == 0;
  case N_CMP:
    return compare(n->op, operand(ev, n->a, item), operand(ev, n->b, item));
  case N_BETWEEN: {
    const cJSON *a = operand(ev, n->a, item);

    return compare(">=", a, operand(ev, n->b, item)) &&
           compare("<=", a, operand(ev, n->c, item));
  }
  case N_IN:
    for (i = 0; i < n->n_args; i++)
      if (compare("=", operand(ev, n->a, item), operand(ev, n->args[i], item)))
        return 1;
    return 0;
  case N_FUNC:
    return function(ev, n, item);
  default:
    return fail_ev(ev, "Invalid ConditionExpression: not a condition");
  }
}

int lk_ddb_expr_test(const lk_ddb_expr_t *e, const cJSON *item, char *err,
                     size_t errlen) {
  ev_t ev = {cJSON_CreateArray(), err, errlen, 0};
  int r = test(&ev, e->root, item);

  cJSON_Delete(ev.temps);
  return ev.failed ? -1 : r;
}

/* ---- updates ---- */

/* The container a path's last part goes into (a map's payload or a
 * list's), or NULL when the path does not lead to one. */
static cJSON *parent_of(cJSON *item, const node_t *p) {
  cJSON *v = item;
  int i;

  for (i = 0; v && i < p->n_segs - 1; i++) {
    cJSON *next = p->segs[i].name
                      ? cJSON_GetObjectItemCaseSensitive(v, p->segs[i].name)
                      : cJSON_GetArrayItem(v, p->segs[i].index);
    const char *t = lk_ddb_type(next);
    const char *want = p->segs[i + 1].name ? "M" : "L";

    v = t && strcmp(t, want) == 0 ? next->child : NULL;
  }
  return v;
}

static int set_path(ev_t *ev, cJSON *item, const node_t *p,
                    const cJSON *value) {
  cJSON *parent = parent_of(item, p), *copy;
  const seg_t *last = &p->segs[p->n_segs - 1];

  if (parent == NULL)
    return fail_ev(ev, "The document path provided in the update expression "
                       "is invalid for update");
  copy = cJSON_Duplicate(value, 1);
  if (last->name) {
    if (cJSON_GetObjectItemCaseSensitive(parent, last->name))
      cJSON_ReplaceItemInObjectCaseSensitive(parent, last->name, copy);
    else
      cJSON_AddItemToObject(parent, last->name, copy);
  } else if (last->index < cJSON_GetArraySize(parent)) {
    cJSON_ReplaceItemInArray(parent, last->index, copy);
  } else {
    cJSON_AddItemToArray(parent, copy);
  }
  return 0;
}

static void remove_path(cJSON *item, const node_t *p) {
  cJSON *parent = parent_of(item, p);
  const seg_t *last = &p->segs[p->n_segs - 1];

  if (parent && last->name)
    cJSON_DeleteItemFromObjectCaseSensitive(parent, last->name);
  else if (parent && last->index < cJSON_GetArraySize(parent))
    cJSON_DeleteItemFromArray(parent, last->index);
}

static int is_set(const char *t) {
  return t && strlen(t) == 2 && t[1] == 'S';
}

static int set_member(const cJSON *set, const char *t, const cJSON *m) {
  const cJSON *it;

  cJSON_ArrayForEach(it, set) {
    if (t[0] == 'N' ? lk_ddb_num_cmp(it->valuestring, m->valuestring) == 0
                    : strcmp(it->valuestring, m->valuestring) == 0)
      return 1;
  }
  return 0;
}

/* ADD: a number added, or a set's members joined. */
static int add_to(ev_t *ev, cJSON *item, const node_t *p, const cJSON *v) {
  const cJSON *old = get_path(item, p);
  const char *t = lk_ddb_type(v);
  char sum[LK_DDB_NUM_MAX];
  cJSON *merged;
  const cJSON *it;

  if (strcmp(t, "N") != 0 && !is_set(t))
    return fail_ev(ev,
                   "Invalid UpdateExpression: Incorrect operand type for "
                   "operator or function; operator: ADD, operand type: "
                   "%s",
                   t);
  if (old == NULL)
    return set_path(ev, item, p, v);
  if (strcmp(lk_ddb_type(old), t) != 0)
    return fail_ev(ev, "An operand in the update expression has an "
                       "incorrect data type");
  if (t[0] == 'N' && t[1] == '\0') {
    if (lk_ddb_num_add(lk_ddb_payload(old)->valuestring,
                       lk_ddb_payload(v)->valuestring, 0, sum, ev->err,
                       ev->errlen) != 0)
      return ev->failed = 1, -1;
    return set_path(ev, item, p, typed(ev, "N", cJSON_CreateString(sum)));
  }
  merged = cJSON_Duplicate(lk_ddb_payload(old), 1);
  cJSON_ArrayForEach(it, lk_ddb_payload(v)) if (!set_member(merged, t, it))
      cJSON_AddItemToArray(merged, cJSON_Duplicate(it, 1));
  return set_path(ev, item, p, typed(ev, t, merged));
}

/* DELETE: a set's members taken out; an emptied set goes. */
static int delete_from(ev_t *ev, cJSON *item, const node_t *p, const cJSON *v) {
  const cJSON *old = get_path(item, p), *it;
  const char *t = lk_ddb_type(v);
  cJSON *left;

  if (!is_set(t))
    return fail_ev(ev,
                   "Invalid UpdateExpression: Incorrect operand type for "
                   "operator or function; operator: DELETE, operand "
                   "type: %s",
                   t);
  if (old == NULL)
    return 0;
  if (strcmp(lk_ddb_type(old), t) != 0)
    return fail_ev(ev, "An operand in the update expression has an "
                       "incorrect data type");
  left = cJSON_CreateArray();
  cJSON_ArrayForEach(
      it, lk_ddb_payload(old)) if (!set_member(lk_ddb_payload(v), t, it))
      cJSON_AddItemToArray(left, cJSON_Duplicate(it, 1));
  if (cJSON_GetArraySize(left) == 0) {
    cJSON_Delete(left);
    remove_path(item, p);
    return 0;
  }
  return set_path(ev, item, p, typed(ev, t, left));
}

int lk_ddb_expr_update(const lk_ddb_expr_t *e, cJSON *item, char *err,
                       size_t errlen) {
  ev_t ev = {cJSON_CreateArray(), err, errlen, 0};
  const cJSON **values = lk_xcalloc((size_t)e->n_acts + 1, sizeof(cJSON *));
  int i;

  /* Every value is read from the item as it was before the update. */
  for (i = 0; i < e->n_acts && !ev.failed; i++)
    if (e->acts[i].value) {
      const cJSON *v = operand(&ev, e->acts[i].value, item);

      values[i] = v ? temp(&ev, cJSON_Duplicate(v, 1)) : NULL;
      if (v == NULL)
        fail_ev(&ev, "The provided expression refers to an attribute that "
                     "does not exist in the item");
    }
  for (i = 0; i < e->n_acts && !ev.failed; i++) {
    const act_t *a = &e->acts[i];

    if (a->kind == A_SET)
      set_path(&ev, item, a->path, values[i]);
    else if (a->kind == A_REMOVE)
      remove_path(item, a->path);
    else if (a->kind == A_ADD)
      add_to(&ev, item, a->path, values[i]);
    else
      delete_from(&ev, item, a->path, values[i]);
  }
  free(values);
  cJSON_Delete(ev.temps);
  return ev.failed ? -1 : 0;
}

/* ---- projections and key conditions ---- */

/* One path of item copied into out, the maps and lists on the way made
 * as needed; list elements land in the order they are named. */
static void project_path(cJSON *out, const cJSON *item, const node_t *p) {
  const cJSON *src = item;
  cJSON *dst = out;
  int i;

  for (i = 0; i < p->n_segs; i++) {
    const seg_t *s = &p->segs[i];
    const cJSON *v = s->name ? cJSON_GetObjectItemCaseSensitive(src, s->name)
                             : cJSON_GetArrayItem(src, s->index);
    const char *want;
    cJSON *d;

    if (v == NULL)
      return;
    if (i == p->n_segs - 1) {
      if (s->name == NULL)
        cJSON_AddItemToArray(dst, cJSON_Duplicate(v, 1));
      else if (!cJSON_GetObjectItemCaseSensitive(dst, s->name))
        cJSON_AddItemToObject(dst, s->name, cJSON_Duplicate(v, 1));
      return;
    }
    want = p->segs[i + 1].name ? "M" : "L";
    if (strcmp(lk_ddb_type(v), want) != 0)
      return;
    d = s->name ? cJSON_GetObjectItemCaseSensitive(dst, s->name) : NULL;
    if (d && strcmp(lk_ddb_type(d), want) != 0)
      return;
    if (d == NULL) {
      d = cJSON_CreateObject();
      cJSON_AddItemToObject(
          d, want, want[0] == 'M' ? cJSON_CreateObject() : cJSON_CreateArray());
      if (s->name)
        cJSON_AddItemToObject(dst, s->name, d);
      else
        cJSON_AddItemToArray(dst, d);
    }
    src = v->child;
    dst = d->child;
  }
}

cJSON *lk_ddb_expr_project(const lk_ddb_expr_t *e, const cJSON *item) {
  cJSON *out = cJSON_CreateObject();
  int i;

  for (i = 0; i < e->n_paths; i++)
    project_path(out, item, e->paths[i]);
  return out;
}

void lk_ddb_expr_terms(const lk_ddb_expr_t *e, lk_ddb_term_cb cb, void *ud) {
  const node_t *stack[64];
  int n = 0;

  if (e->root)
    stack[n++] = e->root;
  while (n > 0) {
    const node_t *x = stack[--n];
    const node_t *path = x->t == N_FUNC && x->n_args ? x->args[0] : x->a;
    int simple;

    if (x->t == N_AND && n < 62) {
      stack[n++] = x->b;
      stack[n++] = x->a;
      continue;
    }
    simple = path && path->t == N_PATH && path->n_segs == 1 &&
             (x->t == N_BETWEEN ? x->b->t == N_VALUE && x->c->t == N_VALUE
              : x->t == N_FUNC  ? x->n_args == 2 && x->args[1]->t == N_VALUE
              : x->t == N_CMP   ? x->b->t == N_VALUE
                                : 0);
    cb(ud, simple ? path->segs[0].name : "", x->op, simple,
       !simple          ? NULL
       : x->t == N_FUNC ? x->args[1]->value
                        : x->b->value,
       simple && x->t == N_BETWEEN ? x->c->value : NULL);
  }
}
