/* SPDX-License-Identifier: Apache-2.0
 *
 * Password hashes: Argon2id through libargon2, kept in the standard
 * encoded form $argon2id$v=19$m=M,t=T,p=P$salt$hash (salt and hash in
 * unpadded base64) that users.db stores. A stored hash is external input:
 * before libargon2 sees one, it is read here by a strict parser that
 * refuses anything but Argon2id version 19 and parameters above the
 * project's bounds, so that an edited users.db cannot make a login
 * allocate gigabytes or spin for minutes.
 *
 * Any thread: libargon2 keeps no state between calls. With p > 1 it
 * starts p threads of its own for the length of one call.
 */
#include "crypto/crypto.h"

#include <argon2.h>
#include <string.h>

enum {
    PWHASH_SALT_LEN = 16, /* 128 bits, as RFC 9106 section 4 recommends */
    PWHASH_HASH_LEN = 32, /* 256 bits */
};

/* The bounds of security.argon2_* in the project file (project.h). A
 * stored hash beyond them was not made by us. */
#define PWHASH_MAX_MEMORY_KIB 4194304u
#define PWHASH_MAX_ITERATIONS 100u
#define PWHASH_MAX_PARALLELISM 16u
/* libargon2 mallocs three buffers of the encoded length to decode it;
 * what we write is under BW_CRYPTO_PWHASH_MAX, this leaves room for a
 * longer salt or hash made by another tool and no more. */
#define PWHASH_MAX_ENCODED 512u

static const char pwhash_prefix[] = "$argon2id$v=19$";

/* What libargon2 accepts (m >= 8 blocks per lane) within our bounds. */
static bool params_allowed(uint64_t m, uint64_t t, uint64_t p)
{
    return p >= 1 && p <= PWHASH_MAX_PARALLELISM && t >= 1 && t <= PWHASH_MAX_ITERATIONS &&
           m >= 8 * p && m <= PWHASH_MAX_MEMORY_KIB;
}

/* Reads "<name><decimal><stop>" at *cur, leaving *cur after stop. Only
 * the canonical decimal libargon2 writes: digits, no leading zero. */
static int parse_field(const char **cur, const char *end, const char *name, char stop,
                       uint64_t *out)
{
    size_t name_len = strlen(name);
    const char *s = *cur;
    if ((size_t)(end - s) < name_len || memcmp(s, name, name_len) != 0)
        return BW_EMALFORMED;
    s += name_len;
    const char *digits = s;
    while (s < end && *s != stop)
        s++;
    size_t n = (size_t)(s - digits);
    if (s == end || (n > 1 && digits[0] == '0'))
        return BW_EMALFORMED;
    /* Anything above 32 bits is out of bounds anyway; ERANGE and
     * EMALFORMED are the same thing to a caller reading a stored hash. */
    if (bw_parse_u64(digits, n, UINT32_MAX, out) != BW_OK)
        return BW_EMALFORMED;
    *cur = s + 1;
    return BW_OK;
}

static bool is_base64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static unsigned base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a') + 26;
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0') + 52;
    return c == '+' ? 62 : 63;
}

/* Skips the unpadded base64 of at least min bytes at s, as libargon2's
 * decoder would take it: a count of characters that some bytes encode
 * to (a remainder of 1 mod 4 is none), with zero bits in the last
 * character's unused low end. Returns the end of the run, or NULL. */
static const char *skip_base64(const char *s, const char *end, size_t min)
{
    const char *start = s;
    while (s < end && is_base64(*s))
        s++;
    size_t n = (size_t)(s - start);
    static const unsigned unused_mask[4] = {0, 0, 0xf, 0x3};
    if (n == 0 || n % 4 == 1 || n * 3 / 4 < min || (base64_value(s[-1]) & unused_mask[n % 4]))
        return NULL;
    return s;
}

int bw_crypto_pwhash_params(const char *encoded, struct bw_crypto_argon2_params *out)
{
    if (!encoded || !out)
        return BW_EINVAL;
    size_t len = strnlen(encoded, PWHASH_MAX_ENCODED + 1);
    size_t prefix_len = sizeof(pwhash_prefix) - 1;
    if (len > PWHASH_MAX_ENCODED || len < prefix_len ||
        memcmp(encoded, pwhash_prefix, prefix_len) != 0)
        return BW_EMALFORMED;
    const char *cur = encoded + prefix_len, *end = encoded + len;
    uint64_t m, t, p;
    if (parse_field(&cur, end, "m=", ',', &m) != BW_OK ||
        parse_field(&cur, end, "t=", ',', &t) != BW_OK ||
        parse_field(&cur, end, "p=", '$', &p) != BW_OK || !params_allowed(m, t, p))
        return BW_EMALFORMED;
    /* The salt, '$', the hash, and nothing after. libargon2 decodes them
     * again; checking them here too means that libargon2 accepts
     * whatever this function does, so the two never disagree on what
     * is malformed. */
    cur = skip_base64(cur, end, ARGON2_MIN_SALT_LENGTH);
    if (!cur || cur == end || *cur != '$')
        return BW_EMALFORMED;
    cur = skip_base64(cur + 1, end, ARGON2_MIN_OUTLEN);
    if (cur != end)
        return BW_EMALFORMED;
    out->memory_kib = (uint32_t)m;
    out->iterations = (uint32_t)t;
    out->parallelism = (uint32_t)p;
    return BW_OK;
}

bool bw_crypto_pwhash_needs_rehash(const char *encoded, const struct bw_crypto_argon2_params *want)
{
    struct bw_crypto_argon2_params have;
    if (!want || bw_crypto_pwhash_params(encoded, &have) != BW_OK)
        return true;
    return have.memory_kib < want->memory_kib || have.iterations < want->iterations ||
           have.parallelism < want->parallelism;
}

int bw_crypto_pwhash(const struct bw_crypto_argon2_params *params, const void *password, size_t len,
                     char *out, size_t out_size)
{
    if (!out || out_size < BW_CRYPTO_PWHASH_MAX)
        return BW_EINVAL;
    out[0] = '\0';
    /* Refusing here what verify would refuse keeps us from storing a
     * hash that no password can ever match again. */
    if (!params || (!password && len) || len > ARGON2_MAX_PWD_LENGTH ||
        !params_allowed(params->memory_kib, params->iterations, params->parallelism))
        return BW_EINVAL;
    uint8_t salt[PWHASH_SALT_LEN];
    int rc = bw_crypto_random(salt, sizeof(salt));
    if (rc)
        return rc;
    /* libargon2 wipes its copy of the raw hash, and its working memory
     * while FLAG_clear_internal_memory keeps its default of 1; the
     * password stays the caller's to wipe. */
    int arc =
        argon2id_hash_encoded(params->iterations, params->memory_kib, params->parallelism, password,
                              len, salt, sizeof(salt), PWHASH_HASH_LEN, out, out_size);
    bw_crypto_wipe(salt, sizeof(salt));
    if (arc == ARGON2_OK)
        return BW_OK;
    bw_crypto_wipe(out, out_size);
    out[0] = '\0';
    /* A thread libargon2 could not start is a resource shortage too. */
    if (arc == ARGON2_MEMORY_ALLOCATION_ERROR || arc == ARGON2_THREAD_FAIL)
        return BW_ENOMEM;
    return BW_EINVAL;
}

int bw_crypto_pwhash_verify(const char *encoded, const void *password, size_t len)
{
    if (!encoded || (!password && len) || len > ARGON2_MAX_PWD_LENGTH)
        return BW_EINVAL;
    struct bw_crypto_argon2_params params;
    int rc = bw_crypto_pwhash_params(encoded, &params);
    if (rc)
        return rc;
    /* argon2id_verify compares the hashes in constant time. */
    switch (argon2id_verify(encoded, password, len)) {
    case ARGON2_OK:
        return BW_OK;
    case ARGON2_VERIFY_MISMATCH:
        return BW_EDENIED;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
        return BW_ENOMEM;
    default:
        /* Decoding errors, a salt or hash too short: the stored form is
         * wrong, whatever the password. */
        return BW_EMALFORMED;
    }
}
