/* SPDX-License-Identifier: Apache-2.0
 *
 * The security context: opens users.db and the key that seals
 * second-factor secrets, prepares the dummy hash that unknown users are
 * checked against, and owns the session table, the hashing pool, the
 * address throttle and the directory connection. Open and close on the
 * main thread; everything else from any thread.
 */
#include "security/internal.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A fixed text hashed at open: checking an unknown user's password
 * against it costs what checking a real one costs. */
static const char dummy_password[] = "bulwark-dummy-password-for-unknown-users";

static int users_key_load(struct bw_security *sec)
{
    char dir[4096], path[4096];
    if (bw_snprintf(dir, sizeof(dir), "%s/keys", sec->state_dir) ||
        bw_snprintf(path, sizeof(path), "%s/users.key", dir))
        return BW_ETOOLARGE;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return BW_EIO;
    int rc = bw_crypto_secret_file_load(path, sec->users_key, sizeof(sec->users_key));
    if (rc != BW_ENOTFOUND)
        return rc;
    rc = bw_crypto_random(sec->users_key, sizeof(sec->users_key));
    if (rc == BW_OK)
        rc = bw_crypto_secret_file_create(path, sec->users_key, sizeof(sec->users_key));
    if (rc == BW_EEXIST) /* made meanwhile by another process */
        rc = bw_crypto_secret_file_load(path, sec->users_key, sizeof(sec->users_key));
    return rc;
}

struct bw_crypto_argon2_params sec_argon2_params(const struct bw_security *sec)
{
    const struct bw_project_password_policy *p = &sec->policy->password;
    return (struct bw_crypto_argon2_params){.memory_kib = p->argon2_memory_kib,
                                            .iterations = p->argon2_iterations,
                                            .parallelism = p->argon2_parallelism};
}

/* Remembers in the store which project's policy these accounts are
 * kept under, so that a later use with the defaults can tell. */
static int policy_project_record(struct bw_security *sec, const char *project_dir)
{
    char *full = realpath(project_dir, NULL);
    int rc = sec_store_meta_set(sec, SEC_META_POLICY_PROJECT, full ? full : project_dir);
    free(full); /* realpath's, from malloc */
    return rc;
}

int bw_security_policy_project(struct bw_security *sec, char *out, size_t size)
{
    return sec_store_meta_get(sec, SEC_META_POLICY_PROJECT, out, size);
}

int bw_security_open(const struct bw_security_config *config, struct bw_security **out)
{
    *out = NULL;
    if (!config || !config->state_dir || !config->policy || !config->audit)
        return BW_EINVAL;
    /* Each Argon2id computation takes m (19 MiB) from malloc. With glibc's
     * adaptive threshold, blocks that size soon come from per-thread
     * arenas and stay resident after use, one per arena, so a flood of
     * logins would hold far more than K x m. A fixed threshold keeps
     * every such block mmapped and returned at once. */
    if (mallopt(M_MMAP_THRESHOLD, 1024 * 1024) != 1) {
        /* Sanitizer allocators do not take the setting; nothing else
         * depends on it. */
    }
    struct bw_security *sec = bw_calloc(1, sizeof(*sec));
    if (!sec)
        return BW_ENOMEM;
    sec->policy = config->policy;
    sec->audit = config->audit;
    sec->state_dir = bw_strdup(config->state_dir);
    sec->project_dir = bw_strdup(config->project_dir ? config->project_dir : ".");
    pthread_mutex_init(&sec->db_lock, NULL);
    pthread_mutex_init(&sec->lockout_lock, NULL);
    pthread_mutex_init(&sec->setup_lock, NULL);
    const struct bw_project_password_policy *pw = &sec->policy->password;
    sec_hashpool_init(&sec->pool, pw->hash_concurrency, pw->hash_queue);
    int rc = sec->state_dir && sec->project_dir ? BW_OK : BW_ENOMEM;
    if (rc == BW_OK)
        rc = users_key_load(sec);
    if (rc == BW_OK)
        rc = sec_store_open(sec);
    if (rc == BW_OK && config->project_dir)
        rc = policy_project_record(sec, config->project_dir);
    if (rc == BW_OK)
        rc = sec_throttle_new(&sec->throttle);
    if (rc == BW_OK)
        rc = sec_sessions_new(&sec->sessions);
    if (rc == BW_OK)
        rc = sec_approvals_new(&sec->approvals);
    if (rc == BW_OK && sec->policy->ldap)
        rc = sec_ldap_new(sec->policy->ldap, sec->project_dir, &sec->ldap);
    if (rc == BW_OK) {
        struct bw_crypto_argon2_params params = sec_argon2_params(sec);
        rc = bw_crypto_pwhash(&params, dummy_password, sizeof(dummy_password) - 1, sec->dummy_hash,
                              sizeof(sec->dummy_hash));
    }
    if (rc) {
        bw_security_close(sec);
        return rc;
    }
    *out = sec;
    return BW_OK;
}

void bw_security_close(struct bw_security *sec)
{
    if (!sec)
        return;
    if (sec->sessions) {
        sec_sessions_end_all(sec, "shutdown");
        sec_sessions_free(sec->sessions);
    }
    sec_approvals_free(sec->approvals);
    sec_ldap_free(sec->ldap);
    sec_throttle_free(sec->throttle);
    sec_store_close(sec);
    sec_hashpool_clear(&sec->pool);
    sec_setup_close(sec);
    pthread_mutex_destroy(&sec->setup_lock);
    pthread_mutex_destroy(&sec->lockout_lock);
    pthread_mutex_destroy(&sec->db_lock);
    bw_crypto_wipe(sec->users_key, sizeof(sec->users_key));
    bw_free(sec->state_dir);
    bw_free(sec->project_dir);
    bw_free(sec);
}

void bw_security_tick(struct bw_security *sec)
{
    sec_sessions_tick(sec);
    sec_approvals_tick(sec);
    sec_setup_tick(sec);
}

void bw_security_stats_get(struct bw_security *sec, struct bw_security_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&sec->pool.lock);
    out->hashes = sec->pool.done;
    out->hash_refused = sec->pool.refused;
    out->hash_running = sec->pool.running;
    out->hash_waiting = sec->pool.waiting;
    pthread_mutex_unlock(&sec->pool.lock);
    out->sessions = sec_sessions_count(sec);
}

const char *bw_security_banner(const struct bw_security *sec, bool *must_accept)
{
    if (must_accept)
        *must_accept = sec->policy->banner && sec->policy->banner_must_accept;
    return sec->policy->banner;
}
