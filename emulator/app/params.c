/* Parameter overrides: SAM CLI's --parameter-overrides text and the
 * parameter_overrides of samconfig.toml, read by a scanner that knows
 * just enough TOML (sections, strings of both quotes, arrays, comments)
 * to skip everything else in the file, or of samconfig.yaml, read with
 * libyaml. Values are copied into the caller's cJSON object. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "buf.h"
#include "lambkin/lambkin.h"
#include "params.h"

#define VALUE_MAX (64 * 1024)
#define MAX_NESTING 16

/* ---- --parameter-overrides ---- */

/* One whitespace-separated token, its quotes removed (a backslash inside
 * double quotes keeps the next character). Returns where it stopped. */
static const char *token(const char *p, const char *end, lk_buf_t *out,
                         int *unterminated) {
  char quote = 0;

  for (; p < end; p++) {
    if (quote == 0 && isspace((unsigned char)*p))
      break;
    if (quote == 0 && (*p == '"' || *p == '\'')) {
      quote = *p;
    } else if (quote && *p == quote) {
      quote = 0;
    } else if (quote == '"' && *p == '\\' && p + 1 < end) {
      lk_buf_add(out, ++p, 1);
    } else {
      lk_buf_add(out, p, 1);
    }
  }
  *unterminated = quote != 0;
  return p;
}

static int valid_name(const char *s, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]))
      return 0;
  return n > 0;
}

/* "Key=Value" or "ParameterKey=Key,ParameterValue=Value" into into. */
static int add_pair(const char *t, cJSON *into, char *err, size_t errlen) {
  static const char pk[] = "ParameterKey=", pv[] = ",ParameterValue=";
  const char *key = t, *eq, *val;
  size_t klen;

  if (strncmp(t, pk, sizeof(pk) - 1) == 0) {
    key = t + sizeof(pk) - 1;
    eq = strstr(key, pv);
    val = eq ? eq + sizeof(pv) - 1 : NULL;
  } else {
    eq = strchr(t, '=');
    val = eq ? eq + 1 : NULL;
  }
  klen = eq ? (size_t)(eq - key) : 0;
  if (val == NULL || !valid_name(key, klen)) {
    snprintf(err, errlen, "bad parameter override '%.64s' (Key=Value)", t);
    return LK_EINVAL;
  }
  if (cJSON_GetArraySize(into) >= LK_PARAMS_MAX) {
    snprintf(err, errlen, "more than %d parameter overrides", LK_PARAMS_MAX);
    return LK_EINVAL;
  }
  {
    char name[256];

    snprintf(name, sizeof(name), "%.*s", (int)(klen < 255 ? klen : 255), key);
    cJSON_DeleteItemFromObjectCaseSensitive(into, name);
    cJSON_AddStringToObject(into, name, val);
  }
  return 0;
}

int lk_params_parse(const char *text, size_t len, cJSON *into, char *err,
                    size_t errlen) {
  const char *p = text, *end = text + len;
  lk_buf_t t;
  int rc = 0, open;

  lk_buf_init(&t, VALUE_MAX);
  while (rc == 0) {
    while (p < end && isspace((unsigned char)*p))
      p++;
    if (p >= end)
      break;
    lk_buf_reset(&t);
    p = token(p, end, &t, &open);
    if (open) {
      snprintf(err, errlen, "unterminated quote in parameter overrides");
      rc = LK_EINVAL;
    } else if (lk_buf_error(&t) || strlen(lk_buf_str(&t)) != t.len) {
      snprintf(err, errlen, "parameter override too long or not text");
      rc = LK_EINVAL;
    } else {
      rc = add_pair(lk_buf_str(&t), into, err, errlen);
    }
  }
  lk_buf_free(&t);
  return rc;
}

/* ---- samconfig.toml ---- */

typedef struct scan {
  const char *p, *end;
  int line;
  char *err;
  size_t errlen;
} scan_t;

static int scan_fail(scan_t *s, const char *what) {
  snprintf(s->err, s->errlen, "line %d: %s", s->line, what);
  return LK_EINVAL;
}

/* Spaces, and with nl also newlines and comments. */
static void skip(scan_t *s, int nl) {
  while (s->p < s->end) {
    if (*s->p == '#') {
      while (s->p < s->end && *s->p != '\n')
        s->p++;
    } else if (*s->p == '\n' && nl) {
      s->line++;
      s->p++;
    } else if (*s->p == ' ' || *s->p == '\t' || *s->p == '\r') {
      s->p++;
    } else {
      break;
    }
  }
}

static int starts(const scan_t *s, const char *w) {
  size_t n = strlen(w);

  return (size_t)(s->end - s->p) >= n && memcmp(s->p, w, n) == 0;
}

/* A basic ("), literal (') or multi-line (""" ''') string into out. */
static int scan_string(scan_t *s, lk_buf_t *out) {
  char q = *s->p;
  int multi = starts(s, q == '"' ? "\"\"\"" : "'''");

  s->p += multi ? 3 : 1;
  for (; s->p < s->end; s->p++) {
    if (*s->p == '\n') {
      if (!multi)
        return scan_fail(s, "newline in a string");
      s->line++;
    }
    if (*s->p == q && (!multi || starts(s, q == '"' ? "\"\"\"" : "'''"))) {
      s->p += multi ? 3 : 1;
      return 0;
    }
    if (q == '"' && *s->p == '\\' && s->p + 1 < s->end) {
      static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
      const char *e = strchr(from, *++s->p);

      lk_buf_add(out, e && *e ? &to[e - from] : s->p, 1);
    } else {
      lk_buf_add(out, s->p, 1);
    }
  }
  return scan_fail(s, "unterminated string");
}

static int scan_value(scan_t *s, cJSON **out, int depth);

static int scan_array(scan_t *s, cJSON **out, int depth) {
  cJSON *a = cJSON_CreateArray(), *item;
  int rc = 0;

  s->p++; /* [ */
  for (;;) {
    skip(s, 1);
    if (s->p >= s->end) {
      rc = scan_fail(s, "unterminated array");
      break;
    }
    if (*s->p == ']') {
      s->p++;
      break;
    }
    rc = scan_value(s, &item, depth + 1);
    if (rc)
      break;
    cJSON_AddItemToArray(a, item ? item : cJSON_CreateNull());
    skip(s, 1);
    if (s->p < s->end && *s->p == ',')
      s->p++;
    else if (s->p < s->end && *s->p != ']')
      rc = scan_fail(s, "expected , or ] in an array");
    if (rc)
      break;
  }
  if (rc)
    cJSON_Delete(a);
  *out = rc ? NULL : a;
  return rc;
}

/* A value: strings and arrays as cJSON; anything else (numbers, dates,
 * booleans, inline tables) is skipped and comes back as NULL. */
static int scan_value(scan_t *s, cJSON **out, int depth) {
  lk_buf_t b;
  int rc;

  *out = NULL;
  if (depth > MAX_NESTING)
    return scan_fail(s, "arrays nest too deep");
  if (s->p < s->end && *s->p == '[')
    return scan_array(s, out, depth);
  if (s->p < s->end && (*s->p == '"' || *s->p == '\'')) {
    lk_buf_init(&b, VALUE_MAX);
    rc = scan_string(s, &b);
    if (rc == 0 && lk_buf_error(&b) == 0)
      *out = cJSON_CreateString(lk_buf_str(&b));
    else if (rc == 0)
      rc = scan_fail(s, "string too long");
    lk_buf_free(&b);
    return rc;
  }
  while (s->p < s->end && !strchr(",]\n#", *s->p))
    s->p++;
  return 0;
}

/* [a.b."c"] into section (quotes dropped, spaces trimmed). */
static int scan_section(scan_t *s, char *section, size_t cap) {
  size_t n = 0;

  while (s->p < s->end && *s->p == '[')
    s->p++;
  for (; s->p < s->end && *s->p != ']' && *s->p != '\n'; s->p++)
    if (*s->p != '"' && *s->p != '\'' && *s->p != ' ' && n + 1 < cap)
      section[n++] = *s->p;
  section[n] = '\0';
  if (s->p >= s->end || *s->p != ']')
    return scan_fail(s, "unterminated section header");
  while (s->p < s->end && *s->p == ']')
    s->p++;
  return 0;
}

static int scan_key(scan_t *s, char *key, size_t cap) {
  size_t n = 0;
  char q = 0;

  if (*s->p == '"' || *s->p == '\'')
    q = *s->p++;
  for (; s->p < s->end; s->p++) {
    if (q ? *s->p == q
          : !(isalnum((unsigned char)*s->p) || *s->p == '_' || *s->p == '-' ||
              *s->p == '.'))
      break;
    if (*s->p == '\n')
      return scan_fail(s, "newline in a key");
    if (n + 1 < cap)
      key[n++] = *s->p;
  }
  if (q && s->p < s->end)
    s->p++;
  key[n] = '\0';
  skip(s, 0);
  if (n == 0 || s->p >= s->end || *s->p != '=')
    return scan_fail(s, "expected key = value");
  s->p++;
  skip(s, 0);
  return 0;
}

/* parameter_overrides as a string or an array of "K=V" strings. */
static int apply(cJSON *v, cJSON *into, char *err, size_t errlen) {
  cJSON *it;
  int rc = 0;

  if (cJSON_IsString(v))
    return lk_params_parse(v->valuestring, strlen(v->valuestring), into, err,
                           errlen);
  cJSON_ArrayForEach(it, v) {
    if (rc == 0 && cJSON_IsString(it))
      rc = lk_params_parse(it->valuestring, strlen(it->valuestring), into, err,
                           errlen);
  }
  return rc;
}

/* Which of the wanted sections this is: 1 weakest, 0 none. */
static int rank(const char *section, const char *env, const char *command) {
  char want[3][160];
  int i;

  snprintf(want[0], sizeof(want[0]), "%s.global.parameters", env);
  snprintf(want[1], sizeof(want[1]), "%s.deploy.parameters", env);
  snprintf(want[2], sizeof(want[2]), "%s.%s.parameters", env,
           command ? command : "");
  for (i = 2; i >= 0; i--)
    if ((i < 2 || command) && strcmp(section, want[i]) == 0)
      return i + 1;
  return 0;
}

int lk_samconfig_parse(const char *text, size_t len, const char *env,
                       const char *command, cJSON *into, char *err,
                       size_t errlen) {
  scan_t s = {text, text + len, 1, err, errlen};
  cJSON *found[4] = {NULL, NULL, NULL, NULL}, *v;
  char section[256] = "", key[256];
  int rc = 0, i, r;

  if (env == NULL)
    env = "default";
  while (rc == 0) {
    skip(&s, 1);
    if (s.p >= s.end)
      break;
    if (*s.p == '[') {
      rc = scan_section(&s, section, sizeof(section));
      continue;
    }
    rc = scan_key(&s, key, sizeof(key));
    if (rc == 0)
      rc = scan_value(&s, &v, 0);
    if (rc)
      break;
    r = strcmp(key, "parameter_overrides") == 0 ? rank(section, env, command)
                                                : 0;
    if (r && v) {
      cJSON_Delete(found[r]);
      found[r] = v;
    } else {
      cJSON_Delete(v);
    }
    skip(&s, 0);
    if (s.p < s.end && *s.p != '\n')
      rc = scan_fail(&s, "expected the end of the line");
  }
  for (i = 1; i < 4; i++) {
    if (rc == 0 && found[i])
      rc = apply(found[i], into, err, errlen);
    cJSON_Delete(found[i]);
  }
  return rc;
}

/* ---- samconfig.yaml ---- */

/* The value of key in mapping n, or NULL. */
static yaml_node_t *yget(yaml_document_t *d, yaml_node_t *n, const char *key) {
  yaml_node_pair_t *p;

  if (n == NULL || n->type != YAML_MAPPING_NODE)
    return NULL;
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(d, p->key);

    if (k && k->type == YAML_SCALAR_NODE &&
        strcmp((const char *)k->data.scalar.value, key) == 0)
      return yaml_document_get_node(d, p->value);
  }
  return NULL;
}

/* parameter_overrides as a string or a list of strings. */
static int yapply(yaml_document_t *d, yaml_node_t *v, cJSON *into, char *err,
                  size_t errlen) {
  yaml_node_item_t *it;
  int rc = 0;

  if (v && v->type == YAML_SCALAR_NODE)
    return lk_params_parse((const char *)v->data.scalar.value,
                           v->data.scalar.length, into, err, errlen);
  if (v == NULL || v->type != YAML_SEQUENCE_NODE)
    return 0;
  for (it = v->data.sequence.items.start;
       rc == 0 && it < v->data.sequence.items.top; it++) {
    yaml_node_t *s = yaml_document_get_node(d, *it);

    if (s && s->type == YAML_SCALAR_NODE)
      rc = lk_params_parse((const char *)s->data.scalar.value,
                           s->data.scalar.length, into, err, errlen);
  }
  return rc;
}

int lk_samconfig_yaml_parse(const char *text, size_t len, const char *env,
                            const char *command, cJSON *into, char *err,
                            size_t errlen) {
  const char *sections[3] = {"global", "deploy", command};
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *root;
  int i, rc = 0;

  if (!yaml_parser_initialize(&parser))
    return LK_ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(err, errlen, "line %lu: %s",
             (unsigned long)parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "not YAML");
    yaml_parser_delete(&parser);
    return LK_EINVAL;
  }
  root = yget(&doc, yaml_document_get_root_node(&doc), env ? env : "default");
  for (i = 0; rc == 0 && i < 3 && sections[i]; i++)
    rc = yapply(&doc,
                yget(&doc,
                     yget(&doc, yget(&doc, root, sections[i]), "parameters"),
                     "parameter_overrides"),
                into, err, errlen);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return rc;
}
