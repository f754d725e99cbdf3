/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's pool: every string the loaded project keeps (names,
 * descriptions, units, addresses, initial texts) and the small arrays of
 * a tag's write rules are copied into a few large chunks instead of one
 * allocation each, and freed with the project at once. The JSON tree the
 * strings come from is many times larger and is freed right after; with
 * the kept strings packed together, the pages that tree used become
 * wholly free and the daemon can return them to the system. Caller's
 * thread; one pool per project.
 */
#include "project/internal.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#define POOL_CHUNK_BYTES (256u * 1024u)

struct pj_pool_chunk {
    struct pj_pool_chunk *next;
    size_t used;
    size_t cap;
    char data[];
};

/* Room for size bytes at an address aligned to align (a power of two);
 * NULL when out of memory. */
static void *pool_take(struct pj_pool *pool, size_t size, size_t align)
{
    struct pj_pool_chunk *c = pool->head;
    size_t pad = c ? (size_t)(-(uintptr_t)(c->data + c->used)) & (align - 1) : 0;
    if (!c || c->cap - c->used < pad || c->cap - c->used - pad < size) {
        size_t cap, bytes;
        /* Room for the padding too, whatever address malloc gives. */
        if (!bw_size_add(size, align - 1, &cap) || !bw_size_add(sizeof(*c), cap, &bytes))
            return NULL;
        if (cap < POOL_CHUNK_BYTES) {
            cap = POOL_CHUNK_BYTES;
            bytes = sizeof(*c) + cap;
        }
        c = bw_malloc(bytes);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = pool->head;
        pool->head = c;
        pad = (size_t)(-(uintptr_t)c->data) & (align - 1);
    }
    void *p = c->data + c->used + pad;
    c->used += pad + size;
    return p;
}

char *pj_pool_strndup(struct pj_pool *pool, const char *s, size_t len)
{
    size_t need;
    if (!bw_size_add(len, 1, &need))
        return NULL;
    char *copy = pool_take(pool, need, 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

void *pj_pool_alloc(struct pj_pool *pool, size_t size)
{
    void *p = pool_take(pool, size ? size : 1, alignof(max_align_t));
    if (p)
        memset(p, 0, size);
    return p;
}

void pj_pool_clear(struct pj_pool *pool)
{
    struct pj_pool_chunk *c = pool->head;
    while (c) {
        struct pj_pool_chunk *next = c->next;
        bw_free(c);
        c = next;
    }
    pool->head = NULL;
}
