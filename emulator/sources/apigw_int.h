/* Inside API Gateway: a route, its matching, and the events of both
 * payload versions, shared by apigw.c (the gateway) and apigw_event.c.
 * Nothing outside emulator/sources includes this. */
#ifndef LK_APIGW_INT_H
#define LK_APIGW_INT_H

#include <cjson/cJSON.h>

#include "app.h"
#include "http.h"

typedef struct route {
  char *method; /* upper case, or "ANY" */
  char *path;   /* "/items/{id}", or "$default" */
  const lk_function_t *def;
  int v2;       /* payload format 2.0 */
  int http_api; /* an HttpApi route (else a REST Api) */
} route_t;

/* How specifically the route fits (higher is better), -1 for no match;
 * fills params {name: value} when it fits. */
int lk_apigw_match(const route_t *r, const char *method, const char *path,
                   cJSON *params);
/* The event for req on route r with its path parameters, in r's payload
 * version; the caller frees it. */
char *lk_apigw_build(const char *account, const route_t *r,
                     const lk_http_req_t *req, const cJSON *params);

#endif
