/* SPDX-License-Identifier: Apache-2.0
 *
 * Allocation wrappers with failure injection, so tests can prove that
 * every parser and constructor survives running out of memory.
 */
#include "base/base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* -1: injection disabled; otherwise the number of allocations that may
 * still succeed. */
static _Atomic long allocs_left = -1;

void bw_alloc_fail_after(long count)
{
    atomic_store(&allocs_left, count < 0 ? -1 : count);
}

static bool alloc_allowed(void)
{
    long left = atomic_load_explicit(&allocs_left, memory_order_relaxed);
    while (left >= 0) {
        if (left == 0)
            return false;
        if (atomic_compare_exchange_weak(&allocs_left, &left, left - 1))
            return true;
    }
    return true;
}

void *bw_malloc(size_t size)
{
    return alloc_allowed() ? malloc(size ? size : 1) : NULL;
}

void *bw_calloc(size_t count, size_t size)
{
    return alloc_allowed() ? calloc(count ? count : 1, size ? size : 1) : NULL;
}

void *bw_realloc(void *ptr, size_t size)
{
    return alloc_allowed() ? realloc(ptr, size ? size : 1) : NULL;
}

void bw_free(void *ptr)
{
    free(ptr);
}

char *bw_strndup(const char *s, size_t len)
{
    size_t n = strnlen(s, len);
    char *copy = bw_malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *bw_strdup(const char *s)
{
    return bw_strndup(s, strlen(s));
}
