#ifndef TW_UTF8_H
#define TW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * state starts at 0. Returns 0 if the bytes so far are a valid prefix, -1 on the
 * first invalid byte. After the last chunk, the text is complete iff *state == 0.
 */
int tw_utf8_validate(uint32_t *state, const uint8_t *p, size_t n);

#endif
