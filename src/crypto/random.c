/* SPDX-License-Identifier: Apache-2.0
 *
 * Random bytes, constant-time comparison, wiping and hex. Any thread.
 */
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

int bw_crypto_random(void *buf, size_t len)
{
    /* RAND_priv_bytes: the generator OpenSSL keeps apart for secrets. */
    while (len > 0) {
        int chunk = len > 1u << 20 ? 1 << 20 : (int)len;
        if (RAND_priv_bytes(buf, chunk) != 1)
            return BW_EIO;
        buf = (char *)buf + chunk;
        len -= (size_t)chunk;
    }
    return BW_OK;
}

bool bw_crypto_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void bw_crypto_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

void bw_crypto_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int bw_crypto_unhex(const char *hex, size_t hex_len, uint8_t *out, size_t len)
{
    if (hex_len != 2 * len)
        return BW_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return BW_EMALFORMED;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return BW_OK;
}
