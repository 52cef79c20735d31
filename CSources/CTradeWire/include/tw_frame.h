#ifndef TW_FRAME_H
#define TW_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* RFC 6455 §5.2 opcodes. */
enum tw_opcode {
    TW_OP_CONTINUATION = 0x0,
    TW_OP_TEXT = 0x1,
    TW_OP_BINARY = 0x2,
    TW_OP_CLOSE = 0x8,
    TW_OP_PING = 0x9,
    TW_OP_PONG = 0xA,
};

/* Largest frame header: 2 + 8 (64-bit length) + 4 (mask key). */
#define TW_FRAME_MAX_HEADER 14

/* A parsed frame header. payload_offset is where the payload starts in the input. */
struct tw_frame_header {
    uint64_t payload_len;
    uint32_t mask_key;      /* as the 4 bytes appear on the wire, read little-endian */
    uint8_t opcode;
    bool fin;
    bool masked;
    uint8_t rsv;            /* RSV1..3 as bits 2..0 */
    uint8_t header_len;     /* 2..14 */
};

/*
 * Parse one frame header from buf[0..len).
 * Returns header length (> 0) on success, TW_PARTIAL if len is too short to
 * hold the header. It only decodes: semantic checks (reserved bits, opcodes,
 * masking) belong to tw_ws. Never reads past buf[len-1].
 */
int tw_frame_parse_header(const uint8_t *buf, size_t len, struct tw_frame_header *out);

/* Header length for a payload of this size, masked (client) or not (server). */
size_t tw_frame_header_len(uint64_t payload_len, bool masked);

/*
 * Write a frame header so that it ends exactly at `payload` (the caller left a
 * gap of at least tw_frame_header_len bytes before it). When masked, the
 * payload is masked in place with mask_key. Returns the frame start.
 */
uint8_t *tw_frame_write_header(uint8_t *payload, uint64_t payload_len, uint8_t opcode,
                               bool fin, bool masked, uint32_t mask_key);

/*
 * XOR data with the 4-byte key, word-wide. key_offset is the position of data[0]
 * within the masked payload (so a payload can be unmasked in pieces).
 */
void tw_mask(uint8_t *data, size_t len, uint32_t mask_key, size_t key_offset);

#endif
