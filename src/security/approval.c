/* SPDX-License-Identifier: Apache-2.0
 *
 * Dual approval in two steps (SR 2.1 RE 4): an access that needs a
 * second user is asked for by the acting session, granted by another
 * user's session within the policy's window, then consumed once by the
 * access it was granted for. The pending approvals live in a fixed table
 * (memory cannot grow with requests); each step is on record. Any
 * thread.
 */
#include "security/internal.h"

#include <string.h>

#define APPROVALS_MAX 256
#define APPROVAL_OBJECT_MAX 128

struct pending {
    bool used;
    bool granted;
    char id[BW_SECURITY_APPROVAL_ID_LEN + 1];
    char requester[BW_SECURITY_USER_MAX + 1];
    char approver[BW_SECURITY_USER_MAX + 1];
    char object[APPROVAL_OBJECT_MAX + 1];
    enum bw_permission permission;
    uint16_t level;
    uint32_t areas;
    int64_t expires_us;
};

struct sec_approvals {
    pthread_mutex_t lock;
    struct pending slots[APPROVALS_MAX];
};

int sec_approvals_new(struct sec_approvals **out)
{
    struct sec_approvals *a = bw_calloc(1, sizeof(*a));
    if (!a)
        return BW_ENOMEM;
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return BW_OK;
}

void sec_approvals_free(struct sec_approvals *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    bw_free(a);
}

void sec_approvals_tick(struct bw_security *sec)
{
    int64_t now = bw_clock_realtime_us();
    pthread_mutex_lock(&sec->approvals->lock);
    for (size_t i = 0; i < APPROVALS_MAX; i++)
        if (sec->approvals->slots[i].used && sec->approvals->slots[i].expires_us <= now)
            memset(&sec->approvals->slots[i], 0, sizeof(struct pending));
    pthread_mutex_unlock(&sec->approvals->lock);
}

static const char *object_name(const struct bw_security_object *object)
{
    return object->name ? object->name : "";
}

/* Why subject may not act on object, or NULL when it may. */
static const char *rights_refusal(int lookup, const struct sec_subject *s,
                                  const struct bw_security_object *object)
{
    if (lookup == BW_ESTATE)
        return "the session is locked";
    if (lookup)
        return "not signed in";
    if (s->must_change_password)
        return "the password must be changed first";
    if ((unsigned)object->permission >= BW_PERM_COUNT_ ||
        !(s->permissions & (1u << object->permission)))
        return "no role grants the permission";
    if (s->level < object->level)
        return "level too low";
    if (!(s->areas & object->areas))
        return "not in the object's area";
    return NULL;
}

static json_t *details(const char *step, const struct pending *p, const char *failure)
{
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "step", step, "approval", p->id, "object", p->object,
                  "permission", bw_permission_name(p->permission), "user", p->requester);
    if (d && failure)
        json_object_set_new(d, "failure", json_string(failure));
    return d;
}

int bw_security_approval_request(struct bw_security *sec, const char *token,
                                 const struct bw_security_object *object,
                                 char id[BW_SECURITY_APPROVAL_ID_LEN + 1], char *why,
                                 size_t why_size)
{
    id[0] = '\0';
    if (!object || strlen(object_name(object)) > APPROVAL_OBJECT_MAX) {
        bw_strlcpy(why, "the object's name is too long", why_size);
        return BW_EINVAL;
    }
    struct sec_subject s;
    int lookup = token ? sec_session_subject(sec, token, true, &s) : BW_ENOTFOUND;
    const char *refusal = rights_refusal(lookup, &s, object);
    if (refusal) {
        bw_strlcpy(why, refusal, why_size);
        return BW_EDENIED;
    }
    struct pending p = {.used = true,
                        .permission = object->permission,
                        .level = object->level,
                        .areas = object->areas,
                        .expires_us =
                            bw_clock_realtime_us() +
                            (int64_t)sec->policy->sessions.approval_window_seconds * 1000000};
    uint8_t raw[BW_SECURITY_APPROVAL_ID_LEN / 2];
    int rc = bw_crypto_random(raw, sizeof(raw));
    if (rc)
        return rc;
    bw_crypto_hex(raw, sizeof(raw), p.id);
    bw_strlcpy(p.requester, s.user, sizeof(p.requester));
    bw_strlcpy(p.object, object_name(object), sizeof(p.object));
    sec_approvals_tick(sec);
    pthread_mutex_lock(&sec->approvals->lock);
    struct pending *slot = NULL;
    for (size_t i = 0; i < APPROVALS_MAX && !slot; i++)
        if (!sec->approvals->slots[i].used)
            slot = &sec->approvals->slots[i];
    if (slot)
        *slot = p;
    pthread_mutex_unlock(&sec->approvals->lock);
    if (!slot) {
        bw_strlcpy(why, "too many approvals are pending; try again later", why_size);
        return BW_EFULL;
    }
    rc = sec_audit(sec, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, s.user, s.address,
                   details("requested", &p, NULL));
    if (rc) {
        pthread_mutex_lock(&sec->approvals->lock);
        memset(slot, 0, sizeof(*slot));
        pthread_mutex_unlock(&sec->approvals->lock);
        bw_strlcpy(why, "refused: the audit trail cannot record the request now", why_size);
        return BW_EDENIED;
    }
    memcpy(id, p.id, sizeof(p.id));
    return BW_OK;
}

static struct pending *find(struct sec_approvals *a, const char *id)
{
    if (!id || strlen(id) != BW_SECURITY_APPROVAL_ID_LEN)
        return NULL;
    for (size_t i = 0; i < APPROVALS_MAX; i++)
        if (a->slots[i].used && bw_crypto_equal(a->slots[i].id, id, BW_SECURITY_APPROVAL_ID_LEN))
            return &a->slots[i];
    return NULL;
}

int bw_security_approval_grant(struct bw_security *sec, const char *approver_token, const char *id,
                               char *why, size_t why_size)
{
    struct sec_subject s;
    int lookup = approver_token ? sec_session_subject(sec, approver_token, true, &s) : BW_ENOTFOUND;
    if (lookup != BW_OK && lookup != BW_ESTATE)
        memset(&s, 0, sizeof(s));
    sec_approvals_tick(sec);
    pthread_mutex_lock(&sec->approvals->lock);
    struct pending *p = find(sec->approvals, id);
    struct pending copy;
    const char *failure = NULL;
    int rc = BW_OK;
    if (!p || p->granted) {
        failure = "no such pending approval, or it lapsed";
        rc = BW_ENOTFOUND;
    } else {
        copy = *p;
        struct bw_security_object object = {
            .name = p->object, .level = p->level, .areas = p->areas, .permission = p->permission};
        failure = rights_refusal(lookup, &s, &object);
        if (!failure && strcmp(s.user, p->requester) == 0)
            failure = "same user";
        if (failure) {
            rc = BW_EDENIED;
        } else {
            p->granted = true;
            bw_strlcpy(p->approver, s.user, sizeof(p->approver));
        }
    }
    pthread_mutex_unlock(&sec->approvals->lock);
    const char *who = s.user[0] ? s.user : "-";
    if (rc == BW_ENOTFOUND) {
        bw_strlcpy(why, failure, why_size);
        sec_note(sec, BW_AUDIT_EV_APPROVAL, BW_AUDIT_FAILURE, who, s.address,
                 json_pack("{s:s, s:s}", "step", "grant", "failure", failure));
        return rc;
    }
    if (rc) {
        bw_strlcpy(why, failure, why_size);
        sec_note(sec, BW_AUDIT_EV_APPROVAL, BW_AUDIT_DENIED, who, s.address,
                 details("grant", &copy, failure));
        return rc;
    }
    if (sec_audit(sec, BW_AUDIT_EV_APPROVAL, BW_AUDIT_SUCCESS, who, s.address,
                  details("granted", &copy, NULL))) {
        /* Not on record, so not granted. */
        pthread_mutex_lock(&sec->approvals->lock);
        struct pending *again = find(sec->approvals, id);
        if (again)
            again->granted = false;
        pthread_mutex_unlock(&sec->approvals->lock);
        bw_strlcpy(why, "refused: the audit trail cannot record the approval now", why_size);
        return BW_EDENIED;
    }
    return BW_OK;
}

int sec_approval_take(struct bw_security *sec, const char *id, const char *user,
                      const struct bw_security_object *object,
                      char approver[BW_SECURITY_USER_MAX + 1])
{
    int rc = BW_EDENIED;
    int64_t now = bw_clock_realtime_us();
    pthread_mutex_lock(&sec->approvals->lock);
    struct pending *p = find(sec->approvals, id);
    if (p && p->granted && p->expires_us > now && strcmp(p->requester, user) == 0 &&
        strcmp(p->object, object_name(object)) == 0 && p->permission == object->permission &&
        p->level == object->level && p->areas == object->areas) {
        bw_strlcpy(approver, p->approver, BW_SECURITY_USER_MAX + 1);
        memset(p, 0, sizeof(*p)); /* once */
        rc = BW_OK;
    }
    pthread_mutex_unlock(&sec->approvals->lock);
    return rc;
}
