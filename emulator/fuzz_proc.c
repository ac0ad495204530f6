/* Process mode of `lambkin fuzz`, for python, node and provided functions:
 * the event-aware mutator drives invocations through the emulator (the
 * Runtime API, warm instances, --jobs of them in parallel). Oracles so
 * far: the runtime died (crash), the deadline passed (timeout), or the
 * handler threw (unhandled-error, keyed by its errorType). An input that
 * shows a new outcome, error type or response size class joins the
 * corpus. The sink library and the injection oracles are not built yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "emu.h"
#include "fuzz_proc.h"
#include "mutator.h"

#define MAX_EVENT (256 * 1024)
#define MAX_CORPUS 4096
#define MAX_SIGS 1024

typedef struct fz {
  uv_loop_t *loop;
  lk_emu_t *emu;
  lk_function_t *fn;
  const char *source, *findings_dir;
  cJSON *report;
  char *corpus[MAX_CORPUS];
  size_t corpus_len[MAX_CORPUS];
  int n_corpus;
  char *sigs[MAX_SIGS];
  int n_sigs;
  unsigned rs;
  int in_flight, stopping, closed, found;
  long execs;
  uv_timer_t deadline;
} fz_t;

typedef struct shot {
  fz_t *fz;
  char *event;
  size_t len;
} shot_t;

static unsigned rnd(fz_t *z) {
  z->rs = z->rs * 1103515245u + 12345u;
  return (z->rs >> 16) & 0x7fff;
}

static unsigned mut_state;

/* Byte mutations for one field, as LLVMFuzzerMutate would do them. */
static size_t byte_mutate(uint8_t *d, size_t n, size_t max) {
  unsigned r;

  mut_state = mut_state * 1103515245u + 12345u;
  r = (mut_state >> 16) & 0x7fff;
  switch (r % 4) {
  case 0: /* flip a byte */
    if (n)
      d[r % n] ^= (uint8_t)(1u << (r % 8));
    break;
  case 1: /* insert a byte */
    if (n < max) {
      size_t at = n ? r % (n + 1) : 0;

      memmove(d + at + 1, d + at, n - at);
      d[at] = (uint8_t)(r >> 3);
      n++;
    }
    break;
  case 2: /* drop a byte */
    if (n) {
      size_t at = r % n;

      memmove(d + at, d + at + 1, n - at - 1);
      n--;
    }
    break;
  default: /* repeat the value */
    if (n && n * 2 <= max) {
      memcpy(d + n, d, n);
      n *= 2;
    }
  }
  return n;
}

static int new_sig(fz_t *z, const char *sig) {
  int i;

  for (i = 0; i < z->n_sigs; i++)
    if (strcmp(z->sigs[i], sig) == 0)
      return 0;
  if (z->n_sigs < MAX_SIGS)
    z->sigs[z->n_sigs++] = strdup(sig);
  return 1;
}

static void finding(fz_t *z, const char *cls, const lk_result_t *r,
                    const shot_t *s) {
  char path[4400], state[300], name[64];
  cJSON *rep = cJSON_CreateObject(), *entry;
  char *text;

  snprintf(state, sizeof(state), "%s: %.200s", r->error_type, r->body);
  snprintf(name, sizeof(name), "%s-%08x", cls, z->rs);
  snprintf(path, sizeof(path), "%s/%s.json", z->findings_dir, name);
  cJSON_AddStringToObject(rep, "class", cls);
  cJSON_AddStringToObject(rep, "function", z->fn->name);
  cJSON_AddStringToObject(rep, "source", z->source);
  cJSON_AddStringToObject(rep, "state", state);
  cJSON_AddStringToObject(rep, "event", s->event);
  text = cJSON_Print(rep);
  if (text)
    lk_write_file_atomic(path, text, strlen(text));
  free(text);
  entry = cJSON_Duplicate(rep, 1);
  cJSON_DeleteItemFromObject(entry, "event");
  cJSON_AddStringToObject(entry, "reproducer", path);
  cJSON_AddItemToArray(cJSON_GetObjectItem(z->report, "findings"), entry);
  cJSON_Delete(rep);
  z->found++;
}

static void fire(fz_t *z);

static void on_result(const lk_result_t *r, void *ud) {
  shot_t *s = ud;
  fz_t *z = s->fz;
  char sig[256];
  size_t bucket = 0, l;

  z->in_flight--;
  z->execs++;
  for (l = r->len; l; l >>= 1)
    bucket++;
  snprintf(sig, sizeof(sig), "%s/%s/%zu", r->outcome,
           r->error_type ? r->error_type : "-", bucket);
  if (new_sig(z, sig)) {
    char fsig[200];

    snprintf(fsig, sizeof(fsig), "finding/%s",
             r->error_type ? r->error_type : "");
    /* One finding per (class, function, error type); the corpus still
     * takes every new behaviour. */
    if (r->error_type && strcmp(r->error_type, "Lambkin.Stopping") != 0 &&
        new_sig(z, fsig))
      finding(z,
              strcmp(r->error_type, "Runtime.ExitError") == 0 ? "crash"
              : strcmp(r->error_type, "Sandbox.Timedout") == 0
                  ? "timeout"
                  : "unhandled-error",
              r, s);
    if (z->n_corpus < MAX_CORPUS) { /* new behaviour: keep the input */
      char *kept = realloc(s->event, s->len + 1); /* not the 256 KB */

      z->corpus[z->n_corpus] = kept ? kept : s->event;
      z->corpus_len[z->n_corpus++] = s->len;
      s->event = NULL;
    }
  }
  free(s->event);
  free(s);
  if (!z->stopping)
    fire(z);
  else if (z->in_flight == 0 && !z->closed) {
    z->closed = 1;
    lk_emu_close(z->emu);
  }
}

static void fire(fz_t *z) {
  shot_t *s = calloc(1, sizeof(*s));
  int k = (int)(rnd(z) % (unsigned)z->n_corpus);
  size_t n;

  if (s == NULL)
    return;
  s->fz = z;
  s->event = malloc(MAX_EVENT);
  if (s->event == NULL) {
    free(s);
    return;
  }
  memcpy(s->event, z->corpus[k], z->corpus_len[k]);
  mut_state = rnd(z) * 2654435761u;
  n = lk_mutate_event(s->event, z->corpus_len[k], MAX_EVENT - 1, rnd(z) + 1,
                      byte_mutate);
  s->len = n ? n : z->corpus_len[k];
  s->event[s->len] = '\0';
  z->in_flight++;
  if (lk_emu_invoke(z->emu, z->fn, s->event, s->len, 0, "fuzz", NULL, NULL,
                    on_result, s)) {
    z->in_flight--;
    free(s->event);
    free(s);
  }
}

static void on_deadline(uv_timer_t *t) {
  fz_t *z = t->data;

  z->stopping = 1;
  uv_close((uv_handle_t *)t, NULL);
  if (z->in_flight == 0 && !z->closed) {
    z->closed = 1;
    lk_emu_close(z->emu);
  }
}

int lk_fuzz_process(lk_app_t *app, lk_function_t *fn, const char *seed,
                    const char *source, int time_s, int jobs, unsigned rs,
                    const char *state_dir, const char *findings_dir,
                    cJSON *report, long *execs) {
  uv_loop_t loop;
  lk_emu_opts_t o = {0};
  fz_t z;
  int i;

  memset(&z, 0, sizeof(z));
  if (uv_loop_init(&loop))
    return -1;
  o.port = 0; /* functions may call back into the services */
  o.api_port = -1;
  o.quiet = 1;
  o.state_dir = state_dir;
  o.max_instances = jobs;
  z.loop = &loop;
  z.fn = fn;
  z.source = source;
  z.findings_dir = findings_dir;
  z.report = report;
  z.rs = rs ? rs : 1;
  z.corpus[0] = strdup(seed);
  z.corpus_len[0] = strlen(seed);
  z.n_corpus = 1;
  if (lk_emu_new(&loop, app, &o, &z.emu)) {
    free(z.corpus[0]);
    uv_loop_close(&loop);
    return -1;
  }
  uv_timer_init(&loop, &z.deadline);
  z.deadline.data = &z;
  uv_timer_start(&z.deadline, on_deadline, (uint64_t)time_s * 1000, 0);
  for (i = 0; i < jobs; i++)
    fire(&z);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!z.closed)
    lk_emu_close(z.emu);
  uv_run(&loop, UV_RUN_DEFAULT);
  lk_emu_free(z.emu);
  uv_loop_close(&loop);
  for (i = 0; i < z.n_corpus; i++)
    free(z.corpus[i]);
  for (i = 0; i < z.n_sigs; i++)
    free(z.sigs[i]);
  *execs = z.execs;
  return z.found;
}
