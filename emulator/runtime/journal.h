/* The invocation journal: one JSON object per line in
 * <state>/journal.jsonl, rotated to journal.1.jsonl at LK_JOURNAL_MAX.
 * Invocation lines are gathered in a batch and written with one write() per
 * loop turn (lk_journal_flush), before the answers leave; other records (loops,
 * access, findings) go out at once. Whole lines go in single write()s, so
 * concurrent writers (serve and invoke) never interleave records. The journal
 * owns its file and batch; every function takes a NULL journal and then writes
 * nothing. */
#ifndef LK_JOURNAL_H
#define LK_JOURNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define LK_JOURNAL_BATCH_MAX (16 * 1024 * 1024) /* bytes of lines per write */
/* journal.jsonl past this becomes journal.1.jsonl, replacing the one
 * before: the journal holds at most about twice this. */
#define LK_JOURNAL_MAX (64 * 1024 * 1024)

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
/* Calls fn(ud) after each rotation, to write again into the new file
 * what must outlive one. */
void lk_journal_on_rotate(lk_journal_t *j, void (*fn)(void *ud), void *ud);
/* The last record with this invocation id in <dir>'s journal files; the
 * caller frees it with cJSON_Delete. NULL when there is none. */
cJSON *lk_journal_find(const char *dir, const char *id);
/* Calls fn with every line of <dir>'s journal files, oldest first, that
 * contains needle; 0, or LK_ENOENT when there is no journal. */
int lk_journal_each(const char *dir, const char *needle,
                    void (*fn)(const char *line, size_t len, void *ud),
                    void *ud);

#endif
