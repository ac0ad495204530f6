/* The event-aware mutator: one step of structure-aware fuzzing for Lambda
 * events. It parses an event (S3, SQS, CloudWatch Logs, API Gateway v1 or
 * v2, DynamoDB streams, SNS, Kinesis, EventBridge), picks one field the
 * source fills with outside data, changes it with a byte mutation or an
 * attack payload, fixes what depends on that field (URL-encoded key,
 * md5OfBody, base64+gzip of a log payload, base64 of a binary body or of
 * Kinesis data, Content-Length, a key attribute in a stream record's
 * images) and writes the event back. It never hands out an event the
 * source could not have sent: what it cannot repair, it refuses. Pure: no state
 * but what the caller passes in. */
#ifndef LK_MUTATOR_H
#define LK_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rand.h"

typedef enum {
  LK_SRC_UNKNOWN = 0,
  LK_SRC_S3,
  LK_SRC_SQS,
  LK_SRC_LOGS,
  LK_SRC_APIGW_V1,
  LK_SRC_APIGW_V2,
  LK_SRC_DYNAMODB,
  LK_SRC_SNS,
  LK_SRC_KINESIS,
  LK_SRC_EVENTBRIDGE
} lk_source_t;

/* Mutates data[0..size) in place, up to max bytes; returns the new size.
 * libFuzzer's LLVMFuzzerMutate has this shape. */
typedef size_t (*lk_byte_mutator)(uint8_t *data, size_t size, size_t max);

/* The source an event comes from, by its shape. */
lk_source_t lk_event_source(const char *event, size_t len);
const char *lk_source_name(lk_source_t s);

/* Words the function's code compares event data with (the literals of
 * its code, the operands of its string tests), as the runtimes report
 * them: the mutator splices one in, in place of a mutation in six, as
 * libFuzzer does with a dictionary. The caller owns them. */
typedef struct lk_words {
  const char *const *word;
  int n;
} lk_words_t;

/* Mutates the event in buf[0..len) into buf, at most max bytes; seed picks
 * the field and the kind of change; words may be NULL. Returns the new
 * length, or 0 when the input is not an event it knows or the result
 * would not fit. */
size_t lk_mutate_event_words(char *buf, size_t len, size_t max, unsigned seed,
                             lk_byte_mutator mutate, const lk_words_t *words);
/* The same without words. */
size_t lk_mutate_event(char *buf, size_t len, size_t max, unsigned seed,
                       lk_byte_mutator mutate);

/* Crossover: one outside-data field of event a takes the value of one of
 * event b's (same source), and what depends on it is redone; the result
 * goes to out (at most max bytes). 0 when they are not events of one
 * known source or the result would not fit. */
size_t lk_crossover_event(const char *a, size_t alen, const char *b,
                          size_t blen, char *out, size_t max, unsigned seed);

/* Pieces shared with the fast path (spanmut.c), so both change a field
 * the same way. lk_mutate_value changes buf[0..n) (at most cap bytes): a
 * byte mutation or an attack payload spliced in; returns the new length.
 * lk_s3_key_encode writes a key as S3 notifications carry it (URL-encoded,
 * '+' for spaces). */
size_t lk_mutate_value(char *buf, size_t n, size_t cap, lk_rand_t *rng,
                       lk_byte_mutator mutate);
int lk_s3_key_encode(lk_buf_t *out, const char *key, size_t n);

/* The attack payloads the mutator splices in; each carries a canary that
 * cannot appear by accident (see DESIGN.md, oracles). */
extern const char *const lk_attack_payloads[];
extern const size_t lk_n_attack_payloads;

#endif
