/* IAM evaluation for lambkin check, lambkin policy and
 * --enforce-policies: what a function's Policies (SAM policy templates,
 * AWS managed policies, inline documents, with the basic execution role
 * every function has) allow. Allow statements only: no Deny, Condition or
 * resource policies. */
#ifndef LK_IAM_H
#define LK_IAM_H

#include <cjson/cJSON.h>

#include "app.h"

/* Does f's template Policies (with the basic execution role every
 * function has) allow action on resource? The granting item's label goes
 * to *by when given. */
int lk_policy_grants(const lk_function_t *f, const char *action,
                     const char *resource, const char **by);
/* Does one item of a function's Policies allow it? Its label goes to
 * *label. */
int lk_policy_item_grants(const cJSON *item, const char *action,
                          const char *resource, const char **label);
/* The Allow statements one item of a function's Policies amounts to, as
 * {"Action": [...], "Resource": [...]} in a new array the caller frees:
 * a managed policy's, a SAM policy template's with its parameter put in,
 * or an inline document's. *label names the item. lambkin check reads
 * writes from these, lk_policy_grants grants from them. */
cJSON *lk_policy_statements(const cJSON *item, const char **label);

#endif
