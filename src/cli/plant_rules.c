/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's write rules ("validate" of each tag) handed to the tag
 * engine: tag names become core ids, conditions name their tags by id,
 * and the core copies the rest. The project's fail-safe values are the
 * drivers' business and are not translated here. Main thread, while the
 * plant is built (before the engine starts).
 */
#include "cli/internal.h"
#include "project/project.h"

/* The core keeps the project's operator codes and limits. */
_Static_assert(BW_CORE_OP_EQ == (int)BW_RULE_EQ && BW_CORE_OP_NE == (int)BW_RULE_NE &&
                   BW_CORE_OP_LT == (int)BW_RULE_LT && BW_CORE_OP_LE == (int)BW_RULE_LE &&
                   BW_CORE_OP_GT == (int)BW_RULE_GT && BW_CORE_OP_GE == (int)BW_RULE_GE,
               "enum bw_core_op follows enum bw_rule_op");
_Static_assert(BW_PROJECT_MAX_ALLOWED <= BW_CORE_MAX_ALLOWED &&
                   BW_PROJECT_MAX_CONDITIONS <= BW_CORE_MAX_CONDITIONS,
               "the core holds what a project may ask for");

static bool has_rules(const struct bw_project_write_rules *r)
{
    return r->has_max_change || r->allowed_count || r->when_count;
}

static int find(struct bw_core *core, const char *name, uint32_t *id)
{
    int rc = bw_core_tag_find(core, name, id);
    if (rc)
        bw_log(BW_LOG_ERROR, BW_LOGC_ENGINE, "tag %s: not in the tag table", name);
    return rc;
}

static int tag_set_rules(struct bw_core *core, const struct bw_project *project,
                         const struct bw_project_tag *t)
{
    const struct bw_project_write_rules *r = &t->rules;
    struct bw_core_condition when[BW_PROJECT_MAX_CONDITIONS];
    if (r->when_count > BW_PROJECT_MAX_CONDITIONS)
        return BW_EINVAL;
    uint32_t id;
    int rc = find(core, t->name, &id);
    for (size_t i = 0; !rc && i < r->when_count; i++) {
        const struct bw_project_condition *c = &r->when[i];
        if (c->tag >= project->tag_count)
            return BW_EINVAL;
        when[i] = (struct bw_core_condition){
            .op = (enum bw_core_op)c->op,
            .value = c->value,
        };
        rc = find(core, project->tags[c->tag].name, &when[i].tag);
    }
    if (rc)
        return rc;
    const struct bw_core_write_rules rules = {
        .has_max_change = r->has_max_change,
        .max_change = r->max_change,
        .change_seconds = r->change_seconds,
        .allowed = r->allowed,
        .allowed_count = r->allowed_count,
        .when = when,
        .when_count = r->when_count,
    };
    rc = bw_core_tag_set_rules(core, id, &rules);
    if (rc)
        bw_log(BW_LOG_ERROR, BW_LOGC_ENGINE, "tag %s: cannot set its write rules: %s", t->name,
               bw_strerror(rc));
    return rc;
}

int bw_cli_plant_set_rules(struct bw_core *core, const struct bw_project *project)
{
    for (size_t i = 0; i < project->tag_count; i++) {
        const struct bw_project_tag *t = &project->tags[i];
        if (!has_rules(&t->rules))
            continue;
        int rc = tag_set_rules(core, project, t);
        if (rc)
            return rc;
    }
    return BW_OK;
}
