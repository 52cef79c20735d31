/* The HTTP/1.1 opening handshake (RFC 6455 §4), client and server side. */
#include "tw_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <openssl/evp.h>

#define MAX_HEAD 16384

static bool header_is(const struct tw_http_head *h, const char *name, const char *token)
{
    const struct tw_http_header *x = tw_http_find(h, name);
    return x && tw_http_has_token(x->value, x->value_len, token);
}

/* The Content-Length of a head, or -1 when absent or not a number. */
static long long content_length(const struct tw_http_head *h)
{
    const struct tw_http_header *cl = tw_http_find(h, "Content-Length");
    if (!cl || cl->value_len == 0 || cl->value_len > 18)
        return -1;
    long long n = 0;
    for (size_t i = 0; i < cl->value_len; i++) {
        if (cl->value[i] < '0' || cl->value[i] > '9')
            return -1;
        n = n * 10 + (cl->value[i] - '0');
    }
    return n;
}

/* Caller headers must be whole "Name: value\r\n" lines: no smuggled blank line or bare CR/LF. */
static bool extra_headers_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return true;
    if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n' || strstr(s, "\r\n\r\n") || s[0] == '\r')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' && s[i + 1] != '\n')
            return false;
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            return false;
    }
    return true;
}

int tw_upgrade_client_request(tw_conn *c, const struct tw_connect_options *o)
{
    const char *target = o->target && *o->target ? o->target : "/";
    const char *extra = o->extra_headers ? o->extra_headers : "";
    if (target[0] != '/' || strpbrk(target, " \r\n") || !extra_headers_ok(extra)) {
        snprintf(c->err_text, sizeof c->err_text, "invalid request target or caller headers");
        return TW_ERR_INVALID_ARGUMENT;
    }
    uint8_t raw[16];
    if (getrandom(raw, sizeof raw, 0) != sizeof raw)
        return -errno;
    char key[25];
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    int r = tw_ws_accept_key(key, 24, c->accept_expected);
    if (r < 0)
        return r;
    bool v6 = strchr(o->host, ':') != NULL;
    bool default_port = o->port == (o->tls.enabled ? 443 : 80);
    char port[8] = "";
    if (!default_port)
        snprintf(port, sizeof port, ":%u", o->port);
    if (asprintf(&c->upgrade_request,
                 "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                 target, v6 ? "[" : "", o->host, v6 ? "]" : "", port, key, extra) < 0) {
        c->upgrade_request = NULL;
        return -ENOMEM;
    }
    return 0;
}

int tw_http_client_request(tw_conn *c, const struct tw_connect_options *o, const char *method, const void *body, size_t body_len)
{
    const char *target = o->target && *o->target ? o->target : "/";
    const char *extra = o->extra_headers ? o->extra_headers : "";
    if (target[0] != '/' || strpbrk(target, " \r\n") || !extra_headers_ok(extra) || strpbrk(method, " \r\n")) {
        snprintf(c->err_text, sizeof c->err_text, "invalid method, target or caller headers");
        return TW_ERR_INVALID_ARGUMENT;
    }
    if (body_len && memchr(body, 0, body_len)) {
        snprintf(c->err_text, sizeof c->err_text, "request bodies are text (no NUL bytes)");
        return TW_ERR_INVALID_ARGUMENT;
    }
    bool v6 = strchr(o->host, ':') != NULL;
    char port[8] = "";
    if (o->port != (o->tls.enabled ? 443 : 80))
        snprintf(port, sizeof port, ":%u", o->port);
    if (asprintf(&c->upgrade_request, "%s %s HTTP/1.1\r\nHost: %s%s%s%s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
                 method, target, v6 ? "[" : "", o->host, v6 ? "]" : "", port, extra, body_len, (int)body_len,
                 body_len ? (const char *)body : "") < 0) {
        c->upgrade_request = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int refuse(tw_conn *c, int err, const char *fmt, const char *detail)
{
    snprintf(c->err_text, sizeof c->err_text, fmt, detail);
    tw_conn_finish(c, err);
    return err;
}

static void emit_open(tw_conn *c, void *user)
{
    struct tw_event ev = { .type = TW_EV_OPEN, .conn = c, .user = user, .recv_ns = tw_now_ns() };
    tw_loop_emit(c->loop, &ev);
}

int tw_upgrade_client_response(tw_conn *c, bool eof)
{
    struct tw_http_head h;
    const char *buf = (const char *)c->rx.p + c->rx.start;
    size_t avail = c->rx.end - c->rx.start;
    int r = tw_http_parse_response(buf, avail, &h);
    if (r == TW_PARTIAL) {
        if (eof)
            return refuse(c, TW_ERR_EOF, "%s", "connection closed during the opening handshake");
        if (avail > MAX_HEAD)
            return refuse(c, TW_ERR_HTTP_MALFORMED, "%s", "upgrade response head over 16 KiB");
        return TW_PARTIAL;
    }
    if (r < 0)
        return refuse(c, TW_ERR_HTTP_MALFORMED, "%s", "malformed upgrade response");
    if (c->http_mode) {
        /* One-shot HTTP: deliver the whole body as one message, then end. */
        size_t have = avail - (size_t)r;
        long long cl = content_length(&h);
        size_t want = cl >= 0 ? (size_t)cl : have;
        if (have < want || (cl < 0 && !eof))
            return TW_PARTIAL;
        c->http_status = h.status;
        struct tw_event ev = { .type = TW_EV_MESSAGE, .conn = c, .user = c->user, .data = (const uint8_t *)buf + r,
                               .len = want, .opcode = 0, .recv_ns = tw_now_ns() };
        tw_loop_emit(c->loop, &ev);
        tw_conn_finish(c, 0);
        return 0;
    }
    if (h.status != 101) {
        /* Keep an excerpt of the body: wait for Content-Length bytes (capped) unless the peer closed. */
        size_t body = avail - (size_t)r;
        long long cl = content_length(&h);
        size_t want = cl > 0 ? (size_t)cl : 0;
        if (want > sizeof c->http_body - 1)
            want = sizeof c->http_body - 1;
        if (!eof && body < want)
            return TW_PARTIAL;
        c->http_status = h.status;
        c->http_body_len = body < sizeof c->http_body - 1 ? body : sizeof c->http_body - 1;
        memcpy(c->http_body, buf + r, c->http_body_len);
        c->http_body[c->http_body_len] = 0;
        snprintf(c->err_text, sizeof c->err_text, "upgrade refused: HTTP %d: %.*s", h.status,
                 (int)(c->http_body_len > 200 ? 200 : c->http_body_len), c->http_body);
        tw_conn_finish(c, TW_ERR_HTTP_STATUS);
        return TW_ERR_HTTP_STATUS;
    }
    if (!header_is(&h, "Upgrade", "websocket"))
        return refuse(c, TW_ERR_BAD_UPGRADE, "%s", "101 response without Upgrade: websocket");
    if (!header_is(&h, "Connection", "upgrade"))
        return refuse(c, TW_ERR_BAD_UPGRADE, "%s", "101 response without Connection: Upgrade");
    const struct tw_http_header *acc = tw_http_find(&h, "Sec-WebSocket-Accept");
    if (!acc || acc->value_len != 28 || memcmp(acc->value, c->accept_expected, 28) != 0)
        return refuse(c, TW_ERR_BAD_ACCEPT, "%s", "Sec-WebSocket-Accept missing or not the expected value");
    if (tw_http_find(&h, "Sec-WebSocket-Extensions") || tw_http_find(&h, "Sec-WebSocket-Protocol"))
        return refuse(c, TW_ERR_BAD_UPGRADE, "%s", "server chose an extension or subprotocol that was not offered");
    c->rx.start += (size_t)r;           /* frames may follow the head in the same read */
    c->state = TW_CS_OPEN;
    c->deadline_ns = 0;
    free(c->upgrade_request);
    c->upgrade_request = NULL;
    emit_open(c, c->user);
    return 0;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Refused";
    }
}

/* Answer with an HTTP response and drop the connection once it is out. */
static int answer_http(tw_conn *c, int status, const char *ctype, const void *body, size_t blen, const char *extra, int err)
{
    char head[320];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                     status, reason_phrase(status), ctype, blen, extra);
    snprintf(c->err_text, sizeof c->err_text, "answered %d instead of an upgrade", status);
    int r = tw_conn_send_raw(c, head, (size_t)n);
    if (r == 0 && blen)
        r = tw_conn_send_raw(c, body, blen);
    if (r < 0 || !c->send_len) {
        tw_conn_finish(c, err);
        return err;
    }
    c->shut_after_send = true;
    c->shut_error = err;
    c->failing = true;
    return err;
}

static int reject(tw_conn *c, int status, const char *reason, const char *extra, int err)
{
    return answer_http(c, status, "text/plain", reason, strlen(reason), extra, err);
}

/*
 * Hand a parsed request to the application (TW_EV_UPGRADE): the caller gets its
 * reference with the event. Returns 0, or TW_ERR_CLOSED if the callback ended the conn.
 */
static int offer_request(tw_conn *c)
{
    c->refs++;
    c->announced = true;
    c->req_valid = true;
    struct tw_event ev = { .type = TW_EV_UPGRADE, .conn = c, .user = c->listener_user, .recv_ns = tw_now_ns() };
    tw_loop_emit(c->loop, &ev);
    c->req_valid = false;
    return c->state == TW_CS_CLOSED ? TW_ERR_CLOSED : 0;
}

/*
 * A plain HTTP request to the server role (a venue's REST endpoint, say): wait
 * for its body, let the application answer it in the UPGRADE callback, then
 * close. Unanswered requests get 404.
 */
static int plain_request(tw_conn *c, struct tw_http_head *h, int head_len)
{
    size_t avail = c->rx.end - c->rx.start;
    long long cl = content_length(h);
    if (cl > (1 << 20))
        return reject(c, 413, "request body over 1 MiB", "", TW_ERR_TOO_BIG);
    size_t body = cl > 0 ? (size_t)cl : 0;
    if (avail < (size_t)head_len + body)
        return TW_PARTIAL;                  /* the body is still arriving */
    c->plain_request = true;
    c->req_body_off = (size_t)head_len;
    c->req_body_len = body;
    if (offer_request(c) < 0)
        return TW_ERR_CLOSED;
    c->announced = false;                 /* answered and closed here: no CLOSED event */
    c->refs--;
    if (!c->reject_status)
        c->reject_status = 404;           /* nobody answered */
    return answer_http(c, c->reject_status, c->reject_type[0] ? c->reject_type : "text/plain",
                       c->reject_body ? c->reject_body : "", c->reject_body ? c->reject_body_len : 0, "", 0);
}

int tw_upgrade_server_request(tw_conn *c)
{
    if (c->failing)
        return TW_ERR_CLOSED;
    if (!c->req_head && !(c->req_head = malloc(sizeof *c->req_head)))
        return refuse(c, -ENOMEM, "%s", "out of memory");
    struct tw_http_head *h = c->req_head;
    const char *buf = (const char *)c->rx.p + c->rx.start;
    size_t avail = c->rx.end - c->rx.start;
    int r = tw_http_parse_request(buf, avail, h);
    if (r == TW_PARTIAL)
        return avail > MAX_HEAD ? reject(c, 400, "request head over 16 KiB", "", TW_ERR_HTTP_MALFORMED) : TW_PARTIAL;
    if (r < 0)
        return reject(c, 400, "malformed request", "", TW_ERR_HTTP_MALFORMED);
    if (!header_is(h, "Upgrade", "websocket"))
        return plain_request(c, h, r);
    if (h->method_len != 3 || memcmp(h->method, "GET", 3) != 0 || h->minor_version < 1)
        return reject(c, 400, "the upgrade must be an HTTP/1.1 GET", "", TW_ERR_BAD_UPGRADE);
    if (!header_is(h, "Connection", "upgrade"))
        return reject(c, 400, "missing Connection: Upgrade", "", TW_ERR_BAD_UPGRADE);
    const struct tw_http_header *ver = tw_http_find(h, "Sec-WebSocket-Version");
    if (!ver || ver->value_len != 2 || memcmp(ver->value, "13", 2) != 0)
        return reject(c, 426, "unsupported WebSocket version", "Sec-WebSocket-Version: 13\r\n", TW_ERR_BAD_UPGRADE);
    const struct tw_http_header *key = tw_http_find(h, "Sec-WebSocket-Key");
    unsigned char raw[20];
    if (!key || key->value_len != 24 || key->value[22] != '=' || key->value[23] != '=' ||
        EVP_DecodeBlock(raw, (const unsigned char *)key->value, 24) != 18)
        return reject(c, 400, "Sec-WebSocket-Key must be 16 bytes in base64", "", TW_ERR_BAD_UPGRADE);
    char accept[29];
    if (tw_ws_accept_key(key->value, 24, accept) < 0)
        return reject(c, 400, "internal error", "", TW_ERR_TLS);
    /* Let the application look at the request (path, bearer token...) and maybe refuse it. */
    if (offer_request(c) < 0)
        return TW_ERR_CLOSED;           /* released or aborted in the callback */
    if (c->reject_status) {
        c->announced = false;           /* the caller gave up its reference: no CLOSED event */
        c->refs--;
        return answer_http(c, c->reject_status, c->reject_type[0] ? c->reject_type : "text/plain",
                           c->reject_body ? c->reject_body : "", c->reject_body_len, "", TW_ERR_HTTP_STATUS);
    }
    if (c->fault_bad_accept)
        accept[0] = accept[0] == 'A' ? 'B' : 'A';   /* fault injection: a key the client must refuse */
    char resp[160];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    int s = tw_conn_send_raw(c, resp, (size_t)n);
    if (s < 0) {
        tw_conn_finish(c, s);
        return s;
    }
    c->state = TW_CS_OPEN;
    c->deadline_ns = 0;
    c->rx.start += (size_t)r;
    emit_open(c, c->user);
    return 0;
}

int tw_conn_respond(tw_conn *c, int status, const char *content_type, const void *body, size_t body_len)
{
    if (!c->req_valid || status < 200 || status > 599 || (status < 300 && !c->plain_request))
        return TW_ERR_INVALID_ARGUMENT;
    free(c->reject_body);
    c->reject_body = malloc(body_len + 1);
    if (!c->reject_body)
        return -ENOMEM;
    if (body_len)
        memcpy(c->reject_body, body, body_len);
    c->reject_body[body_len] = 0;
    c->reject_body_len = body_len;
    snprintf(c->reject_type, sizeof c->reject_type, "%s", content_type ? content_type : "text/plain");
    c->reject_status = status;
    c->user = NULL;
    return 0;
}

int tw_conn_reject(tw_conn *c, int status, const char *body)
{
    if (status < 300)
        return TW_ERR_INVALID_ARGUMENT;
    return tw_conn_respond(c, status, "text/plain", body ? body : "", body ? strlen(body) : 0);
}

int tw_conn_request_is_upgrade(const tw_conn *c) { return c->req_valid && !c->plain_request; }

const char *tw_conn_request_method(const tw_conn *c, size_t *len)
{
    if (!c->req_valid)
        return NULL;
    *len = c->req_head->method_len;
    return c->req_head->method;
}

const void *tw_conn_request_body(const tw_conn *c, size_t *len)
{
    if (!c->req_valid)
        return NULL;
    *len = c->req_body_len;
    return c->rx.p + c->rx.start + c->req_body_off;
}

const char *tw_conn_request_target(const tw_conn *c, size_t *len)
{
    if (!c->req_valid)
        return NULL;
    *len = c->req_head->target_len;
    return c->req_head->target;
}

const char *tw_conn_request_header(const tw_conn *c, const char *name, size_t *len)
{
    if (!c->req_valid)
        return NULL;
    const struct tw_http_header *h = tw_http_find(c->req_head, name);
    if (!h)
        return NULL;
    *len = h->value_len;
    return h->value;
}

int tw_conn_request_header_at(const tw_conn *c, size_t i, const char **name, size_t *name_len,
                              const char **value, size_t *value_len)
{
    if (!c->req_valid || i >= c->req_head->num_headers)
        return -1;
    const struct tw_http_header *h = &c->req_head->headers[i];
    *name = h->name;
    *name_len = h->name_len;
    *value = h->value;
    *value_len = h->value_len;
    return 0;
}
