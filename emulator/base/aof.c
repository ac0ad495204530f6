/* Append-only log (see aof.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "buf.h"
#include "lambkin/lambkin.h"
#include "mem.h"

#define BATCH_MAX ((size_t)1 << 30) /* a turn's records: an S3 put or more */

struct lk_aof {
  int fd;
  uint64_t size;
  lk_buf_t batch;
  int durable; /* a durable record is in the batch */
  int written; /* bytes written since the last fdatasync */
};

int lk_aof_open(const char *path, lk_aof_t **out) {
  lk_aof_t *a;
  struct stat st;
  int fd =
      open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

  *out = NULL;
  if (fd < 0)
    return -errno;
  a = lk_xcalloc(1, sizeof(*a));
  a->fd = fd;
  a->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
  lk_buf_init(&a->batch, BATCH_MAX);
  *out = a;
  return 0;
}

void lk_aof_free(lk_aof_t *a) {
  if (a == NULL)
    return;
  lk_aof_sync(a, 1);
  close(a->fd);
  lk_buf_free(&a->batch);
  free(a);
}

void lk_aof_add(lk_aof_t *a, const char *line, size_t n, int durable) {
  lk_buf_add(&a->batch, line, n);
  lk_buf_add(&a->batch, "\n", 1);
  a->durable |= durable;
}

int lk_aof_pending(const lk_aof_t *a) {
  return a && a->durable;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return LK_EIO;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int lk_aof_sync(lk_aof_t *a, int force) {
  int err = 0;

  if (a == NULL)
    return 0;
  if (lk_buf_error(&a->batch)) /* a record past the ceiling: never half */
    err = LK_EIO;
  else if (a->batch.len) {
    err = write_all(a->fd, a->batch.data, a->batch.len);
    if (err == 0) {
      a->size += a->batch.len;
      a->written = 1;
    }
  }
  if (err == 0 && a->written && (a->durable || force)) {
    if (fdatasync(a->fd) != 0)
      err = LK_EIO;
    a->written = 0;
  }
  if (a->batch.cap > 1024 * 1024)
    lk_buf_free(&a->batch); /* after a big record: do not keep its room */
  else
    lk_buf_reset(&a->batch);
  a->durable = 0;
  return err;
}

uint64_t lk_aof_size(const lk_aof_t *a) {
  return a ? a->size + a->batch.len : 0;
}

int lk_aof_replay(const char *path,
                  void (*fn)(const char *line, size_t n, void *ud), void *ud) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;

  if (f == NULL)
    return LK_ENOENT;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] != '\n')
      break; /* cut short by a crash: it never was acknowledged */
    fn(line, (size_t)n - 1, ud);
  }
  free(line);
  fclose(f);
  return 0;
}
