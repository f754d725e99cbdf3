/* SPDX-License-Identifier: Apache-2.0
 *
 * crypto: thin wrappers over OpenSSL 3 and libargon2 for what the rest
 * of Bulwark needs: random bytes from the OS CSPRNG, SHA-256, HMAC-SHA256
 * with a key set once, Ed25519 signing and verification, constant-time
 * comparison, wiping, hex, secret files (mode 0600, never followed
 * through a symbolic link), Argon2id password hashes (pwhash.c), HOTP
 * and base32 for TOTP (totp.c) and AES-256-GCM (aead.c). No function
 * here logs; errors are returned.
 *
 * Objects (struct bw_crypto_mac, struct bw_crypto_signer) are not shared
 * between threads: each thread that needs one makes its own. The free
 * functions are thread-safe.
 */
#ifndef BW_CRYPTO_H
#define BW_CRYPTO_H

#include "base/base.h"

#define BW_SHA256_LEN 32
#define BW_ED25519_KEY_LEN 32
#define BW_ED25519_SIG_LEN 64

/* Fills buf with len bytes from the OS CSPRNG. BW_EIO when it fails. */
BW_MUST_CHECK int bw_crypto_random(void *buf, size_t len);

/* SHA-256 of len bytes. BW_EIO if OpenSSL fails (it does not in practice,
 * but callers must not treat a failure as a hash). */
BW_MUST_CHECK int bw_crypto_sha256(const void *data, size_t len, uint8_t out[BW_SHA256_LEN]);

/* Incremental SHA-256 for files and streams. */
struct bw_crypto_sha256_ctx;
BW_MUST_CHECK int bw_crypto_sha256_new(struct bw_crypto_sha256_ctx **out);
BW_MUST_CHECK int bw_crypto_sha256_update(struct bw_crypto_sha256_ctx *ctx, const void *data,
                                          size_t len);
/* Writes the digest and resets ctx for a new message. */
BW_MUST_CHECK int bw_crypto_sha256_final(struct bw_crypto_sha256_ctx *ctx,
                                         uint8_t out[BW_SHA256_LEN]);
void bw_crypto_sha256_free(struct bw_crypto_sha256_ctx *ctx);

/* HMAC-SHA256 under a key given once (copied; the copy is wiped on free).
 * Computing a MAC reuses the keyed state, so it costs two compressions
 * plus the message. */
struct bw_crypto_mac;
BW_MUST_CHECK int bw_crypto_mac_new(const void *key, size_t key_len, struct bw_crypto_mac **out);
BW_MUST_CHECK int bw_crypto_mac_compute(struct bw_crypto_mac *mac, const void *data, size_t len,
                                        uint8_t out[BW_SHA256_LEN]);
void bw_crypto_mac_free(struct bw_crypto_mac *mac);

/* An Ed25519 private key. */
struct bw_crypto_signer;
BW_MUST_CHECK int bw_crypto_signer_generate(struct bw_crypto_signer **out);
/* From the 32-byte private seed (copied). BW_EINVAL on a bad length. */
BW_MUST_CHECK int bw_crypto_signer_from_seed(const uint8_t *seed, size_t len,
                                             struct bw_crypto_signer **out);
/* Writes the 32-byte seed into out (a secret: wipe it after use). */
BW_MUST_CHECK int bw_crypto_signer_seed(const struct bw_crypto_signer *signer,
                                        uint8_t out[BW_ED25519_KEY_LEN]);
BW_MUST_CHECK int bw_crypto_signer_public(const struct bw_crypto_signer *signer,
                                          uint8_t out[BW_ED25519_KEY_LEN]);
BW_MUST_CHECK int bw_crypto_sign(struct bw_crypto_signer *signer, const void *msg, size_t len,
                                 uint8_t sig[BW_ED25519_SIG_LEN]);
void bw_crypto_signer_free(struct bw_crypto_signer *signer);

/* BW_OK when sig is a valid Ed25519 signature of msg under public_key,
 * BW_EDENIED when it is not, BW_EIO when OpenSSL fails. */
BW_MUST_CHECK int bw_crypto_verify(const uint8_t public_key[BW_ED25519_KEY_LEN], const void *msg,
                                   size_t len, const uint8_t sig[BW_ED25519_SIG_LEN]);

/* Constant-time comparison of two secrets of the same length. */
bool bw_crypto_equal(const void *a, const void *b, size_t len);
/* Overwrites len bytes in a way the compiler keeps. */
void bw_crypto_wipe(void *p, size_t len);

/* Lower-case hex of len bytes into out, which must hold 2*len+1 bytes. */
void bw_crypto_hex(const uint8_t *in, size_t len, char *out);
/* Parses exactly 2*len hex digits into out. BW_EMALFORMED otherwise. */
BW_MUST_CHECK int bw_crypto_unhex(const char *hex, size_t hex_len, uint8_t *out, size_t len);

/* Creates path (which must not exist) holding len bytes, mode 0600,
 * synced to disk with its directory. BW_EEXIST when it exists, BW_EIO on
 * any other failure. */
BW_MUST_CHECK int bw_crypto_secret_file_create(const char *path, const void *data, size_t len);
/* Reads a secret file of exactly len bytes. Refuses (BW_EDENIED) a file
 * that group or others may read or write, or that is a symbolic link;
 * BW_ENOTFOUND when missing, BW_EMALFORMED when the size differs, BW_EIO
 * otherwise. */
BW_MUST_CHECK int bw_crypto_secret_file_load(const char *path, void *out, size_t len);

/* ---- password hashing (Argon2id, libargon2) ------------------------------ */

struct bw_crypto_argon2_params {
    uint32_t memory_kib;  /* m */
    uint32_t iterations;  /* t */
    uint32_t parallelism; /* p */
};
/* The standard encoded form ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
 * of a 128-bit salt and a 256-bit hash fits in this many bytes, NUL
 * included, for any parameters the project allows. */
#define BW_CRYPTO_PWHASH_MAX 160

/* Hashes a password with Argon2id and a fresh random 128-bit salt into
 * the encoded form (out, out_size >= BW_CRYPTO_PWHASH_MAX), a 256-bit
 * hash. BW_EINVAL for parameters libargon2 refuses or beyond the
 * project's bounds (m <= 4194304 KiB, t <= 100, p <= 16: what
 * bw_crypto_pwhash_verify() would refuse), a NULL argument or a smaller
 * out; BW_ENOMEM when libargon2 cannot get its memory or threads,
 * BW_EIO when randomness fails. On failure out holds "". password
 * (len bytes, may hold NUL) is borrowed; wiping it is the caller's.
 * Any thread; uses params->memory_kib of memory while it runs. */
BW_MUST_CHECK int bw_crypto_pwhash(const struct bw_crypto_argon2_params *params,
                                   const void *password, size_t len, char *out, size_t out_size);
/* Checks a password against an encoded hash, in time that does not
 * depend on where they differ. BW_OK when it matches, BW_EDENIED when it
 * does not, BW_EMALFORMED when encoded is not an Argon2id hash that
 * bw_crypto_pwhash_params() accepts (so parameters beyond the bounds
 * above are refused before any memory is taken), BW_ENOMEM, BW_EINVAL
 * for a NULL encoded or password (with len > 0). Any thread. */
BW_MUST_CHECK int bw_crypto_pwhash_verify(const char *encoded, const void *password, size_t len);
/* Reads the parameters an encoded hash was made with. Strict: exactly
 * $argon2id$v=19$m=M,t=T,p=P$salt$hash with canonical decimals, M, T, P
 * within what libargon2 takes and the bounds above, a salt of at least
 * 8 and a hash of at least 4 bytes in unpadded base64, at most 512
 * characters in all; BW_EMALFORMED otherwise, BW_EINVAL for NULL. */
BW_MUST_CHECK int bw_crypto_pwhash_params(const char *encoded, struct bw_crypto_argon2_params *out);
/* True when encoded was made with weaker parameters than want (any of
 * m, t, p lower) or is not an Argon2id hash bw_crypto_pwhash_params()
 * reads: rehash at the next login. */
bool bw_crypto_pwhash_needs_rehash(const char *encoded, const struct bw_crypto_argon2_params *want);

/* ---- one-time codes (RFC 4226 HOTP, RFC 6238 TOTP; HMAC-SHA-1) --------- */

/* The HOTP value of counter under key, digits 6..8 (TOTP: counter =
 * Unix time / period). BW_EINVAL for other digit counts, a NULL pointer
 * or a key under the 128 bits RFC 4226 requires; BW_EIO when OpenSSL
 * fails. key is borrowed. Any thread. */
BW_MUST_CHECK int bw_crypto_hotp(const uint8_t *key, size_t key_len, uint64_t counter,
                                 unsigned digits, uint32_t *code);
/* RFC 4648 base32 (upper case, no padding) of len bytes into out
 * (out_size >= ceil(len*8/5)+1). BW_ETOOLARGE when out is too small. */
BW_MUST_CHECK int bw_crypto_base32_encode(const uint8_t *in, size_t len, char *out,
                                          size_t out_size);
/* Decodes base32 (case-insensitive, '=' padding and spaces ignored) into
 * out; *out_len bytes. BW_EMALFORMED for a character outside the
 * alphabet, one after '=', a length no bytes encode to or non-zero
 * padding bits; BW_ETOOLARGE when out is too small; BW_EINVAL for NULL.
 * On failure *out_len is 0 and what was written is wiped. */
BW_MUST_CHECK int bw_crypto_base32_decode(const char *in, size_t len, uint8_t *out, size_t out_size,
                                          size_t *out_len);

/* ---- authenticated encryption (AES-256-GCM) ------------------------------ */

#define BW_CRYPTO_AEAD_KEY_LEN 32
#define BW_CRYPTO_AEAD_NONCE_LEN 12
#define BW_CRYPTO_AEAD_TAG_LEN 16
#define BW_CRYPTO_AEAD_OVERHEAD (BW_CRYPTO_AEAD_NONCE_LEN + BW_CRYPTO_AEAD_TAG_LEN)

/* Encrypts len bytes under key with a fresh random nonce, binding aad
 * (may be NULL with aad_len 0): out receives nonce || ciphertext || tag,
 * len + BW_CRYPTO_AEAD_OVERHEAD bytes (out_size must allow it, else
 * BW_ETOOLARGE). BW_EIO when OpenSSL or randomness fails, BW_EINVAL for
 * a NULL pointer with a non-zero length. Random nonces: keep a key to
 * well under 2^32 seals. out must not overlap plain. Any thread. */
BW_MUST_CHECK int bw_crypto_aead_seal(const uint8_t key[BW_CRYPTO_AEAD_KEY_LEN], const void *aad,
                                      size_t aad_len, const void *plain, size_t len, uint8_t *out,
                                      size_t out_size, size_t *out_len);
/* Decrypts what seal made into out (len - BW_CRYPTO_AEAD_OVERHEAD
 * bytes). BW_EDENIED when the tag does not hold (wrong key, aad or a
 * changed byte; what was decrypted is wiped), BW_EMALFORMED when in is
 * shorter than nonce and tag, BW_ETOOLARGE when out is too small,
 * BW_EIO, BW_EINVAL as for seal. *out_len is 0 on failure. */
BW_MUST_CHECK int bw_crypto_aead_open(const uint8_t key[BW_CRYPTO_AEAD_KEY_LEN], const void *aad,
                                      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                                      size_t out_size, size_t *out_len);

#endif
