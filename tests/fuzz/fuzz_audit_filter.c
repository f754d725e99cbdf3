/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the audit query filters: feeds each input to
 * bw_audit_filter_parse(), the entry the HTTP API uses for its query
 * string, and checks the contract on the way out. Success means a filter
 * within every bound (limit, event count and catalogue, user length and
 * UTF-8, from before to); failure means an error text that is non-empty,
 * printable ASCII and short, as it may reach a client. The same input
 * with a tiny error buffer must not overrun it. Seeds in
 * tests/fuzz/corpus/audit_filter/, dictionary in tests/fuzz/audit_filter.dict.
 */
#include "audit/audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct bw_audit_filter *f)
{
    if (f->limit < 1 || f->limit > BW_AUDIT_QUERY_MAX_LIMIT)
        abort();
    if (f->event_count > BW_AUDIT_FILTER_MAX_EVENTS)
        abort();
    for (size_t i = 0; i < f->event_count; i++)
        if (!bw_audit_event_lookup(f->events[i]))
            abort();
    size_t user_len = strnlen(f->user, sizeof(f->user));
    if (user_len == sizeof(f->user) || !bw_utf8_valid(f->user, user_len))
        abort();
    if (f->from_us >= f->to_us)
        abort();
    if (f->category_mask & ~(uint32_t)0x1fe || f->result_mask & ~(uint32_t)0x1e)
        abort();
}

static void check_error(const char *err, size_t errlen)
{
    size_t n = strnlen(err, errlen);
    if (n == 0 || n == errlen)
        abort(); /* every refusal says why, NUL-terminated */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] > 0x7e)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so that reading past it is caught. */
    char *query = malloc(size ? size : 1);
    if (!query)
        return 0;
    memcpy(query, data, size);
    struct bw_audit_filter f;
    char err[160];
    int rc = bw_audit_filter_parse(query, size, &f, err, sizeof(err));
    if (rc == BW_OK) {
        if (err[0])
            abort();
        check_filter(&f);
    } else {
        check_error(err, sizeof(err));
        if (rc != BW_EINVAL && rc != BW_EMALFORMED && rc != BW_ERANGE && rc != BW_ETOOLARGE)
            abort();
    }
    char tiny[6];
    if (bw_audit_filter_parse(query, size, &f, tiny, sizeof(tiny)) != rc)
        abort();
    if (strnlen(tiny, sizeof(tiny)) == sizeof(tiny))
        abort();
    free(query);
    return 0;
}
