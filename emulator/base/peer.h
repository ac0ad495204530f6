/* Who is at the other end of a loopback TCP connection, from /proc: the
 * kernel knows which socket inode each end is and which process holds it.
 * Lets a server take connections only from one process group. Linux. */
#ifndef LK_PEER_H
#define LK_PEER_H

#include <sys/types.h>

/* 1 when the peer of the connected IPv4 loopback socket fd is held by a
 * process of session sid (the session leader's pid), else 0. */
int lk_peer_in_session(int fd, pid_t sid);

#endif
