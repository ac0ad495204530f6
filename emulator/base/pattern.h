/* Event patterns, the one filter language of EventBridge rules, SNS
 * filter policies and Lambda's FilterCriteria: a JSON object whose
 * fields name the event's, down to arrays of what a value may be: exact
 * strings, numbers, booleans and null, or the operators prefix, suffix,
 * equals-ignore-case, wildcard, anything-but, numeric, exists and cidr;
 * "$or" takes a list of patterns. An event's array matches when one of
 * its elements does. Nothing here keeps state. */
#ifndef LK_PATTERN_H
#define LK_PATTERN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_PATTERN_MAX_DEPTH 32

/* 0 when pattern is one, else -1 with the reason in err, as
 * EventBridge words it. */
int lk_pattern_check(const cJSON *pattern, char *err, size_t errlen);
/* 1 when the event matches a checked pattern, else 0. */
int lk_pattern_match(const cJSON *pattern, const cJSON *event);

#endif
