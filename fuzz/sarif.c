/* SARIF 2.1.0 documents for lambkin's reports. See sarif.h. */
#include <string.h>

#include "lambkin/lambkin.h"
#include "sarif.h"

void lk_sarif_init(lk_sarif_t *s) {
  cJSON *run, *driver;

  s->doc = cJSON_CreateObject();
  cJSON_AddStringToObject(s->doc, "version", "2.1.0");
  cJSON_AddStringToObject(s->doc, "$schema",
                          "https://json.schemastore.org/sarif-2.1.0.json");
  run = cJSON_CreateObject();
  cJSON_AddItemToArray(cJSON_AddArrayToObject(s->doc, "runs"), run);
  driver =
      cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
  cJSON_AddStringToObject(driver, "name", "lambkin");
  cJSON_AddStringToObject(driver, "version", LK_VERSION);
  s->rules = cJSON_AddArrayToObject(driver, "rules");
  s->results = cJSON_AddArrayToObject(run, "results");
}

void lk_sarif_rule(lk_sarif_t *s, const char *id, const char *text,
                   const char *level) {
  cJSON *rule = cJSON_CreateObject();

  cJSON_AddStringToObject(rule, "id", id);
  cJSON_AddStringToObject(rule, "name", id);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(rule, "shortDescription"),
                          "text", text);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(rule, "defaultConfiguration"),
                          "level", level);
  cJSON_AddItemToArray(s->rules, rule);
}

void lk_sarif_result(lk_sarif_t *s, const char *rule_id, const char *level,
                     const char *message, const char *uri, int line,
                     const char *fingerprint) {
  cJSON *r = cJSON_CreateObject(), *loc, *phys;
  const cJSON *rule;
  int k = 0;

  cJSON_AddStringToObject(r, "ruleId", rule_id);
  cJSON_ArrayForEach(rule, s->rules) {
    if (strcmp(cJSON_GetObjectItem(rule, "id")->valuestring, rule_id) == 0) {
      cJSON_AddNumberToObject(r, "ruleIndex", k);
      break;
    }
    k++;
  }
  cJSON_AddStringToObject(r, "level", level);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "message"), "text",
                          message);
  if (fingerprint)
    cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "partialFingerprints"),
                            "lambkinFinding/v1", fingerprint);
  loc = cJSON_CreateObject();
  phys = cJSON_AddObjectToObject(loc, "physicalLocation");
  cJSON_AddStringToObject(cJSON_AddObjectToObject(phys, "artifactLocation"),
                          "uri", uri);
  if (line > 0)
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(phys, "region"),
                            "startLine", line);
  cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "locations"), loc);
  cJSON_AddItemToArray(s->results, r);
}
