/* STS, the part functions call at start: GetCallerIdentity (the account
 * id and the caller's ARN, which code reads to build ARNs and bucket
 * names), on STS's query protocol (form "Action=", XML replies). Other
 * STS actions are answered InvalidAction in STS's shape. No state. */
#ifndef LK_STS_H
#define LK_STS_H

#include "http.h"

typedef struct lk_sts_caller {
  const char *account;
  const char *function; /* whose credentials signed the call, or NULL */
} lk_sts_caller_t;

/* 1 when req is an STS call: a query-protocol form whose Action is one
 * of STS's, or one signed for the sts service. */
int lk_sts_is_request(const lk_http_req_t *req);
/* Answers req. A function is its execution role's assumed-role session
 * (arn:aws:sts::ACCOUNT:assumed-role/NAME-role/NAME), as in Lambda; any
 * other caller is the account's root. */
void lk_sts_serve(lk_http_req_t *req, const lk_sts_caller_t *who);

#endif
