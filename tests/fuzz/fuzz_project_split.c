/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the two-thread route of the project parser
 * (pj_parse_split, which bw_project_parse takes for files of 1 MiB and
 * more): whatever the input, it must either step aside (NULL) or give
 * exactly the tree the plain parse gives. Seeds in
 * tests/fuzz/corpus/project_split/, dictionary tests/fuzz/project.dict.
 */
#include "project/internal.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct pj_reaper *helper = pj_reaper_start();
    if (!helper)
        return 0;
    json_t *split = pj_parse_split(helper, text, size);
    pj_reaper_finish(helper);
    if (!split)
        return 0;
    json_error_t err;
    json_t *plain = json_loadb(text, size, JSON_REJECT_DUPLICATES, &err);
    if (!plain || !json_equal(split, plain))
        abort();
    json_decref(split);
    json_decref(plain);
    return 0;
}
