/* The tripwire and the sink library (see tripwire.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "oracle.h"
#include "tripwire.h"

static const char tripwire[] =
    "#!/bin/sh\n"
    "# lambkin's tripwire: event data made the function run this command.\n"
    "# The payloads of lambkin fuzz name it; nothing else does.\n"
    "if [ -n \"$LAMBKIN_SINK_LOG\" ]; then\n"
    "  printf 'tripwire\\t%s\\n' \"$*\" | tr -d '\\r' >> "
    "\"$LAMBKIN_SINK_LOG\"\n"
    "fi\n"
    "exit 0\n";

/* The tripwire at path, unless something that is not ours is there. */
static int place_tripwire(const char *path) {
  struct stat st;
  int fd;

  if (lstat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
      return -1; /* planted by someone else: leave it, and say so */
    return chmod(path, 0755);
  }
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (fd < 0)
    return -1;
  if (write(fd, tripwire, sizeof(tripwire) - 1) !=
      (ssize_t)(sizeof(tripwire) - 1)) {
    close(fd);
    return -1;
  }
  return close(fd);
}

int lk_fuzz_prepare(const char *out, char *sink_lib, size_t cap) {
  char bin[PATH_MAX], path[PATH_MAX];
  const char *env = getenv("LAMBKIN_SINK_LIB");

  if (lk_path_join(bin, sizeof(bin), out, "bin") ||
      lk_path_join(path, sizeof(path), bin, LK_CANARY_CMD) || lk_mkdirs(bin) ||
      (place_tripwire(path) && access(path, X_OK))) {
    fprintf(stderr, "lambkin: fuzz: cannot write the tripwire %s\n", path);
    return -1;
  }
  if (place_tripwire("/tmp/" LK_CANARY_CMD))
    fprintf(stderr, "lambkin: fuzz: /tmp/" LK_CANARY_CMD
                    " is not ours; commands run by that path go unseen\n");
  snprintf(sink_lib, cap, "%s",
           env ? env : LK_BINARY_DIR "/liblambkin_sink.so");
  if (access(sink_lib, R_OK)) {
    fprintf(stderr, "lambkin: fuzz: no sink library at %s\n", sink_lib);
    return -1;
  }
  return 0;
}
