/* lambkin core API: error codes shared by every module.
 * Codes are negative errno values, like libuv's UV_E*, so a libuv error
 * passes straight through and lk_strerror() names both. */
#ifndef LAMBKIN_H
#define LAMBKIN_H

#include <errno.h>

#define LK_VERSION "0.1.0"

/* X-macro: name, value, message. */
#define LK_ERRNO_MAP(XX)                                                       \
  XX(ENOMEM, -ENOMEM, "out of memory")                                         \
  XX(EINVAL, -EINVAL, "invalid argument")                                      \
  XX(ENOENT, -ENOENT, "no such file or resource")                              \
  XX(E2BIG, -E2BIG, "input exceeds its limit")                                 \
  XX(EIO, -EIO, "i/o error")                                                   \
  XX(EBUSY, -EBUSY, "too many concurrent requests")                            \
  XX(ETIMEDOUT, -ETIMEDOUT, "timed out")                                       \
  XX(ENOSYS, -ENOSYS, "not implemented by this host")                          \
  XX(EPROTO, -EPROTO, "protocol error")                                        \
  XX(ECHILD, -ECHILD, "function process failed")                               \
  XX(EEXIST, -EEXIST, "already exists")                                        \
  XX(ENOSPC, -ENOSPC, "store is full")                                         \
  XX(ELOOP, -ELOOP, "recursive invocation chain stopped")                      \
  XX(EACCES, -EACCES, "not allowed by the function's policies")

enum {
#define XX(name, val, msg) LK_##name = val,
  LK_ERRNO_MAP(XX)
#undef XX
};

/* Returns a static message for an LK_E* or libuv error code. */
const char *lk_strerror(int err);

#endif
