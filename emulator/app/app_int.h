/* Inside the template loader: the loading context and the libyaml tree
 * helpers shared by template.c, intrinsics.c and resources.c. Nothing
 * outside emulator/app includes this. */
#ifndef LK_APP_INT_H
#define LK_APP_INT_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "app.h"
#include "buf.h"

#define LK_APP_MAX_DEPTH 64
#define LK_APP_NAME_MAX 64 /* an intrinsic's name, "Fn::" left out */

typedef struct ctx {
  const char *file;
  yaml_document_t doc;
  char *err;
  size_t errlen;
  yaml_node_t *params, *resources, *conditions, *mappings, *globals;
  lk_app_t *app;
  cJSON *values;       /* parameter name -> value given (overrides) */
  cJSON *not_emulated; /* resource type -> how many, for one warning */
  int cfn;             /* loading an AWS::Lambda::Function: no Globals */
  int depth;
  long budget; /* nodes left to expand: bounds alias expansion */
} ctx_t;

/* Writes "file:line: what" into the context's error, once (the first,
 * innermost error wins); returns LK_EINVAL. */
int lk_app_fail(ctx_t *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds "file:line: what" to the app's warnings, unless it is there. */
void lk_app_warn(ctx_t *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the yaml tree (template.c) ---- */
yaml_node_t *lk_app_node(ctx_t *c, int id);
/* A scalar's text, or NULL for any other node (or NULL). */
const char *lk_app_scalar(const yaml_node_t *n);
/* A mapping's value under key k (the last one when k is given twice,
 * as SAM CLI reads it), or NULL. */
yaml_node_t *lk_app_get(ctx_t *c, const yaml_node_t *map, const char *k);
int lk_app_seq_len(const yaml_node_t *n);
yaml_node_t *lk_app_seq_at(ctx_t *c, const yaml_node_t *n, int i);
/* 1 for a node tagged !Something (not !!str and friends). */
int lk_app_local_tag(const yaml_node_t *n);

/* ---- intrinsics and values (intrinsics.c) ---- */
/* The intrinsic a node spells, in short (!Ref x) or long ({"Ref": x})
 * form: its name without "Fn::" into name, and its argument into *arg.
 * 0 when the node is not an intrinsic. */
int lk_app_intrinsic(ctx_t *c, yaml_node_t *n, char name[LK_APP_NAME_MAX],
                     yaml_node_t **arg);
/* A node with its intrinsics resolved, as a new cJSON tree; NULL on an
 * error (in the context). AWS::NoValue comes back as a cJSON raw node,
 * which the caller drops. */
cJSON *lk_app_json(ctx_t *c, yaml_node_t *n);
/* A value that must be a string (numbers and booleans are printed, as
 * CloudFormation does for properties typed String), appended to out. */
int lk_app_str(ctx_t *c, yaml_node_t *n, lk_buf_t *out);
/* The same as a new string (NULL for a NULL node, with *err 0). */
char *lk_app_str_prop(ctx_t *c, yaml_node_t *n, int *err);
/* A whole number in [lo, hi] into *out (dflt for a NULL node). */
int lk_app_int_prop(ctx_t *c, yaml_node_t *n, int lo, int hi, int dflt,
                    int *out);

/* ---- what resources are called (names.c) ---- */
/* The physical name of resource id (its name property, or the logical id
 * as CloudFormation would make it), appended to out. */
int lk_app_physical_name(ctx_t *c, const char *id, yaml_node_t *res,
                         lk_buf_t *out);
const char *lk_app_res_type(ctx_t *c, yaml_node_t *res);
/* What Ref of the resource gives (a name, ARN, id or URL, by type), and
 * what GetAtt of any attribute gives, appended to out. */
int lk_app_ref_value(ctx_t *c, const char *id, yaml_node_t *res, lk_buf_t *out);
int lk_app_attr_value(ctx_t *c, const char *id, yaml_node_t *res,
                      const char *attr, lk_buf_t *out);

/* ---- resources (resources.c) ---- */
/* Loads one resource of a type lambkin models; others are counted in
 * c->not_emulated. */
int lk_app_load_resource(ctx_t *c, const char *id, yaml_node_t *res,
                         const char *type);

#endif
