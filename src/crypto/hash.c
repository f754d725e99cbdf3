/* SPDX-License-Identifier: Apache-2.0
 *
 * SHA-256 and HMAC-SHA256. The digest is fetched from the default
 * provider once per process; a MAC object keeps the keyed inner and outer
 * states so each MAC is a state copy plus the message, which is what
 * lets `audit verify` check hundreds of thousands of records a second.
 */
#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md;
}

int bw_crypto_sha256(const void *data, size_t len, uint8_t out[BW_SHA256_LEN])
{
    const EVP_MD *md = sha256();
    if (!md || EVP_Digest(data, len, out, NULL, md, NULL) != 1)
        return BW_EIO;
    return BW_OK;
}

struct bw_crypto_sha256_ctx {
    EVP_MD_CTX *md_ctx;
};

int bw_crypto_sha256_new(struct bw_crypto_sha256_ctx **out)
{
    *out = NULL;
    const EVP_MD *md = sha256();
    if (!md)
        return BW_EIO;
    struct bw_crypto_sha256_ctx *ctx = bw_calloc(1, sizeof(*ctx));
    if (!ctx)
        return BW_ENOMEM;
    ctx->md_ctx = EVP_MD_CTX_new();
    if (!ctx->md_ctx || EVP_DigestInit_ex(ctx->md_ctx, md, NULL) != 1) {
        bw_crypto_sha256_free(ctx);
        return BW_EIO;
    }
    *out = ctx;
    return BW_OK;
}

int bw_crypto_sha256_update(struct bw_crypto_sha256_ctx *ctx, const void *data, size_t len)
{
    return EVP_DigestUpdate(ctx->md_ctx, data, len) == 1 ? BW_OK : BW_EIO;
}

int bw_crypto_sha256_final(struct bw_crypto_sha256_ctx *ctx, uint8_t out[BW_SHA256_LEN])
{
    if (EVP_DigestFinal_ex(ctx->md_ctx, out, NULL) != 1)
        return BW_EIO;
    return EVP_DigestInit_ex(ctx->md_ctx, sha256(), NULL) == 1 ? BW_OK : BW_EIO;
}

void bw_crypto_sha256_free(struct bw_crypto_sha256_ctx *ctx)
{
    if (!ctx)
        return;
    EVP_MD_CTX_free(ctx->md_ctx);
    bw_free(ctx);
}

/* ---- HMAC (RFC 2104) over the keyed states ---------------------------- */

enum { SHA256_BLOCK = 64 };

struct bw_crypto_mac {
    EVP_MD_CTX *inner; /* state after hashing key ^ ipad */
    EVP_MD_CTX *outer; /* state after hashing key ^ opad */
    EVP_MD_CTX *work;
};

void bw_crypto_mac_free(struct bw_crypto_mac *mac)
{
    if (!mac)
        return;
    /* EVP_MD_CTX_free cleanses the digest state, which holds the key. */
    EVP_MD_CTX_free(mac->inner);
    EVP_MD_CTX_free(mac->outer);
    EVP_MD_CTX_free(mac->work);
    bw_free(mac);
}

int bw_crypto_mac_new(const void *key, size_t key_len, struct bw_crypto_mac **out)
{
    *out = NULL;
    const EVP_MD *md = sha256();
    if (!md)
        return BW_EIO;
    struct bw_crypto_mac *mac = bw_calloc(1, sizeof(*mac));
    if (!mac)
        return BW_ENOMEM;
    mac->inner = EVP_MD_CTX_new();
    mac->outer = EVP_MD_CTX_new();
    mac->work = EVP_MD_CTX_new();
    int rc = BW_EIO;
    uint8_t block[SHA256_BLOCK] = {0};
    uint8_t pad[SHA256_BLOCK];
    if (!mac->inner || !mac->outer || !mac->work)
        goto fail;
    if (key_len > SHA256_BLOCK) {
        if (bw_crypto_sha256(key, key_len, block) != BW_OK)
            goto fail;
    } else {
        memcpy(block, key, key_len);
    }
    for (size_t i = 0; i < SHA256_BLOCK; i++)
        pad[i] = block[i] ^ 0x36;
    if (EVP_DigestInit_ex(mac->inner, md, NULL) != 1 ||
        EVP_DigestUpdate(mac->inner, pad, SHA256_BLOCK) != 1)
        goto fail;
    for (size_t i = 0; i < SHA256_BLOCK; i++)
        pad[i] = block[i] ^ 0x5c;
    if (EVP_DigestInit_ex(mac->outer, md, NULL) != 1 ||
        EVP_DigestUpdate(mac->outer, pad, SHA256_BLOCK) != 1)
        goto fail;
    rc = BW_OK;
    *out = mac;
fail:
    bw_crypto_wipe(block, sizeof(block));
    bw_crypto_wipe(pad, sizeof(pad));
    if (rc)
        bw_crypto_mac_free(mac);
    return rc;
}

int bw_crypto_mac_compute(struct bw_crypto_mac *mac, const void *data, size_t len,
                          uint8_t out[BW_SHA256_LEN])
{
    uint8_t inner_digest[BW_SHA256_LEN];
    if (EVP_MD_CTX_copy_ex(mac->work, mac->inner) != 1 ||
        EVP_DigestUpdate(mac->work, data, len) != 1 ||
        EVP_DigestFinal_ex(mac->work, inner_digest, NULL) != 1)
        return BW_EIO;
    if (EVP_MD_CTX_copy_ex(mac->work, mac->outer) != 1 ||
        EVP_DigestUpdate(mac->work, inner_digest, sizeof(inner_digest)) != 1 ||
        EVP_DigestFinal_ex(mac->work, out, NULL) != 1)
        return BW_EIO;
    return BW_OK;
}
