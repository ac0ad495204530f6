/* Request ids, random hex and the wall clock. Ids come from the one
 * generator (rand.h), seeded from the kernel once: they must be unique,
 * not secret. Every function writes into the caller's array. */
#ifndef LK_IDS_H
#define LK_IDS_H

#include <stddef.h>
#include <stdint.h>

/* A version 4 UUID, 36 characters and a NUL. */
void lk_uuid(char out[37]);
/* n random lowercase hex digits and a NUL (out holds n + 1 bytes). */
void lk_hex(char *out, size_t n);
/* The same from the kernel's generator, for secrets: ids are seen by
 * every client, and the fast generator's state can be read back from
 * them. */
void lk_secret_hex(char *out, size_t n);
/* Milliseconds since the epoch. */
uint64_t lk_now_ms(void);

#endif
