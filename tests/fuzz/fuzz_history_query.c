/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the parameters of history queries (a URL query
 * string, as GET /api/v1/history and `bulwark history query` give them):
 * whatever bw_history_query_parse accepts must be a query the store can
 * answer (a tag name, from before to within 100 years, points and limit
 * within their bounds, a cursor only for raw samples and within the
 * range), and every refusal must come with a message. Seeds in
 * tests/fuzz/corpus/history_query/, dictionary history_query.dict.
 */
#include "store/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const int64_t now = 1796385600000000LL;
    struct bw_history_query q;
    char err[256] = "";
    int rc = bw_history_query_parse((const char *)data, size, now, &q, err, sizeof(err));
    if (rc != BW_OK) {
        if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
            abort();
        return 0;
    }
    size_t tl = strlen(q.tag);
    if (tl == 0 || tl > BW_HISTORY_TAG_MAX)
        abort();
    if (q.to_us <= q.from_us || q.to_us - q.from_us > 100LL * 366 * 86400 * 1000000)
        abort();
    if (q.points > BW_HISTORY_MAX_POINTS || q.limit < 1 || q.limit > BW_HISTORY_MAX_LIMIT)
        abort();
    if (q.cursor_us != INT64_MIN && (q.points || q.cursor_us < q.from_us || q.cursor_us >= q.to_us))
        abort();
    return 0;
}
