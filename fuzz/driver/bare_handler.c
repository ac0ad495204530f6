/* The yardstick for the in-process engine's speed: a bare libFuzzer
 * harness that calls the same handler with the input bytes as the event,
 * no mutator, no checks, no emulator. bench/ runs both on one handler. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lambkin/handler.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lk_handler_fn *handler;

static int respond(lk_response_t *res, const void *data, size_t len) {
  (void)data;
  res->len = len;
  return 0;
}

static int fail(lk_response_t *res, const char *type, const char *msg) {
  (void)type, (void)msg;
  res->failed = 1;
  return 0;
}

static const lk_host_t host = {respond, fail, NULL, NULL, NULL, NULL, NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  void *dl = dlopen(getenv("LAMBKIN_FUZZ_SO"), RTLD_NOW);

  (void)argc, (void)argv;
  handler =
      dl ? (lk_handler_fn *)dlsym(dl, getenv("LAMBKIN_FUZZ_SYMBOL")) : NULL;
  if (handler == NULL) {
    fprintf(stderr, "bare_handler: cannot load the handler\n");
    exit(2);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_request_t req;
  lk_response_t res;
  char *payload = malloc(size + 1);

  if (payload == NULL)
    return 0;
  memcpy(payload, data, size);
  payload[size] = '\0';
  memset(&req, 0, sizeof(req));
  memset(&res, 0, sizeof(res));
  req.payload = payload;
  req.len = size;
  req.request_id = "bare";
  req.host = &host;
  handler(&req, &res);
  free(payload);
  return 0;
}
