/* The peer's process of a loopback connection (see peer.h). The socket
 * table (/proc/net/tcp) gives the inode of the peer's end; the fd tables
 * of the session's processes say whether one of them holds it. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec.h"
#include "peer.h"

/* The first n whitespace-separated fields of line (cut in place, so
 * line must be writable); how many there were. */
static int fields(char *line, const char **out, int n) {
  int k = 0;

  while (k < n) {
    line += strspn(line, " \t\n");
    if (*line == '\0')
      break;
    out[k++] = line;
    line += strcspn(line, " \t\n");
    if (*line)
      *line++ = '\0';
  }
  return k;
}

/* An unsigned number in base at s; 1 when there is one. With end NULL
 * it must be all of s; else it may stop anywhere, and *end says where. */
static int number(const char *s, int base, unsigned long *out,
                  const char **end) {
  char *e;

  if (!isxdigit((unsigned char)*s))
    return 0;
  errno = 0;
  *out = strtoul(s, &e, base);
  if (errno || e == s || (end == NULL && *e != '\0'))
    return 0;
  if (end)
    *end = e;
  return 1;
}

/* "ADDR:PORT" in hex, as /proc/net/tcp writes them. */
static int hex_pair(const char *s, unsigned long *addr, unsigned long *port) {
  const char *e;

  return number(s, 16, addr, &e) && *e == ':' && number(e + 1, 16, port, NULL);
}

/* The inode of the socket whose local end is `from` and remote end `to`
 * (both as the kernel prints them: raw address, port in host order); 0
 * when there is none. */
static unsigned long socket_inode(unsigned from_addr, unsigned from_port,
                                  unsigned to_addr, unsigned to_port) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[512];
  unsigned long inode = 0;

  if (f == NULL)
    return 0;
  while (inode == 0 && fgets(line, sizeof(line), f)) {
    const char *fld[10];
    unsigned long la, lp, ra, rp, ino;

    /* sl local rem st tx:rx tr:tm retrnsmt uid timeout inode */
    if (fields(line, fld, 10) == 10 && hex_pair(fld[1], &la, &lp) &&
        hex_pair(fld[2], &ra, &rp) && number(fld[9], 10, &ino, NULL) &&
        la == from_addr && lp == from_port && ra == to_addr && rp == to_port)
      inode = ino;
  }
  fclose(f);
  return inode;
}

/* 1 when process pid has an fd on socket inode. */
static int holds(pid_t pid, const char *want) {
  char dir[64], path[64 + 256], target[64];
  struct dirent *e;
  DIR *d;
  int found = 0;

  snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
  d = opendir(dir);
  if (d == NULL)
    return 0;
  while (!found && (e = readdir(d)) != NULL) {
    ssize_t n;

    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    n = readlink(path, target, sizeof(target) - 1);
    if (n > 0) {
      target[n] = '\0';
      found = strcmp(target, want) == 0;
    }
  }
  closedir(d);
  return found;
}

/* The session of pid (field 6 of /proc/pid/stat), or -1. */
static pid_t session_of(pid_t pid) {
  char path[64], buf[512], *p;
  const char *v[4];
  unsigned long n;
  FILE *f;
  int sid = -1;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (f == NULL)
    return -1;
  /* after "(comm)": state ppid pgrp session */
  if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) != NULL &&
      fields(p + 1, v, 4) == 4 && number(v[3], 10, &n, NULL) && n <= INT_MAX)
    sid = (int)n;
  fclose(f);
  return sid;
}

int lk_peer_in_session(int fd, pid_t sid) {
  struct sockaddr_in me, peer;
  socklen_t ml = sizeof(me), pl = sizeof(peer);
  unsigned long inode;
  char want[48];
  struct dirent *e;
  DIR *d;
  int found;

  if (getsockname(fd, (struct sockaddr *)&me, &ml) != 0 ||
      getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
      peer.sin_family != AF_INET)
    return 0;
  inode = socket_inode(peer.sin_addr.s_addr, ntohs(peer.sin_port),
                       me.sin_addr.s_addr, ntohs(me.sin_port));
  if (inode == 0)
    return 0;
  snprintf(want, sizeof(want), "socket:[%lu]", inode);
  if (holds(sid, want)) /* the usual case: the runtime itself */
    return 1;
  d = opendir("/proc");
  if (d == NULL)
    return 0;
  for (found = 0; !found && (e = readdir(d)) != NULL;) {
    pid_t pid;
    long pid_l;

    if (!isdigit((unsigned char)e->d_name[0]))
      continue;
    if (lk_parse_long(e->d_name, 1, INT_MAX, &pid_l) != 0)
      continue;
    pid = (pid_t)pid_l;
    found = pid != sid && session_of(pid) == sid && holds(pid, want);
  }
  closedir(d);
  return found;
}
