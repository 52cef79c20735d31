#ifndef TW_FLOOR_H
#define TW_FLOOR_H

#include <stddef.h>
#include <stdint.h>

/*
 * The raw-socket floor for benchmarks: what a hand-written client does with no
 * library at all. Blocking (or non-blocking spin) send of a pre-encoded,
 * pre-masked frame and recv of the reply. Not for production use: it skips
 * everything the real client validates.
 */

/* Connect, send a fixed upgrade request, read the 101. Returns fd or -errno / -1 on a bad answer. */
int twf_connect(const char *host, uint16_t port, const char *target, int nonblocking);

/* Encode one masked client text frame into out (cap >= len + 14). Returns the frame length. */
size_t twf_encode_masked(const uint8_t *payload, size_t len, uint8_t *out);

/*
 * What a floor has read past the reply it returned: buf[start..end) is kept for
 * the next round trip (a push that arrived behind the reply). Starts zeroed.
 */
typedef struct twf_reader {
    size_t start, end;
} twf_reader;
/*
 * Send frame[0..frame_len) and read until the reply is in buf: the first complete
 * server frame whose payload does not begin with push (NULL: any frame). A venue's
 * unsolicited messages (Kraken's status on connect, heartbeats) are skipped, so a
 * round trip never takes an earlier push for its answer and runs one message behind.
 * spin: the socket is non-blocking and recv is retried without sleeping.
 * Returns the reply payload length, or -errno / -1 (closed).
 */
long twf_roundtrip(int fd, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap, int spin,
                   const char *push, twf_reader *rd);
/*
 * The floor of an event loop: an epoll instance watching fd (non-blocking) for input, and a round trip that waits on
 * epoll_wait(ep) until the reply's bytes are ready before each read: spinning (timeout 0) as a polling loop does, or
 * with sleep != 0 asleep in the kernel (timeout -1) as a waiting loop does. Against the recv-spinning and the
 * recv-blocking floors it shows what the readiness step costs. twf_epoll_for returns the epoll fd or -errno.
 */
int twf_epoll_for(int fd);
long twf_roundtrip_epoll(int ep, int fd, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap,
                         const char *push, twf_reader *rd, int sleep);
/* The next reply in buf[rd->start..rd->end), pushes skipped: its payload length, consumed from rd;
 * -EAGAIN until one is complete (a partial frame is moved to the front: read more at buf + rd->end);
 * -EMSGSIZE if it cannot fit in cap. */
long twf_next_reply(uint8_t *buf, size_t cap, twf_reader *rd, const char *push);

/*
 * The wss:// floor: OpenSSL straight on the socket. ca_file NULL: no
 * certificate verification. Non-blocking (spin) after the handshake if asked.
 * Returns NULL with *err = -errno, or -1 for a refused upgrade.
 */
typedef struct twf_tls twf_tls;
twf_tls *twf_tls_connect(const char *host, uint16_t port, const char *target, const char *ca_file, int nonblocking,
                         int *err);
/* As twf_roundtrip, over TLS. */
long twf_tls_roundtrip(twf_tls *t, const uint8_t *frame, size_t frame_len, uint8_t *buf, size_t cap, int spin,
                       const char *push, twf_reader *rd);
void twf_tls_close(twf_tls *t);

/*
 * A venue that sleeps: a thread per connection blocked in recv(), answering Kraken add_order as the simulator does
 * (and any other request with a bare success). On 127.0.0.1, an ephemeral port; the connection threads pinned to
 * cpu (-1: wherever the scheduler puts them). NULL with *err = -errno.
 */
typedef struct twf_venue twf_venue;
twf_venue *twf_venue_start(int cpu, int *err);
uint16_t twf_venue_port(const twf_venue *v);
/* Stop accepting; open connections end when their clients close. */
void twf_venue_stop(twf_venue *v);

/* A helper process (a venue started for a benchmark) dies with its parent: SIGKILL on the parent's exit.
 * Returns 0, -ESRCH if the parent is already gone, or -errno. */
int twf_die_with_parent(void);

uint64_t twf_now_ns(void);
void twf_close(int fd);

#endif
