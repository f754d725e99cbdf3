/* SPDX-License-Identifier: Apache-2.0
 *
 * `audit export`: a range of the trail written as a new signed segment
 * file, for write-once media or an auditor. Reads audit.db read-only (the
 * daemon may be writing it) and needs the signing key, so it runs as the
 * daemon's user. The segment carries the public key that checks it.
 * Main thread of a tool.
 */
#include "audit/internal.h"

#include <string.h>

int bw_audit_export(const char *state_dir, uint64_t first_seq, uint64_t last_seq,
                    const char *out_path, uint64_t *records_out)
{
    if (records_out)
        *records_out = 0;
    if (first_seq == 0 && last_seq == 0) {
        first_seq = 1;
        last_seq = INT64_MAX;
    }
    if (first_seq == 0 || last_seq < first_seq)
        return BW_EINVAL;
    struct audit_keys keys;
    int rc = audit_keys_load(state_dir, false, true, &keys);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    rc = audit_store_open_ro(state_dir, &db);
    struct audit_segment_info info = {0};
    if (rc == BW_OK)
        rc = audit_segment_write(db, &keys, first_seq, last_seq, out_path, &info);
    if (rc == BW_OK && records_out)
        *records_out = info.records;
    sqlite3_close(db);
    audit_keys_clear(&keys);
    return rc;
}
