/* SPDX-License-Identifier: Apache-2.0
 *
 * The tag table: creation from definitions, the name index, and the
 * sequence-locked slots. The engine thread writes slots
 * (bw_core_slot_store); any thread reads them (bw_core_tag_read) and
 * retries when it raced a write, so a reader never delays the engine.
 */
#include "core/internal.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int compare_names(const void *a, const void *b, void *arg)
{
    const struct tag_meta *meta = arg;
    return strcmp(meta[*(const uint32_t *)a].def.name, meta[*(const uint32_t *)b].def.name);
}

static int table_alloc(struct bw_core *core, const struct bw_core_tag_def *defs, size_t n)
{
    size_t names_len = 0, string_tags = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = defs[i].name ? strnlen(defs[i].name, BW_TAG_NAME_MAX + 1) : 0;
        if (len == 0 || len > BW_TAG_NAME_MAX)
            return BW_EINVAL;
        names_len += len + 1;
        string_tags += defs[i].type == BW_TYPE_STRING;
    }
    core->meta = bw_calloc(n, sizeof(*core->meta));
    core->slots = bw_calloc(n, sizeof(*core->slots));
    core->hot = bw_calloc(n, sizeof(*core->hot));
    core->by_name = bw_calloc(n, sizeof(*core->by_name));
    core->names = bw_malloc(names_len);
    core->strings = bw_calloc(string_tags, sizeof(*core->strings));
    if (!core->meta || !core->slots || !core->hot || !core->by_name || !core->names ||
        !core->strings)
        return BW_ENOMEM;
    return BW_OK;
}

static int table_fill(struct bw_core *core, const struct bw_core_tag_def *defs, size_t n)
{
    char *name = core->names;
    uint32_t string_index = 0;
    int64_t now = bw_clock_realtime_us();
    for (size_t i = 0; i < n; i++) {
        struct tag_meta *m = &core->meta[i];
        if ((unsigned)defs[i].type > BW_TYPE_STRING)
            return BW_EINVAL;
        if ((defs[i].has_min && !isfinite(defs[i].min)) ||
            (defs[i].has_max && !isfinite(defs[i].max)) ||
            (defs[i].has_min && defs[i].has_max && defs[i].min > defs[i].max))
            return BW_EINVAL;
        size_t len = strlen(defs[i].name);
        memcpy(name, defs[i].name, len + 1);
        m->def = defs[i];
        m->def.name = name;
        name += len + 1;
        struct tag_hot *h = &core->hot[i];
        h->type = (uint8_t)defs[i].type;
        h->numeric = defs[i].type == BW_TYPE_INT || defs[i].type == BW_TYPE_FLOAT;
        h->min = defs[i].has_min ? defs[i].min : -INFINITY;
        h->max = defs[i].has_max ? defs[i].max : INFINITY;
        h->string_index = defs[i].type == BW_TYPE_STRING ? string_index++ : NO_STRING;
        atomic_init(&core->slots[i].quality_reason,
                    bw_core_pack_quality(BW_QUALITY_BAD, BW_REASON_WAITING));
        atomic_init(&core->slots[i].server_ts_us, now);
        core->by_name[i] = (uint32_t)i;
    }
    qsort_r(core->by_name, n, sizeof(*core->by_name), compare_names, core->meta);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(core->meta[core->by_name[i - 1]].def.name,
                   core->meta[core->by_name[i]].def.name) == 0)
            return BW_EINVAL;
    }
    return BW_OK;
}

/* The engine's idle wait is timed on the monotonic clock, so a step of
 * the wall clock can neither stall nor spin it. */
static int sync_init(struct bw_core *core)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return BW_ENOMEM;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&core->wake_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return BW_ENOMEM;
    if (pthread_mutex_init(&core->wake_lock, NULL) != 0) {
        pthread_cond_destroy(&core->wake_cond);
        return BW_ENOMEM;
    }
    if (pthread_mutex_init(&core->subs_lock, NULL) != 0) {
        pthread_cond_destroy(&core->wake_cond);
        pthread_mutex_destroy(&core->wake_lock);
        return BW_ENOMEM;
    }
    core->sync_ready = true;
    return BW_OK;
}

int bw_core_new(const struct bw_core_tag_def *defs, size_t n, const struct bw_core_config *config,
                struct bw_core **out)
{
    *out = NULL;
    if ((n && !defs) || n > BW_CORE_MAX_TAGS)
        return BW_EINVAL;
    struct bw_core *core = bw_calloc(1, sizeof(*core));
    if (!core)
        return BW_ENOMEM;
    core->tag_count = n;
    size_t capacity =
        config && config->update_queue_capacity ? config->update_queue_capacity : 65536;
    int rc = sync_init(core);
    if (!rc)
        rc = table_alloc(core, defs, n);
    if (!rc)
        rc = table_fill(core, defs, n);
    if (!rc)
        rc = bw_core_queue_init(&core->queue, capacity);
    if (rc) {
        bw_core_free(core);
        return rc;
    }
    *out = core;
    return BW_OK;
}

void bw_core_free(struct bw_core *core)
{
    if (!core)
        return;
    bw_core_stop(core);
    bw_core_queue_clear(&core->queue);
    for (size_t i = 0; core->meta && i < core->tag_count; i++)
        bw_core_rules_free(core->meta[i].rules);
    bw_free(core->meta);
    bw_free(core->slots);
    bw_free(core->hot);
    bw_free(core->by_name);
    bw_free(core->names);
    bw_free(core->strings);
    if (core->sync_ready) {
        pthread_mutex_destroy(&core->wake_lock);
        pthread_cond_destroy(&core->wake_cond);
        pthread_mutex_destroy(&core->subs_lock);
    }
    bw_free(core);
}

size_t bw_core_tag_count(const struct bw_core *core)
{
    return core->tag_count;
}

const struct bw_core_tag_def *bw_core_tag_def(const struct bw_core *core, uint32_t id)
{
    return id < core->tag_count ? &core->meta[id].def : NULL;
}

/* First rank whose name is not less than key (compared on at most
 * key_len bytes when prefix is set). */
static size_t lower_bound(const struct bw_core *core, const char *key, size_t key_len, bool prefix)
{
    size_t lo = 0, hi = core->tag_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = core->meta[core->by_name[mid]].def.name;
        int cmp = prefix ? strncmp(name, key, key_len) : strcmp(name, key);
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int bw_core_tag_find(const struct bw_core *core, const char *name, uint32_t *id)
{
    size_t rank = lower_bound(core, name, 0, false);
    if (rank < core->tag_count && strcmp(core->meta[core->by_name[rank]].def.name, name) == 0) {
        *id = core->by_name[rank];
        return BW_OK;
    }
    return BW_ENOTFOUND;
}

void bw_core_tag_prefix_range(const struct bw_core *core, const char *prefix, size_t *first,
                              size_t *count)
{
    size_t len = strlen(prefix);
    size_t lo = lower_bound(core, prefix, len, true);
    size_t hi = lo;
    while (hi < core->tag_count &&
           strncmp(core->meta[core->by_name[hi]].def.name, prefix, len) == 0)
        hi++;
    *first = lo;
    *count = hi - lo;
}

uint32_t bw_core_tag_by_rank(const struct bw_core *core, size_t rank)
{
    return rank < core->tag_count ? core->by_name[rank] : UINT32_MAX;
}

void bw_core_slot_store(struct bw_core *core, uint32_t id, uint32_t quality_reason, uint64_t bits,
                        int64_t source_ts_us, int64_t server_ts_us, const char *str, size_t str_len)
{
    struct tag_slot *slot = &core->slots[id];
    uint32_t seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&slot->quality_reason, quality_reason, memory_order_relaxed);
    atomic_store_explicit(&slot->bits, bits, memory_order_relaxed);
    atomic_store_explicit(&slot->source_ts_us, source_ts_us, memory_order_relaxed);
    atomic_store_explicit(&slot->server_ts_us, server_ts_us, memory_order_relaxed);
    uint32_t si = core->hot[id].string_index;
    if (si != NO_STRING && str) {
        struct string_slot *s = &core->strings[si];
        uint64_t words[STRING_WORDS] = {0};
        memcpy(words, str, str_len);
        atomic_store_explicit(&s->len, str_len, memory_order_relaxed);
        for (size_t w = 0; w < (str_len + 7) / 8; w++)
            atomic_store_explicit(&s->words[w], words[w], memory_order_relaxed);
    }
    atomic_store_explicit(&slot->seq, seq + 2, memory_order_release);
}

bool bw_core_slot_string_equal(const struct bw_core *core, uint32_t id, const char *s, size_t len)
{
    const struct string_slot *slot = &core->strings[core->hot[id].string_index];
    if (atomic_load_explicit(&slot->len, memory_order_relaxed) != len)
        return false;
    uint64_t words[STRING_WORDS] = {0};
    memcpy(words, s, len);
    for (size_t w = 0; w < (len + 7) / 8; w++) {
        if (atomic_load_explicit(&slot->words[w], memory_order_relaxed) != words[w])
            return false;
    }
    return true;
}

static void slot_copy(const struct bw_core *core, uint32_t id, struct bw_tag_state *out)
{
    const struct tag_slot *slot = &core->slots[id];
    uint32_t qr = atomic_load_explicit(&slot->quality_reason, memory_order_relaxed);
    uint64_t bits = atomic_load_explicit(&slot->bits, memory_order_relaxed);
    out->quality = (enum bw_quality)(qr & 0xff);
    out->reason = (enum bw_quality_reason)(qr >> 8);
    out->source_ts_us = atomic_load_explicit(&slot->source_ts_us, memory_order_relaxed);
    out->server_ts_us = atomic_load_explicit(&slot->server_ts_us, memory_order_relaxed);
    switch (out->type) {
    case BW_TYPE_BOOL:
        out->v.b = bits != 0;
        break;
    case BW_TYPE_INT:
        out->v.i = (int64_t)bits;
        break;
    case BW_TYPE_FLOAT:
        memcpy(&out->v.f, &bits, sizeof(bits));
        break;
    case BW_TYPE_STRING: {
        const struct string_slot *s = &core->strings[core->hot[id].string_index];
        uint64_t words[STRING_WORDS] = {0};
        size_t len = (size_t)atomic_load_explicit(&s->len, memory_order_relaxed);
        if (len > BW_TAG_STRING_MAX)
            len = 0; /* torn read; the sequence check will retry */
        for (size_t w = 0; w < (len + 7) / 8; w++)
            words[w] = atomic_load_explicit(&s->words[w], memory_order_relaxed);
        memcpy(out->str, words, len);
        out->str_len = len;
        break;
    }
    }
}

int bw_core_tag_read(const struct bw_core *core, uint32_t id, struct bw_tag_state *out)
{
    if (id >= core->tag_count)
        return BW_EINVAL;
    const struct tag_slot *slot = &core->slots[id];
    out->type = core->meta[id].def.type;
    out->str_len = 0;
    for (unsigned spins = 1;; spins++) {
        uint32_t before = atomic_load_explicit(&slot->seq, memory_order_acquire);
        if (before & 1) {
            /* The engine is mid-write (a few stores); if it was preempted
             * there, let it run instead of burning its core. */
            if (spins % 64 == 0)
                sched_yield();
            continue;
        }
        slot_copy(core, id, out);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&slot->seq, memory_order_relaxed) == before)
            break;
    }
    out->str[out->str_len] = '\0';
    return BW_OK;
}
