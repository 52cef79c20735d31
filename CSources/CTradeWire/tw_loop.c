#include "tw_internal.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/prctl.h>

uint64_t tw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int tw_buf_reserve(struct tw_buf *b, size_t free_bytes)
{
    if (b->start == b->end)
        b->start = b->end = 0;
    if (b->cap - b->end >= free_bytes)
        return 0;
    if (b->start > 0) {              /* compact first: no allocation */
        memmove(b->p, b->p + b->start, b->end - b->start);
        b->end -= b->start;
        b->start = 0;
        if (b->cap - b->end >= free_bytes)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->end < free_bytes)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

void tw_buf_free(struct tw_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int refill_mask_keys(tw_loop *loop)
{
    size_t got = 0;
    while (got < sizeof loop->mask_keys) {
        ssize_t r = getrandom((uint8_t *)loop->mask_keys + got, sizeof loop->mask_keys - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)r;
    }
    loop->mask_idx = 0;
    return 0;
}

uint32_t tw_loop_mask_key(tw_loop *loop)
{
    if (loop->mask_idx == 256)
        tw_loop_refill_mask_keys(loop);     /* only if the refill after the last send did not run */
    return loop->mask_keys[loop->mask_idx++];
}

void tw_loop_refill_mask_keys(tw_loop *loop)
{
    if (loop->mask_idx == 256 && refill_mask_keys(loop) < 0)
        loop->mask_idx = 0;  /* getrandom cannot fail once it worked; reuse keys rather than abort */
}

int tw_loop_new(const struct tw_loop_options *opt, tw_loop **out)
{
    struct tw_loop_options o = opt ? *opt : (struct tw_loop_options){ .cpu = -1 };
    tw_loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return -ENOMEM;
    loop->wait_mode = o.wait_mode;
    loop->epfd = -1;
    int r = refill_mask_keys(loop);
    if (r < 0)
        goto fail;
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->wake_fd < 0) {
        r = -errno;
        goto fail;
    }
    /* Timed waits on this thread should wake on time, not up to 50 us late (the default slack). */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    if (o.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o.cpu, &set);
        /* Pin before creating the ring so kernel-side workers inherit the mask. */
        r = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        if (r) {
            r = -r;
            goto fail_fd;
        }
    }
    if (o.backend != TW_BACKEND_POSIX) {
        r = tw_uring_init(loop, o.ring_entries ? o.ring_entries : 256);
        if (r == 0) {
            loop->backend = TW_BACKEND_IO_URING;
        } else if (o.backend == TW_BACKEND_IO_URING) {
            goto fail_fd;
        } else {
            snprintf(loop->fallback_buf, sizeof loop->fallback_buf,
                     "io_uring_queue_init failed: %s; using non-blocking syscalls", tw_strerror(r));
            loop->fallback_reason = loop->fallback_buf;
        }
    }
    if (loop->backend != TW_BACKEND_IO_URING) {
        r = tw_posix_init(loop);
        if (r < 0)
            goto fail_fd;
        loop->backend = TW_BACKEND_POSIX;
    }
    *out = loop;
    return 0;
fail_fd:
    close(loop->wake_fd);
fail:
    free(loop);
    return r;
}

enum tw_backend tw_loop_backend(const tw_loop *loop) { return loop->backend; }
const char *tw_loop_fallback_reason(const tw_loop *loop) { return loop->fallback_reason; }

void tw_loop_free(tw_loop *loop)
{
    if (!loop)
        return;
    /* Abort everything, drain what the kernel still holds, then free. */
    for (tw_conn *c = loop->conns; c; c = c->next)
        tw_conn_abort(c);
    for (tw_listener *l = loop->listeners; l; l = l->next)
        tw_listener_close(l);
    for (int i = 0; i < 100 && (loop->conns || loop->listeners); i++)
        tw_loop_poll(loop, 10 * 1000000, NULL, NULL);
    if (loop->backend == TW_BACKEND_IO_URING)
        tw_uring_exit(loop);
    else
        tw_posix_exit(loop);
    close(loop->wake_fd);
    free(loop);
}

void tw_loop_set_idle(tw_loop *loop, tw_idle_fn fn, void *ctx)
{
    loop->idle_fn = fn;
    loop->idle_ctx = ctx;
}

int tw_loop_wake(tw_loop *loop)
{
    uint64_t one = 1;
    return write(loop->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN ? -errno : 0;
}

void tw_loop_emit(tw_loop *loop, const struct tw_event *ev)
{
    loop->nevents++;
    if (loop->fn)
        loop->fn(loop->ctx, ev);
}

void tw_loop_defer(tw_loop *loop, tw_conn *c)
{
    if (c->pending_listed)
        return;
    c->pending_listed = true;
    c->pending_next = loop->pending;
    loop->pending = c;
}

void tw_loop_unlink(tw_loop *loop, tw_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        loop->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

/* Deferred work: posix inline-send completions and CLOSED events raised outside a completion. */
static void run_pending(tw_loop *loop)
{
    while (loop->pending) {
        tw_conn *c = loop->pending;
        loop->pending = c->pending_next;
        c->pending_listed = false;
        c->refs++;                       /* keep c alive across the handlers */
        if (c->posix_send_done) {
            c->posix_send_done = false;
            tw_conn_on_send(c, c->posix_send_res);
        }
        tw_conn_run_deferred(c);
        c->refs--;
        tw_conn_maybe_free(c);
    }
}

/* Earliest close deadline of a closing connection, or 0. */
static uint64_t next_deadline(tw_loop *loop)
{
    uint64_t d = 0;
    for (tw_conn *c = loop->conns; c; c = c->next)
        if (c->deadline_ns && (!d || c->deadline_ns < d))
            d = c->deadline_ns;
    return d;
}

int tw_loop_poll(tw_loop *loop, int64_t timeout_ns, tw_event_fn fn, void *ctx)
{
    loop->fn = fn;
    loop->ctx = ctx;
    loop->nevents = 0;
    run_pending(loop);
    if (loop->nevents > 0)
        timeout_ns = 0;                  /* something happened already: do not sleep */
    uint64_t dl = next_deadline(loop);
    if (dl) {
        uint64_t now = tw_now_ns();
        int64_t until = dl > now ? (int64_t)(dl - now) : 0;
        if (timeout_ns < 0 || until < timeout_ns)
            timeout_ns = until;
    }
    int r = loop->backend == TW_BACKEND_IO_URING ? tw_uring_wait(loop, timeout_ns)
                                                 : tw_posix_wait(loop, timeout_ns);
    if (dl) {
        uint64_t now = tw_now_ns();
        for (tw_conn *c = loop->conns, *n; c; c = n) {
            n = c->next;
            if (c->deadline_ns && c->deadline_ns <= now)
                tw_conn_on_deadline(c);
        }
    }
    run_pending(loop);
    int ev = loop->nevents;
    loop->fn = NULL;
    loop->ctx = NULL;
    return r < 0 && r != -ETIME && r != -EINTR ? r : ev;
}
