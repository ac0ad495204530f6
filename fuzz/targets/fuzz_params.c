/* libFuzzer target: parameter overrides and samconfig (TOML, YAML). Invariants:
 * every name set is alphanumeric and at most LK_PARAMS_MAX are set; a
 * value written back as Name="value" (quotes and backslashes escaped)
 * reads back the same; the TOML scanner and the samconfig.yaml reader
 * return or fail, and what they set obeys the same rules. */
#include "check.h"
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_names(const cJSON *into) {
  const cJSON *it;
  const char *p;

  CHECK(cJSON_GetArraySize(into) <= LK_PARAMS_MAX);
  cJSON_ArrayForEach(it, into) {
    CHECK(it->string && it->string[0]);
    for (p = it->string; *p; p++)
      CHECK(isalnum((unsigned char)*p));
    CHECK(cJSON_IsString(it));
  }
}

/* Name="value" with " and \ escaped parses back to value. */
static void round_trip(const cJSON *into) {
  const cJSON *it;
  char err[256];

  cJSON_ArrayForEach(it, into) {
    cJSON *again = cJSON_CreateObject();
    const char *p, *got;
    lk_buf_t t;

    lk_buf_init(&t, 1 << 20);
    lk_buf_printf(&t, "%s=\"", it->string);
    for (p = it->valuestring; *p; p++) {
      if (*p == '"' || *p == '\\')
        lk_buf_add(&t, "\\", 1);
      lk_buf_add(&t, p, 1);
    }
    lk_buf_add(&t, "\"", 1);
    CHECK(lk_buf_error(&t) == 0);
    CHECK(lk_params_parse(t.data, t.len, again, err, sizeof(err)) == 0);
    got = cJSON_GetStringValue(cJSON_GetObjectItem(again, it->string));
    CHECK(got && strcmp(got, it->valuestring) == 0);
    lk_buf_free(&t);
    cJSON_Delete(again);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *into = cJSON_CreateObject();
  char err[256];

  if (lk_params_parse((const char *)data, size, into, err, sizeof(err)) == 0) {
    check_names(into);
    round_trip(into);
  }
  cJSON_Delete(into);
  into = cJSON_CreateObject();
  lk_samconfig_parse((const char *)data, size, NULL, "local_invoke", into, err,
                     sizeof(err));
  check_names(into);
  cJSON_Delete(into);
  into = cJSON_CreateObject();
  lk_samconfig_yaml_parse((const char *)data, size, NULL, "local_invoke", into,
                          err, sizeof(err));
  check_names(into);
  cJSON_Delete(into);
  return 0;
}
