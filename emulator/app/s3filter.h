/* S3 key filters: the prefix and suffix rules that decide which objects a
 * notification fires for. One reading for every place they come from: a
 * template's Filter.S3Key.Rules (Events of type S3, a bucket's
 * NotificationConfiguration) and the FilterRules of an XML configuration
 * a client PUTs. Plain values in the caller's struct. */
#ifndef LK_S3FILTER_H
#define LK_S3FILTER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_S3_KEY_MAX 1024 /* S3's longest key */

typedef struct lk_s3_filter {
  char prefix[LK_S3_KEY_MAX + 1]; /* "" matches every key */
  char suffix[LK_S3_KEY_MAX + 1];
} lk_s3_filter_t;

/* The rules under filter (the value of a "Filter" property), any
 * capitalisation of Name and Value; an absent filter matches all. */
void lk_s3_filter_json(const cJSON *filter, lk_s3_filter_t *out);
/* One rule, Name and Value as given (n and v bytes): prefix or suffix, in
 * any case; a later rule of the same name replaces an earlier one. */
void lk_s3_filter_rule(lk_s3_filter_t *f, const char *name, size_t n,
                       const char *value, size_t v);
/* 1 when the key passes the filter. */
int lk_s3_filter_match(const lk_s3_filter_t *f, const char *key);

#endif
