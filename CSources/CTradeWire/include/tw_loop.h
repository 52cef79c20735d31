#ifndef TW_LOOP_H
#define TW_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include "tw_ws.h"

/*
 * Event loop and connections. One loop = one thread: every call below except
 * tw_loop_wake must come from the thread that polls the loop.
 */

typedef struct tw_loop tw_loop;
typedef struct tw_conn tw_conn;
typedef struct tw_listener tw_listener;

enum tw_backend {
    TW_BACKEND_AUTO = 0,      /* io_uring, else plain syscalls (reason kept) */
    TW_BACKEND_IO_URING = 1,
    TW_BACKEND_POSIX = 2,     /* non-blocking sockets + epoll */
};

enum tw_wait_mode {
    TW_WAIT_BLOCK = 0,        /* sleep in the kernel until a completion */
    TW_WAIT_BUSY_POLL = 1,    /* spin on the completion queue */
};

struct tw_loop_options {
    enum tw_backend backend;
    enum tw_wait_mode wait_mode;
    int cpu;                  /* pin the polling thread to this CPU; -1 = no pin */
    unsigned ring_entries;    /* 0 = default (256) */
};

enum tw_event_type {
    TW_EV_OPEN = 1,           /* handshake done (both roles); user = the conn's user pointer */
    TW_EV_MESSAGE = 2,        /* data message (TEXT/BINARY) or PONG */
    TW_EV_CLOSED = 3,         /* the connection ended; delivered exactly once */
    TW_EV_UPGRADE = 4,        /* server role, before the 101: a new conn (user = the listener's);
                                 the request is readable, and tw_conn_reject may refuse it */
};

/* What the loop hands to the callback. Views (data) are valid during the callback only. */
struct tw_event {
    tw_conn *conn;
    void *user;               /* conn's user pointer; for a server OPEN: the listener's */
    const uint8_t *data;      /* MESSAGE payload; CLOSED: close reason */
    size_t len;
    uint64_t recv_ns;         /* CLOCK_MONOTONIC ns when the completion holding the last byte was reaped */
    int32_t error;            /* CLOSED: 0 for a clean close, else errno/tw_err */
    uint16_t close_code;      /* CLOSED: the peer's code, 1006 if none arrived */
    uint8_t opcode;
    uint8_t type;             /* enum tw_event_type */
};

typedef void (*tw_event_fn)(void *ctx, const struct tw_event *ev);

/* Returns 0 and *out, or a negative code. With TW_BACKEND_AUTO an io_uring failure falls back. */
int tw_loop_new(const struct tw_loop_options *opt, tw_loop **out);
void tw_loop_free(tw_loop *loop);
enum tw_backend tw_loop_backend(const tw_loop *loop);
/* Why AUTO fell back to TW_BACKEND_POSIX (static or loop-owned text), or NULL. */
const char *tw_loop_fallback_reason(const tw_loop *loop);

/*
 * Submit pending work, wait for completions (or spin, in busy-poll mode) up
 * to timeout_ns (< 0: no limit while connections or listeners exist; 0:
 * non-blocking), and deliver events to fn. Returns the number of events
 * delivered or a negative code. Returns early after tw_loop_wake.
 */
int tw_loop_poll(tw_loop *loop, int64_t timeout_ns, tw_event_fn fn, void *ctx);

/*
 * Busy-poll only: fn(ctx) runs every few empty tries while waiting, with nothing to deliver
 * (e.g. to keep the hot path's code and data in cache). It must be short: a reply that lands
 * during it waits for it to return. NULL removes it.
 */
typedef void (*tw_idle_fn)(void *ctx);
void tw_loop_set_idle(tw_loop *loop, tw_idle_fn fn, void *ctx);

/* Make a poll return soon. The only call that is safe from any thread. */
int tw_loop_wake(tw_loop *loop);

/* CLOCK_MONOTONIC in ns. */
uint64_t tw_now_ns(void);

struct tw_tls_options {
    int enabled;
    int verify;               /* client: verify chain and host name (default on: 1) */
    const char *ca_file;      /* extra trust: PEM file; NULL = system store only */
    const char *ca_pem;       /* extra trust: PEM text (NUL-terminated) */
    const char *server_name;  /* SNI and host-name check; NULL = the host */
    const char *cert_file;    /* server role */
    const char *key_file;     /* server role */
    int require_client_cert;  /* server role: refuse clients without a certificate (a TLS alert) */
};

struct tw_connect_options {
    const char *host;         /* name or address; resolved in tw_conn_connect */
    uint16_t port;
    const char *target;       /* path and query, e.g. "/v2?x=1"; NULL = "/" */
    const char *extra_headers;/* "Name: value\r\n" lines, or NULL */
    struct tw_tls_options tls;
    struct tw_limits limits;  /* 0 = defaults (16 MiB) */
    uint32_t close_timeout_ms;/* wait for the peer during close; 0 = 2000 */
    uint32_t open_timeout_ms; /* connect + TLS + upgrade; 0 = 10000 */
    void *user;
};

/*
 * Start a client connection (resolve now, connect/TLS/upgrade asynchronously).
 * On success returns 0 and *out holding one reference for the caller
 * (tw_conn_release). Later, exactly one of OPEN then CLOSED, or CLOSED alone.
 */
int tw_conn_connect(tw_loop *loop, const struct tw_connect_options *opt, tw_conn **out);

/*
 * A one-shot HTTP/1.1 request over the same connect/TLS path (e.g. a venue's
 * REST token call): `method`, `target`, caller headers and an optional body.
 * The response body arrives as one TW_EV_MESSAGE (opcode 0) once complete
 * (Content-Length, or the peer's close); its status is tw_conn_http_status.
 * CLOSED follows. Same reference rules as tw_conn_connect.
 */
int tw_http_request(tw_loop *loop, const struct tw_connect_options *opt, const char *method,
                    const void *body, size_t body_len, tw_conn **out);

/*
 * Zero-copy send: tw_conn_reserve returns where to write up to max_len payload
 * bytes (a header gap is kept before it); tw_conn_commit frames, masks (client)
 * and submits the first len bytes. submit_ns (may be NULL) gets the time taken
 * just before the bytes went to the kernel (or 0 if queued behind a send in flight).
 * Reserve returns NULL when the conn cannot send (not open) or memory is short.
 */
uint8_t *tw_conn_reserve(tw_conn *conn, size_t max_len);
int tw_conn_commit(tw_conn *conn, uint8_t opcode, size_t len, uint64_t *submit_ns);

/* Copying convenience over reserve/commit. */
int tw_conn_send(tw_conn *conn, uint8_t opcode, const void *data, size_t len, uint64_t *submit_ns);

/* Start the closing handshake (code 0 = no status). */
int tw_conn_close(tw_conn *conn, uint16_t code, const char *reason, size_t reason_len);

/* Drop the TCP connection now; CLOSED follows with TW_ERR_CLOSED. */
void tw_conn_abort(tw_conn *conn);

/* Drop the TCP connection with a reset (RST) instead of a FIN; CLOSED follows with TW_ERR_CLOSED. */
void tw_conn_reset(tw_conn *conn);

/* Monotonic ns at which bytes last arrived (0 = none yet): for staleness checks. */
uint64_t tw_conn_last_recv_ns(const tw_conn *conn);

/*
 * Fault injection, for test peers. tw_conn_write_bytes puts bytes on the stream
 * as they are (through TLS if on), bypassing the framer: garbage, half frames.
 * tw_conn_fault_bad_accept, during UPGRADE: the 101 carries a wrong
 * Sec-WebSocket-Accept.
 */
int tw_conn_write_bytes(tw_conn *conn, const void *data, size_t len);
void tw_conn_fault_bad_accept(tw_conn *conn);

/* The caller's reference is gone; memory is freed once CLOSED was delivered and I/O drained. */
void tw_conn_release(tw_conn *conn);

void tw_conn_set_user(tw_conn *conn, void *user);
int tw_conn_is_open(const tw_conn *conn);
enum tw_role tw_conn_role(const tw_conn *conn);

/* Detail of the failure behind a CLOSED error (OpenSSL queue, verify result, HTTP status), or "". */
const char *tw_conn_error_text(const tw_conn *conn);
/* Client: status of a refused upgrade and an excerpt of its body (0 / NULL when none). */
int tw_conn_http_status(const tw_conn *conn);
const char *tw_conn_http_body(const tw_conn *conn, size_t *len);

/*
 * Server role, during the UPGRADE callback only: answer the upgrade with this
 * HTTP status (e.g. 401) and body instead of 101, then close. Takes over the
 * caller's reference (no CLOSED event follows). Returns 0 or a negative code.
 */
int tw_conn_reject(tw_conn *conn, int status, const char *body);

/*
 * Server role, during UPGRADE: answer with any status (200 included), a content
 * type and a body, then close; for plain HTTP requests (tw_conn_request_is_upgrade
 * is 0) this is the only answer. Takes over the caller's reference like tw_conn_reject.
 */
int tw_conn_respond(tw_conn *conn, int status, const char *content_type, const void *body, size_t body_len);

/* Server role, during UPGRADE: 1 for a WebSocket upgrade, 0 for a plain HTTP request; its method and body. */
int tw_conn_request_is_upgrade(const tw_conn *conn);
const char *tw_conn_request_method(const tw_conn *conn, size_t *len);
const void *tw_conn_request_body(const tw_conn *conn, size_t *len);

/* Server role, valid during the UPGRADE callback: request target and a header value (NULL if absent). */
const char *tw_conn_request_target(const tw_conn *conn, size_t *len);
const char *tw_conn_request_header(const tw_conn *conn, const char *name, size_t *len);
/* Server role, during UPGRADE: the i-th request header. Returns 0, or -1 past the last. */
int tw_conn_request_header_at(const tw_conn *conn, size_t i, const char **name, size_t *name_len,
                              const char **value, size_t *value_len);

/* Server role: listen on host:port (port 0 = any). UPGRADE events carry `user`. */
int tw_listen(tw_loop *loop, const char *host, uint16_t port, const struct tw_tls_options *tls,
              struct tw_limits limits, void *user, tw_listener **out);
uint16_t tw_listener_port(const tw_listener *l);
void tw_listener_close(tw_listener *l);

#endif
