/* SPDX-License-Identifier: Apache-2.0
 *
 * The schema walker: checks a JSON object against a table of fields
 * (struct pj_field: key, kind, required, bounds, default, where to store)
 * and reports every problem with its JSON path. Unknown keys, missing
 * required keys, wrong JSON types, bounds, names, choices and references
 * are all handled here once, so the object kinds only declare tables and
 * the few rules that span fields. Caller's thread.
 */
#include "project/internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

_Static_assert(sizeof(enum bw_type) == sizeof(int), "enums are stored as int");

static const char *const kind_expect[] = {
    [PJ_NAME] = "must be a string",
    [PJ_TEXT] = "must be a string",
    [PJ_CHOICE] = "must be a string",
    [PJ_REF] = "must be a string",
    [PJ_INT] = "must be an integer",
    [PJ_NUMBER] = "must be a number",
    [PJ_BOOL] = "must be true or false",
    [PJ_OBJECT] = "must be an object",
    [PJ_ARRAY] = "must be an array",
    [PJ_LIST] = "must be an array",
    [PJ_ANY] = "",
};

static bool kind_matches(enum pj_kind kind, const json_t *v)
{
    switch (kind) {
    case PJ_NAME:
    case PJ_TEXT:
    case PJ_CHOICE:
    case PJ_REF:
        return json_is_string(v);
    case PJ_INT:
        return json_is_integer(v);
    case PJ_NUMBER:
        return json_is_number(v);
    case PJ_BOOL:
        return json_is_boolean(v);
    case PJ_OBJECT:
        return json_is_object(v);
    case PJ_ARRAY:
    case PJ_LIST:
        return json_is_array(v);
    case PJ_ANY:
        return true;
    }
    return false;
}

/* ---- storing -------------------------------------------------------- */

static void store_number(const struct pj_field *f, void *dst, double d, int64_t i)
{
    char *p = (char *)dst + f->offset;
    switch (f->store) {
    case PJ_ST_U16: {
        uint16_t v = (uint16_t)i;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case PJ_ST_U32: {
        uint32_t v = (uint32_t)i;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case PJ_ST_U64: {
        uint64_t v = (uint64_t)i;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case PJ_ST_INT:
    case PJ_ST_ENUM: {
        int v = (int)i;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case PJ_ST_SIZE: {
        size_t v = (size_t)i;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case PJ_ST_DOUBLE:
        memcpy(p, &d, sizeof(d));
        break;
    case PJ_ST_BOOL: {
        bool v = i != 0;
        memcpy(p, &v, sizeof(v));
        break;
    }
    case PJ_ST_NONE:
    case PJ_ST_STR:
    case PJ_ST_OWNED:
        break;
    }
}

static void store_size(const struct pj_field *f, void *dst, size_t v)
{
    memcpy((char *)dst + f->offset, &v, sizeof(v));
}

static bool store_string(struct pj_ctx *ctx, const struct pj_field *f, void *dst, const char *s,
                         size_t len)
{
    if (f->store != PJ_ST_STR && f->store != PJ_ST_OWNED)
        return true;
    char *copy = f->store == PJ_ST_OWNED ? bw_strndup(s, len) : pj_pool_strndup(ctx->pool, s, len);
    if (!copy) {
        ctx->nomem = true;
        return false;
    }
    memcpy((char *)dst + f->offset, &copy, sizeof(copy));
    return true;
}

static void store_default(const struct pj_field *f, void *dst)
{
    if (f->kind == PJ_REF)
        store_size(f, dst, SIZE_MAX);
    else if (f->flags & PJ_HAS_DEFAULT)
        store_number(f, dst, f->def, (int64_t)f->def);
}

void pj_object_defaults(const struct pj_object_spec *spec, void *dst)
{
    for (size_t i = 0; i < spec->count; i++)
        store_default(&spec->fields[i], dst);
}

/* ---- scalar kinds --------------------------------------------------- */

static bool walk_int(struct pj_ctx *ctx, const struct pj_field *f, json_t *v, void *dst)
{
    int64_t i = (int64_t)json_integer_value(v);
    bool low = (f->flags & PJ_HAS_MIN) && i < f->imin;
    bool high = (f->flags & PJ_HAS_MAX) && i > f->imax;
    if (low || high) {
        if (low && (f->flags & PJ_MIN_FLOOR))
            pj_error(ctx, "is below the minimum of %" PRId64, f->imin);
        else if ((f->flags & PJ_HAS_MIN) && (f->flags & PJ_HAS_MAX) && f->imin == f->imax)
            pj_error(ctx, "must be %" PRId64, f->imin);
        else if ((f->flags & PJ_HAS_MIN) && (f->flags & PJ_HAS_MAX))
            pj_error(ctx, "must be between %" PRId64 " and %" PRId64, f->imin, f->imax);
        else if (low)
            pj_error(ctx, "must be at least %" PRId64, f->imin);
        else
            pj_error(ctx, "must be at most %" PRId64, f->imax);
        return false;
    }
    store_number(f, dst, (double)i, i);
    return true;
}

static bool walk_number(struct pj_ctx *ctx, const struct pj_field *f, json_t *v, void *dst)
{
    double d = json_number_value(v);
    bool has_min = f->flags & PJ_HAS_MIN, has_max = f->flags & PJ_HAS_MAX;
    bool excl = f->flags & PJ_MIN_EXCLUSIVE;
    bool low = has_min && (excl ? !(d > f->dmin) : !(d >= f->dmin));
    bool high = has_max && !(d <= f->dmax);
    if (!isfinite(d) || low || high) {
        if (has_min && has_max && excl)
            pj_error(ctx, "must be greater than %.15g and at most %.15g", f->dmin, f->dmax);
        else if (has_min && has_max)
            pj_error(ctx, "must be between %.15g and %.15g", f->dmin, f->dmax);
        else if (has_min && excl)
            pj_error(ctx, "must be greater than %.15g", f->dmin);
        else if (has_min)
            pj_error(ctx, "must be at least %.15g", f->dmin);
        else if (has_max)
            pj_error(ctx, "must be at most %.15g", f->dmax);
        else
            pj_error(ctx, "must be a finite number");
        return false;
    }
    store_number(f, dst, d, 0);
    return true;
}

static bool walk_name(struct pj_ctx *ctx, const struct pj_field *f, const char *s, size_t len,
                      void *dst, size_t index)
{
    char quoted[PJ_QUOTE_BUF];
    if (len > BW_PROJECT_NAME_MAX) {
        pj_error(ctx, "must be at most %u bytes", BW_PROJECT_NAME_MAX);
        return false;
    }
    if (!pj_name_valid(s, len)) {
        pj_error(ctx,
                 "%s is not a valid name (letters, digits, _ and . only, starting with a letter)",
                 pj_quote(quoted, s, len));
        return false;
    }
    if (!store_string(ctx, f, dst, s, len))
        return false;
    if (f->ns == PJ_NS_NONE)
        return true;
    const char *stored;
    memcpy(&stored, (char *)dst + f->offset, sizeof(stored));
    const struct pj_name_entry *first = pj_names_add(ctx, f->ns, stored, len, f->ns_kind, index);
    if (first) {
        char where[PJ_PATH_MAX];
        pj_error(ctx, "duplicate name %s (first used at %s)", pj_quote(quoted, s, len),
                 pj_names_path(f->ns, first, where, sizeof(where)));
        return false;
    }
    return !ctx->nomem;
}

static bool walk_choice(struct pj_ctx *ctx, const struct pj_field *f, const char *s, size_t len,
                        void *dst)
{
    for (size_t i = 0; i < f->choice_count; i++) {
        if (strlen(f->choices[i]) == len && memcmp(f->choices[i], s, len) == 0) {
            store_number(f, dst, (double)i, (int64_t)i);
            return true;
        }
    }
    char quoted[PJ_QUOTE_BUF], list[256];
    pj_error(ctx, "%s is not one of %s", pj_quote(quoted, s, len),
             pj_join(list, sizeof(list), f->choices, f->choice_count));
    return false;
}

static bool walk_ref(struct pj_ctx *ctx, const struct pj_field *f, const char *s, size_t len,
                     void *dst)
{
    char quoted[PJ_QUOTE_BUF];
    const struct pj_name_entry *e = pj_names_find(ctx, f->ns, s, len);
    if (!e) {
        pj_error(ctx, "no %s named %s", pj_names_noun(f->ns, f->ns_kind), pj_quote(quoted, s, len));
        return false;
    }
    if (e->kind != f->ns_kind) {
        pj_error(ctx, "%s is a %s, not a %s", pj_quote(quoted, s, len),
                 pj_names_noun(f->ns, e->kind), pj_names_noun(f->ns, f->ns_kind));
        return false;
    }
    store_size(f, dst, e->index);
    return true;
}

static bool walk_string(struct pj_ctx *ctx, const struct pj_field *f, json_t *v, void *dst,
                        size_t index)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    switch (f->kind) {
    case PJ_NAME:
        return walk_name(ctx, f, s, len, dst, index);
    case PJ_CHOICE:
        return walk_choice(ctx, f, s, len, dst);
    case PJ_REF:
        return walk_ref(ctx, f, s, len, dst);
    default:
        break;
    }
    if (len > (size_t)f->imax) {
        pj_error(ctx, "must be at most %" PRId64 " bytes", f->imax);
        return false;
    }
    if ((f->flags & PJ_HAS_MIN) && len < (size_t)f->imin) {
        if (f->imin == 1)
            pj_error(ctx, "must not be empty");
        else
            pj_error(ctx, "must be at least %" PRId64 " bytes", f->imin);
        return false;
    }
    return store_string(ctx, f, dst, s, len);
}

/* ---- containers ----------------------------------------------------- */

static bool walk_array(struct pj_ctx *ctx, const struct pj_array_spec *spec, json_t *arr, void *dst)
{
    size_t count = json_array_size(arr);
    if (count > spec->limit) {
        pj_error(ctx, "has %zu %s; at most %zu are allowed", count, spec->noun, spec->limit);
        ctx->too_large = true;
        return false;
    }
    char *items = NULL;
    if (count > 0) {
        items = bw_calloc(count, spec->elem_size);
        if (!items) {
            ctx->nomem = true;
            return false;
        }
    }
    for (size_t i = 0; i < spec->elem->count; i++)
        if (spec->elem->fields[i].kind == PJ_NAME)
            pj_names_reserve(ctx, spec->elem->fields[i].ns, count);
    /* The parent owns the array from here, so a later failure frees it. */
    memcpy((char *)dst + spec->items_offset, &items, sizeof(items));
    memcpy((char *)dst + spec->count_offset, &count, sizeof(count));
    bool ok = true;
    for (size_t i = 0; i < count && !ctx->nomem; i++) {
        void *elem = items + i * spec->elem_size;
        if (spec->init)
            spec->init(elem);
        size_t saved = pj_path_push_index(ctx, i);
        json_t *obj = json_array_get(arr, i);
        if (json_is_object(obj)) {
            struct pj_seen seen;
            pj_object_walk(ctx, obj, spec->elem, elem, i, &seen);
        } else {
            pj_error(ctx, "must be an object");
            ok = false;
        }
        pj_path_pop(ctx, saved);
        /* Everything needed is copied out: release the element's JSON
         * now (on the reaper thread for large files) rather than all of
         * it at the end: faster, and a lower peak. */
        json_incref(obj);
        json_array_set_new(arr, i, json_null());
        pj_reaper_release(ctx->reaper, obj);
    }
    return ok;
}

static bool walk_value(struct pj_ctx *ctx, const struct pj_field *f, json_t *v, void *dst,
                       size_t index)
{
    if (!kind_matches(f->kind, v)) {
        pj_error(ctx, "%s", kind_expect[f->kind]);
        return false;
    }
    switch (f->kind) {
    case PJ_INT:
        return walk_int(ctx, f, v, dst);
    case PJ_NUMBER:
        return walk_number(ctx, f, v, dst);
    case PJ_BOOL:
        store_number(f, dst, 0, json_is_true(v));
        return true;
    case PJ_OBJECT:
        if (f->object) {
            struct pj_seen seen;
            pj_object_walk(ctx, v, f->object, (char *)dst + f->offset, index, &seen);
        }
        return true;
    case PJ_ARRAY:
        return walk_array(ctx, f->array, v, dst);
    case PJ_LIST:
        return f->list(ctx, v, (char *)dst + f->offset);
    case PJ_ANY:
        return true;
    default:
        return walk_string(ctx, f, v, dst, index);
    }
}

static size_t field_find(const struct pj_object_spec *spec, const char *key)
{
    for (size_t i = 0; i < spec->count; i++)
        if (strcmp(spec->fields[i].key, key) == 0)
            return i;
    return SIZE_MAX;
}

void pj_object_walk(struct pj_ctx *ctx, json_t *obj, const struct pj_object_spec *spec, void *dst,
                    size_t index, struct pj_seen *seen)
{
    memset(seen, 0, sizeof(*seen));
    /* One pass over the keys finds the unknown ones and the values of
     * the known ones, in the file's order. */
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        size_t i = field_find(spec, key);
        if (i == SIZE_MAX)
            pj_error_key(ctx, key, "unknown key");
        else
            seen->value[i] = value;
    }
    for (size_t i = 0; i < spec->count && !ctx->nomem; i++) {
        const struct pj_field *f = &spec->fields[i];
        if (!seen->value[i]) {
            if (f->flags & PJ_REQUIRED)
                pj_error_key(ctx, f->key, "is required");
            store_default(f, dst);
            continue;
        }
        if (f->kind == PJ_REF)
            store_size(f, dst, SIZE_MAX);
        size_t saved = pj_path_push_key(ctx, f->key);
        if (walk_value(ctx, f, seen->value[i], dst, index))
            seen->ok |= 1u << i;
        pj_path_pop(ctx, saved);
    }
    if (spec->check && !ctx->nomem)
        spec->check(ctx, dst, index, seen);
}
