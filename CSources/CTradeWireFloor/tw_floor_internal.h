#ifndef TW_FLOOR_INTERNAL_H
#define TW_FLOOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes a complete unmasked server frame needs (header length in *hl), or 0 if the header is incomplete. */
size_t twf_frame_need(const uint8_t *b, size_t n, size_t *hl);

/* got bytes of a reply are in buf: its payload length once the frame is complete, -EAGAIN while it
 * is not, -EMSGSIZE if it cannot fit in cap. need and hl carry state between calls (start at 0). */
long twf_reply_progress(const uint8_t *buf, size_t got, size_t cap, size_t *need, size_t *hl);

/* The fixed upgrade request both floors send. Returns its length. */
int twf_upgrade_request(char *out, size_t cap, const char *host, uint16_t port, const char *target);

/* A connected TCP socket with TCP_NODELAY, or -errno. */
int twf_tcp_connect(const char *host, uint16_t port);

#endif
