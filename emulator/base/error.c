/* Error names: one table for lambkin's own codes, libuv for the rest.
 * Returned strings are static. */
#include <string.h>

#include <uv.h>

#include "lambkin/lambkin.h"

const char *lk_strerror(int err) {
  switch (err) {
#define XX(name, val, msg)                                                     \
  case val:                                                                    \
    return msg;
    LK_ERRNO_MAP(XX)
#undef XX
  default:
    return uv_strerror(err);
  }
}
