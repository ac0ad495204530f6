/* The reports of lambkin fuzz: a report is a cJSON object
 * {"functions": [...], "findings": [...]} the caller owns; this module
 * adds to it and writes it as the findings table, SARIF 2.1.0 (for code
 * scanning) and JUnit XML (one testcase per function and finding class). */
#ifndef LK_REPORT_H
#define LK_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* An empty report. */
cJSON *lk_report_new(void);
/* One fuzzed function's line: its engine ("in-process" or "process"),
 * execs, seconds, corpus size (-1: unknown) and findings. */
void lk_report_function(cJSON *report, const char *fn, const char *source,
                        const char *engine, long execs, int seconds, int corpus,
                        int found);
/* Where a finding points, set as its "file" and "line": a "file.c:21" of
 * a sanitizer report, a python 'File "x.py", line 7' or a node
 * "(x.js:7:3)" in its evidence; else the function's line in the
 * template. */
void lk_report_locate(cJSON *finding, const char *template_path, int fn_line);
/* The findings table, each with the command that replays it. */
void lk_report_table(const cJSON *report, const char *template_path, FILE *out);
int lk_report_sarif(const cJSON *report, const char *path);
int lk_report_junit(const cJSON *report, const char *path);

#endif
