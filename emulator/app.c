/* Template loader: SAM template.yaml or CloudFormation JSON -> lk_app_t.
 * Works on libyaml's document tree so every error can name file:line.
 * Intrinsics (!Ref, !GetAtt, !Sub, !Join, !Select, !Split, !If, ...) are
 * resolved here, once, against parameters' defaults and the resources'
 * physical names. The returned app owns all of its strings. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "app.h"
#include "buf.h"
#include "lambkin/lambkin.h"

#define MAX_TEMPLATE_BYTES (8 * 1024 * 1024)
#define MAX_DEPTH 64
#define MAX_NODES (1 << 20) /* bounds alias expansion ("billion laughs") */

typedef struct ctx {
  const char *file;
  yaml_document_t doc;
  char *err;
  size_t errlen;
  yaml_node_t *params, *resources, *conditions, *mappings, *globals;
  lk_app_t *app;
  int depth;
  long budget;
} ctx_t;

static const char *known_tags[] = {
    "!Ref",         "!GetAtt",    "!Sub",       "!Join",   "!Select",
    "!Split",       "!If",        "!Equals",    "!Not",    "!And",
    "!Or",          "!FindInMap", "!Base64",    "!GetAZs", "!Cidr",
    "!ImportValue", "!Condition", "!Transform", NULL};

static int fail(ctx_t *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ctx_t *c, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  int off;

  if (c->err[0]) /* keep the first, innermost error */
    return LK_EINVAL;
  off = snprintf(c->err, c->errlen, "%s:%lu: ", c->file,
                 n ? (unsigned long)n->start_mark.line + 1 : 1UL);
  if (off < 0 || (size_t)off >= c->errlen)
    return LK_EINVAL;
  va_start(ap, fmt);
  vsnprintf(c->err + off, c->errlen - (size_t)off, fmt, ap);
  va_end(ap);
  return LK_EINVAL;
}

static char *xstrdup(const char *s) {
  return s ? strdup(s) : NULL;
}

/* ---- yaml tree helpers ---- */

static yaml_node_t *node(ctx_t *c, int id) {
  return yaml_document_get_node(&c->doc, id);
}

static const char *scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                          : NULL;
}

static const char *tag_of(const yaml_node_t *n) {
  return n->tag ? (const char *)n->tag : "";
}

static int is_local_tag(const yaml_node_t *n) {
  return n->tag && n->tag[0] == '!' && n->tag[1] != '!';
}

static yaml_node_t *map_get(ctx_t *c, const yaml_node_t *map, const char *k) {
  yaml_node_pair_t *p;

  if (map == NULL || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    const char *key = scalar(node(c, p->key));

    if (key && strcmp(key, k) == 0)
      return node(c, p->value);
  }
  return NULL;
}

static int seq_len(const yaml_node_t *n) {
  return n && n->type == YAML_SEQUENCE_NODE
             ? (int)(n->data.sequence.items.top - n->data.sequence.items.start)
             : 0;
}

static yaml_node_t *seq_at(ctx_t *c, const yaml_node_t *n, int i) {
  return i < seq_len(n) ? node(c, n->data.sequence.items.start[i]) : NULL;
}

/* The intrinsic a node spells, short (!Ref x) or long ({"Ref": x}) form.
 * Returns its name without "Fn::" and sets *arg; NULL if not one. */
static const char *intrinsic(ctx_t *c, yaml_node_t *n, yaml_node_t **arg) {
  static char name[32];
  const char *key;
  yaml_node_pair_t *p;

  if (is_local_tag(n)) {
    snprintf(name, sizeof(name), "%s", tag_of(n) + 1);
    *arg = n;
    return name;
  }
  if (n->type != YAML_MAPPING_NODE ||
      n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
    return NULL;
  p = n->data.mapping.pairs.start;
  key = scalar(node(c, p->key));
  if (key == NULL)
    return NULL;
  if (strcmp(key, "Ref") == 0 || strcmp(key, "Condition") == 0) {
    snprintf(name, sizeof(name), "%s", key);
  } else if (strncmp(key, "Fn::", 4) == 0) {
    snprintf(name, sizeof(name), "%s", key + 4);
  } else {
    return NULL;
  }
  *arg = node(c, p->value);
  return name;
}

/* ---- names of things, for Ref and GetAtt ---- */

static int to_str(ctx_t *c, yaml_node_t *n, lk_buf_t *out);

static const char *res_type(ctx_t *c, yaml_node_t *res) {
  return scalar(map_get(c, res, "Type"));
}

static int physical_name(ctx_t *c, const char *id, yaml_node_t *res,
                         lk_buf_t *out) {
  const char *type = res_type(c, res);
  yaml_node_t *props = map_get(c, res, "Properties");
  const char *prop = NULL;
  yaml_node_t *v;
  size_t i, start = out->len;

  if (type == NULL)
    type = "";
  if (strcmp(type, "AWS::Serverless::Function") == 0 ||
      strcmp(type, "AWS::Lambda::Function") == 0)
    prop = "FunctionName";
  else if (strcmp(type, "AWS::S3::Bucket") == 0)
    prop = "BucketName";
  else if (strcmp(type, "AWS::SQS::Queue") == 0)
    prop = "QueueName";
  else if (strcmp(type, "AWS::Logs::LogGroup") == 0)
    prop = "LogGroupName";
  v = prop ? map_get(c, props, prop) : NULL;
  if (v)
    return to_str(c, v, out);
  if (lk_buf_adds(out, id))
    return LK_E2BIG;
  if (strcmp(type, "AWS::S3::Bucket") == 0)
    for (i = start; i < out->len; i++)
      out->data[i] = (char)tolower((unsigned char)out->data[i]);
  if (strcmp(type, "AWS::SQS::Queue") == 0) {
    v = map_get(c, props, "FifoQueue");
    if (scalar(v) && strcmp(scalar(v), "true") == 0)
      return lk_buf_adds(out, ".fifo");
  }
  return 0;
}

static int ref(ctx_t *c, yaml_node_t *at, const char *id, lk_buf_t *out) {
  lk_app_t *app = c->app;
  yaml_node_t *p, *res;
  const char *type;
  lk_buf_t name;
  int err;

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
  p = map_get(c, c->params, id);
  if (p) {
    yaml_node_t *def = map_get(c, p, "Default");

    if (def == NULL)
      return fail(c, at, "parameter '%s' has no Default to Ref", id);
    return to_str(c, def, out);
  }
  res = map_get(c, c->resources, id);
  if (res == NULL)
    return fail(c, at, "Ref to unknown parameter or resource '%s'", id);
  type = res_type(c, res);
  if (type && strcmp(type, "AWS::SQS::Queue") == 0) {
    lk_buf_init(&name, 1024);
    err = physical_name(c, id, res, &name);
    if (err == 0)
      err = lk_buf_printf(out, "https://sqs.%s.amazonaws.com/%s/%s",
                          app->region, app->account, name.data);
    lk_buf_free(&name);
    return err;
  }
  return physical_name(c, id, res, out);
}

static int getatt(ctx_t *c, yaml_node_t *at, const char *id, const char *attr,
                  lk_buf_t *out) {
  lk_app_t *app = c->app;
  yaml_node_t *res = map_get(c, c->resources, id);
  const char *type;
  lk_buf_t name;
  int err = 0;

  if (res == NULL)
    return fail(c, at, "GetAtt of unknown resource '%s'", id);
  type = res_type(c, res);
  if (type == NULL)
    type = "";
  lk_buf_init(&name, 1024);
  err = physical_name(c, id, res, &name);
  if (err)
    goto done;
  if (strcmp(attr, "Arn") == 0) {
    if (strstr(type, "Function"))
      err = lk_buf_printf(out, "arn:aws:lambda:%s:%s:function:%s", app->region,
                          app->account, name.data);
    else if (strcmp(type, "AWS::S3::Bucket") == 0)
      err = lk_buf_printf(out, "arn:aws:s3:::%s", name.data);
    else if (strcmp(type, "AWS::SQS::Queue") == 0)
      err = lk_buf_printf(out, "arn:aws:sqs:%s:%s:%s", app->region,
                          app->account, name.data);
    else if (strcmp(type, "AWS::Logs::LogGroup") == 0)
      err = lk_buf_printf(out, "arn:aws:logs:%s:%s:log-group:%s:*", app->region,
                          app->account, name.data);
    else if (strcmp(type, "AWS::IAM::Role") == 0)
      err = lk_buf_printf(out, "arn:aws:iam::%s:role/%s", app->account,
                          name.data);
    else
      err = lk_buf_printf(out, "arn:aws:local:%s:%s:%s", app->region,
                          app->account, name.data);
  } else if (strcmp(attr, "QueueName") == 0 ||
             strcmp(attr, "DomainName") == 0) {
    err = lk_buf_adds(out, name.data);
  } else if (strcmp(attr, "QueueUrl") == 0) {
    err = lk_buf_printf(out, "https://sqs.%s.amazonaws.com/%s/%s", app->region,
                        app->account, name.data);
  } else {
    err = fail(c, at, "GetAtt %s.%s is not supported", id, attr);
  }
done:
  lk_buf_free(&name);
  return err;
}

/* ${Name}, ${Res.Attr} and ${!Literal} inside a !Sub string. */
static int sub(ctx_t *c, yaml_node_t *at, const char *s, yaml_node_t *vars,
               lk_buf_t *out) {
  const char *p = s, *open, *close;
  char var[256];
  size_t n;
  int err = 0;

  for (open = strstr(p, "${"); err == 0 && open; open = strstr(p, "${")) {
    err = lk_buf_add(out, p, (size_t)(open - p));
    close = strchr(open, '}');
    if (err || close == NULL)
      return err ? err : fail(c, at, "unterminated ${ in !Sub");
    n = (size_t)(close - open - 2);
    if (n >= sizeof(var))
      return fail(c, at, "!Sub variable too long");
    memcpy(var, open + 2, n);
    var[n] = '\0';
    if (var[0] == '!') {
      err = lk_buf_printf(out, "${%s}", var + 1);
    } else if (map_get(c, vars, var)) {
      err = to_str(c, map_get(c, vars, var), out);
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

/* ---- intrinsic evaluation to a cJSON value ---- */

static cJSON *to_json(ctx_t *c, yaml_node_t *n);

static int condition(ctx_t *c, yaml_node_t *n, int *out);

static cJSON *eval_intrinsic(ctx_t *c, yaml_node_t *n, const char *fn,
                             yaml_node_t *arg) {
  lk_buf_t s;
  cJSON *j = NULL;
  int err = 0, i;
  char name[32];

  snprintf(name, sizeof(name), "%s", fn); /* fn points at a static buffer */
  lk_buf_init(&s, 1024 * 1024);
  if (strcmp(name, "Ref") == 0 || strcmp(name, "GetAtt") == 0) {
    const char *a = scalar(arg);
    char tmp[512];

    if (strcmp(name, "GetAtt") == 0 && seq_len(arg) == 2) {
      snprintf(tmp, sizeof(tmp), "%s.%s",
               scalar(seq_at(c, arg, 0)) ? scalar(seq_at(c, arg, 0)) : "",
               scalar(seq_at(c, arg, 1)) ? scalar(seq_at(c, arg, 1)) : "");
      a = tmp;
    }
    if (a == NULL) {
      fail(c, n, "!%s takes a name", name);
      goto done;
    }
    if (strcmp(name, "Ref") == 0 && strcmp(a, "AWS::NoValue") == 0) {
      j = cJSON_CreateRaw("__novalue__"); /* dropped by the caller */
      goto done;
    }
    if (strcmp(name, "Ref") == 0) {
      err = ref(c, n, a, &s);
    } else {
      char *dot;

      if (a != tmp) /* the list form already wrote tmp */
        snprintf(tmp, sizeof(tmp), "%s", a);
      dot = strchr(tmp, '.');
      if (dot == NULL) {
        fail(c, n, "!GetAtt needs Resource.Attribute");
        goto done;
      }
      *dot = '\0';
      err = getatt(c, n, tmp, dot + 1, &s);
    }
  } else if (strcmp(name, "Sub") == 0) {
    yaml_node_t *str = seq_len(arg) ? seq_at(c, arg, 0) : arg;
    yaml_node_t *vars = seq_len(arg) > 1 ? seq_at(c, arg, 1) : NULL;

    if (scalar(str) == NULL) {
      fail(c, n, "!Sub takes a string");
      goto done;
    }
    err = sub(c, n, scalar(str), vars, &s);
  } else if (strcmp(name, "Join") == 0) {
    yaml_node_t *list = seq_at(c, arg, 1);
    const char *sep = scalar(seq_at(c, arg, 0));

    if (seq_len(arg) != 2 || sep == NULL) {
      fail(c, n, "!Join takes [separator, [values]]");
      goto done;
    }
    if (list && is_local_tag(list)) {
      cJSON *l = to_json(c, list), *it;

      if (l == NULL)
        goto done;
      i = 0;
      cJSON_ArrayForEach(it, l) {
        if (i++)
          err = err ? err : lk_buf_adds(&s, sep);
        err = err ? err
                  : lk_buf_adds(&s, cJSON_IsString(it) ? it->valuestring : "");
      }
      cJSON_Delete(l);
    } else {
      for (i = 0; i < seq_len(list) && err == 0; i++) {
        if (i)
          err = lk_buf_adds(&s, sep);
        if (err == 0)
          err = to_str(c, seq_at(c, list, i), &s);
      }
    }
  } else if (strcmp(name, "Select") == 0) {
    cJSON *list;
    const char *idx = scalar(seq_at(c, arg, 0));
    char *end;
    long k;

    if (seq_len(arg) != 2 || idx == NULL) {
      fail(c, n, "!Select takes [index, list]");
      goto done;
    }
    k = strtol(idx, &end, 10);
    list = to_json(c, seq_at(c, arg, 1));
    if (list == NULL)
      goto done;
    if (*end || k < 0 || k >= cJSON_GetArraySize(list)) {
      cJSON_Delete(list);
      fail(c, n, "!Select index out of range");
      goto done;
    }
    j = cJSON_DetachItemFromArray(list, (int)k);
    cJSON_Delete(list);
    goto done;
  } else if (strcmp(name, "Split") == 0) {
    const char *sep = scalar(seq_at(c, arg, 0));
    const char *p, *q;

    if (seq_len(arg) != 2 || sep == NULL || sep[0] == '\0') {
      fail(c, n, "!Split takes [separator, string]");
      goto done;
    }
    err = to_str(c, seq_at(c, arg, 1), &s);
    if (err)
      goto done;
    j = cJSON_CreateArray();
    for (p = s.data; j && (q = strstr(p, sep)) != NULL; p = q + strlen(sep)) {
      char *piece = strndup(p, (size_t)(q - p));

      cJSON_AddItemToArray(j, cJSON_CreateString(piece ? piece : ""));
      free(piece);
    }
    if (j)
      cJSON_AddItemToArray(j, cJSON_CreateString(p));
    goto done;
  } else if (strcmp(name, "Base64") == 0) {
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    lk_buf_t raw;
    size_t k;

    lk_buf_init(&raw, 1024 * 1024);
    err = to_str(c, arg, &raw);
    for (k = 0; err == 0 && k < raw.len; k += 3) {
      unsigned v = (unsigned char)raw.data[k] << 16;
      char q[4];

      if (k + 1 < raw.len)
        v |= (unsigned char)raw.data[k + 1] << 8;
      if (k + 2 < raw.len)
        v |= (unsigned char)raw.data[k + 2];
      q[0] = tbl[(v >> 18) & 63];
      q[1] = tbl[(v >> 12) & 63];
      q[2] = k + 1 < raw.len ? tbl[(v >> 6) & 63] : '=';
      q[3] = k + 2 < raw.len ? tbl[v & 63] : '=';
      err = lk_buf_add(&s, q, 4);
    }
    lk_buf_free(&raw);
  } else if (strcmp(name, "If") == 0) {
    int truth = 0;
    yaml_node_t *cond =
        map_get(c, c->conditions,
                scalar(seq_at(c, arg, 0)) ? scalar(seq_at(c, arg, 0)) : "");
    if (seq_len(arg) != 3 || cond == NULL) {
      fail(c, n, "!If takes [condition, then, else] with a known condition");
      goto done;
    }
    if (condition(c, cond, &truth))
      goto done;
    j = to_json(c, seq_at(c, arg, truth ? 1 : 2));
    goto done;
  } else if (strcmp(name, "FindInMap") == 0) {
    yaml_node_t *v = NULL;
    lk_buf_t k1, k2, k3;

    lk_buf_init(&k1, 1024);
    lk_buf_init(&k2, 1024);
    lk_buf_init(&k3, 1024);
    if (seq_len(arg) == 3 && to_str(c, seq_at(c, arg, 0), &k1) == 0 &&
        to_str(c, seq_at(c, arg, 1), &k2) == 0 &&
        to_str(c, seq_at(c, arg, 2), &k3) == 0)
      v = map_get(c, map_get(c, map_get(c, c->mappings, k1.data), k2.data),
                  k3.data);
    lk_buf_free(&k1);
    lk_buf_free(&k2);
    lk_buf_free(&k3);
    if (v == NULL) {
      fail(c, n, "!FindInMap: no such mapping entry");
      goto done;
    }
    j = to_json(c, v);
    goto done;
  } else if (strcmp(name, "Equals") == 0 || strcmp(name, "Not") == 0 ||
             strcmp(name, "And") == 0 || strcmp(name, "Or") == 0 ||
             strcmp(name, "Condition") == 0) {
    int truth;

    if (condition(c, n, &truth) == 0)
      j = cJSON_CreateBool(truth);
    goto done;
  } else {
    fail(c, n, "intrinsic %s is not supported by lambkin", name);
    goto done;
  }
  if (err == 0)
    j = cJSON_CreateString(s.data ? s.data : "");
  else if (err == LK_E2BIG)
    fail(c, n, "value too long");
done:
  lk_buf_free(&s);
  return j;
}

static int condition(ctx_t *c, yaml_node_t *n, int *out) {
  yaml_node_t *arg;
  const char *fn = intrinsic(c, n, &arg);
  char name[32];
  int i, v;

  if (fn == NULL) {
    const char *b = scalar(n);

    if (b && (strcmp(b, "true") == 0 || strcmp(b, "false") == 0)) {
      *out = strcmp(b, "true") == 0;
      return 0;
    }
    return fail(c, n, "not a condition");
  }
  snprintf(name, sizeof(name), "%s", fn);
  if (++c->depth > MAX_DEPTH) {
    c->depth--;
    return fail(c, n, "conditions nest too deep");
  }
  if (strcmp(name, "Equals") == 0 && seq_len(arg) == 2) {
    cJSON *a = to_json(c, seq_at(c, arg, 0)),
          *b = to_json(c, seq_at(c, arg, 1));

    *out = a && b && cJSON_Compare(a, b, 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
  } else if (strcmp(name, "Not") == 0 && seq_len(arg) == 1) {
    if (condition(c, seq_at(c, arg, 0), &v) == 0)
      *out = !v;
  } else if ((strcmp(name, "And") == 0 || strcmp(name, "Or") == 0) &&
             seq_len(arg) > 0) {
    int is_and = name[0] == 'A';

    *out = is_and;
    for (i = 0; i < seq_len(arg); i++)
      if (condition(c, seq_at(c, arg, i), &v) == 0 && v != is_and)
        *out = v;
  } else if (strcmp(name, "Condition") == 0 && scalar(arg)) {
    yaml_node_t *cond = map_get(c, c->conditions, scalar(arg));

    if (cond == NULL)
      fail(c, n, "unknown condition '%s'", scalar(arg));
    else
      condition(c, cond, out);
  } else {
    fail(c, n, "malformed condition %s", name);
  }
  c->depth--;
  return c->err[0] ? LK_EINVAL : 0;
}

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

static cJSON *to_json(ctx_t *c, yaml_node_t *n) {
  yaml_node_t *arg;
  const char *fn;
  cJSON *j = NULL;

  if (n == NULL)
    return cJSON_CreateNull();
  if (--c->budget < 0) {
    fail(c, n, "template expands to too many nodes");
    return NULL;
  }
  if (++c->depth > MAX_DEPTH) {
    fail(c, n, "template nests deeper than %d", MAX_DEPTH);
    goto done;
  }
  fn = intrinsic(c, n, &arg);
  if (fn) {
    j = eval_intrinsic(c, n, fn, arg);
    goto done;
  }
  if (n->type == YAML_SCALAR_NODE) {
    j = scalar_json(n);
  } else if (n->type == YAML_SEQUENCE_NODE) {
    int i;

    j = cJSON_CreateArray();
    for (i = 0; j && i < seq_len(n); i++) {
      cJSON *item = to_json(c, seq_at(c, n, i));

      if (item == NULL) {
        cJSON_Delete(j);
        j = NULL;
      } else if (cJSON_IsRaw(item)) {
        cJSON_Delete(item);
      } else {
        cJSON_AddItemToArray(j, item);
      }
    }
  } else if (n->type == YAML_MAPPING_NODE) {
    yaml_node_pair_t *p;

    j = cJSON_CreateObject();
    for (p = n->data.mapping.pairs.start; j && p < n->data.mapping.pairs.top;
         p++) {
      const char *key = scalar(node(c, p->key));
      cJSON *item;

      if (key == NULL) {
        fail(c, node(c, p->key), "mapping keys must be strings");
        cJSON_Delete(j);
        j = NULL;
        break;
      }
      item = to_json(c, node(c, p->value));
      if (item == NULL) {
        cJSON_Delete(j);
        j = NULL;
      } else if (cJSON_IsRaw(item)) {
        cJSON_Delete(item);
      } else {
        cJSON_AddItemToObject(j, key, item);
      }
    }
  }
done:
  c->depth--;
  return j;
}

/* A value that must come out as a string (numbers and booleans are
 * printed, as CloudFormation does for properties typed String). */
static int to_str(ctx_t *c, yaml_node_t *n, lk_buf_t *out) {
  cJSON *j = to_json(c, n);
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
    err = fail(c, n, "expected a string");
  }
  cJSON_Delete(j);
  return err;
}

static char *str_prop(ctx_t *c, yaml_node_t *n, int *err) {
  lk_buf_t b;

  if (n == NULL)
    return NULL;
  lk_buf_init(&b, 1024 * 1024);
  *err = to_str(c, n, &b);
  if (*err) {
    lk_buf_free(&b);
    return NULL;
  }
  return lk_buf_steal(&b, NULL);
}

static int int_prop(ctx_t *c, yaml_node_t *n, int lo, int hi, int dflt,
                    int *out) {
  cJSON *j;

  *out = dflt;
  if (n == NULL)
    return 0;
  j = to_json(c, n);
  if (j == NULL)
    return LK_EINVAL;
  if (cJSON_IsString(j)) {
    char *end;
    long v = strtol(j->valuestring, &end, 10);

    if (*end == '\0' && end != j->valuestring) {
      cJSON_SetNumberValue(j, (double)v);
      j->type = cJSON_Number;
    }
  }
  if (!cJSON_IsNumber(j) || j->valuedouble < lo || j->valuedouble > hi ||
      j->valuedouble != (double)(int)j->valuedouble) {
    cJSON_Delete(j);
    return fail(c, n, "expected a whole number from %d to %d", lo, hi);
  }
  *out = (int)j->valuedouble;
  cJSON_Delete(j);
  return 0;
}

/* ---- resources ---- */

static int check_tags(ctx_t *c) {
  yaml_node_t *n;
  int i;

  for (n = c->doc.nodes.start; n < c->doc.nodes.top; n++) {
    if (!is_local_tag(n))
      continue;
    for (i = 0; known_tags[i]; i++)
      if (strcmp(tag_of(n), known_tags[i]) == 0)
        break;
    if (known_tags[i] == NULL)
      return fail(c, n, "unknown tag %s", tag_of(n));
  }
  return 0;
}

static int runtime_kind(const char *rt, lk_runtime_kind_t *kind) {
  const char *p;

  if (strncmp(rt, "python3.", 8) == 0) {
    for (p = rt + 8; isdigit((unsigned char)*p); p++)
      ;
    *kind = LK_RT_PYTHON;
    return *p == '\0' && p > rt + 8 ? 0 : LK_EINVAL;
  }
  if (strncmp(rt, "nodejs", 6) == 0) {
    for (p = rt + 6; isdigit((unsigned char)*p); p++)
      ;
    *kind = LK_RT_NODE;
    return strcmp(p, ".x") == 0 && p > rt + 6 ? 0 : LK_EINVAL;
  }
  *kind = LK_RT_PROVIDED;
  if (strcmp(rt, "provided") == 0 || strcmp(rt, "provided.al2") == 0 ||
      strcmp(rt, "provided.al2023") == 0)
    return 0;
  return LK_EINVAL;
}

static int has_c_sources(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int found = 0;

  if (d == NULL)
    return 0;
  for (e = readdir(d); !found && e; e = readdir(d)) {
    size_t n = strlen(e->d_name);

    found = n > 2 && strcmp(e->d_name + n - 2, ".c") == 0;
  }
  closedir(d);
  return found;
}

/* Function property from the resource, else from Globals.Function. */
static yaml_node_t *fprop(ctx_t *c, yaml_node_t *props, const char *k) {
  yaml_node_t *v = map_get(c, props, k);

  return v ? v : map_get(c, map_get(c, c->globals, "Function"), k);
}

static int add_env(ctx_t *c, lk_function_t *f, yaml_node_t *vars) {
  yaml_node_pair_t *p;
  int err = 0;

  if (vars == NULL)
    return 0;
  if (vars->type != YAML_MAPPING_NODE)
    return fail(c, vars, "Environment.Variables must be a mapping");
  for (p = vars->data.mapping.pairs.start; p < vars->data.mapping.pairs.top;
       p++) {
    const char *k = scalar(node(c, p->key));
    cJSON *v;
    char **env;
    lk_buf_t kv;
    int i;

    if (k == NULL)
      return fail(c, vars, "variable names must be strings");
    v = to_json(c, node(c, p->value));
    if (v == NULL)
      return LK_EINVAL;
    if (cJSON_IsRaw(v)) { /* AWS::NoValue */
      cJSON_Delete(v);
      continue;
    }
    cJSON_Delete(v);
    lk_buf_init(&kv, 64 * 1024);
    err = lk_buf_printf(&kv, "%s=", k);
    if (err == 0)
      err = to_str(c, node(c, p->value), &kv);
    if (err) {
      lk_buf_free(&kv);
      return err == LK_E2BIG ? fail(c, vars, "variable %s too long", k) : err;
    }
    /* The function's own value overrides the global one. */
    for (i = 0; i < f->n_env; i++)
      if (strncmp(f->env[i], kv.data, strlen(k) + 1) == 0)
        break;
    if (i < f->n_env) {
      free(f->env[i]);
      f->env[i] = lk_buf_steal(&kv, NULL);
      continue;
    }
    env = realloc(f->env, sizeof(*env) * (size_t)(f->n_env + 1));
    if (env == NULL) {
      lk_buf_free(&kv);
      return LK_ENOMEM;
    }
    f->env = env;
    f->env[f->n_env++] = lk_buf_steal(&kv, NULL);
  }
  return 0;
}

/* The Properties of the template's AWS::IAM::Role that a function's Role
 * names (!GetAtt R.Arn, !Ref R or their Fn:: forms); NULL for a role
 * from outside the template. */
static yaml_node_t *role_props(ctx_t *c, yaml_node_t *role) {
  yaml_node_t *arg = NULL, *res;
  const char *fn = role ? intrinsic(c, role, &arg) : NULL;
  const char *type;
  char id[256];

  if (fn == NULL || (strcmp(fn, "GetAtt") != 0 && strcmp(fn, "Ref") != 0))
    return NULL;
  if (scalar(seq_at(c, arg, 0)))
    snprintf(id, sizeof(id), "%s", scalar(seq_at(c, arg, 0)));
  else if (scalar(arg))
    snprintf(id, sizeof(id), "%s", scalar(arg));
  else
    return NULL;
  if (strchr(id, '.'))
    *strchr(id, '.') = '\0';
  res = map_get(c, c->resources, id);
  type = res ? res_type(c, res) : NULL;
  return type && strcmp(type, "AWS::IAM::Role") == 0
             ? map_get(c, res, "Properties")
             : NULL;
}

/* A role's ManagedPolicyArns and its inline Policies' PolicyDocuments, as
 * the items of a function's Policies. */
static cJSON *role_policies(ctx_t *c, yaml_node_t *props) {
  yaml_node_t *arns = map_get(c, props, "ManagedPolicyArns");
  yaml_node_t *docs = map_get(c, props, "Policies");
  cJSON *out = cJSON_CreateArray(), *j;
  int i;

  for (i = 0; out && i < seq_len(arns); i++) {
    j = to_json(c, seq_at(c, arns, i));
    if (j == NULL) {
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddItemToArray(out, j);
  }
  for (i = 0; out && i < seq_len(docs); i++) {
    yaml_node_t *doc = map_get(c, seq_at(c, docs, i), "PolicyDocument");

    if (doc == NULL)
      continue;
    j = to_json(c, doc);
    if (j == NULL) {
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddItemToArray(out, j);
  }
  return out;
}

static int load_function(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = map_get(c, res, "Properties");
  yaml_node_t *n;
  lk_function_t *f;
  lk_buf_t b;
  char *code = NULL, path[PATH_MAX];
  struct stat st;
  int err = 0;

  f = realloc(app->functions, sizeof(*f) * (size_t)(app->n_functions + 1));
  if (f == NULL)
    return LK_ENOMEM;
  app->functions = f;
  f = &app->functions[app->n_functions++];
  memset(f, 0, sizeof(*f));
  f->line = (int)res->start_mark.line + 1;
  f->logical_id = strdup(id);
  f->reserved_concurrency = -1;
  f->max_retry_attempts = -1;
  f->max_event_age_s = -1;

  if (map_get(c, props, "InlineCode"))
    return fail(c, map_get(c, props, "InlineCode"),
                "InlineCode is not supported; use CodeUri");
  n = fprop(c, props, "PackageType");
  if (scalar(n) && strcmp(scalar(n), "Image") == 0)
    return fail(c, n, "%s: PackageType Image is not supported", id);

  lk_buf_init(&b, 1024);
  err = physical_name(c, id, res, &b);
  f->name = lk_buf_steal(&b, NULL);
  if (err)
    return err;
  if (asprintf(&f->arn, "arn:aws:lambda:%s:%s:function:%s", app->region,
               app->account, f->name) < 0)
    return LK_ENOMEM;

  n = fprop(c, props, "Runtime");
  if (n == NULL)
    return fail(c, res, "function %s has no Runtime", id);
  f->runtime = str_prop(c, n, &err);
  if (err)
    return err;
  if (runtime_kind(f->runtime, &f->kind))
    return fail(c, n,
                "unknown Runtime '%s' (python3.x, nodejs*.x, provided, "
                "provided.al2, provided.al2023)",
                f->runtime);

  n = fprop(c, props, "Handler");
  if (n == NULL)
    return fail(c, res, "function %s has no Handler", id);
  f->handler = str_prop(c, n, &err);
  if (err)
    return err;
  if (f->handler[0] == '\0')
    return fail(c, n, "function %s has an empty Handler", id);
  if ((f->kind == LK_RT_PYTHON || f->kind == LK_RT_NODE) &&
      strchr(f->handler, '.') == NULL)
    return fail(c, n, "Handler '%s' must be module.function", f->handler);

  n = fprop(c, props, "CodeUri");
  if (n && n->type != YAML_SCALAR_NODE && !is_local_tag(n) &&
      intrinsic(c, n, &(yaml_node_t *){NULL}) == NULL)
    return fail(c, n, "CodeUri must be a local folder, not an S3 location");
  code = n ? str_prop(c, n, &err) : strdup(".");
  if (err || code == NULL)
    return err ? err : LK_ENOMEM;
  if (strncmp(code, "s3://", 5) == 0) {
    free(code);
    return fail(c, n, "CodeUri must be a local folder, not an S3 location");
  }
  if (code[0] == '/')
    snprintf(path, sizeof(path), "%s", code);
  else
    snprintf(path, sizeof(path), "%s/%s", app->dir, code);
  if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
    err = fail(c, n ? n : res, "CodeUri '%s' does not exist or is not a folder",
               code);
    free(code);
    return err;
  }
  free(code);
  f->code_dir = realpath(path, NULL);
  if (f->code_dir == NULL)
    return LK_ENOMEM;
  if (f->kind == LK_RT_PROVIDED) {
    snprintf(path, sizeof(path), "%s/bootstrap", f->code_dir);
    if (access(path, X_OK) == 0)
      f->kind = LK_RT_PROVIDED;
    else if (has_c_sources(f->code_dir))
      f->kind = LK_RT_C;
    else
      return fail(c,
                  fprop(c, props, "CodeUri") ? fprop(c, props, "CodeUri") : res,
                  "CodeUri of %s has neither an executable bootstrap nor C "
                  "sources",
                  id);
  }

  err = int_prop(c, fprop(c, props, "Timeout"), 1, 900, 3, &f->timeout_s);
  if (err == 0)
    err = int_prop(c, fprop(c, props, "MemorySize"), 128, 10240, 128,
                   &f->memory_mb);
  if (err == 0 && map_get(c, props, "ReservedConcurrentExecutions"))
    err = int_prop(c, map_get(c, props, "ReservedConcurrentExecutions"), 0,
                   1000, -1, &f->reserved_concurrency);
  else if (err == 0)
    err = int_prop(c, fprop(c, props, "ReservedConcurrentExecutions"), 0, 1000,
                   -1, &f->reserved_concurrency);
  if (err)
    return err;

  /* Globals first, then the function's own variables override them. */
  err = add_env(
      c, f,
      map_get(c, map_get(c, map_get(c, c->globals, "Function"), "Environment"),
              "Variables"));
  if (err == 0)
    err = add_env(c, f,
                  map_get(c, map_get(c, props, "Environment"), "Variables"));
  if (err)
    return err;

  n = fprop(c, props, "Events");
  f->events = n ? to_json(c, n) : cJSON_CreateObject();
  if (f->events == NULL)
    return LK_EINVAL;
  if (!cJSON_IsObject(f->events))
    return fail(c, n, "Events must be a mapping");
  n = fprop(c, props, "Policies");
  f->policies = n ? to_json(c, n) : cJSON_CreateArray();
  if (f->policies == NULL)
    return LK_EINVAL;
  n = role_props(c, fprop(c, props, "Role"));
  if (n) { /* SAM ignores Policies when Role is given: the role's apply */
    cJSON_Delete(f->policies);
    f->policies = role_policies(c, n);
    if (f->policies == NULL)
      return LK_EINVAL;
  }
  if (!cJSON_IsArray(f->policies)) {
    cJSON *a = cJSON_CreateArray();

    cJSON_AddItemToArray(a, f->policies);
    f->policies = a;
  }
  n = fprop(c, props, "DeadLetterQueue");
  if (n) {
    f->dlq_type = str_prop(c, map_get(c, n, "Type"), &err);
    if (err == 0)
      f->dlq_target = str_prop(c, map_get(c, n, "TargetArn"), &err);
    if (err)
      return err;
    if (f->dlq_type == NULL || f->dlq_target == NULL)
      return fail(c, n, "DeadLetterQueue needs Type and TargetArn");
  }
  n = fprop(c, props, "EventInvokeConfig");
  if (n) {
    err = int_prop(c, map_get(c, n, "MaximumRetryAttempts"), 0, 2, -1,
                   &f->max_retry_attempts);
    if (err == 0)
      err = int_prop(c, map_get(c, n, "MaximumEventAgeInSeconds"), 60, 21600,
                     -1, &f->max_event_age_s);
    if (err)
      return err;
    if (map_get(c, n, "DestinationConfig")) {
      f->destinations = to_json(c, map_get(c, n, "DestinationConfig"));
      if (f->destinations == NULL)
        return LK_EINVAL;
    }
  }
  return 0;
}

static int load_bucket(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *nc =
      map_get(c, map_get(c, res, "Properties"), "NotificationConfiguration");
  lk_bucket_t *b;
  lk_buf_t name;
  int err;

  b = realloc(app->buckets, sizeof(*b) * (size_t)(app->n_buckets + 1));
  if (b == NULL)
    return LK_ENOMEM;
  app->buckets = b;
  b = &app->buckets[app->n_buckets++];
  memset(b, 0, sizeof(*b));
  b->logical_id = strdup(id);
  b->line = (int)res->start_mark.line + 1;
  lk_buf_init(&name, 1024);
  err = physical_name(c, id, res, &name);
  b->name = lk_buf_steal(&name, NULL);
  if (err == 0 && nc) {
    b->notification = to_json(c, nc);
    if (b->notification == NULL)
      err = LK_EINVAL;
  }
  return err;
}

static int load_queue(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = map_get(c, res, "Properties");
  yaml_node_t *rp = map_get(c, props, "RedrivePolicy");
  lk_queue_t *q;
  lk_buf_t name;
  int err;

  q = realloc(app->queues, sizeof(*q) * (size_t)(app->n_queues + 1));
  if (q == NULL)
    return LK_ENOMEM;
  app->queues = q;
  q = &app->queues[app->n_queues++];
  memset(q, 0, sizeof(*q));
  q->logical_id = strdup(id);
  q->line = (int)res->start_mark.line + 1;
  lk_buf_init(&name, 1024);
  err = physical_name(c, id, res, &name);
  q->name = lk_buf_steal(&name, NULL);
  if (err)
    return err;
  if (asprintf(&q->arn, "arn:aws:sqs:%s:%s:%s", app->region, app->account,
               q->name) < 0)
    return LK_ENOMEM;
  q->fifo = strlen(q->name) > 5 &&
            strcmp(q->name + strlen(q->name) - 5, ".fifo") == 0;
  err = int_prop(c, map_get(c, props, "VisibilityTimeout"), 0, 43200, 30,
                 &q->visibility_timeout_s);
  if (err == 0)
    err =
        int_prop(c, map_get(c, props, "DelaySeconds"), 0, 900, 0, &q->delay_s);
  if (err == 0 && rp) {
    cJSON *j = to_json(c, rp), *arn, *max;

    if (j && cJSON_IsString(j)) { /* RedrivePolicy may be a JSON string */
      cJSON *parsed = cJSON_Parse(j->valuestring);

      cJSON_Delete(j);
      j = parsed;
    }
    arn = cJSON_GetObjectItemCaseSensitive(j, "deadLetterTargetArn");
    max = cJSON_GetObjectItemCaseSensitive(j, "maxReceiveCount");
    if (cJSON_IsString(max))
      q->max_receive_count = (int)strtol(max->valuestring, NULL, 10);
    else if (cJSON_IsNumber(max))
      q->max_receive_count = max->valueint;
    if (!cJSON_IsString(arn) || q->max_receive_count < 1)
      err = fail(c, rp,
                 "RedrivePolicy needs deadLetterTargetArn and "
                 "maxReceiveCount >= 1");
    else
      q->dlq_arn = strdup(arn->valuestring);
    cJSON_Delete(j);
  }
  return err;
}

static int load_log_group(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  lk_log_group_t *g;
  lk_buf_t name;
  int err;

  g = realloc(app->log_groups, sizeof(*g) * (size_t)(app->n_log_groups + 1));
  if (g == NULL)
    return LK_ENOMEM;
  app->log_groups = g;
  g = &app->log_groups[app->n_log_groups++];
  memset(g, 0, sizeof(*g));
  g->logical_id = strdup(id);
  g->line = (int)res->start_mark.line + 1;
  lk_buf_init(&name, 1024);
  err = physical_name(c, id, res, &name);
  g->name = lk_buf_steal(&name, NULL);
  if (err == 0)
    err = int_prop(c,
                   map_get(c, map_get(c, res, "Properties"), "RetentionInDays"),
                   0, 3653, 0, &g->retention_days);
  return err;
}

static int load_subscription(ctx_t *c, const char *id, yaml_node_t *res) {
  lk_app_t *app = c->app;
  yaml_node_t *props = map_get(c, res, "Properties");
  lk_subscription_t *s;
  int err = 0;

  s = realloc(app->subscriptions,
              sizeof(*s) * (size_t)(app->n_subscriptions + 1));
  if (s == NULL)
    return LK_ENOMEM;
  app->subscriptions = s;
  s = &app->subscriptions[app->n_subscriptions++];
  memset(s, 0, sizeof(*s));
  s->logical_id = strdup(id);
  s->line = (int)res->start_mark.line + 1;
  s->log_group = str_prop(c, map_get(c, props, "LogGroupName"), &err);
  if (err == 0)
    s->pattern = str_prop(c, map_get(c, props, "FilterPattern"), &err);
  if (err == 0)
    s->destination_arn = str_prop(c, map_get(c, props, "DestinationArn"), &err);
  if (err == 0 && (s->log_group == NULL || s->destination_arn == NULL))
    err = fail(c, res,
               "SubscriptionFilter %s needs LogGroupName and "
               "DestinationArn",
               id);
  if (err == 0 && s->pattern == NULL)
    s->pattern = strdup("");
  return err;
}

static int load_resources(ctx_t *c) {
  yaml_node_pair_t *p;
  int err = 0;

  if (c->resources == NULL || c->resources->type != YAML_MAPPING_NODE)
    return fail(c, c->resources, "template has no Resources mapping");
  for (p = c->resources->data.mapping.pairs.start;
       err == 0 && p < c->resources->data.mapping.pairs.top; p++) {
    const char *id = scalar(node(c, p->key));
    yaml_node_t *res = node(c, p->value);
    const char *type = res_type(c, res);

    if (id == NULL || res->type != YAML_MAPPING_NODE)
      return fail(c, res, "a resource must be a mapping under its name");
    if (type == NULL)
      return fail(c, res, "resource %s has no Type", id);
    if (strcmp(type, "AWS::Serverless::Function") == 0)
      err = load_function(c, id, res);
    else if (strcmp(type, "AWS::S3::Bucket") == 0)
      err = load_bucket(c, id, res);
    else if (strcmp(type, "AWS::SQS::Queue") == 0)
      err = load_queue(c, id, res);
    else if (strcmp(type, "AWS::Logs::LogGroup") == 0)
      err = load_log_group(c, id, res);
    else if (strcmp(type, "AWS::Logs::SubscriptionFilter") == 0)
      err = load_subscription(c, id, res);
    /* Other types (roles, APIs, permissions) are accepted and ignored. */
  }
  if (err && c->err[0] == '\0')
    fail(c, NULL, "%s", lk_strerror(err));
  return err;
}

static char *read_file(const char *path, size_t *len, int *err) {
  FILE *f = fopen(path, "rb");
  lk_buf_t b;
  char chunk[16384];
  size_t n;

  *err = 0;
  if (f == NULL) {
    *err = LK_ENOENT;
    return NULL;
  }
  lk_buf_init(&b, MAX_TEMPLATE_BYTES);
  for (n = fread(chunk, 1, sizeof(chunk), f); n > 0 && *err == 0;
       n = fread(chunk, 1, sizeof(chunk), f))
    *err = lk_buf_add(&b, chunk, n);
  fclose(f);
  if (*err) {
    lk_buf_free(&b);
    return NULL;
  }
  return lk_buf_steal(&b, len);
}

int lk_app_load(const char *path, lk_app_t **out, char *err, size_t errlen) {
  ctx_t c;
  yaml_parser_t parser;
  yaml_node_t *root;
  lk_app_t *app;
  char *text = NULL, *slash;
  size_t len = 0;
  int rc, have_doc = 0;

  memset(&c, 0, sizeof(c));
  c.file = path;
  c.err = err;
  c.errlen = errlen;
  c.budget = MAX_NODES;
  err[0] = '\0';
  *out = NULL;

  app = calloc(1, sizeof(*app));
  if (app == NULL)
    return LK_ENOMEM;
  c.app = app;
  app->region =
      xstrdup(getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1");
  app->account = strdup("123456789012");
  app->path = realpath(path, NULL);
  text = read_file(path, &len, &rc);
  if (text == NULL || app->path == NULL) {
    if (rc == LK_E2BIG)
      snprintf(err, errlen, "%s:1: template larger than %d bytes", path,
               MAX_TEMPLATE_BYTES);
    else
      snprintf(err, errlen, "%s:1: cannot read template", path);
    rc = rc ? rc : LK_ENOENT;
    goto fail;
  }
  app->dir = strdup(app->path);
  slash = strrchr(app->dir, '/');
  if (slash)
    *slash = '\0';

  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, (unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &c.doc)) {
    snprintf(err, errlen, "%s:%lu: YAML error: %s", path,
             (unsigned long)parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "malformed");
    yaml_parser_delete(&parser);
    rc = LK_EINVAL;
    goto fail;
  }
  yaml_parser_delete(&parser);
  have_doc = 1;
  root = yaml_document_get_root_node(&c.doc);
  if (root == NULL || root->type != YAML_MAPPING_NODE) {
    rc = fail(&c, root, "template must be a mapping with Resources");
    goto fail;
  }
  rc = check_tags(&c);
  if (rc)
    goto fail;
  c.params = map_get(&c, root, "Parameters");
  c.conditions = map_get(&c, root, "Conditions");
  c.mappings = map_get(&c, root, "Mappings");
  c.globals = map_get(&c, root, "Globals");
  c.resources = map_get(&c, root, "Resources");
  rc = load_resources(&c);
  if (rc)
    goto fail;
  yaml_document_delete(&c.doc);
  free(text);
  *out = app;
  return 0;

fail:
  if (have_doc)
    yaml_document_delete(&c.doc);
  free(text);
  lk_app_free(app);
  return rc ? rc : LK_EINVAL;
}

void lk_app_free(lk_app_t *app) {
  int i, j;

  if (app == NULL)
    return;
  for (i = 0; i < app->n_functions; i++) {
    lk_function_t *f = &app->functions[i];

    free(f->logical_id);
    free(f->name);
    free(f->arn);
    free(f->handler);
    free(f->runtime);
    free(f->code_dir);
    for (j = 0; j < f->n_env; j++)
      free(f->env[j]);
    free(f->env);
    cJSON_Delete(f->events);
    cJSON_Delete(f->policies);
    cJSON_Delete(f->destinations);
    free(f->dlq_type);
    free(f->dlq_target);
  }
  for (i = 0; i < app->n_buckets; i++) {
    free(app->buckets[i].logical_id);
    free(app->buckets[i].name);
    cJSON_Delete(app->buckets[i].notification);
  }
  for (i = 0; i < app->n_queues; i++) {
    free(app->queues[i].logical_id);
    free(app->queues[i].name);
    free(app->queues[i].arn);
    free(app->queues[i].dlq_arn);
  }
  for (i = 0; i < app->n_log_groups; i++) {
    free(app->log_groups[i].logical_id);
    free(app->log_groups[i].name);
  }
  for (i = 0; i < app->n_subscriptions; i++) {
    free(app->subscriptions[i].logical_id);
    free(app->subscriptions[i].log_group);
    free(app->subscriptions[i].pattern);
    free(app->subscriptions[i].destination_arn);
  }
  free(app->functions);
  free(app->buckets);
  free(app->queues);
  free(app->log_groups);
  free(app->subscriptions);
  free(app->path);
  free(app->dir);
  free(app->region);
  free(app->account);
  free(app);
}

lk_function_t *lk_app_function(const lk_app_t *app, const char *name) {
  const char *p = name;
  size_t n;
  int i;

  /* arn:aws:lambda:region:acct:function:NAME[:qualifier] */
  if (strncmp(name, "arn:", 4) == 0) {
    p = strstr(name, ":function:");
    if (p == NULL)
      return NULL;
    p += 10;
  }
  n = strcspn(p, ":");
  for (i = 0; i < app->n_functions; i++) {
    lk_function_t *f = &app->functions[i];

    if ((strlen(f->name) == n && strncmp(f->name, p, n) == 0) ||
        (strlen(f->logical_id) == n && strncmp(f->logical_id, p, n) == 0))
      return f;
  }
  return NULL;
}
