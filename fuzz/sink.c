/* The sink library, liblambkin_sink.so: preloaded into a function's
 * runtime processes while `lambkin fuzz` or `lambkin replay` runs them. It
 * watches the calls event data must not reach (exec, open, DNS, connect,
 * SQLite)
 * and, when one carries a lambkin canary, appends a line
 * "kind\tdetail\tdetail2\tpid\tppid\n" to the report file (the pids tell
 * the oracles which process made the call). The emulator reads that
 * file after each invocation (fuzz/oracle.c decides). The runtime process
 * writes over the fd the emulator opened and passed down
 * (LAMBKIN_SINK_FD); a child that lost it (Python's subprocess closes
 * inherited fds before the shell or the tripwire runs) opens the file by
 * the name the environment still carries (LAMBKIN_SINK_LOG). The fd is
 * used only while it is still that file (LAMBKIN_SINK_ID, "dev:ino"): a
 * child may have reused the number. Only canary-carrying calls are
 * written, so an ordinary function pays a strstr per watched call. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CANARY "lambkin-canary"
#define SQL_CANARY "lambkin"
#define REPORT_MAX 8192

#define EXPORT __attribute__((visibility("default")))

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* SQLite's own prototypes, so the build needs no sqlite3.h. */
int sqlite3_prepare(sqlite3 *, const char *, int, sqlite3_stmt **,
                    const char **);
int sqlite3_prepare_v2(sqlite3 *, const char *, int, sqlite3_stmt **,
                       const char **);
int sqlite3_prepare_v3(sqlite3 *, const char *, int, unsigned, sqlite3_stmt **,
                       const char **);
int sqlite3_exec(sqlite3 *, const char *,
                 int (*)(void *, int, char **, char **), void *, char **);

/* Appends s escaped: tabs, newlines and control bytes become \t, \n,
 * \xNN, so one report stays one line. */
static size_t put(char *out, size_t o, size_t cap, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;

  for (i = 0; s && i < n && s[i] && o + 5 < cap; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
      out[o++] = '\\';
      out[o++] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
    } else if (c < 0x20) {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    } else {
      out[o++] = (char)c;
    }
  }
  return o;
}

/* Appends "\t" and the decimal pid (no printf: it may run between fork
 * and exec). The caller leaves room for it. */
static size_t put_pid(char *out, size_t o, pid_t pid) {
  char digits[16];
  int n = 0;
  unsigned long v = pid > 0 ? (unsigned long)pid : 0;

  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v && n < (int)sizeof(digits));
  out[o++] = '\t';
  while (n)
    out[o++] = digits[--n];
  return o;
}

/* The inherited report fd, if it is still the report file; else -1. */
static int inherited_fd(void) {
  const char *fds = getenv("LAMBKIN_SINK_FD"), *id = getenv("LAMBKIN_SINK_ID");
  unsigned long long dev = 0, ino = 0;
  struct stat st;
  int fd = 0;

  if (fds == NULL || id == NULL || fds[0] == '\0')
    return -1;
  for (; *fds >= '0' && *fds <= '9' && fd < 4096; fds++)
    fd = fd * 10 + (*fds - '0');
  for (; *id >= '0' && *id <= '9'; id++)
    dev = dev * 10 + (unsigned long long)(*id - '0');
  if (*id++ != ':')
    return -1;
  for (; *id >= '0' && *id <= '9'; id++)
    ino = ino * 10 + (unsigned long long)(*id - '0');
  if (*fds != '\0' || fstat(fd, &st) != 0 ||
      (unsigned long long)st.st_dev != dev ||
      (unsigned long long)st.st_ino != ino)
    return -1;
  return fd;
}

/* One report line, written with a single write(2) to an O_APPEND file so
 * the lines of a shell and of its parent do not interleave. Only getenv,
 * fstat, open, write and close: it may run between fork and exec. */
static void emit(const char *kind, const char *a, size_t alen, const char *b) {
  const char *path = getenv("LAMBKIN_SINK_LOG");
  static int (*open_fn)(const char *, int, ...);
  char line[REPORT_MAX];
  size_t o;
  int fd, saved = errno, own = 0;

  fd = inherited_fd();
  if (fd < 0 && (path == NULL || path[0] == '\0'))
    return;
  o = put(line, 0, sizeof(line) - 48, kind, strlen(kind));
  line[o++] = '\t';
  o = put(line, o, sizeof(line) - 48, a, alen);
  line[o++] = '\t';
  o = put(line, o, sizeof(line) - 48, b, b ? strlen(b) : 0);
  o = put_pid(line, o, getpid());
  o = put_pid(line, o, getppid());
  line[o++] = '\n';
  /* libc's open, not the watched one below: no report of the report. */
  if (fd < 0 && open_fn == NULL)
    open_fn = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
  if (fd < 0 && open_fn) {
    fd = open_fn(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    own = 1;
  }
  if (fd >= 0) {
    ssize_t w = write(fd, line, o);

    (void)w;
    if (own)
      close(fd);
  }
  errno = saved;
}

/* The function this library wraps. Each wrapper keeps it in a static,
 * looked up on first use: a dlsym on every open() would cost python and
 * node a hash lookup per file. Two threads racing there store the same
 * pointer. */
static void *real(const char *name) {
  return dlsym(RTLD_NEXT, name);
}

/* ---- exec: argv joined by spaces, when any word carries the canary ---- */

static void watch_exec(const char *file, char *const argv[]) {
  char joined[REPORT_MAX];
  size_t o = 0;
  int i, hit = file && strstr(file, CANARY) != NULL;

  for (i = 0; argv && argv[i] && !hit; i++)
    hit = strstr(argv[i], CANARY) != NULL;
  if (!hit)
    return;
  for (i = 0; argv && argv[i] && o + 2 < sizeof(joined); i++) {
    size_t l = strlen(argv[i]);

    if (l > sizeof(joined) - o - 2)
      l = sizeof(joined) - o - 2;
    if (i)
      joined[o++] = ' ';
    memcpy(joined + o, argv[i], l);
    o += l;
  }
  if (o == 0 && file) {
    o = strlen(file) < sizeof(joined) ? strlen(file) : sizeof(joined) - 1;
    memcpy(joined, file, o);
  }
  emit("exec", joined, o, file);
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  static int (*f)(const char *, char *const[], char *const[]);

  if (f == NULL)
    f = real("execve");
  watch_exec(path, argv);
  return f(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[]) {
  static int (*f)(const char *, char *const[]);

  if (f == NULL)
    f = real("execv");
  watch_exec(path, argv);
  return f(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[]) {
  static int (*f)(const char *, char *const[]);

  if (f == NULL)
    f = real("execvp");
  watch_exec(file, argv);
  return f(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  static int (*f)(const char *, char *const[], char *const[]);

  if (f == NULL)
    f = real("execvpe");
  watch_exec(file, argv);
  return f(file, argv, envp);
}

/* system() and popen() run /bin/sh through glibc's own posix_spawn, which
 * no preload sees: watch the command here. */
EXPORT int system(const char *cmd) {
  static int (*f)(const char *);
  char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

  if (f == NULL)
    f = real("system");
  if (cmd)
    watch_exec("/bin/sh", argv);
  return f(cmd);
}

EXPORT FILE *popen(const char *cmd, const char *mode) {
  static FILE *(*f)(const char *, const char *);
  char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

  if (f == NULL)
    f = real("popen");
  if (cmd)
    watch_exec("/bin/sh", argv);
  return f(cmd, mode);
}

/* ---- files: the path as given, and the directory it is relative to ---- */

static void watch_open(const char *path) {
  char cwd[4096];

  if (path == NULL || strstr(path, CANARY) == NULL)
    return;
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    cwd[0] = '\0';
  emit("open", path, strlen(path), cwd);
}

/* open's third argument, which exists only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, mode)                                                 \
  do {                                                                         \
    if (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE) {               \
      va_list ap;                                                              \
      va_start(ap, flags);                                                     \
      (mode) = (mode_t)va_arg(ap, int);                                        \
      va_end(ap);                                                              \
    }                                                                          \
  } while (0)

#define OPEN_LIKE(name)                                                        \
  EXPORT int name(const char *path, int flags, ...) {                          \
    static int (*f)(const char *, int, ...);                                   \
    mode_t mode = 0;                                                           \
                                                                               \
    OPEN_MODE(flags, mode);                                                    \
    if (f == NULL)                                                             \
      f = real(#name);                                                         \
    watch_open(path);                                                          \
    return f(path, flags, mode);                                               \
  }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                                      \
  EXPORT int name(int dir, const char *path, int flags, ...) {                 \
    static int (*f)(int, const char *, int, ...);                              \
    mode_t mode = 0;                                                           \
                                                                               \
    OPEN_MODE(flags, mode);                                                    \
    if (f == NULL)                                                             \
      f = real(#name);                                                         \
    watch_open(path);                                                          \
    return f(dir, path, flags, mode);                                          \
  }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

EXPORT FILE *fopen(const char *path, const char *mode) {
  static FILE *(*f)(const char *, const char *);

  if (f == NULL)
    f = real("fopen");
  watch_open(path);
  return f(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode) {
  static FILE *(*f)(const char *, const char *);

  if (f == NULL)
    f = real("fopen64");
  watch_open(path);
  return f(path, mode);
}

/* ---- DNS: a lookup of the canary host is a request event data steered */

EXPORT int getaddrinfo(const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res) {
  static int (*f)(const char *, const char *, const struct addrinfo *,
                  struct addrinfo **);

  if (f == NULL)
    f = real("getaddrinfo");
  /* The canary host is under .invalid, which never resolves (RFC 6761):
   * answer at once rather than wait on a resolver. */
  if (node && strstr(node, CANARY)) {
    emit("dns", node, strlen(node), service);
    return EAI_NONAME;
  }
  return f(node, service, hints, res);
}

EXPORT struct hostent *gethostbyname(const char *name) {
  static struct hostent *(*f)(const char *);

  if (f == NULL)
    f = real("gethostbyname");
  if (name && strstr(name, CANARY)) {
    emit("dns", name, strlen(name), NULL);
    h_errno = HOST_NOT_FOUND;
    return NULL;
  }
  return f(name);
}

/* ---- connect: the instance metadata address, SSRF's favourite target.
 * Nothing in lambkin serves it (credentials come from the environment),
 * so a function only goes there when event data sent it; it is refused
 * at once rather than left to time out. */

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len) {
  static int (*f)(int, const struct sockaddr *, socklen_t);

  if (f == NULL)
    f = real("connect");
  if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    const unsigned char *ip = (const unsigned char *)&in->sin_addr;

    if (ip[0] == 169 && ip[1] == 254) {
      char where[32];

      snprintf(where, sizeof(where), "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2],
               ip[3], (unsigned)ntohs(in->sin_port));
      emit("connect", where, strlen(where), NULL);
      errno = ECONNREFUSED;
      return -1;
    }
  }
  return f(fd, sa, len);
}

/* ---- SQLite: the statement text, and whether it compiled ----
 * Python loads libsqlite3 privately (RTLD_LOCAL, as a dependency of its
 * _sqlite3 module), where RTLD_NEXT does not look; it is loaded by the
 * time a statement is prepared, so RTLD_NOLOAD finds it. */

static void *sqlite_fn(const char *name) {
  void *f = real(name), *h;

  if (f)
    return f;
  h = dlopen("libsqlite3.so.0", RTLD_LAZY | RTLD_NOLOAD);
  return h ? dlsym(h, name) : NULL;
}

static void watch_sql(sqlite3 *db, const char *sql, int n, int rc) {
  size_t len = sql ? strlen(sql) : 0;
  const char *(*errmsg)(sqlite3 *) =
      rc ? (const char *(*)(sqlite3 *))sqlite_fn("sqlite3_errmsg") : NULL;

  if (n >= 0 && (size_t)n < len)
    len = (size_t)n;
  if (sql == NULL || memmem(sql, len, SQL_CANARY, strlen(SQL_CANARY)) == NULL)
    return;
  emit(rc ? "sql-error" : "sql", sql, len, errmsg ? errmsg(db) : NULL);
}

typedef int (*prepare_fn)(sqlite3 *, const char *, int, sqlite3_stmt **,
                          const char **);

#define PREPARE_LIKE(name)                                                     \
  EXPORT int name(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st,      \
                  const char **tail) {                                         \
    static prepare_fn f;                                                       \
    int rc;                                                                    \
                                                                               \
    if (f == NULL)                                                             \
      f = (prepare_fn)sqlite_fn(#name);                                        \
    rc = f ? f(db, sql, n, st, tail) : 1;                                      \
    watch_sql(db, sql, n, rc);                                                 \
    return rc;                                                                 \
  }
PREPARE_LIKE(sqlite3_prepare)
PREPARE_LIKE(sqlite3_prepare_v2)

EXPORT int sqlite3_prepare_v3(sqlite3 *db, const char *sql, int n,
                              unsigned flags, sqlite3_stmt **st,
                              const char **tail) {
  static int (*f)(sqlite3 *, const char *, int, unsigned, sqlite3_stmt **,
                  const char **);
  int rc;

  if (f == NULL)
    f = (int (*)(sqlite3 *, const char *, int, unsigned, sqlite3_stmt **,
                 const char **))sqlite_fn("sqlite3_prepare_v3");
  rc = f ? f(db, sql, n, flags, st, tail) : 1;
  watch_sql(db, sql, n, rc);
  return rc;
}

EXPORT int sqlite3_exec(sqlite3 *db, const char *sql,
                        int (*cb)(void *, int, char **, char **), void *arg,
                        char **err) {
  typedef int (*exec_fn)(sqlite3 *, const char *,
                         int (*)(void *, int, char **, char **), void *,
                         char **);
  static exec_fn f;
  int rc;

  if (f == NULL)
    f = (exec_fn)sqlite_fn("sqlite3_exec");
  rc = f ? f(db, sql, cb, arg, err) : 1;
  watch_sql(db, sql, -1, rc);
  return rc;
}
