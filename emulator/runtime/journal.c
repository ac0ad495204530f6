/* The invocation journal (see journal.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "fs.h"
#include "journal.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define ERROR_KEPT 4096

struct lk_journal {
  int fd;
  lk_buf_t batch; /* lines of this loop turn */
  lk_buf_t line;  /* one line that did not fit the batch's room */
};

int lk_journal_open(const char *dir, lk_journal_t **out) {
  char path[PATH_MAX];
  int fd;

  *out = NULL;
  if (lk_path_join(path, sizeof(path), dir, "journal.jsonl"))
    return LK_E2BIG;
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  *out = lk_xcalloc(1, sizeof(**out));
  (*out)->fd = fd;
  lk_buf_init(&(*out)->batch, LK_JOURNAL_BATCH_MAX);
  lk_buf_init(&(*out)->line, LK_JOURNAL_BATCH_MAX);
  return 0;
}

void lk_journal_free(lk_journal_t *j) {
  if (j == NULL)
    return;
  lk_journal_flush(j);
  if (j->fd >= 0)
    close(j->fd);
  lk_buf_free(&j->batch);
  lk_buf_free(&j->line);
  free(j);
}

static void add_str(lk_buf_t *b, const char *s) {
  lk_buf_add_json_str(b, s, strlen(s));
}

/* The event goes in as a JSON string (exact bytes) when it is UTF-8 text,
 * else as base64 under event_b64, so replay sends what was sent. */
static void format(lk_buf_t *b, const lk_journal_inv_t *inv) {
  char when[32];
  time_t now = time(NULL);
  struct tm tm;

  gmtime_r(&now, &tm);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  /* Every string is escaped, even ours: the trace comes from outside. */
  lk_buf_adds(b, "{\"id\":");
  add_str(b, inv->id);
  lk_buf_adds(b, ",\"time\":\"");
  lk_buf_adds(b, when);
  lk_buf_adds(b, "\",\"function\":");
  add_str(b, inv->function);
  lk_buf_adds(b, ",\"source\":");
  add_str(b, inv->source);
  lk_buf_adds(b, ",\"async\":");
  lk_buf_adds(b, inv->async ? "true" : "false");
  lk_buf_printf(b, ",\"attempt\":%d,\"trace\":", inv->attempt);
  add_str(b, inv->trace);
  if (lk_utf8_valid(inv->event, inv->event_len)) {
    lk_buf_adds(b, ",\"event\":");
    lk_buf_add_json_str(b, inv->event, inv->event_len);
  } else {
    lk_buf_adds(b, ",\"event_b64\":\"");
    lk_b64_encode(b, inv->event, inv->event_len);
    lk_buf_adds(b, "\"");
  }
  lk_buf_adds(b, ",\"outcome\":");
  add_str(b, inv->outcome);
  lk_buf_printf(b, ",\"duration_ms\":%.2f,\"error_type\":", inv->duration_ms);
  if (inv->error_type)
    lk_buf_add_json_str(b, inv->error_type, strlen(inv->error_type));
  else
    lk_buf_adds(b, "null");
  lk_buf_adds(b, ",\"error\":");
  if (inv->error_type && inv->error)
    lk_buf_add_json_str(b, inv->error,
                        inv->error_len > ERROR_KEPT ? ERROR_KEPT
                                                    : inv->error_len);
  else
    lk_buf_adds(b, "null");
  lk_buf_adds(b, "}\n");
}

/* The most a line can take: every byte of the event escaped as \u00XX. */
static size_t worst_case(const lk_journal_inv_t *inv) {
  return 6 * (inv->event_len + ERROR_KEPT + strlen(inv->function) +
              strlen(inv->trace) + strlen(inv->source) + strlen(inv->id) +
              strlen(inv->outcome)) +
         1024;
}

int lk_journal_add(lk_journal_t *j, const lk_journal_inv_t *inv) {
  if (j == NULL || j->fd < 0)
    return 0;
  /* The usual case: room for any line this could be, so it is written
   * straight into the batch. */
  if (worst_case(inv) <= lk_buf_room(&j->batch)) {
    format(&j->batch, inv);
    return 0;
  }
  lk_buf_reset(&j->line);
  format(&j->line, inv);
  if (lk_buf_error(&j->line))
    return lk_buf_error(&j->line); /* too big even alone: left out */
  if (j->line.len > lk_buf_room(&j->batch))
    lk_journal_flush(j);
  lk_buf_add(&j->batch, j->line.data, j->line.len);
  if (j->line.cap > 1024 * 1024)
    lk_buf_free(&j->line); /* after a big event: do not keep its room */
  return 0;
}

int lk_journal_flush(lk_journal_t *j) {
  ssize_t w;
  int err = 0;

  if (j == NULL)
    return 0;
  if (j->fd >= 0 && j->batch.len) {
    w = write(j->fd, j->batch.data, j->batch.len);
    if (w < 0 || (size_t)w != j->batch.len)
      err = LK_EIO;
  }
  if (j->batch.cap > 1024 * 1024)
    lk_buf_free(&j->batch); /* after a big event: do not keep its room */
  else
    lk_buf_reset(&j->batch);
  return err;
}

int lk_journal_event(lk_journal_t *j, const cJSON *record) {
  char *s;
  size_t n;
  ssize_t w;

  if (j == NULL || j->fd < 0)
    return 0;
  s = cJSON_PrintUnformatted(record);
  n = strlen(s);
  s[n] = '\n'; /* over the NUL: one write, one line */
  w = write(j->fd, s, n + 1);
  free(s);
  return w < 0 || (size_t)w != n + 1 ? LK_EIO : 0;
}

cJSON *lk_journal_find(const char *dir, const char *id) {
  char path[PATH_MAX], needle[64];
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  cJSON *found = NULL;
  FILE *f;

  if (lk_path_join(path, sizeof(path), dir, "journal.jsonl") != 0)
    return NULL;
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
