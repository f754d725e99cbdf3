/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for stored password hashes: a users.db row is outside
 * input once someone can edit the file. Feeds each input, as an encoded
 * hash, to bw_crypto_pwhash_params() and bw_crypto_pwhash_verify(), the
 * calls a login makes, and checks that they agree: what the parser
 * refuses, verify refuses as malformed, and a password never matches a
 * hash the parser refused. Verify runs only for small parameters (the
 * parser's bounds allow 4 GiB, which a fuzzer must not allocate per
 * input). Seeds in tests/fuzz/corpus/pwhash/, dictionary in
 * tests/fuzz/pwhash.dict.
 */
#include "crypto/crypto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    char *encoded = bw_strndup((const char *)data, size);
    if (!encoded)
        return 0;
    struct bw_crypto_argon2_params params;
    int parsed = bw_crypto_pwhash_params(encoded, &params);
    if (parsed == BW_OK) {
        if (params.memory_kib > 4194304 || params.iterations > 100 || params.parallelism > 16)
            abort();
        if (params.memory_kib <= 64 && params.iterations <= 2) {
            int rc = bw_crypto_pwhash_verify(encoded, "password", 8);
            if (rc != BW_OK && rc != BW_EDENIED && rc != BW_EMALFORMED && rc != BW_ENOMEM)
                abort();
        }
    } else {
        if (parsed != BW_EMALFORMED)
            abort();
        if (bw_crypto_pwhash_verify(encoded, "password", 8) == BW_OK)
            abort();
    }
    struct bw_crypto_argon2_params want = {19456, 2, 1};
    (void)bw_crypto_pwhash_needs_rehash(encoded, &want);
    bw_free(encoded);
    return 0;
}
