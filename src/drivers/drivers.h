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

/* Communication errors by kind (field drivers; the simulator has none). */
enum bw_driver_error_kind {
    BW_DRIVER_ERR_TIMEOUT = 0, /* no answer within the response timeout */
    BW_DRIVER_ERR_EXCEPTION,   /* the device answered with a protocol exception */
    BW_DRIVER_ERR_TRANSACTION, /* an answer to a request we did not send (wrong transaction id) */
    BW_DRIVER_ERR_UNIT,        /* an answer from another unit id */
    BW_DRIVER_ERR_MALFORMED,   /* an answer that does not fit the request */
    BW_DRIVER_ERR_CONNECTION,  /* connect failed, or the connection broke */
    BW_DRIVER_ERR_READ_BACK,   /* a written value did not read back */
    BW_DRIVER_ERR_COUNT_
};

const char *bw_driver_error_name(enum bw_driver_error_kind kind);

struct bw_driver_status {
    const char *device; /* borrowed from the project */
    const char *driver; /* "sim", "modbus" */
    enum bw_driver_state state;
    uint64_t cycles;     /* scan cycles completed */
    uint64_t updates;    /* tag updates pushed to the engine */
    uint64_t writes;     /* writes accepted */
    uint64_t queue_full; /* pushes the engine's queue refused */
    /* Field drivers: */
    uint64_t requests;       /* requests sent (reads and writes) */
    uint64_t registers;      /* registers and bits read */
    uint64_t write_failures; /* writes the device refused or did not confirm */
    uint64_t errors[BW_DRIVER_ERR_COUNT_];
    uint64_t connects;       /* connections made */
    uint32_t latency_p50_us; /* round trip of answered requests, since start */
    uint32_t latency_p90_us;
    uint32_t latency_p99_us;
    uint32_t latency_max_us;
    char last_error[160]; /* what failed last and where, for operators ("" none) */
};

/* What a driver reports for the audit trail (control-system events). */
enum bw_driver_event_kind {
    BW_DRIVER_EV_COMM_LOST = 0,      /* the device stopped answering (detail: why) */
    BW_DRIVER_EV_COMM_RESTORED,      /* it answers again */
    BW_DRIVER_EV_FAILSAFE_TRIGGERED, /* a fail-safe value is due (tag, detail: the event) */
    BW_DRIVER_EV_FAILSAFE_WRITTEN,   /* the device confirmed it (tag, value) */
};

struct bw_driver_event {
    enum bw_driver_event_kind kind;
    const char *device;           /* borrowed for the call */
    const char *tag;              /* NULL unless about one tag */
    const char *detail;           /* plain words, may be "" */
    const struct bw_value *value; /* fail-safe events: the value; else NULL */
};

/* Called on the driver's thread; it must not block for long (the audit
 * trail's record call queues). */
typedef void (*bw_driver_event_fn)(void *ctx, const struct bw_driver_event *event);

const char *bw_driver_state_name(enum bw_driver_state state);

/* Creates the driver for project->devices[device], binds the tags that
 * name it (core's tag ids are looked up by name) and registers writers
 * for its writable tags. project and core are borrowed and must outlive
 * the driver. Call before bw_core_start(). BW_EINVAL when a bound tag is
 * missing from core, BW_ENOMEM. */
BW_MUST_CHECK int bw_driver_new(const struct bw_project *project, size_t device,
                                struct bw_core *core, struct bw_driver **out);
/* Where the driver reports its events; before bw_driver_start(). */
void bw_driver_set_events(struct bw_driver *driver, bw_driver_event_fn fn, void *ctx);
/* Starts the driver's thread. BW_EIO when it cannot. */
BW_MUST_CHECK int bw_driver_start(struct bw_driver *driver);
/* Drives the outputs whose fail-safe value names event (integrity
 * violation, island mode) to that value; the driver retries until the
 * device confirms. Any thread; returns at once. */
void bw_driver_failsafe(struct bw_driver *driver, enum bw_failsafe_event event);
/* Writes the fail-safe values of "shutdown" outputs (waiting at most for
 * the device's timeouts), then stops and joins the driver's thread; the
 * tags keep their last values. */
void bw_driver_stop(struct bw_driver *driver);
/* Asks the driver to stop and returns at once, so that several drivers
 * carry out their shutdown fail-safe values together; bw_driver_stop()
 * then waits for it. */
void bw_driver_request_stop(struct bw_driver *driver);
void bw_driver_free(struct bw_driver *driver);
/* A consistent copy of the driver's counters. Any thread. */
void bw_driver_status_get(const struct bw_driver *driver, struct bw_driver_status *out);

#endif
