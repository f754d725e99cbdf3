/* SPDX-License-Identifier: Apache-2.0
 *
 * The tag table: the fields of a tag and its access rules (who may read
 * and write, and whether a write needs a second approver or a signature),
 * and the rules that span fields (range, device or memory tag, initial
 * value, binding through the device's driver). The write rules
 * (write_rules.c) and the log (history.c) are walked from here once the
 * tag's type is known. Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <string.h>

/* ---- access --------------------------------------------------------- */

/* An area list becomes a bit mask (bit n: area n). */
bool pj_areas_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    uint32_t mask = 0;
    size_t count = json_array_size(value);
    bool ok = count > 0;
    if (count == 0)
        pj_error(ctx, "must list at least one area");
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(value, i);
        json_int_t area = json_is_integer(v) ? json_integer_value(v) : 0;
        const char *why = NULL;
        uint32_t bit = 0;
        if (!json_is_integer(v))
            why = "must be an integer";
        else if (area < 1 || area > 31)
            why = "must be between 1 and 31";
        else
            bit = 1u << (unsigned)area;
        if (!why && (mask & bit)) {
            size_t saved = pj_path_push_index(ctx, i);
            pj_error(ctx, "area %d is listed twice", (int)area);
            pj_path_pop(ctx, saved);
            ok = false;
        } else if (why) {
            size_t saved = pj_path_push_index(ctx, i);
            pj_error(ctx, "%s", why);
            pj_path_pop(ctx, saved);
            ok = false;
        } else {
            mask |= bit;
        }
    }
    memcpy(field_dst, &mask, sizeof(mask));
    return ok;
}

#define ACCESS_LEVEL(member)                                                                       \
    {                                                                                              \
        .key = "level", .kind = PJ_INT, .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_HAS_MAX,            \
        .store = PJ_ST_U16, .offset = offsetof(struct bw_project_access, member), .imin = 1,       \
        .imax = 9999                                                                               \
    }
#define ACCESS_AREAS(member)                                                                       \
    {                                                                                              \
        .key = "areas", .kind = PJ_LIST, .flags = PJ_REQUIRED,                                     \
        .offset = offsetof(struct bw_project_access, member), .list = pj_areas_parse               \
    }

#define ACCESS_FLAG(key_, member)                                                                  \
    {                                                                                              \
        .key = (key_), .kind = PJ_BOOL, .flags = PJ_HAS_DEFAULT, .store = PJ_ST_BOOL,              \
        .offset = offsetof(struct bw_project_access, member), .def = 0                             \
    }

static const struct pj_field read_fields[] = {
    ACCESS_LEVEL(read_level),
    ACCESS_AREAS(read_areas),
};

static const struct pj_field write_fields[] = {
    ACCESS_LEVEL(write_level),
    ACCESS_AREAS(write_areas),
    {.key = "permission",
     .kind = PJ_CHOICE,
     .flags = PJ_HAS_DEFAULT,
     .store = PJ_ST_ENUM,
     .offset = offsetof(struct bw_project_access, write_permission),
     .choices = pj_permission_names,
     .choice_count = BW_PERM_COUNT_,
     .def = BW_PERM_TAG_WRITE},
    /* Dual approval (SR 2.1 RE 4) and electronic signature (SR 2.12):
     * the security module asks for them at each write. */
    ACCESS_FLAG("approval", write_approval),
    ACCESS_FLAG("signature", write_signature),
};

static const struct pj_object_spec read_spec = {read_fields, BW_ARRAY_LEN(read_fields), NULL};
static const struct pj_object_spec write_spec = {write_fields, BW_ARRAY_LEN(write_fields), NULL};

enum { ACCESS_READ, ACCESS_WRITE };

static const struct pj_field access_fields[] = {
    [ACCESS_READ] = {.key = "read", .kind = PJ_OBJECT, .object = &read_spec},
    [ACCESS_WRITE] = {.key = "write", .kind = PJ_OBJECT, .object = &write_spec},
};

static void access_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_access *access = dst;
    (void)ctx;
    (void)index;
    access->writable = seen->value[ACCESS_WRITE] != NULL;
}

static const struct pj_object_spec access_spec = {access_fields, BW_ARRAY_LEN(access_fields),
                                                  access_check};

/* ---- tags ----------------------------------------------------------- */

enum {
    TAG_NAME,
    TAG_TYPE,
    TAG_DESCRIPTION,
    TAG_UNIT,
    TAG_MIN,
    TAG_MAX,
    TAG_DEVICE,
    TAG_ADDRESS,
    TAG_SCAN_CLASS,
    TAG_INITIAL,
    TAG_ACCESS,
    TAG_MODBUS,
    TAG_VALIDATE,
    TAG_FAILSAFE,
    TAG_LOG,
};

#define TAG_TEXT(key_, member, max_)                                                               \
    {                                                                                              \
        .key = (key_), .kind = PJ_TEXT, .store = PJ_ST_STR,                                        \
        .offset = offsetof(struct bw_project_tag, member), .imax = (max_)                          \
    }
#define TAG_REF(key_, member, ns_)                                                                 \
    {                                                                                              \
        .key = (key_), .kind = PJ_REF, .store = PJ_ST_SIZE,                                        \
        .offset = offsetof(struct bw_project_tag, member), .ns = (ns_)                             \
    }
#define TAG_NUMBER(key_, member)                                                                   \
    {                                                                                              \
        .key = (key_), .kind = PJ_NUMBER, .store = PJ_ST_DOUBLE,                                   \
        .offset = offsetof(struct bw_project_tag, member)                                          \
    }

static const struct pj_field tag_fields[] = {
    [TAG_NAME] = {.key = "name",
                  .kind = PJ_NAME,
                  .flags = PJ_REQUIRED,
                  .store = PJ_ST_STR,
                  .offset = offsetof(struct bw_project_tag, name),
                  .ns = PJ_NS_TAG},
    [TAG_TYPE] = {.key = "type",
                  .kind = PJ_CHOICE,
                  .flags = PJ_REQUIRED,
                  .store = PJ_ST_ENUM,
                  .offset = offsetof(struct bw_project_tag, type),
                  .choices = pj_type_names,
                  .choice_count = BW_ARRAY_LEN(pj_type_names)},
    [TAG_DESCRIPTION] = TAG_TEXT("description", description, BW_PROJECT_TEXT_MAX),
    [TAG_UNIT] = TAG_TEXT("unit", unit, BW_PROJECT_TEXT_MAX),
    [TAG_MIN] = TAG_NUMBER("min", min),
    [TAG_MAX] = TAG_NUMBER("max", max),
    [TAG_DEVICE] = TAG_REF("device", device, PJ_NS_DEVICE),
    [TAG_ADDRESS] = TAG_TEXT("address", address, PJ_ADDRESS_MAX),
    [TAG_SCAN_CLASS] = TAG_REF("scan_class", scan_class, PJ_NS_SCAN_CLASS),
    /* Typed by the tag's type: checked by tag_check. */
    [TAG_INITIAL] = {.key = "initial", .kind = PJ_ANY},
    [TAG_ACCESS] = {.key = "access",
                    .kind = PJ_OBJECT,
                    .offset = offsetof(struct bw_project_tag, access),
                    .object = &access_spec},
    /* Walked by tag_check: they depend on the device, type and access. */
    [TAG_MODBUS] = {.key = "modbus", .kind = PJ_OBJECT},
    [TAG_VALIDATE] = {.key = "validate", .kind = PJ_OBJECT},
    [TAG_FAILSAFE] = {.key = "failsafe", .kind = PJ_OBJECT},
    /* Walked by tag_check: what may be logged depends on the type. */
    [TAG_LOG] = {.key = "log", .kind = PJ_OBJECT},
};
_Static_assert(BW_ARRAY_LEN(tag_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static void tag_init(void *elem)
{
    struct bw_project_tag *tag = elem;
    tag->type = PJ_TYPE_UNSET;
    tag->device = SIZE_MAX;
    tag->scan_class = SIZE_MAX;
    tag->access.read_level = 1;
    tag->access.read_areas = PJ_ALL_AREAS;
    tag->access.write_permission = BW_PERM_TAG_WRITE;
    tag->sim_index = SIZE_MAX;
    tag->sim_var = SIZE_MAX;
}

static bool value_in_range(struct pj_ctx *ctx, const struct bw_project_tag *tag, double v)
{
    if (tag->has_min && tag->has_max && (v < tag->min || v > tag->max))
        pj_error(ctx, "must be between min (%.15g) and max (%.15g)", tag->min, tag->max);
    else if (tag->has_min && v < tag->min)
        pj_error(ctx, "must be at least min (%.15g)", tag->min);
    else if (tag->has_max && v > tag->max)
        pj_error(ctx, "must be at most max (%.15g)", tag->max);
    else
        return true;
    return false;
}

/* A value of the tag's type and range: a memory tag's initial value, an
 * allowed value or a fail-safe value. */
bool pj_tag_value_parse(struct pj_ctx *ctx, const struct bw_project_tag *tag, json_t *v,
                        struct bw_value *out)
{
    bool ok = false;
    out->type = tag->type;
    switch (tag->type) {
    case BW_TYPE_BOOL:
        ok = json_is_boolean(v);
        if (ok)
            out->v.b = json_is_true(v);
        else
            pj_error(ctx, "must be true or false (the tag is bool)");
        break;
    case BW_TYPE_INT:
        ok = json_is_integer(v);
        if (ok)
            out->v.i = (int64_t)json_integer_value(v);
        else
            pj_error(ctx, "must be an integer (the tag is int)");
        ok = ok && value_in_range(ctx, tag, (double)out->v.i);
        break;
    case BW_TYPE_FLOAT:
        ok = json_is_number(v);
        if (ok)
            out->v.f = json_number_value(v);
        else
            pj_error(ctx, "must be a number (the tag is float)");
        ok = ok && value_in_range(ctx, tag, out->v.f);
        break;
    case BW_TYPE_STRING:
        ok = json_is_string(v) && json_string_length(v) <= PJ_INITIAL_STRING_MAX;
        if (!json_is_string(v))
            pj_error(ctx, "must be a string (the tag is string)");
        else if (!ok)
            pj_error(ctx, "must be at most %u bytes", PJ_INITIAL_STRING_MAX);
        if (ok) {
            out->len = json_string_length(v);
            out->v.s = pj_pool_strndup(ctx->pool, json_string_value(v), out->len);
            ctx->nomem = ctx->nomem || !out->v.s;
        }
        break;
    }
    return ok;
}

static void tag_check_range(struct pj_ctx *ctx, struct bw_project_tag *tag,
                            const struct pj_seen *seen)
{
    tag->has_min = pj_seen_ok(seen, TAG_MIN);
    tag->has_max = pj_seen_ok(seen, TAG_MAX);
    bool numeric = tag->type == BW_TYPE_INT || tag->type == BW_TYPE_FLOAT;
    if (pj_seen_ok(seen, TAG_TYPE) && !numeric) {
        if (seen->value[TAG_MIN])
            pj_error_key(ctx, "min", "is only for int and float tags");
        if (seen->value[TAG_MAX])
            pj_error_key(ctx, "max", "is only for int and float tags");
        tag->has_min = tag->has_max = false;
    }
    if (tag->has_min && tag->has_max && tag->min > tag->max) {
        pj_error_key(ctx, "min", "must not be greater than max (%.15g)", tag->max);
        tag->has_min = tag->has_max = false;
    }
}

static void tag_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_tag *tag = dst;
    bool typed = pj_seen_ok(seen, TAG_TYPE);
    tag_check_range(ctx, tag, seen);
    if (typed)
        pj_tag_rules_check(ctx, tag, index,
                           pj_seen_ok(seen, TAG_VALIDATE) ? seen->value[TAG_VALIDATE] : NULL,
                           pj_seen_ok(seen, TAG_FAILSAFE) ? seen->value[TAG_FAILSAFE] : NULL);
    if (typed && pj_seen_ok(seen, TAG_LOG))
        pj_tag_log_check(ctx, tag, seen->value[TAG_LOG]);
    if (!seen->value[TAG_DEVICE]) {
        if (seen->value[TAG_MODBUS])
            pj_error_key(ctx, "modbus", "is only for tags of a modbus device");
        if (seen->value[TAG_ADDRESS])
            pj_error_key(ctx, "address", "is only for tags with a \"device\"");
        if (seen->value[TAG_SCAN_CLASS])
            pj_error_key(ctx, "scan_class", "is only for tags with a \"device\"");
        if (seen->value[TAG_INITIAL] && typed) {
            size_t saved = pj_path_push_key(ctx, "initial");
            tag->has_initial =
                pj_tag_value_parse(ctx, tag, seen->value[TAG_INITIAL], &tag->initial);
            pj_path_pop(ctx, saved);
        }
        return;
    }
    if (!seen->value[TAG_ADDRESS])
        pj_error_key(ctx, "address", "is required for a tag with a \"device\"");
    if (seen->value[TAG_INITIAL])
        pj_error_key(ctx, "initial", "is only for memory tags (tags without a \"device\")");
    if (!pj_seen_ok(seen, TAG_DEVICE))
        return;
    if (!seen->value[TAG_SCAN_CLASS])
        tag->scan_class = ctx->project->devices[tag->device].scan_class;
    if (pj_seen_ok(seen, TAG_ADDRESS) && typed &&
        !(seen->value[TAG_MODBUS] && !pj_seen_ok(seen, TAG_MODBUS)))
        pj_driver_bind(ctx, tag, seen->value[TAG_MODBUS]);
}

static const struct pj_object_spec tag_spec = {tag_fields, BW_ARRAY_LEN(tag_fields), tag_check};

const struct pj_array_spec pj_tags_spec = {
    .noun = "tags",
    .elem_size = sizeof(struct bw_project_tag),
    .limit = BW_PROJECT_MAX_TAGS,
    .items_offset = offsetof(struct bw_project, tags),
    .count_offset = offsetof(struct bw_project, tag_count),
    .init = tag_init,
    .elem = &tag_spec,
};
