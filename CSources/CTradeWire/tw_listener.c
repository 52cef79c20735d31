/* Server role: accept TCP (and TLS) connections; each becomes a tw_conn in the server role. */
#include "tw_internal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tw_listen(tw_loop *loop, const char *host, uint16_t port, const struct tw_tls_options *tls,
              struct tw_limits limits, void *user, tw_listener **out)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0)
        return TW_ERR_RESOLVE;
    int type = SOCK_STREAM | SOCK_CLOEXEC | (loop->backend == TW_BACKEND_POSIX ? SOCK_NONBLOCK : 0);
    int fd = socket(ai->ai_family, type, 0);
    int r = fd < 0 ? -errno : 0;
    int one = 1;
    if (r == 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (r == 0 && (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0))
        r = -errno;
    freeaddrinfo(ai);
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    tw_listener *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return -ENOMEM;
    }
    l->loop = loop;
    l->fd = fd;
    l->limits = limits;
    l->user = user;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    if (tls && tls->enabled) {
        char err[256];
        l->ssl_ctx = tw_tls_server_ctx(tls, err, sizeof err);
        if (!l->ssl_ctx) {
            close(fd);
            free(l);
            return TW_ERR_TLS;
        }
    }
    r = loop->backend == TW_BACKEND_IO_URING ? tw_uring_accept(l) : tw_posix_add(loop, fd, l, true);
    if (r < 0) {
        SSL_CTX_free(l->ssl_ctx);
        close(fd);
        free(l);
        return r;
    }
    l->next = loop->listeners;
    loop->listeners = l;
    *out = l;
    return 0;
}

uint16_t tw_listener_port(const tw_listener *l) { return l->port; }

static void listener_free_if_done(tw_listener *l)
{
    if (!l->closed || l->inflight > 0)
        return;
    tw_loop *loop = l->loop;
    for (tw_listener **p = &loop->listeners; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    if (l->fd >= 0)
        close(l->fd);
    SSL_CTX_free(l->ssl_ctx);
    free(l);
}

void tw_listener_close(tw_listener *l)
{
    if (l->closed)
        return;
    l->closed = true;
    if (l->loop->backend == TW_BACKEND_POSIX) {
        tw_posix_del(l->loop, l->fd);
    } else {
        shutdown(l->fd, SHUT_RDWR);     /* completes the pending accept */
        struct io_uring_sqe *sqe = io_uring_get_sqe(&l->loop->ring);
        if (sqe) {
            io_uring_prep_cancel_fd(sqe, l->fd, IORING_ASYNC_CANCEL_ALL);
            io_uring_sqe_set_data64(sqe, tw_ud(l->loop, TW_IO_IGNORE));
        }
    }
    listener_free_if_done(l);
}

void tw_listener_on_accept(tw_listener *l, int fd)
{
    if (l->closed) {
        if (fd >= 0)
            close(fd);
        listener_free_if_done(l);
        return;
    }
    if (fd >= 0)
        tw_conn_new_server(l, fd);
    if (l->loop->backend == TW_BACKEND_IO_URING && !l->accept_armed)
        tw_uring_accept(l);
}
