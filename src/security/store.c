/* SPDX-License-Identifier: Apache-2.0
 *
 * STATE/users.db: the accounts, their lockout state, sealed second-factor
 * keys and password history, and a few facts about the store itself
 * (table meta: the project whose policy was last applied). SQLite in WAL
 * mode, so that `bulwark user list` can read while the daemon writes;
 * the file is created 0600 and refused when others may read it or it is
 * a link. Roles are stored by name (the project may reorder them) and
 * mapped to the project's role indexes when an account is loaded; a
 * role the policy in use does not know grants nothing, but its name is
 * kept as it is when the account is written back (another policy, the
 * project's, may know it), unless the account's roles were set anew.
 * Every call takes sec->db_lock: one connection serves every thread.
 */
#include "security/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " full_name TEXT NOT NULL DEFAULT '',"
    " type INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " level INTEGER NOT NULL,"
    " areas INTEGER NOT NULL,"
    " roles TEXT NOT NULL DEFAULT '',"
    " must_change INTEGER NOT NULL DEFAULT 0,"
    " created_us INTEGER NOT NULL,"
    " password_changed_us INTEGER NOT NULL DEFAULT 0,"
    " last_login_us INTEGER NOT NULL DEFAULT 0,"
    " expires_us INTEGER NOT NULL DEFAULT 0,"
    " locked_until_us INTEGER NOT NULL DEFAULT 0,"
    " failed_logins INTEGER NOT NULL DEFAULT 0,"
    " first_failure_us INTEGER NOT NULL DEFAULT 0,"
    " pw_hash TEXT NOT NULL DEFAULT '',"
    " totp BLOB,"
    " totp_confirmed INTEGER NOT NULL DEFAULT 0,"
    " totp_last_step INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS password_history("
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " at_us INTEGER NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS password_history_user ON password_history(user_id, at_us);"
    "CREATE TABLE IF NOT EXISTS failure_pad(id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

#define USER_COLUMNS                                                                               \
    "id, name, full_name, type, state, level, areas, roles, must_change, created_us,"              \
    " password_changed_us, last_login_us, expires_us, locked_until_us, failed_logins,"             \
    " first_failure_us, pw_hash, totp, totp_confirmed, totp_last_step"

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? BW_OK : BW_EIO;
}

/* The file must be ours alone before SQLite opens it: created 0600, never
 * through a link, refused when others may read it (it holds hashes). */
static int prepare_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == ELOOP ? BW_EDENIED : BW_EIO;
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? BW_OK : BW_EIO;
    if (rc == BW_OK && (!S_ISREG(st.st_mode) || (st.st_mode & 077) || st.st_uid != geteuid()))
        rc = BW_EDENIED;
    close(fd);
    return rc;
}

int sec_store_open(struct bw_security *sec)
{
    char path[4096];
    if (bw_snprintf(path, sizeof(path), "%s/users.db", sec->state_dir))
        return BW_ETOOLARGE;
    int rc = prepare_file(path);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return BW_EIO;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    rc = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                  "PRAGMA secure_delete=ON; PRAGMA trusted_schema=OFF;");
    if (rc == BW_OK)
        rc = exec(db, schema);
    if (rc) {
        sqlite3_close(db);
        return rc;
    }
    sec->db = db;
    return BW_OK;
}

void sec_store_close(struct bw_security *sec)
{
    if (sec->db)
        sqlite3_close(sec->db);
    sec->db = NULL;
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    bw_strlcpy(dst, src ? (const char *)src : "", size);
}

/* Calls fn for each name of a stored role list ("a,b"; empty names are
 * skipped) until it returns non-zero, and returns that. */
static int roles_each(const char *text, int (*fn)(void *ctx, const char *name, size_t len),
                      void *ctx)
{
    const char *p = text ? text : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int rc = len > 0 ? fn(ctx, p, len) : 0;
        if (rc)
            return rc;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* The policy's index of the role name (len bytes), or SIZE_MAX. */
static size_t role_index(const struct bw_security *sec, const char *name, size_t len)
{
    char copy[BW_PROJECT_NAME_MAX + 1];
    if (len > BW_PROJECT_NAME_MAX)
        return SIZE_MAX;
    memcpy(copy, name, len);
    copy[len] = '\0';
    size_t i = bw_project_role_find(sec->policy, copy);
    return i < 64 ? i : SIZE_MAX;
}

struct roles_walk {
    const struct bw_security *sec;
    uint64_t mask;          /* the known roles */
    struct bw_buf *unknown; /* the others, as "a,b"; NULL: not collected */
};

static int roles_walk_one(void *ctx, const char *name, size_t len)
{
    struct roles_walk *w = ctx;
    size_t i = role_index(w->sec, name, len);
    if (i != SIZE_MAX) {
        w->mask |= 1ull << i;
        return BW_OK;
    }
    if (!w->unknown)
        return BW_OK;
    int rc = w->unknown->len > 0 ? bw_buf_append(w->unknown, ",", 1) : BW_OK;
    return rc ? rc : bw_buf_append(w->unknown, name, len);
}

/* Role names ("a,b") to the policy's indexes. */
static uint64_t roles_from_text(const struct bw_security *sec, const char *text)
{
    struct roles_walk w = {.sec = sec};
    (void)roles_each(text, roles_walk_one, &w); /* cannot fail without a buffer */
    return w.mask;
}

/* The names of mask's roles, then extra (names kept as stored; may be
 * NULL), as "a,b" into out. BW_ETOOLARGE past size. */
static int roles_to_text(const struct bw_security *sec, uint64_t mask, const struct bw_buf *extra,
                         char *out, size_t size)
{
    struct bw_buf buf;
    bw_buf_init(&buf, size - 1);
    int rc = BW_OK;
    for (size_t i = 0; i < sec->policy->role_count && i < 64 && rc == BW_OK; i++) {
        if (!(mask & (1ull << i)))
            continue;
        if (buf.len > 0)
            rc = bw_buf_append(&buf, ",", 1);
        if (rc == BW_OK)
            rc = bw_buf_append_str(&buf, sec->policy->roles[i].name);
    }
    if (rc == BW_OK && extra && extra->len > 0) {
        if (buf.len > 0)
            rc = bw_buf_append(&buf, ",", 1);
        if (rc == BW_OK)
            rc = bw_buf_append(&buf, extra->data, extra->len);
    }
    if (rc == BW_OK)
        bw_strlcpy(out, buf.data ? buf.data : "", size);
    bw_buf_clear(&buf);
    return rc;
}

static void row_to_user(const struct bw_security *sec, sqlite3_stmt *st, struct sec_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(st, 0);
    copy_text(u->info.name, sizeof(u->info.name), sqlite3_column_text(st, 1));
    copy_text(u->info.full_name, sizeof(u->info.full_name), sqlite3_column_text(st, 2));
    u->info.type = (enum bw_security_account_type)sqlite3_column_int(st, 3);
    u->info.state = (enum bw_security_account_state)sqlite3_column_int(st, 4);
    u->info.level = (uint16_t)sqlite3_column_int(st, 5);
    u->info.areas = (uint32_t)sqlite3_column_int64(st, 6);
    u->info.roles = roles_from_text(sec, (const char *)sqlite3_column_text(st, 7));
    u->info.must_change_password = sqlite3_column_int(st, 8) != 0;
    u->info.created_us = sqlite3_column_int64(st, 9);
    u->info.password_changed_us = sqlite3_column_int64(st, 10);
    u->info.last_login_us = sqlite3_column_int64(st, 11);
    u->info.expires_us = sqlite3_column_int64(st, 12);
    u->info.locked_until_us = sqlite3_column_int64(st, 13);
    u->info.failed_logins = (uint32_t)sqlite3_column_int(st, 14);
    u->first_failure_us = sqlite3_column_int64(st, 15);
    copy_text(u->pw_hash, sizeof(u->pw_hash), sqlite3_column_text(st, 16));
    int totp_len = sqlite3_column_bytes(st, 17);
    if (totp_len > 0 && (size_t)totp_len <= sizeof(u->totp_sealed)) {
        memcpy(u->totp_sealed, sqlite3_column_blob(st, 17), (size_t)totp_len);
        u->totp_sealed_len = (size_t)totp_len;
    }
    u->totp_confirmed = sqlite3_column_int(st, 18) != 0;
    u->totp_last_step = sqlite3_column_int64(st, 19);
    u->info.mfa_enrolled = u->totp_sealed_len > 0 && u->totp_confirmed;
    /* An account stays "locked" in the table until someone looks after
     * the lock has run out. */
    if (u->info.state == BW_SECURITY_LOCKED && u->info.locked_until_us != 0 &&
        u->info.locked_until_us <= bw_clock_realtime_us())
        u->info.state = BW_SECURITY_ACTIVE;
    if (u->info.state == BW_SECURITY_ACTIVE && u->info.expires_us != 0 &&
        u->info.expires_us <= bw_clock_realtime_us())
        u->info.state = BW_SECURITY_EXPIRED;
}

int sec_store_user_load(struct bw_security *sec, const char *name, struct sec_user *out)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "SELECT " USER_COLUMNS " FROM users WHERE name = ?1", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            row_to_user(sec, st, out);
            rc = BW_OK;
        } else if (step == SQLITE_DONE) {
            rc = BW_ENOTFOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

/* The stored role names of account id that the policy does not know,
 * as "a,b" into unknown. Under db_lock. */
static int roles_unknown_stored(struct bw_security *sec, int64_t id, struct bw_buf *unknown)
{
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "SELECT roles FROM users WHERE id = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_int64(st, 1, id) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            struct roles_walk w = {.sec = sec, .unknown = unknown};
            rc = roles_each((const char *)sqlite3_column_text(st, 0), roles_walk_one, &w);
        } else if (step == SQLITE_DONE) {
            rc = BW_OK; /* gone: the update finds no row */
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Binds every field but id to ?1..?19 in USER_COLUMNS order, with
 * extra_roles (may be NULL) after the names of u's roles. The stored
 * state keeps EXPIRED out: expiry is computed from expires_us. */
static int bind_user(const struct bw_security *sec, sqlite3_stmt *st, const struct sec_user *u,
                     const struct bw_buf *extra_roles)
{
    char roles[SEC_ROLES_TEXT_MAX];
    if (roles_to_text(sec, u->info.roles, extra_roles, roles, sizeof(roles)))
        return BW_ETOOLARGE;
    enum bw_security_account_state state =
        u->info.state == BW_SECURITY_EXPIRED ? BW_SECURITY_ACTIVE : u->info.state;
    int ok = sqlite3_bind_text(st, 1, u->info.name, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_bind_text(st, 2, u->info.full_name, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_bind_int(st, 3, (int)u->info.type) == SQLITE_OK &&
             sqlite3_bind_int(st, 4, (int)state) == SQLITE_OK &&
             sqlite3_bind_int(st, 5, u->info.level) == SQLITE_OK &&
             sqlite3_bind_int64(st, 6, u->info.areas) == SQLITE_OK &&
             sqlite3_bind_text(st, 7, roles, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_bind_int(st, 8, u->info.must_change_password) == SQLITE_OK &&
             sqlite3_bind_int64(st, 9, u->info.created_us) == SQLITE_OK &&
             sqlite3_bind_int64(st, 10, u->info.password_changed_us) == SQLITE_OK &&
             sqlite3_bind_int64(st, 11, u->info.last_login_us) == SQLITE_OK &&
             sqlite3_bind_int64(st, 12, u->info.expires_us) == SQLITE_OK &&
             sqlite3_bind_int64(st, 13, u->info.locked_until_us) == SQLITE_OK &&
             sqlite3_bind_int64(st, 14, u->info.failed_logins) == SQLITE_OK &&
             sqlite3_bind_int64(st, 15, u->first_failure_us) == SQLITE_OK &&
             sqlite3_bind_text(st, 16, u->pw_hash, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
             (u->totp_sealed_len ? sqlite3_bind_blob(st, 17, u->totp_sealed,
                                                     (int)u->totp_sealed_len, SQLITE_TRANSIENT)
                                 : sqlite3_bind_null(st, 17)) == SQLITE_OK &&
             sqlite3_bind_int(st, 18, u->totp_confirmed) == SQLITE_OK &&
             sqlite3_bind_int64(st, 19, u->totp_last_step) == SQLITE_OK;
    return ok ? BW_OK : BW_EIO;
}

int sec_store_user_insert(struct bw_security *sec, struct sec_user *u)
{
    static const char sql[] =
        "INSERT INTO users(name, full_name, type, state, level, areas, roles, must_change,"
        " created_us, password_changed_us, last_login_us, expires_us, locked_until_us,"
        " failed_logins, first_failure_us, pw_hash, totp, totp_confirmed, totp_last_step)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)";
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sec->db, sql, -1, &st, NULL) == SQLITE_OK ? BW_OK : BW_EIO;
    if (rc == BW_OK)
        rc = bind_user(sec, st, u, NULL);
    if (rc == BW_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            u->id = sqlite3_last_insert_rowid(sec->db);
        else
            rc = sqlite3_extended_errcode(sec->db) == SQLITE_CONSTRAINT_UNIQUE ? BW_EEXIST : BW_EIO;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_user_update(struct bw_security *sec, const struct sec_user *u)
{
    static const char sql[] =
        "UPDATE users SET name=?1, full_name=?2, type=?3, state=?4, level=?5, areas=?6,"
        " roles=?7, must_change=?8, created_us=?9, password_changed_us=?10,"
        " last_login_us=?11, expires_us=?12, locked_until_us=?13, failed_logins=?14,"
        " first_failure_us=?15, pw_hash=?16, totp=?17, totp_confirmed=?18,"
        " totp_last_step=?19 WHERE id=?20";
    struct bw_buf kept;
    bw_buf_init(&kept, SEC_ROLES_TEXT_MAX);
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    /* Names this policy does not know stay as they are stored, read in
     * the same hold of the lock as the write. */
    int rc = u->roles_replace ? BW_OK : roles_unknown_stored(sec, u->id, &kept);
    if (rc == BW_OK && sqlite3_prepare_v2(sec->db, sql, -1, &st, NULL) != SQLITE_OK)
        rc = BW_EIO;
    if (rc == BW_OK)
        rc = bind_user(sec, st, u, &kept);
    if (rc == BW_OK && sqlite3_bind_int64(st, 20, u->id) != SQLITE_OK)
        rc = BW_EIO;
    if (rc == BW_OK && sqlite3_step(st) != SQLITE_DONE)
        rc = BW_EIO;
    if (rc == BW_OK && sqlite3_changes(sec->db) == 0)
        rc = BW_ENOTFOUND;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    bw_buf_clear(&kept);
    return rc;
}

int sec_store_roles_text_get(struct bw_security *sec, int64_t id, char *out, size_t size)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "SELECT roles FROM users WHERE id = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_int64(st, 1, id) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const unsigned char *text = sqlite3_column_text(st, 0);
            rc =
                bw_strlcpy(out, text ? (const char *)text : "", size) < size ? BW_OK : BW_ETOOLARGE;
        } else if (step == SQLITE_DONE) {
            rc = BW_ENOTFOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_roles_text_set(struct bw_security *sec, int64_t id, const char *text)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "UPDATE users SET roles = ?1 WHERE id = ?2", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, id) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
        rc = sqlite3_changes(sec->db) > 0 ? BW_OK : BW_ENOTFOUND;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_meta_set(struct bw_security *sec, const char *key, const char *value)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_DONE)
        rc = BW_OK;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_meta_get(struct bw_security *sec, const char *key, char *out, size_t size)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const unsigned char *text = sqlite3_column_text(st, 0);
            rc =
                bw_strlcpy(out, text ? (const char *)text : "", size) < size ? BW_OK : BW_ETOOLARGE;
        } else if (step == SQLITE_DONE) {
            rc = BW_ENOTFOUND;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_user_delete(struct bw_security *sec, const char *name)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db, "DELETE FROM users WHERE name = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_DONE)
        rc = sqlite3_changes(sec->db) > 0 ? BW_OK : BW_ENOTFOUND;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_user_each(struct bw_security *sec, int (*fn)(void *ctx, const struct sec_user *u),
                        void *ctx)
{
    /* Copy the rows out first: fn may call back into the store. */
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    struct sec_user *users = NULL;
    size_t count = 0, cap = 0;
    int rc = sqlite3_prepare_v2(sec->db, "SELECT " USER_COLUMNS " FROM users ORDER BY name", -1,
                                &st, NULL) == SQLITE_OK
                 ? BW_OK
                 : BW_EIO;
    int step;
    while (rc == BW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            /* Not realloc: the records hold password hashes and sealed
             * keys, and the old block must be wiped before it is let go. */
            size_t bytes;
            size_t ncap = cap ? cap * 2 : 16;
            struct sec_user *grown = NULL;
            if (bw_size_mul(ncap, sizeof(*users), &bytes))
                grown = bw_malloc(bytes);
            if (!grown) {
                rc = BW_ENOMEM;
                break;
            }
            if (users) {
                memcpy(grown, users, count * sizeof(*users));
                bw_crypto_wipe(users, cap * sizeof(*users));
                bw_free(users);
            }
            users = grown;
            cap = ncap;
        }
        row_to_user(sec, st, &users[count++]);
    }
    if (rc == BW_OK && step != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    for (size_t i = 0; rc == BW_OK && i < count; i++)
        rc = fn(ctx, &users[i]);
    if (users)
        bw_crypto_wipe(users, cap * sizeof(*users));
    bw_free(users);
    return rc;
}

int sec_store_history_add(struct bw_security *sec, int64_t user_id, const char *hash, uint32_t keep)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *ins = NULL, *trim = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db,
                           "INSERT INTO password_history(user_id, at_us, hash) VALUES(?1,?2,?3)",
                           -1, &ins, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(ins, 1, user_id) == SQLITE_OK &&
        sqlite3_bind_int64(ins, 2, bw_clock_realtime_us()) == SQLITE_OK &&
        sqlite3_bind_text(ins, 3, hash, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(ins) == SQLITE_DONE &&
        sqlite3_prepare_v2(sec->db,
                           "DELETE FROM password_history WHERE user_id = ?1 AND rowid NOT IN"
                           " (SELECT rowid FROM password_history WHERE user_id = ?1"
                           "  ORDER BY at_us DESC, rowid DESC LIMIT ?2)",
                           -1, &trim, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(trim, 1, user_id) == SQLITE_OK &&
        sqlite3_bind_int64(trim, 2, keep) == SQLITE_OK && sqlite3_step(trim) == SQLITE_DONE)
        rc = BW_OK;
    sqlite3_finalize(ins);
    sqlite3_finalize(trim);
    pthread_mutex_unlock(&sec->db_lock);
    return rc;
}

int sec_store_history_each(struct bw_security *sec, int64_t user_id, uint32_t count,
                           int (*fn)(void *ctx, const char *hash), void *ctx)
{
    if (count == 0)
        return BW_OK;
    char(*hashes)[BW_CRYPTO_PWHASH_MAX] = bw_calloc(count, BW_CRYPTO_PWHASH_MAX);
    if (!hashes)
        return BW_ENOMEM;
    size_t found = 0;
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    int rc = BW_EIO;
    if (sqlite3_prepare_v2(sec->db,
                           "SELECT hash FROM password_history WHERE user_id = ?1"
                           " ORDER BY at_us DESC, rowid DESC LIMIT ?2",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, user_id) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, count) == SQLITE_OK) {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && found < count)
            copy_text(hashes[found++], BW_CRYPTO_PWHASH_MAX, sqlite3_column_text(st, 0));
        rc = step == SQLITE_DONE || step == SQLITE_ROW ? BW_OK : BW_EIO;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
    for (size_t i = 0; rc == BW_OK && i < found; i++)
        rc = fn(ctx, hashes[i]);
    bw_crypto_wipe(hashes, (size_t)count * BW_CRYPTO_PWHASH_MAX);
    bw_free(hashes);
    return rc;
}

struct admin_scan {
    const struct bw_security *sec;
    bool found;
};

static int admin_scan_one(void *ctx, const struct sec_user *u)
{
    struct admin_scan *scan = ctx;
    if (u->info.type == BW_SECURITY_HUMAN && u->info.state == BW_SECURITY_ACTIVE &&
        (sec_user_permissions(scan->sec, u) & (1u << BW_PERM_USER_MANAGE)))
        scan->found = true;
    return BW_OK;
}

int sec_store_has_admin(struct bw_security *sec, bool *out)
{
    struct admin_scan scan = {.sec = sec, .found = false};
    int rc = sec_store_user_each(sec, admin_scan_one, &scan);
    *out = scan.found;
    return rc;
}

void sec_store_pad(struct bw_security *sec)
{
    pthread_mutex_lock(&sec->db_lock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sec->db, "INSERT OR REPLACE INTO failure_pad(id, at_us) VALUES(1, ?1)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, bw_clock_realtime_us()) == SQLITE_OK)
        (void)sqlite3_step(st);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sec->db_lock);
}
