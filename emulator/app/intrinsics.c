/* Intrinsic functions and values: !Ref, !GetAtt, !Sub, !Join, !Select,
 * !Split, !Base64, !If, !FindInMap and the condition functions, resolved
 * once at load against the parameters' defaults and the resources'
 * physical names. Each intrinsic is a row of one table. Every function
 * here returns a new value (a cJSON tree or a string) the caller owns. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "codec.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define VALUE_MAX (1024 * 1024) /* one resolved string */

/* The pseudo parameters, as a stack named "lambkin" would see them. */
static int pseudo(const lk_app_t *app, const char *id, lk_buf_t *out) {
  if (strcmp(id, "AWS::Region") == 0)
    return lk_buf_adds(out, app->region);
  if (strcmp(id, "AWS::AccountId") == 0)
    return lk_buf_adds(out, app->account);
  if (strcmp(id, "AWS::StackName") == 0)
    return lk_buf_adds(out, "lambkin");
  if (strcmp(id, "AWS::StackId") == 0)
    return lk_buf_printf(out,
                         "arn:aws:cloudformation:%s:%s:stack/lambkin/local",
                         app->region, app->account);
  if (strcmp(id, "AWS::Partition") == 0)
    return lk_buf_adds(out, "aws");
  if (strcmp(id, "AWS::URLSuffix") == 0)
    return lk_buf_adds(out, "amazonaws.com");
  return LK_ENOENT;
}

/* A parameter without a value: its first AllowedValue, else a number or
 * a name-like placeholder, and a warning. */
static int placeholder(ctx_t *c, yaml_node_t *at, const char *id,
                       yaml_node_t *p, lk_buf_t *out) {
  yaml_node_t *allowed = lk_app_seq_at(c, lk_app_get(c, p, "AllowedValues"), 0);
  const char *type = lk_app_scalar(lk_app_get(c, p, "Type"));
  size_t i, start = out->len;
  int err;

  if (allowed)
    err = lk_app_str(c, allowed, out);
  else if (type && strcmp(type, "Number") == 0)
    err = lk_buf_adds(out, "1");
  else if (lk_buf_adds(out, id) == 0) {
    for (i = start; i < out->len; i++) /* fit for a bucket's name too */
      out->data[i] = (char)tolower((unsigned char)out->data[i]);
    err = 0;
  } else
    err = LK_E2BIG;
  if (err == 0)
    lk_app_warn(c, at,
                "parameter %s has no value (--parameter-overrides, "
                "samconfig or a Default); using '%s'",
                id, out->data + start);
  return err;
}

static int param(ctx_t *c, yaml_node_t *at, const char *id, yaml_node_t *p,
                 lk_buf_t *out) {
  const char *given = lk_json_str(c->values, id);
  yaml_node_t *def = lk_app_get(c, p, "Default");

  if (given)
    return lk_buf_adds(out, given);
  if (def)
    return lk_app_str(c, def, out);
  return placeholder(c, at, id, p, out);
}

/* The function whose logical id id starts with, followed by one of
 * SAM's suffixes for what it generates (".Alias", "Role", ...); the
 * suffix in *rest. NULL when there is none. */
static yaml_node_t *implicit_of(ctx_t *c, const char *id, const char **rest) {
  static const char *const suffixes[] = {".Alias", ".Version", "Alias",
                                         "Version", "Role"};
  char fn[256];
  size_t i, n;

  for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
    const char *at = strstr(id, suffixes[i]);
    yaml_node_t *res;
    const char *type;

    n = at ? (size_t)(at - id) : 0;
    if (n == 0 || n >= sizeof(fn))
      continue;
    snprintf(fn, sizeof(fn), "%.*s", (int)n, id);
    res = lk_app_get(c, c->resources, fn);
    type = res ? lk_app_res_type(c, res) : NULL;
    if (type && strcmp(type, "AWS::Serverless::Function") == 0) {
      *rest = at;
      return res;
    }
  }
  return NULL;
}

/* A Ref to a name the template does not define: SAM's implicit
 * resources (ServerlessRestApi, FnRole, Fn.Alias, FnAliaslive) are as
 * good as defined; anything else is a warning and its own name. */
static int ref_undefined(ctx_t *c, yaml_node_t *at, const char *id,
                         lk_buf_t *out) {
  const char *rest = NULL;
  yaml_node_t *fn = implicit_of(c, id, &rest);
  char name[256];

  if (fn && strncmp(rest, "Role", 4) != 0) { /* a version or an alias */
    const char *alias = lk_app_scalar(
        lk_app_get(c, lk_app_get(c, fn, "Properties"), "AutoPublishAlias"));

    snprintf(name, sizeof(name), "%.*s", (int)(rest - id), id);
    if (lk_app_attr_value(c, name, fn, "Arn", out))
      return LK_E2BIG;
    if (strstr(rest, "Version"))
      return lk_buf_adds(out, ":1");
    return lk_buf_printf(out, ":%s",
                         rest[0] == '.' ? (alias ? alias : "live") : rest + 5);
  }
  if (fn == NULL && strcmp(id, "ServerlessRestApi") != 0 &&
      strcmp(id, "ServerlessHttpApi") != 0)
    lk_app_warn(c, at, "Ref to '%s', which the template does not define", id);
  return lk_buf_adds(out, id);
}

static int ref(ctx_t *c, yaml_node_t *at, const char *id, lk_buf_t *out) {
  yaml_node_t *p, *res;
  int err = pseudo(c->app, id, out);

  if (err != LK_ENOENT)
    return err;
  p = lk_app_get(c, c->params, id);
  if (p)
    return param(c, at, id, p, out);
  res = lk_app_get(c, c->resources, id);
  if (res == NULL)
    return ref_undefined(c, at, id, out);
  return lk_app_ref_value(c, id, res, out);
}

static int getatt(ctx_t *c, yaml_node_t *at, const char *id, const char *attr,
                  lk_buf_t *out) {
  yaml_node_t *res = lk_app_get(c, c->resources, id);

  if (res)
    return lk_app_attr_value(c, id, res, attr, out);
  lk_app_warn(c, at, "GetAtt of '%s', which the template does not define", id);
  return lk_buf_printf(out, "arn:aws:local:%s:%s:%s", c->app->region,
                       c->app->account, id);
}

/* ${Name}, ${Res.Attr} and ${!Literal} inside a !Sub string. */
static int sub(ctx_t *c, yaml_node_t *at, const char *s, yaml_node_t *vars,
               lk_buf_t *out) {
  const char *p = s, *open, *close;
  char var[256];
  size_t n;
  int err = 0;

  for (open = strstr(p, "${"); err == 0 && open; open = strstr(p, "${")) {
    lk_buf_add(out, p, (size_t)(open - p));
    close = strchr(open, '}');
    if (close == NULL)
      return lk_app_fail(c, at, "unterminated ${ in !Sub");
    n = (size_t)(close - open - 2);
    if (n >= sizeof(var))
      return lk_app_fail(c, at, "!Sub variable too long");
    memcpy(var, open + 2, n);
    var[n] = '\0';
    if (var[0] == '!') {
      err = lk_buf_printf(out, "${%s}", var + 1);
    } else if (lk_app_get(c, vars, var)) {
      err = lk_app_str(c, lk_app_get(c, vars, var), out);
    } else if (strchr(var, '.') && strncmp(var, "AWS::", 5) != 0) {
      char *dot = strchr(var, '.');

      *dot = '\0';
      err = getatt(c, at, var, dot + 1, out);
    } else {
      err = ref(c, at, var, out);
    }
    p = close + 1;
  }
  return err ? err : lk_buf_adds(out, p);
}

/* ---- conditions ---- */

static int condition(ctx_t *c, yaml_node_t *n, int *out);

static void cond_equals(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out) {
  cJSON *a, *b;

  if (lk_app_seq_len(arg) != 2) {
    lk_app_fail(c, n, "malformed condition Equals");
    return;
  }
  a = lk_app_json(c, lk_app_seq_at(c, arg, 0));
  b = lk_app_json(c, lk_app_seq_at(c, arg, 1));
  *out = a && b && cJSON_Compare(a, b, 1);
  cJSON_Delete(a);
  cJSON_Delete(b);
}

static void cond_not(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out) {
  int v;

  if (lk_app_seq_len(arg) != 1)
    lk_app_fail(c, n, "malformed condition Not");
  else if (condition(c, lk_app_seq_at(c, arg, 0), &v) == 0)
    *out = !v;
}

/* And is true unless one is false; Or false unless one is true. */
static void cond_and_or(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out,
                        int is_and) {
  int i, v;

  if (lk_app_seq_len(arg) == 0) {
    lk_app_fail(c, n, "malformed condition %s", is_and ? "And" : "Or");
    return;
  }
  *out = is_and;
  for (i = 0; i < lk_app_seq_len(arg); i++)
    if (condition(c, lk_app_seq_at(c, arg, i), &v) == 0 && v != is_and)
      *out = v;
}

static void cond_and(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out) {
  cond_and_or(c, n, arg, out, 1);
}

static void cond_or(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out) {
  cond_and_or(c, n, arg, out, 0);
}

/* { Condition: Name }: another entry of the Conditions section. */
static void cond_ref(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out) {
  const char *name = lk_app_scalar(arg);
  yaml_node_t *cond = name ? lk_app_get(c, c->conditions, name) : NULL;

  if (name == NULL)
    lk_app_fail(c, n, "malformed condition Condition");
  else if (cond == NULL)
    lk_app_fail(c, n, "unknown condition '%s'", name);
  else
    condition(c, cond, out);
}

static const struct {
  const char *name;
  void (*fn)(ctx_t *c, yaml_node_t *n, yaml_node_t *arg, int *out);
} conditions[] = {
    {"Equals", cond_equals}, {"Not", cond_not},       {"And", cond_and},
    {"Or", cond_or},         {"Condition", cond_ref},
};

static int condition(ctx_t *c, yaml_node_t *n, int *out) {
  yaml_node_t *arg;
  char name[LK_APP_NAME_MAX];
  size_t i;

  if (!lk_app_intrinsic(c, n, name, &arg)) {
    const char *b = lk_app_scalar(n);

    if (b && (strcmp(b, "true") == 0 || strcmp(b, "false") == 0)) {
      *out = strcmp(b, "true") == 0;
      return 0;
    }
    return lk_app_fail(c, n, "not a condition");
  }
  if (++c->depth > LK_APP_MAX_DEPTH) {
    c->depth--;
    return lk_app_fail(c, n, "conditions nest too deep");
  }
  for (i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++)
    if (strcmp(name, conditions[i].name) == 0)
      break;
  if (i < sizeof(conditions) / sizeof(conditions[0]))
    conditions[i].fn(c, n, arg, out);
  else
    lk_app_fail(c, n, "malformed condition %s", name);
  c->depth--;
  return c->err[0] ? LK_EINVAL : 0;
}

/* ---- the intrinsics, one function each ---- */

/* A string result: the text, or NULL with the error in the context. */
static cJSON *string_of(ctx_t *c, yaml_node_t *n, lk_buf_t *s, int err) {
  cJSON *j = NULL;

  if (err == 0)
    j = cJSON_CreateString(s->data ? s->data : "");
  else if (err == LK_E2BIG)
    lk_app_fail(c, n, "value too long");
  lk_buf_free(s);
  return j;
}

/* A CommaDelimitedList or List<...> parameter's value, as a list. */
static cJSON *split_list(const char *s) {
  cJSON *j = cJSON_CreateArray();
  const char *p = s;

  for (;;) {
    size_t n = strcspn(p, ",");
    char *item = lk_xstrndup(p, n);

    cJSON_AddItemToArray(j, cJSON_CreateString(item));
    free(item);
    if (p[n] == '\0')
      return j;
    p += n + 1;
  }
}

static int list_param(ctx_t *c, const char *name) {
  const char *type =
      lk_app_scalar(lk_app_get(c, lk_app_get(c, c->params, name), "Type"));

  return type && (strcmp(type, "CommaDelimitedList") == 0 ||
                  strncmp(type, "List<", 5) == 0);
}

static cJSON *fn_ref(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  const char *a = lk_app_scalar(arg);
  lk_buf_t s;

  if (a == NULL) {
    lk_app_fail(c, n, "!Ref takes a name");
    return NULL;
  }
  if (strcmp(a, "AWS::NoValue") == 0)
    return cJSON_CreateRaw("__novalue__"); /* dropped by the caller */
  lk_buf_init(&s, VALUE_MAX);
  if (list_param(c, a)) {
    int err = ref(c, n, a, &s);
    cJSON *j = err == 0 ? split_list(lk_buf_str(&s)) : NULL;

    lk_buf_free(&s);
    return j;
  }
  return string_of(c, n, &s, ref(c, n, a, &s));
}

/* !GetAtt Res.Attr, or [Res, Attr]. */
static cJSON *fn_getatt(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  const char *res = lk_app_scalar(lk_app_seq_at(c, arg, 0));
  const char *attr = lk_app_scalar(lk_app_seq_at(c, arg, 1));
  char tmp[512], *dot;
  lk_buf_t s;

  if (lk_app_seq_len(arg) == 2)
    snprintf(tmp, sizeof(tmp), "%s.%s", res ? res : "", attr ? attr : "");
  else if (lk_app_scalar(arg))
    snprintf(tmp, sizeof(tmp), "%s", lk_app_scalar(arg));
  else {
    lk_app_fail(c, n, "!GetAtt takes a name");
    return NULL;
  }
  dot = strchr(tmp, '.');
  if (dot == NULL) {
    lk_app_fail(c, n, "!GetAtt needs Resource.Attribute");
    return NULL;
  }
  *dot = '\0';
  lk_buf_init(&s, VALUE_MAX);
  return string_of(c, n, &s, getatt(c, n, tmp, dot + 1, &s));
}

static cJSON *fn_sub(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  yaml_node_t *str = lk_app_seq_len(arg) ? lk_app_seq_at(c, arg, 0) : arg;
  yaml_node_t *vars = lk_app_seq_len(arg) > 1 ? lk_app_seq_at(c, arg, 1) : NULL;
  lk_buf_t s;

  if (lk_app_scalar(str) == NULL) {
    lk_app_fail(c, n, "!Sub takes a string");
    return NULL;
  }
  lk_buf_init(&s, VALUE_MAX);
  return string_of(c, n, &s, sub(c, n, lk_app_scalar(str), vars, &s));
}

/* !Join [sep, [values]]; the list may itself be an intrinsic. */
static cJSON *fn_join(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  yaml_node_t *list = lk_app_seq_at(c, arg, 1);
  const char *sep = lk_app_scalar(lk_app_seq_at(c, arg, 0));
  lk_buf_t s;
  int i, err = 0;

  if (lk_app_seq_len(arg) != 2 || sep == NULL) {
    lk_app_fail(c, n, "!Join takes [separator, [values]]");
    return NULL;
  }
  lk_buf_init(&s, VALUE_MAX);
  if (list && lk_app_local_tag(list)) {
    cJSON *l = lk_app_json(c, list), *it;

    if (l == NULL) {
      lk_buf_free(&s);
      return NULL;
    }
    i = 0;
    cJSON_ArrayForEach(it, l) {
      if (i++)
        lk_buf_adds(&s, sep);
      err = lk_buf_adds(&s, cJSON_IsString(it) ? it->valuestring : "");
    }
    cJSON_Delete(l);
  } else {
    for (i = 0; i < lk_app_seq_len(list) && err == 0; i++) {
      if (i)
        lk_buf_adds(&s, sep);
      err = lk_app_str(c, lk_app_seq_at(c, list, i), &s);
    }
  }
  return string_of(c, n, &s, err ? err : lk_buf_error(&s));
}

static cJSON *fn_select(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  const char *idx = lk_app_scalar(lk_app_seq_at(c, arg, 0));
  cJSON *list, *j;
  long k;

  if (lk_app_seq_len(arg) != 2 || idx == NULL) {
    lk_app_fail(c, n, "!Select takes [index, list]");
    return NULL;
  }
  list = lk_app_json(c, lk_app_seq_at(c, arg, 1));
  if (list == NULL)
    return NULL;
  if (lk_parse_long(idx, 0, cJSON_GetArraySize(list) - 1L, &k) != 0) {
    cJSON_Delete(list);
    lk_app_fail(c, n, "!Select index out of range");
    return NULL;
  }
  j = cJSON_DetachItemFromArray(list, (int)k);
  cJSON_Delete(list);
  return j;
}

static cJSON *fn_split(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  const char *sep = lk_app_scalar(lk_app_seq_at(c, arg, 0));
  const char *p, *q;
  cJSON *j;
  lk_buf_t s;
  int err;

  if (lk_app_seq_len(arg) != 2 || sep == NULL || sep[0] == '\0') {
    lk_app_fail(c, n, "!Split takes [separator, string]");
    return NULL;
  }
  lk_buf_init(&s, VALUE_MAX);
  err = lk_app_str(c, lk_app_seq_at(c, arg, 1), &s);
  if (err)
    return string_of(c, n, &s, err);
  j = cJSON_CreateArray();
  for (p = s.data ? s.data : "", q = strstr(p, sep); q;
       p = q + strlen(sep), q = strstr(p, sep)) {
    char *piece = lk_xstrndup(p, (size_t)(q - p));

    cJSON_AddItemToArray(j, cJSON_CreateString(piece));
    free(piece);
  }
  cJSON_AddItemToArray(j, cJSON_CreateString(p));
  lk_buf_free(&s);
  return j;
}

static cJSON *fn_base64(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  lk_buf_t raw, s;
  int err;

  lk_buf_init(&raw, VALUE_MAX);
  lk_buf_init(&s, VALUE_MAX);
  err = lk_app_str(c, arg, &raw);
  if (err == 0)
    err = lk_b64_encode(&s, raw.data ? raw.data : "", raw.len);
  lk_buf_free(&raw);
  return string_of(c, n, &s, err);
}

static cJSON *fn_if(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  const char *name = lk_app_scalar(lk_app_seq_at(c, arg, 0));
  yaml_node_t *cond = lk_app_get(c, c->conditions, name ? name : "");
  int truth = 0;

  if (lk_app_seq_len(arg) != 3 || cond == NULL) {
    lk_app_fail(c, n,
                "!If takes [condition, then, else] with a known condition");
    return NULL;
  }
  if (condition(c, cond, &truth))
    return NULL;
  return lk_app_json(c, lk_app_seq_at(c, arg, truth ? 1 : 2));
}

static cJSON *fn_find_in_map(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  yaml_node_t *v = NULL;
  lk_buf_t k1, k2, k3;

  lk_buf_init(&k1, 1024);
  lk_buf_init(&k2, 1024);
  lk_buf_init(&k3, 1024);
  if (lk_app_seq_len(arg) == 3 &&
      lk_app_str(c, lk_app_seq_at(c, arg, 0), &k1) == 0 &&
      lk_app_str(c, lk_app_seq_at(c, arg, 1), &k2) == 0 &&
      lk_app_str(c, lk_app_seq_at(c, arg, 2), &k3) == 0)
    v = lk_app_get(c,
                   lk_app_get(c, lk_app_get(c, c->mappings, k1.data), k2.data),
                   k3.data);
  lk_buf_free(&k1);
  lk_buf_free(&k2);
  lk_buf_free(&k3);
  if (v == NULL) {
    lk_app_fail(c, n, "!FindInMap: no such mapping entry");
    return NULL;
  }
  return lk_app_json(c, v);
}

/* Equals, Not, And, Or and Condition used as values: a boolean. */
static cJSON *fn_condition(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  int truth;

  (void)arg;
  return condition(c, n, &truth) == 0 ? cJSON_CreateBool(truth) : NULL;
}

/* !GetAZs: three zones of the region, as a new account has. */
static cJSON *fn_getazs(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  cJSON *j = cJSON_CreateArray();
  char az[96];
  int i;

  (void)n;
  (void)arg;
  for (i = 0; i < 3; i++) {
    snprintf(az, sizeof(az), "%s%c", c->app->region, 'a' + i);
    cJSON_AddItemToArray(j, cJSON_CreateString(az));
  }
  return j;
}

static cJSON *plain_json(ctx_t *c, yaml_node_t *n);

/* !Length (AWS::LanguageExtensions): the size of a list. */
static cJSON *fn_length(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  cJSON *l = plain_json(c, arg);
  cJSON *j = l ? cJSON_CreateNumber(cJSON_GetArraySize(l)) : NULL;

  (void)n;
  cJSON_Delete(l);
  return j;
}

/* !ToJsonString (AWS::LanguageExtensions): the value as JSON text. */
static cJSON *fn_to_json(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  cJSON *v = plain_json(c, arg), *j = NULL;
  char *text = v ? cJSON_PrintUnformatted(v) : NULL;

  (void)n;
  if (text)
    j = cJSON_CreateString(text);
  free(text);
  cJSON_Delete(v);
  return j;
}

/* A whole number from a JSON number or string, else -1. */
static long whole(const cJSON *v) {
  long n;

  if (cJSON_IsNumber(v))
    return (long)v->valuedouble;
  if (cJSON_IsString(v) && lk_parse_long(v->valuestring, 0, 1 << 20, &n) == 0)
    return n;
  return -1;
}

/* The address of an IPv4 CIDR block; 10.0.0.0 for anything else (a
 * placeholder's value is not a block). */
static uint32_t block_base(const char *block) {
  char addr[INET_ADDRSTRLEN];
  struct in_addr in;
  size_t n = block ? strcspn(block, "/") : 0;

  if (n == 0 || n >= sizeof(addr))
    return 10U << 24;
  memcpy(addr, block, n);
  addr[n] = '\0';
  return inet_pton(AF_INET, addr, &in) == 1 ? ntohl(in.s_addr) : 10U << 24;
}

/* !Cidr [block, count, bits]: count IPv4 subnets of 2^bits addresses
 * each, from the start of block. */
static cJSON *fn_cidr(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  cJSON *a = plain_json(c, arg), *j;
  long count, bits, i;
  uint32_t base;
  char s[32];

  if (a == NULL)
    return NULL;
  base = block_base(cJSON_GetStringValue(cJSON_GetArrayItem(a, 0)));
  count = whole(cJSON_GetArrayItem(a, 1));
  bits = whole(cJSON_GetArrayItem(a, 2));
  cJSON_Delete(a);
  if (count < 1 || count > 256 || bits < 1 || bits > 24) {
    lk_app_fail(c, n, "!Cidr takes [block, count 1-256, bits 1-24]");
    return NULL;
  }
  j = cJSON_CreateArray();
  for (i = 0; i < count; i++) {
    uint32_t at = base + ((uint32_t)i << bits);

    snprintf(s, sizeof(s), "%u.%u.%u.%u/%ld", at >> 24, (at >> 16) & 255,
             (at >> 8) & 255, at & 255, 32 - bits);
    cJSON_AddItemToArray(j, cJSON_CreateString(s));
  }
  return j;
}

/* What lambkin does not evaluate (ImportValue: another stack's export;
 * Cidr; Transform: a macro) gives a placeholder naming it, and a warning:
 * a value nobody can know here must not stop the app. */
static cJSON *fn_placeholder(ctx_t *c, yaml_node_t *n, yaml_node_t *arg) {
  char name[LK_APP_NAME_MAX], value[256];
  const char *what = lk_app_scalar(arg);
  yaml_node_t *a;

  if (!lk_app_intrinsic(c, n, name, &a))
    snprintf(name, sizeof(name), "?");
  snprintf(value, sizeof(value), "lambkin-%s%s%.120s", name, what ? "-" : "",
           what ? what : "");
  lk_app_warn(c, n, "Fn::%s is not evaluated by lambkin; using '%s'", name,
              value);
  return cJSON_CreateString(value);
}

/* Every intrinsic lambkin evaluates; any other is a placeholder. */
static const struct {
  const char *name;
  cJSON *(*fn)(ctx_t *c, yaml_node_t *n, yaml_node_t *arg);
} intrinsics[] = {
    {"Ref", fn_ref},
    {"GetAtt", fn_getatt},
    {"Sub", fn_sub},
    {"Join", fn_join},
    {"Select", fn_select},
    {"Split", fn_split},
    {"Base64", fn_base64},
    {"If", fn_if},
    {"FindInMap", fn_find_in_map},
    {"Equals", fn_condition},
    {"Not", fn_condition},
    {"And", fn_condition},
    {"Or", fn_condition},
    {"Condition", fn_condition},
    {"GetAZs", fn_getazs},
    {"Cidr", fn_cidr},
    {"Length", fn_length},
    {"ToJsonString", fn_to_json},
};
#define N_INTRINSICS (sizeof(intrinsics) / sizeof(intrinsics[0]))

int lk_app_intrinsic(ctx_t *c, yaml_node_t *n, char name[LK_APP_NAME_MAX],
                     yaml_node_t **arg) {
  const char *key;
  yaml_node_pair_t *p;

  if (lk_app_local_tag(n)) {
    snprintf(name, LK_APP_NAME_MAX, "%s", (const char *)n->tag + 1);
    *arg = n;
    return 1;
  }
  if (n->type != YAML_MAPPING_NODE ||
      n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
    return 0;
  p = n->data.mapping.pairs.start;
  key = lk_app_scalar(lk_app_node(c, p->key));
  if (key == NULL)
    return 0;
  if (strcmp(key, "Ref") == 0 || strcmp(key, "Condition") == 0)
    snprintf(name, LK_APP_NAME_MAX, "%s", key);
  else if (strncmp(key, "Fn::", 4) == 0)
    snprintf(name, LK_APP_NAME_MAX, "%s", key + 4);
  else
    return 0;
  *arg = lk_app_node(c, p->value);
  return 1;
}

static cJSON *eval_intrinsic(ctx_t *c, yaml_node_t *n, const char *name,
                             yaml_node_t *arg) {
  size_t i;

  for (i = 0; i < N_INTRINSICS; i++)
    if (strcmp(name, intrinsics[i].name) == 0)
      return intrinsics[i].fn(c, n, arg);
  return fn_placeholder(c, n, arg);
}

/* ---- values ---- */

/* Plain scalars follow YAML's core schema; quoted ones stay strings. */
static cJSON *scalar_json(yaml_node_t *n) {
  const char *v = (const char *)n->data.scalar.value;
  char *end;
  double d;

  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
      (n->tag && strcmp((char *)n->tag, YAML_STR_TAG) != 0 &&
       strcmp((char *)n->tag, "!") != 0 && n->tag[0] == '!'))
    return cJSON_CreateString(v);
  if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0)
    return cJSON_CreateTrue();
  if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0)
    return cJSON_CreateFalse();
  if (strcmp(v, "null") == 0 || strcmp(v, "~") == 0)
    return cJSON_CreateNull();
  if (v[0] && (isdigit((unsigned char)v[0]) || v[0] == '-')) {
    d = strtod(v, &end);
    if (*end == '\0')
      return cJSON_CreateNumber(d);
  }
  return cJSON_CreateString(v);
}

/* Adds item to the array or object j (under key), or drops j when the
 * item failed; AWS::NoValue items vanish. Returns j, or NULL. */
static cJSON *add_item(cJSON *j, const char *key, cJSON *item) {
  if (item == NULL) {
    cJSON_Delete(j);
    return NULL;
  }
  if (cJSON_IsRaw(item))
    cJSON_Delete(item);
  else if (key)
    cJSON_AddItemToObject(j, key, item);
  else
    cJSON_AddItemToArray(j, item);
  return j;
}

static cJSON *sequence_json(ctx_t *c, yaml_node_t *n) {
  cJSON *j = cJSON_CreateArray();
  int i;

  for (i = 0; j && i < lk_app_seq_len(n); i++)
    j = add_item(j, NULL, lk_app_json(c, lk_app_seq_at(c, n, i)));
  return j;
}

static cJSON *mapping_json(ctx_t *c, yaml_node_t *n) {
  cJSON *j = cJSON_CreateObject();
  yaml_node_pair_t *p;

  for (p = n->data.mapping.pairs.start; j && p < n->data.mapping.pairs.top;
       p++) {
    const char *key = lk_app_scalar(lk_app_node(c, p->key));

    if (key == NULL) {
      lk_app_fail(c, lk_app_node(c, p->key), "mapping keys must be strings");
      cJSON_Delete(j);
      return NULL;
    }
    j = add_item(j, key, lk_app_json(c, lk_app_node(c, p->value)));
  }
  return j;
}

/* The node's value with its own tag set aside: the argument of a short
 * form intrinsic (!Length [a, b]) is the tagged node itself. */
static cJSON *plain_json(ctx_t *c, yaml_node_t *n) {
  if (!lk_app_local_tag(n))
    return lk_app_json(c, n);
  if (n->type == YAML_SEQUENCE_NODE)
    return sequence_json(c, n);
  if (n->type == YAML_MAPPING_NODE)
    return mapping_json(c, n);
  return cJSON_CreateString((const char *)n->data.scalar.value);
}

cJSON *lk_app_json(ctx_t *c, yaml_node_t *n) {
  yaml_node_t *arg;
  char name[LK_APP_NAME_MAX];
  cJSON *j = NULL;

  if (n == NULL)
    return cJSON_CreateNull();
  if (--c->budget < 0) {
    lk_app_fail(c, n, "template expands to too many nodes");
    return NULL;
  }
  if (++c->depth > LK_APP_MAX_DEPTH)
    lk_app_fail(c, n, "template nests deeper than %d", LK_APP_MAX_DEPTH);
  else if (lk_app_intrinsic(c, n, name, &arg))
    j = eval_intrinsic(c, n, name, arg);
  else if (n->type == YAML_SCALAR_NODE)
    j = scalar_json(n);
  else if (n->type == YAML_SEQUENCE_NODE)
    j = sequence_json(c, n);
  else if (n->type == YAML_MAPPING_NODE)
    j = mapping_json(c, n);
  c->depth--;
  return j;
}

int lk_app_str(ctx_t *c, yaml_node_t *n, lk_buf_t *out) {
  cJSON *j = lk_app_json(c, n);
  int err;

  if (j == NULL)
    return LK_EINVAL;
  if (cJSON_IsString(j)) {
    err = lk_buf_adds(out, j->valuestring);
  } else if (cJSON_IsNumber(j)) {
    if (j->valuedouble == (double)(long long)j->valuedouble)
      err = lk_buf_printf(out, "%lld", (long long)j->valuedouble);
    else
      err = lk_buf_printf(out, "%g", j->valuedouble);
  } else if (cJSON_IsBool(j)) {
    err = lk_buf_adds(out, cJSON_IsTrue(j) ? "true" : "false");
  } else {
    err = lk_app_fail(c, n, "expected a string");
  }
  cJSON_Delete(j);
  return err;
}

char *lk_app_str_prop(ctx_t *c, yaml_node_t *n, int *err) {
  lk_buf_t b;

  *err = 0;
  if (n == NULL)
    return NULL;
  lk_buf_init(&b, VALUE_MAX);
  *err = lk_app_str(c, n, &b);
  if (*err) {
    lk_buf_free(&b);
    return NULL;
  }
  return lk_buf_steal(&b, NULL);
}

int lk_app_int_prop(ctx_t *c, yaml_node_t *n, int lo, int hi, int dflt,
                    int *out) {
  cJSON *j;
  long v;

  *out = dflt;
  if (n == NULL)
    return 0;
  j = lk_app_json(c, n);
  if (j == NULL)
    return LK_EINVAL;
  /* CloudFormation takes "30" where it takes 30. */
  if (cJSON_IsString(j) && lk_parse_long(j->valuestring, lo, hi, &v) == 0) {
    *out = (int)v;
  } else if (!cJSON_IsNumber(j) || j->valuedouble < lo || j->valuedouble > hi ||
             j->valuedouble != (double)(int)j->valuedouble) {
    cJSON_Delete(j);
    return lk_app_fail(c, n, "expected a whole number from %d to %d", lo, hi);
  } else {
    *out = (int)j->valuedouble;
  }
  cJSON_Delete(j);
  return 0;
}
