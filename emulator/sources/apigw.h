/* API Gateway in front of the functions, on its own port: Events of type
 * Api become REST routes with payload v1, HttpApi routes payload v2 (or v1
 * when PayloadFormatVersion says 1.0). It turns an HTTP request into the
 * event, invokes the function, and maps its answer back: 502 for an
 * answer it cannot map, 504 past the integration timeout. Owns its server
 * and its routes. */
#ifndef LK_APIGW_H
#define LK_APIGW_H

#include <uv.h>

#include "app.h"
#include "http.h"
#include "runtime.h"

typedef struct lk_apigw lk_apigw_t;

#define LK_APIGW_TIMEOUT_S 29 /* API Gateway's integration limit */

typedef struct lk_apigw_opts {
  const char *host; /* default 127.0.0.1 */
  int port;         /* 0: any free port */
  int timeout_s;    /* integration timeout, then 504 (default 29) */
  const lk_browser_policy_t *browser; /* see lk_http_opts_t */
} lk_apigw_opts_t;

/* NULL in *out when the template has no Api or HttpApi events. */
int lk_apigw_new(uv_loop_t *loop, const lk_app_t *app, lk_runtime_t *rt,
                 const lk_apigw_opts_t *opts, lk_apigw_t **out);
int lk_apigw_port(const lk_apigw_t *gw);
int lk_apigw_n_routes(const lk_apigw_t *gw);
/* The route table, for serve's banner: "GET /items/{id} -> fn (v1)". */
const char *lk_apigw_route(const lk_apigw_t *gw, int i, char *buf,
                           unsigned cap);
/* The event API Gateway would send for req on a route (method, path
 * template), as payload 2.0 (v2) or 1.0; NULL when the route does not
 * match. The caller frees it. Shared by the gateway and `lambkin event`. */
char *lk_apigw_event(int v2, int http_api, const char *account,
                     const char *method, const char *path_template,
                     const lk_http_req_t *req);
void lk_apigw_close(lk_apigw_t *gw);
void lk_apigw_free(lk_apigw_t *gw);

#endif
