/* SNS to http:// subscribers (see sns_http.h). Each delivery in progress
 * is a post_t in a list: its copy of what it sends, its attempts, and a
 * timer for the next one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "lambkin/lambkin.h"
#include "mem.h"
#include "sns_http.h"

#define TIMEOUT_MS 15000
#define RETRIES 3
#define FIRST_RETRY_MS 1000

typedef struct post {
  struct lk_sns_http *owner;
  char *url, *body, *type, *id, *topic, *sub, *dead_letter, *group;
  int attempts;
  lk_http_call_t *call;
  uv_timer_t *timer;
  struct post *prev, *next;
} post_t;

struct lk_sns_http {
  uv_loop_t *loop;
  lk_sqs_t *sqs;
  post_t *posts;
  int closing;
};

lk_sns_http_t *lk_sns_http_new(uv_loop_t *loop, lk_sqs_t *sqs) {
  lk_sns_http_t *h = lk_xcalloc(1, sizeof(*h));

  h->loop = loop;
  h->sqs = sqs;
  return h;
}

static void post_free(post_t *p) {
  free(p->url);
  free(p->body);
  free(p->type);
  free(p->id);
  free(p->topic);
  free(p->sub);
  free(p->dead_letter);
  free(p->group);
  free(p);
}

static void on_timer_closed(uv_handle_t *t) {
  post_t *p = t->data;

  free(t);
  post_free(p);
}

/* Done with it, delivered or not: out of the list, its timer closed. */
static void post_done(post_t *p) {
  lk_sns_http_t *h = p->owner;

  if (p->prev)
    p->prev->next = p->next;
  else
    h->posts = p->next;
  if (p->next)
    p->next->prev = p->prev;
  uv_close((uv_handle_t *)p->timer, on_timer_closed);
}

static void give_up(post_t *p, int status) {
  const char *topic = strrchr(p->topic, ':') + 1;

  if (p->dead_letter &&
      lk_sqs_send_fifo(p->owner->sqs, p->dead_letter, p->body, strlen(p->body),
                       NULL, p->group, p->group ? p->id : NULL, NULL) == 0)
    return;
  fprintf(stderr,
          "lambkin: SNS %s: %s %s after %d attempt(s); the %s is dropped%s\n",
          topic, p->url,
          status > 0 ? "answered no 2xx" : "could not be reached", p->attempts,
          strcmp(p->type, "Notification") ? "confirmation request" : "message",
          p->dead_letter ? ", and its RedrivePolicy queue is not there"
                         : ": a RedrivePolicy would keep it");
}

static void attempt(post_t *p);

static void on_retry(uv_timer_t *t) {
  attempt(t->data);
}

static void on_answer(int status, void *ud) {
  post_t *p = ud;

  p->call = NULL;
  if (status >= 200 && status < 300) {
    post_done(p);
    return;
  }
  if (p->attempts > RETRIES) {
    give_up(p, status);
    post_done(p);
    return;
  }
  uv_timer_start(p->timer, on_retry,
                 (uint64_t)FIRST_RETRY_MS << (p->attempts - 1), 0);
}

static void attempt(post_t *p) {
  const lk_http_header_t hdr[6] = {
      {"Content-Type", "text/plain; charset=UTF-8"},
      {"User-Agent", "Amazon Simple Notification Service Agent"},
      {"x-amz-sns-message-type", p->type},
      {"x-amz-sns-message-id", p->id},
      {"x-amz-sns-topic-arn", p->topic},
      {"x-amz-sns-subscription-arn", p->sub},
  };
  /* a confirmation names no subscription yet */
  int n = strcmp(p->type, "Notification") == 0 ? 6 : 5;

  p->attempts++;
  if (lk_http_post(p->owner->loop, p->url, hdr, n, p->body, strlen(p->body),
                   TIMEOUT_MS, on_answer, p, &p->call) != 0) {
    give_up(p, 0);
    post_done(p);
  }
}

void lk_sns_http_post(lk_sns_http_t *h, const lk_sns_delivery_t *d,
                      const char *body) {
  post_t *p;

  if (h->closing)
    return;
  if (strcmp(d->protocol, "http") != 0) {
    fprintf(stderr,
            "lambkin: SNS %s: %s is not delivered: lambkin delivers to "
            "http:// endpoints on this machine, not https://\n",
            strrchr(d->topic_arn, ':') + 1, d->endpoint);
    return;
  }
  p = lk_xcalloc(1, sizeof(*p));
  p->owner = h;
  p->url = lk_xstrdup(d->endpoint);
  p->body = lk_xstrdup(body);
  p->type = lk_xstrdup(d->type ? d->type : "Notification");
  p->id = lk_xstrdup(d->message_id);
  p->topic = lk_xstrdup(d->topic_arn);
  p->sub = lk_xstrdup(d->sub_arn);
  p->dead_letter = d->dead_letter ? lk_xstrdup(d->dead_letter) : NULL;
  p->group = d->group_id ? lk_xstrdup(d->group_id) : NULL;
  p->timer = lk_xmalloc(sizeof(*p->timer));
  uv_timer_init(h->loop, p->timer);
  p->timer->data = p;
  p->next = h->posts;
  if (h->posts)
    h->posts->prev = p;
  h->posts = p;
  attempt(p);
}

void lk_sns_http_close(lk_sns_http_t *h) {
  if (h == NULL || h->closing)
    return;
  h->closing = 1;
  while (h->posts) {
    post_t *p = h->posts;

    lk_http_call_cancel(p->call);
    p->call = NULL;
    post_done(p);
  }
}

void lk_sns_http_free(lk_sns_http_t *h) {
  free(h);
}
