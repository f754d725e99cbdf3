/* SPDX-License-Identifier: Apache-2.0
 *
 * The data of a recent batch: the runs of samples of each tag it holds,
 * each run a chunk (bw_chunk_encode), behind the tag's id and the
 * chunk's length as varints. Reading checks every length against what
 * is there. Pure; any thread.
 */
#include "store/sqlite_internal.h"

#include <string.h>

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

int sdb_batch_encode(const struct sdb_run *runs, size_t n, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].n == 0 || runs[i].n > BW_CHUNK_MAX_SAMPLES || runs[i].tag < 0)
            return BW_EINVAL;
        cap += 20 + runs[i].n * BW_CHUNK_SAMPLE_MAX + 16;
    }
    uint8_t *buf = bw_malloc(cap ? cap : 1);
    if (!buf)
        return BW_ENOMEM;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t room = runs[i].n * BW_CHUNK_SAMPLE_MAX + 16, used = 0;
        /* The chunk goes after a header of at most 20 bytes; it is moved
         * up to its header once its length is known. */
        int rc = bw_chunk_encode(runs[i].samples, runs[i].n, buf + pos + 20, room, &used);
        if (rc) {
            bw_free(buf);
            return rc;
        }
        uint8_t head[20];
        size_t h = put_varint(head, (uint64_t)runs[i].tag);
        h += put_varint(head + h, used);
        memcpy(buf + pos, head, h);
        memmove(buf + pos + h, buf + pos + 20, used);
        pos += h + used;
    }
    *out = buf;
    *len = pos;
    return BW_OK;
}

int sdb_batch_each(const uint8_t *data, size_t len, sdb_run_fn fn, void *ctx)
{
    struct bw_sample *samples = bw_calloc(BW_CHUNK_MAX_SAMPLES, sizeof(*samples));
    if (!samples)
        return BW_ENOMEM;
    size_t pos = 0;
    int rc = BW_OK;
    while (!rc && pos < len) {
        uint64_t tag = 0, clen = 0;
        size_t n = 0;
        if (!get_varint(data, len, &pos, &tag) || !get_varint(data, len, &pos, &clen) ||
            tag > INT64_MAX || clen > len - pos) {
            rc = BW_EMALFORMED;
            break;
        }
        rc = bw_chunk_decode(data + pos, (size_t)clen, samples, BW_CHUNK_MAX_SAMPLES, &n);
        if (rc) {
            rc = BW_EMALFORMED;
            break;
        }
        pos += (size_t)clen;
        rc = fn(ctx, (int64_t)tag, samples, n);
    }
    bw_free(samples);
    return rc;
}
