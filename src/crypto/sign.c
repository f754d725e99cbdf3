/* SPDX-License-Identifier: Apache-2.0
 *
 * Ed25519 signatures (RFC 8032) through OpenSSL's EVP_PKEY. Any thread;
 * one signer object per thread.
 */
#include "crypto/crypto.h"

#include <openssl/evp.h>

struct bw_crypto_signer {
    EVP_PKEY *pkey;
    EVP_MD_CTX *md_ctx;
};

void bw_crypto_signer_free(struct bw_crypto_signer *signer)
{
    if (!signer)
        return;
    EVP_MD_CTX_free(signer->md_ctx);
    EVP_PKEY_free(signer->pkey);
    bw_free(signer);
}

static int signer_wrap(EVP_PKEY *pkey, struct bw_crypto_signer **out)
{
    struct bw_crypto_signer *signer = bw_calloc(1, sizeof(*signer));
    if (!signer) {
        EVP_PKEY_free(pkey);
        return BW_ENOMEM;
    }
    signer->pkey = pkey;
    signer->md_ctx = EVP_MD_CTX_new();
    if (!signer->md_ctx) {
        bw_crypto_signer_free(signer);
        return BW_ENOMEM;
    }
    *out = signer;
    return BW_OK;
}

int bw_crypto_signer_generate(struct bw_crypto_signer **out)
{
    *out = NULL;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey)
        return BW_EIO;
    return signer_wrap(pkey, out);
}

int bw_crypto_signer_from_seed(const uint8_t *seed, size_t len, struct bw_crypto_signer **out)
{
    *out = NULL;
    if (len != BW_ED25519_KEY_LEN)
        return BW_EINVAL;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, len);
    if (!pkey)
        return BW_EIO;
    return signer_wrap(pkey, out);
}

int bw_crypto_signer_seed(const struct bw_crypto_signer *signer, uint8_t out[BW_ED25519_KEY_LEN])
{
    size_t len = BW_ED25519_KEY_LEN;
    if (EVP_PKEY_get_raw_private_key(signer->pkey, out, &len) != 1 || len != BW_ED25519_KEY_LEN)
        return BW_EIO;
    return BW_OK;
}

int bw_crypto_signer_public(const struct bw_crypto_signer *signer, uint8_t out[BW_ED25519_KEY_LEN])
{
    size_t len = BW_ED25519_KEY_LEN;
    if (EVP_PKEY_get_raw_public_key(signer->pkey, out, &len) != 1 || len != BW_ED25519_KEY_LEN)
        return BW_EIO;
    return BW_OK;
}

int bw_crypto_sign(struct bw_crypto_signer *signer, const void *msg, size_t len,
                   uint8_t sig[BW_ED25519_SIG_LEN])
{
    size_t sig_len = BW_ED25519_SIG_LEN;
    /* Ed25519 hashes internally: no digest is named. */
    if (EVP_DigestSignInit(signer->md_ctx, NULL, NULL, NULL, signer->pkey) != 1 ||
        EVP_DigestSign(signer->md_ctx, sig, &sig_len, msg, len) != 1 ||
        sig_len != BW_ED25519_SIG_LEN)
        return BW_EIO;
    return BW_OK;
}

int bw_crypto_verify(const uint8_t public_key[BW_ED25519_KEY_LEN], const void *msg, size_t len,
                     const uint8_t sig[BW_ED25519_SIG_LEN])
{
    EVP_PKEY *pkey =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, BW_ED25519_KEY_LEN);
    if (!pkey)
        return BW_EDENIED; /* not a point on the curve: no signature can hold */
    EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
    int rc = BW_EIO;
    if (md_ctx && EVP_DigestVerifyInit(md_ctx, NULL, NULL, NULL, pkey) == 1) {
        int ok = EVP_DigestVerify(md_ctx, sig, BW_ED25519_SIG_LEN, msg, len);
        rc = ok == 1 ? BW_OK : BW_EDENIED;
    }
    EVP_MD_CTX_free(md_ctx);
    EVP_PKEY_free(pkey);
    return rc;
}
