/* CloudWatch Logs filter patterns, as FilterLogEvents and subscription
 * filters apply them: terms, "quoted phrases", -term (must be absent),
 * ?term (any of), and JSON patterns { $.a.b = value && $.n > 3 }. Matching
 * is case-sensitive, as in CloudWatch. Pure functions: nothing is kept. */
#ifndef LK_LOGFILTER_H
#define LK_LOGFILTER_H

#include <stddef.h>

/* 1 when the message matches; an empty or NULL pattern matches all. A
 * pattern that cannot be parsed matches nothing and sets *bad (if given). */
int lk_filter_match(const char *pattern, const char *msg, size_t len, int *bad);

#endif
