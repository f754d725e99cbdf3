/* SPDX-License-Identifier: Apache-2.0
 *
 * The hashing pool: at most K Argon2id computations run at once, each
 * taking the policy's memory (19 MiB by default), and at most Q callers
 * wait for a slot; the rest are refused at once. A flood of logins thus
 * costs at most K * m of memory and Q waiting threads, never more. Any
 * thread.
 */
#include "security/internal.h"

void sec_hashpool_init(struct sec_hashpool *pool, uint32_t limit, uint32_t queue)
{
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->cond, NULL);
    pool->limit = limit ? limit : 1;
    pool->queue = queue;
    pool->running = pool->waiting = 0;
    pool->done = pool->refused = 0;
}

void sec_hashpool_clear(struct sec_hashpool *pool)
{
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
}

int sec_hashpool_enter(struct sec_hashpool *pool)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->running >= pool->limit) {
        if (pool->waiting >= pool->queue) {
            pool->refused++;
            pthread_mutex_unlock(&pool->lock);
            return BW_EFULL;
        }
        pool->waiting++;
        while (pool->running >= pool->limit)
            pthread_cond_wait(&pool->cond, &pool->lock);
        pool->waiting--;
    }
    pool->running++;
    pool->done++;
    pthread_mutex_unlock(&pool->lock);
    return BW_OK;
}

void sec_hashpool_leave(struct sec_hashpool *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->running--;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
}
