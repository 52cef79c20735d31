#define _GNU_SOURCE
#include "tw_floor.h"
#include "tw_floor_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The wss:// floor: what a hand-written C client does with OpenSSL straight on
 * the socket (SSL_set_fd, SSL_write, SSL_read), no library in between.
 */
struct twf_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

void twf_tls_close(twf_tls *t)
{
    if (!t)
        return;
    if (t->ssl)
        SSL_free(t->ssl);
    if (t->ctx)
        SSL_CTX_free(t->ctx);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static int write_all(SSL *ssl, const void *p, size_t n, int spin)
{
    size_t done = 0;
    while (done < n) {
        int r = SSL_write(ssl, (const char *)p + done, (int)(n - done));
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        if (spin && (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ))
            continue;
        return -EIO;
    }
    return 0;
}

twf_tls *twf_tls_connect(const char *host, uint16_t port, const char *target, const char *ca_file, int nonblocking,
                         int *err)
{
    twf_tls *t = calloc(1, sizeof *t);
    if (!t) {
        *err = -ENOMEM;
        return NULL;
    }
    t->fd = twf_tcp_connect(host, port);
    if (t->fd < 0) {
        *err = t->fd;
        free(t);
        return NULL;
    }
    *err = -EPROTO;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    if (ca_file) {
        if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1)
            goto fail;
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    }
    t->ssl = SSL_new(t->ctx);
    if (!t->ssl)
        goto fail;
    SSL_set_tlsext_host_name(t->ssl, host);
    if (ca_file)
        SSL_set1_host(t->ssl, host);
    SSL_set_fd(t->ssl, t->fd);
    if (SSL_connect(t->ssl) != 1)
        goto fail;

    char req[512];
    int n = twf_upgrade_request(req, sizeof req, host, port, target);
    if (write_all(t->ssl, req, (size_t)n, 0) < 0)
        goto fail;
    /* Byte by byte up to the blank line so no frame byte is swallowed. */
    char head[4096];
    size_t h = 0;
    while (h < sizeof head - 1) {
        if (SSL_read(t->ssl, head + h, 1) != 1)
            goto fail;
        h++;
        if (h >= 4 && memcmp(head + h - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[h] = 0;
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        *err = -1;
        goto fail;
    }
    if (nonblocking)
        fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
    *err = 0;
    return t;
fail:
    ERR_clear_error();
    twf_tls_close(t);
    return NULL;
}

long twf_tls_roundtrip(twf_tls *t, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap, int spin,
                       const char *push, twf_reader *rd)
{
    if (write_all(t->ssl, frame, frame_len, spin) < 0)
        return -EIO;
    for (;;) {
        long done = twf_next_reply(buf, cap, rd, push);
        if (done != -EAGAIN)
            return done;
        int r = SSL_read(t->ssl, buf + rd->end, (int)(cap - rd->end));
        if (r <= 0) {
            int e = SSL_get_error(t->ssl, r);
            if (spin && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE))
                continue;
            return e == SSL_ERROR_ZERO_RETURN ? -1 : -EIO;
        }
        rd->end += (size_t)r;
    }
}
