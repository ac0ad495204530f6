/* Files and paths: a path join that refuses to cut a path short, mkdir -p,
 * whole-file reads with a ceiling, and writes that a crash cannot leave
 * half done. Paths live in PATH_MAX arrays of the caller's. */
#ifndef LK_FS_H
#define LK_FS_H

#include <limits.h>
#include <stddef.h>

/* dir + "/" + name into out[cap]: 0, or LK_E2BIG (out is then "") when
 * the whole path does not fit. name may hold slashes of its own. */
int lk_path_join(char *out, size_t cap, const char *dir, const char *name);
/* mkdir -p: makes path and its missing parents; 0 or -1. */
int lk_mkdirs(const char *path);
/* Writes a whole file through a temporary and rename(): a crash leaves the
 * old file or the new one, never half of one. 0 or LK_EIO. */
int lk_write_file_atomic(const char *path, const void *data, size_t n);
/* Reads a whole file of at most max bytes; NULL if it cannot. The buffer
 * has a NUL after the data; the caller frees it. */
char *lk_read_file(const char *path, size_t max, size_t *len);

#endif
