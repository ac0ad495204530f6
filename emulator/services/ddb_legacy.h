/* DynamoDB's parameters from before expressions: Expected,
 * AttributeUpdates, AttributesToGet, KeyConditions, QueryFilter and
 * ScanFilter (with ConditionalOperator), which older code and the SDKs'
 * high-level helpers still send. Each is rewritten in place into the
 * expression that replaces it, with #names and :values of its own, so one
 * parser and evaluator serve both kinds. Nothing here keeps state. */
#ifndef LK_DDB_LEGACY_H
#define LK_DDB_LEGACY_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Rewrites a request (or one part of a batch or a transaction): 0, or -1
 * with DynamoDB's ValidationException message in err (a request that
 * mixes both kinds, an operator given the wrong number of values...). */
int lk_ddb_legacy_rewrite(cJSON *req, char *err, size_t errlen);

#endif
