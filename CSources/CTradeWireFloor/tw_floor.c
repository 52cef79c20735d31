#define _GNU_SOURCE
#include "tw_floor.h"
#include "tw_floor_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t twf_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int twf_tcp_connect(const char *host, uint16_t port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0)
        return -EHOSTUNREACH;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int e = -errno;
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return e;
    }
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int twf_upgrade_request(char *out, size_t cap, const char *host, uint16_t port, const char *target)
{
    return snprintf(out, cap,
                    "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    target, host, port);
}

int twf_connect(const char *host, uint16_t port, const char *target, int nonblocking)
{
    int fd = twf_tcp_connect(host, port);
    if (fd < 0)
        return fd;
    char req[512];
    int n = twf_upgrade_request(req, sizeof req, host, port, target);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return -EIO;
    }
    /* Read byte by byte up to the blank line so no frame byte is swallowed. */
    char head[4096];
    size_t h = 0;
    while (h < sizeof head - 1) {
        if (recv(fd, head + h, 1, 0) != 1) {
            close(fd);
            return -ECONNRESET;
        }
        h++;
        if (h >= 4 && memcmp(head + h - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[h] = 0;
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        close(fd);
        return -1;
    }
    if (nonblocking)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

size_t twf_encode_masked(const uint8_t *payload, size_t len, uint8_t *out)
{
    static const uint8_t key[4] = { 0x12, 0x34, 0x56, 0x78 };
    size_t h = 0;
    out[h++] = 0x81;
    if (len < 126) {
        out[h++] = 0x80 | (uint8_t)len;
    } else if (len <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(out + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        out[h + i] = payload[i] ^ key[i & 3];
    return h + len;
}

size_t twf_frame_need(const uint8_t *b, size_t n, size_t *hl)
{
    if (n < 2)
        return 0;
    uint64_t len = b[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = ((uint64_t)b[2] << 8) | b[3];
        h = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | b[2 + i];
        h = 10;
    }
    *hl = h;
    return h + (size_t)len;
}

/* ep >= 0: before each read, wait on epoll_wait(ep, ep_timeout) until the socket is readable, as an event loop
 * does (0: spinning, -1: asleep); ep < 0: read (spinning on EAGAIN, or blocking) straight away. */
static long roundtrip(int fd, int ep, int ep_timeout, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap,
                      int spin, const char *push, twf_reader *rd)
{
    size_t sent = 0;
    while (sent < frame_len) {
        ssize_t r = send(fd, frame + sent, frame_len - sent, MSG_NOSIGNAL);
        if (r < 0) {
            if (spin && (errno == EAGAIN || errno == EWOULDBLOCK))
                continue;
            return -errno;
        }
        sent += (size_t)r;
    }
    for (;;) {
        long done = twf_next_reply(buf, cap, rd, push);
        if (done != -EAGAIN)
            return done;
        if (ep >= 0) {
            struct epoll_event ev;
            int k;
            while ((k = epoll_wait(ep, &ev, 1, ep_timeout)) == 0)
                ;
            if (k < 0 && errno != EINTR)
                return -errno;
        }
        ssize_t r = recv(fd, buf + rd->end, cap - rd->end, 0);
        if (r < 0) {
            if (spin && (errno == EAGAIN || errno == EWOULDBLOCK))
                continue;
            return -errno;
        }
        if (r == 0)
            return -1;
        rd->end += (size_t)r;
    }
}

long twf_roundtrip(int fd, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap, int spin,
                   const char *push, twf_reader *rd)
{
    return roundtrip(fd, -1, 0, frame, frame_len, buf, cap, spin, push, rd);
}

int twf_epoll_for(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -errno;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = -errno;
        close(ep);
        return e;
    }
    return ep;
}

long twf_roundtrip_epoll(int ep, int fd, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap,
                         const char *push, twf_reader *rd, int sleep)
{
    return roundtrip(fd, ep, sleep ? -1 : 0, frame, frame_len, buf, cap, 1, push, rd);
}

long twf_next_reply(uint8_t *buf, size_t cap, twf_reader *rd, const char *push)
{
    size_t skip = push ? strlen(push) : 0;
    for (;;) {
        size_t hl = 0, have = rd->end - rd->start;
        size_t need = twf_frame_need(buf + rd->start, have, &hl);
        if (need && need <= have) {
            const uint8_t *payload = buf + rd->start + hl;
            size_t len = need - hl;
            rd->start += need;
            if (skip && len >= skip && memcmp(payload, push, skip) == 0)
                continue;                   /* a push, not the answer */
            return (long)len;
        }
        if (need > cap)
            return -EMSGSIZE;
        if (rd->start > 0) {                /* move the partial frame to the front: room to read the rest */
            memmove(buf, buf + rd->start, have);
            rd->start = 0;
            rd->end = have;
        }
        if (rd->end == cap)
            return -EMSGSIZE;
        return -EAGAIN;
    }
}

void twf_close(int fd)
{
    close(fd);
}
