/* SPDX-License-Identifier: Apache-2.0
 *
 * The second factor (SR 1.1 RE 2/RE 3): TOTP as RFC 6238 has it (HMAC-
 * SHA-1, 6 digits, 30-second steps), one step of drift either way, and a
 * step once accepted never accepted again (a code can be used once). The
 * key is sealed with AES-256-GCM under STATE/keys/users.key, bound to the
 * user name, so a copy of users.db alone gives no codes. Any thread.
 */
#include "security/internal.h"

#include <stdio.h>
#include <string.h>

#define TOTP_KEY_LEN 20
#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS 6

bool sec_mfa_required(const struct bw_security *sec, const struct sec_user *u, bool untrusted)
{
    switch (sec->policy->mfa) {
    case BW_PROJECT_MFA_OFF:
        return false;
    case BW_PROJECT_MFA_ALWAYS:
        return true;
    case BW_PROJECT_MFA_UNTRUSTED:
        break;
    }
    /* Whoever has enrolled uses it everywhere. */
    return untrusted || u->info.mfa_enrolled;
}

static bool code_valid(const char *code)
{
    if (!code || strlen(code) != TOTP_DIGITS)
        return false;
    for (size_t i = 0; i < TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    return true;
}

static int unseal(struct bw_security *sec, const struct sec_user *u, uint8_t key[TOTP_KEY_LEN])
{
    size_t len = 0;
    int rc = bw_crypto_aead_open(sec->users_key, u->info.name, strlen(u->info.name), u->totp_sealed,
                                 u->totp_sealed_len, key, TOTP_KEY_LEN, &len);
    if (rc == BW_OK && len != TOTP_KEY_LEN)
        rc = BW_EMALFORMED;
    return rc;
}

/* The step accepted for code, or -1. Every candidate is computed and
 * compared, so the time does not say which one matched. */
static int64_t match_step(const uint8_t key[TOTP_KEY_LEN], const char *code, int64_t last_step)
{
    int64_t now_step = bw_clock_realtime_us() / 1000000 / TOTP_STEP_SECONDS;
    int64_t accepted = -1;
    for (int64_t step = now_step - 1; step <= now_step + 1; step++) {
        uint32_t value = 0;
        char text[16];
        if (step < 0 || bw_crypto_hotp(key, TOTP_KEY_LEN, (uint64_t)step, TOTP_DIGITS, &value) ||
            bw_snprintf(text, sizeof(text), "%06u", (unsigned)value))
            continue;
        bool same = bw_crypto_equal(text, code, TOTP_DIGITS);
        if (same && step > last_step && accepted < 0)
            accepted = step;
        bw_crypto_wipe(text, sizeof(text));
    }
    return accepted;
}

int sec_mfa_check(struct bw_security *sec, struct sec_user *u, const char *code)
{
    if (!code_valid(code))
        return BW_EDENIED;
    /* Check and advance under one lock: the same code used twice at once
     * must be accepted once. */
    pthread_mutex_lock(&sec->lockout_lock);
    struct sec_user fresh;
    int rc = sec_store_user_load(sec, u->info.name, &fresh);
    uint8_t key[TOTP_KEY_LEN];
    if (rc == BW_OK)
        rc = fresh.totp_sealed_len ? unseal(sec, &fresh, key) : BW_EDENIED;
    if (rc == BW_OK) {
        int64_t step = match_step(key, code, fresh.totp_last_step);
        if (step < 0) {
            rc = BW_EDENIED;
        } else {
            fresh.totp_last_step = step;
            rc = sec_store_user_update(sec, &fresh);
            if (rc == BW_OK)
                u->totp_last_step = step;
        }
    }
    pthread_mutex_unlock(&sec->lockout_lock);
    bw_crypto_wipe(key, sizeof(key));
    bw_crypto_wipe(&fresh, sizeof(fresh));
    return rc == BW_OK ? BW_OK : BW_EDENIED;
}

/* otpauth://totp/Bulwark:NAME?secret=...&issuer=Bulwark&... (user names
 * hold only characters that need no escaping). */
static int make_uri(const uint8_t key[TOTP_KEY_LEN], const char *name, char *uri, size_t size)
{
    char secret[64];
    int rc = bw_crypto_base32_encode(key, TOTP_KEY_LEN, secret, sizeof(secret));
    if (rc == BW_OK)
        rc = bw_snprintf(uri, size,
                         "otpauth://totp/Bulwark:%s?secret=%s&issuer=Bulwark&algorithm=SHA1"
                         "&digits=%d&period=%d",
                         name, secret, TOTP_DIGITS, TOTP_STEP_SECONDS);
    bw_crypto_wipe(secret, sizeof(secret));
    return rc;
}

int sec_mfa_new_key(struct bw_security *sec, struct sec_user *u, char *uri, size_t uri_size)
{
    uint8_t key[TOTP_KEY_LEN];
    int rc = bw_crypto_random(key, sizeof(key));
    if (rc == BW_OK)
        rc = bw_crypto_aead_seal(sec->users_key, u->info.name, strlen(u->info.name), key,
                                 sizeof(key), u->totp_sealed, sizeof(u->totp_sealed),
                                 &u->totp_sealed_len);
    if (rc == BW_OK)
        rc = make_uri(key, u->info.name, uri, uri_size);
    bw_crypto_wipe(key, sizeof(key));
    if (rc == BW_OK) {
        u->totp_confirmed = false;
        u->totp_last_step = 0;
        u->info.mfa_enrolled = false;
    } else {
        u->totp_sealed_len = 0;
    }
    return rc;
}
