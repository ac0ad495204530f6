/* `lambkin policy`: least-privilege policies from the calls functions
 * were seen to make (the journal's access records, see access.h), and
 * how they compare with what the template's Policies grant. */
#ifndef LK_POLICY_CMD_H
#define LK_POLICY_CMD_H

#include <cjson/cJSON.h>

#include "app.h"

/* Does f's template Policies (with the basic execution role every
 * function has) allow action on resource? The granting item's label goes
 * to *by when given. */
int lk_policy_grants(const lk_function_t *f, const char *action,
                     const char *resource, const char **by);
/* The Allow statements one item of a function's Policies amounts to, as
 * {"Action": [...], "Resource": [...]} in a new array the caller frees:
 * a managed policy's, a SAM policy template's with its parameter put in,
 * or an inline document's. *label names the item. lambkin check reads
 * writes from these, lk_policy_grants grants from them. */
cJSON *lk_policy_statements(const cJSON *item, const char **label);
/* argv as main() got it: argv[1] is "policy". */
int lk_cmd_policy(int argc, char **argv);

#endif
