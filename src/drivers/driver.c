/* SPDX-License-Identifier: Apache-2.0
 *
 * The driver front: picks the operations table for a device's driver
 * kind and forwards the life-cycle calls to it. It holds no thread of its
 * own; the calls run on the caller's thread (the daemon's main thread for
 * new/start/stop/free, any thread for status).
 */
#include "drivers/internal.h"

struct bw_driver {
    const struct bw_driver_ops *ops;
    void *impl;
    const char *device; /* borrowed from the project */
};

/* Indexed by enum bw_driver_kind. */
static const struct bw_driver_ops *const driver_kinds[] = {
    [BW_DRIVER_SIM] = &bw_driver_sim_ops,
    [BW_DRIVER_MODBUS] = &bw_driver_modbus_ops,
};

const char *bw_driver_error_name(enum bw_driver_error_kind kind)
{
    static const char *const names[] = {
        [BW_DRIVER_ERR_TIMEOUT] = "timeout",
        [BW_DRIVER_ERR_EXCEPTION] = "exception",
        [BW_DRIVER_ERR_TRANSACTION] = "wrong_transaction",
        [BW_DRIVER_ERR_UNIT] = "wrong_unit",
        [BW_DRIVER_ERR_MALFORMED] = "malformed",
        [BW_DRIVER_ERR_CONNECTION] = "connection",
        [BW_DRIVER_ERR_READ_BACK] = "read_back",
    };
    return (size_t)kind < BW_ARRAY_LEN(names) ? names[kind] : "?";
}

const char *bw_driver_state_name(enum bw_driver_state state)
{
    switch (state) {
    case BW_DRIVER_STOPPED:
        return "stopped";
    case BW_DRIVER_CONNECTED:
        return "connected";
    case BW_DRIVER_DEGRADED:
        return "degraded";
    case BW_DRIVER_FAILED:
        return "failed";
    }
    return "?";
}

BW_MUST_CHECK int bw_driver_new(const struct bw_project *project, size_t device,
                                struct bw_core *core, struct bw_driver **out)
{
    if (!out)
        return BW_EINVAL;
    *out = NULL;
    if (!project || !core || device >= project->device_count)
        return BW_EINVAL;
    size_t kind = (size_t)project->devices[device].driver;
    if (kind >= BW_ARRAY_LEN(driver_kinds) || !driver_kinds[kind])
        return BW_EINVAL;

    struct bw_driver *driver = bw_calloc(1, sizeof(*driver));
    if (!driver)
        return BW_ENOMEM;
    driver->ops = driver_kinds[kind];
    driver->device = project->devices[device].name;
    int rc = driver->ops->create(project, device, core, &driver->impl);
    if (rc) {
        bw_free(driver);
        return rc;
    }
    *out = driver;
    return BW_OK;
}

BW_MUST_CHECK int bw_driver_start(struct bw_driver *driver)
{
    if (!driver)
        return BW_EINVAL;
    return driver->ops->start(driver->impl);
}

void bw_driver_set_events(struct bw_driver *driver, bw_driver_event_fn fn, void *ctx)
{
    if (driver && driver->ops->set_events)
        driver->ops->set_events(driver->impl, fn, ctx);
}

void bw_driver_failsafe(struct bw_driver *driver, enum bw_failsafe_event event)
{
    if (driver && driver->ops->failsafe)
        driver->ops->failsafe(driver->impl, event);
}

void bw_driver_request_stop(struct bw_driver *driver)
{
    if (driver && driver->ops->request_stop)
        driver->ops->request_stop(driver->impl);
}

void bw_driver_stop(struct bw_driver *driver)
{
    if (driver)
        driver->ops->stop(driver->impl);
}

void bw_driver_free(struct bw_driver *driver)
{
    if (!driver)
        return;
    driver->ops->destroy(driver->impl);
    bw_free(driver);
}

void bw_driver_status_get(const struct bw_driver *driver, struct bw_driver_status *out)
{
    *out = (struct bw_driver_status){0};
    if (!driver)
        return;
    driver->ops->status(driver->impl, out);
    out->device = driver->device;
    out->driver = driver->ops->name;
}
