/* libFuzzer target: the SAM template loader (YAML or JSON), through the
 * same entry point serve uses, and lambkin check on what loads.
 * Invariant: a template loads, or is refused with LK_EINVAL and a message
 * that starts "<file>:" (with a line where one is known); a loaded one
 * gets a findings array whose every entry names its rule, level and
 * message, and a loop's cycle starts and ends with its function. Never a
 * crash, a hang or a leak. */
#include "check.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "graph.h"
#include "lambkin/lambkin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  char err[1024];
  lk_app_t *app = NULL;
  FILE *f;
  int rc;

  if (path[0] == '\0') {
    snprintf(path, sizeof(path), "/tmp/lambkin-fuzz-app-%d.yaml",
             (int)getpid());
  }
  f = fopen(path, "wb");
  if (f == NULL)
    return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  err[0] = '\0';
  rc = lk_app_load(path, NULL, &app, err, sizeof(err));
  if (rc == 0) {
    cJSON *all, *one;

    CHECK(app != NULL);
    all = lk_check_app(app, NULL);
    CHECK(cJSON_IsArray(all));
    cJSON_ArrayForEach(one, all) {
      const cJSON *cycle = cJSON_GetObjectItem(one, "cycle");
      const char *fn = cJSON_GetObjectItem(one, "function")->valuestring;

      CHECK(cJSON_IsString(cJSON_GetObjectItem(one, "rule")));
      CHECK(cJSON_IsString(cJSON_GetObjectItem(one, "level")));
      CHECK(cJSON_IsString(cJSON_GetObjectItem(one, "message")));
      CHECK(cycle == NULL || strncmp(cycle->valuestring, fn, strlen(fn)) == 0);
    }
    cJSON_Delete(all);
    lk_app_free(app);
  } else {
    CHECK(rc == LK_EINVAL || rc == LK_ENOMEM);
    CHECK(app == NULL);
    CHECK(strncmp(err, path, strlen(path)) == 0);
  }
  return 0;
}
