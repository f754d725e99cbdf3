/* SPDX-License-Identifier: Apache-2.0
 *
 * A writable tag's input validation rules ("validate", IEC 62443-3-3
 * SR 3.5) and its fail-safe value ("failsafe", SR 3.6). Both are walked
 * from tag_check once the tag's type, range, device and access are known;
 * everything kept goes into the project's pool, because the tag's JSON is
 * released as soon as the tag is checked. A condition ("when") names
 * another tag that may come later in the array, so its name, operator and
 * the scalar of its JSON value wait in a list (pool memory, in file order)
 * until pj_tag_rules_resolve runs after the whole file is walked.
 * Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(enum bw_rule_op) == sizeof(int), "enums are stored as int");

/* By enum bw_rule_op. */
static const char *const op_names[] = {
    [BW_RULE_EQ] = "==", [BW_RULE_NE] = "!=", [BW_RULE_LT] = "<",
    [BW_RULE_LE] = "<=", [BW_RULE_GT] = ">",  [BW_RULE_GE] = ">=",
};

/* Bit i is enum bw_failsafe_event 1 << i. */
static const char *const event_names[] = {"comm_loss", "shutdown", "integrity_violation",
                                          "island_mode"};
_Static_assert(BW_FAILSAFE_ISLAND_MODE == 1u << 3, "event_names follows the bits");

#define CHANGE_SECONDS_MAX 86400
#define COMM_LOSS_MS_MIN 100
#define COMM_LOSS_MS_MAX 3600000
#define COMM_LOSS_MS_DEFAULT 10000

static bool type_numeric(enum bw_type type)
{
    return type == BW_TYPE_INT || type == BW_TYPE_FLOAT;
}

/* ---- conditions waiting for their tag --------------------------------- */

/* One element of "when" as written, without JSON: the walker stores name
 * and op; cond_check keeps the value's JSON kind and scalar. */
struct pj_cond_ref {
    struct pj_cond_ref *next;
    struct bw_project_condition *cond; /* where the resolved condition goes */
    size_t owner;                      /* index of the tag whose rule it is */
    size_t index;                      /* in the owner's "when" */
    char *name;
    enum bw_rule_op op;
    bool name_ok, op_ok, has_value;
    json_type kind;
    int64_t i;
    double f;
    const char *s; /* a pool copy; NULL when longer than a tag's text */
    size_t len;
};

enum { COND_TAG, COND_OP, COND_VALUE };

static const struct pj_field cond_fields[] = {
    /* A name, not a reference: the tag may come later (resolved below). */
    [COND_TAG] = {.key = "tag",
                  .kind = PJ_NAME,
                  .flags = PJ_REQUIRED,
                  .store = PJ_ST_STR,
                  .offset = offsetof(struct pj_cond_ref, name),
                  .ns = PJ_NS_NONE},
    [COND_OP] = {.key = "op",
                 .kind = PJ_CHOICE,
                 .flags = PJ_REQUIRED,
                 .store = PJ_ST_ENUM,
                 .offset = offsetof(struct pj_cond_ref, op),
                 .choices = op_names,
                 .choice_count = BW_ARRAY_LEN(op_names)},
    /* Typed by the named tag's type: checked when it is resolved. */
    [COND_VALUE] = {.key = "value", .kind = PJ_ANY, .flags = PJ_REQUIRED},
};

static void cond_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct pj_cond_ref *ref = dst;
    json_t *v = seen->value[COND_VALUE];
    (void)index;
    ref->name_ok = pj_seen_ok(seen, COND_TAG);
    ref->op_ok = pj_seen_ok(seen, COND_OP);
    ref->has_value = v != NULL;
    if (!v)
        return;
    ref->kind = json_typeof(v);
    if (json_is_integer(v))
        ref->i = (int64_t)json_integer_value(v);
    else if (json_is_real(v))
        ref->f = json_real_value(v);
    else if (json_is_string(v)) {
        ref->len = json_string_length(v);
        if (ref->len <= PJ_INITIAL_STRING_MAX) {
            ref->s = pj_pool_strndup(ctx->pool, json_string_value(v), ref->len);
            ctx->nomem = ctx->nomem || !ref->s;
        }
    }
}

static const struct pj_object_spec cond_spec = {cond_fields, BW_ARRAY_LEN(cond_fields), cond_check};
_Static_assert(BW_ARRAY_LEN(cond_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

/* ---- validate ----------------------------------------------------------- */

/* What the lists of "validate" store into: the tag and its index. */
struct validate_walk {
    struct bw_project_tag *tag;
    size_t index;
};

static bool value_equal(const struct bw_value *a, const struct bw_value *b)
{
    switch (a->type) {
    case BW_TYPE_BOOL:
        return a->v.b == b->v.b;
    case BW_TYPE_INT:
        return a->v.i == b->v.i;
    case BW_TYPE_FLOAT:
        return a->v.f == b->v.f;
    case BW_TYPE_STRING:
        return a->len == b->len && memcmp(a->v.s, b->v.s, a->len) == 0;
    }
    return false;
}

/* "allowed": 1..BW_PROJECT_MAX_ALLOWED distinct values of the tag's type
 * and range. */
static bool allowed_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct validate_walk *w = field_dst;
    size_t count = json_array_size(value);
    if (count == 0 || count > BW_PROJECT_MAX_ALLOWED) {
        pj_error(ctx, "must have 1 to %u values", BW_PROJECT_MAX_ALLOWED);
        return false;
    }
    struct bw_value *values = pj_pool_alloc(ctx->pool, count * sizeof(*values));
    if (!values) {
        ctx->nomem = true;
        return false;
    }
    bool ok = true;
    size_t prefix = ctx->path_len;
    for (size_t i = 0; i < count && !ctx->nomem; i++) {
        size_t saved = pj_path_push_index(ctx, i);
        bool valid = pj_tag_value_parse(ctx, w->tag, json_array_get(value, i), &values[i]);
        for (size_t j = 0; valid && j < i; j++) {
            /* Only valid values are compared: an earlier bad one is
             * reported on its own. */
            if (values[j].type == w->tag->type && value_equal(&values[j], &values[i])) {
                pj_error(ctx, "duplicate value (first used at %.*s[%zu])", (int)prefix, ctx->path,
                         j);
                valid = false;
            }
        }
        if (!valid)
            values[i].type = PJ_TYPE_UNSET;
        ok = ok && valid;
        pj_path_pop(ctx, saved);
    }
    if (ok) {
        w->tag->rules.allowed = values;
        w->tag->rules.allowed_count = count;
    }
    return ok;
}

/* "when": 1..BW_PROJECT_MAX_CONDITIONS conditions, each queued for
 * pj_tag_rules_resolve. */
static bool when_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct validate_walk *w = field_dst;
    size_t count = json_array_size(value);
    if (count == 0 || count > BW_PROJECT_MAX_CONDITIONS) {
        pj_error(ctx, "must have 1 to %u conditions", BW_PROJECT_MAX_CONDITIONS);
        return false;
    }
    struct bw_project_condition *conds = pj_pool_alloc(ctx->pool, count * sizeof(*conds));
    if (!conds) {
        ctx->nomem = true;
        return false;
    }
    w->tag->rules.when = conds;
    w->tag->rules.when_count = count;
    bool ok = true;
    for (size_t i = 0; i < count && !ctx->nomem; i++) {
        json_t *elem = json_array_get(value, i);
        size_t saved = pj_path_push_index(ctx, i);
        if (!json_is_object(elem)) {
            pj_error(ctx, "must be an object");
            ok = false;
        } else {
            struct pj_cond_ref *ref = pj_pool_alloc(ctx->pool, sizeof(*ref));
            if (!ref) {
                ctx->nomem = true;
                break;
            }
            ref->cond = &conds[i];
            ref->owner = w->index;
            ref->index = i;
            struct pj_seen seen;
            pj_object_walk(ctx, elem, &cond_spec, ref, i, &seen);
            if (ctx->cond_refs_last)
                ctx->cond_refs_last->next = ref;
            else
                ctx->cond_refs = ref;
            ctx->cond_refs_last = ref;
        }
        pj_path_pop(ctx, saved);
    }
    return ok;
}

enum { CHANGE_AMOUNT, CHANGE_SECONDS };

static const struct pj_field change_fields[] = {
    [CHANGE_AMOUNT] = {.key = "amount",
                       .kind = PJ_NUMBER,
                       .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_MIN_EXCLUSIVE,
                       .store = PJ_ST_DOUBLE,
                       .offset = offsetof(struct bw_project_write_rules, max_change),
                       .dmin = 0},
    [CHANGE_SECONDS] = {.key = "seconds",
                        .kind = PJ_INT,
                        .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_HAS_MAX,
                        .store = PJ_ST_U32,
                        .offset = offsetof(struct bw_project_write_rules, change_seconds),
                        .imin = 1,
                        .imax = CHANGE_SECONDS_MAX},
};

static void change_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_write_rules *rules = dst;
    (void)ctx;
    (void)index;
    rules->has_max_change = pj_seen_ok(seen, CHANGE_AMOUNT) && pj_seen_ok(seen, CHANGE_SECONDS);
}

static const struct pj_object_spec change_spec = {change_fields, BW_ARRAY_LEN(change_fields),
                                                  change_check};

enum { VAL_MAX_CHANGE, VAL_ALLOWED, VAL_WHEN };

static const struct pj_field validate_fields[] = {
    /* Walked by validate_check: only int and float tags take it. */
    [VAL_MAX_CHANGE] = {.key = "max_change", .kind = PJ_OBJECT},
    [VAL_ALLOWED] = {.key = "allowed", .kind = PJ_LIST, .offset = 0, .list = allowed_parse},
    [VAL_WHEN] = {.key = "when", .kind = PJ_LIST, .offset = 0, .list = when_parse},
};

static void validate_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct validate_walk *w = dst;
    (void)index;
    if (!pj_seen_ok(seen, VAL_MAX_CHANGE))
        return;
    if (!type_numeric(w->tag->type)) {
        pj_error_key(ctx, "max_change", "is only for int and float tags");
        return;
    }
    size_t saved = pj_path_push_key(ctx, "max_change");
    struct pj_seen change_seen;
    pj_object_walk(ctx, seen->value[VAL_MAX_CHANGE], &change_spec, &w->tag->rules, 0, &change_seen);
    pj_path_pop(ctx, saved);
}

static const struct pj_object_spec validate_spec = {validate_fields, BW_ARRAY_LEN(validate_fields),
                                                    validate_check};

/* ---- failsafe ------------------------------------------------------------ */

/* "on": 1..4 distinct event names, into the enum bw_failsafe_event bits. */
static bool events_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    uint32_t events = 0;
    size_t count = json_array_size(value);
    bool ok = count > 0;
    if (count == 0)
        pj_error(ctx, "must list at least one event");
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(value, i);
        size_t saved = pj_path_push_index(ctx, i);
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        size_t e = 0;
        while (s && e < BW_ARRAY_LEN(event_names) &&
               !(strlen(event_names[e]) == len && memcmp(event_names[e], s, len) == 0))
            e++;
        char quoted[PJ_QUOTE_BUF], list[128];
        if (!s) {
            pj_error(ctx, "must be a string");
        } else if (e == BW_ARRAY_LEN(event_names)) {
            pj_error(ctx, "%s is not one of %s", pj_quote(quoted, s, len),
                     pj_join(list, sizeof(list), event_names, BW_ARRAY_LEN(event_names)));
        } else if (events & (1u << e)) {
            pj_error(ctx, "%s is listed twice", pj_quote(quoted, s, len));
        } else {
            events |= 1u << e;
            pj_path_pop(ctx, saved);
            continue;
        }
        ok = false;
        pj_path_pop(ctx, saved);
    }
    memcpy(field_dst, &events, sizeof(events));
    return ok;
}

/* What the failsafe walk stores into: the fail-safe definition, then the
 * tag it belongs to (copied into it once complete). */
struct failsafe_walk {
    struct bw_project_failsafe failsafe;
    const struct bw_project_tag *tag;
};

enum { FS_VALUE, FS_ON, FS_COMM_LOSS_MS };

static const struct pj_field failsafe_fields[] = {
    /* Typed by the tag's type: checked by failsafe_check. */
    [FS_VALUE] = {.key = "value", .kind = PJ_ANY, .flags = PJ_REQUIRED},
    [FS_ON] = {.key = "on",
               .kind = PJ_LIST,
               .flags = PJ_REQUIRED,
               .offset = offsetof(struct failsafe_walk, failsafe.events),
               .list = events_parse},
    [FS_COMM_LOSS_MS] = {.key = "comm_loss_ms",
                         .kind = PJ_INT,
                         .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,
                         .store = PJ_ST_U32,
                         .offset = offsetof(struct failsafe_walk, failsafe.comm_loss_ms),
                         .imin = COMM_LOSS_MS_MIN,
                         .imax = COMM_LOSS_MS_MAX,
                         .def = COMM_LOSS_MS_DEFAULT},
};

static bool value_allowed(const struct bw_project_write_rules *rules, const struct bw_value *v)
{
    for (size_t i = 0; i < rules->allowed_count; i++)
        if (value_equal(&rules->allowed[i], v))
            return true;
    return false;
}

static void failsafe_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct failsafe_walk *w = dst;
    struct bw_project_failsafe *fs = &w->failsafe;
    (void)index;
    if (seen->value[FS_VALUE]) {
        size_t saved = pj_path_push_key(ctx, "value");
        bool ok = pj_tag_value_parse(ctx, w->tag, seen->value[FS_VALUE], &fs->value);
        /* Driven to the device without the operator's checks, so it must
         * pass the one a project states outright. */
        if (ok && w->tag->rules.allowed && !value_allowed(&w->tag->rules, &fs->value))
            pj_error(ctx, "must be one of validate.allowed");
        pj_path_pop(ctx, saved);
    }
    bool comm_loss = fs->events & BW_FAILSAFE_COMM_LOSS;
    if (seen->value[FS_COMM_LOSS_MS] && pj_seen_ok(seen, FS_ON) && !comm_loss)
        pj_error_key(ctx, "comm_loss_ms", "is only allowed when \"on\" lists comm_loss");
    if (!comm_loss)
        fs->comm_loss_ms = 0;
}

static const struct pj_object_spec failsafe_spec = {failsafe_fields, BW_ARRAY_LEN(failsafe_fields),
                                                    failsafe_check};
_Static_assert(BW_ARRAY_LEN(failsafe_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

/* ---- entry points -------------------------------------------------------- */

/* A device tag: "device" resolved, or given but not resolved (then an
 * "address", which a device tag needs, is there; that tag has its own
 * error already and gets no second one from here). */
static bool device_tag(const struct bw_project_tag *tag)
{
    return tag->device != SIZE_MAX || tag->address != NULL;
}

void pj_tag_rules_check(struct pj_ctx *ctx, struct bw_project_tag *tag, size_t index,
                        json_t *validate, json_t *failsafe)
{
    struct pj_seen seen;
    if (validate && !tag->access.writable) {
        pj_error_key(ctx, "validate", "is only for writable tags");
    } else if (validate) {
        struct validate_walk w = {tag, index};
        size_t saved = pj_path_push_key(ctx, "validate");
        pj_object_walk(ctx, validate, &validate_spec, &w, index, &seen);
        pj_path_pop(ctx, saved);
    }
    if (ctx->nomem || !failsafe)
        return;
    if (!tag->access.writable || !device_tag(tag)) {
        pj_error_key(ctx, "failsafe", "is only for writable device tags");
        return;
    }
    struct failsafe_walk w = {.tag = tag};
    size_t saved = pj_path_push_key(ctx, "failsafe");
    pj_object_walk(ctx, failsafe, &failsafe_spec, &w, index, &seen);
    pj_path_pop(ctx, saved);
    tag->failsafe = w.failsafe;
}

/* The condition's value as the named tag's type. */
static void cond_value(struct pj_ctx *ctx, const struct pj_cond_ref *ref,
                       const struct bw_project_tag *target, const char *path)
{
    struct bw_value *out = &ref->cond->value;
    json_type k = ref->kind;
    out->type = target->type;
    switch (target->type) {
    case BW_TYPE_BOOL:
        if (k == JSON_TRUE || k == JSON_FALSE) {
            out->v.b = k == JSON_TRUE;
            return;
        }
        pj_error_at(ctx, path, "must be true or false (tag %s is bool)", target->name);
        return;
    case BW_TYPE_INT:
        if (k == JSON_INTEGER) {
            out->v.i = ref->i;
            return;
        }
        pj_error_at(ctx, path, "must be an integer (tag %s is int)", target->name);
        return;
    case BW_TYPE_FLOAT:
        if (k == JSON_INTEGER || k == JSON_REAL) {
            out->v.f = k == JSON_INTEGER ? (double)ref->i : ref->f;
            return;
        }
        pj_error_at(ctx, path, "must be a number (tag %s is float)", target->name);
        return;
    case BW_TYPE_STRING:
        if (k != JSON_STRING)
            pj_error_at(ctx, path, "must be a string (tag %s is string)", target->name);
        else if (!ref->s)
            pj_error_at(ctx, path, "must be at most %u bytes", PJ_INITIAL_STRING_MAX);
        else {
            out->v.s = ref->s;
            out->len = ref->len;
        }
        return;
    }
}

static void cond_resolve(struct pj_ctx *ctx, const struct pj_cond_ref *ref)
{
    char path[PJ_PATH_MAX], quoted[PJ_QUOTE_BUF];
    if (!ref->name_ok || bw_snprintf(path, sizeof(path), "tags[%zu].validate.when[%zu].",
                                     ref->owner, ref->index) != BW_OK)
        return;
    /* The key goes after the dot; the longest ("value") fits, as the
     * prefix is at most ~60 bytes. */
    char *key = path + strlen(path);
    size_t len = strlen(ref->name);
    const struct pj_name_entry *e = pj_names_find(ctx, PJ_NS_TAG, ref->name, len);
    memcpy(key, "tag", 4);
    if (!e) {
        pj_error_at(ctx, path, "no tag named %s", pj_quote(quoted, ref->name, len));
        return;
    }
    if (e->index == ref->owner) {
        pj_error_at(ctx, path, "must name another tag, not the tag itself");
        return;
    }
    const struct bw_project_tag *target = &ctx->project->tags[e->index];
    ref->cond->tag = e->index;
    ref->cond->op = ref->op;
    if ((unsigned)target->type > BW_TYPE_STRING)
        return; /* its own error says why */
    if (ref->op_ok && ref->op >= BW_RULE_LT && !type_numeric(target->type)) {
        memcpy(key, "op", 3);
        pj_error_at(ctx, path, "\"%s\" is only for int and float tags (tag %s is %s)",
                    op_names[ref->op], target->name, bw_type_name(target->type));
    }
    if (ref->has_value) {
        memcpy(key, "value", 6);
        cond_value(ctx, ref, target, path);
    }
}

void pj_tag_rules_resolve(struct pj_ctx *ctx)
{
    for (const struct pj_cond_ref *ref = ctx->cond_refs; ref && !ctx->nomem; ref = ref->next)
        cond_resolve(ctx, ref);
    /* A window of max_change is measured from the tag's value when it
     * opens; a memory tag without "initial" has none until it is written,
     * so it could never be written at all. */
    struct bw_project *p = ctx->project;
    for (size_t i = 0; p->tags && i < p->tag_count && !ctx->nomem; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (t->rules.has_max_change && !device_tag(t) && !t->has_initial) {
            char path[PJ_PATH_MAX];
            if (bw_snprintf(path, sizeof(path), "tags[%zu].validate.max_change", i) == BW_OK)
                pj_error_at(ctx, path,
                            "needs \"initial\" on a memory tag (its first write is measured "
                            "from the tag's value)");
        }
    }
}
