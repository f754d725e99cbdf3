/* SPDX-License-Identifier: Apache-2.0
 *
 * The history section and a tag's "log": the log groups (how long their
 * samples are kept and how much room they may take), the warning levels,
 * the writer's queue, spool and free-space floor, and the rule by which a
 * logged tag's changes become samples. The group "default" always exists
 * at index 0 (a listed group of that name replaces it, as listed roles
 * replace default ones). Groups and their names live in the project's
 * pool; the names form a name space of their own, filled here by hand with
 * indexes into history.groups, against which a tag's "group" resolves
 * (the root walk visits "history" before "tags"). The section only
 * configures; the historian (src/store/) acts on it. Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(enum bw_project_log_mode) == sizeof(int), "enums are stored as int");

#define DEFAULT_GROUP "default"
#define SIZE_MB_MAX 1048576
/* One day: the longest logging period and maximum interval. */
#define LOG_MS_MAX 86400000
#define MAX_INTERVAL_MS_MIN 1000

static const uint8_t default_warn[] = {80, 95};
_Static_assert(BW_ARRAY_LEN(default_warn) <= BW_PROJECT_HISTORY_MAX_WARN, "defaults fit");

/* An optional integer in [min_, max_], default def_. */
#define HIST_INT(key_, type, member, min_, max_, def_)                                             \
    {                                                                                              \
        .key = (key_), .kind = PJ_INT, .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,          \
        .store = PJ_ST_U32, .offset = offsetof(type, member), .imin = (min_), .imax = (max_),      \
        .def = (def_)                                                                              \
    }

/* True when every field the object had was valid. */
static bool seen_all_ok(const struct pj_seen *seen, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (seen->value[i] && !pj_seen_ok(seen, i))
            return false;
    return true;
}

/* ---- groups --------------------------------------------------------- */

enum { GROUP_NAME, GROUP_RETENTION, GROUP_MAX_SIZE };

static const struct pj_field group_fields[] = {
    /* The name rule here; uniqueness and the name space: groups_parse. */
    [GROUP_NAME] = {.key = "name",
                    .kind = PJ_NAME,
                    .flags = PJ_REQUIRED,
                    .store = PJ_ST_STR,
                    .offset = offsetof(struct bw_project_log_group, name),
                    .ns = PJ_NS_NONE},
    [GROUP_RETENTION] =
        HIST_INT("retention_days", struct bw_project_log_group, retention_days, 1, 36500, 365),
    [GROUP_MAX_SIZE] =
        HIST_INT("max_size_mb", struct bw_project_log_group, max_size_mb, 0, SIZE_MB_MAX, 0),
};
_Static_assert(BW_ARRAY_LEN(group_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static const struct pj_object_spec group_spec = {group_fields, BW_ARRAY_LEN(group_fields), NULL};

/* The index of an earlier listed group of the same name, or SIZE_MAX. */
static size_t group_listed_before(json_t *list, size_t index, const char *name)
{
    for (size_t j = 0; j < index; j++) {
        const char *other = json_string_value(json_object_get(json_array_get(list, j), "name"));
        if (other && strcmp(other, name) == 0)
            return j;
    }
    return SIZE_MAX;
}

/* One walked group joins the section: "default" replaces the default
 * group, another name is added after the groups so far and becomes a
 * name tags can give. groups has room (groups_parse). */
static void group_merge(struct pj_ctx *ctx, struct bw_project_history *history,
                        const struct bw_project_log_group *group)
{
    if (strcmp(group->name, DEFAULT_GROUP) == 0) {
        history->groups[BW_PROJECT_LOG_GROUP_DEFAULT] = *group;
        return;
    }
    size_t index = history->group_count++;
    history->groups[index] = *group;
    /* Names are unique (groups_parse), so nothing is there yet. */
    (void)pj_names_add(ctx, PJ_NS_LOG_GROUP, group->name, strlen(group->name), 0, index);
}

/* groups: the listed groups join the default one (see group_merge). A
 * group with a valid, new name joins even when another of its fields is
 * wrong, so that tags naming it are not refused as well. */
static bool groups_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct bw_project_history *history = field_dst;
    size_t count = json_array_size(value);
    if (count > BW_PROJECT_MAX_LOG_GROUPS) {
        pj_error(ctx, "has %zu groups; at most %u are allowed", count, BW_PROJECT_MAX_LOG_GROUPS);
        ctx->too_large = true;
        return false;
    }
    if (count == 0)
        return true;
    /* Room for the default group and every listed one as a new one. */
    struct bw_project_log_group *groups = pj_pool_alloc(ctx->pool, (count + 1) * sizeof(*groups));
    if (!groups) {
        ctx->nomem = true;
        return false;
    }
    memcpy(groups, history->groups, history->group_count * sizeof(*groups));
    history->groups = groups;
    char where[PJ_PATH_MAX + 32];
    bool ok = true;
    for (size_t i = 0; i < count && !ctx->nomem; i++) {
        json_t *obj = json_array_get(value, i);
        size_t saved = pj_path_push_index(ctx, i);
        struct bw_project_log_group group = {0};
        struct pj_seen seen = {0};
        if (json_is_object(obj))
            pj_object_walk(ctx, obj, &group_spec, &group, i, &seen);
        else
            pj_error(ctx, "must be an object");
        ok = ok && json_is_object(obj) && seen_all_ok(&seen, BW_ARRAY_LEN(group_fields));
        if (pj_seen_ok(&seen, GROUP_NAME) && !ctx->nomem) {
            size_t first = group_listed_before(value, i, group.name);
            if (first != SIZE_MAX) {
                char quoted[PJ_QUOTE_BUF];
                /* The path up to the index is the list's. */
                snprintf(where, sizeof(where), "%.*s[%zu].name", (int)saved, ctx->path, first);
                pj_error_key(ctx, "name", "duplicate name %s (first used at %s)",
                             pj_quote(quoted, group.name, strlen(group.name)), where);
                ok = false;
            } else {
                group_merge(ctx, history, &group);
            }
        }
        pj_path_pop(ctx, saved);
    }
    if (history->group_count > BW_PROJECT_MAX_LOG_GROUPS) {
        pj_error(ctx, "makes %zu groups with the default one; at most %u are allowed",
                 history->group_count, BW_PROJECT_MAX_LOG_GROUPS);
        ok = false;
    }
    return ok;
}

/* ---- the section ---------------------------------------------------- */

static bool warn_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct bw_project_history *history = field_dst;
    return pj_warn_percent_parse(ctx, value, history->warn_percent, BW_PROJECT_HISTORY_MAX_WARN,
                                 &history->warn_count);
}

enum { HIST_GROUPS, HIST_WARN, HIST_QUEUE, HIST_SPOOL, HIST_MIN_FREE };

static const struct pj_field history_fields[] = {
    /* Merged into the default group by groups_parse. */
    [HIST_GROUPS] = {.key = "groups", .kind = PJ_LIST, .offset = 0, .list = groups_parse},
    /* Stored by warn_parse, which needs the whole struct for the count. */
    [HIST_WARN] = {.key = "warn_percent", .kind = PJ_LIST, .offset = 0, .list = warn_parse},
    [HIST_QUEUE] = HIST_INT("queue_samples", struct bw_project_history, queue_samples, 1024,
                            10000000, 1000000),
    [HIST_SPOOL] = HIST_INT("spool_mb", struct bw_project_history, spool_mb, 0, SIZE_MB_MAX, 256),
    [HIST_MIN_FREE] =
        HIST_INT("min_free_mb", struct bw_project_history, min_free_mb, 0, SIZE_MB_MAX, 1024),
};
_Static_assert(BW_ARRAY_LEN(history_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

const struct pj_object_spec pj_history_spec = {history_fields, BW_ARRAY_LEN(history_fields), NULL};

void pj_history_init(struct pj_ctx *ctx)
{
    struct bw_project_history *history = &ctx->project->history;
    memset(history, 0, sizeof(*history));
    pj_object_defaults(&pj_history_spec, history);
    memcpy(history->warn_percent, default_warn, sizeof(default_warn));
    history->warn_count = BW_ARRAY_LEN(default_warn);
    struct bw_project_log_group *group = pj_pool_alloc(ctx->pool, sizeof(*group));
    char *name = pj_pool_strndup(ctx->pool, DEFAULT_GROUP, strlen(DEFAULT_GROUP));
    if (!group || !name) {
        ctx->nomem = true;
        return;
    }
    pj_object_defaults(&group_spec, group);
    group->name = name;
    history->groups = group;
    history->group_count = 1;
    (void)pj_names_add(ctx, PJ_NS_LOG_GROUP, name, strlen(name), 0, BW_PROJECT_LOG_GROUP_DEFAULT);
}

/* ---- a tag's log ---------------------------------------------------- */

static const char *const mode_names[] = {
    [BW_PROJECT_LOG_CHANGE] = "change",
    [BW_PROJECT_LOG_CYCLIC] = "cyclic",
};

enum { LOG_MODE, LOG_DEADBAND, LOG_DEADBAND_PERCENT, LOG_PERIOD, LOG_MAX_INTERVAL, LOG_GROUP };

static const struct pj_field log_fields[] = {
    [LOG_MODE] = {.key = "mode",
                  .kind = PJ_CHOICE,
                  .flags = PJ_HAS_DEFAULT,
                  .store = PJ_ST_ENUM,
                  .offset = offsetof(struct bw_project_log, mode),
                  .def = BW_PROJECT_LOG_CHANGE,
                  .choices = mode_names,
                  .choice_count = BW_ARRAY_LEN(mode_names)},
    [LOG_DEADBAND] = {.key = "deadband",
                      .kind = PJ_NUMBER,
                      .flags = PJ_HAS_MIN | PJ_HAS_DEFAULT,
                      .store = PJ_ST_DOUBLE,
                      .offset = offsetof(struct bw_project_log, deadband),
                      .dmin = 0,
                      .def = 0},
    [LOG_DEADBAND_PERCENT] = {.key = "deadband_percent",
                              .kind = PJ_NUMBER,
                              .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,
                              .store = PJ_ST_DOUBLE,
                              .offset = offsetof(struct bw_project_log, deadband_percent),
                              .dmin = 0,
                              .dmax = 100,
                              .def = 0},
    /* Cyclic mode only: log_check. */
    [LOG_PERIOD] = {.key = "period_ms",
                    .kind = PJ_INT,
                    .flags = PJ_HAS_MIN | PJ_HAS_MAX,
                    .store = PJ_ST_U32,
                    .offset = offsetof(struct bw_project_log, period_ms),
                    .imin = 100,
                    .imax = LOG_MS_MAX},
    /* 0 or 1000..86400000, a gap the walker cannot say: log_check. */
    [LOG_MAX_INTERVAL] = {.key = "max_interval_ms", .kind = PJ_INT},
    [LOG_GROUP] = {.key = "group",
                   .kind = PJ_REF,
                   .store = PJ_ST_SIZE,
                   .offset = offsetof(struct bw_project_log, group),
                   .ns = PJ_NS_LOG_GROUP},
};
_Static_assert(BW_ARRAY_LEN(log_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static const struct pj_object_spec log_spec = {log_fields, BW_ARRAY_LEN(log_fields), NULL};

/* The rules across the log's fields and the tag's type, with the path at
 * the log object. */
static void log_check(struct pj_ctx *ctx, const struct bw_project_tag *tag,
                      struct bw_project_log *log, const struct pj_seen *seen)
{
    if (!seen->value[LOG_GROUP])
        log->group = BW_PROJECT_LOG_GROUP_DEFAULT;
    if (pj_seen_ok(seen, LOG_MAX_INTERVAL)) {
        json_int_t ms = json_integer_value(seen->value[LOG_MAX_INTERVAL]);
        if (ms != 0 && (ms < MAX_INTERVAL_MS_MIN || ms > LOG_MS_MAX))
            pj_error_key(ctx, "max_interval_ms", "must be 0 or between %d and %d",
                         MAX_INTERVAL_MS_MIN, LOG_MS_MAX);
        else
            log->max_interval_ms = (uint32_t)ms;
    }
    /* A deadband measures a distance between numbers. */
    bool numeric = tag->type == BW_TYPE_INT || tag->type == BW_TYPE_FLOAT;
    static const size_t deadbands[] = {LOG_DEADBAND, LOG_DEADBAND_PERCENT};
    for (size_t i = 0; !numeric && i < BW_ARRAY_LEN(deadbands); i++)
        if (seen->value[deadbands[i]])
            pj_error_key(ctx, log_fields[deadbands[i]].key, "is only for int and float tags");
    /* A bad mode is not compared with the keys that depend on it. */
    if (seen->value[LOG_MODE] && !pj_seen_ok(seen, LOG_MODE))
        return;
    if (log->mode == BW_PROJECT_LOG_CYCLIC) {
        if (!seen->value[LOG_PERIOD])
            pj_error_key(ctx, "period_ms", "is required for mode \"cyclic\"");
        for (size_t i = 0; numeric && i < BW_ARRAY_LEN(deadbands); i++)
            if (seen->value[deadbands[i]])
                pj_error_key(ctx, log_fields[deadbands[i]].key, "is only for mode \"change\"");
    } else if (seen->value[LOG_PERIOD]) {
        pj_error_key(ctx, "period_ms", "is only for mode \"cyclic\"");
    }
}

void pj_tag_log_check(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *log)
{
    size_t saved = pj_path_push_key(ctx, "log");
    if (tag->type == BW_TYPE_STRING) {
        pj_error(ctx, "string tags are not historised");
    } else {
        struct pj_seen seen;
        pj_object_walk(ctx, log, &log_spec, &tag->log, 0, &seen);
        tag->log.enabled = true;
        if (!ctx->nomem)
            log_check(ctx, tag, &tag->log, &seen);
    }
    pj_path_pop(ctx, saved);
}
