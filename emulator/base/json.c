/* cJSON helpers (see json.h). */
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "json.h"
#include "lambkin/lambkin.h"

const char *lk_json_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  return cJSON_IsString(v) ? v->valuestring : NULL;
}

long lk_json_long(const cJSON *o, const char *k, long def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  /* Out of range (1e999 parses as infinity) the cast would be undefined. */
  if (cJSON_IsNumber(v))
    return v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18
               ? (long)v->valuedouble
               : def;
  if (cJSON_IsString(v))
    return strtol(v->valuestring, NULL, 10);
  return def;
}

int lk_save_json(const char *path, const cJSON *root) {
  char *text = cJSON_PrintUnformatted(root);
  int err = lk_write_file_atomic(path, text, strlen(text));

  free(text);
  return err;
}

int lk_load_json(const char *path, cJSON **out) {
  size_t len;
  char *text = lk_read_file(path, (size_t)4 << 30, &len);

  *out = NULL;
  if (text == NULL)
    return LK_ENOENT;
  *out = cJSON_ParseWithLength(text, len);
  free(text);
  return *out ? 0 : LK_EINVAL;
}
