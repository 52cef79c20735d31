/*
 * ThreadSanitizer and liburing's rings, preloaded (LD_PRELOAD) into the test processes by `make test-tsan`
 * together with swift_mutex_tsan.c. Not part of any product.
 *
 * Why: Debian's liburing (2.3) maps and unmaps a ring's memory (SQ and CQ rings, SQEs) with raw system calls,
 * not through libc, so ThreadSanitizer never sees those mappings come or go. When one event loop frees its
 * ring and another loop's new ring is mapped at the same address (the kernel reuses it at once), the shadow
 * still holds the old loop thread's accesses to the old ring's head and tail, and the new loop's first look
 * at its completion queue is reported as a race with a thread that may have finished (seen: __io_uring_peek_cqe
 * on one loop against io_uring_cq_advance on another, in two unrelated tests running side by side).
 *
 * What it does: after io_uring_queue_exit has unmapped a ring, the freed ranges are claimed with an anonymous
 * MAP_FIXED_NOREPLACE mapping and unmapped again, both through libc: ThreadSanitizer's munmap interceptor
 * resets the range's shadow, as it would have had liburing used libc. (Mapping the live ring again instead is
 * refused: the kernel takes no address for an io_uring mapping.) A lock of this file's own, which
 * ThreadSanitizer does not see (this file is not instrumented) and so adds no happens-before edge, keeps another
 * thread's ring setup from taking the range in between. A range something else took meanwhile was mapped
 * through libc, where the interceptor saw it: it is left alone.
 *
 * Only in a ThreadSanitizer process (the weak __tsan_acquire is set): anywhere else this is a pass-through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void __tsan_acquire(void *addr) __attribute__((weak));

typedef int (*init_params_fn)(unsigned entries, struct io_uring *ring, struct io_uring_params *p);
typedef void (*exit_fn)(struct io_uring *ring);

static int ring_lock; /* a spin lock on a plain int: invisible to ThreadSanitizer */

static void lock(void)
{
    while (__atomic_exchange_n(&ring_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void unlock(void) { __atomic_store_n(&ring_lock, 0, __ATOMIC_RELEASE); }

static void *real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn)
        abort();
    return fn;
}

int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p)
{
    static init_params_fn real_init;
    if (!real_init)
        real_init = (init_params_fn)real("io_uring_queue_init_params");
    if (!__tsan_acquire)
        return real_init(entries, ring, p);
    lock();
    int r = real_init(entries, ring, p);
    unlock();
    return r;
}

/* The shadow of [addr, addr + len), unmapped by liburing, reset by a libc mmap + munmap of the same range. */
static void reset_shadow(void *addr, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    len = (len + page - 1) & ~(page - 1);
    void *claim = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (claim == MAP_FAILED)
        return; /* taken meanwhile, through libc: the interceptor saw it */
    munmap(claim, len);
}

void io_uring_queue_exit(struct io_uring *ring)
{
    static exit_fn real_exit;
    if (!real_exit)
        real_exit = (exit_fn)real("io_uring_queue_exit");
    if (!__tsan_acquire) {
        real_exit(ring);
        return;
    }
    void *sq = ring->sq.ring_ptr, *cq = ring->cq.ring_ptr, *sqes = ring->sq.sqes;
    size_t sq_len = ring->sq.ring_sz, cq_len = ring->cq.ring_sz;
    size_t sqes_len = sizeof(struct io_uring_sqe) * ((ring->flags & IORING_SETUP_SQE128) ? 2 : 1) *
                      *ring->sq.kring_entries;
    lock();
    real_exit(ring);
    reset_shadow(sq, sq_len);
    if (cq != sq) /* no IORING_FEAT_SINGLE_MMAP: the CQ ring was a mapping of its own */
        reset_shadow(cq, cq_len);
    reset_shadow(sqes, sqes_len);
    unlock();
}
