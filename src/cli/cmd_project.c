/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark project validate DIR`: loads DIR/project.json with the same
 * loader the daemon uses and reports the result: a one-line summary, or
 * every error as `<path>: <reason>`. Main thread.
 */
#include "cli/internal.h"
#include "project/project.h"

#include <stdio.h>

static int validate_run(const struct bw_cli_args *args)
{
    const char *dir = args->args[0];
    struct bw_project *project = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_load(dir, &project, &errors);
    if (rc) {
        for (size_t i = 0; i < errors.count; i++) {
            const struct bw_project_error *e = &errors.items[i];
            if (e->path[0])
                printf("%s: %s\n", e->path, e->reason);
            else
                printf("%s\n", e->reason);
        }
        if (errors.omitted)
            printf("... and %zu more errors\n", errors.omitted);
        if (errors.count == 0)
            printf("%s\n", bw_strerror(rc));
        size_t total = errors.count + errors.omitted;
        fprintf(stderr, "bulwark: project %s is not valid (%zu error%s)\n", dir, total,
                total == 1 ? "" : "s");
        bw_project_errors_clear(&errors);
        return BW_CLI_EXIT_FAIL;
    }
    printf("project %s is valid: %zu tag%s, %zu device%s\n", dir, project->tag_count,
           project->tag_count == 1 ? "" : "s", project->device_count,
           project->device_count == 1 ? "" : "s");
    bw_project_free(project);
    bw_project_errors_clear(&errors);
    return BW_CLI_EXIT_OK;
}

static const struct bw_cli_command validate_command = {
    .name = "project validate",
    .synopsis = "DIR",
    .summary = "check a project directory's project.json and report every error",
    .details = "Exits 0 when the project is valid, 1 when it is not (each error is printed\n"
               "as `<json path>: <reason>`, one per line).",
    .min_args = 1,
    .max_args = 1,
    .run = validate_run,
};

static const struct bw_cli_command *const project_subs[] = {&validate_command};

const struct bw_cli_command bw_cli_project_command = {
    .name = "project",
    .synopsis = "COMMAND ...",
    .summary = "work with a project directory (validate)",
    .subs = project_subs,
    .sub_count = BW_ARRAY_LEN(project_subs),
};
