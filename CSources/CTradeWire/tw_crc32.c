#include "tw_crc32.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Slicing by 8: table k gives the CRC of a byte followed by k zero bytes. Built on first use. */
static uint32_t tables[8][256];
static int tables_ready;

static void build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        tables[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) tables[k][i] = (tables[k - 1][i] >> 8) ^ tables[0][tables[k - 1][i] & 0xFF];
    __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
}

/* On the inverted register (the caller inverts before and after). */
static uint32_t table_update(uint32_t c, const uint8_t *p, size_t n) {
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE)) build_tables();   /* idempotent: a race builds it twice */
    while (n >= 8) {
        uint32_t lo, hi;
        __builtin_memcpy(&lo, p, 4);
        __builtin_memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^ tables[4][lo >> 24]
          ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^ tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = tables[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

uint32_t tw_crc32_table(uint32_t crc, const uint8_t *p, size_t n) { return ~table_update(~crc, p, n); }

#if defined(__x86_64__)
/*
 * Folding with carry-less multiplication (Gopal et al., "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", Intel, 2009), in the bit-reflected domain. Each constant is x^k mod P for the k that moves a
 * 128-bit lane forward by the distance folded; the last two reduce 64 bits to 32 (Barrett).
 */
#define TW_CLMUL __attribute__((target("pclmul,sse4.1")))

/* Fold lane a forward over its distance (constants k) and add the next lane b. */
TW_CLMUL static inline __m128i fold(__m128i a, __m128i k, __m128i b) {
    __m128i low = _mm_clmulepi64_si128(a, k, 0x00);
    __m128i high = _mm_clmulepi64_si128(a, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(high, low), b);
}

/* n >= 64 and a multiple of 16; c is the inverted register. */
TW_CLMUL static uint32_t clmul_update(uint32_t c, const uint8_t *p, size_t n) {
    const __m128i k_fold64 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);   /* 4 lanes (512 bits) forward */
    const __m128i k_fold16 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);   /* 1 lane (128 bits) forward */
    const __m128i k_64to32 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i barrett = _mm_set_epi64x(0x01f7011641, 0x01db710641);    /* mu, P */
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

    __m128i x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)c));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x1 = fold(x1, k_fold64, _mm_loadu_si128((const __m128i *)p));
        x2 = fold(x2, k_fold64, _mm_loadu_si128((const __m128i *)(p + 16)));
        x3 = fold(x3, k_fold64, _mm_loadu_si128((const __m128i *)(p + 32)));
        x4 = fold(x4, k_fold64, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    /* Four lanes into one, then the remaining 16-byte blocks. */
    x1 = fold(x1, k_fold16, x2);
    x1 = fold(x1, k_fold16, x3);
    x1 = fold(x1, k_fold16, x4);
    while (n >= 16) {
        x1 = fold(x1, k_fold16, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    /* 128 bits to 64. */
    __m128i t = _mm_clmulepi64_si128(x1, k_fold16, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    /* 64 bits to 32. */
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k_64to32, 0x00), t);
    /* Barrett reduction to the 32-bit remainder. */
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), barrett, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

static int clmul_supported(void) {
    static int known = -1;
    int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (k < 0) {
        __builtin_cpu_init();
        k = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
        __atomic_store_n(&known, k, __ATOMIC_RELAXED);
    }
    return k;
}
#endif

uint32_t tw_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (n >= 64 && clmul_supported()) {
        size_t blocks = n & ~(size_t)15;
        c = clmul_update(c, p, blocks);
        p += blocks;
        n -= blocks;
    }
#endif
    return ~table_update(c, p, n);
}
