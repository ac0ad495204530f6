/* The invocation journal: one JSON object per line in <state>/journal.jsonl,
 * appended with single write()s of whole lines so concurrent writers
 * (serve and invoke) never interleave records. lk_journal_line() formats
 * into the caller's buffer, lk_journal_write() appends a buffer of lines.
 * lk_journal_find() returns a cJSON tree the caller owns. */
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

int lk_journal_open(const char *dir) {
  char path[4096];

  if (mkdir(dir, 0755) && errno != EEXIST)
    return -errno;
  snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
  return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* The event goes in as a JSON string (exact bytes) when it is UTF-8 text,
 * else as base64 under event_b64, so replay sends what was sent. A line
 * that does not fit is left out whole: out is as it was. */
int lk_journal_line(lk_buf_t *out, const lk_invocation_t *inv, const char *fn) {
  lk_buf_t *b = out;
  size_t start = out->len;
  char when[32], ms[32];
  time_t now = time(NULL);
  struct tm tm;
  int err;

  gmtime_r(&now, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  snprintf(ms, sizeof(ms), "%.2f", inv->duration_ms);
  err = lk_buf_adds(b, "{\"id\":\"");
  err = err ? err : lk_buf_adds(b, inv->id);
  err = err ? err : lk_buf_adds(b, "\",\"time\":\"");
  err = err ? err : lk_buf_adds(b, when);
  err = err ? err : lk_buf_adds(b, "\",\"function\":");
  err = err ? err : lk_buf_add_json_str(b, fn, strlen(fn));
  err = err ? err : lk_buf_adds(b, ",\"source\":\"");
  err = err ? err : lk_buf_adds(b, inv->source);
  err = err ? err : lk_buf_adds(b, "\",\"async\":");
  err = err ? err : lk_buf_adds(b, inv->async ? "true" : "false");
  err = err ? err : lk_buf_printf(b, ",\"attempt\":%d", inv->attempt);
  err = err ? err : lk_buf_adds(b, ",\"trace\":\"");
  err = err ? err : lk_buf_adds(b, inv->trace);
  err = err ? err : lk_buf_adds(b, "\",");
  if (err == 0 && lk_utf8_valid(inv->payload, inv->len)) {
    err = lk_buf_adds(b, "\"event\":");
    err = err ? err : lk_buf_add_json_str(b, inv->payload, inv->len);
  } else if (err == 0) {
    err = lk_buf_adds(b, "\"event_b64\":\"");
    err = err ? err : lk_b64_encode(b, inv->payload, inv->len);
    err = err ? err : lk_buf_adds(b, "\"");
  }
  err = err ? err : lk_buf_adds(b, ",\"outcome\":\"");
  err = err ? err : lk_buf_adds(b, inv->outcome);
  err = err ? err : lk_buf_adds(b, "\",\"duration_ms\":");
  err = err ? err : lk_buf_adds(b, ms);
  err = err ? err : lk_buf_adds(b, ",\"error_type\":");
  if (err == 0 && inv->error_type)
    err = lk_buf_add_json_str(b, inv->error_type, strlen(inv->error_type));
  else if (err == 0)
    err = lk_buf_adds(b, "null");
  err = err ? err : lk_buf_adds(b, ",\"error\":");
  if (err == 0 && inv->error_type && inv->body)
    err = lk_buf_add_json_str(b, inv->body,
                              inv->body_len > 4096 ? 4096 : inv->body_len);
  else if (err == 0)
    err = lk_buf_adds(b, "null");
  err = err ? err : lk_buf_adds(b, "}\n");
  if (err) {
    out->len = start;
    if (out->data)
      out->data[start] = '\0';
  }
  return err;
}

int lk_journal_write(int fd, lk_buf_t *lines) {
  ssize_t w;
  int err = 0;

  if (fd >= 0 && lines->len) {
    w = write(fd, lines->data, lines->len);
    if (w < 0 || (size_t)w != lines->len)
      err = LK_EIO;
  }
  if (lines->cap > 1024 * 1024)
    lk_buf_free(lines); /* after a big event: do not keep its room */
  else
    lk_buf_reset(lines);
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
