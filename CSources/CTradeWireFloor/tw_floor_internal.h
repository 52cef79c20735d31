#ifndef TW_FLOOR_INTERNAL_H
#define TW_FLOOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes a complete unmasked server frame needs (header length in *hl), or 0 if the header is incomplete. */
size_t twf_frame_need(const uint8_t *b, size_t n, size_t *hl);

/* The fixed upgrade request both floors send. Returns its length. */
int twf_upgrade_request(char *out, size_t cap, const char *host, uint16_t port, const char *target);

/* A connected TCP socket with TCP_NODELAY, or -errno. */
int twf_tcp_connect(const char *host, uint16_t port);

#endif
