/* SPDX-License-Identifier: Apache-2.0
 *
 * Names: the name rule, the fixed vocabularies (permissions, types) and
 * one hash table per name space, so that checking uniqueness and
 * resolving references stays linear in the size of the project (100,000
 * tags load in well under a second). Caller's thread.
 */
#include "project/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

const char *const pj_permission_names[BW_PERM_COUNT_] = {
    [BW_PERM_TAG_READ] = "tag.read",
    [BW_PERM_TAG_WRITE] = "tag.write",
    [BW_PERM_ALARM_ACK] = "alarm.ack",
    [BW_PERM_ALARM_SHELVE] = "alarm.shelve",
    [BW_PERM_USER_MANAGE] = "user.manage",
    [BW_PERM_AUDIT_READ] = "audit.read",
    [BW_PERM_CONFIG_CHANGE] = "config.change",
    [BW_PERM_BACKUP_RUN] = "backup.run",
    [BW_PERM_SESSION_MANAGE] = "session.manage",
    [BW_PERM_OVERRIDE] = "override",
};

const char *const pj_type_names[4] = {
    [BW_TYPE_BOOL] = "bool",
    [BW_TYPE_INT] = "int",
    [BW_TYPE_FLOAT] = "float",
    [BW_TYPE_STRING] = "string",
};

const char *bw_permission_name(enum bw_permission perm)
{
    if ((unsigned)perm >= BW_PERM_COUNT_)
        return NULL;
    return pj_permission_names[perm];
}

bool pj_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > BW_PROJECT_NAME_MAX)
        return false;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/* ---- hash table ----------------------------------------------------- */

/* FNV-1a with a secret seed, then a 64-bit finaliser to spread it. */
static uint64_t name_hash(uint64_t seed, const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

static uint64_t table_seed(const void *table)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (uint64_t)(uintptr_t)table * 0x9e3779b97f4a7c15u;
    return seed;
}

static struct pj_name_entry *table_probe(const struct pj_names *t, const char *name, size_t len)
{
    size_t i = (size_t)name_hash(t->seed, name, len) & t->mask;
    for (;;) {
        struct pj_name_entry *e = &t->slots[i];
        if (!e->name || (e->len == len && memcmp(e->name, name, len) == 0))
            return e;
        i = (i + 1) & t->mask;
    }
}

/* Rehashes into at least twice the room for want names. */
static bool table_grow(struct pj_names *t, size_t want)
{
    size_t cap = t->slots ? (t->mask + 1) * 2 : 64;
    while (cap / 2 < want)
        cap *= 2;
    struct pj_name_entry *slots = bw_calloc(cap, sizeof(*slots));
    if (!slots)
        return false;
    struct pj_names grown = {.slots = slots, .mask = cap - 1, .count = t->count, .seed = t->seed};
    if (!t->slots)
        grown.seed = table_seed(t);
    for (size_t i = 0; t->slots && i <= t->mask; i++) {
        const struct pj_name_entry *e = &t->slots[i];
        if (e->name)
            *table_probe(&grown, e->name, e->len) = *e;
    }
    bw_free(t->slots);
    *t = grown;
    return true;
}

const struct pj_name_entry *pj_names_add(struct pj_ctx *ctx, enum pj_ns ns, const char *name,
                                         size_t len, uint32_t kind, size_t index)
{
    struct pj_names *t = &ctx->names[ns];
    if (!t->slots || (t->count + 1) * 2 > t->mask + 1) {
        if (!table_grow(t, t->count + 1)) {
            ctx->nomem = true;
            return NULL;
        }
    }
    struct pj_name_entry *e = table_probe(t, name, len);
    if (e->name)
        return e;
    *e = (struct pj_name_entry){.name = name, .len = (uint32_t)len, .kind = kind, .index = index};
    t->count++;
    return NULL;
}

void pj_names_reserve(struct pj_ctx *ctx, enum pj_ns ns, size_t more)
{
    struct pj_names *t = &ctx->names[ns];
    size_t want = t->count + more;
    /* Bounded by the element limits, so the doubling cannot overflow. */
    if (ns == PJ_NS_NONE || want > BW_PROJECT_MAX_TAGS || (t->slots && want * 2 <= t->mask + 1))
        return;
    if (!table_grow(t, want))
        ctx->nomem = true;
}

const struct pj_name_entry *pj_names_find(const struct pj_ctx *ctx, enum pj_ns ns, const char *name,
                                          size_t len)
{
    const struct pj_names *t = &ctx->names[ns];
    if (!t->slots || len > BW_PROJECT_NAME_MAX)
        return NULL;
    const struct pj_name_entry *e = table_probe(t, name, len);
    return e->name ? e : NULL;
}

void pj_names_clear(struct pj_ctx *ctx)
{
    for (size_t i = 0; i < PJ_NS_COUNT_; i++) {
        bw_free(ctx->names[i].slots);
        ctx->names[i] = (struct pj_names){0};
    }
}

const char *pj_names_path(enum pj_ns ns, const struct pj_name_entry *entry, char *out, size_t size)
{
    /* Log groups are indexed by history.groups, not by the listed
     * element: history.c words their duplicates itself. */
    static const char *const arrays[PJ_NS_COUNT_] = {
        [PJ_NS_SCAN_CLASS] = "scan_classes",
        [PJ_NS_DEVICE] = "devices",
        [PJ_NS_TAG] = "tags",
    };
    int n;
    if (ns == PJ_NS_SIM && entry->kind < BW_SIM_KIND_COUNT_)
        n = snprintf(out, size, "simulator.%s[%zu].name", pj_sim_kind_keys[entry->kind],
                     entry->index);
    else if (arrays[ns])
        n = snprintf(out, size, "%s[%zu].name", arrays[ns], entry->index);
    else
        n = snprintf(out, size, "name");
    if (n < 0 && size > 0)
        out[0] = '\0';
    return out;
}

const char *pj_names_noun(enum pj_ns ns, uint32_t kind)
{
    switch (ns) {
    case PJ_NS_SCAN_CLASS:
        return "scan class";
    case PJ_NS_DEVICE:
        return "device";
    case PJ_NS_TAG:
        return "tag";
    case PJ_NS_LOG_GROUP:
        return "log group";
    case PJ_NS_SIM:
        return kind < BW_SIM_KIND_COUNT_ ? pj_sim_kind_nouns[kind] : "simulator element";
    case PJ_NS_NONE:
    case PJ_NS_COUNT_:
        break;
    }
    return "name";
}
