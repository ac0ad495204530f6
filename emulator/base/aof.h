/* An append-only log of lines (redis's AOF): records are gathered in a
 * batch and written together; lk_aof_sync writes the batch and, when a
 * durable record is in it, fdatasync()s, so a caller that answers only
 * after the sync has its write on disk (group commit: one sync serves all
 * the records of a loop turn). Replay reads whole lines only: a line a
 * crash cut short is dropped. */
#ifndef LK_AOF_H
#define LK_AOF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lk_aof lk_aof_t;

/* Opens path for appending (0600, never through a symlink); 0 or the
 * negative errno. */
int lk_aof_open(const char *path, lk_aof_t **out);
/* Writes and syncs what it holds, then closes. */
void lk_aof_free(lk_aof_t *a);
/* Adds one record (no newline in it) to the batch. A durable one must be
 * on disk before anyone is told it happened. */
void lk_aof_add(lk_aof_t *a, const char *line, size_t n, int durable);
/* 1 while a durable record waits for lk_aof_sync. */
int lk_aof_pending(const lk_aof_t *a);
/* Writes the batch; fdatasync()s when a durable record was in it, or
 * when force. 0 or LK_EIO. */
int lk_aof_sync(lk_aof_t *a, int force);
/* Bytes in the file so far. */
uint64_t lk_aof_size(const lk_aof_t *a);
/* Calls fn with each whole line of the file at path; 0, or LK_ENOENT. */
int lk_aof_replay(const char *path,
                  void (*fn)(const char *line, size_t n, void *ud), void *ud);

#endif
