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

/* Each kept service's four calls, in one shape: lk_X_save, lk_X_load,
 * lk_X_apply and lk_X_on_record, reached through a void pointer. */
#define KEPT(x)                                                                \
  static int x##_save(void *s, const char *path, uint64_t gen) {               \
    return lk_##x##_save(s, path, gen);                                        \
  }                                                                            \
  static int x##_load(void *s, const char *path, uint64_t *gen) {              \
    return lk_##x##_load(s, path, gen);                                        \
  }                                                                            \
  static void x##_apply(void *s, const cJSON *rec) {                           \
    lk_##x##_apply(s, rec);                                                    \
  }                                                                            \
  static void x##_on_record(void *s, lk_record_cb cb, void *ud) {              \
    lk_##x##_on_record(s, cb, ud);                                             \
  }
KEPT(s3)
KEPT(sqs)
KEPT(logs)
KEPT(ddb)
KEPT(sns)
KEPT(eb)
KEPT(kin)

typedef struct kept {
  const char *file; /* its snapshot */
  const char *tag;  /* the member that marks its records in the state log */
  int (*save)(void *svc, const char *path, uint64_t gen);
  int (*load)(void *svc, const char *path, uint64_t *gen);
  void (*apply)(void *svc, const cJSON *rec);
  void (*on_record)(void *svc, lk_record_cb cb, void *ud);
} kept_t;

/* In the order of lk_state_svcs_t's members. */
static const kept_t kept[] = {
    {"s3.json", "s3", s3_save, s3_load, s3_apply, s3_on_record},
    {"sqs.json", "sqs", sqs_save, sqs_load, sqs_apply, sqs_on_record},
    {"logs.json", "logs", logs_save, logs_load, logs_apply, logs_on_record},
    {"dynamodb.json", "ddb", ddb_save, ddb_load, ddb_apply, ddb_on_record},
    {"sns.json", "sns", sns_save, sns_load, sns_apply, sns_on_record},
    {"events.json", "events", eb_save, eb_load, eb_apply, eb_on_record},
    {"kinesis.json", "kinesis", kin_save, kin_load, kin_apply, kin_on_record},
};
#define N_SVC ((int)(sizeof(kept) / sizeof(kept[0])))

struct lk_state {
  uv_loop_t *loop;
  char dir[PATH_MAX];
  void *svc[N_SVC]; /* kept[i] is svc[i]'s */
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
  return lk_path_join(out, cap, st->dir, kept[svc].file);
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
  int i, rc = 0;

  for (i = 0; i < N_SVC && rc == 0; i++) {
    rc = snapshot_path(st, i, path, sizeof(path));
    if (rc == 0)
      rc = kept[i].save(st->svc[i], path, gen);
  }
  return rc;
}

/* ---- start: snapshots, then the logs they do not hold ---- */

typedef struct replay {
  lk_state_t *st;
  uint64_t log;          /* generation of the file being replayed */
  uint64_t since[N_SVC]; /* each snapshot holds what came before */
} replay_t;

/* A record goes to the service it names, unless its snapshot holds it. */
static void replay_line(const char *line, size_t n, void *ud) {
  replay_t *r = ud;
  cJSON *rec = cJSON_ParseWithLength(line, n);
  int i;

  for (i = 0; rec && i < N_SVC; i++)
    if (cJSON_GetObjectItemCaseSensitive(rec, kept[i].tag)) {
      if (r->log >= r->since[i])
        kept[i].apply(r->st->svc[i], rec);
      break;
    }
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
      rc = kept[svc].load(st->svc[svc], path, &since[svc]);
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
  int i;

  uv_check_init(st->loop, &st->check);
  st->check.data = st;
  uv_check_start(&st->check, on_check);
  uv_unref((uv_handle_t *)&st->check);
  uv_timer_init(st->loop, &st->tick);
  st->tick.data = st;
  uv_timer_start(&st->tick, on_tick, 1000, 1000);
  uv_unref((uv_handle_t *)&st->tick);
  for (i = 0; i < N_SVC; i++)
    kept[i].on_record(st->svc[i], on_record, st);
}

int lk_state_open(uv_loop_t *loop, const char *dir, const lk_state_svcs_t *svc,
                  lk_http_server_t *api, lk_state_t **out) {
  lk_state_t *st = lk_xcalloc(1, sizeof(*st));
  int rc;

  *out = NULL;
  st->loop = loop;
  snprintf(st->dir, sizeof(st->dir), "%s", dir);
  st->svc[0] = svc->s3;
  st->svc[1] = svc->sqs;
  st->svc[2] = svc->logs;
  st->svc[3] = svc->ddb;
  st->svc[4] = svc->sns;
  st->svc[5] = svc->eb;
  st->svc[6] = svc->kin;
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
  int rc, i;

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
  for (i = 0; i < N_SVC; i++)
    kept[i].on_record(st->svc[i], NULL, NULL);
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
