/*
 * ThreadSanitizer annotations for the Swift standard library's Synchronization.Mutex on Linux, preloaded
 * (LD_PRELOAD) into the test processes by `make test-tsan`. Not part of any product.
 *
 * Why: Mutex's fast paths (_lock/_unlock: a compare-exchange on the owner's thread id) are inlined into
 * TradeWire's code, so ThreadSanitizer sees those atomics. But when the lock is contended, the acquiring
 * thread goes through _MutexHandle._lockSlow (an uninstrumented spin, then FUTEX_LOCK_PI: the kernel hands
 * it the lock) and the releasing thread through _unlockSlow (FUTEX_UNLOCK_PI), both in
 * libswiftSynchronization.so, which is not instrumented. ThreadSanitizer then sees no happens-before edge
 * from one critical section to the next and reports every value the Mutex protects as a data race (a
 * two-thread counter under Mutex.withLock shows it in a few lines). These wrappers add the edge that the
 * uninstrumented code leaves out: a release on the lock word before the slow unlock, an acquire on it after a
 * slow lock. The same address is the word the inlined atomics use, so fast and slow paths pair up.
 *
 * The wrapped functions are Swift (swiftcall; `self`, the lock word's address, in the swiftself register,
 * which clang's swift_context parameter attribute names). Resolved with dlsym(RTLD_NEXT): in a process
 * without the Swift runtime, or without ThreadSanitizer (the weak __tsan_* are null), nothing changes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFT_SELF __attribute__((swift_context))

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

typedef SWIFTCALL void (*lock_slow_fn)(uint32_t self_id, void *SWIFT_SELF word);
typedef SWIFTCALL bool (*try_lock_slow_fn)(void *SWIFT_SELF word);
typedef SWIFTCALL void (*unlock_slow_fn)(void *SWIFT_SELF word);

static lock_slow_fn real_lock_slow;
static try_lock_slow_fn real_try_lock_slow;
static unlock_slow_fn real_unlock_slow;

__attribute__((constructor)) static void resolve(void)
{
    real_lock_slow = (lock_slow_fn)dlsym(RTLD_NEXT, LOCK_SLOW);
    real_try_lock_slow = (try_lock_slow_fn)dlsym(RTLD_NEXT, TRY_LOCK_SLOW);
    real_unlock_slow = (unlock_slow_fn)dlsym(RTLD_NEXT, UNLOCK_SLOW);
}

/* Only ever called from Swift code that links the Synchronization library, so the real one exists. */
#define REAL(fn, name) ((fn) ? (fn) : ((fn) = dlsym(RTLD_NEXT, name)) ? (fn) : (abort(), (fn)))

SWIFTCALL void tw_tsan_lock_slow(uint32_t self_id, void *SWIFT_SELF word) __asm__(LOCK_SLOW);
SWIFTCALL void tw_tsan_lock_slow(uint32_t self_id, void *SWIFT_SELF word)
{
    REAL(real_lock_slow, LOCK_SLOW)(self_id, word);
    if (__tsan_acquire) __tsan_acquire(word);
}

SWIFTCALL bool tw_tsan_try_lock_slow(void *SWIFT_SELF word) __asm__(TRY_LOCK_SLOW);
SWIFTCALL bool tw_tsan_try_lock_slow(void *SWIFT_SELF word)
{
    bool locked = REAL(real_try_lock_slow, TRY_LOCK_SLOW)(word);
    if (locked && __tsan_acquire) __tsan_acquire(word);
    return locked;
}

SWIFTCALL void tw_tsan_unlock_slow(void *SWIFT_SELF word) __asm__(UNLOCK_SLOW);
SWIFTCALL void tw_tsan_unlock_slow(void *SWIFT_SELF word)
{
    if (__tsan_release) __tsan_release(word);
    REAL(real_unlock_slow, UNLOCK_SLOW)(word);
}
