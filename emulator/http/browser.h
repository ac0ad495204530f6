/* What a web page in the developer's browser may do to lambkin: nothing it
 * was not allowed to. Two attacks reach a loopback server from a page:
 * cross-site requests (a form or <img> that invokes a function or sends a
 * message) and DNS rebinding (a foreign name that resolves to 127.0.0.1,
 * so the page reads the answers). The first is told by Origin, Referer
 * and Sec-Fetch-Site, the second by Host. SDKs and the aws CLI send none
 * of the first three and a loopback Host, so they always pass.
 *
 * The HTTP server applies the policy to every request before its handler
 * sees it; see lk_http_opts_t. */
#ifndef LK_BROWSER_H
#define LK_BROWSER_H

#include <stddef.h>

typedef struct lk_http_req lk_http_req_t;

typedef struct lk_browser_policy {
  /* Host names served besides loopback names and IP literals (localhost,
   * *.localhost, 127.0.0.1, [::1]): "name", ".suffix" for the name and
   * every subdomain, "*" for any. */
  const char *const *hosts;
  int n_hosts;
  /* Origins allowed to call lambkin from a page besides loopback ones
   * (http[s]://localhost:any, 127.0.0.1, [::1], *.localhost), exactly as
   * the browser sends them ("https://app.example:8443"), or "*". */
  const char *const *origins;
  int n_origins;
} lk_browser_policy_t;

/* 0 when req may be served, else the status to refuse it with (403) and
 * why, for the answer's message. */
int lk_browser_check(const lk_browser_policy_t *p, const lk_http_req_t *req,
                     const char **why);
/* The request's Origin when the policy allows it (to be echoed in
 * Access-Control-Allow-Origin), else NULL. */
const char *lk_browser_cors_origin(const lk_browser_policy_t *p,
                                   const lk_http_req_t *req);
/* 1 for a CORS preflight: OPTIONS with Origin and
 * Access-Control-Request-Method. */
int lk_browser_is_preflight(const lk_http_req_t *req);

#endif
