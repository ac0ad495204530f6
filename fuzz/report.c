/* The reports of lambkin fuzz (see report.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "fs.h"
#include "json.h"
#include "lambkin/lambkin.h"
#include "report.h"
#include "sarif.h"

/* The finding classes, in the order reports list them, with the SARIF
 * rule text and level. */
static const struct {
  const char *cls, *level, *text;
} classes[] = {
    {"crash", "error",
     "The function crashed, or a sanitizer reported, on an "
     "event"},
    {"leak", "warning", "The function leaked memory on an event"},
    {"command-injection", "error",
     "Event data reached a shell: the tripwire command ran"},
    {"code-injection", "error",
     "Event data reached an evaluator (eval, exec, Function, vm): the "
     "canary function ran"},
    {"deserialization", "error",
     "Event data reached an unsafe deserializer (pickle, a function "
     "reviver): the canary function ran"},
    {"sql-injection", "error",
     "Event data changed the token structure of a SQL statement"},
    {"nosql-injection", "error",
     "Event data became part of a DynamoDB expression"},
    {"path-traversal", "error",
     "Event data made the function open a file outside its task root and "
     "/tmp"},
    {"log-injection", "warning",
     "Event data forged a log record: a newline reached the log unescaped"},
    {"header-injection", "error",
     "Event data put CR/LF or a new header into an HTTP response"},
    {"ssrf", "error", "Event data chose the host the function connects to"},
    {"prototype-pollution", "error",
     "Event data set a property of Object.prototype"},
    {"secret-leak", "error",
     "The function's own secret key or session token reached its response or "
     "its log"},
    {"self-invocation", "error",
     "The function triggers itself, directly or through S3, SQS, SNS, "
     "EventBridge, Logs, a DynamoDB stream or Kinesis"},
    {"timeout", "warning", "The function ran past its timeout on an event"},
    {"unhandled-error", "note",
     "The function failed with an unhandled error on an event"},
};
#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

cJSON *lk_report_new(void) {
  cJSON *report = cJSON_CreateObject();

  cJSON_AddArrayToObject(report, "functions");
  cJSON_AddArrayToObject(report, "findings");
  return report;
}

void lk_report_function(cJSON *report, const char *fn, const char *source,
                        const char *engine, long execs, int seconds, int corpus,
                        int found) {
  cJSON *fj = cJSON_CreateObject();

  cJSON_AddStringToObject(fj, "function", fn);
  cJSON_AddStringToObject(fj, "source", source);
  cJSON_AddStringToObject(fj, "engine", engine);
  cJSON_AddNumberToObject(fj, "execs", (double)execs);
  cJSON_AddNumberToObject(fj, "seconds", seconds);
  if (corpus >= 0)
    cJSON_AddNumberToObject(fj, "corpus", corpus);
  cJSON_AddNumberToObject(fj, "findings", found);
  cJSON_AddItemToArray(cJSON_GetObjectItem(report, "functions"), fj);
}

/* A "name.c:21"-like place in the evidence: 1 and its file and line. */
static int source_line(const char *ev, char *file, size_t cap, int *line) {
  static const char *const exts[] = {".c:", ".js:", ".mjs:", ".cc:"};
  const char *p, *start;
  size_t k, el;

  for (p = strchr(ev, '.'); p; p = strchr(p + 1, '.'))
    for (k = 0; k < sizeof(exts) / sizeof(exts[0]); k++) {
      el = strlen(exts[k]);
      if (strncmp(p, exts[k], el) != 0 || p[el] < '0' || p[el] > '9')
        continue;
      for (start = p; start > ev && !strchr(" (\t\n", start[-1]); start--)
        ;
      snprintf(file, cap, "%.*s", (int)(p + el - 1 - start), start);
      *line = (int)strtol(p + el, NULL, 10);
      return 1;
    }
  return 0;
}

void lk_report_locate(cJSON *finding, const char *template_path, int fn_line) {
  const char *ev = lk_json_str(finding, "evidence");
  const char *p = ev ? strstr(ev, "File \"") : NULL;
  const char *q = p ? strstr(p, "\", line ") : NULL;
  char file[PATH_MAX];
  int line = 0;

  if (q) { /* python */
    snprintf(file, sizeof(file), "%.*s", (int)(q - p - 6), p + 6);
    line = (int)strtol(q + 8, NULL, 10);
  } else if (!(ev && source_line(ev, file, sizeof(file), &line))) {
    snprintf(file, sizeof(file), "%s", template_path);
    line = fn_line;
  }
  cJSON_AddStringToObject(finding, "file", file);
  cJSON_AddNumberToObject(finding, "line", line);
}

void lk_report_table(const cJSON *report, const char *template_path,
                     FILE *out) {
  const cJSON *findings = cJSON_GetObjectItem(report, "findings"), *f;
  const char *ev;
  char shown[90];
  size_t k;

  fprintf(out, "\nfindings: %d\n", cJSON_GetArraySize(findings));
  if (cJSON_GetArraySize(findings))
    fprintf(out, "  %-19s %-22s %-9s %s\n", "CLASS", "FUNCTION", "SOURCE",
            "EVIDENCE");
  cJSON_ArrayForEach(f, findings) {
    ev = lk_json_str(f, "evidence");
    snprintf(shown, sizeof(shown), "%s", ev ? ev : "");
    for (k = 0; shown[k]; k++) /* one row per finding */
      if ((unsigned char)shown[k] < 0x20)
        shown[k] = ' ';
    fprintf(out,
            "  %-19s %-22s %-9s %s\n  %-19s replay: lambkin replay -t %s %s\n",
            lk_json_str(f, "class"), lk_json_str(f, "function"),
            lk_json_str(f, "source"), shown, "", template_path,
            lk_json_str(f, "reproducer"));
  }
}

static const char *level_of(const char *cls) {
  size_t k;

  for (k = 0; k < N_CLASSES; k++)
    if (strcmp(classes[k].cls, cls) == 0)
      return classes[k].level;
  return "error";
}

int lk_report_sarif(const cJSON *report, const char *path) {
  lk_sarif_t sarif;
  const cJSON *f;
  const char *cls;
  char msg[1400];
  double line;
  size_t k;
  int err;

  lk_sarif_init(&sarif);
  for (k = 0; k < N_CLASSES; k++)
    lk_sarif_rule(&sarif, classes[k].cls, classes[k].text, classes[k].level);
  cJSON_ArrayForEach(f, cJSON_GetObjectItem(report, "findings")) {
    cls = lk_json_str(f, "class");
    line = cJSON_GetNumberValue(cJSON_GetObjectItem(f, "line"));
    snprintf(msg, sizeof(msg), "%s in %s on a %s event: %.900s (reproducer %s)",
             cls, lk_json_str(f, "function"), lk_json_str(f, "source"),
             lk_json_str(f, "evidence"), lk_json_str(f, "reproducer"));
    lk_sarif_result(&sarif, cls, level_of(cls), msg, lk_json_str(f, "file"),
                    line > 0 ? (int)line : 0, lk_json_str(f, "key"));
  }
  err = lk_save_json(path, sarif.doc);
  cJSON_Delete(sarif.doc);
  return err;
}

/* The <failure>s of one function and class. */
static void junit_failures(lk_buf_t *b, const cJSON *report, const char *fn,
                           const char *cls) {
  const cJSON *f;
  const char *ev, *rep;

  cJSON_ArrayForEach(f, cJSON_GetObjectItem(report, "findings")) {
    if (strcmp(lk_json_str(f, "function"), fn) != 0 ||
        strcmp(lk_json_str(f, "class"), cls) != 0)
      continue;
    ev = lk_json_str(f, "evidence") ? lk_json_str(f, "evidence") : "";
    rep = lk_json_str(f, "reproducer") ? lk_json_str(f, "reproducer") : "";
    lk_buf_printf(b, "<failure type=\"%s\" message=\"", cls);
    lk_xml_escape(b, ev, strlen(ev) < 300 ? strlen(ev) : 300);
    lk_buf_adds(b, "\">reproducer: ");
    lk_xml_escape(b, rep, strlen(rep));
    lk_buf_adds(b, "</failure>");
  }
}

/* One testcase per function and class: a clean run is all passes. */
int lk_report_junit(const cJSON *report, const char *path) {
  const cJSON *fns = cJSON_GetObjectItem(report, "functions"), *fn;
  const char *name;
  lk_buf_t b;
  size_t k;
  int err;

  lk_buf_init(&b, 16 << 20);
  lk_buf_printf(&b,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>"
                "<testsuite name=\"lambkin fuzz\" tests=\"%d\" "
                "failures=\"%d\">\n",
                cJSON_GetArraySize(fns) * (int)N_CLASSES,
                cJSON_GetArraySize(cJSON_GetObjectItem(report, "findings")));
  cJSON_ArrayForEach(fn, fns) {
    name = lk_json_str(fn, "function");
    for (k = 0; k < N_CLASSES; k++) {
      lk_buf_adds(&b, "<testcase classname=\"lambkin.fuzz.");
      lk_xml_escape(&b, name, strlen(name));
      lk_buf_printf(
          &b, "\" name=\"%s\" time=\"%d\">", classes[k].cls,
          (int)cJSON_GetNumberValue(cJSON_GetObjectItem(fn, "seconds")));
      junit_failures(&b, report, name, classes[k].cls);
      lk_buf_adds(&b, "</testcase>\n");
    }
  }
  lk_buf_adds(&b, "</testsuite></testsuites>\n");
  err = lk_buf_error(&b);
  if (err == 0)
    err = lk_write_file_atomic(path, b.data, b.len);
  lk_buf_free(&b);
  return err;
}
