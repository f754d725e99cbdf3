/* SPDX-License-Identifier: Apache-2.0
 *
 * The daemon's historian: the tags with a "log" object are subscribed to
 * in the engine; a thread of its own applies each tag's logging rule to
 * the changes (and to time, for cyclic and maximum-interval samples) and
 * hands the samples to the store's writer (STATE/history.db). The engine
 * never waits for it: its subscriber queue drops its oldest entries when
 * this thread falls behind (counted), and a full writer queue refuses
 * (counted, logged). Started after the engine, stopped before it.
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "crypto/crypto.h"
#include "project/project.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SUB_CAPACITY 262144u
#define POLL_BATCH 4096u
#define MAX_WAIT_MS 100
#define TICK_MS 50

struct logged {
    uint32_t core_id;
    struct bw_log_rule rule;
    struct bw_log_state state;
    enum bw_type type;
};

struct bw_cli_history {
    struct bw_audit *audit; /* borrowed; may be NULL */
    struct bw_core *core;
    struct bw_store *store;
    struct bw_sub *sub;
    struct logged *tags;
    size_t count;
    uint32_t *by_core_id; /* core id -> index + 1; 0: not logged */
    size_t core_count;
    pthread_t thread;
    _Atomic bool stop;
    const char **group_names; /* borrowed from the project */
    size_t group_count;
    uint64_t refused;          /* history thread only */
    uint64_t refused_recorded; /* of those, already in the audit trail */
    uint64_t lost_recorded;    /* subscription losses already recorded */
    int64_t next_report_us;
    int64_t next_tick_us; /* history thread: when to look at the time-driven samples */
};

/* Samples that will never be in the history, on record (SR 2.9: the
 * loss of history is an event an auditor must see). */
static void record_loss(struct bw_cli_history *h, uint64_t count, const char *why)
{
    bw_log(BW_LOG_WARN, BW_LOGC_STORE, "historian: %llu samples lost: %s",
           (unsigned long long)count, why);
    if (!h->audit)
        return;
    json_t *d = json_pack("{s:I, s:s}", "samples", (json_int_t)count, "reason", why);
    struct bw_audit_event ev = {.id = BW_AUDIT_EV_HISTORY_SAMPLES_LOST,
                                .result = BW_AUDIT_FAILURE,
                                .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "historian"},
                                .details = d};
    if (bw_audit_record(h->audit, &ev, NULL) != BW_OK)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "historian: the loss could not be recorded");
    json_decref(d);
}

/* At most once a minute, the losses since the last report. */
static void report_losses(struct bw_cli_history *h, int64_t now, bool final)
{
    if (!final && now < h->next_report_us)
        return;
    h->next_report_us = now + 60 * 1000000LL;
    if (h->refused > h->refused_recorded) {
        record_loss(h, h->refused - h->refused_recorded, "the writer's queue was full");
        h->refused_recorded = h->refused;
    }
    uint64_t lost = bw_core_sub_lost(h->sub);
    if (lost > h->lost_recorded) {
        record_loss(h, lost - h->lost_recorded, "the historian fell behind the engine");
        h->lost_recorded = lost;
    }
}

/* Capacity management's events, into the audit trail (writer thread). */
static void on_store_event(void *ctx, const struct bw_store_event *ev)
{
    struct bw_cli_history *h = ctx;
    const char *group = ev->group < h->group_count ? h->group_names[ev->group] : "?";
    json_t *d = NULL;
    uint32_t id = BW_AUDIT_EV_HISTORY_CAPACITY;
    enum bw_audit_result result = BW_AUDIT_FAILURE;
    switch (ev->kind) {
    case BW_STORE_EV_PARTITION_DROPPED: {
        char day[BW_TIME_TEXT_MAX];
        bw_time_format_utc(ev->day * 86400000000LL, day);
        id = BW_AUDIT_EV_HISTORY_PARTITION_DROPPED;
        result = BW_AUDIT_SUCCESS;
        d = json_pack("{s:s, s:s, s:s}", "group", group, "day", day, "reason", ev->reason);
        bw_log(BW_LOG_INFO, BW_LOGC_STORE, "history: group %s: the day from %s dropped (%s)", group,
               day, ev->reason);
        break;
    }
    case BW_STORE_EV_CAPACITY:
        d = json_pack("{s:s, s:i, s:I, s:I}", "group", group, "percent", (int)ev->percent, "bytes",
                      (json_int_t)ev->bytes, "limit", (json_int_t)ev->limit);
        bw_log(BW_LOG_WARN, BW_LOGC_STORE, "history: group %s is at %u%% of its size cap", group,
               ev->percent);
        break;
    case BW_STORE_EV_LOW_SPACE:
    case BW_STORE_EV_SPACE_RECOVERED:
        result = ev->kind == BW_STORE_EV_LOW_SPACE ? BW_AUDIT_FAILURE : BW_AUDIT_SUCCESS;
        d = json_pack("{s:s, s:I, s:I}", "space",
                      ev->kind == BW_STORE_EV_LOW_SPACE ? "low" : "recovered", "free_bytes",
                      (json_int_t)ev->bytes, "min_free_bytes", (json_int_t)ev->limit);
        bw_log(ev->kind == BW_STORE_EV_LOW_SPACE ? BW_LOG_WARN : BW_LOG_INFO, BW_LOGC_STORE,
               "history: free space of the file system %s",
               ev->kind == BW_STORE_EV_LOW_SPACE ? "is low" : "recovered");
        break;
    }
    if (!h->audit)
        return;
    struct bw_audit_event rec = {.id = id,
                                 .result = result,
                                 .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "historian"},
                                 .details = d};
    if (bw_audit_record(h->audit, &rec, NULL) != BW_OK)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "historian: an event could not be recorded");
    json_decref(d);
}

static double value_of(const struct bw_tag_change *c)
{
    switch ((enum bw_type)c->type) {
    case BW_TYPE_BOOL:
        return c->v.b ? 1.0 : 0.0;
    case BW_TYPE_INT:
        return (double)c->v.i;
    case BW_TYPE_FLOAT:
        return c->v.f;
    case BW_TYPE_STRING:
        break;
    }
    return 0.0;
}

static void keep(struct bw_cli_history *h, uint32_t index, const struct bw_sample *s)
{
    if (bw_store_append(h->store, index, s) == BW_EFULL)
        h->refused++;
}

static void on_changes(struct bw_cli_history *h, const struct bw_tag_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].tag >= h->core_count || h->by_core_id[c[i].tag] == 0)
            continue;
        uint32_t index = h->by_core_id[c[i].tag] - 1;
        struct logged *t = &h->tags[index];
        struct bw_sample s = {
            .ts_us = c[i].source_ts_us ? c[i].source_ts_us : c[i].server_ts_us,
            .value = value_of(&c[i]),
            .quality = c[i].quality,
            .reason = c[i].reason,
        };
        struct bw_sample out;
        if (bw_log_on_change(&t->rule, &t->state, &s, &out))
            keep(h, index, &out);
    }
}

static void on_time(struct bw_cli_history *h, int64_t now)
{
    for (size_t i = 0; i < h->count; i++) {
        struct logged *t = &h->tags[i];
        if (!t->state.next_due_us || t->state.next_due_us > now)
            continue;
        struct bw_sample out;
        while (bw_log_on_tick(&t->rule, &t->state, now, &out))
            keep(h, (uint32_t)i, &out);
    }
}

static void *history_main(void *arg)
{
    struct bw_cli_history *h = arg;
    static struct bw_tag_change changes[POLL_BATCH];
    while (!h->stop) {
        (void)bw_core_sub_wait(h->sub, MAX_WAIT_MS);
        size_t n;
        while ((n = bw_core_sub_poll(h->sub, changes, POLL_BATCH)) > 0)
            on_changes(h, changes, n);
        /* Time-driven samples are stamped at their due times, so looking
         * every TICK_MS is exact; looking at every wake-up (hundreds a
         * second under load) would only cost. */
        int64_t now = bw_clock_realtime_us();
        if (now >= h->next_tick_us) {
            on_time(h, now);
            h->next_tick_us = now + TICK_MS * 1000;
        }
        report_losses(h, now, false);
    }
    return NULL;
}

static void history_free(struct bw_cli_history *h)
{
    if (!h)
        return;
    bw_core_sub_free(h->sub);
    bw_store_close(h->store);
    bw_free(h->tags);
    bw_free(h->by_core_id);
    bw_free(h->group_names);
    bw_free(h);
}

static struct bw_log_rule rule_of(const struct bw_project_tag *t)
{
    const struct bw_project_log *l = &t->log;
    return (struct bw_log_rule){
        .mode = l->mode == BW_PROJECT_LOG_CYCLIC ? BW_LOG_CYCLIC : BW_LOG_ON_CHANGE,
        .deadband = l->deadband,
        .deadband_percent = l->deadband_percent,
        .span = t->has_min && t->has_max ? t->max - t->min : 0,
        .period_us = (int64_t)l->period_ms * 1000,
        .max_interval_us = (int64_t)l->max_interval_ms * 1000,
    };
}

/* The logged tags, their names and groups for the store, and the
 * subscription. */
static int bind_tags(struct bw_cli_history *h, const struct bw_project *p, const char ***names,
                     uint32_t **groups)
{
    for (size_t i = 0; i < p->tag_count; i++)
        h->count += p->tags[i].log.enabled;
    h->core_count = bw_core_tag_count(h->core);
    h->tags = bw_calloc(h->count ? h->count : 1, sizeof(*h->tags));
    h->by_core_id = bw_calloc(h->core_count ? h->core_count : 1, sizeof(*h->by_core_id));
    *names = bw_calloc(h->count ? h->count : 1, sizeof(**names));
    *groups = bw_calloc(h->count ? h->count : 1, sizeof(**groups));
    if (!h->tags || !h->by_core_id || !*names || !*groups)
        return BW_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (!t->log.enabled)
            continue;
        struct logged *l = &h->tags[k];
        int rc = bw_core_tag_find(h->core, t->name, &l->core_id);
        if (rc)
            return rc;
        l->rule = rule_of(t);
        l->type = t->type;
        bw_log_state_init(&l->state);
        h->by_core_id[l->core_id] = (uint32_t)k + 1;
        (*names)[k] = t->name;
        (*groups)[k] = (uint32_t)t->log.group;
        k++;
    }
    return BW_OK;
}

int bw_cli_history_start(struct bw_core *core, const struct bw_project *project,
                         const char *state_dir, struct bw_audit *audit, struct bw_cli_history **out)
{
    *out = NULL;
    size_t logged = 0;
    for (size_t i = 0; i < project->tag_count; i++)
        logged += project->tags[i].log.enabled;
    if (logged == 0)
        return BW_OK; /* nothing to historise: no history.db either */
    struct bw_cli_history *h = bw_calloc(1, sizeof(*h));
    if (!h)
        return BW_ENOMEM;
    h->core = core;
    h->audit = audit;
    const char **names = NULL;
    uint32_t *groups = NULL;
    uint8_t key[BW_STORE_KEY_LEN];
    char path[4200];
    int rc = bind_tags(h, project, &names, &groups);
    if (!rc)
        rc = bw_store_key_load(state_dir, true, key);
    if (!rc)
        rc = bw_snprintf(path, sizeof(path), "%s/history.db", state_dir);
    struct bw_store_group_policy policies[64];
    size_t ngroups = project->history.group_count < 64 ? project->history.group_count : 64;
    h->group_names = bw_calloc(ngroups ? ngroups : 1, sizeof(*h->group_names));
    if (!h->group_names)
        rc = rc ? rc : BW_ENOMEM;
    for (size_t g = 0; !rc && g < ngroups; g++) {
        const struct bw_project_log_group *pg = &project->history.groups[g];
        policies[g] = (struct bw_store_group_policy){
            .retention_days = pg->retention_days,
            .max_bytes = (uint64_t)pg->max_size_mb * 1024 * 1024,
        };
        h->group_names[g] = pg->name;
    }
    h->group_count = ngroups;
    if (!rc) {
        struct bw_store_config cfg = {
            .path = path,
            .key = key,
            .key_len = sizeof(key),
            .queue_samples = project->history.queue_samples,
            .spool_bytes = (uint64_t)project->history.spool_mb * 1024 * 1024,
            .groups = policies,
            .group_count = ngroups,
            .warn_percent = project->history.warn_percent,
            .warn_count = project->history.warn_count,
            .min_free_bytes = (uint64_t)project->history.min_free_mb * 1024 * 1024,
            .on_event = on_store_event,
            .event_ctx = h,
            .tag_names = names,
            .tag_groups = groups,
            .tag_count = h->count,
        };
        rc = bw_store_open(&cfg, &h->store);
    }
    bw_crypto_wipe(key, sizeof(key));
    bw_free(names);
    bw_free(groups);
    if (!rc)
        rc = bw_core_sub_new(core, SUB_CAPACITY, &h->sub);
    for (size_t i = 0; !rc && i < h->count; i++)
        rc = bw_core_sub_add_tag(h->sub, h->tags[i].core_id);
    if (!rc && pthread_create(&h->thread, NULL, history_main, h) != 0)
        rc = BW_EIO;
    if (rc) {
        bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "cannot start the historian: %s", bw_strerror(rc));
        history_free(h);
        return rc;
    }
    bw_log(BW_LOG_INFO, BW_LOGC_STORE, "historian: %zu tags logged to %s", h->count, path);
    struct bw_store_stats st;
    bw_store_stats_get(h->store, &st);
    if (st.lost_at_open)
        record_loss(h, st.lost_at_open,
                    "queued when the daemon stopped without flushing them (a crash)");
    *out = h;
    return BW_OK;
}

void bw_cli_history_stop(struct bw_cli_history *h)
{
    if (!h)
        return;
    h->stop = true;
    pthread_join(h->thread, NULL);
    report_losses(h, bw_clock_realtime_us(), true);
    history_free(h);
}
