/* The sink report as the process-mode fuzzer reads it: the lines the
 * sink library, the bootstraps and the emulator append to a file the
 * fuzzed function can also write (fuzz/sink.c has the format). Every
 * reader takes the bytes as they are, stops at len and keeps to its
 * ceilings; nothing here owns what it is given but the words it copies. */
#ifndef LK_SINKREP_H
#define LK_SINKREP_H

#include <stddef.h>
#include <stdint.h>

#define LK_SINKREP_WORD_MAX 64 /* a "dict" word's bytes, at most */

/* "|exec|sql" for the kinds of line in the report, each once, in a fixed
 * order, into out (NUL-terminated when cap > 0); the bytes written. */
size_t lk_sinkrep_kinds(const char *rep, size_t len, char *out, size_t cap);
/* The last "cov\tN" (lines or blocks run so far), or 0. */
long lk_sinkrep_cov(const char *rep, size_t len);
/* The "dict\tWORD" words (2 to LK_SINKREP_WORD_MAX bytes, no tab or
 * backslash) not yet in words[0..n), appended as copies the caller
 * frees, up to max in all; the new count. */
int lk_sinkrep_words(const char *rep, size_t len, char **words, int n, int max);
/* The "covu\tHEX,HEX,..." units, up to max, into units; their count. */
int lk_sinkrep_units(const char *rep, size_t len, uint32_t *units, int max);

#endif
