/* S3 key filters (see s3filter.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "s3filter.h"

void lk_s3_filter_rule(lk_s3_filter_t *f, const char *name, size_t n,
                       const char *value, size_t v) {
  char *to = NULL;

  if (n == 6 && strncasecmp(name, "prefix", 6) == 0)
    to = f->prefix;
  else if (n == 6 && strncasecmp(name, "suffix", 6) == 0)
    to = f->suffix;
  if (to)
    snprintf(to, LK_S3_KEY_MAX + 1, "%.*s", (int)v, value);
}

void lk_s3_filter_json(const cJSON *filter, lk_s3_filter_t *out) {
  const cJSON *rules = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(filter, "S3Key"), "Rules");
  const cJSON *r;

  out->prefix[0] = out->suffix[0] = '\0';
  cJSON_ArrayForEach(r, rules) {
    const char *name = lk_json_str(r, "Name") ? lk_json_str(r, "Name")
                                              : lk_json_str(r, "name");
    const char *v = lk_json_str(r, "Value") ? lk_json_str(r, "Value")
                                            : lk_json_str(r, "value");

    if (name && v)
      lk_s3_filter_rule(out, name, strlen(name), v, strlen(v));
  }
}

int lk_s3_filter_match(const lk_s3_filter_t *f, const char *key) {
  size_t kl = strlen(key), pl = strlen(f->prefix), sl = strlen(f->suffix);

  return strncmp(key, f->prefix, pl) == 0 && sl <= kl &&
         strcmp(key + kl - sl, f->suffix) == 0;
}
