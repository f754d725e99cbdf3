/* SPDX-License-Identifier: Apache-2.0
 *
 * Test support: builds an audit trail directly with the store's own
 * functions (no writer thread) in a temporary state directory, the way
 * the writer lays it down: keys, records chained and MACed, signed
 * checkpoints with the anchor, and archive segments rolled out of the database. Also a
 * raw SQLite connection for tampering, as an attacker with file access
 * would (dropping the append-only triggers first). For the audit tests;
 * single thread.
 */
#ifndef BW_TEST_SUPPORT_TRAIL_H
#define BW_TEST_SUPPORT_TRAIL_H

#include "audit/anchor_internal.h"

struct bw_test_trail {
    char dir[256]; /* the state directory */
    sqlite3 *db;
    sqlite3_stmt *insert;
    struct audit_keys keys;
    struct bw_crypto_mac *mac;
    _Atomic bool archiving;
    uint64_t last_seq;
    uint8_t last_hash[BW_SHA256_LEN];
    int64_t ts_us;
    unsigned segments; /* archive files made, for their names */
};

/* Makes a fresh state directory with keys and an empty audit.db. */
BW_MUST_CHECK int bw_test_trail_open(struct bw_test_trail *t);
/* Appends n records of varied content (addresses present or not,
 * quotes, backslashes, control bytes and non-ASCII text), signing a
 * checkpoint after every checkpoint_every-th record (0: none). */
BW_MUST_CHECK int bw_test_trail_append(struct bw_test_trail *t, size_t n, size_t checkpoint_every);
/* Signs a checkpoint at the newest record and writes the anchor
 * (STATE/keys/audit-anchor) as the writer does. */
BW_MUST_CHECK int bw_test_trail_checkpoint(struct bw_test_trail *t);
/* Rolls records up to last (from the oldest in audit.db) into a segment
 * STATE/audit-archive/<name>, as the writer does: the segments row and
 * the deletes in one transaction. name (may be NULL) receives the base
 * name (64 bytes). */
BW_MUST_CHECK int bw_test_trail_archive(struct bw_test_trail *t, uint64_t last, char *name);
/* Closes the connection and the keys (the files stay). */
void bw_test_trail_close(struct bw_test_trail *t);
/* Removes the state directory and everything in it. */
void bw_test_trail_remove(struct bw_test_trail *t);

/* cmocka setup and teardown: *state is a fresh, open trail (calloc'd),
 * then closed, removed and freed. */
int bw_test_trail_setup(void **state);
int bw_test_trail_teardown(void **state);

/* Runs sql on a raw connection to dir's audit.db: the append-only
 * triggers are dropped first, as a tamperer would. */
BW_MUST_CHECK int bw_test_trail_tamper(const char *dir, const char *sql);
/* Path of name inside dir, into out (BW_AUDIT_PATH_MAX bytes). */
BW_MUST_CHECK int bw_test_trail_path(char *out, const char *dir, const char *name);
/* Writes len bytes to path, replacing it. */
BW_MUST_CHECK int bw_test_file_write(const char *path, const void *data, size_t len, int mode);
/* Reads at most max bytes of path into a new buffer (NUL-terminated);
 * *len gets its size. NULL when it cannot. */
char *bw_test_file_read(const char *path, size_t max, size_t *len);

#endif
