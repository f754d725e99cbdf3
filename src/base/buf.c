/* SPDX-License-Identifier: Apache-2.0
 *
 * Bounded, growable byte buffers and bounded string helpers.
 */
#include "base/base.h"

#include <stdio.h>
#include <string.h>

void bw_buf_init(struct bw_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
}

void bw_buf_clear(struct bw_buf *buf)
{
    bw_free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void bw_buf_reset(struct bw_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

static int buf_reserve(struct bw_buf *buf, size_t extra)
{
    size_t need;
    if (!bw_size_add(buf->len, extra, &need) || !bw_size_add(need, 1, &need))
        return BW_ETOOLARGE;
    if (need - 1 > buf->max)
        return BW_ETOOLARGE;
    if (need <= buf->cap)
        return BW_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > buf->max + 1)
        cap = buf->max + 1;
    char *data = bw_realloc(buf->data, cap);
    if (!data)
        return BW_ENOMEM;
    buf->data = data;
    buf->cap = cap;
    return BW_OK;
}

int bw_buf_append(struct bw_buf *buf, const void *data, size_t len)
{
    int rc = buf_reserve(buf, len);
    if (rc)
        return rc;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return BW_OK;
}

int bw_buf_append_str(struct bw_buf *buf, const char *s)
{
    return bw_buf_append(buf, s, strlen(s));
}

int bw_buf_vprintf(struct bw_buf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return BW_EINVAL;
    int rc = buf_reserve(buf, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return BW_OK;
}

int bw_buf_printf(struct bw_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = bw_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

size_t bw_strlcpy(char *dst, const char *src, size_t dstsize)
{
    size_t n = strlen(src);
    if (dstsize) {
        size_t copy = n < dstsize - 1 ? n : dstsize - 1;
        memcpy(dst, src, copy);
        dst[copy] = '\0';
    }
    return n;
}

int bw_snprintf(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BW_EINVAL;
    return (size_t)n >= size ? BW_ETOOLARGE : BW_OK;
}
