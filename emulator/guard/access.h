/* Observed access: which function made which service call on what. A call
 * is a function's when it carries that function's credentials (the access
 * key in its SigV4 Credential, or its session token). The first time a
 * function makes an action on a resource, a {"type":"access"} record goes
 * to the journal (with --enforce-policies, a call its Policies do not
 * allow is refused instead, as AWS would); `lambkin policy` turns those into
 * least-privilege policies and compares them with the template's. */
#ifndef LK_ACCESS_H
#define LK_ACCESS_H

#include <stddef.h>

#include "app.h"
#include "http.h"
#include "journal.h"
#include "runtime.h"

#define LK_ACCESS_MAX 4096 /* distinct (function, action, resource) kept */

typedef struct lk_access lk_access_t;

/* Watches the calls made with the credentials rt gives its functions;
 * records go to the journal. enforce: --enforce-policies. */
lk_access_t *lk_access_new(const lk_app_t *app, const lk_runtime_t *rt,
                           lk_journal_t *journal, int enforce);
void lk_access_free(lk_access_t *a);
/* The IAM action and resource ARN of a request to the main endpoint; S3
 * object keys are cut to their folder ("bucket/in/" + "*") unless exact.
 * 0, or LK_ENOENT when the request is not one lambkin can name. */
int lk_access_describe(const lk_app_t *app, const lk_http_req_t *req, int exact,
                       char *action, size_t alen, char *resource, size_t rlen);
/* For a request a function made: with enforce, answers AccessDenied (in
 * the service's error shape) when its Policies do not allow it, and
 * returns LK_EACCES; else records it (first time only) and returns 0, as
 * for any other request. */
int lk_access_check(lk_access_t *a, lk_http_req_t *req);
/* Writes every access record so far again: after the journal rotated,
 * lambkin policy still finds them all. */
void lk_access_rejournal(lk_access_t *a);

#endif
