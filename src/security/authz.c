/* SPDX-License-Identifier: Apache-2.0
 *
 * Authorisation (SR 1.2, 2.1): bw_security_authorize, the one decision
 * every access takes, in a fixed order: a live session, unlocked, its
 * password not due for change; the object's permission among those its
 * roles grant (or an override lends), its level at least the object's,
 * one of its areas among the object's; then, when the object asks, the
 * acting user's electronic signature (the password again and a reason)
 * and the approval of a second, different user who could make the same
 * access on their own account. Every denial is recorded (access.denied,
 * naming the rule, the object and the permission); signatures and
 * approvals are recorded whether they hold or not, and an access that
 * rests on one goes ahead only once that record is made (fail closed,
 * SR 2.10). Any thread except the engine's; blocks while a password is
 * hashed.
 */
#include "security/internal.h"

#include <string.h>

static const struct {
    const char *name;
    const char *text;
} reasons[] = {
    [BW_SECURITY_ALLOWED] = {"allowed", "Allowed."},
    [BW_SECURITY_DENY_NO_SESSION] = {"no_session",
                                     "You are not signed in, or your session has ended."},
    [BW_SECURITY_DENY_LOCKED] = {"locked",
                                 "Your session is locked: authenticate again to unlock it."},
    [BW_SECURITY_DENY_PASSWORD_CHANGE] = {"password_change",
                                          "Your password must be changed before anything else."},
    [BW_SECURITY_DENY_PERMISSION] = {"permission",
                                     "None of your roles grants the permission this needs."},
    [BW_SECURITY_DENY_LEVEL] = {"level", "Your level is below the level this needs."},
    [BW_SECURITY_DENY_AREA] = {"area", "This is in none of your areas."},
    [BW_SECURITY_DENY_SIGNATURE] = {"signature",
                                    "This needs your signature: your password again and a reason."},
    [BW_SECURITY_DENY_APPROVAL] = {"approval",
                                   "This needs the approval of another user who may do it too."},
    [BW_SECURITY_DENY_AUDIT] = {"audit", "This cannot be put on record now, so it is refused."},
};

const char *bw_security_deny_reason_name(enum bw_security_deny_reason reason)
{
    if ((unsigned)reason >= BW_ARRAY_LEN(reasons))
        return "unknown";
    return reasons[reason].name;
}

const char *bw_security_deny_reason_text(enum bw_security_deny_reason reason)
{
    if ((unsigned)reason >= BW_ARRAY_LEN(reasons))
        return "Refused.";
    return reasons[reason].text;
}

/* Text for a record: as given when it is UTF-8 (what JSON holds). */
static const char *text_or(const char *s, const char *instead)
{
    return s && bw_utf8_valid(s, strlen(s)) ? s : instead;
}

static const char *permission_text(enum bw_permission p)
{
    const char *name = bw_permission_name(p);
    return name ? name : "unknown";
}

/* The rules a session's rights decide. */
static enum bw_security_deny_reason rights_check(int lookup, const struct sec_subject *s,
                                                 const struct bw_security_object *object)
{
    if (lookup == BW_ESTATE)
        return BW_SECURITY_DENY_LOCKED;
    if (lookup != BW_OK)
        return BW_SECURITY_DENY_NO_SESSION;
    if (s->must_change_password)
        return BW_SECURITY_DENY_PASSWORD_CHANGE;
    if ((unsigned)object->permission >= BW_PERM_COUNT_ ||
        !(s->permissions & (1u << object->permission)))
        return BW_SECURITY_DENY_PERMISSION;
    if (s->level < object->level)
        return BW_SECURITY_DENY_LEVEL;
    if (!(s->areas & object->areas))
        return BW_SECURITY_DENY_AREA;
    return BW_SECURITY_ALLOWED;
}

/* The acting user signs: the password again (one hash; a wrong one
 * counts as a failed login) and a reason. */
static enum bw_security_deny_reason signature_check(struct bw_security *sec,
                                                    const struct sec_subject *s,
                                                    const struct bw_security_object *object,
                                                    const struct bw_security_evidence *ev)
{
    const char *reason = ev ? ev->reason : NULL;
    size_t len = reason ? strnlen(reason, BW_SECURITY_REASON_MAX + 1) : 0;
    bool reason_ok = len > 0 && len <= BW_SECURITY_REASON_MAX && bw_utf8_valid(reason, len);
    const char *failure = NULL;
    if (!ev || !ev->password)
        failure = "no signature given";
    else if (len == 0)
        failure = "no reason given";
    else if (!reason_ok)
        failure = len > BW_SECURITY_REASON_MAX ? "reason too long" : "reason not text";
    else {
        const char *code = "";
        int rc = sec_verify_password(sec, s->user, ev->password, ev->password_len, ev->totp,
                                     s->address, NULL, &code);
        if (rc == BW_EFULL)
            failure = "hashing queue full";
        else if (rc)
            failure = code && *code ? code : "refused";
    }
    json_t *details =
        json_pack("{s:s, s:s, s:s}", "object", text_or(object->name, "?"), "permission",
                  permission_text(object->permission), "reason", reason_ok ? reason : "");
    if (failure) {
        json_object_set_new(details, "failure", json_string(failure));
        sec_note(sec, BW_AUDIT_EV_SIGNATURE, BW_AUDIT_FAILURE, s->user, s->address, details);
        return BW_SECURITY_DENY_SIGNATURE;
    }
    if (sec_audit(sec, BW_AUDIT_EV_SIGNATURE, BW_AUDIT_SUCCESS, s->user, s->address, details))
        return BW_SECURITY_DENY_AUDIT;
    return BW_SECURITY_ALLOWED;
}

/* Why approver (verified) could not make the access on their own. */
static const char *approver_refusal(struct bw_security *sec, const struct sec_user *a,
                                    const struct sec_subject *s,
                                    const struct bw_security_object *object,
                                    const struct bw_security_evidence *ev)
{
    /* The name as stored: the same account however it was typed. */
    if (strcmp(a->info.name, s->user) == 0)
        return "same user";
    if (a->info.type == BW_SECURITY_SERVICE)
        return "service account";
    /* A password an administrator set, or one past its lifetime, may be
     * known to others: it approves nothing until changed. */
    const struct bw_project_password_policy *pp = &sec->policy->password;
    if (a->info.must_change_password ||
        (pp->max_age_days && a->info.type != BW_SECURITY_DIRECTORY &&
         bw_clock_realtime_us() - a->info.password_changed_us >=
             (int64_t)pp->max_age_days * 86400 * 1000000))
        return "approver's password must be changed first";
    if (a->info.mfa_enrolled && !ev->approver_totp)
        return "second factor required";
    uint32_t perms = sec_user_permissions(sec, a);
    if ((unsigned)object->permission >= BW_PERM_COUNT_ || !(perms & (1u << object->permission)))
        return "approver lacks the permission";
    if (a->info.level < object->level)
        return "approver's level too low";
    if (!(a->info.areas & object->areas))
        return "approver lacks the area";
    return NULL;
}

/* A second, different user approves: their password (and code, when
 * they have a second factor), and rights of their own for the access. */
static enum bw_security_deny_reason approval_check(struct bw_security *sec,
                                                   const struct sec_subject *s,
                                                   const struct bw_security_object *object,
                                                   const struct bw_security_evidence *ev,
                                                   char approver[BW_SECURITY_USER_MAX + 1])
{
    const char *who = ev ? ev->approver : NULL;
    const char *failure = NULL;
    char granted_by[BW_SECURITY_USER_MAX + 1] = "";
    if (ev && ev->approval_id) {
        /* Two steps: granted earlier by another user's session. */
        if (sec_approval_take(sec, ev->approval_id, s->user, object, granted_by) == BW_OK)
            who = granted_by;
        else
            failure = "approval not granted, lapsed, or for another access";
    } else if (!who || !*who)
        failure = "no approver given";
    else if (strcmp(who, s->user) == 0)
        failure = "same user";
    else if (!ev->approver_password)
        failure = "no approver password";
    else {
        struct sec_user a;
        const char *code = "";
        int rc = sec_verify_password(sec, who, ev->approver_password, ev->approver_password_len,
                                     ev->approver_totp, s->address, &a, &code);
        if (rc == BW_EFULL)
            failure = "hashing queue full";
        else if (rc)
            failure = code && *code ? code : "refused";
        else
            failure = approver_refusal(sec, &a, s, object, ev);
        bw_crypto_wipe(&a, sizeof(a));
    }
    /* The name as typed: the trail makes any bytes safe to store. */
    const char *source = who && *who ? who : "-";
    json_t *details = json_pack("{s:s, s:s, s:s}", "object", text_or(object->name, "?"),
                                "permission", permission_text(object->permission), "user", s->user);
    if (failure) {
        json_object_set_new(details, "failure", json_string(failure));
        sec_note(sec, BW_AUDIT_EV_APPROVAL, BW_AUDIT_FAILURE, source, s->address, details);
        return BW_SECURITY_DENY_APPROVAL;
    }
    if (sec_audit(sec, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, source, s->address, details))
        return BW_SECURITY_DENY_AUDIT;
    bw_strlcpy(approver, who, BW_SECURITY_USER_MAX + 1);
    return BW_SECURITY_ALLOWED;
}

int bw_security_authorize(struct bw_security *sec, const char *token,
                          const struct bw_security_object *object,
                          const struct bw_security_evidence *evidence,
                          struct bw_security_decision *decision)
{
    memset(decision, 0, sizeof(*decision));
    decision->reason = BW_SECURITY_DENY_NO_SESSION;
    if (!object)
        return BW_EINVAL;
    struct sec_subject s;
    int lookup = sec_session_subject(sec, token, true, &s);
    enum bw_security_deny_reason r = rights_check(lookup, &s, object);
    if (r == BW_SECURITY_ALLOWED && object->needs_signature)
        r = signature_check(sec, &s, object, evidence);
    if (r == BW_SECURITY_ALLOWED && object->needs_approval)
        r = approval_check(sec, &s, object, evidence, decision->approver);
    bw_strlcpy(decision->user, s.user, sizeof(decision->user));
    decision->reason = r;
    decision->allowed = r == BW_SECURITY_ALLOWED;
    if (!decision->allowed) {
        decision->approver[0] = '\0';
        sec_note(sec, BW_AUDIT_EV_ACCESS_DENIED, BW_AUDIT_DENIED, s.user[0] ? s.user : "-",
                 s.address,
                 json_pack("{s:s, s:s, s:s}", "reason", bw_security_deny_reason_name(r), "object",
                           text_or(object->name, "?"), "permission",
                           permission_text(object->permission)));
    }
    return BW_OK;
}
