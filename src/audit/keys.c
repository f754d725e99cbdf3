/* SPDX-License-Identifier: Apache-2.0
 *
 * The audit trail's keys in STATE/keys/ (mode 0700): the 256-bit MAC key
 * (audit-mac.key) and the Ed25519 signing key's seed (audit-sign.key),
 * both secret files of mode 0600, and the public key (audit-sign.pub,
 * 0644) that lets anyone check a checkpoint or an exported segment.
 * Missing keys are made on first use; a key that others can read, or
 * that is a symbolic link, is never trusted. The public key's
 * fingerprint (SHA-256) is what an auditor pins to notice keys that were
 * replaced together with a re-signed trail. Main thread, or any thread
 * of a tool that only verifies.
 */
#include "audit/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(BW_AUDIT_PUBLIC_KEY_LEN == BW_ED25519_KEY_LEN, "the public key is Ed25519's");

/* Makes STATE/keys with mode 0700; refuses one that others may enter. */
static int keys_dir(const char *state_dir, bool create, char *out)
{
    int rc = audit_path(out, state_dir, BW_AUDIT_KEYS_DIR);
    if (rc)
        return rc;
    if (create && mkdir(out, 0700) != 0 && errno != EEXIST)
        return BW_EIO;
    struct stat st;
    if (lstat(out, &st) != 0)
        return errno == ENOENT ? BW_ENOTFOUND : BW_EIO;
    if (!S_ISDIR(st.st_mode))
        return BW_EDENIED;
    if (st.st_mode & 077)
        return BW_EDENIED;
    return BW_OK;
}

static int join(char *out, const char *dir, const char *name)
{
    return audit_path(out, dir, name);
}

/* Writes the public key as a file others may read (it is no secret). */
static int write_public(const char *path, const uint8_t pub[BW_ED25519_KEY_LEN])
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? BW_EEXIST : BW_EIO;
    ssize_t n = write(fd, pub, BW_ED25519_KEY_LEN);
    int rc = n == BW_ED25519_KEY_LEN && fsync(fd) == 0 ? BW_OK : BW_EIO;
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

static int read_public(const char *path, uint8_t pub[BW_ED25519_KEY_LEN])
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? BW_ENOTFOUND : errno == ELOOP ? BW_EDENIED : BW_EIO;
    struct stat st;
    int rc = BW_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != BW_ED25519_KEY_LEN)
        rc = BW_EMALFORMED;
    else if (st.st_mode & 022)
        rc = BW_EDENIED; /* someone else could have replaced it */
    else if (read(fd, pub, BW_ED25519_KEY_LEN) != BW_ED25519_KEY_LEN)
        rc = BW_EIO;
    close(fd);
    return rc;
}

static int load_mac_key(const char *dir, bool create, struct audit_keys *keys)
{
    char path[BW_AUDIT_PATH_MAX];
    int rc = join(path, dir, BW_AUDIT_MAC_KEY_NAME);
    if (rc)
        return rc;
    rc = bw_crypto_secret_file_load(path, keys->mac_key, sizeof(keys->mac_key));
    if (rc != BW_ENOTFOUND || !create)
        return rc;
    rc = bw_crypto_random(keys->mac_key, sizeof(keys->mac_key));
    if (rc == BW_OK)
        rc = bw_crypto_secret_file_create(path, keys->mac_key, sizeof(keys->mac_key));
    return rc;
}

static int load_signer(const char *dir, bool create, bool want_signer, struct audit_keys *keys)
{
    char seed_path[BW_AUDIT_PATH_MAX], pub_path[BW_AUDIT_PATH_MAX];
    int rc = join(seed_path, dir, BW_AUDIT_SIGN_KEY_NAME);
    if (rc == BW_OK)
        rc = join(pub_path, dir, BW_AUDIT_SIGN_PUB_NAME);
    if (rc)
        return rc;
    uint8_t seed[BW_ED25519_KEY_LEN];
    if (!want_signer) {
        /* A verifier needs only the public key. */
        return read_public(pub_path, keys->sign_public);
    }
    rc = bw_crypto_secret_file_load(seed_path, seed, sizeof(seed));
    if (rc == BW_ENOTFOUND && create) {
        struct bw_crypto_signer *fresh = NULL;
        rc = bw_crypto_signer_generate(&fresh);
        if (rc == BW_OK)
            rc = bw_crypto_signer_seed(fresh, seed);
        bw_crypto_signer_free(fresh);
        if (rc == BW_OK)
            rc = bw_crypto_secret_file_create(seed_path, seed, sizeof(seed));
        if (rc == BW_OK)
            unlink(pub_path); /* a stale public key of another seed */
    }
    if (rc == BW_OK)
        rc = bw_crypto_signer_from_seed(seed, sizeof(seed), &keys->signer);
    bw_crypto_wipe(seed, sizeof(seed));
    if (rc == BW_OK)
        rc = bw_crypto_signer_public(keys->signer, keys->sign_public);
    if (rc)
        return rc;
    uint8_t on_disk[BW_ED25519_KEY_LEN];
    rc = read_public(pub_path, on_disk);
    if (rc == BW_ENOTFOUND)
        return write_public(pub_path, keys->sign_public);
    if (rc)
        return rc;
    /* The public file must belong to the seed; else a verifier would be
     * misled into checking against the wrong key. */
    return memcmp(on_disk, keys->sign_public, sizeof(on_disk)) == 0 ? BW_OK : BW_EMALFORMED;
}

int audit_keys_load(const char *state_dir, bool create, bool want_signer, struct audit_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
    char dir[BW_AUDIT_PATH_MAX];
    int rc = keys_dir(state_dir, create, dir);
    if (rc == BW_OK)
        rc = load_mac_key(dir, create, keys);
    if (rc == BW_OK)
        rc = load_signer(dir, create, want_signer, keys);
    if (rc)
        audit_keys_clear(keys);
    return rc;
}

void audit_keys_clear(struct audit_keys *keys)
{
    bw_crypto_wipe(keys->mac_key, sizeof(keys->mac_key));
    bw_crypto_signer_free(keys->signer);
    memset(keys, 0, sizeof(*keys));
}

void bw_audit_key_fingerprint(const uint8_t public_key[BW_AUDIT_PUBLIC_KEY_LEN],
                              char out[BW_AUDIT_FINGERPRINT_LEN])
{
    uint8_t digest[BW_SHA256_LEN];
    out[0] = '\0';
    if (bw_crypto_sha256(public_key, BW_AUDIT_PUBLIC_KEY_LEN, digest) != BW_OK)
        return;
    memcpy(out, "sha256:", 7);
    bw_crypto_hex(digest, sizeof(digest), out + 7);
}

void bw_audit_signer_fingerprint(const struct bw_audit *audit, char out[BW_AUDIT_FINGERPRINT_LEN])
{
    out[0] = '\0';
    /* The key is set at open and never changes: any thread may read it. */
    if (audit)
        bw_audit_key_fingerprint(audit->keys.sign_public, out);
}
