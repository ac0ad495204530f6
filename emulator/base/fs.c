/* Files and paths (see fs.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "lambkin/lambkin.h"
#include "mem.h"

int lk_path_join(char *out, size_t cap, const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  int slash = dl > 0 && dir[dl - 1] != '/';

  if (cap == 0)
    return LK_E2BIG;
  if (dl + (size_t)slash + nl + 1 > cap) {
    out[0] = '\0';
    return LK_E2BIG;
  }
  memmove(out, dir, dl); /* out may be dir itself */
  if (slash)
    out[dl++] = '/';
  memcpy(out + dl, name, nl + 1);
  return 0;
}

int lk_mkdirs(const char *path) {
  char tmp[PATH_MAX], *p;

  /* With a slash at its end, every level is made in the loop. */
  if (path[0] == '\0' || lk_path_join(tmp, sizeof(tmp), path, "") != 0)
    return -1;
  for (p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0700) && errno != EEXIST)
        return -1;
      *p = '/';
    }
  return 0;
}

int lk_private_dir(const char *path, char *why, size_t cap) {
  struct stat st;

  if (lk_mkdirs(path) || stat(path, &st) != 0) {
    snprintf(why, cap, "%s: cannot create it: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, cap, "%s is not a directory", path);
    return -1;
  }
  if (st.st_uid != geteuid()) {
    snprintf(why, cap, "%s belongs to uid %u, not to this user", path,
             (unsigned)st.st_uid);
    return -1;
  }
  if ((st.st_mode & 077) && chmod(path, 0700) != 0) {
    snprintf(why, cap, "%s: cannot make it private: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

int lk_write_file_atomic(const char *path, const void *data, size_t n) {
  char tmp[PATH_MAX];
  const char *p = data;
  int fd, err = 0;

  /* A fresh name of its own (O_EXCL, 0600): nothing planted at a known
   * name can catch the write. */
  if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
    return LK_E2BIG;
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return LK_EIO;
  while (n && err == 0) {
    ssize_t w = write(fd, p, n);

    if (w <= 0) {
      err = LK_EIO;
    } else {
      p += w;
      n -= (size_t)w;
    }
  }
  if (fsync(fd) != 0 && err == 0)
    err = LK_EIO;
  close(fd);
  if (err == 0 && rename(tmp, path) != 0)
    err = LK_EIO;
  if (err)
    unlink(tmp);
  return err;
}

char *lk_read_file(const char *path, size_t max, size_t *len) {
  /* O_NONBLOCK: a FIFO planted in place of a file must not hang us */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  char *buf = NULL;
  size_t got = 0;

  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max)
    buf = lk_xmalloc((size_t)st.st_size + 1);
  while (buf && got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

    if (r <= 0) {
      free(buf);
      buf = NULL;
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  if (buf) {
    buf[got] = '\0';
    *len = got;
  }
  return buf;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int lk_remove_tree(const char *path) {
  return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
