/* SPDX-License-Identifier: Apache-2.0
 *
 * Authenticated encryption: AES-256-GCM through OpenSSL's EVP, in one
 * self-contained layout, nonce || ciphertext || tag, so that what is
 * stored carries everything but the key. Nonces are random (96 bits):
 * under one key, stay well below 2^32 seals (NIST SP 800-38D 8.3).
 * The cipher is fetched from the default provider once per process; a
 * context is made per call. Any thread.
 */
#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

/* EVP takes int lengths. */
#define AEAD_CHUNK (1u << 30)
/* GCM's bound on one message: 2^39 - 256 bits. */
#define AEAD_MAX_PLAIN ((UINT64_C(1) << 36) - 32)

static EVP_CIPHER *gcm_cipher;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_fetch(void)
{
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

/* Starts an encryption (enc 1) or decryption (enc 0) under key and nonce
 * and feeds it the additional data. */
static int gcm_start(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key, const uint8_t *nonce,
                     const uint8_t *aad, size_t aad_len)
{
    pthread_once(&gcm_once, gcm_fetch);
    if (!gcm_cipher || EVP_CipherInit_ex2(ctx, gcm_cipher, key, nonce, enc, NULL) != 1)
        return BW_EIO;
    while (aad_len > 0) {
        int n = aad_len > AEAD_CHUNK ? (int)AEAD_CHUNK : (int)aad_len, got;
        if (EVP_CipherUpdate(ctx, NULL, &got, aad, n) != 1)
            return BW_EIO;
        aad += n;
        aad_len -= (size_t)n;
    }
    return BW_OK;
}

/* GCM is a stream: each update writes as many bytes as it reads. */
static int gcm_update(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len, uint8_t *out)
{
    while (len > 0) {
        int n = len > AEAD_CHUNK ? (int)AEAD_CHUNK : (int)len, got = 0;
        if (EVP_CipherUpdate(ctx, out, &got, in, n) != 1 || got != n)
            return BW_EIO;
        in += n;
        out += n;
        len -= (size_t)n;
    }
    return BW_OK;
}

int bw_crypto_aead_seal(const uint8_t key[BW_CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aad_len,
                        const void *plain, size_t len, uint8_t *out, size_t out_size,
                        size_t *out_len)
{
    if (!key || (!aad && aad_len) || (!plain && len) || !out || !out_len)
        return BW_EINVAL;
    *out_len = 0;
    size_t need;
    if ((uint64_t)len > AEAD_MAX_PLAIN || !bw_size_add(len, BW_CRYPTO_AEAD_OVERHEAD, &need) ||
        out_size < need)
        return BW_ETOOLARGE;
    uint8_t *nonce = out, *cipher = out + BW_CRYPTO_AEAD_NONCE_LEN, *tag = cipher + len;
    int rc = bw_crypto_random(nonce, BW_CRYPTO_AEAD_NONCE_LEN);
    if (rc)
        return rc;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return BW_ENOMEM;
    uint8_t scratch[16];
    int got = 0;
    rc = gcm_start(ctx, 1, key, nonce, aad, aad_len);
    if (rc == BW_OK)
        rc = gcm_update(ctx, plain, len, cipher);
    if (rc == BW_OK &&
        (EVP_CipherFinal_ex(ctx, scratch, &got) != 1 ||
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, BW_CRYPTO_AEAD_TAG_LEN, tag) != 1))
        rc = BW_EIO;
    /* Freeing the context wipes the expanded key. */
    EVP_CIPHER_CTX_free(ctx);
    if (rc) {
        /* Half a result must not look like one. */
        memset(out, 0, need);
        return rc;
    }
    *out_len = need;
    return BW_OK;
}

int bw_crypto_aead_open(const uint8_t key[BW_CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aad_len,
                        const uint8_t *in, size_t len, uint8_t *out, size_t out_size,
                        size_t *out_len)
{
    if (!key || (!aad && aad_len) || !in || !out_len)
        return BW_EINVAL;
    *out_len = 0;
    if (len < BW_CRYPTO_AEAD_OVERHEAD)
        return BW_EMALFORMED;
    size_t plain_len = len - BW_CRYPTO_AEAD_OVERHEAD;
    if (out_size < plain_len)
        return BW_ETOOLARGE;
    if (!out && plain_len)
        return BW_EINVAL;
    if ((uint64_t)plain_len > AEAD_MAX_PLAIN)
        return BW_EDENIED; /* no seal made it, so no tag can hold */
    const uint8_t *nonce = in, *cipher = in + BW_CRYPTO_AEAD_NONCE_LEN;
    /* The control call takes a non-const pointer. */
    uint8_t tag[BW_CRYPTO_AEAD_TAG_LEN], scratch[16];
    memcpy(tag, cipher + plain_len, sizeof(tag));
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return BW_ENOMEM;
    int got = 0;
    int rc = gcm_start(ctx, 0, key, nonce, aad, aad_len);
    if (rc == BW_OK)
        rc = gcm_update(ctx, cipher, plain_len, out);
    if (rc == BW_OK && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)sizeof(tag), tag) != 1)
        rc = BW_EIO;
    /* The final step is where the tag is checked: failing there means
     * the key, the additional data or a byte is not what was sealed. */
    if (rc == BW_OK && EVP_CipherFinal_ex(ctx, scratch, &got) != 1)
        rc = BW_EDENIED;
    EVP_CIPHER_CTX_free(ctx);
    if (rc) {
        /* Decryption ran before the tag was checked: what it wrote is
         * unauthenticated and must not be read. */
        bw_crypto_wipe(out, plain_len);
        return rc;
    }
    *out_len = plain_len;
    return BW_OK;
}
