#include "tw_frame.h"
#include "tw_error.h"
#include <string.h>

int tw_frame_parse_header(const uint8_t *buf, size_t len, struct tw_frame_header *out)
{
    if (len < 2)
        return TW_PARTIAL;
    uint8_t b0 = buf[0], b1 = buf[1];
    size_t need = 2;
    uint64_t plen = b1 & 0x7f;
    if (plen == 126)
        need += 2;
    else if (plen == 127)
        need += 8;
    bool masked = (b1 & 0x80) != 0;
    if (masked)
        need += 4;
    if (len < need)
        return TW_PARTIAL;

    size_t pos = 2;
    if (plen == 126) {
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        pos = 4;
    } else if (plen == 127) {
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | buf[2 + i];
        pos = 10;
    }
    uint32_t key = 0;
    if (masked)
        memcpy(&key, buf + pos, 4);

    out->payload_len = plen;
    out->mask_key = key;
    out->opcode = b0 & 0x0f;
    out->fin = (b0 & 0x80) != 0;
    out->rsv = (b0 >> 4) & 0x07;
    out->masked = masked;
    out->header_len = (uint8_t)need;
    return (int)need;
}

size_t tw_frame_header_len(uint64_t payload_len, bool masked)
{
    size_t n = payload_len < 126 ? 2 : payload_len <= 0xffff ? 4 : 10;
    return masked ? n + 4 : n;
}

uint8_t *tw_frame_write_header(uint8_t *payload, uint64_t payload_len, uint8_t opcode,
                               bool fin, bool masked, uint32_t mask_key)
{
    uint8_t *h = payload - tw_frame_header_len(payload_len, masked);
    uint8_t *p = h;
    *p++ = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    uint8_t m = masked ? 0x80 : 0;
    if (payload_len < 126) {
        *p++ = m | (uint8_t)payload_len;
    } else if (payload_len <= 0xffff) {
        *p++ = m | 126;
        *p++ = (uint8_t)(payload_len >> 8);
        *p++ = (uint8_t)payload_len;
    } else {
        *p++ = m | 127;
        for (int i = 7; i >= 0; i--)
            *p++ = (uint8_t)(payload_len >> (8 * i));
    }
    if (masked) {
        memcpy(p, &mask_key, 4);
        tw_mask(payload, (size_t)payload_len, mask_key, 0);
    }
    return h;
}

void tw_mask(uint8_t *data, size_t len, uint32_t mask_key, size_t key_offset)
{
    /* Rotate the key so that byte 0 of data uses key byte key_offset % 4. */
    unsigned rot = (unsigned)(key_offset & 3);
    uint32_t k = rot ? (mask_key >> (8 * rot)) | (mask_key << (32 - 8 * rot)) : mask_key;
    uint64_t k64 = ((uint64_t)k << 32) | k;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);   /* unaligned-safe; compiles to one load */
        w ^= k64;
        memcpy(data + i, &w, 8);
    }
    const uint8_t *kb = (const uint8_t *)&k;
    for (; i < len; i++)
        data[i] ^= kb[i & 3];
}
