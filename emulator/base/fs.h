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
/* mkdir -p: makes path and its missing parents (0700); 0 or -1. */
int lk_mkdirs(const char *path);
/* Makes path as lk_mkdirs does and checks it is a directory of this user's
 * that no one else can read (an existing one is made so); 0, or -1 and
 * the reason in why. */
int lk_private_dir(const char *path, char *why, size_t cap);
/* Writes a whole file (0600) through a fresh temporary and rename(): a
 * crash leaves the old file or the new one, never half of one. 0 or
 * LK_EIO. */
int lk_write_file_atomic(const char *path, const void *data, size_t n);
/* rm -r: removes path and all below it, never following a symlink;
 * 0 or -1. */
int lk_remove_tree(const char *path);
/* Reads a whole regular file of at most max bytes, not through a
 * symlink; NULL if it cannot. The buffer
 * has a NUL after the data; the caller frees it. */
char *lk_read_file(const char *path, size_t max, size_t *len);

#endif
