/* Encodings the wire protocols share: percent-encoding, base64, MD5 hex,
 * gzip, UTF-8 checks, bounded numbers, and just enough XML to write S3's
 * replies and read its small request documents. Every function writes
 * into a caller's bounded lk_buf_t or a fixed array; nothing here keeps
 * memory of its own. Each lk_buf_t writer returns the buffer's error,
 * and fails the buffer on bad input too (LK_EINVAL), so a caller never
 * goes on with half an output. */
#ifndef LK_CODEC_H
#define LK_CODEC_H

#include <stddef.h>

#include "buf.h"

/* The value of one hex digit, or -1. */
int lk_hexval(char c);
/* Percent-decodes n bytes; form=1 also turns '+' into ' '. */
int lk_url_decode(lk_buf_t *out, const char *in, size_t n, int form);
/* The value of key in an x-www-form-urlencoded text of len bytes,
 * decoded into out[cap] (cut to fit); 1 when there, else 0. */
int lk_form_get(const char *src, size_t len, const char *key, char *out,
                size_t cap);
/* Percent-encodes all but RFC 3986 unreserved bytes (and '/' if keep_slash). */
int lk_url_encode(lk_buf_t *out, const char *in, size_t n, int keep_slash);
int lk_b64_encode(lk_buf_t *out, const void *in, size_t n);
/* Decodes standard base64; LK_EINVAL on a bad character. */
int lk_b64_decode(lk_buf_t *out, const char *in, size_t n);
/* MD5 of the bytes as 32 lowercase hex digits and a NUL. */
void lk_md5_hex(const void *data, size_t n, char out[33]);
int lk_xml_escape(lk_buf_t *out, const char *s, size_t n);
/* Finds the next <tag>...</tag> in [*cursor, end) and returns its text
 * (not unescaped), advancing *cursor past it; NULL when there is none. */
const char *lk_xml_next(const char **cursor, const char *end, const char *tag,
                        size_t *len);
/* Undoes the five XML entities and numeric references, into out. */
int lk_xml_unescape(lk_buf_t *out, const char *s, size_t n);

/* gzip (RFC 1952) of the bytes, as CloudWatch Logs subscriptions send. */
int lk_gzip(lk_buf_t *out, const void *data, size_t n);

/* Inflates gzip (or zlib) data; LK_EINVAL when it is not. */
int lk_gunzip(lk_buf_t *out, const void *data, size_t n);
/* Replaces each byte that is not part of valid UTF-8 (and each NUL) with
 * '?', in place; returns how many were replaced. */
size_t lk_utf8_repair(char *s, size_t n);
/* 1 when the bytes are UTF-8 text with no NUL. */
int lk_utf8_valid(const void *data, size_t n);

/* A whole decimal number in [lo, hi] into *out: 0, or LK_EINVAL for an
 * empty string, trailing bytes, overflow or a value out of range. */
int lk_parse_long(const char *s, long lo, long hi, long *out);

#endif
