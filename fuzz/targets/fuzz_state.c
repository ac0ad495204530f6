/* libFuzzer target: what --state reads back at start. The first byte
 * picks the file the rest becomes (the state log, or the S3, SQS, Logs,
 * DynamoDB, SNS, EventBridge or Kinesis snapshot); lk_state_open loads it into
 * fresh services, as serve does. Invariants: loading returns or fails, never
 * crashes; and every snapshot it then wrote reads back and writes out byte for
 * byte the same (what lambkin saves, it can load). */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "dynamodb.h"
#include "eventbridge.h"
#include "fs.h"
#include "kinesis.h"
#include "logs.h"
#include "s3.h"
#include "sqs.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SNAPSHOT (64u << 20)

static const char *const files[] = {"state.aof.1", "s3.json",       "sqs.json",
                                    "logs.json",   "dynamodb.json", "sns.json",
                                    "events.json", "kinesis.json"};
#define N_FILES 8

typedef lk_state_svcs_t svcs_t;

static void svcs_new(uv_loop_t *loop, svcs_t *s) {
  s->s3 = lk_s3_new("us-east-1", "000000000000");
  s->sqs = lk_sqs_new(loop, "us-east-1", "000000000000", "http://127.0.0.1:1");
  s->logs = lk_logs_new("us-east-1", "000000000000");
  s->ddb = lk_ddb_new("us-east-1", "000000000000");
  s->sns = lk_sns_new("us-east-1", "000000000000");
  s->eb = lk_eb_new("us-east-1", "000000000000");
  s->kin = lk_kin_new("us-east-1", "000000000000");
}

static void svcs_free(uv_loop_t *loop, svcs_t *s) {
  lk_sqs_close(s->sqs);
  uv_run(loop, UV_RUN_NOWAIT);
  lk_s3_free(s->s3);
  lk_sqs_free(s->sqs);
  lk_logs_free(s->logs);
  lk_ddb_free(s->ddb);
  lk_sns_free(s->sns);
  lk_eb_free(s->eb);
  lk_kin_free(s->kin);
}

static char folder[64];

static void remove_folder(void) {
  lk_remove_tree(folder);
}

/* One folder for the whole run, gone at exit; in memory when it can be,
 * since every run writes and syncs files. */
static const char *state_dir(void) {
  if (folder[0] == '\0') {
    snprintf(folder, sizeof(folder), "%s/fuzz_state.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    CHECK(mkdtemp(folder) != NULL);
    atexit(remove_folder);
  }
  return folder;
}

/* Loads path into a fresh service, saves it to again, and compares. */
static void reads_back(uv_loop_t *loop, const char *path, int which) {
  char again[PATH_MAX];
  char *a, *b;
  size_t na, nb;
  uint64_t gen = 0;
  svcs_t s;
  int rc;

  a = lk_read_file(path, MAX_SNAPSHOT, &na);
  if (a == NULL)
    return; /* lk_state_open failed before writing it */
  snprintf(again, sizeof(again), "%s.again", path);
  svcs_new(loop, &s);
  rc = which == 1   ? lk_s3_load(s.s3, path, &gen)
       : which == 2 ? lk_sqs_load(s.sqs, path, &gen)
       : which == 3 ? lk_logs_load(s.logs, path, &gen)
       : which == 4 ? lk_ddb_load(s.ddb, path, &gen)
       : which == 5 ? lk_sns_load(s.sns, path, &gen)
       : which == 6 ? lk_eb_load(s.eb, path, &gen)
                    : lk_kin_load(s.kin, path, &gen);
  CHECK(rc == 0);
  rc = which == 1   ? lk_s3_save(s.s3, again, gen)
       : which == 2 ? lk_sqs_save(s.sqs, again, gen)
       : which == 3 ? lk_logs_save(s.logs, again, gen)
       : which == 4 ? lk_ddb_save(s.ddb, again, gen)
       : which == 5 ? lk_sns_save(s.sns, again, gen)
       : which == 6 ? lk_eb_save(s.eb, again, gen)
                    : lk_kin_save(s.kin, again, gen);
  CHECK(rc == 0);
  b = lk_read_file(again, MAX_SNAPSHOT, &nb);
  CHECK(b != NULL);
  if (na != nb || memcmp(a, b, na) != 0) {
    fprintf(stderr, "saved:\n%s\nread back and saved:\n%s\n", a, b);
    CHECK(!"a snapshot reads back the same");
  }
  free(a);
  free(b);
  svcs_free(loop, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *dir = state_dir();
  char path[PATH_MAX];
  lk_state_t *st = NULL;
  uv_loop_t loop;
  svcs_t s;
  int i;

  if (size < 1)
    return 0;
  CHECK(lk_remove_tree(dir) == 0 && lk_mkdirs(dir) == 0);
  CHECK(lk_path_join(path, sizeof(path), dir, files[data[0] % N_FILES]) == 0);
  CHECK(lk_write_file_atomic(path, data + 1, size - 1) == 0);
  uv_loop_init(&loop);
  svcs_new(&loop, &s);
  if (lk_state_open(&loop, dir, &s, NULL, &st) == 0) {
    lk_state_close(st);
    uv_run(&loop, UV_RUN_NOWAIT);
    lk_state_free(st);
    for (i = 1; i < N_FILES; i++) {
      CHECK(lk_path_join(path, sizeof(path), dir, files[i]) == 0);
      reads_back(&loop, path, i);
    }
  }
  svcs_free(&loop, &s);
  CHECK(uv_loop_close(&loop) == 0);
  return 0;
}
