/* lambkin-sandbox: gives a function the file system Lambda gives it, then
 * execs its runtime. In a user and mount namespace of its own (no
 * privilege needed, as bubblewrap does), it mounts the function's code
 * read-only at /var/task, its layers over /opt (an overlay, later layers
 * on top), and a private /tmp; paths lambkin still hands the function
 * that lived under /tmp stay reachable. With --read-only, every other
 * mount becomes read-only (lambkin fuzz and replay: a mutated event must
 * not overwrite the developer's files), but for --writable paths.
 *
 *   lambkin-sandbox [--task DIR] [--layer DIR]... [--keep PATH]...
 *                   [--writable PATH]... [--read-only] -- CMD [ARG]...
 *   lambkin-sandbox --probe      exit 0 when the kernel allows all this
 *
 * It runs as the same user (mapped to itself), so what the function
 * writes belongs to the developer, and the runtime keeps no capability
 * after exec. Exit 125 and a message on stderr when setting up fails.
 *
 * Built with LK_SANDBOX_LIB, the same code is liblambkin_sandbox.so:
 * lambkin_sandbox_enter(argc, argv) does all of it but the exec, in a
 * process the python fork server has just forked, and drops the
 * capabilities the exec would have dropped (all, but for root). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#define MAX_PATHS 64
#define FAIL 125

typedef struct spec {
  const char *task;
  const char *layers[MAX_PATHS];
  int n_layers;
  const char *keep[MAX_PATHS];
  int n_keep;
  const char *writable[MAX_PATHS];
  int n_writable;
  int read_only, probe;
  char **cmd;
} spec_t;

static int fail(const char *what, const char *path) {
  fprintf(stderr, "lambkin-sandbox: %s %s: %s\n", what, path ? path : "",
          strerror(errno));
  return -1;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

  if (fd >= 0)
    close(fd);
  return n == (ssize_t)strlen(text) ? 0 : fail("cannot write", path);
}

/* A user namespace where we are still ourselves, and a mount namespace
 * whose changes stay in it. */
static int enter(void) {
  char map[64];
  uid_t uid = getuid();
  gid_t gid = getgid();

  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return fail("unshare", "");
  snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
  if (write_file("/proc/self/uid_map", map) ||
      write_file("/proc/self/setgroups", "deny"))
    return -1;
  snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
  if (write_file("/proc/self/gid_map", map))
    return -1;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return fail("cannot make / private", "");
  return 0;
}

/* A mount point in the new tmpfs like the entry it stands for. */
static int make_point(int old, const char *name, const char *at) {
  struct stat st;
  char target[PATH_MAX];
  ssize_t n;

  if (fstatat(old, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return -1;
  if (S_ISLNK(st.st_mode)) {
    n = readlinkat(old, name, target, sizeof(target) - 1);
    if (n < 0)
      return -1;
    target[n] = '\0';
    return symlink(target, at) == 0 ? 1 : -1; /* no mount needed */
  }
  if (S_ISDIR(st.st_mode))
    return mkdir(at, 0755) == 0 ? 0 : -1;
  n = open(at, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (n < 0)
    return -1;
  close((int)n);
  return 0;
}

/* A tmpfs over dir that still shows every entry dir had (each bound
 * back), so something can be added to it: /var gets task, /opt layers. */
static int reopen_dir(const char *dir, int old_fd) {
  char from[PATH_MAX], at[PATH_MAX];
  struct dirent *e;
  int fd = openat(old_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  int rc = 0, made;

  if (d == NULL)
    return fail("cannot read", dir);
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    closedir(d);
    return fail("cannot mount a tmpfs on", dir);
  }
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(from, sizeof(from), "/proc/self/fd/%d/%s", old_fd, e->d_name);
    snprintf(at, sizeof(at), "%s/%s", dir, e->d_name);
    made = make_point(old_fd, e->d_name, at);
    if (made == 0 && mount(from, at, NULL, MS_BIND | MS_REC, NULL) != 0)
      rc = fail("cannot bind back", at);
  }
  closedir(d);
  return rc;
}

/* mkdir -p of path's folders, as mount points in the new tmpfs. */
static void make_dirs(const char *path) {
  char p[PATH_MAX];
  char *s;

  snprintf(p, sizeof(p), "%s", path);
  for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    mkdir(p, 0755);
    *s = '/';
  }
  mkdir(p, 0755);
}

/* A private /tmp; the kept paths under it bound back where they were. */
static int private_tmp(const spec_t *s) {
  int old = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC), i, rc = 0;
  char from[PATH_MAX];

  if (old < 0)
    return fail("cannot open", "/tmp");
  if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
            "mode=1777,size=512m") != 0)
    rc = fail("cannot mount a tmpfs on", "/tmp");
  for (i = 0; rc == 0 && i < s->n_keep; i++) {
    if (strncmp(s->keep[i], "/tmp/", 5) != 0)
      continue;
    snprintf(from, sizeof(from), "/proc/self/fd/%d/%s", old, s->keep[i] + 5);
    make_dirs(s->keep[i]);
    if (mount(from, s->keep[i], NULL, MS_BIND | MS_REC, NULL) != 0)
      rc = fail("cannot keep", s->keep[i]);
  }
  close(old);
  return rc;
}

static int task_root(const spec_t *s) {
  int old = open("/var", O_PATH | O_DIRECTORY | O_CLOEXEC), rc;

  if (old < 0)
    return fail("cannot open", "/var");
  rc = reopen_dir("/var", old);
  close(old);
  if (rc == 0 && mkdir("/var/task", 0755) != 0 && errno != EEXIST)
    rc = fail("cannot make", "/var/task");
  if (rc == 0 && mount(s->task, "/var/task", NULL, MS_BIND | MS_REC, NULL))
    rc = fail("cannot bind the code at /var/task:", s->task);
  if (rc == 0 && mount(NULL, "/var/task", NULL,
                       MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL))
    rc = fail("cannot make read-only", "/var/task");
  return rc;
}

/* path into opts at *off, with the characters overlayfs's option parser
 * splits on (',' between options, ':' between lower folders) and its
 * escape itself behind a backslash; -1 when it does not fit whole. */
static int add_escaped(char *opts, size_t cap, size_t *off, const char *path) {
  for (; *path && *off + 3 < cap; path++) {
    if (*path == ',' || *path == ':' || *path == '\\')
      opts[(*off)++] = '\\';
    opts[(*off)++] = *path;
  }
  opts[*off] = '\0';
  return *path ? -1 : 0;
}

/* The layers over /opt, read-only: the first given is on top. */
static int layers(const spec_t *s) {
  char opts[PATH_MAX * 4];
  size_t off = 0;
  int i;

  if (s->n_layers == 0)
    return 0;
  off += (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
  for (i = 0; i < s->n_layers; i++) {
    if (add_escaped(opts, sizeof(opts), &off, s->layers[i]) != 0)
      break;
    opts[off++] = ':';
  }
  if (i < s->n_layers || off >= sizeof(opts) - 5)
    return fail("too many layers for", "/opt");
  snprintf(opts + off, sizeof(opts) - off, "/opt");
  if (mount("overlay", "/opt", "overlay", MS_RDONLY | MS_NOSUID, opts) != 0)
    return fail("cannot put the layers over", "/opt");
  return 0;
}

/* The flags a remount must keep (a user namespace may not drop them). */
static unsigned long kept_flags(const char *path) {
  struct statvfs v;
  unsigned long f = 0;

  if (statvfs(path, &v) != 0)
    return 0;
  f |= v.f_flag & ST_NOSUID ? MS_NOSUID : 0;
  f |= v.f_flag & ST_NODEV ? MS_NODEV : 0;
  f |= v.f_flag & ST_NOEXEC ? MS_NOEXEC : 0;
  f |= v.f_flag & ST_NOATIME ? MS_NOATIME : 0;
  f |= v.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0;
  f |= v.f_flag & ST_RELATIME ? MS_RELATIME : 0;
  return f;
}

static int skipped(const char *mnt) {
  static const char *const keep_rw[] = {"/tmp", "/proc", "/dev", "/sys"};
  size_t i, n;

  for (i = 0; i < sizeof(keep_rw) / sizeof(keep_rw[0]); i++) {
    n = strlen(keep_rw[i]);
    if (strncmp(mnt, keep_rw[i], n) == 0 && (mnt[n] == '\0' || mnt[n] == '/'))
      return strcmp(keep_rw[i], "/tmp") != 0 || mnt[n] == '\0';
  }
  return 0;
}

/* The fifth field of a mountinfo line (id parent major:minor root
 * mount-point ...), its \ooo escapes decoded. */
static int mount_point(const char *line, char *out, size_t cap) {
  const char *p = line;
  size_t n = 0;
  int field;

  for (field = 0; field < 4; field++) {
    p = strchr(p, ' ');
    if (p == NULL)
      return -1;
    p++;
  }
  for (; *p && *p != ' ' && *p != '\n' && n + 1 < cap; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
      out[n++] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 3;
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  return n ? 0 : -1;
}

/* Every mount read-only (but /tmp itself, /proc, /dev, /sys); then the
 * writable paths bound over themselves, read-write. */
static int read_only(const spec_t *s) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096], mnt[PATH_MAX];
  int i;

  if (f == NULL)
    return fail("cannot read", "/proc/self/mountinfo");
  while (fgets(line, sizeof(line), f)) {
    if (mount_point(line, mnt, sizeof(mnt)) != 0 || skipped(mnt))
      continue;
    mount(NULL, mnt, NULL,
          MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(mnt), NULL);
  }
  fclose(f);
  for (i = 0; i < s->n_writable; i++) /* a bind copies the read-only */
    if (mount(s->writable[i], s->writable[i], NULL, MS_BIND, NULL) != 0 ||
        mount(NULL, s->writable[i], NULL,
              MS_REMOUNT | MS_BIND | kept_flags(s->writable[i]), NULL) != 0)
      return fail("cannot keep writable", s->writable[i]);
  return 0;
}

/* argv as lambkin-sandbox takes it; the command after "--" is needed
 * only when need_cmd. */
static int parse(int argc, char **argv, spec_t *s, int need_cmd) {
  int i;

  memset(s, 0, sizeof(*s));
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (strcmp(a, "--") == 0) {
      s->cmd = argv + i + 1;
      return s->cmd[0] ? 0 : -1;
    }
    if (strcmp(a, "--probe") == 0)
      s->probe = 1;
    else if (strcmp(a, "--read-only") == 0)
      s->read_only = 1;
    else if (v && strcmp(a, "--task") == 0)
      s->task = argv[++i];
    else if (v && strcmp(a, "--layer") == 0 && s->n_layers < MAX_PATHS)
      s->layers[s->n_layers++] = argv[++i];
    else if (v && strcmp(a, "--keep") == 0 && s->n_keep < MAX_PATHS)
      s->keep[s->n_keep++] = argv[++i];
    else if (v && strcmp(a, "--writable") == 0 && s->n_writable < MAX_PATHS)
      s->writable[s->n_writable++] = argv[++i];
    else
      return -1;
  }
  return s->probe || !need_cmd ? 0 : -1;
}

/* The namespaces and mounts of a function's file system, its cwd
 * /var/task when it has code there. */
static int setup(const spec_t *s) {
  if (enter() || private_tmp(s) || (s->task && task_root(s)) || layers(s) ||
      (s->read_only && read_only(s)))
    return -1;
  if (s->task && chdir("/var/task") != 0)
    return fail("cannot enter", "/var/task");
  return 0;
}

#ifdef LK_SANDBOX_LIB
/* No capability is left in the new user namespace, as an exec would
 * leave none to a user other than root: with them, the function could
 * unmount what makes the developer's files read-only. */
static int drop_caps(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];

  memset(d, 0, sizeof(d));
  return syscall(SYS_capset, &h, d) == 0 ? 0 : fail("cannot drop", "caps");
}

__attribute__((visibility("default"))) int
lambkin_sandbox_enter(int argc, char **argv);

int lambkin_sandbox_enter(int argc, char **argv) {
  spec_t s;

  if (parse(argc, argv, &s, 0) != 0 || s.probe) {
    fprintf(stderr, "lambkin-sandbox: bad arguments\n");
    return -1;
  }
  return setup(&s) == 0 && (geteuid() == 0 || drop_caps() == 0) ? 0 : -1;
}
#else
int main(int argc, char **argv) {
  spec_t s;

  if (parse(argc, argv, &s, 1) != 0) {
    fprintf(stderr, "usage: lambkin-sandbox [--task DIR] [--layer DIR]... "
                    "[--keep PATH]... [--writable PATH]... [--read-only] "
                    "-- CMD [ARG]...\n");
    return FAIL;
  }
  if (s.probe) /* what a function's start would need, in a throwaway ns */
    return enter() == 0 &&
                   mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
                         "size=1m") == 0
               ? 0
               : FAIL;
  if (setup(&s) != 0)
    return FAIL;
  execvp(s.cmd[0], s.cmd);
  fail("cannot run", s.cmd[0]);
  return 127;
}
#endif
