/*
 * alloccount.so: counts heap allocations for the rlt-bench micro-benchmarks (LD_PRELOAD).
 *
 * Wraps malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign with the next
 * definitions in the search order and counts each call; rlt-bench reads the count through
 * rlt_alloc_count() (found with dlsym). Counting only, no bookkeeping, so the overhead is one
 * relaxed atomic increment per allocation.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

static atomic_uint_least64_t count;

uint64_t rlt_alloc_count(void) { return atomic_load_explicit(&count, memory_order_relaxed); }

#define COUNT() atomic_fetch_add_explicit(&count, 1, memory_order_relaxed)

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t size) { COUNT(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { COUNT(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { COUNT(); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { COUNT(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { COUNT(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    COUNT();
    void *p = __libc_memalign(alignment, size);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
