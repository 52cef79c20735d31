/*
 * Fallback backend: non-blocking sockets and epoll, for systems where
 * io_uring cannot be set up (seccomp-filtered containers: EPERM, ENOSYS).
 * Sends run inline; their completion is reported at the next poll so the
 * connection code sees the same order of events as with io_uring.
 */
#include "tw_internal.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

int tw_posix_init(tw_loop *loop)
{
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0)
        return -errno;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tw_ud(loop, TW_IO_WAKE) };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
        int e = -errno;
        close(loop->epfd);
        return e;
    }
    return 0;
}

void tw_posix_exit(tw_loop *loop)
{
    if (loop->epfd >= 0)
        close(loop->epfd);
    loop->epfd = -1;
}

int tw_posix_add(tw_loop *loop, int fd, void *ptr, bool listener)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tw_ud(ptr, listener ? TW_IO_ACCEPT : TW_IO_RECV) };
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void tw_posix_del(tw_loop *loop, int fd)
{
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void want_write(tw_conn *c, bool on)
{
    if (c->posix_want_write == on)
        return;
    c->posix_want_write = on;
    struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = tw_ud(c, TW_IO_RECV) };
    epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

int tw_posix_recv(tw_conn *c, uint8_t *p, size_t n)
{
    c->posix_rx = p;
    c->posix_rx_len = n;
    c->recv_armed = true;
    return 0;
}

int tw_posix_send(tw_conn *c, const uint8_t *p, size_t n)
{
    ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->posix_tx = p;
        c->posix_tx_len = n;
        want_write(c, true);
        return 0;
    }
    c->posix_send_res = r < 0 ? -errno : (int)r;
    c->posix_send_done = true;
    tw_loop_defer(c->loop, c);
    return 0;
}

int tw_posix_connect(tw_conn *c)
{
    int r = connect(c->fd, (struct sockaddr *)&c->addr, c->addrlen);
    if (r < 0 && errno != EINPROGRESS)
        return -errno;
    want_write(c, true);                /* writable = connected (or failed: SO_ERROR) */
    return 0;
}

/* Read an armed connection's socket once: false if it had nothing yet. */
static bool read_armed(tw_conn *c)
{
    ssize_t r = recv(c->fd, c->posix_rx, c->posix_rx_len, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return false;
    int res = r < 0 ? -errno : (int)r;
    c->recv_armed = false;
    tw_conn_on_recv(c, res, tw_now_ns());   /* stamped at the read: see reap() in tw_backend_uring.c */
    return true;
}

static void on_conn_event(tw_conn *c, uint32_t events)
{
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->posix_want_write) {
        if (c->state == TW_CS_CONNECTING) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            want_write(c, false);
            tw_conn_on_connect(c, -err);
        } else if (c->posix_tx) {
            ssize_t r = send(c->fd, c->posix_tx, c->posix_tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                c->posix_tx = NULL;
                want_write(c, false);
                tw_conn_on_send(c, r < 0 ? -errno : (int)r);
            }
        }
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c->recv_armed && c->fd >= 0)
        read_armed(c);
}

static int dispatch(tw_loop *loop, struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t ud = evs[i].data.u64;
        int op = tw_ud_op(ud);
        if (op == TW_IO_WAKE) {
            uint64_t v;
            while (read(loop->wake_fd, &v, sizeof v) > 0) {}
        } else if (op == TW_IO_ACCEPT) {
            tw_listener *l = tw_ud_ptr(ud);
            for (;;) {
                int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                        tw_listener_on_accept(l, -errno);
                    break;
                }
                tw_listener_on_accept(l, fd);
            }
        } else {
            tw_conn *c = tw_ud_ptr(ud);
            c->refs++;
            on_conn_event(c, evs[i].events);
            c->refs--;
            tw_conn_maybe_free(c);
        }
    }
    return n;
}

/*
 * Busy-poll with a few connections: try each armed connection's recv directly, as a
 * hand-written spinning client does, instead of asking epoll which one is ready and then
 * reading it (one syscall per try instead of two once data is there). Returns 1 when a
 * connection was handled (the list may have changed under its callback: the caller polls
 * again), 0 when none had data, -1 when there are too many connections for this to pay.
 */
enum { DIRECT_MAX_CONNS = 4, EPOLL_EVERY = 16 };

static int recv_direct(tw_loop *loop)
{
    int k = 0;
    for (tw_conn *c = loop->conns; c; c = c->next)
        if (++k > DIRECT_MAX_CONNS)
            return -1;                  /* counted before any syscall: more would cost a recv each */
    for (tw_conn *c = loop->conns; c; c = c->next) {
        if (!c->recv_armed || c->fd < 0)
            continue;
        c->refs++;                      /* its callback may release the caller's reference */
        bool handled = read_armed(c);
        c->refs--;
        if (!handled)
            continue;
        tw_conn_maybe_free(c);
        return 1;
    }
    return 0;
}

int tw_posix_wait(tw_loop *loop, int64_t timeout_ns)
{
    struct epoll_event evs[64];
    if (loop->wait_mode == TW_WAIT_BUSY_POLL || timeout_ns == 0) {
        uint64_t deadline = timeout_ns > 0 ? tw_now_ns() + (uint64_t)timeout_ns : 0;
        /* Accepts, writability and the cross-thread wake still come from epoll: asked on the
         * first try and every EPOLL_EVERY tries after it (a few µs apart), or every try when
         * there are more connections than direct reads pay for. */
        for (unsigned tries = 0;; tries++) {
            if (loop->wait_mode == TW_WAIT_BUSY_POLL && tries % EPOLL_EVERY != 0) {
                int d = recv_direct(loop);
                if (d > 0)
                    return d;
                if (d == 0) {
                    if (loop->pending)
                        return 0;
                    if (loop->idle_fn && tries % TW_IDLE_EVERY == TW_IDLE_EVERY / 2)
                        loop->idle_fn(loop->idle_ctx);
                    if (deadline && tries % TW_DEADLINE_EVERY == 0 && tw_now_ns() >= deadline)
                        return 0;
                    continue;
                }
            }
            int n = epoll_wait(loop->epfd, evs, 64, 0);
            if (n < 0 && errno != EINTR)
                return -errno;
            if (n > 0)
                return dispatch(loop, evs, n);
            if (timeout_ns == 0 || loop->pending)
                return 0;
            if (deadline && tw_now_ns() >= deadline)
                return 0;
        }
    }
    int ms = timeout_ns < 0 ? -1 : (int)((timeout_ns + 999999) / 1000000);
    if (loop->pending)
        ms = 0;
    int n = epoll_wait(loop->epfd, evs, 64, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    return dispatch(loop, evs, n);
}
