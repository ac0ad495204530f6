/* Small cJSON helpers every layer wanted a copy of: typed lookups that
 * answer NULL or a default instead of crashing on the wrong type, and a
 * document to a file and back. */
#ifndef LK_JSON_H
#define LK_JSON_H

#include <cjson/cJSON.h>

/* o[k] when it is a string, else NULL (o may be NULL). */
const char *lk_json_str(const cJSON *o, const char *k);
/* o[k] as a whole number (a JSON number, or a string of digits as
 * CloudFormation allows), else def. */
long lk_json_long(const cJSON *o, const char *k, long def);
/* A JSON document to a file (atomically) and back; LK_ENOENT when there
 * is no file, LK_EINVAL when it is not JSON. */
int lk_save_json(const char *path, const cJSON *root);
/* A service's change, as a record of the state log (--state): durable
 * when someone is told it happened, so it must reach the disk first. */
typedef void (*lk_record_cb)(void *ud, const cJSON *record, int durable);
int lk_load_json(const char *path, cJSON **out);

#endif
