/* libFuzzer target: event patterns (EventBridge, SNS filter policies,
 * Lambda FilterCriteria). Input: a pattern, a NUL byte, an event (both
 * JSON; no NUL: the event is the pattern's own text). Invariants: a
 * refused pattern says why in EventBridge's words; a checked pattern
 * matches the same way twice; {"$or":[p, p]} matches as p does; a
 * pattern and an object event wrapped under one more key match as they
 * did; the empty pattern matches every object. */
#include "check.h"
#include <stdint.h>
#include <string.h>

#include "pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int wrapped_or(const cJSON *p, const cJSON *ev) {
  cJSON * or = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(or, "$or");
  char err[256];
  int r;

  cJSON_AddItemToArray(list, cJSON_Duplicate(p, 1));
  cJSON_AddItemToArray(list, cJSON_Duplicate(p, 1));
  CHECK(lk_pattern_check(or, err, sizeof(err)) == 0 ||
        strstr(err, "too deeply")); /* one level more may pass the limit */
  r = lk_pattern_check(or, err, sizeof(err)) == 0 ? lk_pattern_match(or, ev)
                                                  : -1;
  cJSON_Delete(or);
  return r;
}

static int wrapped_key(const cJSON *p, const cJSON *ev) {
  cJSON *wp = cJSON_CreateObject(), *we = cJSON_CreateObject();
  char err[256];
  int r = -1;

  cJSON_AddItemToObject(wp, "w", cJSON_Duplicate(p, 1));
  cJSON_AddItemToObject(we, "w", cJSON_Duplicate(ev, 1));
  if (lk_pattern_check(wp, err, sizeof(err)) == 0)
    r = lk_pattern_match(wp, we);
  cJSON_Delete(wp);
  cJSON_Delete(we);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t plen = nul ? (size_t)(nul - data) : size;
  cJSON *p = cJSON_ParseWithLength((const char *)data, plen);
  cJSON *ev =
      nul ? cJSON_ParseWithLength((const char *)nul + 1, size - plen - 1)
          : cJSON_ParseWithLength((const char *)data, size);
  cJSON *empty = cJSON_CreateObject();
  char err[256];
  int r, again;

  if (lk_pattern_check(p, err, sizeof(err)) != 0) {
    CHECK(strncmp(err, "Event pattern is not valid. Reason: ", 36) == 0);
  } else if (ev) {
    r = lk_pattern_match(p, ev);
    again = lk_pattern_match(p, ev);
    CHECK(r == 0 || r == 1);
    CHECK(r == again);
    again = wrapped_or(p, ev);
    CHECK(again == -1 || again == r);
    if (cJSON_IsObject(ev)) {
      again = wrapped_key(p, ev);
      CHECK(again == -1 || again == r);
    }
  }
  if (cJSON_IsObject(ev))
    CHECK(lk_pattern_match(empty, ev) == 1);
  cJSON_Delete(empty);
  cJSON_Delete(p);
  cJSON_Delete(ev);
  return 0;
}
