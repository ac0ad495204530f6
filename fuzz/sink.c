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

/* The functions this library wraps, looked up once, when it is loaded:
 * a first lookup in a forked child before its exec (Python's subprocess
 * forks, then execs) could deadlock on the loader's lock, and a lookup per
 * call would cost python and node a hash lookup per file. A wrapper that
 * runs before the constructor (from another library's) looks up then. */
static struct {
  int (*execve)(const char *, char *const[], char *const[]);
  int (*execv)(const char *, char *const[]);
  int (*execvp)(const char *, char *const[]);
  int (*execvpe)(const char *, char *const[], char *const[]);
  int (*system)(const char *);
  FILE *(*popen)(const char *, const char *);
  int (*open)(const char *, int, ...);
  int (*open64)(const char *, int, ...);
  int (*openat)(int, const char *, int, ...);
  int (*openat64)(int, const char *, int, ...);
  FILE *(*fopen)(const char *, const char *);
  FILE *(*fopen64)(const char *, const char *);
  int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
                     struct addrinfo **);
  struct hostent *(*gethostbyname)(const char *);
  int (*connect)(int, const struct sockaddr *, socklen_t);
} libc;

#define LOOKUP(name) libc.name = (__typeof__(libc.name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void resolve_libc(void) {
  LOOKUP(execve);
  LOOKUP(execv);
  LOOKUP(execvp);
  LOOKUP(execvpe);
  LOOKUP(system);
  LOOKUP(popen);
  LOOKUP(open);
  LOOKUP(open64);
  LOOKUP(openat);
  LOOKUP(openat64);
  LOOKUP(fopen);
  LOOKUP(fopen64);
  LOOKUP(getaddrinfo);
  LOOKUP(gethostbyname);
  LOOKUP(connect);
}

#define REAL(name) (libc.name ? libc.name : (resolve_libc(), libc.name))

/* One report line, written with a single write(2) to an O_APPEND file so
 * the lines of a shell and of its parent do not interleave. Only getenv,
 * fstat, open, write and close: it may run between fork and exec. */
static void emit(const char *kind, const char *a, size_t alen, const char *b) {
  const char *path = getenv("LAMBKIN_SINK_LOG");
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
  if (fd < 0 && libc.open) {
    fd = libc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
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
  watch_exec(path, argv);
  return REAL(execve)(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[]) {
  watch_exec(path, argv);
  return REAL(execv)(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[]) {
  watch_exec(file, argv);
  return REAL(execvp)(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  watch_exec(file, argv);
  return REAL(execvpe)(file, argv, envp);
}

/* system() and popen() run /bin/sh through glibc's own posix_spawn, which
 * no preload sees: watch the command here. */
EXPORT int system(const char *cmd) {
  char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

  if (cmd)
    watch_exec("/bin/sh", argv);
  return REAL(system)(cmd);
}

EXPORT FILE *popen(const char *cmd, const char *mode) {
  char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

  if (cmd)
    watch_exec("/bin/sh", argv);
  return REAL(popen)(cmd, mode);
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
    mode_t mode = 0;                                                           \
                                                                               \
    OPEN_MODE(flags, mode);                                                    \
    watch_open(path);                                                          \
    return REAL(name)(path, flags, mode);                                      \
  }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                                      \
  EXPORT int name(int dir, const char *path, int flags, ...) {                 \
    mode_t mode = 0;                                                           \
                                                                               \
    OPEN_MODE(flags, mode);                                                    \
    watch_open(path);                                                          \
    return REAL(name)(dir, path, flags, mode);                                 \
  }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

EXPORT FILE *fopen(const char *path, const char *mode) {
  watch_open(path);
  return REAL(fopen)(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode) {
  watch_open(path);
  return REAL(fopen64)(path, mode);
}

/* ---- DNS: a lookup of the canary host is a request event data steered */

EXPORT int getaddrinfo(const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res) {
  /* The canary host is under .invalid, which never resolves (RFC 6761):
   * answer at once rather than wait on a resolver. */
  if (node && strstr(node, CANARY)) {
    emit("dns", node, strlen(node), service);
    return EAI_NONAME;
  }
  return REAL(getaddrinfo)(node, service, hints, res);
}

EXPORT struct hostent *gethostbyname(const char *name) {
  if (name && strstr(name, CANARY)) {
    emit("dns", name, strlen(name), NULL);
    h_errno = HOST_NOT_FOUND;
    return NULL;
  }
  return REAL(gethostbyname)(name);
}

/* ---- connect: the instance metadata address, SSRF's favourite target.
 * Nothing in lambkin serves it (credentials come from the environment),
 * so a function only goes there when event data sent it; it is refused
 * at once rather than left to time out. */

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len) {
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
  return REAL(connect)(fd, sa, len);
}

/* ---- SQLite: the statement text, and whether it compiled ----
 * Python loads libsqlite3 privately (RTLD_LOCAL, as a dependency of its
 * _sqlite3 module), where RTLD_NEXT does not look; it is loaded by the
 * time a statement is prepared, so RTLD_NOLOAD finds it. */

/* SQLite's function name for a call from caller: the shared libsqlite3
 * when one is loaded, else the copy the caller carries (an addon that
 * bundles SQLite, loaded RTLD_LOCAL, whose calls still reach these
 * exported wrappers first); NULL when neither has it. Looked up per call:
 * not every caller carries the same copy. */
static void *sqlite_fn(const char *name, void *caller) {
  void *f = dlsym(RTLD_NEXT, name), *h;
  Dl_info info;

  if (f == NULL && (h = dlopen("libsqlite3.so.0", RTLD_LAZY | RTLD_NOLOAD)))
    f = dlsym(h, name);
  if (f == NULL && dladdr(caller, &info) && info.dli_fname &&
      (h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD)))
    f = dlsym(h, name);
  return f;
}

/* The statement is sql's first n bytes (n < 0: up to its NUL), as SQLite
 * reads it: never a byte past that. */
static void watch_sql(sqlite3 *db, const char *sql, int n, int rc,
                      void *caller) {
  size_t len;
  const char *(*errmsg)(sqlite3 *);

  if (sql == NULL)
    return;
  len = n >= 0 ? strnlen(sql, (size_t)n) : strlen(sql);
  if (memmem(sql, len, SQL_CANARY, strlen(SQL_CANARY)) == NULL)
    return;
  errmsg = rc ? (const char *(*)(sqlite3 *))sqlite_fn("sqlite3_errmsg", caller)
              : NULL;
  emit(rc ? "sql-error" : "sql", sql, len, errmsg ? errmsg(db) : NULL);
}

/* SQLITE_ERROR, when no SQLite can be found to run the call at all. */
#define SQLITE_ERROR 1

typedef int (*prepare_fn)(sqlite3 *, const char *, int, sqlite3_stmt **,
                          const char **);

#define PREPARE_LIKE(name)                                                     \
  EXPORT int name(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st,      \
                  const char **tail) {                                         \
    void *caller = __builtin_return_address(0);                                \
    prepare_fn f = (prepare_fn)sqlite_fn(#name, caller);                       \
    int rc = f ? f(db, sql, n, st, tail) : SQLITE_ERROR;                       \
                                                                               \
    watch_sql(db, sql, n, rc, caller);                                         \
    return rc;                                                                 \
  }
PREPARE_LIKE(sqlite3_prepare)
PREPARE_LIKE(sqlite3_prepare_v2)

EXPORT int sqlite3_prepare_v3(sqlite3 *db, const char *sql, int n,
                              unsigned flags, sqlite3_stmt **st,
                              const char **tail) {
  typedef int (*prepare3_fn)(sqlite3 *, const char *, int, unsigned,
                             sqlite3_stmt **, const char **);
  void *caller = __builtin_return_address(0);
  prepare3_fn f = (prepare3_fn)sqlite_fn("sqlite3_prepare_v3", caller);
  int rc = f ? f(db, sql, n, flags, st, tail) : SQLITE_ERROR;

  watch_sql(db, sql, n, rc, caller);
  return rc;
}

EXPORT int sqlite3_exec(sqlite3 *db, const char *sql,
                        int (*cb)(void *, int, char **, char **), void *arg,
                        char **err) {
  typedef int (*exec_fn)(sqlite3 *, const char *,
                         int (*)(void *, int, char **, char **), void *,
                         char **);
  void *caller = __builtin_return_address(0);
  exec_fn f = (exec_fn)sqlite_fn("sqlite3_exec", caller);
  int rc = f ? f(db, sql, cb, arg, err) : SQLITE_ERROR;

  watch_sql(db, sql, -1, rc, caller);
  return rc;
}
