/* Emulated S3: buckets and objects in memory, served over S3's REST-XML
 * wire protocol (path-style and virtual-host addressing). The store owns
 * every bucket and object; lk_s3_free() releases them all. The core calls
 * (lk_s3_put_object and friends) serve the HTTP front and in-process
 * callers such as the fuzzer's host. */
#ifndef LK_S3_H
#define LK_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"
#include "json.h"

#define LK_S3_MAX_OBJECT (32 * 1024 * 1024) /* one PUT; no multipart */
#define LK_S3_MAX_BYTES ((size_t)1 << 30)   /* all objects together */
#define LK_S3_MAX_NOTIFICATION (256 * 1024) /* a bucket's configuration */
#define LK_S3_MAX_BUCKETS 1000
#define LK_S3_MAX_META 64

typedef struct lk_s3 lk_s3_t;

typedef struct lk_s3_object {
  char *key;
  char *data;
  size_t len;
  char etag[33];
  char *content_type;
  char *meta[LK_S3_MAX_META][2]; /* x-amz-meta-* names (lowercase), values */
  int n_meta;
  time_t mtime;
  unsigned long long seq; /* for the event's sequencer */
} lk_s3_object_t;

/* A change to an object, for notifications: event is "ObjectCreated:Put",
 * "ObjectCreated:Copy", "ObjectRemoved:Delete"... obj is NULL on removal.
 * trace is the caller's X-Amzn-Trace-Id, or NULL. */
typedef void (*lk_s3_event_cb)(void *ud, const char *bucket, const char *event,
                               const char *key, const lk_s3_object_t *obj,
                               size_t size, const char *etag,
                               const char *trace);

lk_s3_t *lk_s3_new(const char *region, const char *account);
void lk_s3_free(lk_s3_t *s3);
void lk_s3_on_event(lk_s3_t *s3, lk_s3_event_cb cb, void *ud);

int lk_s3_create_bucket(lk_s3_t *s3, const char *name);
int lk_s3_put_object(lk_s3_t *s3, const char *bucket, const char *key,
                     const void *data, size_t len, const char *content_type,
                     const char *trace);
/* The object stays owned by the store; valid until the next change. */
const lk_s3_object_t *lk_s3_get_object(lk_s3_t *s3, const char *bucket,
                                       const char *key);
int lk_s3_delete(lk_s3_t *s3, const char *bucket, const char *key,
                 const char *trace);

/* The bucket's NotificationConfiguration XML as last PUT, or NULL. */
const char *lk_s3_notification(lk_s3_t *s3, const char *bucket);

/* --state: every bucket and object to one file, and back. Loading keeps
 * what exists (the template's buckets) and adds the rest. */
int lk_s3_save(lk_s3_t *s3, const char *path, uint64_t gen);
int lk_s3_load(lk_s3_t *s3, const char *path, uint64_t *gen);
/* Every change from now on goes to cb as a record ({"s3": op, ...}), and
 * lk_s3_apply replays one. */
void lk_s3_on_record(lk_s3_t *s3, lk_record_cb cb, void *ud);
void lk_s3_apply(lk_s3_t *s3, const cJSON *record);

/* Answers one request; the caller has decided it is S3's. */
void lk_s3_serve(lk_s3_t *s3, lk_http_req_t *req);

#endif
