#include "tw_utf8.h"
#include <string.h>

/*
 * State layout: 0 = between code points. Otherwise bits 16..17 hold how many
 * continuation bytes remain, bits 8..15 the lowest and bits 0..7 the highest
 * value the next byte may take (this is how overlongs, surrogates and values
 * above U+10FFFF are refused on their second byte).
 */
#define ST(need, lo, hi) (((uint32_t)(need) << 16) | ((uint32_t)(lo) << 8) | (uint32_t)(hi))

int tw_utf8_validate(uint32_t *state, const uint8_t *p, size_t n)
{
    uint32_t st = *state;
    size_t i = 0;
    while (i < n) {
        if (st == 0) {
            /* ASCII fast path, 16 bytes a step. */
            while (i + 16 <= n) {
                uint64_t a, b;
                memcpy(&a, p + i, 8);
                memcpy(&b, p + i + 8, 8);
                if ((a | b) & 0x8080808080808080ULL)
                    break;
                i += 16;
            }
            if (i >= n)
                break;
            uint8_t c = p[i++];
            if (c < 0x80)
                continue;
            if (c >= 0xC2 && c <= 0xDF) st = ST(1, 0x80, 0xBF);
            else if (c == 0xE0) st = ST(2, 0xA0, 0xBF);
            else if (c >= 0xE1 && c <= 0xEC) st = ST(2, 0x80, 0xBF);
            else if (c == 0xED) st = ST(2, 0x80, 0x9F);
            else if (c >= 0xEE && c <= 0xEF) st = ST(2, 0x80, 0xBF);
            else if (c == 0xF0) st = ST(3, 0x90, 0xBF);
            else if (c >= 0xF1 && c <= 0xF3) st = ST(3, 0x80, 0xBF);
            else if (c == 0xF4) st = ST(3, 0x80, 0x8F);
            else { *state = st; return -1; }
        } else {
            uint8_t c = p[i++];
            uint8_t lo = (st >> 8) & 0xff, hi = st & 0xff;
            if (c < lo || c > hi) { *state = st; return -1; }
            uint32_t need = (st >> 16) - 1;
            st = need ? ST(need, 0x80, 0xBF) : 0;
        }
    }
    *state = st;
    return 0;
}
