/* SPDX-License-Identifier: Apache-2.0
 *
 * The first administrator (SR 1.5: no default passwords). While no
 * active account may manage accounts, the daemon prints a one-time
 * secret, valid for an hour, with which the first security administrator
 * is created; only its SHA-256 is kept, in memory. It is void once used,
 * after the hour, and after a few wrong tries. Any thread.
 */
#include "security/internal.h"

#include <string.h>

#define SETUP_VALID_US (3600ll * 1000000)
#define SETUP_MAX_FAILURES 5
#define SETUP_SECRET_BYTES 20 /* 32 base32 characters */

int bw_security_setup_secret_issue(struct bw_security *sec, char *secret, size_t secret_size)
{
    if (secret_size <= BW_SECURITY_SETUP_SECRET_LEN)
        return BW_EINVAL;
    bool has = false;
    int rc = sec_store_has_admin(sec, &has);
    if (rc)
        return rc;
    if (has)
        return BW_EEXIST;
    uint8_t raw[SETUP_SECRET_BYTES];
    rc = bw_crypto_random(raw, sizeof(raw));
    if (rc == BW_OK)
        rc = bw_crypto_base32_encode(raw, sizeof(raw), secret, secret_size);
    bw_crypto_wipe(raw, sizeof(raw));
    uint8_t digest[BW_SHA256_LEN];
    if (rc == BW_OK)
        rc = bw_crypto_sha256(secret, strlen(secret), digest);
    if (rc) {
        bw_crypto_wipe(secret, secret_size);
        return rc;
    }
    pthread_mutex_lock(&sec->setup_lock);
    memcpy(sec->setup_hash, digest, sizeof(digest));
    sec->setup_expires_us = bw_clock_realtime_us() + SETUP_VALID_US;
    sec->setup_failures = 0;
    pthread_mutex_unlock(&sec->setup_lock);
    bw_crypto_wipe(digest, sizeof(digest));
    return sec_audit(sec, BW_AUDIT_EV_SETUP_SECRET_ISSUED, BW_AUDIT_SUCCESS, "bulwark", NULL,
                     json_pack("{s:I}", "valid_seconds", (json_int_t)(SETUP_VALID_US / 1000000)));
}

/* Consumes the secret when it matches: true once, then never again. */
static bool secret_take(struct bw_security *sec, const char *secret)
{
    uint8_t digest[BW_SHA256_LEN];
    if (!secret || bw_crypto_sha256(secret, strlen(secret), digest) != BW_OK)
        return false;
    pthread_mutex_lock(&sec->setup_lock);
    bool live = sec->setup_expires_us > bw_clock_realtime_us();
    bool same = bw_crypto_equal(digest, sec->setup_hash, sizeof(digest));
    bool ok = live && same;
    if (ok || (live && ++sec->setup_failures >= SETUP_MAX_FAILURES)) {
        sec->setup_expires_us = 0;
        bw_crypto_wipe(sec->setup_hash, sizeof(sec->setup_hash));
    }
    pthread_mutex_unlock(&sec->setup_lock);
    bw_crypto_wipe(digest, sizeof(digest));
    return ok;
}

int bw_security_setup_admin(struct bw_security *sec, const char *secret, const char *name,
                            const char *password, size_t password_len, const char *address,
                            char *why, size_t why_size)
{
    bool has = false;
    int rc = sec_store_has_admin(sec, &has);
    if (rc)
        return rc;
    /* What can be checked before the secret is spent is checked first. */
    if (!has && !sec_user_name_valid(name)) {
        bw_strlcpy(why, "name: 1..64 letters, digits and . _ - @", why_size);
        return BW_EINVAL;
    }
    if (!has) {
        rc = sec_password_rules_check(&sec->policy->password, name, password, password_len, why,
                                      why_size);
        if (rc)
            return rc;
    }
    if (has || !secret_take(sec, secret)) {
        bw_strlcpy(why, "the setup secret is wrong, used or expired", why_size);
        sec_note(sec, BW_AUDIT_EV_SETUP_SECRET_REFUSED, BW_AUDIT_DENIED, name && *name ? name : "-",
                 address, NULL);
        return BW_EDENIED;
    }
    static const char *const roles[] = {"security-admin"};
    struct bw_security_user_change change = {
        .set_roles = true, .roles = roles, .role_count = 1, .full_name = "first administrator"};
    struct bw_security_actor actor = {.os_user = "setup secret", .address = address};
    rc = bw_security_user_add(sec, &actor, name, &change, password, password_len, why, why_size);
    if (rc)
        return rc;
    /* The administrator chose this password: no change at first login. */
    struct sec_user u;
    rc = sec_store_user_load(sec, name, &u);
    if (rc == BW_OK) {
        u.info.must_change_password = false;
        rc = sec_store_user_update(sec, &u);
    }
    bw_crypto_wipe(&u, sizeof(u));
    sec_note(sec, BW_AUDIT_EV_SETUP_ADMIN_CREATED, BW_AUDIT_SUCCESS, name, address, NULL);
    return rc;
}
