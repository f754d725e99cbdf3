/* SPDX-License-Identifier: Apache-2.0
 *
 * The loader's helper thread for large files. It first runs one job for
 * the parser (parsing half of the tags, split_parse.c), then frees the
 * JSON of checked list elements while the loader goes on with the next
 * ones: releasing jansson's tree of a large project costs about as much
 * as walking it, and on two cores the two overlap instead of adding up.
 * It lives for one parse: started by the loader, joined before
 * bw_project_parse() returns. Small projects use no thread at all.
 *
 * Memory: what the job allocates lives in this thread's own malloc arena,
 * and glibc gives a secondary arena's free top back to the system only
 * when a large chunk is freed into it (malloc_trim does not). So the
 * thread's last act, after everything is freed, is to free one such
 * chunk; without it a 100,000-tag daemon kept 40 MiB it no longer used.
 */
#include "project/internal.h"

#include <malloc.h>
#include <pthread.h>

#define REAPER_BATCH_MAX 4096u
/* Above glibc's fastbin consolidation threshold (64 KiB), below its
 * mmap threshold (128 KiB or more): carved from and freed into the top. */
#define REAPER_TRIM_NUDGE_BYTES (96u * 1024u)

struct pj_reaper {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    json_t **pending; /* guarded by lock */
    size_t count;
    bool closing;
    void (*job)(void *); /* guarded by lock; run before any freeing */
    void *job_arg;
    bool job_done;
    pthread_t thread;
};

/* Runs a submitted job; called and returns with the lock held. */
static void run_job(struct pj_reaper *r)
{
    void (*job)(void *) = r->job;
    void *arg = r->job_arg;
    r->job = NULL;
    pthread_mutex_unlock(&r->lock);
    job(arg);
    pthread_mutex_lock(&r->lock);
    r->job_done = true;
    pthread_cond_broadcast(&r->wake);
}

static void *reaper_main(void *arg)
{
    struct pj_reaper *r = arg;
    json_t *batch[REAPER_BATCH_MAX];
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->count == 0 && !r->job && !r->closing)
            pthread_cond_wait(&r->wake, &r->lock);
        if (r->job) {
            run_job(r);
            continue;
        }
        if (r->count == 0)
            break;
        size_t n = r->count;
        for (size_t i = 0; i < n; i++)
            batch[i] = r->pending[i];
        r->count = 0;
        pthread_cond_broadcast(&r->wake); /* room again for the loader */
        pthread_mutex_unlock(&r->lock);
        for (size_t i = 0; i < n; i++)
            json_decref(batch[i]);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    /* Merge this thread's freed chunks, then free a large one into the
     * arena's top so glibc shrinks it (see the top of this file). */
    malloc_trim(0);
    void *nudge = bw_malloc(REAPER_TRIM_NUDGE_BYTES);
    bw_free(nudge);
    return NULL;
}

void pj_reaper_submit(struct pj_reaper *r, void (*job)(void *), void *arg)
{
    pthread_mutex_lock(&r->lock);
    r->job = job;
    r->job_arg = arg;
    r->job_done = false;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void pj_reaper_wait(struct pj_reaper *r)
{
    pthread_mutex_lock(&r->lock);
    while (!r->job_done)
        pthread_cond_wait(&r->wake, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

struct pj_reaper *pj_reaper_start(void)
{
    struct pj_reaper *r = bw_calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->pending = bw_calloc(REAPER_BATCH_MAX, sizeof(*r->pending));
    if (!r->pending || pthread_mutex_init(&r->lock, NULL) != 0) {
        bw_free(r->pending);
        bw_free(r);
        return NULL;
    }
    if (pthread_cond_init(&r->wake, NULL) != 0) {
        pthread_mutex_destroy(&r->lock);
        bw_free(r->pending);
        bw_free(r);
        return NULL;
    }
    if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        bw_free(r->pending);
        bw_free(r);
        return NULL;
    }
    return r;
}

void pj_reaper_release(struct pj_reaper *r, json_t *value)
{
    if (!r) {
        json_decref(value);
        return;
    }
    pthread_mutex_lock(&r->lock);
    /* Bounded: when the reaper falls a whole batch behind, wait for it. */
    while (r->count == REAPER_BATCH_MAX)
        pthread_cond_wait(&r->wake, &r->lock);
    r->pending[r->count++] = value;
    if (r->count == 1)
        pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void pj_reaper_finish(struct pj_reaper *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->closing = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    bw_free(r->pending);
    bw_free(r);
}
