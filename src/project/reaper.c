/* SPDX-License-Identifier: Apache-2.0
 *
 * Frees the JSON of checked list elements on a second thread while the
 * loader goes on with the next ones. Releasing jansson's tree of a large
 * project costs about as much as walking it; on two cores the two now
 * overlap instead of adding up. The reaper lives for one parse: started
 * by the loader for large files, joined before bw_project_parse()
 * returns. Small projects free inline (no thread at all).
 */
#include "project/internal.h"

#include <pthread.h>

#define REAPER_BATCH_MAX 4096u

struct pj_reaper {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    json_t **pending; /* guarded by lock */
    size_t count;
    bool closing;
    pthread_t thread;
};

static void *reaper_main(void *arg)
{
    struct pj_reaper *r = arg;
    json_t *batch[REAPER_BATCH_MAX];
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->count == 0 && !r->closing)
            pthread_cond_wait(&r->wake, &r->lock);
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
    return NULL;
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
        pthread_cond_signal(&r->wake);
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
