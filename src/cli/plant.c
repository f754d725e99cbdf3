/* SPDX-License-Identifier: Apache-2.0
 *
 * The running plant of `bulwark serve`: builds the tag engine from the
 * project's tags, one driver per device, and owns their order of start
 * and stop (drivers are created before the engine starts so that their
 * writers are registered; they stop before it so that nothing pushes
 * into a stopped engine). Built and stopped on the main thread; the
 * counting and status functions run on any thread.
 */
#include "cli/internal.h"
#include "drivers/drivers.h"
#include "project/project.h"

#include <string.h>
#include <time.h>

static int build_core(struct bw_cli_plant *plant)
{
    const struct bw_project *p = plant->project;
    struct bw_core_tag_def *defs = bw_calloc(p->tag_count ? p->tag_count : 1, sizeof(*defs));
    if (!defs)
        return BW_ENOMEM;
    for (size_t i = 0; i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        defs[i] = (struct bw_core_tag_def){
            .name = t->name,
            .type = t->type,
            .has_min = t->has_min,
            .has_max = t->has_max,
            .min = t->min,
            .max = t->max,
            .writable = t->access.writable,
        };
    }
    int rc = bw_core_new(defs, p->tag_count, NULL, &plant->core);
    bw_free(defs);
    if (rc)
        bw_log(BW_LOG_ERROR, BW_LOGC_ENGINE, "cannot build the tag table: %s", bw_strerror(rc));
    return rc;
}

int bw_cli_plant_new(const struct bw_project *project, struct bw_cli_plant **out)
{
    *out = NULL;
    struct bw_cli_plant *plant = bw_calloc(1, sizeof(*plant));
    if (!plant)
        return BW_ENOMEM;
    plant->project = project;
    int rc = build_core(plant);
    if (!rc && project->device_count > 0) {
        plant->drivers = bw_calloc(project->device_count, sizeof(*plant->drivers));
        rc = plant->drivers ? BW_OK : BW_ENOMEM;
    }
    for (size_t i = 0; !rc && i < project->device_count; i++) {
        rc = bw_driver_new(project, i, plant->core, &plant->drivers[i]);
        if (rc)
            bw_log(BW_LOG_ERROR, BW_LOGC_DRIVER, "device %s: cannot create its driver: %s",
                   project->devices[i].name, bw_strerror(rc));
        else
            plant->driver_count = i + 1;
    }
    if (!rc) {
        rc = bw_cli_plant_set_rules(plant->core, project);
        if (rc)
            bw_log(BW_LOG_ERROR, BW_LOGC_ENGINE, "cannot set the tags' write rules: %s",
                   bw_strerror(rc));
    }
    if (rc) {
        bw_cli_plant_free(plant);
        return rc;
    }
    *out = plant;
    return BW_OK;
}

/* Pushes one good update, waiting while the engine drains a full queue. */
static int push_initial(struct bw_core *core, const struct bw_tag_update *u)
{
    for (int tries = 0; tries < 1000; tries++) {
        size_t queued = 0;
        int rc = bw_core_update_push(core, u, 1, &queued);
        if (rc != BW_EFULL)
            return rc;
        struct timespec pause = {.tv_nsec = 1000000};
        nanosleep(&pause, NULL);
    }
    return BW_EFULL;
}

/* Memory tags hold their "initial" value until an operator writes. */
static int push_initial_values(struct bw_cli_plant *plant)
{
    const struct bw_project *p = plant->project;
    for (size_t i = 0; i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (t->device != SIZE_MAX || !t->has_initial)
            continue;
        struct bw_tag_update u = {
            .quality = BW_QUALITY_GOOD, .reason = BW_REASON_NONE, .value = t->initial};
        int rc = bw_core_tag_find(plant->core, t->name, &u.tag);
        if (!rc)
            rc = push_initial(plant->core, &u);
        if (rc) {
            bw_log(BW_LOG_ERROR, BW_LOGC_ENGINE, "tag %s: cannot set its initial value: %s",
                   t->name, bw_strerror(rc));
            return rc;
        }
    }
    return BW_OK;
}

int bw_cli_plant_start(struct bw_cli_plant *plant)
{
    int rc = bw_core_start(plant->core);
    if (rc) {
        bw_log(BW_LOG_ERROR, BW_LOGC_ENGINE, "cannot start the engine: %s", bw_strerror(rc));
        return rc;
    }
    plant->engine_started = true;
    plant->started_real_us = bw_clock_realtime_us();
    plant->started_mono_us = bw_clock_monotonic_us();
    rc = push_initial_values(plant);
    if (rc)
        return rc;
    for (size_t i = 0; i < plant->driver_count; i++) {
        bw_driver_set_events(plant->drivers[i], bw_cli_driver_event, plant);
        rc = bw_driver_start(plant->drivers[i]);
        if (rc) {
            bw_log(BW_LOG_ERROR, BW_LOGC_DRIVER, "device %s: cannot start its driver: %s",
                   plant->project->devices[i].name, bw_strerror(rc));
            return rc;
        }
        plant->drivers_started = i + 1;
    }
    return BW_OK;
}

void bw_cli_plant_stop_drivers(struct bw_cli_plant *plant)
{
    if (!plant)
        return;
    /* All at once: each device's shutdown fail-safe values go out
     * without waiting for the devices stopped before it. */
    for (size_t i = plant->drivers_started; i-- > 0;)
        bw_driver_request_stop(plant->drivers[i]);
    for (size_t i = plant->drivers_started; i-- > 0;)
        bw_driver_stop(plant->drivers[i]);
    plant->drivers_started = 0;
}

void bw_cli_plant_stop(struct bw_cli_plant *plant)
{
    if (!plant)
        return;
    bw_cli_plant_stop_drivers(plant);
    if (plant->engine_started)
        bw_core_stop(plant->core);
    plant->engine_started = false;
}

void bw_cli_plant_free(struct bw_cli_plant *plant)
{
    if (!plant)
        return;
    bw_cli_plant_stop(plant);
    for (size_t i = 0; i < plant->driver_count; i++)
        bw_driver_free(plant->drivers[i]);
    bw_free(plant->drivers);
    bw_core_free(plant->core);
    bw_free(plant);
}

void bw_cli_plant_count(const struct bw_cli_plant *plant, struct bw_cli_quality_counts *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = bw_core_tag_count(plant->core);
    for (uint32_t id = 0; id < n; id++) {
        struct bw_tag_state st;
        if (bw_core_tag_read(plant->core, id, &st) != BW_OK)
            continue;
        if (st.quality == BW_QUALITY_GOOD)
            out->good++;
        else if (st.quality == BW_QUALITY_UNCERTAIN)
            out->uncertain++;
        else
            out->bad++;
    }
}

void bw_cli_plant_log_status(const struct bw_cli_plant *plant)
{
    struct bw_cli_quality_counts q;
    struct bw_core_stats es;
    bw_cli_plant_count(plant, &q);
    bw_core_stats_get(plant->core, &es);
    char devices[512] = "";
    struct bw_buf dev;
    bw_buf_init(&dev, sizeof(devices) - 1);
    for (size_t i = 0; i < plant->driver_count; i++) {
        struct bw_driver_status ds;
        bw_driver_status_get(plant->drivers[i], &ds);
        /* Room is kept for the ellipsis: a long list ends in "...". */
        if (dev.len > sizeof(devices) - 80 ||
            bw_buf_printf(&dev, "%s%s %s", i ? ", " : "", ds.device,
                          bw_driver_state_name(ds.state)) != BW_OK) {
            int fits = bw_buf_append_str(&dev, ", ..."); /* room was kept */
            (void)fits;
            break;
        }
    }
    if (dev.data)
        bw_strlcpy(devices, dev.data, sizeof(devices));
    bw_buf_clear(&dev);
    bw_log(BW_LOG_INFO, BW_LOGC_MAIN,
           "status: %zu tags (%zu good, %zu uncertain, %zu bad); engine: %llu updates applied, "
           "%llu rejected, %llu queue full, %llu lost by subscribers; devices: %s",
           q.good + q.uncertain + q.bad, q.good, q.uncertain, q.bad,
           (unsigned long long)es.updates_applied, (unsigned long long)es.updates_rejected,
           (unsigned long long)es.queue_full, (unsigned long long)es.subscriber_lost,
           plant->driver_count ? devices : "none");
}
