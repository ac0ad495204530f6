/* SNS's deliveries to http:// subscribers on this machine: a POST of the
 * JSON envelope (or the raw message) with SNS's x-amz-sns-* headers, as
 * SNS's default HTTP delivery policy does it: an answer other than 2xx,
 * or none within 15 s, is tried again 3 times (after 1, 2 and 4 s); then
 * the message goes to the subscription's RedrivePolicy queue, or is
 * dropped with a line. https:// is not delivered (lambkin has no TLS
 * client): a line says so. Owns the deliveries in progress:
 * lk_sns_http_close() stops them, lk_sns_http_free() releases the rest
 * after the loop has run. */
#ifndef LK_SNS_HTTP_H
#define LK_SNS_HTTP_H

#include <uv.h>

#include "sns.h"
#include "sqs.h"

typedef struct lk_sns_http lk_sns_http_t;

lk_sns_http_t *lk_sns_http_new(uv_loop_t *loop, lk_sqs_t *sqs);
/* Delivers body (what the subscriber is to get) for d. */
void lk_sns_http_post(lk_sns_http_t *h, const lk_sns_delivery_t *d,
                      const char *body);
void lk_sns_http_close(lk_sns_http_t *h);
void lk_sns_http_free(lk_sns_http_t *h);

#endif
