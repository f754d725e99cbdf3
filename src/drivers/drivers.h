/* SPDX-License-Identifier: Apache-2.0
 *
 * drivers: the interface between field devices and the tag engine. A
 * driver instance serves one device of the project: it runs its own
 * thread, pushes the values of the tags bound to the device into the
 * engine's update queue at the pace of their scan classes, and takes
 * operator writes through the writer it registers with the core for each
 * writable tag (the engine's one write path calls it after validation).
 *
 * Drivers read the loaded project (a read-only model) for their device's
 * parameters and bindings.
 */
#ifndef BW_DRIVERS_H
#define BW_DRIVERS_H

#include "base/base.h"
#include "core/core.h"
#include "project/project.h"

struct bw_driver;

enum bw_driver_state {
    BW_DRIVER_STOPPED = 0,
    BW_DRIVER_CONNECTED,
    BW_DRIVER_DEGRADED,
    BW_DRIVER_FAILED,
};

struct bw_driver_status {
    const char *device; /* borrowed from the project */
    const char *driver; /* "sim" */
    enum bw_driver_state state;
    uint64_t cycles;     /* scan cycles completed */
    uint64_t updates;    /* tag updates pushed to the engine */
    uint64_t writes;     /* writes accepted */
    uint64_t queue_full; /* pushes the engine's queue refused */
};

const char *bw_driver_state_name(enum bw_driver_state state);

/* Creates the driver for project->devices[device], binds the tags that
 * name it (core's tag ids are looked up by name) and registers writers
 * for its writable tags. project and core are borrowed and must outlive
 * the driver. Call before bw_core_start(). BW_EINVAL when a bound tag is
 * missing from core, BW_ENOMEM. */
BW_MUST_CHECK int bw_driver_new(const struct bw_project *project, size_t device,
                                struct bw_core *core, struct bw_driver **out);
/* Starts the driver's thread. BW_EIO when it cannot. */
BW_MUST_CHECK int bw_driver_start(struct bw_driver *driver);
/* Stops and joins the driver's thread; the tags keep their last values. */
void bw_driver_stop(struct bw_driver *driver);
void bw_driver_free(struct bw_driver *driver);
/* A consistent copy of the driver's counters. Any thread. */
void bw_driver_status_get(const struct bw_driver *driver, struct bw_driver_status *out);

#endif
