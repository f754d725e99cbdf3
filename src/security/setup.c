/* SPDX-License-Identifier: Apache-2.0
 *
 * The first administrator (SR 1.5: no default passwords). While no
 * active account may manage accounts, the daemon prints a one-time
 * secret, valid for an hour, with which the first security administrator
 * is created; only its SHA-256 is kept, in memory. It is void once used,
 * after the hour, and after a few wrong tries; a try with the right
 * secret that fails for another reason (a taken name, a refused
 * password, a busy hashing queue, a store or trail failure) leaves it
 * good. Any thread.
 */
#include "security/internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define SETUP_VALID_US (3600ll * 1000000)
#define SETUP_MAX_FAILURES 5
#define SETUP_SECRET_BYTES 20 /* 32 base32 characters */
#define SETUP_FULL_NAME "first administrator"

/* Removes the file tied to the secret, if any. Under setup_lock. */
static void setup_file_drop(struct bw_security *sec)
{
    if (!sec->setup_file)
        return;
    if (unlink(sec->setup_file) != 0 && errno != ENOENT)
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY, "cannot remove %s; remove it by hand",
               sec->setup_file);
    bw_free(sec->setup_file);
    sec->setup_file = NULL;
}

/* Voids the secret and removes its file. Under setup_lock. */
static void setup_void(struct bw_security *sec)
{
    sec->setup_expires_us = 0;
    bw_crypto_wipe(sec->setup_hash, sizeof(sec->setup_hash));
    setup_file_drop(sec);
}

int bw_security_setup_secret_file(struct bw_security *sec, const char *path)
{
    char *copy = bw_strdup(path);
    if (!copy)
        return BW_ENOMEM;
    pthread_mutex_lock(&sec->setup_lock);
    int rc = sec->setup_expires_us > bw_clock_realtime_us() ? BW_OK : BW_ESTATE;
    if (rc == BW_OK) {
        setup_file_drop(sec);
        sec->setup_file = copy;
        copy = NULL;
    }
    pthread_mutex_unlock(&sec->setup_lock);
    bw_free(copy);
    return rc;
}

void sec_setup_tick(struct bw_security *sec)
{
    pthread_mutex_lock(&sec->setup_lock);
    if (sec->setup_expires_us && sec->setup_expires_us <= bw_clock_realtime_us())
        setup_void(sec);
    pthread_mutex_unlock(&sec->setup_lock);
}

void sec_setup_close(struct bw_security *sec)
{
    pthread_mutex_lock(&sec->setup_lock);
    setup_void(sec);
    pthread_mutex_unlock(&sec->setup_lock);
}

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
    setup_file_drop(sec); /* it held the secret this one replaces */
    memcpy(sec->setup_hash, digest, sizeof(digest));
    sec->setup_expires_us = bw_clock_realtime_us() + SETUP_VALID_US;
    sec->setup_failures = 0;
    pthread_mutex_unlock(&sec->setup_lock);
    bw_crypto_wipe(digest, sizeof(digest));
    return sec_audit(sec, BW_AUDIT_EV_SETUP_SECRET_ISSUED, BW_AUDIT_SUCCESS, "bulwark", NULL,
                     json_pack("{s:I}", "valid_seconds", (json_int_t)(SETUP_VALID_US / 1000000)));
}

/* A secret taken by a matching try, kept so that it can be put back
 * when the administrator cannot be made for a reason that is not the
 * secret's (a taken name, a busy hashing queue, the store or the trail
 * failing): a one-time secret spent on such a failure would leave no way
 * to make one. */
struct taken_secret {
    uint8_t hash[BW_SHA256_LEN];
    int64_t expires_us;
};

/* Consumes the secret when it matches: true once, then never again
 * (unless secret_restore puts it back). A wrong try counts toward the
 * few that void it. */
static bool secret_take(struct bw_security *sec, const char *secret, struct taken_secret *taken)
{
    uint8_t digest[BW_SHA256_LEN];
    if (!secret || bw_crypto_sha256(secret, strlen(secret), digest) != BW_OK)
        return false;
    pthread_mutex_lock(&sec->setup_lock);
    bool live = sec->setup_expires_us > bw_clock_realtime_us();
    bool same = bw_crypto_equal(digest, sec->setup_hash, sizeof(digest));
    bool ok = live && same;
    if (ok) {
        memcpy(taken->hash, sec->setup_hash, sizeof(taken->hash));
        taken->expires_us = sec->setup_expires_us;
    }
    if (ok) {
        /* Its file stays until the administrator exists: the secret may
         * yet be put back. */
        sec->setup_expires_us = 0;
        bw_crypto_wipe(sec->setup_hash, sizeof(sec->setup_hash));
    } else if (live && ++sec->setup_failures >= SETUP_MAX_FAILURES) {
        setup_void(sec);
    }
    pthread_mutex_unlock(&sec->setup_lock);
    bw_crypto_wipe(digest, sizeof(digest));
    return ok;
}

/* Makes a taken secret good again, with its own expiry and the wrong
 * tries counted so far, unless a new secret was issued meanwhile. */
static void secret_restore(struct bw_security *sec, struct taken_secret *taken)
{
    pthread_mutex_lock(&sec->setup_lock);
    if (sec->setup_expires_us == 0) {
        memcpy(sec->setup_hash, taken->hash, sizeof(sec->setup_hash));
        sec->setup_expires_us = taken->expires_us;
    }
    pthread_mutex_unlock(&sec->setup_lock);
    bw_crypto_wipe(taken, sizeof(*taken));
}

/* What can be judged before the secret is spent: a valid and free name
 * and a password the policy accepts. */
static int setup_precheck(struct bw_security *sec, const char *name, const char *password,
                          size_t password_len, char *why, size_t why_size)
{
    if (!sec_user_name_valid(name)) {
        bw_strlcpy(why, "name: 1..64 letters, digits and . _ - @", why_size);
        return BW_EINVAL;
    }
    struct sec_user u;
    int rc = sec_store_user_load(sec, name, &u);
    bw_crypto_wipe(&u, sizeof(u));
    if (rc == BW_OK) {
        bw_strlcpy(why, "an account with that name exists", why_size);
        return BW_EEXIST;
    }
    if (rc != BW_ENOTFOUND) {
        bw_strlcpy(why, "the account store cannot be read", why_size);
        return rc;
    }
    return sec_password_rules_check(&sec->policy->password, name, SETUP_FULL_NAME, password,
                                    password_len, why, why_size);
}

int bw_security_setup_admin(struct bw_security *sec, const char *secret, const char *name,
                            const char *password, size_t password_len, const char *address,
                            char *why, size_t why_size)
{
    bool has = false;
    int rc = sec_store_has_admin(sec, &has);
    if (rc)
        return rc;
    if (!has) {
        rc = setup_precheck(sec, name, password, password_len, why, why_size);
        if (rc)
            return rc;
    }
    struct taken_secret taken;
    if (has || !secret_take(sec, secret, &taken)) {
        bw_strlcpy(why, "the setup secret is wrong, used or expired", why_size);
        sec_note(sec, BW_AUDIT_EV_SETUP_SECRET_REFUSED, BW_AUDIT_DENIED, name && *name ? name : "-",
                 address, NULL);
        return BW_EDENIED;
    }
    static const char *const roles[] = {"security-admin"};
    struct bw_security_user_change change = {
        .set_roles = true, .roles = roles, .role_count = 1, .full_name = SETUP_FULL_NAME};
    struct bw_security_actor actor = {.os_user = "setup secret", .address = address};
    rc = bw_security_user_add(sec, &actor, name, &change, password, password_len, why, why_size);
    if (rc) {
        /* Not the secret's fault (the add recorded why): it stays good. */
        secret_restore(sec, &taken);
        return rc;
    }
    bw_crypto_wipe(&taken, sizeof(taken));
    pthread_mutex_lock(&sec->setup_lock);
    if (sec->setup_expires_us == 0)
        setup_file_drop(sec); /* used: no newer secret was issued */
    pthread_mutex_unlock(&sec->setup_lock);
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
