/* SPDX-License-Identifier: Apache-2.0
 *
 * drivers/internal: what driver.c shares with the driver kinds. Each kind
 * (sim today, modbus later) provides one table of operations; driver.c
 * picks the table from the device's "driver" and forwards the public
 * calls to it, so adding a kind touches no caller.
 */
#ifndef BW_DRIVERS_INTERNAL_H
#define BW_DRIVERS_INTERNAL_H

#include "drivers/drivers.h"

/* The operations of one driver kind. impl is the kind's private state.
 * The contracts are those of the public bw_driver_* calls. */
struct bw_driver_ops {
    const char *name; /* as in the project, e.g. "sim" */
    BW_MUST_CHECK int (*create)(const struct bw_project *project, size_t device,
                                struct bw_core *core, void **impl);
    BW_MUST_CHECK int (*start)(void *impl);
    void (*stop)(void *impl);
    void (*destroy)(void *impl);
    /* Fills the counters and state; device and driver are set by the
     * caller. */
    void (*status)(const void *impl, struct bw_driver_status *out);
    /* Optional (NULL: the kind has no such thing). */
    void (*set_events)(void *impl, bw_driver_event_fn fn, void *ctx);
    void (*failsafe)(void *impl, enum bw_failsafe_event event);
    /* Asks the thread to stop without waiting (stop joins it). */
    void (*request_stop)(void *impl);
};

/* The simulator (drivers/sim/sim_driver.c). */
extern const struct bw_driver_ops bw_driver_sim_ops;
/* Modbus TCP (drivers/modbus/). */
extern const struct bw_driver_ops bw_driver_modbus_ops;

#endif
