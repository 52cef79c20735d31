/* Connection lifecycle, send path and receive path (both roles). */
#include "tw_internal.h"
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>

#define RECV_CHUNK 65536
#define TLS_READ_CHUNK 16384

static int backend_recv(tw_conn *c, uint8_t *p, size_t n)
{
    return c->loop->backend == TW_BACKEND_IO_URING ? tw_uring_recv(c, p, n) : tw_posix_recv(c, p, n);
}

static int backend_send(tw_conn *c, const uint8_t *p, size_t n)
{
    return c->loop->backend == TW_BACKEND_IO_URING ? tw_uring_send(c, p, n) : tw_posix_send(c, p, n);
}

static void set_deadline(tw_conn *c, uint32_t ms)
{
    c->deadline_ns = tw_now_ns() + (uint64_t)ms * 1000000ull;
}

/* ---- lifecycle ---------------------------------------------------------- */

static tw_conn *conn_alloc(tw_loop *loop, int fd, enum tw_role role, struct tw_limits limits)
{
    tw_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ws = tw_ws_new(role, limits);
    if (!c->ws || tw_buf_reserve(&c->rx, RECV_CHUNK) < 0) {
        tw_ws_free(c->ws);
        tw_buf_free(&c->rx);
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->fd = fd;
    c->role = role;
    c->close_timeout_ms = 2000;
    c->next = loop->conns;
    if (loop->conns)
        loop->conns->prev = c;
    loop->conns = c;
    return c;
}

void tw_conn_maybe_free(tw_conn *c)
{
    if (c->refs > 0 || c->inflight > 0 || c->state != TW_CS_CLOSED || c->pending_listed)
        return;
    tw_loop_unlink(c->loop, c);
    if (c->fd >= 0)
        close(c->fd);
    if (c->ssl)
        SSL_free(c->ssl);               /* frees both BIOs */
    if (c->ssl_ctx)
        SSL_CTX_free(c->ssl_ctx);
    tw_ws_free(c->ws);
    tw_buf_free(&c->rx);
    tw_buf_free(&c->crx);
    tw_buf_free(&c->tx[0]);
    tw_buf_free(&c->tx[1]);
    tw_buf_free(&c->stage);
    free(c->upgrade_request);
    free(c->req_head);
    free(c->reject_body);
    free(c);
}

/*
 * End the connection with error (0 = clean). Idempotent. The socket is shut at
 * once; CLOSED is delivered from the loop's deferred list, so this is safe to
 * call from anywhere on the loop thread, inside a callback or not.
 */
void tw_conn_finish(tw_conn *c, int error)
{
    if (c->state == TW_CS_CLOSED)
        return;
    c->state = TW_CS_CLOSED;
    c->close_error = error;
    c->deadline_ns = 0;
    if (c->fd >= 0) {
        if (c->loop->backend == TW_BACKEND_IO_URING) {
            /* Pending recv/send complete once the socket is shut; close after they drain.
             * A reset only shuts the read side: a FIN first would spoil the RST. */
            shutdown(c->fd, c->reset_on_close ? SHUT_RD : SHUT_RDWR);
            if (c->inflight > 0) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(&c->loop->ring);
                if (sqe) {
                    io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
                    io_uring_sqe_set_data64(sqe, tw_ud(c->loop, TW_IO_IGNORE));
                }
            }
        } else {
            tw_posix_del(c->loop, c->fd);
            close(c->fd);
            c->fd = -1;
            c->recv_armed = false;
            c->posix_tx = NULL;
        }
    }
    tw_loop_defer(c->loop, c);
}

void tw_conn_run_deferred(tw_conn *c)
{
    if (c->state != TW_CS_CLOSED || c->closed_delivered)
        return;
    c->closed_delivered = true;
    if (c->announced) {
        struct tw_event ev = {
            .type = TW_EV_CLOSED, .conn = c, .user = c->user,
            .error = c->close_error,
            .close_code = c->close_received ? c->close_code : 1006,
            .data = c->close_reason, .len = c->close_reason_len,
            .recv_ns = tw_now_ns(),
        };
        tw_loop_emit(c->loop, &ev);
    }
    c->refs--;                          /* the core's reference */
}

void tw_conn_on_deadline(tw_conn *c)
{
    if (c->state == TW_CS_CLOSED)
        return;
    c->deadline_ns = 0;
    if (c->state < TW_CS_OPEN) {
        snprintf(c->err_text, sizeof c->err_text, "opening handshake timed out");
        tw_conn_finish(c, TW_ERR_TIMEOUT);
    } else if (c->close_sent && c->close_received) {
        tw_conn_finish(c, 0);           /* closing handshake done; the peer just kept TCP open */
    } else {
        snprintf(c->err_text, sizeof c->err_text, "closing handshake timed out");
        tw_conn_finish(c, TW_ERR_TIMEOUT);
    }
}

void tw_conn_release(tw_conn *c)
{
    if (!c)
        return;
    if (c->state != TW_CS_CLOSED)
        tw_conn_finish(c, TW_ERR_CLOSED);
    c->user = NULL;
    c->refs--;
    tw_conn_maybe_free(c);
}

void tw_conn_abort(tw_conn *c)
{
    if (c->state != TW_CS_CLOSED) {
        snprintf(c->err_text, sizeof c->err_text, "aborted by the application");
        tw_conn_finish(c, TW_ERR_CLOSED);
    }
}

void tw_conn_reset(tw_conn *c)
{
    if (c->state == TW_CS_CLOSED)
        return;
    if (c->fd >= 0) {
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };   /* close() sends RST, not FIN */
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        c->reset_on_close = true;
    }
    snprintf(c->err_text, sizeof c->err_text, "reset by the application");
    tw_conn_finish(c, TW_ERR_CLOSED);
}

int tw_conn_write_bytes(tw_conn *c, const void *data, size_t len)
{
    if (c->state != TW_CS_OPEN)
        return TW_ERR_CLOSED;
    return tw_conn_send_raw(c, data, len);
}

void tw_conn_fault_bad_accept(tw_conn *c) { c->fault_bad_accept = true; }
uint64_t tw_conn_last_recv_ns(const tw_conn *c) { return c->last_recv_ns; }
void tw_conn_set_user(tw_conn *c, void *user) { c->user = user; }
int tw_conn_is_open(const tw_conn *c) { return c->state == TW_CS_OPEN && !c->close_sent; }
enum tw_role tw_conn_role(const tw_conn *c) { return c->role; }
const char *tw_conn_error_text(const tw_conn *c) { return c->err_text; }
int tw_conn_http_status(const tw_conn *c) { return c->http_status; }

const char *tw_conn_http_body(const tw_conn *c, size_t *len)
{
    *len = c->http_body_len;
    return c->http_body_len ? c->http_body : NULL;
}

static int set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
}

int tw_conn_connect(tw_loop *loop, const struct tw_connect_options *o, tw_conn **out)
{
    return tw_conn_start(loop, o, NULL, NULL, 0, out);
}

int tw_http_request(tw_loop *loop, const struct tw_connect_options *o, const char *method,
                    const void *body, size_t body_len, tw_conn **out)
{
    if (!method || !*method)
        return TW_ERR_INVALID_ARGUMENT;
    return tw_conn_start(loop, o, method, body, body_len, out);
}

/* Client connection: a WebSocket upgrade, or (http_method set) a one-shot HTTP request. */
int tw_conn_start(tw_loop *loop, const struct tw_connect_options *o, const char *http_method,
                  const void *body, size_t body_len, tw_conn **out)
{
    if (!o || !o->host || !o->port)
        return TW_ERR_INVALID_ARGUMENT;
    /* Name resolution happens here, once, never on the data path. */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", o->port);
    if (getaddrinfo(o->host, port, &hints, &ai) != 0 || !ai)
        return TW_ERR_RESOLVE;
    int type = SOCK_STREAM | SOCK_CLOEXEC | (loop->backend == TW_BACKEND_POSIX ? SOCK_NONBLOCK : 0);
    int fd = socket(ai->ai_family, type, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return -errno;
    }
    set_nodelay(fd);
    tw_conn *c = conn_alloc(loop, fd, TW_ROLE_CLIENT, o->limits);
    if (!c) {
        freeaddrinfo(ai);
        close(fd);
        return -ENOMEM;
    }
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    c->refs = 2;                        /* caller + core */
    c->announced = true;
    c->user = o->user;
    if (o->close_timeout_ms)
        c->close_timeout_ms = o->close_timeout_ms;
    c->state = TW_CS_CONNECTING;
    int r = 0;
    if (o->tls.enabled) {
        const char *name = o->tls.server_name ? o->tls.server_name : o->host;
        c->ssl_ctx = tw_tls_client_ctx(&o->tls, c->err_text, sizeof c->err_text);
        r = c->ssl_ctx ? tw_tls_attach(c, name, o->tls.verify != 0) : TW_ERR_TLS;
    }
    if (r == 0 && http_method) {
        c->http_mode = true;
        r = tw_http_client_request(c, o, http_method, body, body_len);
    } else if (r == 0) {
        r = tw_upgrade_client_request(c, o);
    }
    if (r == 0 && loop->backend == TW_BACKEND_POSIX)
        r = tw_posix_add(loop, fd, c, false);
    if (r == 0)
        r = loop->backend == TW_BACKEND_IO_URING ? tw_uring_connect(c) : tw_posix_connect(c);
    if (r < 0) {
        c->announced = false;           /* the caller gets the error, not an event */
        c->refs = 1;
        tw_conn_finish(c, r);
        return r;
    }
    set_deadline(c, o->open_timeout_ms ? o->open_timeout_ms : 10000);
    *out = c;
    return 0;
}

int tw_conn_new_server(tw_listener *l, int fd)
{
    set_nodelay(fd);
    tw_conn *c = conn_alloc(l->loop, fd, TW_ROLE_SERVER, l->limits);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->refs = 1;                        /* core only, until OPEN hands it to the caller */
    c->listener_user = l->user;
    c->state = TW_CS_UPGRADING;
    int r = 0;
    if (l->ssl_ctx) {
        SSL_CTX_up_ref(l->ssl_ctx);
        c->ssl_ctx = l->ssl_ctx;
        r = tw_tls_attach(c, NULL, false);
        c->state = TW_CS_TLS_HANDSHAKE;
    }
    if (r == 0 && l->loop->backend == TW_BACKEND_POSIX)
        r = tw_posix_add(l->loop, fd, c, false);
    if (r < 0) {
        tw_conn_finish(c, r);
        return r;
    }
    set_deadline(c, 10000);
    tw_conn_on_recv(c, -EAGAIN, 0);     /* arms the first recv */
    return 0;
}

/* ---- send path ---------------------------------------------------------- */

/* The buffer new bytes go to: the idle one, or the one queued behind a send in flight. */
struct tw_buf *tw_conn_wbuf(tw_conn *c)
{
    return c->send_len ? &c->tx[c->txi ^ 1] : &c->tx[c->txi];
}

int tw_conn_flush(tw_conn *c, uint64_t *submit_ns)
{
    if (submit_ns)
        *submit_ns = 0;
    if (c->send_len || c->state == TW_CS_CLOSED)
        return 0;                       /* flushed when the send in flight completes */
    struct tw_buf *b = &c->tx[c->txi];
    if (b->start == b->end) {
        b->start = b->end = 0;
        c->txi ^= 1;
        b = &c->tx[c->txi];
        if (b->start == b->end)
            return 0;
    }
    c->send_len = b->end - b->start;
    if (submit_ns)
        *submit_ns = tw_now_ns();       /* handed to the kernel now */
    return backend_send(c, b->p + b->start, c->send_len);
}

void tw_conn_on_send(tw_conn *c, int res)
{
    if (c->state == TW_CS_CLOSED) {
        c->send_len = 0;
        return;
    }
    if (res < 0) {
        c->send_len = 0;
        tw_conn_finish(c, res);
        return;
    }
    struct tw_buf *b = &c->tx[c->txi];
    b->start += (size_t)res;            /* a short send resubmits the rest below */
    c->send_len = 0;
    int r = tw_conn_flush(c, NULL);
    if (r < 0) {
        tw_conn_finish(c, r);
        return;
    }
    if (c->shut_after_send && !c->send_len)
        tw_conn_finish(c, c->shut_error);
}

int tw_conn_send_raw(tw_conn *c, const void *data, size_t len)
{
    if (c->ssl) {
        if (SSL_write(c->ssl, data, (int)len) <= 0)   /* ciphertext lands in the send queue */
            return TW_ERR_TLS;
    } else {
        struct tw_buf *b = tw_conn_wbuf(c);
        if (tw_buf_reserve(b, len) < 0)
            return -ENOMEM;
        memcpy(b->p + b->end, data, len);
        b->end += len;
    }
    return tw_conn_flush(c, NULL);
}

static uint8_t *reserve(tw_conn *c, size_t max_len)
{
    struct tw_buf *b = c->ssl ? &c->stage : tw_conn_wbuf(c);
    if (c->ssl)
        b->start = b->end = 0;
    if (tw_buf_reserve(b, TW_FRAME_MAX_HEADER + max_len) < 0)
        return NULL;
    return b->p + b->end + TW_FRAME_MAX_HEADER;
}

/* Frame the payload written at reserve(), then queue and submit it. */
static int commit(tw_conn *c, uint8_t opcode, size_t len, uint64_t *submit_ns)
{
    bool client = c->role == TW_ROLE_CLIENT;
    struct tw_buf *b = c->ssl ? &c->stage : tw_conn_wbuf(c);
    uint8_t *payload = b->p + b->end + TW_FRAME_MAX_HEADER;
    uint32_t key = client ? tw_loop_mask_key(c->loop) : 0;
    uint8_t *frame = tw_frame_write_header(payload, len, opcode, true, client, key);
    size_t flen = (size_t)(payload - frame) + len;
    if (c->ssl) {
        if (SSL_write(c->ssl, frame, (int)flen) <= 0)
            return TW_ERR_TLS;
    } else if (b->start == b->end) {
        b->start = (size_t)(frame - b->p);   /* empty buffer: send from the frame start, no copy */
        b->end = b->start + flen;
    } else {
        memmove(b->p + b->end, frame, flen); /* queued behind other bytes: close the header gap */
        b->end += flen;
    }
    int r = tw_conn_flush(c, submit_ns);
    if (client)
        tw_loop_refill_mask_keys(c->loop);
    return r;
}

int tw_conn_send_frame(tw_conn *c, uint8_t opcode, const void *data, size_t len)
{
    uint8_t *p = reserve(c, len);
    if (!p)
        return -ENOMEM;
    if (len)
        memcpy(p, data, len);
    return commit(c, opcode, len, NULL);
}

uint8_t *tw_conn_reserve(tw_conn *c, size_t max_len)
{
    if (c->state != TW_CS_OPEN || c->close_sent)
        return NULL;
    return reserve(c, max_len);
}

int tw_conn_commit(tw_conn *c, uint8_t opcode, size_t len, uint64_t *submit_ns)
{
    if (c->state != TW_CS_OPEN || c->close_sent)
        return TW_ERR_CLOSED;
    if (opcode != TW_OP_TEXT && opcode != TW_OP_BINARY && opcode != TW_OP_PING)
        return TW_ERR_INVALID_ARGUMENT;
    if (opcode == TW_OP_PING && len > 125)
        return TW_ERR_INVALID_ARGUMENT;
    int r = commit(c, opcode, len, submit_ns);
    if (r < 0)
        tw_conn_finish(c, r);
    return r;
}

int tw_conn_send(tw_conn *c, uint8_t opcode, const void *data, size_t len, uint64_t *submit_ns)
{
    uint8_t *p = tw_conn_reserve(c, len);
    if (!p)
        return c->state == TW_CS_OPEN && !c->close_sent ? -ENOMEM : TW_ERR_CLOSED;
    if (len)
        memcpy(p, data, len);
    return tw_conn_commit(c, opcode, len, submit_ns);
}

/* Send a close frame; payload is the code (if any) and a reason. */
static int send_close(tw_conn *c, uint16_t code, const void *reason, size_t reason_len)
{
    uint8_t payload[125];
    size_t n = 0;
    if (code) {
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        if (reason_len > 123)
            reason_len = 123;
        if (reason_len)
            memcpy(payload + 2, reason, reason_len);
        n = 2 + reason_len;
    }
    c->close_sent = true;
    c->state = TW_CS_CLOSING;
    set_deadline(c, c->close_timeout_ms);
    return tw_conn_send_frame(c, TW_OP_CLOSE, payload, n);
}

int tw_conn_close(tw_conn *c, uint16_t code, const char *reason, size_t reason_len)
{
    if (c->state == TW_CS_CLOSED)
        return TW_ERR_CLOSED;
    if (c->state < TW_CS_OPEN) {
        snprintf(c->err_text, sizeof c->err_text, "closed before the handshake completed");
        tw_conn_finish(c, TW_ERR_CLOSED);
        return 0;
    }
    if (c->close_sent)
        return 0;
    if (code && !tw_ws_close_code_valid(code))
        return TW_ERR_INVALID_ARGUMENT;
    int r = send_close(c, code, reason, reason_len);
    if (r < 0)
        tw_conn_finish(c, r);
    return r;
}

/*
 * Fail the WebSocket connection (RFC 6455 §7.1.7): send a close frame with
 * the code, then drop TCP once it is out. Further input is ignored.
 */
static void fail_conn(tw_conn *c, uint16_t code, int error)
{
    c->failing = true;
    if (c->state == TW_CS_OPEN && !c->close_sent && send_close(c, code, NULL, 0) == 0 && c->send_len) {
        c->shut_after_send = true;
        c->shut_error = error;
        return;
    }
    tw_conn_finish(c, error);
}

/* ---- receive path ------------------------------------------------------- */

static void on_message(tw_conn *c, const struct tw_ws_message *m, uint64_t now)
{
    switch (m->opcode) {
    case TW_OP_PING:
        if (!c->close_sent)
            tw_conn_send_frame(c, TW_OP_PONG, m->data, m->len); /* echo the ping's payload */
        return;
    case TW_OP_CLOSE:
        c->close_received = true;
        c->close_code = m->close_code;
        c->close_reason_len = m->len;
        memcpy(c->close_reason, m->data, m->len);
        if (!c->close_sent) {
            /* Echo the status code (none if none came). */
            send_close(c, m->close_code == 1005 ? 0 : m->close_code, NULL, 0);
        }
        if (c->role == TW_ROLE_SERVER) {
            /* The server closes TCP first (RFC 6455 §7.1.1). */
            if (c->send_len) {
                c->shut_after_send = true;
                c->shut_error = 0;
            } else {
                tw_conn_finish(c, 0);
            }
        }
        /* Client: wait for the server's FIN, bounded by the close deadline. */
        return;
    default:
        if (c->close_received)
            return;
        struct tw_event ev = {
            .type = TW_EV_MESSAGE, .conn = c, .user = c->user, .data = m->data,
            .len = m->len, .opcode = m->opcode, .recv_ns = now,
        };
        tw_loop_emit(c->loop, &ev);
    }
}

/* Parse and deliver every complete message in rx. */
static void deliver_frames(tw_conn *c, uint64_t now)
{
    while ((c->state == TW_CS_OPEN || c->state == TW_CS_CLOSING) && !c->failing && !c->close_received) {
        struct tw_buf *b = &c->rx;
        size_t consumed;
        struct tw_ws_message m;
        int r = tw_ws_next(c->ws, b->p + b->start, b->end - b->start, &consumed, &m);
        b->start += consumed;           /* bytes stay in place until the next compaction */
        if (r == TW_PARTIAL)
            return;
        if (r < 0) {
            snprintf(c->err_text, sizeof c->err_text, "%s", tw_strerror(r));
            fail_conn(c, tw_ws_fail_code(c->ws), r);
            return;
        }
        on_message(c, &m, now);
    }
}

/* Handshake and message processing for whatever is in rx. */
void tw_conn_process(tw_conn *c, uint64_t now)
{
    if (c->state == TW_CS_UPGRADING) {
        int r = c->role == TW_ROLE_CLIENT ? tw_upgrade_client_response(c, false) : tw_upgrade_server_request(c);
        if (r == TW_PARTIAL || r < 0)
            return;                     /* errors already finished the conn */
    }
    deliver_frames(c, now);
}

static void tls_progress(tw_conn *c, uint64_t now)
{
    if (c->state == TW_CS_TLS_HANDSHAKE) {
        int r = SSL_do_handshake(c->ssl);
        tw_conn_flush(c, NULL);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            tw_tls_error_text(c, r, c->err_text, sizeof c->err_text);
            long v = SSL_get_verify_result(c->ssl);
            tw_conn_finish(c, v != X509_V_OK ? TW_ERR_TLS_VERIFY : TW_ERR_TLS);
            return;
        }
        c->state = TW_CS_UPGRADING;
        if (c->role == TW_ROLE_CLIENT) {
            int s = tw_conn_send_raw(c, c->upgrade_request, strlen(c->upgrade_request));
            if (s < 0) {
                tw_conn_finish(c, s);
                return;
            }
        }
    }
    /* Decrypt into rx and process, chunk by chunk, so rx stays bounded. */
    for (;;) {
        if (c->state == TW_CS_CLOSED || c->failing)
            return;
        uint64_t want = c->state >= TW_CS_OPEN ? tw_ws_wanted(c->ws) : 0;
        size_t have = c->rx.end - c->rx.start;
        size_t chunk = want > have && want - have > TLS_READ_CHUNK ? (size_t)(want - have) : TLS_READ_CHUNK;
        if (tw_buf_reserve(&c->rx, chunk) < 0) {
            tw_conn_finish(c, -ENOMEM);
            return;
        }
        int n = SSL_read(c->ssl, c->rx.p + c->rx.end, (int)(c->rx.cap - c->rx.end));
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            tw_conn_flush(c, NULL);     /* TLS 1.3 may have answered a key update */
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            if (e == SSL_ERROR_ZERO_RETURN) {   /* close_notify: like a TCP FIN */
                tw_conn_on_recv(c, 0, now);
                return;
            }
            tw_tls_error_text(c, n, c->err_text, sizeof c->err_text);
            tw_conn_finish(c, TW_ERR_TLS);
            return;
        }
        c->rx.end += (size_t)n;
        tw_conn_process(c, now);
    }
}

static void on_eof(tw_conn *c)
{
    if (c->state == TW_CS_UPGRADING && c->role == TW_ROLE_CLIENT && tw_upgrade_client_response(c, true) != TW_PARTIAL)
        return;                         /* a refused upgrade ends with the server's FIN */
    if (c->close_sent && c->close_received) {
        tw_conn_finish(c, 0);
        return;
    }
    snprintf(c->err_text, sizeof c->err_text, "peer closed the TCP connection without a close frame");
    tw_conn_finish(c, TW_ERR_EOF);
}

/* Arm the next receive: compaction and growth happen only here, when no recv is in flight. */
static void arm_recv(tw_conn *c)
{
    if (c->recv_armed || c->state == TW_CS_CLOSED)
        return;
    struct tw_buf *b = &c->rx;
    size_t want = RECV_CHUNK / 4;
    if (c->ssl) {
        b = &c->crx;                    /* a partial record may remain: keep it */
        want = RECV_CHUNK / 4;
    } else if (c->state >= TW_CS_OPEN) {
        uint64_t need = tw_ws_wanted(c->ws), have = b->end - b->start;
        if (need > have && need - have > want)
            want = (size_t)(need - have);   /* a large frame: room for all of it */
    }
    int r = tw_buf_reserve(b, want);
    if (r == 0)
        r = backend_recv(c, b->p + b->end, b->cap - b->end);
    if (r < 0)
        tw_conn_finish(c, r);
}

void tw_conn_on_recv(tw_conn *c, int res, uint64_t now)
{
    if (c->state == TW_CS_CLOSED)
        return;
    if (res == -EAGAIN) {               /* nothing read (first arm of a server conn) */
        arm_recv(c);
        return;
    }
    if (res == 0) {
        on_eof(c);
        return;
    }
    if (res < 0) {
        tw_conn_finish(c, res);
        return;
    }
    c->last_recv_ns = now;
    if (c->ssl) {
        c->crx.end += (size_t)res;      /* OpenSSL reads it through the conn BIO */
        tls_progress(c, now);
    } else {
        c->rx.end += (size_t)res;
        tw_conn_process(c, now);
    }
    arm_recv(c);
}

void tw_conn_on_connect(tw_conn *c, int res)
{
    if (c->state == TW_CS_CLOSED)
        return;
    if (res < 0) {
        snprintf(c->err_text, sizeof c->err_text, "connect: %s", tw_strerror(res));
        tw_conn_finish(c, res);
        return;
    }
    if (c->ssl) {
        c->state = TW_CS_TLS_HANDSHAKE;
        tls_progress(c, 0);             /* sends the ClientHello */
    } else {
        c->state = TW_CS_UPGRADING;
        int r = tw_conn_send_raw(c, c->upgrade_request, strlen(c->upgrade_request));
        if (r < 0) {
            tw_conn_finish(c, r);
            return;
        }
    }
    arm_recv(c);
}
