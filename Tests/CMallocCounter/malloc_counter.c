/*
 * Counts heap allocations per thread by interposing the allocator in the test
 * executable (its definitions win over libc's for every shared library too).
 * Each wrapper forwards to glibc's exported __libc_* implementation.
 */
#include "malloc_counter.h"
#include <errno.h>
#include <stddef.h>

/* Under AddressSanitizer or ThreadSanitizer the allocator belongs to the sanitizer: no interposition, no
 * counting. Under TSan an interposed malloc also broke every run of the test binary: the runtime's own start
 * (dlsym while installing its interceptors) calls malloc, which landed here, in instrumented code, before
 * TSan had a thread state: a segfault in TraceSwitchPart, before main. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TW_NO_INTERPOSE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TW_NO_INTERPOSE 1
#endif

#ifdef TW_NO_INTERPOSE
int tw_test_allocation_counting(void) { return 0; }
uint64_t tw_test_thread_allocations(void) { return 0; }
#else
int tw_test_allocation_counting(void) { return 1; }

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread uint64_t allocations;

uint64_t tw_test_thread_allocations(void) { return allocations; }

void *malloc(size_t n) { allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocations++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { allocations++; return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { allocations++; return __libc_memalign(a, n); }

int posix_memalign(void **out, size_t a, size_t n)
{
    allocations++;
    void *p = __libc_memalign(a, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
#endif
