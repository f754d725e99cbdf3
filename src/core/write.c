/* SPDX-License-Identifier: Apache-2.0
 *
 * The one write path from interfaces into the process. It validates a
 * write against the tag's definition (writable, type, engineering range)
 * and hands it to the tag's writer (its driver) or, for memory tags, to
 * the engine as a good update. Later layers (authorisation, electronic
 * signatures, audit) wrap this function; nothing writes around it.
 * Runs on the calling interface's thread.
 */
#include "core/internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int refuse(struct bw_write_error *err, int rc, const char *fmt, ...) BW_PRINTF(3, 4);

static int refuse(struct bw_write_error *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Converts value to the tag's type where no information is lost. */
static int coerce(const struct bw_core_tag_def *def, const struct bw_value *in,
                  struct bw_value *out, struct bw_write_error *err)
{
    *out = *in;
    out->type = def->type;
    switch (def->type) {
    case BW_TYPE_BOOL:
        if (in->type == BW_TYPE_BOOL)
            return BW_OK;
        if (in->type == BW_TYPE_INT && (in->v.i == 0 || in->v.i == 1)) {
            out->v.b = in->v.i == 1;
            return BW_OK;
        }
        break;
    case BW_TYPE_INT:
        if (in->type == BW_TYPE_INT)
            return BW_OK;
        if (in->type == BW_TYPE_FLOAT && isfinite(in->v.f) && in->v.f == floor(in->v.f) &&
            in->v.f >= -9007199254740992.0 && in->v.f <= 9007199254740992.0) {
            out->v.i = (int64_t)in->v.f;
            return BW_OK;
        }
        break;
    case BW_TYPE_FLOAT:
        if (in->type == BW_TYPE_FLOAT) {
            if (!isfinite(in->v.f))
                return refuse(err, BW_ERANGE, "tag %s: value is not a finite number", def->name);
            return BW_OK;
        }
        if (in->type == BW_TYPE_INT) {
            out->v.f = (double)in->v.i;
            return BW_OK;
        }
        break;
    case BW_TYPE_STRING:
        if (in->type != BW_TYPE_STRING)
            break;
        if (in->len > BW_TAG_STRING_MAX)
            return refuse(err, BW_ERANGE, "tag %s: text is longer than %d bytes", def->name,
                          BW_TAG_STRING_MAX);
        if (!bw_utf8_valid(in->v.s, in->len))
            return refuse(err, BW_ETYPE, "tag %s: text is not valid UTF-8", def->name);
        /* The table keeps text NUL-terminated: a NUL inside would cut
         * what is stored short of what the writer was told it wrote. */
        if (in->len && memchr(in->v.s, '\0', in->len))
            return refuse(err, BW_ETYPE, "tag %s: text contains a NUL character", def->name);
        return BW_OK;
    }
    return refuse(err, BW_ETYPE, "tag %s is of type %s; a %s value does not fit", def->name,
                  bw_type_name(def->type), bw_type_name(in->type));
}

static int check_range(const struct bw_core_tag_def *def, const struct bw_value *v,
                       struct bw_write_error *err)
{
    if (def->type != BW_TYPE_INT && def->type != BW_TYPE_FLOAT)
        return BW_OK;
    double x = def->type == BW_TYPE_INT ? (double)v->v.i : v->v.f;
    if (def->has_min && x < def->min)
        return refuse(err, BW_ERANGE, "tag %s: %g is below the engineering minimum %g", def->name,
                      x, def->min);
    if (def->has_max && x > def->max)
        return refuse(err, BW_ERANGE, "tag %s: %g is above the engineering maximum %g", def->name,
                      x, def->max);
    return BW_OK;
}

/* Hands a valid write to the tag's writer, or queues it for a memory tag. */
static int deliver(struct bw_core *core, uint32_t id, const struct tag_meta *m,
                   const struct bw_value *v, struct bw_write_error *err)
{
    int rc;
    if (m->writer) {
        struct bw_write_error why = {{0}};
        rc = m->writer(m->writer_ctx, id, v, &why);
        if (rc && why.message[0])
            return refuse(err, rc, "tag %s: %s", m->def.name, why.message);
        if (rc)
            return refuse(err, rc, "tag %s: the device did not accept the write (%s)", m->def.name,
                          bw_strerror(rc));
        return BW_OK;
    }
    struct bw_tag_update u = {
        .tag = id,
        .quality = BW_QUALITY_GOOD,
        .reason = BW_REASON_NONE,
        .source_ts_us = bw_clock_realtime_us(),
        .value = *v,
    };
    size_t queued;
    rc = bw_core_update_push(core, &u, 1, &queued);
    if (rc)
        return refuse(err, rc, "tag %s: the engine is overloaded, try again", m->def.name);
    return BW_OK;
}

int bw_core_write(struct bw_core *core, uint32_t id, const struct bw_value *value,
                  struct bw_write_error *err)
{
    if (err)
        err->message[0] = '\0';
    if (id >= core->tag_count)
        return refuse(err, BW_EINVAL, "no such tag");
    const struct tag_meta *m = &core->meta[id];
    if (!m->def.writable)
        return refuse(err, BW_EDENIED, "tag %s is read-only", m->def.name);
    struct bw_value v;
    int rc = coerce(&m->def, value, &v, err);
    if (!rc)
        rc = check_range(&m->def, &v, err);
    struct tag_rules *rules = m->rules;
    if (!rc && rules)
        rc = bw_core_rules_check(core, id, rules, &v, err);
    if (rc)
        return rc;
    if (!rules || !rules->has_max_change)
        return deliver(core, id, m, &v, err);
    /* The rule lock is held across the writer so that the check, the
     * write and the window it opens are one step: two writes racing at
     * the start of a window cannot each be measured from a different
     * reference (the second one from the first one's value), and a
     * refused write cannot open a window. A device writer holds it until
     * the device answers (bounded by the device's timeouts); only writes
     * of this one tag wait for it. */
    struct change_window window;
    pthread_mutex_lock(&rules->lock);
    rc = bw_core_rules_change_check(core, id, rules, &v, &window, err);
    if (!rc)
        rc = deliver(core, id, m, &v, err);
    if (!rc)
        bw_core_rules_change_accepted(rules, &window);
    pthread_mutex_unlock(&rules->lock);
    return rc;
}

int bw_core_tag_set_writer(struct bw_core *core, uint32_t id, bw_core_writer_fn fn, void *ctx)
{
    if (id >= core->tag_count || !fn)
        return BW_EINVAL;
    if (core->started)
        return BW_ESTATE;
    core->meta[id].writer = fn;
    core->meta[id].writer_ctx = ctx;
    return BW_OK;
}
