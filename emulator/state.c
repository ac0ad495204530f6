/* --state: snapshots and the state log (see state.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aof.h"
#include "fs.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "state.h"

#define LOG_PREFIX "state.aof."
#define MAX_LOGS 64 /* generations found at start: a crash leaves two */

enum { SVC_S3, SVC_SQS, SVC_LOGS, SVC_DDB, SVC_SNS, N_SVC };

static const char *const snapshot_files[N_SVC] = {
    "s3.json", "sqs.json", "logs.json", "dynamodb.json", "sns.json"};

struct lk_state {
  uv_loop_t *loop;
  char dir[PATH_MAX];
  lk_s3_t *s3;
  lk_sqs_t *sqs;
  lk_logs_t *logs;
  lk_ddb_t *ddb;
  lk_sns_t *sns;
  lk_http_server_t *api;
  lk_aof_t *aof;
  uint64_t gen;       /* of the state log being written */
  uv_check_t check;   /* group commit, once per loop turn */
  uv_timer_t tick;    /* function output reaches the disk within a second */
  pid_t child;        /* rewriting the snapshots; 0: none */
  uint64_t child_gen; /* the logs below it are in the child's snapshots */
  int closed;
};

/* ---- files ---- */

static int snapshot_path(const lk_state_t *st, int svc, char *out, size_t cap) {
  return lk_path_join(out, cap, st->dir, snapshot_files[svc]);
}

static int log_path(const lk_state_t *st, uint64_t gen, char *out, size_t cap) {
  char name[64];

  snprintf(name, sizeof(name), LOG_PREFIX "%" PRIu64, gen);
  return lk_path_join(out, cap, st->dir, name);
}

static int by_number(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

  return x < y ? -1 : x > y;
}

/* The generations of the state logs in the folder, in order. */
static int list_logs(const lk_state_t *st, uint64_t *gens, int max) {
  DIR *d = opendir(st->dir);
  struct dirent *e;
  int n = 0;

  while (d && (e = readdir(d)) != NULL && n < max) {
    char *end;
    uint64_t g;

    if (strncmp(e->d_name, LOG_PREFIX, sizeof(LOG_PREFIX) - 1) != 0)
      continue;
    g = strtoull(e->d_name + sizeof(LOG_PREFIX) - 1, &end, 10);
    if (*end == '\0')
      gens[n++] = g;
  }
  if (d)
    closedir(d);
  qsort(gens, (size_t)n, sizeof(*gens), by_number);
  return n;
}

/* Removes the state logs below gen: the snapshots hold what they did. */
static void drop_logs_below(const lk_state_t *st, uint64_t gen) {
  uint64_t gens[MAX_LOGS];
  char path[PATH_MAX];
  int n = list_logs(st, gens, MAX_LOGS), i;

  for (i = 0; i < n && gens[i] < gen; i++)
    if (log_path(st, gens[i], path, sizeof(path)) == 0)
      unlink(path);
}

/* Every service's snapshot, holding everything before generation gen. */
static int save_snapshots(const lk_state_t *st, uint64_t gen) {
  char path[PATH_MAX];
  int rc = snapshot_path(st, SVC_S3, path, sizeof(path));

  if (rc == 0)
    rc = lk_s3_save(st->s3, path, gen);
  if (rc == 0)
    rc = snapshot_path(st, SVC_SQS, path, sizeof(path));
  if (rc == 0)
    rc = lk_sqs_save(st->sqs, path, gen);
  if (rc == 0)
    rc = snapshot_path(st, SVC_LOGS, path, sizeof(path));
  if (rc == 0)
    rc = lk_logs_save(st->logs, path, gen);
  if (rc == 0)
    rc = snapshot_path(st, SVC_DDB, path, sizeof(path));
  if (rc == 0)
    rc = lk_ddb_save(st->ddb, path, gen);
  if (rc == 0)
    rc = snapshot_path(st, SVC_SNS, path, sizeof(path));
  if (rc == 0)
    rc = lk_sns_save(st->sns, path, gen);
  return rc;
}

/* ---- start: snapshots, then the logs they do not hold ---- */

typedef struct replay {
  lk_state_t *st;
  uint64_t log;          /* generation of the file being replayed */
  uint64_t since[N_SVC]; /* each snapshot holds what came before */
} replay_t;

static void replay_line(const char *line, size_t n, void *ud) {
  replay_t *r = ud;
  cJSON *rec = cJSON_ParseWithLength(line, n);

  if (cJSON_GetObjectItemCaseSensitive(rec, "s3") && r->log >= r->since[0])
    lk_s3_apply(r->st->s3, rec);
  else if (cJSON_GetObjectItemCaseSensitive(rec, "sqs") &&
           r->log >= r->since[1])
    lk_sqs_apply(r->st->sqs, rec);
  else if (cJSON_GetObjectItemCaseSensitive(rec, "logs") &&
           r->log >= r->since[2])
    lk_logs_apply(r->st->logs, rec);
  else if (cJSON_GetObjectItemCaseSensitive(rec, "ddb") &&
           r->log >= r->since[3])
    lk_ddb_apply(r->st->ddb, rec);
  else if (cJSON_GetObjectItemCaseSensitive(rec, "sns") &&
           r->log >= r->since[4])
    lk_sns_apply(r->st->sns, rec);
  cJSON_Delete(rec);
}

/* A snapshot that is missing is a first run; one that cannot be read
 * stops start-up rather than silently starting empty. */
static int load_snapshots(lk_state_t *st, uint64_t since[N_SVC]) {
  char path[PATH_MAX];
  int svc, rc = 0;

  for (svc = 0; svc < N_SVC && rc == 0; svc++) {
    since[svc] = 0;
    rc = snapshot_path(st, svc, path, sizeof(path));
    if (rc == 0)
      rc = svc == SVC_S3     ? lk_s3_load(st->s3, path, &since[svc])
           : svc == SVC_SQS  ? lk_sqs_load(st->sqs, path, &since[svc])
           : svc == SVC_LOGS ? lk_logs_load(st->logs, path, &since[svc])
           : svc == SVC_DDB  ? lk_ddb_load(st->ddb, path, &since[svc])
                             : lk_sns_load(st->sns, path, &since[svc]);
    if (rc == LK_ENOENT)
      rc = 0;
    else if (rc)
      fprintf(stderr, "lambkin: cannot load %s: %s\n", path, lk_strerror(rc));
  }
  return rc;
}

/* Replays every log; the next generation is past the last one. */
static int load(lk_state_t *st) {
  replay_t r = {st, 0, {0}};
  uint64_t gens[MAX_LOGS];
  char path[PATH_MAX];
  int n, i, rc = load_snapshots(st, r.since);

  if (rc)
    return rc;
  n = list_logs(st, gens, MAX_LOGS);
  for (i = 0; i < n; i++) {
    r.log = gens[i];
    if (log_path(st, gens[i], path, sizeof(path)) == 0)
      lk_aof_replay(path, replay_line, &r);
  }
  st->gen = n ? gens[n - 1] + 1 : 1;
  for (i = 0; i < N_SVC; i++)
    if (r.since[i] > st->gen)
      st->gen = r.since[i];
  return 0;
}

/* ---- recording ---- */

static void on_record(void *ud, const cJSON *rec, int durable) {
  lk_state_t *st = ud;
  char *line = cJSON_PrintUnformatted(rec);

  lk_aof_add(st->aof, line, strlen(line), durable);
  free(line);
}

static int open_log(lk_state_t *st) {
  char path[PATH_MAX];
  int rc = log_path(st, st->gen, path, sizeof(path));

  if (rc == 0)
    rc = lk_aof_open(path, &st->aof);
  if (rc)
    fprintf(stderr, "lambkin: cannot open the state log in %s: %s\n", st->dir,
            strerror(-rc));
  return rc;
}

static void sync_log(lk_state_t *st, int force) {
  if (lk_aof_sync(st->aof, force) != 0)
    fprintf(stderr, "lambkin: cannot write the state log in %s\n", st->dir);
}

/* ---- compaction: a forked child writes the snapshots ---- */

static void compact(lk_state_t *st) {
  pid_t pid;

  sync_log(st, 1);
  lk_aof_free(st->aof);
  st->aof = NULL;
  st->child_gen = ++st->gen;
  if (open_log(st) != 0)
    abort(); /* the folder was writable a moment ago */
  pid = fork();
  if (pid == 0) /* the state as it was at the fork, copy-on-write */
    _exit(save_snapshots(st, st->child_gen) == 0 ? 0 : 1);
  st->child = pid > 0 ? pid : 0;
}

/* The child is done: on success the logs it folded in go. */
static void reap(lk_state_t *st, int block) {
  int status;

  if (st->child == 0 || waitpid(st->child, &status, block ? 0 : WNOHANG) <= 0)
    return;
  st->child = 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    drop_logs_below(st, st->child_gen);
  else
    fprintf(stderr,
            "lambkin: rewriting the snapshots in %s failed; the "
            "state log keeps everything\n",
            st->dir);
}

/* ---- the loop's part ---- */

static void on_check(uv_check_t *h) {
  lk_state_t *st = h->data;

  reap(st, 0);
  if (lk_aof_pending(st->aof))
    sync_log(st, 0);
  lk_http_release(st->api);
  if (st->child == 0 && lk_aof_size(st->aof) > LK_STATE_LOG_MAX)
    compact(st);
}

static void on_tick(uv_timer_t *t) {
  sync_log(t->data, 1);
}

static void start(lk_state_t *st) {
  uv_check_init(st->loop, &st->check);
  st->check.data = st;
  uv_check_start(&st->check, on_check);
  uv_unref((uv_handle_t *)&st->check);
  uv_timer_init(st->loop, &st->tick);
  st->tick.data = st;
  uv_timer_start(&st->tick, on_tick, 1000, 1000);
  uv_unref((uv_handle_t *)&st->tick);
  lk_s3_on_record(st->s3, on_record, st);
  lk_sqs_on_record(st->sqs, on_record, st);
  lk_logs_on_record(st->logs, on_record, st);
  lk_ddb_on_record(st->ddb, on_record, st);
  lk_sns_on_record(st->sns, on_record, st);
}

int lk_state_open(uv_loop_t *loop, const char *dir, const lk_state_svcs_t *svc,
                  lk_http_server_t *api, lk_state_t **out) {
  lk_state_t *st = lk_xcalloc(1, sizeof(*st));
  int rc;

  *out = NULL;
  st->loop = loop;
  snprintf(st->dir, sizeof(st->dir), "%s", dir);
  st->s3 = svc->s3;
  st->sqs = svc->sqs;
  st->logs = svc->logs;
  st->ddb = svc->ddb;
  st->sns = svc->sns;
  st->api = api;
  rc = load(st);
  /* What the logs held goes into fresh snapshots; a new log starts. */
  if (rc == 0 && (rc = save_snapshots(st, st->gen)) != 0)
    fprintf(stderr, "lambkin: cannot write the snapshots in %s: %s\n", dir,
            lk_strerror(rc));
  if (rc == 0) {
    drop_logs_below(st, st->gen);
    rc = open_log(st);
  }
  if (rc) {
    free(st);
    return rc;
  }
  start(st);
  *out = st;
  return 0;
}

void lk_state_hold(lk_state_t *st, lk_http_req_t *req) {
  if (st && !st->closed)
    lk_http_hold(req);
}

void lk_state_settle(lk_state_t *st) {
  if (st && !st->closed && !lk_aof_pending(st->aof))
    lk_http_release(st->api);
}

void lk_state_close(lk_state_t *st) {
  int rc;

  if (st == NULL || st->closed)
    return;
  st->closed = 1;
  if (st->child) {
    kill(st->child, SIGKILL);
    reap(st, 1);
  }
  sync_log(st, 1);
  lk_http_release(st->api);
  st->api = NULL;
  lk_s3_on_record(st->s3, NULL, NULL);
  lk_sqs_on_record(st->sqs, NULL, NULL);
  lk_logs_on_record(st->logs, NULL, NULL);
  lk_ddb_on_record(st->ddb, NULL, NULL);
  lk_sns_on_record(st->sns, NULL, NULL);
  rc = save_snapshots(st, st->gen + 1);
  if (rc == 0)
    drop_logs_below(st, st->gen + 1);
  else
    fprintf(stderr, "lambkin: cannot save state in %s: %s\n", st->dir,
            lk_strerror(rc));
  uv_close((uv_handle_t *)&st->check, NULL);
  uv_close((uv_handle_t *)&st->tick, NULL);
}

void lk_state_free(lk_state_t *st) {
  if (st == NULL)
    return;
  lk_aof_free(st->aof);
  free(st);
}
