/* STS GetCallerIdentity on the query protocol (see sts.h). The role id
 * of a function's session is derived from its name, so it is the same
 * at every start, as a role's id is in AWS. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "ids.h"
#include "lambkin/lambkin.h"
#include "sts.h"

#define STS_XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"

/* STS's actions, to tell its calls from SQS's on the same form. */
static const char *const actions[] = {"GetCallerIdentity",
                                      "AssumeRole",
                                      "AssumeRoleWithWebIdentity",
                                      "AssumeRoleWithSAML",
                                      "GetSessionToken",
                                      "GetFederationToken",
                                      "GetAccessKeyInfo",
                                      "DecodeAuthorizationMessage",
                                      "AssumeRoot",
                                      NULL};

static void form_action(const lk_http_req_t *req, char *out, size_t cap) {
  const char *src = req->body.len ? req->body.data : req->query;
  size_t len = req->body.len ? req->body.len : strlen(req->query);

  out[0] = '\0';
  lk_form_get(src, len, "Action", out, cap);
}

int lk_sts_is_request(const lk_http_req_t *req) {
  const char *auth = lk_http_header(req, "Authorization");
  char action[64];
  int i;

  if (auth && strstr(auth, "Credential=") && strstr(auth, "/sts/aws4_request"))
    return 1;
  if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "GET") != 0)
    return 0;
  form_action(req, action, sizeof(action));
  for (i = 0; actions[i]; i++)
    if (strcmp(action, actions[i]) == 0)
      return 1;
  return 0;
}

/* AROA and 17 letters and digits, from the function's name. */
static void role_id(const char *name, char out[22]) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  uint64_t h = 0xcbf29ce484222325ULL;
  int i;

  for (i = 0; name[i]; i++) {
    h ^= (unsigned char)name[i];
    h *= 0x100000001b3ULL;
  }
  memcpy(out, "AROA", 4);
  for (i = 4; i < 21; i++) {
    out[i] = abc[h & 31];
    h = (h >> 5) | (h << 59);
  }
  out[21] = '\0';
}

static void respond(lk_http_req_t *req, int status, lk_buf_t *b,
                    const char *rid) {
  lk_http_header_t h[2] = {{"Content-Type", "text/xml"},
                           {"x-amzn-RequestId", rid}};

  lk_http_respond(req, status, h, 2, lk_buf_str(b), b->len);
}

static void invalid_action(lk_http_req_t *req, const char *action,
                           const char *rid) {
  char msg[160];
  lk_buf_t b;

  snprintf(msg, sizeof(msg), "lambkin does not emulate sts.%.64s",
           action[0] ? action : "(no Action)");
  lk_buf_init(&b, 4096);
  lk_buf_adds(&b, "<ErrorResponse xmlns=\"" STS_XMLNS "\"><Error><Type>Sender"
                  "</Type><Code>InvalidAction</Code><Message>");
  lk_xml_escape(&b, msg, strlen(msg));
  lk_buf_printf(&b,
                "</Message></Error><RequestId>%s</RequestId>"
                "</ErrorResponse>",
                rid);
  respond(req, 400, &b, rid);
  lk_buf_free(&b);
}

void lk_sts_serve(lk_http_req_t *req, const lk_sts_caller_t *who) {
  char action[64], rid[37], id[22];
  lk_buf_t b;

  lk_uuid(rid);
  form_action(req, action, sizeof(action));
  if (strcmp(action, "GetCallerIdentity") != 0) {
    invalid_action(req, action, rid);
    return;
  }
  lk_buf_init(&b, 4096);
  lk_buf_adds(&b, "<GetCallerIdentityResponse xmlns=\"" STS_XMLNS "\">"
                  "<GetCallerIdentityResult><Arn>");
  if (who->function) {
    role_id(who->function, id);
    lk_buf_adds(&b, "arn:aws:sts::");
    lk_xml_escape(&b, who->account, strlen(who->account));
    lk_buf_adds(&b, ":assumed-role/");
    lk_xml_escape(&b, who->function, strlen(who->function));
    lk_buf_adds(&b, "-role/");
    lk_xml_escape(&b, who->function, strlen(who->function));
    lk_buf_printf(&b, "</Arn><UserId>%s:", id);
    lk_xml_escape(&b, who->function, strlen(who->function));
  } else {
    lk_buf_adds(&b, "arn:aws:iam::");
    lk_xml_escape(&b, who->account, strlen(who->account));
    lk_buf_adds(&b, ":root</Arn><UserId>");
    lk_xml_escape(&b, who->account, strlen(who->account));
  }
  lk_buf_adds(&b, "</UserId><Account>");
  lk_xml_escape(&b, who->account, strlen(who->account));
  lk_buf_printf(&b,
                "</Account></GetCallerIdentityResult><ResponseMetadata>"
                "<RequestId>%s</RequestId></ResponseMetadata>"
                "</GetCallerIdentityResponse>",
                rid);
  respond(req, 200, &b, rid);
  lk_buf_free(&b);
}
