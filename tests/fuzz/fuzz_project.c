/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the project loader: feeds each input to
 * bw_project_parse(), the entry the daemon and the CLI use, and checks
 * the contract on the way out: success means an empty error list and a
 * project whose references are in range (the security policy's too);
 * failure means no project and, unless memory ran out, at least one
 * error with a reason. Seeds in
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
        if (p->devices[t->device].driver == BW_DRIVER_MODBUS) {
            const struct bw_project_modbus_map *m = &t->modbus;
            if (m->count == 0 || (uint32_t)m->address + m->count > 65536u)
                abort();
            continue;
        }
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

/* The security policy: the defaults are there, references resolve, the
 * rules across keys hold. */
static void check_security(const struct bw_project_security *s)
{
    if (s->role_count < 6 || s->role_count > BW_PROJECT_MAX_ROLES)
        abort();
    for (size_t i = 0; i < s->role_count; i++)
        if (!s->roles[i].name || s->roles[i].permissions >> BW_PERM_COUNT_ ||
            bw_project_role_find(s, s->roles[i].name) != i)
            abort();
    const struct bw_project_password_policy *pw = &s->password;
    if (pw->max_length < pw->min_length || pw->argon2_memory_kib < 19456 ||
        pw->argon2_iterations < 2 || pw->argon2_parallelism < 1)
        abort();
    if (s->banner_must_accept && !s->banner)
        abort();
    const struct bw_project_ldap *l = s->ldap;
    if (!l)
        return;
    if (!l->url || !l->ca_file || !l->user_base || !l->user_filter ||
        !l->bind_dn != !l->bind_password_file)
        abort();
    if (strncmp(l->url, l->tls == BW_PROJECT_LDAP_LDAPS ? "ldaps://" : "ldap://",
                l->tls == BW_PROJECT_LDAP_LDAPS ? 8 : 7) != 0)
        abort();
    for (size_t i = 0; i < l->group_count; i++)
        if (!l->groups[i].group || l->groups[i].role >= s->role_count)
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
        check_security(&project->security);
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
