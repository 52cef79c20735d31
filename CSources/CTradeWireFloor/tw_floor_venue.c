/*
 * A venue that sleeps: the way most servers (and, as far as a client can tell, real venues) serve a WebSocket,
 * one thread per connection blocked in recv(). It answers Kraken's add_order the way the simulator does (an ack
 * with an order id, `success`, `time_in`/`time_out`) and every other request with a bare success, nothing more:
 * no book, no matching. The benchmarks measure the same clients against it and against the busy-polling
 * simulator, to see what a venue's wake-up costs each of them.
 */
#define _GNU_SOURCE
#include "tw_floor.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct twf_venue {
    int listener;
    uint16_t port;
    int cpu;                                        /* connection threads pinned here; -1: anywhere */
    pthread_t acceptor;
    atomic_int stopping;
};

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* An unmasked server frame around payload[0..len) (len < 65536). */
static int send_frame(int fd, uint8_t opcode, const uint8_t *payload, size_t len)
{
    uint8_t out[4 + 65536];
    size_t h = 0;
    out[h++] = 0x80 | opcode;
    if (len < 126) {
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    }
    memcpy(out + h, payload, len);
    return send_all(fd, out, h + len);
}

/* Read the upgrade request and answer 101 with the key's accept value; -1 if it is not one. */
static int upgrade(int fd)
{
    char req[8192];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t k = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        req[n] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    const char *key = strcasestr(req, "\r\nSec-WebSocket-Key:");
    if (!key)
        return -1;
    key += strlen("\r\nSec-WebSocket-Key:");
    while (*key == ' ')
        key++;
    const char *end = strstr(key, "\r\n");
    if (!end || end - key > 60)
        return -1;
    char joined[128];
    int jn = snprintf(joined, sizeof joined, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)(end - key), key);
    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA1((const uint8_t *)joined, (size_t)jn, digest);
    char accept[64];
    EVP_EncodeBlock((uint8_t *)accept, digest, SHA_DIGEST_LENGTH);
    char resp[256];
    int rn = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    return send_all(fd, resp, (size_t)rn);
}

/* The text of a JSON string member `"name":"…"` (no escapes needed here), or NULL. */
static const char *member_text(const char *json, size_t len, const char *name, size_t *out_len)
{
    char pat[64];
    int pn = snprintf(pat, sizeof pat, "\"%s\":\"", name);
    const char *p = memmem(json, len, pat, (size_t)pn);
    if (!p)
        return NULL;
    p += pn;
    const char *q = memchr(p, '"', len - (size_t)(p - json));
    if (!q)
        return NULL;
    *out_len = (size_t)(q - p);
    return p;
}

/* The integer of `"req_id":N`, or -1. */
static long long member_integer(const char *json, size_t len, const char *name)
{
    char pat[64];
    int pn = snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = memmem(json, len, pat, (size_t)pn);
    if (!p)
        return -1;
    p += pn;
    long long v = 0;
    int digits = 0;
    while (p < json + len && *p >= '0' && *p <= '9' && digits < 18) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    return digits ? v : -1;
}

/* RFC 3339 UTC with microseconds, as Kraken writes time_in/time_out. */
static int rfc3339(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    return snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* One request: the ack the simulator would send for add_order, a bare success for anything else. */
static int answer(unsigned long *orders, int fd, const char *json, size_t len)
{
    size_t mlen = 0;
    const char *method = member_text(json, len, "method", &mlen);
    if (!method || mlen > 32)
        return 0;                                   /* not a request: nothing to answer */
    long long req_id = member_integer(json, len, "req_id");
    char t[40];
    rfc3339(t, sizeof t);
    char out[512];
    int n;
    char id[32] = "";
    if (req_id >= 0)
        snprintf(id, sizeof id, ",\"req_id\":%lld", req_id);
    if (mlen == 9 && memcmp(method, "add_order", 9) == 0) {
        unsigned long k = ++*orders;
        n = snprintf(out, sizeof out,
                     "{\"method\":\"add_order\"%s,\"result\":{\"order_id\":\"O%05lu-BLOCK-%06lu\"},\"success\":true,"
                     "\"time_in\":\"%s\",\"time_out\":\"%s\"}", id, k % 100000, k % 1000000, t, t);
    } else {
        n = snprintf(out, sizeof out, "{\"method\":\"%.*s\"%s,\"success\":true,\"time_in\":\"%s\",\"time_out\":\"%s\"}",
                     (int)mlen, method, id, t, t);
    }
    return send_frame(fd, 0x1, (const uint8_t *)out, (size_t)n);
}

/* A connection's thread: blocking reads, frames unmasked in place, each text frame answered. It holds nothing of
 * the venue's, so it may outlive twf_venue_stop (its socket closes when the client goes). */
static void *connection(void *p)
{
    int fd = (int)(intptr_t)p;
    unsigned long orders = 0;
    if (upgrade(fd) != 0) {
        close(fd);
        return NULL;
    }
    static const char status[] = "{\"channel\":\"status\",\"type\":\"update\",\"data\":[{\"system\":\"online\","
                                 "\"api_version\":\"v2\",\"connection_id\":1,\"version\":\"2.0.0\"}]}";
    send_frame(fd, 0x1, (const uint8_t *)status, sizeof status - 1);
    enum { CAP = 1 << 20 };
    uint8_t *buf = malloc(CAP);
    size_t have = 0;
    for (;;) {
        ssize_t k = recv(fd, buf + have, CAP - have, 0);     /* asleep until the client writes */
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        have += (size_t)k;
        size_t at = 0;
        int closing = 0;
        while (have - at >= 2) {
            uint8_t *f = buf + at;
            uint8_t opcode = f[0] & 0x0F;
            size_t len = f[1] & 0x7F, h = 2;
            if (len == 126) {
                if (have - at < 4)
                    break;
                len = (size_t)f[2] << 8 | f[3];
                h = 4;
            } else if (len == 127) {
                if (have - at < 10)
                    break;
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | f[2 + i];
                h = 10;
            }
            int masked = f[1] & 0x80;
            if (masked)
                h += 4;
            if (len > CAP - h || have - at < h + len)
                break;
            uint8_t *payload = f + h;
            if (masked)
                for (size_t i = 0; i < len; i++)
                    payload[i] ^= f[h - 4 + (i & 3)];
            if (opcode == 0x1)
                answer(&orders, fd, (const char *)payload, len);
            else if (opcode == 0x9)
                send_frame(fd, 0xA, payload, len);
            else if (opcode == 0x8) {
                send_frame(fd, 0x8, payload, len < 2 ? len : 2);
                closing = 1;
                break;
            }
            at += h + len;
        }
        if (closing)
            break;
        memmove(buf, buf + at, have - at);
        have -= at;
        if (have == CAP)
            break;                                  /* a frame larger than the buffer: not this venue's business */
    }
    free(buf);
    close(fd);
    return NULL;
}

static void *acceptor(void *p)
{
    struct twf_venue *v = p;
    while (!atomic_load(&v->stopping)) {
        int fd = accept4(v->listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;                                  /* the listener was shut down */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (v->cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(v->cpu, &set);
            pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        }
        if (pthread_create(&t, &attr, connection, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

twf_venue *twf_venue_start(int cpu, int *err)
{
    struct twf_venue *v = calloc(1, sizeof *v);
    if (!v) {
        *err = -ENOMEM;
        return NULL;
    }
    v->cpu = cpu;
    v->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int one = 1;
    setsockopt(v->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v->listener < 0 || bind(v->listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(v->listener, 64) != 0
        || getsockname(v->listener, (struct sockaddr *)&a, &al) != 0) {
        *err = -errno;
        if (v->listener >= 0)
            close(v->listener);
        free(v);
        return NULL;
    }
    v->port = ntohs(a.sin_port);
    if (pthread_create(&v->acceptor, NULL, acceptor, v) != 0) {
        *err = -EAGAIN;
        close(v->listener);
        free(v);
        return NULL;
    }
    return v;
}

uint16_t twf_venue_port(const twf_venue *v) { return v->port; }

void twf_venue_stop(twf_venue *v)
{
    atomic_store(&v->stopping, 1);
    shutdown(v->listener, SHUT_RDWR);               /* wakes accept() */
    pthread_join(v->acceptor, NULL);
    close(v->listener);
    free(v);
}
