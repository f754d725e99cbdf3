/* SPDX-License-Identifier: Apache-2.0
 *
 * A user changing their own password (SR 1.5): the old one re-entered
 * (a wrong one counts as a failed login), the minimum lifetime, the
 * rules and the history; afterwards every other session of the user
 * ends. Any thread except the engine's.
 */
#include "security/internal.h"

#include <stdio.h>
#include <string.h>

static int refused(struct bw_security *sec, const struct sec_subject *s, const char *reason, int rc,
                   char *why, size_t why_size)
{
    if (why != reason)
        bw_strlcpy(why, reason, why_size);
    sec_note(sec, BW_AUDIT_EV_PASSWORD_CHANGE_REFUSED, BW_AUDIT_FAILURE, s->user, s->address,
             json_pack("{s:s}", "reason", reason));
    return rc;
}

int bw_security_password_change(struct bw_security *sec, const char *token,
                                const char *old_password, size_t old_len, const char *new_password,
                                size_t new_len, char *why, size_t why_size)
{
    struct sec_subject s;
    int rc = token ? sec_session_subject(sec, token, true, &s) : BW_ENOTFOUND;
    if (rc) {
        bw_strlcpy(why, rc == BW_ESTATE ? "the session is locked" : "not signed in", why_size);
        return rc == BW_ESTATE ? BW_ESTATE : BW_EDENIED;
    }
    struct sec_user u;
    const char *code = "";
    rc = sec_verify_reentry(sec, s.user, old_password, old_len, s.address, &u, &code);
    if (rc == BW_EFULL)
        return refused(sec, &s, "busy: try again", BW_EFULL, why, why_size);
    if (rc)
        return refused(sec, &s, "the current password is wrong", BW_EDENIED, why, why_size);
    if (u.info.type == BW_SECURITY_DIRECTORY) {
        bw_crypto_wipe(&u, sizeof(u));
        return refused(sec, &s, "the directory keeps this account's password", BW_EINVAL, why,
                       why_size);
    }
    const struct bw_project_password_policy *pp = &sec->policy->password;
    int64_t age = bw_clock_realtime_us() - u.info.password_changed_us;
    if (!u.info.must_change_password && pp->min_age_hours &&
        age < (int64_t)pp->min_age_hours * 3600 * 1000000) {
        char text[128];
        if (bw_snprintf(text, sizeof(text),
                        "the password was changed less than %u hours ago; it cannot change yet",
                        pp->min_age_hours))
            bw_strlcpy(text, "the password cannot change yet", sizeof(text));
        bw_crypto_wipe(&u, sizeof(u));
        return refused(sec, &s, text, BW_ERANGE, why, why_size);
    }
    char hash[BW_CRYPTO_PWHASH_MAX];
    rc = sec_password_accept(sec, &u, new_password, new_len, hash, why, why_size);
    if (rc == BW_OK)
        rc = sec_password_store(sec, &u, hash, false);
    bw_crypto_wipe(hash, sizeof(hash));
    bw_crypto_wipe(&u, sizeof(u));
    if (rc)
        return refused(sec, &s, rc == BW_EIO ? "the account store cannot be written" : why, rc, why,
                       why_size);
    (void)sec_sessions_end_user(sec, s.user, "password changed", token);
    sec_session_password_changed(sec, token);
    sec_note(sec, BW_AUDIT_EV_PASSWORD_CHANGED, BW_AUDIT_SUCCESS, s.user, s.address, NULL);
    return BW_OK;
}
