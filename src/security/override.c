/* SPDX-License-Identifier: Apache-2.0
 *
 * Supervisor override (SR 2.1 RE 3): a supervisor, whose session holds
 * the override permission, lends their own level, areas and permissions
 * to another user's session for a while, with a reason. Until then the
 * session has the union of both (the higher level, either's areas and
 * permissions). Account and session administration are never lent
 * (separation of duties, DESIGN.md section 4), nor is the override
 * permission itself: a supervisor's authority cannot be passed on again.
 * The start is recorded before the override counts (when the record
 * cannot be made, the grant is taken back); the end is recorded by the
 * tick (expiry), by bw_security_override_end, or when the session ends.
 *
 * bw_security_override_grant returns BW_EDENIED when the supervisor's
 * session is unknown, locked, must change its password or lacks the
 * override permission (recorded as access.denied), or when the trail
 * cannot record the start; BW_EINVAL for seconds outside 1..the policy's
 * maximum, a missing or over-long reason, or a session of the
 * supervisor's own; BW_ENOTFOUND for an unknown target; BW_EBUSY when
 * the target carries an override already. why says which.
 * bw_security_override_end returns BW_ENOTFOUND for an unknown token or
 * target, BW_ESTATE when the target carries no override, BW_EDENIED when
 * the caller is neither its supervisor nor its holder. Any thread.
 */
#include "security/sessions_internal.h"

#include <string.h>

static int grant_refused(struct bw_security *sec, const struct sec_subject *sup,
                         const char *target_id, int rc, const char *text, char *why,
                         size_t why_size)
{
    bw_strlcpy(why, text, why_size);
    sec_note(sec, BW_AUDIT_EV_OVERRIDE_STARTED, BW_AUDIT_FAILURE, sup->user, sup->address,
             json_pack("{s:s, s:s}", "id", target_id ? target_id : "", "reason", text));
    return rc;
}

/* The supervisor may lend: a live, unlocked session with the override
 * permission of its own. */
static int supervisor_check(struct bw_security *sec, const char *token, struct sec_subject *sup,
                            char *why, size_t why_size)
{
    int rc = sec_session_subject_own(sec, token, true, sup);
    enum bw_security_deny_reason deny = BW_SECURITY_ALLOWED;
    if (rc == BW_ESTATE)
        deny = BW_SECURITY_DENY_LOCKED;
    else if (rc)
        deny = BW_SECURITY_DENY_NO_SESSION;
    else if (sup->must_change_password)
        deny = BW_SECURITY_DENY_PASSWORD_CHANGE;
    else if (!(sup->permissions & (1u << BW_PERM_OVERRIDE)))
        deny = BW_SECURITY_DENY_PERMISSION;
    if (deny == BW_SECURITY_ALLOWED)
        return BW_OK;
    bw_strlcpy(why, bw_security_deny_reason_text(deny), why_size);
    sec_note(sec, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, sup->user[0] ? sup->user : "-",
             sup->address,
             json_pack("{s:s, s:s, s:s}", "reason", bw_security_deny_reason_name(deny), "object",
                       "override", "permission", bw_permission_name(BW_PERM_OVERRIDE)));
    return BW_EDENIED;
}

static json_t *permission_names(uint32_t mask)
{
    json_t *list = json_array();
    for (int p = 0; list && p < BW_PERM_COUNT_; p++)
        if (mask & (1u << p))
            json_array_append_new(list, json_string(bw_permission_name((enum bw_permission)p)));
    return list;
}

static json_t *started_details(const char *target_id, const struct sec_subject *target,
                               const struct sec_override *ov, uint32_t seconds, const char *reason)
{
    char until[BW_TIME_TEXT_MAX];
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:o}", "id", target_id, "user",
                     target->user, "seconds", (json_int_t)seconds, "until",
                     bw_time_format_utc(ov->end_us, until), "reason", reason, "level",
                     (json_int_t)ov->level, "areas", (json_int_t)ov->areas, "permissions",
                     permission_names(ov->permissions));
}

int bw_security_override_grant(struct bw_security *sec, const char *supervisor_token,
                               const char *target_id, uint32_t seconds, const char *reason,
                               char *why, size_t why_size)
{
    struct sec_subject sup;
    int rc = supervisor_check(sec, supervisor_token, &sup, why, why_size);
    if (rc)
        return rc;
    uint32_t max = sec->policy->sessions.override_max_seconds;
    size_t reason_len = reason ? strnlen(reason, BW_SECURITY_REASON_MAX + 1) : 0;
    if (seconds < 1 || seconds > max) {
        char text[96];
        if (bw_snprintf(text, sizeof(text), "an override lasts 1 to %u seconds", max))
            bw_strlcpy(text, "the override's duration is out of range", sizeof(text));
        return grant_refused(sec, &sup, target_id, BW_EINVAL, text, why, why_size);
    }
    if (reason_len == 0 || reason_len > BW_SECURITY_REASON_MAX ||
        !bw_utf8_valid(reason, reason_len))
        return grant_refused(sec, &sup, target_id, BW_EINVAL,
                             "an override needs a reason (1 to 512 bytes of text)", why, why_size);
    if (target_id && strcmp(target_id, sup.session_id) == 0)
        return grant_refused(sec, &sup, target_id, BW_EINVAL,
                             "an override is lent to another user's session", why, why_size);

    int64_t span = (int64_t)seconds * 1000000;
    struct sec_override ov = {.level = sup.level,
                              .areas = sup.areas,
                              .permissions = sup.permissions & ~SEC_OVERRIDE_NEVER_LENT,
                              .end_us = bw_clock_realtime_us() + span,
                              .end_mono = bw_clock_monotonic_us() + span};
    bw_strlcpy(ov.supervisor, sup.user, sizeof(ov.supervisor));
    struct sec_subject target;
    rc = sec_session_override_set(sec, target_id, &ov, &target);
    if (rc == BW_ENOTFOUND)
        return grant_refused(sec, &sup, target_id, rc, "no such session", why, why_size);
    if (rc == BW_EBUSY)
        return grant_refused(sec, &sup, target_id, rc,
                             "the session is under an override already: end that one first", why,
                             why_size);
    if (rc)
        return grant_refused(sec, &sup, target_id, rc,
                             "an override is lent to another user's session", why, why_size);
    rc = sec_audit(sec, BW_AUDIT_EV_OVERRIDE_STARTED, BW_AUDIT_SUCCESS, sup.user, sup.address,
                   started_details(target_id, &target, &ov, seconds, reason));
    if (rc) {
        /* Not on record, so not lent (SR 2.10). */
        if (sec_session_override_clear(sec, target_id, NULL, ov.generation, NULL, NULL) != BW_OK)
            bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "an unrecorded override ended already");
        bw_strlcpy(why, "refused: the audit trail cannot record the override now", why_size);
        return BW_EDENIED;
    }
    return BW_OK;
}

int bw_security_override_end(struct bw_security *sec, const char *token, const char *target_id)
{
    struct sec_subject who;
    int rc = sec_session_subject_own(sec, token, true, &who);
    /* Giving rights back needs no unlocked session. */
    if (rc != BW_OK && rc != BW_ESTATE)
        return BW_ENOTFOUND;
    struct sec_override ended;
    struct sec_subject target;
    rc = sec_session_override_clear(sec, target_id, who.user, 0, &ended, &target);
    if (rc)
        return rc;
    bool by_supervisor = strcmp(who.user, ended.supervisor) == 0;
    sec_note(sec, BW_AUDIT_EV_OVERRIDE_ENDED, BW_AUDIT_SUCCESS, who.user, who.address,
             json_pack("{s:s, s:s, s:s, s:s}", "id", target_id, "user", target.user, "supervisor",
                       ended.supervisor, "reason",
                       by_supervisor ? "ended by the supervisor" : "ended by the holder"));
    return BW_OK;
}
