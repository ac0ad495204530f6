/* The invocation journal: one JSON object per line in
 * <state>/journal.jsonl. Invocation lines are gathered in a batch and
 * written with one write() per loop turn (lk_journal_flush), before the
 * answers leave; other records (loops, access, findings) go out at once.
 * Whole lines go in single write()s, so concurrent writers (serve and
 * invoke) never interleave records. The journal owns its file and batch;
 * every function takes a NULL journal and then writes nothing. */
#ifndef LK_JOURNAL_H
#define LK_JOURNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_JOURNAL_BATCH_MAX (16 * 1024 * 1024) /* bytes of lines per write */

typedef struct lk_journal lk_journal_t;

/* What one finished invocation leaves in the journal. */
typedef struct lk_journal_inv {
  const char *id, *function, *source, *trace, *outcome;
  const char *event; /* the exact payload: text, or base64 when not UTF-8 */
  size_t event_len;
  int async, attempt;
  double duration_ms;
  const char *error_type; /* NULL when ok */
  const char *error;      /* the error JSON, kept up to 4 KB */
  size_t error_len;
} lk_journal_inv_t;

/* Opens <dir>/journal.jsonl (0600) for appending, never through a
 * symlink; 0, or the negative errno (*out is then NULL). */
int lk_journal_open(const char *dir, lk_journal_t **out);
/* Writes what the batch holds, then frees. */
void lk_journal_free(lk_journal_t *j);
/* Adds one invocation's line to the batch (a full batch is written
 * first); a line that cannot fit even alone is left out: LK_E2BIG. */
int lk_journal_add(lk_journal_t *j, const lk_journal_inv_t *inv);
/* Writes the batch in one write(); 0 or LK_EIO. */
int lk_journal_flush(lk_journal_t *j);
/* Writes any record (a loop report, a finding) as one line, now. */
int lk_journal_event(lk_journal_t *j, const cJSON *record);
/* The last record with this invocation id in <dir>/journal.jsonl; the
 * caller frees it with cJSON_Delete. NULL when there is none. */
cJSON *lk_journal_find(const char *dir, const char *id);

#endif
