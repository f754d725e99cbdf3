/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the project loader: feeds each input to
 * bw_project_parse(), the entry the daemon and the CLI use, and checks
 * the contract on the way out: success means an empty error list and a
 * project whose references are in range; failure means no project and,
 * unless memory ran out, at least one error with a reason. Seeds in
 * tests/fuzz/corpus/project/, dictionary in tests/fuzz/project.dict.
 */
#include "project/project.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_project(const struct bw_project *p)
{
    for (size_t i = 0; i < p->device_count; i++)
        if (p->devices[i].scan_class >= p->scan_class_count)
            abort();
    for (size_t i = 0; i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (!t->name || strlen(t->name) > BW_PROJECT_NAME_MAX)
            abort();
        if (t->device == SIZE_MAX) {
            if (t->address || t->scan_class != SIZE_MAX)
                abort();
            continue;
        }
        if (t->device >= p->device_count || t->scan_class >= p->scan_class_count || !t->address)
            abort();
        if (t->sim_var >= bw_project_sim_var_count)
            abort();
        const struct bw_sim_var *v = &bw_project_sim_vars[t->sim_var];
        if (v->kind != t->sim_kind || v->type != t->type || (t->access.writable && !v->writable))
            abort();
    }
    for (size_t i = 0; i < p->signal_count; i++)
        if (p->signals[i].shape == BW_SHAPE_STEP && p->signals[i].step_count == 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bw_project *project = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_parse((const char *)data, size, &project, &errors);
    if (rc == BW_OK) {
        if (!project || errors.count || errors.omitted)
            abort();
        check_project(project);
        bw_project_free(project);
    } else {
        if (project)
            abort();
        if (rc != BW_ENOMEM && errors.count == 0)
            abort(); /* every refusal says why */
        for (size_t i = 0; i < errors.count; i++)
            if (!errors.items[i].reason[0])
                abort();
    }
    bw_project_errors_clear(&errors);
    return 0;
}
