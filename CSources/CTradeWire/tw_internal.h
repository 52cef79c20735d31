#ifndef TW_INTERNAL_H
#define TW_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, asprintf, pthread_setaffinity_np, sigset_t for liburing */
#endif

/* Private to the C core: liburing and OpenSSL types never reach the public headers. */

#include "tw_loop.h"
#include "tw_ws.h"
#include "tw_frame.h"
#include "tw_http.h"
#include "tw_error.h"
#include <stdbool.h>
#include <sys/socket.h>
#include <liburing.h>
#include <openssl/ssl.h>

/* A byte buffer: [start, end) holds data, [end, cap) is free. */
struct tw_buf {
    uint8_t *p;
    size_t cap, start, end;
};
int tw_buf_reserve(struct tw_buf *b, size_t free_bytes); /* compacts, then grows */
void tw_buf_free(struct tw_buf *b);

enum tw_conn_state {
    TW_CS_CONNECTING,
    TW_CS_TLS_HANDSHAKE,
    TW_CS_UPGRADING,
    TW_CS_OPEN,
    TW_CS_CLOSING,     /* close frame sent or received; waiting for the rest */
    TW_CS_CLOSED,      /* fd shut; waiting for in-flight I/O to drain */
};

struct tw_conn {
    tw_loop *loop;
    tw_conn *next, *prev;          /* loop->conns */
    tw_conn *pending_next;         /* loop->pending (deferred CLOSED / posix completions) */
    int fd;
    enum tw_role role;
    enum tw_conn_state state;
    void *user;
    int refs;                      /* caller + core */
    int inflight;                  /* io_uring ops not yet reaped */
    bool recv_armed;
    bool pending_listed;

    struct tw_buf rx;              /* plaintext in (frames parsed in place) */
    struct tw_buf crx;             /* TLS: ciphertext in, read by OpenSSL through the conn BIO */
    struct tw_buf tx[2];           /* bytes for the socket (ciphertext with TLS): tx[txi] is the
                                      one in flight, the other collects what is sent meanwhile */
    int txi;
    struct tw_buf stage;           /* TLS: plaintext frame being built */
    size_t send_len;               /* tx bytes handed to the kernel, not yet completed */
    int posix_send_res;            /* posix backend: result of an inline send */
    bool posix_send_done;
    bool posix_want_write;
    uint8_t *posix_rx;             /* posix backend: armed recv target */
    size_t posix_rx_len;
    const uint8_t *posix_tx;       /* posix backend: send waiting for EPOLLOUT */
    size_t posix_tx_len;

    SSL_CTX *ssl_ctx;
    SSL *ssl;

    tw_ws *ws;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *upgrade_request;         /* client: request to send once TCP/TLS is up */
    char accept_expected[29];
    struct tw_http_head *req_head; /* server: parsed request, valid during OPEN */
    bool req_valid;
    int reject_status;             /* set by tw_conn_reject/respond during UPGRADE */
    char *reject_body;
    size_t reject_body_len;
    char reject_type[64];
    bool http_mode;                /* client: a one-shot HTTP request, not an upgrade */
    bool plain_request;            /* server: the request is not an upgrade */
    size_t req_body_off, req_body_len;
    void *listener_user;

    bool close_sent, close_received, shut;
    bool shut_after_send;          /* end the connection once tx drains */
    int shut_error;                /* ... with this error (0 = clean) */
    bool announced;                /* the caller knows this conn (CLOSED will be delivered) */
    bool closed_delivered;
    int close_error;
    uint16_t close_code;
    uint8_t close_reason[123];
    size_t close_reason_len;
    uint64_t deadline_ns;
    uint64_t last_recv_ns;         /* when bytes last arrived (staleness checks) */
    bool reset_on_close;           /* tw_conn_reset: close with SO_LINGER 0 (RST) */
    bool fault_bad_accept;         /* server fault injection: a wrong Sec-WebSocket-Accept */
    uint32_t close_timeout_ms;
    bool failing;                  /* we failed the connection: ignore further input */

    char err_text[256];
    int http_status;
    char http_body[512];
    size_t http_body_len;
};

struct tw_listener {
    tw_loop *loop;
    tw_listener *next;
    int fd;
    uint16_t port;
    bool accept_armed, closed;
    int inflight;
    SSL_CTX *ssl_ctx;
    struct tw_limits limits;
    void *user;
};

struct tw_loop {
    enum tw_backend backend;
    enum tw_wait_mode wait_mode;
    const char *fallback_reason;
    char fallback_buf[200];
    struct io_uring ring;
    bool ring_ok, defer_taskrun;
    int epfd;
    int wake_fd;
    uint64_t wake_buf;
    bool wake_armed;
    tw_conn *conns;
    tw_listener *listeners;
    tw_conn *pending;
    tw_event_fn fn;
    void *ctx;
    int nevents;
    tw_idle_fn idle_fn;            /* busy-poll: called between tries that found nothing */
    void *idle_ctx;
    uint32_t mask_keys[256];       /* CSPRNG output, refilled in batches */
    unsigned mask_idx;
};

/* Busy-poll: the idle function runs once every this many empty tries (a recv or a
 * completion-queue look each, ~0.3-1 µs), halfway between the backend's other periodic work. */
enum { TW_IDLE_EVERY = 8 };

/* Busy-poll with a timeout: the clock (~40 ns a read on a VM) is read once every this many
 * empty tries, not on each; a timer runs at most that many tries (a few µs) late. */
enum { TW_DEADLINE_EVERY = 8 };

/* user_data tags for io_uring (pointers are 8-aligned: the low 3 bits are free). */
enum { TW_IO_RECV = 1, TW_IO_SEND = 2, TW_IO_CONNECT = 3, TW_IO_ACCEPT = 4, TW_IO_WAKE = 5, TW_IO_IGNORE = 6 };

/* Backends: io_uring and plain non-blocking syscalls. */
int tw_uring_init(tw_loop *loop, unsigned entries);
void tw_uring_exit(tw_loop *loop);
int tw_uring_recv(tw_conn *c, uint8_t *p, size_t n);
int tw_uring_send(tw_conn *c, const uint8_t *p, size_t n);
int tw_uring_connect(tw_conn *c);
int tw_uring_accept(tw_listener *l);
int tw_uring_wait(tw_loop *loop, int64_t timeout_ns);

int tw_posix_init(tw_loop *loop);
void tw_posix_exit(tw_loop *loop);
int tw_posix_add(tw_loop *loop, int fd, void *ptr, bool listener);
void tw_posix_del(tw_loop *loop, int fd);
int tw_posix_recv(tw_conn *c, uint8_t *p, size_t n);
int tw_posix_send(tw_conn *c, const uint8_t *p, size_t n);
int tw_posix_connect(tw_conn *c);
int tw_posix_wait(tw_loop *loop, int64_t timeout_ns);

/* Completion handlers, called by the backends. */
void tw_conn_on_connect(tw_conn *c, int res);
void tw_conn_on_recv(tw_conn *c, int res, uint64_t now_ns);
void tw_conn_on_send(tw_conn *c, int res);
void tw_listener_on_accept(tw_listener *l, int fd);
void tw_conn_maybe_free(tw_conn *c);
int tw_conn_new_server(tw_listener *l, int fd);
void tw_conn_on_deadline(tw_conn *c);
void tw_conn_run_deferred(tw_conn *c);
int tw_conn_send_raw(tw_conn *c, const void *data, size_t len);
int tw_conn_flush(tw_conn *c, uint64_t *submit_ns);
void tw_conn_finish(tw_conn *c, int error);
void tw_conn_process(tw_conn *c, uint64_t now);
int tw_conn_send_frame(tw_conn *c, uint8_t opcode, const void *data, size_t len);

/* Loop services. */
void tw_loop_emit(tw_loop *loop, const struct tw_event *ev);
void tw_loop_defer(tw_loop *loop, tw_conn *c);
uint32_t tw_loop_mask_key(tw_loop *loop);
/* The batch of mask keys is spent: refill it (a getrandom call). Called after a frame has
 * left, so that the call lands in the wait for the answer, not before the next send. */
void tw_loop_refill_mask_keys(tw_loop *loop);
void tw_loop_unlink(tw_loop *loop, tw_conn *c);

/* TLS glue over a custom BIO (tw_tls.c). */
SSL_CTX *tw_tls_client_ctx(const struct tw_tls_options *o, char *err, size_t err_len);
SSL_CTX *tw_tls_server_ctx(const struct tw_tls_options *o, char *err, size_t err_len);
int tw_tls_attach(tw_conn *c, const char *host, bool verify);
void tw_tls_error_text(tw_conn *c, int ssl_ret, char *out, size_t out_len);
struct tw_buf *tw_conn_wbuf(tw_conn *c);

/* Opening handshakes (tw_upgrade.c). */
int tw_upgrade_client_request(tw_conn *c, const struct tw_connect_options *o);
int tw_http_client_request(tw_conn *c, const struct tw_connect_options *o, const char *method, const void *body, size_t body_len);
int tw_conn_start(tw_loop *loop, const struct tw_connect_options *o, const char *http_method, const void *body, size_t body_len, tw_conn **out);
int tw_upgrade_client_response(tw_conn *c, bool eof);
int tw_upgrade_server_request(tw_conn *c);

static inline void tw_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline void *tw_ud_ptr(uint64_t ud) { return (void *)(uintptr_t)(ud & ~(uint64_t)7); }
static inline int tw_ud_op(uint64_t ud) { return (int)(ud & 7); }
static inline uint64_t tw_ud(void *p, int op) { return (uint64_t)(uintptr_t)p | (uint64_t)op; }

#endif
