/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's string pool: every string the loaded project keeps
 * (names, descriptions, units, addresses, initial texts) is copied into a
 * few large chunks instead of one allocation each. The JSON tree the
 * strings come from is many times larger and is freed right after; with
 * the kept strings packed together, the pages that tree used become
 * wholly free and the daemon can return them to the system. Caller's
 * thread; one pool per project.
 */
#include "project/internal.h"

#include <string.h>

#define POOL_CHUNK_BYTES (256u * 1024u)

struct pj_pool_chunk {
    struct pj_pool_chunk *next;
    size_t used;
    size_t cap;
    char data[];
};

char *pj_pool_strndup(struct pj_pool *pool, const char *s, size_t len)
{
    size_t need;
    if (!bw_size_add(len, 1, &need))
        return NULL;
    struct pj_pool_chunk *c = pool->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > POOL_CHUNK_BYTES ? need : POOL_CHUNK_BYTES;
        size_t bytes;
        if (!bw_size_add(sizeof(*c), cap, &bytes))
            return NULL;
        c = bw_malloc(bytes);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = pool->head;
        pool->head = c;
    }
    char *copy = c->data + c->used;
    memcpy(copy, s, len);
    copy[len] = '\0';
    c->used += need;
    return copy;
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
