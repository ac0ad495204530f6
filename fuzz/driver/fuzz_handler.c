/* The in-process engine for C handlers: a libFuzzer driver that loads a
 * handler shared object (built with -fsanitize=fuzzer-no-link,address,
 * undefined) and calls it with events from the event-aware mutator (and
 * its crossover of two events' fields), with
 * no HTTP and no process in between. The handler's own crashes and
 * sanitizer reports are libFuzzer's findings.
 *   LAMBKIN_FUZZ_SO=handler.so LAMBKIN_FUZZ_SYMBOL=fn fuzz_handler SEEDS
 * Built with -DLK_PLAIN_LIBFUZZER it has no custom mutator: the peer
 * bench/time_to_find.py compares against (same handler, same oracles).
 * Built with -DLK_FUZZ_HANDLER=fn and linked with the handler's sources,
 * it is a self-contained target for OSS-Fuzz / ClusterFuzzLite, which
 * set no environment (one target per handler and source).
 * Host calls: S3 put/get go to an in-process S3 store; invoke and SQS send
 * are accepted and dropped. A call that would run this function again
 * (LAMBKIN_FUZZ_LOOPS, which lambkin fuzz writes from the template: its
 * name, its S3 buckets with their key filters, its SQS queues) is a
 * self-invocation finding.
 * With the sink library preloaded and LAMBKIN_SINK_LOG set (lambkin fuzz
 * does both), the injection oracles judge each call's sink report too: a
 * verdict prints "==LAMBKIN== FINDING <class>: <evidence>" and aborts, so
 * libFuzzer keeps the input as a crash. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "fs.h"
#include "lambkin/handler.h"
#include "mem.h"
#include "mutator.h"
#include "oracle.h"
#include "s3.h"
#include "spanmut.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t alen,
                                 const uint8_t *b, size_t blen, uint8_t *out,
                                 size_t max, unsigned int seed);

static lk_handler_fn *handler;
static lk_s3_t *s3;
static lk_spanmut_t *fast; /* the mutator's fast path and its last event */
static char *reply;        /* the handler's response: reused, not freed */
static size_t reply_cap;

/* An arena for the JSON trees the mutator and the event check build on
 * every exec. Through ASan's allocator (and libFuzzer's malloc hooks)
 * each cJSON node cost an unwound stack and a quarantine slot: most of an
 * exec's time. The arena is emptied before each use and serves cJSON only
 * while the engine runs, never the handler's own allocations. */
#define ARENA_SIZE (64u << 20)
static unsigned char *arena;
static size_t arena_used;

static void *arena_malloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (arena == NULL || n > ARENA_SIZE - arena_used)
    return malloc(n); /* a huge event: the heap, as before */
  arena_used += n;
  return arena + arena_used - n;
}

static void arena_free(void *p) {
  if (arena == NULL || (unsigned char *)p < arena ||
      (unsigned char *)p >= arena + ARENA_SIZE)
    free(p);
}

static void engine_begin(void) {
  static cJSON_Hooks hooks = {arena_malloc, arena_free};

  if (arena == NULL)
    arena = malloc(ARENA_SIZE);
  arena_used = 0;
  cJSON_InitHooks(&hooks);
}

static void engine_end(void) {
  lk_mem_json_hooks(); /* the handler's host calls use the heap */
}

/* One finding, on one line lambkin fuzz reads back; libFuzzer keeps the
 * input as a crash. */
static void report_finding(const char *cls, const char *evidence) {
  const char *e;

  fprintf(stderr, "==LAMBKIN== FINDING %s: ", cls);
  for (e = evidence; *e; e++)
    if ((unsigned char)*e < 0x20)
      fprintf(stderr, "\\x%02x", (unsigned char)*e);
    else
      fputc(*e, stderr);
  fputc('\n', stderr);
  abort();
}

/* The lines of LAMBKIN_FUZZ_LOOPS: "kind\ta\tb\tc". */
#define MAX_LOOPS 64
static struct { char kind[8], a[256], b[256], c[256]; } loops[MAX_LOOPS];
static int n_loops;

static void read_loops(void) {
  const char *p = getenv("LAMBKIN_FUZZ_LOOPS");

  while (p && *p && n_loops < MAX_LOOPS) {
    size_t len = strcspn(p, "\n"), f = 0, i = 0;
    char *fields[4];

    fields[0] = loops[n_loops].kind;
    fields[1] = loops[n_loops].a;
    fields[2] = loops[n_loops].b;
    fields[3] = loops[n_loops].c;
    for (; i < len; i++) { /* fields cut at their size, tabs split */
      size_t cap = f == 0 ? sizeof(loops[0].kind) : sizeof(loops[0].a);
      size_t at = strlen(fields[f]);

      if (p[i] == '\t' && f < 3)
        f++;
      else if (p[i] != '\t' && at + 1 < cap)
        fields[f][at] = p[i];
    }
    n_loops++;
    p += len + (p[len] == '\n');
  }
}

static int has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);

  return n >= k && strcmp(s + n - k, suf) == 0;
}

/* The response is kept only until the next exec, so one buffer serves:
 * an allocation per exec through ASan cost more than most handlers. */
static int h_respond(lk_response_t *res, const void *data, size_t len) {
  if (len + 1 > reply_cap) {
    char *p = realloc(reply, len + 1);

    if (p == NULL)
      return -12;
    reply = p;
    reply_cap = len + 1;
  }
  memcpy(reply, data, len);
  reply[len] = '\0';
  res->data = reply;
  res->len = len;
  return 0;
}

static int h_fail(lk_response_t *res, const char *type, const char *msg) {
  (void)msg;
  res->failed = 1;
  snprintf(res->error_type, sizeof(res->error_type), "%s",
           type ? type : "Error");
  return 0;
}

static int h_invoke(const lk_request_t *req, const char *fn, const void *p,
                    size_t len, int async, lk_bytes_t *out) {
  int i;

  (void)req, (void)p, (void)len, (void)async;
  for (i = 0; fn && i < n_loops; i++) {
    size_t k = strlen(loops[i].a);

    if (strcmp(loops[i].kind, "invoke") == 0 &&
        strncmp(fn, loops[i].a, k) == 0 && (fn[k] == '\0' || fn[k] == ':'))
      report_finding("self-invocation", "via invoke");
  }
  if (out) {
    out->data = NULL;
    out->len = 0;
  }
  return 0;
}

static int h_s3_put(const lk_request_t *req, const char *bucket,
                    const char *key, const void *data, size_t len) {
  int i;

  (void)req;
  for (i = 0; bucket && key && i < n_loops; i++)
    if (strcmp(loops[i].kind, "s3") == 0 && strcmp(bucket, loops[i].a) == 0 &&
        strncmp(key, loops[i].b, strlen(loops[i].b)) == 0 &&
        has_suffix(key, loops[i].c)) {
      char ev[600];

      snprintf(ev, sizeof(ev), "via s3://%s (key %.500s)", bucket, key);
      report_finding("self-invocation", ev);
    }
  lk_s3_create_bucket(s3, bucket);
  return lk_s3_put_object(s3, bucket, key, data, len, NULL, NULL);
}

static int h_s3_get(const lk_request_t *req, const char *bucket,
                    const char *key, lk_bytes_t *out) {
  const lk_s3_object_t *o = lk_s3_get_object(s3, bucket, key);

  (void)req;
  if (o == NULL)
    return -2;
  out->data = malloc(o->len + 1);
  if (out->data == NULL)
    return -12;
  memcpy(out->data, o->data, o->len);
  out->len = o->len;
  return 0;
}

static int h_sqs_send(const lk_request_t *req, const char *q, const char *b) {
  const char *name = q && strrchr(q, '/') ? strrchr(q, '/') + 1 : q;
  int i;

  (void)req, (void)b;
  for (i = 0; name && i < n_loops; i++)
    if (strcmp(loops[i].kind, "sqs") == 0 && strcmp(name, loops[i].a) == 0) {
      char ev[300];

      snprintf(ev, sizeof(ev), "via sqs://%s", name);
      report_finding("self-invocation", ev);
    }
  return 0;
}

static const lk_host_t host = {h_respond, h_fail,     h_invoke, h_s3_put,
                               h_s3_get,  h_sqs_send, NULL};

/* Work done once belongs before the first exec: OpenSSL's first digest
 * (md5OfBody) reads its configuration file, milliseconds. */
static void engine_init(void) {
  char md5[33];

  read_loops();
  fast = lk_spanmut_new();
  s3 = lk_s3_new("us-east-1", "123456789012");
  lk_md5_hex("", 0, md5);
}

#ifdef LK_FUZZ_HANDLER
int LK_FUZZ_HANDLER(const lk_request_t *req, lk_response_t *res);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  handler = LK_FUZZ_HANDLER;
  engine_init();
  return 0;
}
#else
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *so = getenv("LAMBKIN_FUZZ_SO");
  const char *sym = getenv("LAMBKIN_FUZZ_SYMBOL");
  void *dl;

  (void)argc, (void)argv;
  if (so == NULL || sym == NULL) {
    fprintf(stderr, "fuzz_handler: set LAMBKIN_FUZZ_SO and "
                    "LAMBKIN_FUZZ_SYMBOL\n");
    exit(2);
  }
  dl = dlopen(so, RTLD_NOW);
  handler = dl ? (lk_handler_fn *)dlsym(dl, sym) : NULL;
  if (handler == NULL) {
    fprintf(stderr, "fuzz_handler: %s\n", dlerror());
    exit(2);
  }
  engine_init();
  return 0;
}
#endif

/* The sink report of this call, if the sink library wrote one: judged
 * by the same oracles as process mode. A finding stops the run. */
static void judge_sinks(void) {
  static const char *path, *root;
  static int checked;
  lk_oracle_ctx_t c = {"/nonexistent", NULL, 0, NULL, NULL, 0};
  lk_verdict_t v[LK_VERDICT_MAX];
  lk_observed_t o;
  struct stat st;
  size_t len;
  char *text;
  int n;

  if (!checked) {
    path = getenv("LAMBKIN_SINK_LOG");
    root = getenv("LAMBKIN_TASK_ROOT");
    checked = 1;
  }
  c.task_root = root ? root : "/nonexistent";
  if (path == NULL || stat(path, &st) != 0 || st.st_size == 0)
    return;
  text = lk_read_file(path, 1 << 20, &len);
  if (truncate(path, 0) != 0 || text == NULL) {
    free(text);
    return;
  }
  memset(&o, 0, sizeof(o));
  o.sink = text;
  o.sink_len = len;
  o.outcome = "ok";
  o.body = "";
  n = lk_oracle_judge(&c, &o, v, LK_VERDICT_MAX);
  free(text);
  if (n > 0)
    report_finding(v[0].cls, v[0].evidence);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lk_request_t req;
  lk_response_t res;
  char *payload;

  /* Only events a source could send reach the handler. What the mutator
   * just wrote, or the scanner can read, needs no parse. */
  if (lk_spanmut_source(fast, (const char *)data, size) == LK_SRC_UNKNOWN) {
    lk_source_t src;

    engine_begin();
    src = lk_event_source((const char *)data, size);
    engine_end();
    if (src == LK_SRC_UNKNOWN)
      return -1;
  }
  payload = malloc(size + 1);
  if (payload == NULL)
    return 0;
  memcpy(payload, data, size);
  payload[size] = '\0';
  memset(&req, 0, sizeof(req));
  memset(&res, 0, sizeof(res));
  req.payload = payload;
  req.len = size;
  req.request_id = "00000000-0000-4000-8000-000000000000";
  req.function_name = "fuzzed";
  req.function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fuzzed";
  req.trace_id = "Root=1-00000000-000000000000000000000000;Parent=0;Sampled=0";
  req.deadline_ms = INT64_MAX / 2;
  req.host = &host;
  handler(&req, &res);
  judge_sinks();
  free(payload);
  return 0;
}

#ifndef LK_PLAIN_LIBFUZZER /* plain_handler: libFuzzer's own mutations */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
                               unsigned int seed) {
  size_t n =
      lk_spanmut_mutate(fast, (char *)data, size, max, seed, LLVMFuzzerMutate);

  if (n)
    return n;
  engine_begin(); /* a field the fast path cannot change in place */
  n = lk_mutate_event((char *)data, size, max, seed, LLVMFuzzerMutate);
  engine_end();
  if (n)
    lk_spanmut_note(fast, (char *)data, n);
  return n ? n : size; /* not an event: leave it for -1 to drop */
}

/* libFuzzer gives a custom crossover as many turns as the custom mutator:
 * half of all mutations, each a scan of a second event. Declining three
 * calls in four (libFuzzer then picks again) leaves crossover about one
 * mutation in five, near its share among libFuzzer's own mutators. */
size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t alen,
                                 const uint8_t *b, size_t blen, uint8_t *out,
                                 size_t max, unsigned int seed) {
  size_t n;

  if (seed % 4 != 0)
    return 0;
  n = lk_spanmut_crossover(fast, (const char *)a, alen, (const char *)b, blen,
                           (char *)out, max, seed);

  if (n)
    return n;
  engine_begin();
  n = lk_crossover_event((const char *)a, alen, (const char *)b, blen,
                         (char *)out, max, seed);
  engine_end();
  if (n)
    lk_spanmut_note(fast, (char *)out, n);
  return n;
}
#endif
