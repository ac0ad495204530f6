/* Emulated DynamoDB over JSON 1.0 ("X-Amz-Target: DynamoDB_20120810.*"):
 * tables (from the template and CreateTable) and their items in memory,
 * answered in the shapes the SDKs parse, errors included
 * (ValidationException with DynamoDB's messages, ResourceNotFound,
 * ResourceInUse, ConditionalCheckFailed). The store owns every table and
 * item. */
#ifndef LK_DYNAMODB_H
#define LK_DYNAMODB_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "http.h"

#define LK_DDB_MAX_TABLES 256
/* Items of all tables together, as DynamoDB counts their size: past it,
 * a write that adds bytes is refused (LimitExceededException). */
#define LK_DDB_MAX_BYTES ((size_t)512 * 1024 * 1024)

typedef struct lk_ddb lk_ddb_t;

lk_ddb_t *lk_ddb_new(const char *region, const char *account);
void lk_ddb_free(lk_ddb_t *d);
/* A table from a CreateTable request (the Properties of an
 * AWS::DynamoDB::Table have the same shape): 0, LK_EEXIST when a table
 * of that name is there, or LK_EINVAL with DynamoDB's message in err. */
int lk_ddb_create_table(lk_ddb_t *d, const cJSON *spec, char *err,
                        size_t errlen);
void lk_ddb_serve(lk_ddb_t *d, lk_http_req_t *req);

#endif
