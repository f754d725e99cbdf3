/* SPDX-License-Identifier: Apache-2.0
 *
 * The catalogue of audit event IDs and the names of categories, results
 * and source kinds. The table is the single source of truth: each ID
 * fixes its SR 2.8 category and its type name, so a caller cannot file an
 * event under the wrong category. docs/audit-events.md lists the same
 * table for integrators; the unit test checks the two agree. Any thread.
 */
#include "audit/internal.h"

#include <stdlib.h>

#define EV(id_, cat_, type_, desc_)                                                                \
    {                                                                                              \
        .id = BW_AUDIT_EV_##id_, .category = BW_AUDIT_##cat_, .type = type_, .description = desc_  \
    }

/* In ID order (bw_audit_event_lookup searches it by bisection). */
static const struct bw_audit_event_info catalogue[] = {
    EV(CONTROL_PEER_REFUSED, ACCESS_CONTROL, "control.peer_refused",
       "a local process of another user was refused at the control socket"),
    EV(LOGIN_SUCCEEDED, ACCESS_CONTROL, "login.succeeded",
       "a user logged in (source, second factor used)"),
    EV(LOGIN_FAILED, ACCESS_CONTROL, "login.failed",
       "a login failed (the user name as typed, the source, the reason kept for the record)"),
    EV(LOGOUT, ACCESS_CONTROL, "logout", "a user logged out"),
    EV(ACCOUNT_LOCKED, ACCESS_CONTROL, "account.locked",
       "an account was locked after repeated failed logins"),
    EV(ADDRESS_THROTTLED, ACCESS_CONTROL, "address.throttled",
       "logins from a source address are refused for a while after repeated failures"),
    EV(SESSION_LOCKED, ACCESS_CONTROL, "session.locked",
       "a session was locked (inactivity or on demand)"),
    EV(SESSION_UNLOCKED, ACCESS_CONTROL, "session.unlocked",
       "a locked session was unlocked by re-authentication"),
    EV(SESSION_ENDED, ACCESS_CONTROL, "session.ended",
       "a session ended (lifetime, account change, limit, shutdown)"),
    EV(SESSION_REFUSED, ACCESS_CONTROL, "session.refused",
       "a new session was refused by the concurrent-session limit"),
    EV(ACCESS_DENIED, ACCESS_CONTROL, "access.denied",
       "an access was denied by authorisation (the rule that denied it)"),
    EV(SIGNATURE, ACCESS_CONTROL, "signature",
       "an electronic signature was given or refused (with its reason)"),
    EV(APPROVAL, ACCESS_CONTROL, "approval", "a dual approval was given or refused"),
    EV(OVERRIDE_STARTED, ACCESS_CONTROL, "override.started",
       "a supervisor override started (who, for whom, how long, why)"),
    EV(OVERRIDE_ENDED, ACCESS_CONTROL, "override.ended", "a supervisor override ended"),
    EV(PASSWORD_CHANGED, ACCESS_CONTROL, "password.changed", "a user changed their own password"),
    EV(PASSWORD_CHANGE_REFUSED, ACCESS_CONTROL, "password.change_refused",
       "a password change was refused (wrong old password or policy rule)"),
    EV(SETUP_SECRET_ISSUED, ACCESS_CONTROL, "setup.secret_issued",
       "a one-time setup secret for the first administrator was issued"),
    EV(SETUP_SECRET_REFUSED, ACCESS_CONTROL, "setup.secret_refused",
       "a setup secret was wrong, used or expired"),
    EV(SESSION_TERMINATED, ACCESS_CONTROL, "session.terminated",
       "an administrator ended a session of another user"),
    EV(CONTROL_REQUEST_MALFORMED, REQUEST_ERROR, "control.request_malformed",
       "a control-socket request was malformed or too large"),
    EV(TAG_WRITE_REFUSED, REQUEST_ERROR, "tag.write_refused",
       "a tag write was refused by validation (type, range, rule)"),
    EV(DAEMON_START, OS_EVENT, "daemon.start",
       "the daemon started (version, project hash, settings digest, signing key)"),
    EV(DAEMON_STOP, OS_EVENT, "daemon.stop", "the daemon stopped"),
    EV(TIME_SYNC_STATUS, OS_EVENT, "time.sync.status",
       "the system clock's synchronisation state at start"),
    EV(TIME_SYNC_LOST, OS_EVENT, "time.sync.lost", "the system clock lost synchronisation"),
    EV(TIME_SYNC_RESTORED, OS_EVENT, "time.sync.restored",
       "the system clock is synchronised again"),
    EV(HISTORY_SAMPLES_LOST, OS_EVENT, "history.samples_lost",
       "process history samples were lost (how many, why: full queue and spool, crash)"),
    EV(HISTORY_CAPACITY, OS_EVENT, "history.capacity",
       "the process history passed a capacity threshold (percent of its cap, free space)"),
    EV(HISTORY_PARTITION_DROPPED, OS_EVENT, "history.partition_dropped",
       "a partition of the process history was dropped (retention or cap)"),
    EV(HISTORY_INTEGRITY, OS_EVENT, "history.integrity",
       "the process history does not match its seals (what and where)"),
    EV(TAG_WRITE, CONTROL_SYSTEM, "tag.write", "a tag write was executed (old and new value)"),
    EV(TAG_WRITE_REQUESTED, CONTROL_SYSTEM, "tag.write.requested",
       "a tag write was requested; recorded before it runs"),
    EV(DEVICE_COMM_LOST, CONTROL_SYSTEM, "device.comm_lost",
       "communication with a field device was lost (the device, what failed)"),
    EV(DEVICE_COMM_RESTORED, CONTROL_SYSTEM, "device.comm_restored",
       "communication with a field device was restored"),
    EV(FAILSAFE_TRIGGERED, CONTROL_SYSTEM, "failsafe.triggered",
       "an output is driven to its fail-safe value (the tag, the value, the event)"),
    EV(FAILSAFE_CONFIRMED, CONTROL_SYSTEM, "failsafe.confirmed",
       "a device confirmed an output's fail-safe value"),
    EV(PROJECT_LOADED, CONFIG_CHANGE, "project.loaded", "a project was loaded (its hash)"),
    EV(PROJECT_REFUSED, CONFIG_CHANGE, "project.refused",
       "a project was refused (the number of errors)"),
    EV(USER_ADDED, CONFIG_CHANGE, "user.added", "an account was created"),
    EV(USER_MODIFIED, CONFIG_CHANGE, "user.modified",
       "an account was changed (fields before and after)"),
    EV(USER_DISABLED, CONFIG_CHANGE, "user.disabled", "an account was disabled"),
    EV(USER_ENABLED, CONFIG_CHANGE, "user.enabled", "an account was enabled"),
    EV(USER_REMOVED, CONFIG_CHANGE, "user.removed", "an account was removed"),
    EV(USER_UNLOCKED, CONFIG_CHANGE, "user.unlocked", "an administrator unlocked an account"),
    EV(USER_PASSWORD_RESET, CONFIG_CHANGE, "user.password_reset",
       "an administrator set a new password (to be changed at next login)"),
    EV(USER_MFA_ENROLLED, CONFIG_CHANGE, "user.mfa_enrolled",
       "a second factor was enrolled or confirmed"),
    EV(USER_MFA_REMOVED, CONFIG_CHANGE, "user.mfa_removed", "a second factor was removed"),
    EV(USER_CHANGE_REFUSED, CONFIG_CHANGE, "user.change_refused",
       "an account change was refused (not permitted or invalid)"),
    EV(SETUP_ADMIN_CREATED, CONFIG_CHANGE, "setup.admin_created",
       "the first security administrator was created with the setup secret"),
    EV(AUDIT_THRESHOLD, AUDIT_LOG, "audit.threshold",
       "the audit trail crossed a usage threshold of its size limit"),
    EV(AUDIT_FULL, AUDIT_LOG, "audit.full",
       "the audit trail reached its limit; non-essential operations are refused"),
    EV(AUDIT_ARCHIVED, AUDIT_LOG, "audit.archived",
       "the oldest records were rolled into a signed archive segment"),
    EV(AUDIT_FAILURE, AUDIT_LOG, "audit.failure", "audit records could not be written"),
    EV(AUDIT_RECOVERED, AUDIT_LOG, "audit.recovered", "audit records can be written again"),
    EV(AUDIT_RECORDS_LOST, AUDIT_LOG, "audit.records_lost",
       "records could not be kept while the trail was failing (their count)"),
    EV(AUDIT_EXPORTED, AUDIT_LOG, "audit.exported", "a range of records was exported"),
    EV(AUDIT_INTEGRITY, AUDIT_LOG, "audit.integrity",
       "the trail's chain, MAC or anchor did not hold at start"),
    EV(AUDIT_FORWARD_LOST, AUDIT_LOG, "audit.forward.lost",
       "the syslog collector could not be reached"),
    EV(AUDIT_FORWARD_RESTORED, AUDIT_LOG, "audit.forward.restored",
       "the syslog collector is reachable again"),
    EV(AUDIT_SPACE_FREED, AUDIT_LOG, "audit.space_freed",
       "the trail is below its limit again; operations resume"),
    EV(AUDIT_FORWARD_SKIPPED, AUDIT_LOG, "audit.forward.skipped",
       "records could not be forwarded: gone from audit.db and not readable from the archive"),
    EV(AUDIT_ARCHIVE_REQUESTED, AUDIT_LOG, "audit.archive_requested",
       "an administrator asked the daemon to archive the oldest records (who, and the range)"),
};

const struct bw_audit_event_info *bw_audit_event_lookup(uint32_t id)
{
    size_t lo = 0, hi = BW_ARRAY_LEN(catalogue);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (catalogue[mid].id == id)
            return &catalogue[mid];
        if (catalogue[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct bw_audit_event_info *bw_audit_event_catalogue(size_t *count)
{
    *count = BW_ARRAY_LEN(catalogue);
    return catalogue;
}

const char *bw_audit_category_name(enum bw_audit_category category)
{
    static const char *const names[] = {
        NULL,
        "access-control",
        "request-error",
        "os-event",
        "control-system",
        "backup-restore",
        "config-change",
        "reconnaissance",
        "audit-log",
    };
    if ((unsigned)category >= BW_ARRAY_LEN(names))
        return NULL;
    return names[category];
}

const char *bw_audit_result_name(enum bw_audit_result result)
{
    static const char *const names[] = {NULL, "success", "failure", "denied", "error"};
    if ((unsigned)result >= BW_ARRAY_LEN(names))
        return NULL;
    return names[result];
}

const char *bw_audit_source_kind_name(enum bw_audit_source_kind kind)
{
    static const char *const names[] = {NULL, "user", "process", "device"};
    if ((unsigned)kind >= BW_ARRAY_LEN(names))
        return NULL;
    return names[kind];
}
