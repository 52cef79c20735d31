#ifndef TW_HTTP_H
#define TW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define TW_HTTP_MAX_HEADERS 48

/* A view of one header line inside the parsed buffer (not NUL-terminated). */
struct tw_http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* A parsed HTTP/1.1 message head: views into the caller's buffer. */
struct tw_http_head {
    int status;                 /* response only */
    const char *method;         /* request only */
    size_t method_len;
    const char *target;         /* request only: path and query */
    size_t target_len;
    int minor_version;          /* HTTP/1.x */
    size_t num_headers;
    struct tw_http_header headers[TW_HTTP_MAX_HEADERS];
};

/*
 * Parse a response head ("HTTP/1.1 101 ...\r\n" + headers + "\r\n").
 * Returns the head length (bytes up to and including the blank line),
 * TW_PARTIAL if the blank line has not arrived, TW_ERR_HTTP_MALFORMED otherwise.
 * Never reads past buf[len-1].
 */
int tw_http_parse_response(const char *buf, size_t len, struct tw_http_head *out);

/* Same contract for a request head ("GET /path HTTP/1.1\r\n" + headers). */
int tw_http_parse_request(const char *buf, size_t len, struct tw_http_head *out);

/* Case-insensitive header look-up; NULL if absent. */
const struct tw_http_header *tw_http_find(const struct tw_http_head *head, const char *name);

/* 1 if a comma-separated header value holds token (case-insensitive), else 0. */
int tw_http_has_token(const char *value, size_t len, const char *token);

/*
 * Sec-WebSocket-Accept for a key: base64(SHA-1(key + RFC GUID)), NUL-terminated,
 * written to out (>= 29 bytes). Returns 28 or a negative code.
 */
int tw_ws_accept_key(const char *key, size_t key_len, char out[29]);

#endif
