/* Host, Origin, Referer and Sec-Fetch-Site checks (see browser.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "browser.h"
#include "http.h"

#define NAME_MAX_LEN 256

/* The host of "host", "host:port", "[v6]" or "[v6]:port", lowercased and
 * without a trailing dot; "" when it does not fit or is malformed. */
static void host_of(const char *hp, size_t n, char *out, size_t cap) {
  const char *end = hp + n, *colon;
  size_t len, i;

  out[0] = '\0';
  if (n > 0 && hp[0] == '[') {
    const char *close = memchr(hp, ']', n);

    if (close == NULL)
      return;
    hp++;
    end = close;
  } else if ((colon = memchr(hp, ':', n)) != NULL) {
    end = colon;
  }
  len = (size_t)(end - hp);
  if (len > 0 && hp[len - 1] == '.')
    len--;
  if (len == 0 || len >= cap)
    return;
  for (i = 0; i < len; i++)
    out[i] = (char)tolower((unsigned char)hp[i]);
  out[len] = '\0';
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);

  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int is_ip(const char *host) {
  unsigned char addr[16];

  return inet_pton(AF_INET, host, addr) == 1 ||
         inet_pton(AF_INET6, host, addr) == 1;
}

static int is_loopback(const char *host) {
  unsigned char addr[16];

  if (strcmp(host, "localhost") == 0 || ends_with(host, ".localhost"))
    return 1;
  if (inet_pton(AF_INET, host, addr) == 1)
    return addr[0] == 127;
  return strcmp(host, "::1") == 0;
}

static int listed_host(const lk_browser_policy_t *p, const char *host) {
  int i;

  for (i = 0; i < p->n_hosts; i++) {
    const char *h = p->hosts[i];

    if (strcmp(h, "*") == 0 || strcasecmp(h, host) == 0)
      return 1;
    if (h[0] == '.' && (strcasecmp(h + 1, host) == 0 || ends_with(host, h)))
      return 1;
  }
  return 0;
}

/* DNS rebinding sends a foreign name; an IP literal or a loopback name
 * cannot be one. */
static int host_allowed(const lk_browser_policy_t *p, const char *hp) {
  char host[NAME_MAX_LEN];

  host_of(hp, strlen(hp), host, sizeof(host));
  return host[0] && (is_ip(host) || is_loopback(host) || listed_host(p, host));
}

/* "scheme://host[:port]" of a page on this machine, or a listed one. */
static int origin_allowed(const lk_browser_policy_t *p, const char *origin,
                          size_t n) {
  char host[NAME_MAX_LEN];
  const char *rest = NULL;
  int i;

  for (i = 0; i < p->n_origins; i++)
    if (strcmp(p->origins[i], "*") == 0 ||
        (strlen(p->origins[i]) == n &&
         strncasecmp(p->origins[i], origin, n) == 0))
      return 1;
  if (n > 7 && strncasecmp(origin, "http://", 7) == 0)
    rest = origin + 7;
  else if (n > 8 && strncasecmp(origin, "https://", 8) == 0)
    rest = origin + 8;
  if (rest == NULL)
    return 0; /* "null", file:, extensions... */
  host_of(rest, n - (size_t)(rest - origin), host, sizeof(host));
  return host[0] && is_loopback(host);
}

/* The origin part of a Referer URL: up to the first '/' after "//". */
static size_t referer_origin_len(const char *ref) {
  const char *s = strstr(ref, "://");
  const char *slash = s ? strchr(s + 3, '/') : NULL;

  return slash ? (size_t)(slash - ref) : strlen(ref);
}

int lk_browser_check(const lk_browser_policy_t *p, const lk_http_req_t *req,
                     const char **why) {
  const char *host = lk_http_header(req, "Host");
  const char *origin = lk_http_header(req, "Origin");
  const char *site = lk_http_header(req, "Sec-Fetch-Site");
  const char *ref = lk_http_header(req, "Referer");

  if (host && !host_allowed(p, host)) {
    *why = "Host not allowed (lambkin serve --allowed-hosts adds one)";
    return 403;
  }
  if (origin) {
    if (origin_allowed(p, origin, strlen(origin)))
      return 0;
    *why = "cross-origin request refused (lambkin serve --cors-origin "
           "allows an origin)";
    return 403;
  }
  if (site && strcasecmp(site, "cross-site") == 0) {
    *why = "cross-site request refused";
    return 403;
  }
  if (site == NULL && ref && !origin_allowed(p, ref, referer_origin_len(ref))) {
    *why = "cross-site request refused (Referer)";
    return 403;
  }
  return 0;
}

const char *lk_browser_cors_origin(const lk_browser_policy_t *p,
                                   const lk_http_req_t *req) {
  const char *origin = lk_http_header(req, "Origin");

  return origin && origin_allowed(p, origin, strlen(origin)) ? origin : NULL;
}

int lk_browser_is_preflight(const lk_http_req_t *req) {
  return strcmp(req->method, "OPTIONS") == 0 && lk_http_header(req, "Origin") &&
         lk_http_header(req, "Access-Control-Request-Method");
}
