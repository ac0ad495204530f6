/* libFuzzer target: DynamoDB attribute values as a client sends them
 * (a PutItem's Item). Invariants: the checker returns or fails, never
 * more; what it accepts is canonical, so a second check changes nothing
 * and keeps the same size; every number it accepts compares equal to
 * itself and keeps its order against the text it came from. */
#include "check.h"
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ddb_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as one number's text too, when it is short. */
static void number(const uint8_t *data, size_t size) {
  char text[256], a[LK_DDB_NUM_MAX], b[LK_DDB_NUM_MAX], err[256];

  if (size >= sizeof(text) || memchr(data, '\0', size))
    return;
  memcpy(text, data, size);
  text[size] = '\0';
  if (lk_ddb_num_canon(text, a, err, sizeof(err)) != 0)
    return;
  CHECK(strlen(a) < LK_DDB_NUM_MAX);
  CHECK(lk_ddb_num_canon(a, b, err, sizeof(err)) == 0);
  CHECK(strcmp(a, b) == 0);
  CHECK(lk_ddb_num_cmp(a, text) == 0);
  CHECK(lk_ddb_num_cmp(a, "0") == -lk_ddb_num_cmp("0", a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *item = cJSON_ParseWithLength((const char *)data, size);
  char err[256], *once, *twice;
  size_t n;

  number(data, size);
  if (item == NULL || lk_ddb_item_check(item, err, sizeof(err)) != 0) {
    cJSON_Delete(item);
    return 0;
  }
  once = cJSON_PrintUnformatted(item);
  n = lk_ddb_item_size(item);
  CHECK(lk_ddb_item_check(item, err, sizeof(err)) == 0);
  twice = cJSON_PrintUnformatted(item);
  CHECK(strcmp(once, twice) == 0);
  CHECK(lk_ddb_item_size(item) == n);
  cJSON_free(once);
  cJSON_free(twice);
  cJSON_Delete(item);
  return 0;
}
