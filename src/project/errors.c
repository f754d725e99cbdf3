/* SPDX-License-Identifier: Apache-2.0
 *
 * The loader's error list and the JSON path it is reported at. The walk
 * keeps the path of the value it is looking at in the context; an error
 * copies it with a formatted reason. User text that reaches a reason or a
 * path is quoted and escaped so that a project file cannot put control
 * sequences on an operator's terminal. Caller's thread.
 */
#include "project/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void bw_project_errors_clear(struct bw_project_errors *errors)
{
    if (!errors)
        return;
    bw_free(errors->items);
    errors->items = NULL;
    errors->count = 0;
    errors->omitted = 0;
}

/* ---- paths ---------------------------------------------------------- */

static void path_append(struct pj_ctx *ctx, const char *s, size_t len)
{
    /* A path too long for the buffer is cut; errors mark the cut. */
    size_t room = sizeof(ctx->path) - 1 - ctx->path_len;
    if (len > room)
        len = room;
    memcpy(ctx->path + ctx->path_len, s, len);
    ctx->path_len += len;
    ctx->path[ctx->path_len] = '\0';
}

static bool key_is_plain(const char *key, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

size_t pj_path_push_key(struct pj_ctx *ctx, const char *key)
{
    size_t saved = ctx->path_len;
    size_t len = strlen(key);
    if (key_is_plain(key, len)) {
        if (ctx->path_len > 0)
            path_append(ctx, ".", 1);
        path_append(ctx, key, len);
    } else {
        /* Keys that are not identifiers (only unknown keys can be) are
         * shown quoted, as in tags[2]["bad key"]. */
        char quoted[PJ_QUOTE_BUF];
        pj_quote(quoted, key, len);
        path_append(ctx, "[", 1);
        path_append(ctx, quoted, strlen(quoted));
        path_append(ctx, "]", 1);
    }
    return saved;
}

size_t pj_path_push_index(struct pj_ctx *ctx, size_t index)
{
    size_t saved = ctx->path_len;
    char digits[24];
    size_t n = sizeof(digits);
    digits[--n] = ']';
    do {
        digits[--n] = (char)('0' + index % 10);
        index /= 10;
    } while (index);
    digits[--n] = '[';
    path_append(ctx, digits + n, sizeof(digits) - n);
    return saved;
}

void pj_path_pop(struct pj_ctx *ctx, size_t saved)
{
    ctx->path_len = saved;
    ctx->path[saved] = '\0';
}

/* ---- errors --------------------------------------------------------- */

static struct bw_project_error *error_slot(struct pj_ctx *ctx)
{
    struct bw_project_errors *errors = ctx->errors;
    if (errors->count >= BW_PROJECT_MAX_ERRORS) {
        errors->omitted++;
        return NULL;
    }
    if (errors->count == ctx->errors_cap) {
        size_t cap = ctx->errors_cap ? ctx->errors_cap * 2 : 8;
        if (cap > BW_PROJECT_MAX_ERRORS)
            cap = BW_PROJECT_MAX_ERRORS;
        struct bw_project_error *items = bw_realloc(errors->items, cap * sizeof(*items));
        if (!items) {
            ctx->nomem = true;
            return NULL;
        }
        errors->items = items;
        ctx->errors_cap = cap;
    }
    return &errors->items[errors->count++];
}

BW_PRINTF(3, 0)
static void error_vadd(struct pj_ctx *ctx, const char *path, const char *fmt, va_list ap)
{
    struct bw_project_error *err = error_slot(ctx);
    if (!err)
        return;
    size_t len = strlen(path);
    if (len < sizeof(err->path)) {
        memcpy(err->path, path, len + 1);
    } else {
        size_t keep = sizeof(err->path) - 4;
        memcpy(err->path, path, keep);
        memcpy(err->path + keep, "...", 4);
    }
    /* A reason longer than its field is cut; every quoted value in it is
     * already bounded, so only pathological combinations get here. */
    if (vsnprintf(err->reason, sizeof(err->reason), fmt, ap) < 0)
        bw_strlcpy(err->reason, "is invalid", sizeof(err->reason));
}

void pj_error(struct pj_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vadd(ctx, ctx->path, fmt, ap);
    va_end(ap);
}

void pj_error_key(struct pj_ctx *ctx, const char *key, const char *fmt, ...)
{
    size_t saved = pj_path_push_key(ctx, key);
    va_list ap;
    va_start(ap, fmt);
    error_vadd(ctx, ctx->path, fmt, ap);
    va_end(ap);
    pj_path_pop(ctx, saved);
}

void pj_error_at(struct pj_ctx *ctx, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vadd(ctx, path, fmt, ap);
    va_end(ap);
}

/* ---- quoting -------------------------------------------------------- */

const char *pj_quote(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    bool cut = len > PJ_QUOTE_IN_MAX;
    if (cut)
        len = PJ_QUOTE_IN_MAX;
    out[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            out[n++] = (char)c;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0xf];
        }
    }
    if (cut) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

const char *pj_join(char *out, size_t size, const char *const *items, size_t count)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(items[i]);
        if (n + len + 3 >= size)
            break;
        if (i > 0) {
            memcpy(out + n, ", ", 2);
            n += 2;
        }
        memcpy(out + n, items[i], len);
        n += len;
        out[n] = '\0';
    }
    return out;
}
