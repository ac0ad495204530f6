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
  off_t size;          /* of the file fd writes */
  char path[PATH_MAX]; /* <dir>/journal.jsonl */
  char old[PATH_MAX];  /* <dir>/journal.1.jsonl */
  lk_buf_t batch;      /* lines of this loop turn */
  lk_buf_t line;       /* one line that did not fit the batch's room */
  void (*on_rotate)(void *ud);
  void *rotate_ud;
};

static int open_file(lk_journal_t *j) {
  struct stat st;

  j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
               0600);
  if (j->fd < 0)
    return -errno;
  j->size = fstat(j->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

int lk_journal_open(const char *dir, lk_journal_t **out) {
  lk_journal_t *j = lk_xcalloc(1, sizeof(*j));
  int rc = LK_E2BIG;

  *out = NULL;
  if (lk_path_join(j->path, sizeof(j->path), dir, "journal.jsonl") == 0 &&
      lk_path_join(j->old, sizeof(j->old), dir, "journal.1.jsonl") == 0)
    rc = open_file(j);
  if (rc) {
    free(j);
    return rc;
  }
  lk_buf_init(&j->batch, LK_JOURNAL_BATCH_MAX);
  lk_buf_init(&j->line, LK_JOURNAL_BATCH_MAX);
  *out = j;
  return 0;
}

void lk_journal_on_rotate(lk_journal_t *j, void (*fn)(void *ud), void *ud) {
  if (j == NULL)
    return;
  j->on_rotate = fn;
  j->rotate_ud = ud;
}

/* Past LK_JOURNAL_MAX, journal.jsonl becomes journal.1.jsonl (the one
 * before goes) and a new one starts, where the hook writes again what
 * must outlive a rotation (observed access). */
static void rotate(lk_journal_t *j) {
  close(j->fd);
  j->fd = -1;
  if (rename(j->path, j->old) != 0 || open_file(j) != 0) {
    fprintf(stderr, "lambkin: cannot rotate the journal %s\n", j->path);
    if (j->fd < 0)
      open_file(j); /* keep writing where it can */
    return;
  }
  if (j->on_rotate)
    j->on_rotate(j->rotate_ud);
}

/* One write of n bytes; the file rotates once it has passed its cap. */
static int write_out(lk_journal_t *j, const char *data, size_t n) {
  ssize_t w;

  if (j->fd < 0)
    return LK_EIO;
  w = write(j->fd, data, n);
  if (w > 0)
    j->size += w;
  if (j->size > LK_JOURNAL_MAX)
    rotate(j);
  return w < 0 || (size_t)w != n ? LK_EIO : 0;
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
  int err = 0;

  if (j == NULL)
    return 0;
  if (j->batch.len)
    err = write_out(j, j->batch.data, j->batch.len);
  if (j->batch.cap > 1024 * 1024)
    lk_buf_free(&j->batch); /* after a big event: do not keep its room */
  else
    lk_buf_reset(&j->batch);
  return err;
}

int lk_journal_event(lk_journal_t *j, const cJSON *record) {
  char *s;
  size_t n;
  int err;

  if (j == NULL || j->fd < 0)
    return 0;
  s = cJSON_PrintUnformatted(record);
  n = strlen(s);
  s[n] = '\n'; /* over the NUL: one write, one line */
  err = write_out(j, s, n + 1);
  free(s);
  return err;
}

int lk_journal_each(const char *dir, const char *needle,
                    void (*fn)(const char *line, size_t len, void *ud),
                    void *ud) {
  static const char *const files[] = {"journal.1.jsonl", "journal.jsonl"};
  char path[PATH_MAX], *line = NULL;
  size_t cap = 0, i;
  ssize_t n;
  int any = 0;
  FILE *f;

  for (i = 0; i < 2; i++) {
    if (lk_path_join(path, sizeof(path), dir, files[i]) != 0 ||
        (f = fopen(path, "r")) == NULL)
      continue;
    any = 1;
    for (n = getline(&line, &cap, f); n > 0; n = getline(&line, &cap, f))
      if (strstr(line, needle))
        fn(line, (size_t)n, ud);
    fclose(f);
  }
  free(line);
  return any ? 0 : LK_ENOENT;
}

static void keep_last(const char *line, size_t len, void *ud) {
  cJSON **found = ud;
  cJSON *j = cJSON_ParseWithLength(line, len);

  if (j == NULL)
    return;
  cJSON_Delete(*found);
  *found = j;
}

cJSON *lk_journal_find(const char *dir, const char *id) {
  char needle[64];
  cJSON *found = NULL;

  snprintf(needle, sizeof(needle), "{\"id\":\"%s\"", id);
  /* The last attempt with this id wins: it holds the final outcome. */
  lk_journal_each(dir, needle, keep_last, &found);
  return found;
}
