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
int lk_policy_grants(const lk_app_t *app, const lk_function_t *f,
                     const char *action, const char *resource, const char **by);
/* argv as main() got it: argv[1] is "policy". */
int lk_cmd_policy(int argc, char **argv);

#endif
