/* Observed access: which function made which service call on what. A call
 * is a function's when it carries that function's credentials: a SigV4
 * signature by its access key that verifies, or its session token. The first
 * time a function makes an action on a resource, a {"type":"access"} record
 * goes to the journal (with --enforce-policies, a call its Policies do not
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

typedef struct lk_access_opts {
  int enforce;           /* --enforce-policies */
  int require_signature; /* --require-signature: no anonymous calls */
  /* "KEY:SECRET" pairs besides the functions' own, whose signatures are
   * checked as theirs are (--credentials). */
  const char *const *credentials;
  int n_credentials;
} lk_access_opts_t;

/* Watches the calls made with the credentials rt gives its functions;
 * records go to the journal. */
lk_access_t *lk_access_new(const lk_app_t *app, const lk_runtime_t *rt,
                           lk_journal_t *journal, const lk_access_opts_t *opts);
void lk_access_free(lk_access_t *a);
/* The IAM action and resource ARN of a request to the main endpoint; S3
 * object keys are cut to their folder ("bucket/in/" + "*") unless exact.
 * 0, or LK_ENOENT when the request is not one lambkin can name. */
int lk_access_describe(const lk_app_t *app, const lk_http_req_t *req, int exact,
                       char *action, size_t alen, char *resource, size_t rlen);
/* Every request to the main endpoint. A SigV4 signature made with a key
 * lambkin knows (a function's, or --credentials) must verify, and with
 * --require-signature one must; else the service's own error
 * (SignatureDoesNotMatch, InvalidSignatureException...) is answered and
 * LK_EACCES returned. A request a function made (its key, or its session
 * token) is then checked against its Policies with enforce (AccessDenied
 * in the service's shape, LK_EACCES) and recorded, first time only.
 * 0: the request goes on; *caller is then the function whose
 * credentials made it, or NULL. */
int lk_access_check(lk_access_t *a, lk_http_req_t *req,
                    const lk_function_t **caller);
/* Writes every access record so far again: after the journal rotated,
 * lambkin policy still finds them all. */
void lk_access_rejournal(lk_access_t *a);

#endif
