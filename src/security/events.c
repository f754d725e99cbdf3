/* SPDX-License-Identifier: Apache-2.0
 *
 * The module's audit records. Every record goes through
 * bw_audit_record_request, which returns once it is durable, or refuses
 * when the trail's policy says operations must stop: callers then fail
 * closed (SR 2.10). Any thread.
 */
#include "security/internal.h"

#include <string.h>

int sec_audit(struct bw_security *sec, uint32_t event_id, enum bw_audit_result result,
              const char *user, const char *address, json_t *details_take)
{
    struct bw_audit_event ev = {
        .id = event_id,
        .result = result,
        .source = {.kind = BW_AUDIT_SOURCE_USER,
                   .name = user && *user ? user : "-",
                   .address = address && *address ? address : NULL},
        .details = details_take,
    };
    int rc = bw_audit_record_request(sec->audit, &ev);
    json_decref(details_take);
    if (rc && rc != BW_EDENIED)
        bw_log(BW_LOG_ERROR, BW_LOGC_SECURITY, "audit record %u could not be made: %s",
               (unsigned)event_id, bw_strerror(rc));
    return rc;
}

void sec_note(struct bw_security *sec, uint32_t event_id, enum bw_audit_result result,
              const char *user, const char *address, json_t *details_take)
{
    if (sec_audit(sec, event_id, result, user, address, details_take) == BW_EDENIED)
        bw_log(BW_LOG_WARN, BW_LOGC_SECURITY,
               "audit record %u refused by the trail's policy (trail full or failing)",
               (unsigned)event_id);
}

void sec_actor_name(struct bw_security *sec, const struct bw_security_actor *actor, char *out,
                    size_t size)
{
    if (actor && actor->session) {
        struct sec_subject subject;
        int rc = sec_session_subject(sec, actor->session, false, &subject);
        if (rc == BW_OK || rc == BW_ESTATE) {
            bw_strlcpy(out, subject.user, size);
            return;
        }
        bw_strlcpy(out, "-", size);
        return;
    }
    bw_strlcpy(out, actor && actor->os_user ? actor->os_user : "-", size);
}
