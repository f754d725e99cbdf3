/* SPDX-License-Identifier: Apache-2.0
 *
 * The time source's health (SR 2.11): whether the kernel considers the
 * system clock synchronised (adjtimex: not TIME_ERROR and STA_UNSYNC
 * clear), recorded at start and on every change; losing synchronisation
 * also warns in the log, since every timestamp in the trail depends on
 * it. Main thread.
 */
#include "audit/internal.h"

#include <sys/timex.h>

/* Reads the kernel's view; a test replaces it through audit_clock_probe. */
static int kernel_probe(long *maxerror_us, long *esterror_us)
{
    struct timex tx = {.modes = 0};
    int state = adjtimex(&tx);
    *maxerror_us = tx.maxerror;
    *esterror_us = tx.esterror;
    if (state < 0)
        return -1;
    return state != TIME_ERROR && !(tx.status & STA_UNSYNC) ? 1 : 0;
}

int (*audit_clock_probe)(long *maxerror_us, long *esterror_us) = kernel_probe;

static void record_clock(struct bw_audit *audit, uint32_t id, enum bw_audit_result result,
                         json_t *details_take)
{
    struct bw_audit_event ev = {
        .id = id,
        .result = result,
        .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "bulwark"},
        .details = details_take,
    };
    if (bw_audit_record(audit, &ev, NULL) != BW_OK)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "time-sync record not yet durable");
    json_decref(details_take);
}

void bw_audit_clock_check(struct bw_audit *audit)
{
    long maxerror = 0, esterror = 0;
    int synced = audit_clock_probe(&maxerror, &esterror);
    if (synced < 0) {
        /* The clock's state cannot be read (adjtimex refused, as in some
         * sandboxes): say so once at start rather than say nothing. */
        if (audit->clock_state != -1)
            return;
        audit->clock_state = -2;
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "the system clock's synchronisation state cannot be read: audit timestamps are "
               "not known to be accurate");
        record_clock(audit, BW_AUDIT_EV_TIME_SYNC_STATUS, BW_AUDIT_ERROR,
                     json_pack("{s:s}", "synchronised", "unknown"));
        return;
    }
    if (synced == audit->clock_state)
        return;
    uint32_t id;
    enum bw_audit_result result = synced ? BW_AUDIT_SUCCESS : BW_AUDIT_FAILURE;
    if (audit->clock_state < 0)
        id = BW_AUDIT_EV_TIME_SYNC_STATUS;
    else
        id = synced ? BW_AUDIT_EV_TIME_SYNC_RESTORED : BW_AUDIT_EV_TIME_SYNC_LOST;
    if (!synced)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "the system clock is not synchronised: audit timestamps may be off (maximum "
               "error %ld us)",
               maxerror);
    else if (audit->clock_state == 0)
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "the system clock is synchronised again");
    audit->clock_state = synced;
    record_clock(audit, id, result,
                 json_pack("{s:b, s:I, s:I}", "synchronised", synced, "max_error_us",
                           (json_int_t)maxerror, "est_error_us", (json_int_t)esterror));
}
