#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>
/* Heap allocations (malloc, calloc, realloc, memalign family) made by the calling thread so far. */
uint64_t tw_test_thread_allocations(void);
/* 1 when allocations are counted (0 under AddressSanitizer or ThreadSanitizer, which own the allocator). */
int tw_test_allocation_counting(void);
#endif
