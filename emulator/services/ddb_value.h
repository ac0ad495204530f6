/* DynamoDB's attribute values, in their wire form ({"S": "x"}, {"N":
 * "1.5"}, {"M": {...}}, ...): the checks DynamoDB makes on what a client
 * sends (one type per value, sets non-empty and without duplicates,
 * numbers of at most 38 significant digits within 1E-130 and 1E+126,
 * nesting at most 32 deep), numbers put in the form DynamoDB answers
 * with ("01.50" -> "1.5"), the order keys sort in, and an item's size as
 * DynamoDB counts it. Nothing here keeps state. */
#ifndef LK_DDB_VALUE_H
#define LK_DDB_VALUE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_DDB_NUM_DIGITS 38
#define LK_DDB_NUM_MAX 140 /* the longest canonical number, and its NUL */
#define LK_DDB_MAX_DEPTH 32
#define LK_DDB_MAX_ITEM (400 * 1024)

/* The canonical text of a DynamoDB number into out[LK_DDB_NUM_MAX]: no
 * sign for positives, no exponent, no leading or trailing zeros. 0, or
 * -1 with DynamoDB's ValidationException message in err. */
int lk_ddb_num_canon(const char *text, char *out, char *err, size_t errlen);
/* <0, 0, >0 as number a is less than, equal to or greater than b (both
 * canonical). */
int lk_ddb_num_cmp(const char *a, const char *b);

/* Checks a value as DynamoDB does and rewrites its numbers (N, NS, in M
 * and L too) in canonical form. 0, or -1 with the message in err. */
int lk_ddb_value_check(cJSON *value, char *err, size_t errlen);
/* Checks every value of an item (a map of name -> value), as above. */
int lk_ddb_item_check(cJSON *item, char *err, size_t errlen);
/* The type of a checked value ("S", "N", "M", ...), and its payload. */
const char *lk_ddb_type(const cJSON *value);
const cJSON *lk_ddb_payload(const cJSON *value);
/* 1 when two checked values are equal as DynamoDB compares them (sets
 * in any order). */
int lk_ddb_value_eq(const cJSON *a, const cJSON *b);
/* The size DynamoDB counts for an item: names plus values. */
size_t lk_ddb_item_size(const cJSON *item);

#endif
