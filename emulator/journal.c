/* The invocation journal: one JSON object per line in <state>/journal.jsonl,
 * appended with a single write() so concurrent writers (serve and invoke)
 * never interleave records. lk_journal_find() returns a cJSON tree the
 * caller owns. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "emu.h"
#include "lambkin/lambkin.h"

#define JOURNAL_LINE_MAX (16 * 1024 * 1024)

int lk_journal_open(const char *dir) {
  char path[4096];

  if (mkdir(dir, 0755) && errno != EEXIST)
    return -errno;
  snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
  return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* The event goes in as a JSON string (exact bytes) when it is UTF-8 text,
 * else as base64 under event_b64, so replay sends what was sent. */
int lk_journal_append(int fd, const lk_invocation_t *inv, const char *fn) {
  lk_buf_t b;
  char when[32];
  time_t now = time(NULL);
  struct tm tm;
  int err;
  ssize_t w;

  if (fd < 0)
    return 0;
  gmtime_r(&now, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  lk_buf_init(&b, JOURNAL_LINE_MAX);
  err = lk_buf_printf(
      &b, "{\"id\":\"%s\",\"time\":\"%s\",\"function\":", inv->id, when);
  err = err ? err : lk_buf_add_json_str(&b, fn, strlen(fn));
  err = err ? err
            : lk_buf_printf(&b,
                            ",\"source\":\"%s\",\"async\":%s,"
                            "\"attempt\":%d,\"trace\":\"%s\",",
                            inv->source, inv->async ? "true" : "false",
                            inv->attempt, inv->trace);
  if (err == 0 && lk_utf8_valid(inv->payload, inv->len)) {
    err = lk_buf_adds(&b, "\"event\":");
    err = err ? err : lk_buf_add_json_str(&b, inv->payload, inv->len);
  } else if (err == 0) {
    err = lk_buf_adds(&b, "\"event_b64\":\"");
    err = err ? err : lk_b64_encode(&b, inv->payload, inv->len);
    err = err ? err : lk_buf_adds(&b, "\"");
  }
  err = err ? err
            : lk_buf_printf(&b,
                            ",\"outcome\":\"%s\",\"duration_ms\":"
                            "%.2f,\"error_type\":",
                            inv->outcome, inv->duration_ms);
  if (err == 0 && inv->error_type)
    err = lk_buf_add_json_str(&b, inv->error_type, strlen(inv->error_type));
  else if (err == 0)
    err = lk_buf_adds(&b, "null");
  err = err ? err : lk_buf_adds(&b, ",\"error\":");
  if (err == 0 && inv->error_type && inv->body)
    err = lk_buf_add_json_str(&b, inv->body,
                              inv->body_len > 4096 ? 4096 : inv->body_len);
  else if (err == 0)
    err = lk_buf_adds(&b, "null");
  err = err ? err : lk_buf_adds(&b, "}\n");
  if (err == 0) {
    w = write(fd, b.data, b.len);
    if (w < 0 || (size_t)w != b.len)
      err = LK_EIO;
  }
  lk_buf_free(&b);
  return err;
}

int lk_journal_event(int fd, const cJSON *record) {
  char *s;
  size_t n;
  ssize_t w;
  int err = 0;

  if (fd < 0)
    return 0;
  s = cJSON_PrintUnformatted(record);
  if (s == NULL)
    return LK_ENOMEM;
  n = strlen(s);
  s[n] = '\n'; /* over the NUL: one write, one line */
  w = write(fd, s, n + 1);
  if (w < 0 || (size_t)w != n + 1)
    err = LK_EIO;
  free(s);
  return err;
}

cJSON *lk_journal_find(const char *dir, const char *id) {
  char path[4096];
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  cJSON *found = NULL;
  char needle[64];

  snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
  snprintf(needle, sizeof(needle), "{\"id\":\"%s\"", id);
  f = fopen(path, "r");
  if (f == NULL)
    return NULL;
  /* The last attempt with this id wins: it holds the final outcome. */
  for (n = getline(&line, &cap, f); n > 0; n = getline(&line, &cap, f)) {
    if (strncmp(line, needle, strlen(needle)) != 0)
      continue;
    cJSON_Delete(found);
    found = cJSON_ParseWithLength(line, (size_t)n);
  }
  free(line);
  fclose(f);
  return found;
}
