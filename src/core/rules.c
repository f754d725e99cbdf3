/* SPDX-License-Identifier: Apache-2.0
 *
 * Input validation of writes (IEC 62443-3-3 SR 3.5): each tag's write
 * rules (allowed values, conditions on other tags, largest change within
 * a time window), their copy at set-up and their checks on the write
 * path. The rules are set on the main thread before the engine starts and
 * only read after; the checks run on any writer's thread: conditions read
 * other tags through the lock-free snapshot, and the one piece of mutable
 * state, a tag's max_change window, is guarded by that tag's rule lock
 * (write.c holds it across the writer). A condition is true of the other
 * tag's value when it is read; that tag may change right after, as with
 * any interlock a supervisory system checks (the device's own interlocks
 * remain the last line). Refusals explain themselves in
 * struct bw_write_error's 256 bytes, naming the rule as the project does
 * (validate.allowed, validate.when[i], validate.max_change).
 */
#include "core/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const op_text[] = {
    [BW_CORE_OP_EQ] = "==", [BW_CORE_OP_NE] = "!=", [BW_CORE_OP_LT] = "<",
    [BW_CORE_OP_LE] = "<=", [BW_CORE_OP_GT] = ">",  [BW_CORE_OP_GE] = ">=",
};

/* Bytes of a text value quoted in a message (then "..."). */
#define QUOTE_MAX 32
/* Room for one value in a message: a quoted text, every byte escaped. */
#define VALUE_TEXT_MAX (QUOTE_MAX * 4 + 8)

static bool type_numeric(enum bw_type type)
{
    return type == BW_TYPE_INT || type == BW_TYPE_FLOAT;
}

/* As write.c's: the explanation into err (when given), and rc. */
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

/* ---- set-up ---------------------------------------------------------- */

void bw_core_rules_free(struct tag_rules *rules)
{
    if (!rules)
        return;
    if (rules->lock_ready)
        pthread_mutex_destroy(&rules->lock);
    bw_free(rules->allowed);
    bw_free(rules->when);
    bw_free(rules->text);
    bw_free(rules);
}

/* A value the rules can hold for a tag of type: that type, finite, text
 * within a tag's limit. */
static bool value_fits(const struct bw_value *v, enum bw_type type)
{
    if (v->type != type)
        return false;
    if (type == BW_TYPE_FLOAT)
        return isfinite(v->v.f);
    if (type == BW_TYPE_STRING)
        return v->len <= BW_TAG_STRING_MAX && (v->len == 0 || v->v.s);
    return true;
}

static int rules_validate(const struct bw_core *core, uint32_t id,
                          const struct bw_core_write_rules *r, size_t *text_len)
{
    enum bw_type type = core->meta[id].def.type;
    if (r->allowed_count > BW_CORE_MAX_ALLOWED || (r->allowed_count && !r->allowed) ||
        r->when_count > BW_CORE_MAX_CONDITIONS || (r->when_count && !r->when))
        return BW_EINVAL;
    if (r->has_max_change && (!type_numeric(type) || !isfinite(r->max_change) ||
                              !(r->max_change > 0) || r->change_seconds == 0))
        return BW_EINVAL;
    *text_len = 0;
    for (size_t i = 0; i < r->allowed_count; i++) {
        if (!value_fits(&r->allowed[i], type))
            return BW_EINVAL;
        if (type == BW_TYPE_STRING)
            *text_len += r->allowed[i].len;
    }
    for (size_t i = 0; i < r->when_count; i++) {
        const struct bw_core_condition *c = &r->when[i];
        if (c->tag >= core->tag_count || c->tag == id || (unsigned)c->op > BW_CORE_OP_GE)
            return BW_EINVAL;
        enum bw_type ctype = core->meta[c->tag].def.type;
        if (!value_fits(&c->value, ctype) || (c->op >= BW_CORE_OP_LT && !type_numeric(ctype)))
            return BW_EINVAL;
        if (ctype == BW_TYPE_STRING)
            *text_len += c->value.len;
    }
    return BW_OK;
}

/* Points a copied text value at its copy in *text. */
static void text_copy(struct bw_value *v, char **text)
{
    if (v->type != BW_TYPE_STRING)
        return;
    if (v->len)
        memcpy(*text, v->v.s, v->len);
    v->v.s = *text;
    *text += v->len;
}

static int rules_copy(const struct bw_core_write_rules *r, size_t text_len, struct tag_rules **out)
{
    struct tag_rules *c = bw_calloc(1, sizeof(*c));
    if (!c)
        return BW_ENOMEM;
    c->has_max_change = r->has_max_change;
    c->max_change = r->max_change;
    c->window_us = (int64_t)r->change_seconds * 1000000;
    c->allowed_count = r->allowed_count;
    c->when_count = r->when_count;
    if (r->allowed_count)
        c->allowed = bw_calloc(r->allowed_count, sizeof(*c->allowed));
    if (r->when_count)
        c->when = bw_calloc(r->when_count, sizeof(*c->when));
    c->text = bw_malloc(text_len ? text_len : 1);
    bool ok = (!r->allowed_count || c->allowed) && (!r->when_count || c->when) && c->text;
    if (ok && r->has_max_change) {
        ok = pthread_mutex_init(&c->lock, NULL) == 0;
        c->lock_ready = ok;
    }
    if (!ok) {
        bw_core_rules_free(c);
        return BW_ENOMEM;
    }
    char *text = c->text;
    for (size_t i = 0; i < r->allowed_count; i++) {
        c->allowed[i] = r->allowed[i];
        text_copy(&c->allowed[i], &text);
    }
    for (size_t i = 0; i < r->when_count; i++) {
        c->when[i] = r->when[i];
        text_copy(&c->when[i].value, &text);
    }
    *out = c;
    return BW_OK;
}

int bw_core_tag_set_rules(struct bw_core *core, uint32_t id,
                          const struct bw_core_write_rules *rules)
{
    if (id >= core->tag_count)
        return BW_EINVAL;
    if (core->started)
        return BW_ESTATE;
    struct tag_rules *copy = NULL;
    if (rules) {
        size_t text_len;
        int rc = rules_validate(core, id, rules, &text_len);
        if (!rc)
            rc = rules_copy(rules, text_len, &copy);
        if (rc)
            return rc;
    }
    bw_core_rules_free(core->meta[id].rules);
    core->meta[id].rules = copy;
    return BW_OK;
}

/* ---- messages -------------------------------------------------------- */

/* Text quoted for a message: " and \ escaped, control bytes as \xNN,
 * cut after QUOTE_MAX bytes at a character's end. out holds
 * VALUE_TEXT_MAX bytes. */
static void quote_text(const char *s, size_t len, char *out)
{
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len;) {
        size_t clen = bw_utf8_char_len(s + i, len - i);
        if (i + (clen ? clen : 1) > QUOTE_MAX) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (clen > 1) {
            memcpy(out + n, s + i, clen);
            n += clen;
        } else if (clen == 1 && c >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
            out[n++] = (char)c;
        } else if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
        i += clen ? clen : 1;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* A value as a message shows it: 7, 2.5, true, "auto". */
static const char *value_text(const struct bw_value *v, char *out)
{
    switch (v->type) {
    case BW_TYPE_BOOL:
        return v->v.b ? "true" : "false";
    case BW_TYPE_INT:
        snprintf(out, VALUE_TEXT_MAX, "%" PRId64, v->v.i);
        return out;
    case BW_TYPE_FLOAT:
        snprintf(out, VALUE_TEXT_MAX, "%.15g", v->v.f);
        return out;
    case BW_TYPE_STRING:
        quote_text(v->v.s, v->len, out);
        return out;
    }
    return "?";
}

/* A tag's snapshot as a value (its text borrowed from st). */
static struct bw_value state_value(const struct bw_tag_state *st)
{
    struct bw_value v = {.type = st->type};
    switch (st->type) {
    case BW_TYPE_BOOL:
        v.v.b = st->v.b;
        break;
    case BW_TYPE_INT:
        v.v.i = st->v.i;
        break;
    case BW_TYPE_FLOAT:
        v.v.f = st->v.f;
        break;
    case BW_TYPE_STRING:
        v.v.s = st->str;
        v.len = st->str_len;
        break;
    }
    return v;
}

/* ---- validate.allowed ------------------------------------------------ */

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
        return a->len == b->len && (a->len == 0 || memcmp(a->v.s, b->v.s, a->len) == 0);
    }
    return false;
}

/* "tag X: refused by validate.allowed: 7 is not one of the allowed
 * values (1, 2, 3)", the list cut with "..." where the message is full. */
static int refuse_allowed(const char *name, const struct tag_rules *r, const struct bw_value *v,
                          struct bw_write_error *err)
{
    char text[VALUE_TEXT_MAX];
    refuse(err, BW_EDENIED,
           "tag %s: refused by validate.allowed: %s is not one of the allowed values (", name,
           value_text(v, text));
    if (!err)
        return BW_EDENIED;
    char *msg = err->message;
    size_t len = strlen(msg), cap = sizeof(err->message);
    static const char cut[] = "...)";
    for (size_t i = 0; i < r->allowed_count; i++) {
        const char *item = value_text(&r->allowed[i], text);
        size_t need = (i ? 2 : 0) + strlen(item);
        /* Room for this item and, if another follows, for the cut mark. */
        size_t tail = i + 1 < r->allowed_count ? sizeof(cut) + 2 : 2;
        if (len + need + tail > cap) {
            if (len + sizeof(cut) + 2 <= cap)
                snprintf(msg + len, cap - len, "%s%s", i ? ", " : "", cut);
            return BW_EDENIED;
        }
        snprintf(msg + len, cap - len, "%s%s", i ? ", " : "", item);
        len += need;
    }
    if (len + 2 <= cap)
        snprintf(msg + len, cap - len, ")");
    return BW_EDENIED;
}

/* ---- validate.when --------------------------------------------------- */

/* Whether cur op want holds; a NaN compares unequal to everything. */
static bool condition_holds(enum bw_core_op op, const struct bw_value *cur,
                            const struct bw_value *want)
{
    int cmp;
    switch (cur->type) {
    case BW_TYPE_BOOL:
        cmp = cur->v.b != want->v.b;
        break;
    case BW_TYPE_INT:
        cmp = (cur->v.i > want->v.i) - (cur->v.i < want->v.i);
        break;
    case BW_TYPE_FLOAT:
        if (isnan(cur->v.f) || isnan(want->v.f))
            return op == BW_CORE_OP_NE;
        cmp = (cur->v.f > want->v.f) - (cur->v.f < want->v.f);
        break;
    case BW_TYPE_STRING:
        cmp = !value_equal(cur, want);
        break;
    default:
        return false;
    }
    switch (op) {
    case BW_CORE_OP_EQ:
        return cmp == 0;
    case BW_CORE_OP_NE:
        return cmp != 0;
    case BW_CORE_OP_LT:
        return cmp < 0;
    case BW_CORE_OP_LE:
        return cmp <= 0;
    case BW_CORE_OP_GT:
        return cmp > 0;
    case BW_CORE_OP_GE:
        return cmp >= 0;
    }
    return false;
}

static int check_when(const struct bw_core *core, const char *name, const struct tag_rules *r,
                      struct bw_write_error *err)
{
    for (size_t i = 0; i < r->when_count; i++) {
        const struct bw_core_condition *c = &r->when[i];
        const char *other = core->meta[c->tag].def.name;
        struct bw_tag_state st = {.quality = BW_QUALITY_BAD};
        if (bw_core_tag_read(core, c->tag, &st) != BW_OK || st.quality != BW_QUALITY_GOOD)
            return refuse(err, BW_EDENIED,
                          "tag %s: refused by validate.when[%zu]: %s has no good value "
                          "(quality %s)",
                          name, i, other, bw_quality_name(st.quality));
        struct bw_value cur = state_value(&st);
        if (condition_holds(c->op, &cur, &c->value))
            continue;
        char want_text[VALUE_TEXT_MAX], cur_text[VALUE_TEXT_MAX];
        return refuse(err, BW_EDENIED,
                      "tag %s: refused by validate.when[%zu]: %s must be %s %s but is %s", name, i,
                      other, op_text[c->op], value_text(&c->value, want_text),
                      value_text(&cur, cur_text));
    }
    return BW_OK;
}

int bw_core_rules_check(const struct bw_core *core, uint32_t id, const struct tag_rules *rules,
                        const struct bw_value *v, struct bw_write_error *err)
{
    const char *name = core->meta[id].def.name;
    if (rules->allowed_count) {
        size_t i = 0;
        while (i < rules->allowed_count && !value_equal(&rules->allowed[i], v))
            i++;
        if (i == rules->allowed_count)
            return refuse_allowed(name, rules, v, err);
    }
    return check_when(core, name, rules, err);
}

/* ---- validate.max_change --------------------------------------------- */

/* How far v is from ref (both of the tag's numeric type); integers are
 * subtracted exactly, NaN is infinitely far. */
static double distance(const struct bw_value *v, const struct bw_value *ref)
{
    if (v->type == BW_TYPE_INT) {
        uint64_t d = v->v.i >= ref->v.i ? (uint64_t)v->v.i - (uint64_t)ref->v.i
                                        : (uint64_t)ref->v.i - (uint64_t)v->v.i;
        return (double)d;
    }
    double d = fabs(v->v.f - ref->v.f);
    return isnan(d) ? INFINITY : d;
}

int bw_core_rules_change_check(const struct bw_core *core, uint32_t id, struct tag_rules *rules,
                               const struct bw_value *v, struct change_window *window,
                               struct bw_write_error *err)
{
    const char *name = core->meta[id].def.name;
    window->now_us = bw_clock_monotonic_us();
    window->opens =
        !rules->window_open || window->now_us - rules->window_start_us >= rules->window_us;
    if (window->opens) {
        struct bw_tag_state st;
        if (bw_core_tag_read(core, id, &st) != BW_OK || st.quality == BW_QUALITY_BAD)
            return refuse(err, BW_EDENIED,
                          "tag %s: refused by validate.max_change: the tag has no value to "
                          "measure the change from (quality bad)",
                          name);
        window->ref = state_value(&st);
    } else {
        window->ref = rules->window_ref;
    }
    if (distance(v, &window->ref) <= rules->max_change)
        return BW_OK;
    char v_text[VALUE_TEXT_MAX], ref_text[VALUE_TEXT_MAX];
    return refuse(err, BW_EDENIED,
                  "tag %s: refused by validate.max_change: %s is more than %.15g away from "
                  "%s, the value at the start of the current %" PRId64 " s window",
                  name, value_text(v, v_text), rules->max_change,
                  value_text(&window->ref, ref_text), rules->window_us / 1000000);
}

void bw_core_rules_change_accepted(struct tag_rules *rules, const struct change_window *window)
{
    if (!window->opens)
        return;
    rules->window_open = true;
    rules->window_start_us = window->now_us;
    rules->window_ref = window->ref;
}
