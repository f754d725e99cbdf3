/* SPDX-License-Identifier: Apache-2.0
 *
 * One-time codes: HOTP (RFC 4226) over HMAC-SHA-1, which TOTP (RFC 6238)
 * is with the counter taken from the clock, and the RFC 4648 base32 in
 * which authenticator apps exchange their keys. The key and the MAC are
 * secrets: every local copy is wiped before return. Any thread.
 */
#include "crypto/crypto.h"

#include <openssl/evp.h>

enum {
    HOTP_MIN_KEY_LEN = 16, /* RFC 4226 R6: at least 128 bits */
    SHA1_LEN = 20,
};

int bw_crypto_hotp(const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits,
                   uint32_t *code)
{
    static const uint32_t modulus[] = {1000000, 10000000, 100000000};
    if (!key || key_len < HOTP_MIN_KEY_LEN || digits < 6 || digits > 8 || !code)
        return BW_EINVAL;
    uint8_t msg[8];
    for (size_t i = sizeof(msg); i-- > 0; counter >>= 8)
        msg[i] = (uint8_t)counter;
    uint8_t mac[SHA1_LEN];
    size_t mac_len = 0;
    /* A one-shot MAC: a login needs a handful, so keeping a keyed state
     * as bw_crypto_mac does would buy nothing. */
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, key, key_len, msg, sizeof(msg), mac,
                   sizeof(mac), &mac_len) ||
        mac_len != SHA1_LEN) {
        bw_crypto_wipe(mac, sizeof(mac));
        return BW_EIO;
    }
    /* Dynamic truncation (RFC 4226 section 5.3): the low nibble of the
     * last byte picks four bytes; the top bit is dropped so that the
     * value reads the same as a signed or unsigned 32-bit number. */
    unsigned offset = mac[SHA1_LEN - 1] & 0x0f;
    uint32_t bin = (uint32_t)(mac[offset] & 0x7f) << 24 | (uint32_t)mac[offset + 1] << 16 |
                   (uint32_t)mac[offset + 2] << 8 | (uint32_t)mac[offset + 3];
    *code = bin % modulus[digits - 6];
    bw_crypto_wipe(mac, sizeof(mac));
    bw_crypto_wipe(&bin, sizeof(bin));
    return BW_OK;
}

/* ---- base32 (RFC 4648 section 6) -------------------------------------- */

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int base32_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int bw_crypto_base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
    if ((!in && len) || !out)
        return BW_EINVAL;
    /* ceil(len * 8 / 5) characters and the NUL. */
    size_t bits_total, need;
    if (!bw_size_mul(len, 8, &bits_total) || !bw_size_add(bits_total / 5, 2, &need))
        return BW_ETOOLARGE;
    if (bits_total % 5 == 0)
        need--;
    if (out_size < need) {
        if (out_size)
            out[0] = '\0';
        return BW_ETOOLARGE;
    }
    /* Only the bits not yet written are kept: at most 4 + 8. */
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8 | in[i]) & 0xfffu;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = base32_alphabet[(acc >> bits) & 31];
        }
    }
    if (bits)
        out[o++] = base32_alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    bw_crypto_wipe(&acc, sizeof(acc));
    return BW_OK;
}

int bw_crypto_base32_decode(const char *in, size_t len, uint8_t *out, size_t out_size,
                            size_t *out_len)
{
    if ((!in && len) || (!out && out_size) || !out_len)
        return BW_EINVAL;
    *out_len = 0;
    unsigned acc = 0, bits = 0;
    size_t o = 0, chars = 0;
    bool padding = false;
    int rc = BW_OK;
    for (size_t i = 0; i < len && rc == BW_OK; i++) {
        /* Spaces are how keys are shown to be typed by hand, in groups;
         * '=' may only end the text. */
        if (in[i] == ' ')
            continue;
        if (in[i] == '=') {
            padding = true;
            continue;
        }
        int v = base32_value(in[i]);
        if (v < 0 || padding) {
            rc = BW_EMALFORMED;
            break;
        }
        acc = (acc << 5 | (unsigned)v) & 0x1fffu;
        bits += 5;
        chars++;
        if (bits >= 8) {
            bits -= 8;
            if (o == out_size)
                rc = BW_ETOOLARGE;
            else
                out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Eight characters carry five bytes; a group ending after 1, 3 or 6
     * characters cannot come from any input, and an encoder pads the
     * last character with zero bits. Anything else is a typo. */
    size_t rest = chars % 8;
    if (rc == BW_OK && (rest == 1 || rest == 3 || rest == 6 || (acc & ((1u << bits) - 1)) != 0))
        rc = BW_EMALFORMED;
    bw_crypto_wipe(&acc, sizeof(acc));
    if (rc) {
        bw_crypto_wipe(out, o);
        return rc;
    }
    *out_len = o;
    return BW_OK;
}
