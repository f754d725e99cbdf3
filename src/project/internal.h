/* SPDX-License-Identifier: Apache-2.0
 *
 * project/internal.h: what the loader's files share. The loader is one
 * table-driven walker (schema.c) over field tables that each object kind
 * declares (load.c for the top level, devices.c, simulator.c, tags.c,
 * history.c, audit.c, security.c, security_ldap.c); the tables say key, JSON kind, required,
 * bounds, default and where the value goes, and small check callbacks add what a table cannot say
 * (cross-field and cross-reference rules). Errors are collected with the JSON path of the walk
 * (errors.c); names live in one hash table per name space (names.c). Everything runs on the
 * caller's thread; the context is the only state.
 */
#ifndef BW_PROJECT_INTERNAL_H
#define BW_PROJECT_INTERNAL_H

#include "project/project.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a JSON path while walking; errors keep the first 191 bytes. */
#define PJ_PATH_MAX 256
/* Most fields one object kind has (the bit set in struct pj_seen). */
#define PJ_FIELDS_MAX 16
/* Bytes of a user string quoted in a reason, and the buffer that holds
 * them quoted (every byte may become \xNN, plus quotes and "..."). */
#define PJ_QUOTE_IN_MAX 48
#define PJ_QUOTE_BUF (PJ_QUOTE_IN_MAX * 4 + 8)
/* A device address ("ELEMENT.VARIABLE" for the simulator). */
#define PJ_ADDRESS_MAX 256
/* A string tag's initial value: core holds at most this many bytes. */
#define PJ_INITIAL_STRING_MAX 255
/* A tag whose "type" was missing or invalid (tag_init's value, replaced
 * when the type is valid): rules that name it skip their type checks. */
#define PJ_TYPE_UNSET ((enum bw_type)4)
/* Values of one step signal. */
#define PJ_MAX_STEPS 256
/* All 31 areas: bits 1..31. */
#define PJ_ALL_AREAS 0xFFFFFFFEu

/* ---- name spaces ---------------------------------------------------- */

/* PJ_NS_LOG_GROUP is filled by hand (history.c), with the index into
 * history.groups rather than the listed element's. */
enum pj_ns {
    PJ_NS_NONE = 0,
    PJ_NS_SCAN_CLASS,
    PJ_NS_DEVICE,
    PJ_NS_SIM,
    PJ_NS_TAG,
    PJ_NS_LOG_GROUP,
    PJ_NS_COUNT_
};

struct pj_name_entry {
    const char *name; /* borrowed from the project being built */
    uint32_t len;
    uint32_t kind; /* enum bw_sim_kind in PJ_NS_SIM, else 0 */
    size_t index;  /* into the array of that kind */
};

/* Open addressing, linear probing, load factor at most 1/2; the hash is
 * seeded per table so a crafted file cannot force collisions. */
struct pj_names {
    struct pj_name_entry *slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
    size_t count;
    uint64_t seed;
};

/* ---- the string pool (pool.c) ---------------------------------------- */

struct pj_pool_chunk;
struct pj_pool {
    struct pj_pool_chunk *head;
};

/* Copies len bytes of s, NUL-terminated, into the pool; NULL when out of
 * memory. The copy lives until pj_pool_clear(). */
char *pj_pool_strndup(struct pj_pool *pool, const char *s, size_t len);
/* size zeroed bytes aligned for any type (max_align_t), living until
 * pj_pool_clear(); NULL when out of memory (the caller sets ctx->nomem).
 * For the project's small arrays, which then need no freeing of their
 * own. */
void *pj_pool_alloc(struct pj_pool *pool, size_t size);
void pj_pool_clear(struct pj_pool *pool);

/* A loaded project and the pool that holds its strings; what
 * bw_project_parse() hands out is &box->project. */
struct pj_project_box {
    struct bw_project project;
    struct pj_pool pool;
};

/* ---- parsing a large file on two threads (split_parse.c) ------------- */

/* Below this size the ordinary parse is as fast. */
#define PJ_SPLIT_MIN_BYTES (1024u * 1024u)

struct pj_reaper;
/* The same tree json_loadb(data, len, JSON_REJECT_DUPLICATES) would give,
 * parsed in parts in parallel, one of them as a job on helper; NULL when
 * the text does not lend itself to that or a part fails, and the caller
 * parses it whole. */
json_t *pj_parse_split(struct pj_reaper *helper, const char *data, size_t len);

/* ---- the helper thread for large files (reaper.c) ------------------- */

/* Starts a helper thread; NULL when it cannot (then frees are inline). */
struct pj_reaper *pj_reaper_start(void);
/* Has the helper run job(arg) (before any freeing); at most one job at a
 * time, then pj_reaper_wait() until it is done. */
void pj_reaper_submit(struct pj_reaper *r, void (*job)(void *), void *arg);
void pj_reaper_wait(struct pj_reaper *r);
/* Takes over one reference to value and drops it on the reaper thread
 * (inline when r is NULL). */
void pj_reaper_release(struct pj_reaper *r, json_t *value);
/* Waits until everything handed over is freed, then ends the thread. */
void pj_reaper_finish(struct pj_reaper *r);

/* ---- the walk ------------------------------------------------------- */

struct pj_cond_ref;

struct pj_ctx {
    struct bw_project *project;
    struct pj_pool *pool;     /* the project's strings */
    struct pj_reaper *reaper; /* frees checked JSON; NULL: inline */
    struct bw_project_errors *errors;
    size_t errors_cap;
    bool nomem;     /* an allocation failed: unwind, return BW_ENOMEM */
    bool too_large; /* a limit was hit: return BW_ETOOLARGE */
    char path[PJ_PATH_MAX];
    size_t path_len;
    struct pj_names names[PJ_NS_COUNT_];
    /* Conditions of write rules waiting for every tag to be known
     * (write_rules.c), in file order; pool memory. */
    struct pj_cond_ref *cond_refs, *cond_refs_last;
};

/* What the walker expects of a value. */
enum pj_kind {
    PJ_NAME,   /* string, name rules, registered in .ns */
    PJ_TEXT,   /* string of at most .imax bytes */
    PJ_CHOICE, /* string among .choices, stored as its index */
    PJ_REF,    /* string naming an element of .ns (of kind .ns_kind) */
    PJ_INT,    /* integer within the bounds */
    PJ_NUMBER, /* integer or real within the bounds */
    PJ_BOOL,   /* true or false */
    PJ_OBJECT, /* object walked with .object into dst + offset; NULL:
                  type checked only, the parent's check walks it */
    PJ_ARRAY,  /* array of objects walked with .array */
    PJ_LIST,   /* array handed to .list with dst + offset */
    PJ_ANY,    /* any value; the parent's check handles it */
};

/* Where a valid value is stored, at dst + offset. */
enum pj_store {
    PJ_ST_NONE = 0,
    PJ_ST_STR,    /* char *, a copy in the project's string pool */
    PJ_ST_OWNED,  /* char *, a heap copy (bw_strndup) that the object's
                     clear function frees (the security section) */
    PJ_ST_U16,    /* uint16_t */
    PJ_ST_U32,    /* uint32_t */
    PJ_ST_U64,    /* uint64_t */
    PJ_ST_INT,    /* int */
    PJ_ST_ENUM,   /* an enum (int-sized): the choice's index */
    PJ_ST_SIZE,   /* size_t: a resolved reference, SIZE_MAX when absent */
    PJ_ST_DOUBLE, /* double */
    PJ_ST_BOOL,   /* bool */
};

#define PJ_REQUIRED 0x01u
#define PJ_HAS_MIN 0x02u
#define PJ_HAS_MAX 0x04u
#define PJ_MIN_EXCLUSIVE 0x08u /* with PJ_HAS_MIN: greater than, not equal */
#define PJ_HAS_DEFAULT 0x10u   /* store .def when the key is absent */
#define PJ_MIN_FLOOR                                                                               \
    0x20u /* with PJ_HAS_MIN (PJ_INT): below it reads                                              \
             "is below the minimum of N", for values                                               \
             the project may raise but not lower */

struct pj_ctx;
struct pj_seen;
struct pj_object_spec;
struct pj_array_spec;

struct pj_field {
    const char *key;
    enum pj_kind kind;
    unsigned flags;
    enum pj_store store;
    size_t offset;
    int64_t imin, imax; /* PJ_INT bounds; PJ_TEXT: byte limits (imin with
                           PJ_HAS_MIN) */
    double dmin, dmax;  /* PJ_NUMBER bounds */
    double def;         /* with PJ_HAS_DEFAULT */
    const char *const *choices;
    size_t choice_count;
    enum pj_ns ns;    /* PJ_NAME: registered in; PJ_REF: looked up in */
    uint32_t ns_kind; /* the kind registered or expected (PJ_NS_SIM) */
    const struct pj_object_spec *object;
    const struct pj_array_spec *array;
    /* PJ_LIST: checks and stores the array; false when it reported errors. */
    bool (*list)(struct pj_ctx *ctx, json_t *value, void *field_dst);
};

/* Which fields an object had (value[i], whatever its validity) and which
 * were valid and stored (bit i of ok). */
struct pj_seen {
    json_t *value[PJ_FIELDS_MAX];
    uint32_t ok;
};

static inline bool pj_seen_ok(const struct pj_seen *seen, size_t field)
{
    return (seen->ok >> field) & 1u;
}

struct pj_object_spec {
    const struct pj_field *fields;
    size_t count;
    /* Cross-field rules, run after the fields with the path at the
     * object; index is the element's index in its array (0 otherwise). */
    void (*check)(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen);
};

struct pj_array_spec {
    const char *noun; /* plural, for the limit message: "tags" */
    size_t elem_size;
    size_t limit;
    size_t items_offset;      /* of the T * in the parent */
    size_t count_offset;      /* of the size_t count in the parent */
    void (*init)(void *elem); /* defaults before the walk; may be NULL */
    const struct pj_object_spec *elem;
};

/* Checks obj (an object) against spec, stores what is valid into dst and
 * reports every problem at the current path. */
void pj_object_walk(struct pj_ctx *ctx, json_t *obj, const struct pj_object_spec *spec, void *dst,
                    size_t index, struct pj_seen *seen);
/* Stores the defaults of spec's fields into dst, as for an empty object. */
void pj_object_defaults(const struct pj_object_spec *spec, void *dst);

/* ---- paths and errors (errors.c) ------------------------------------ */

/* Appends a segment to the current path and returns the length to give
 * back to pj_path_pop(). */
size_t pj_path_push_key(struct pj_ctx *ctx, const char *key);
size_t pj_path_push_index(struct pj_ctx *ctx, size_t index);
void pj_path_pop(struct pj_ctx *ctx, size_t saved);

/* Records an error at the current path (or at path + key). */
void pj_error(struct pj_ctx *ctx, const char *fmt, ...) BW_PRINTF(2, 3);
void pj_error_key(struct pj_ctx *ctx, const char *key, const char *fmt, ...) BW_PRINTF(3, 4);
/* Records an error at an explicit path (the file: ""). */
void pj_error_at(struct pj_ctx *ctx, const char *path, const char *fmt, ...) BW_PRINTF(3, 4);

/* Quotes len bytes of s for a reason: "..." with \" \\ and \xNN for
 * anything but printable ASCII, cut after PJ_QUOTE_IN_MAX bytes. out
 * holds PJ_QUOTE_BUF bytes; returns out. */
const char *pj_quote(char *out, const char *s, size_t len);
/* "a, b, c" into out (size bytes); returns out. */
const char *pj_join(char *out, size_t size, const char *const *items, size_t count);

/* ---- names (names.c) ------------------------------------------------ */

extern const char *const pj_permission_names[BW_PERM_COUNT_];
extern const char *const pj_type_names[4];

bool pj_name_valid(const char *s, size_t len);
/* Adds name to ns. Returns the earlier entry of the same name (and adds
 * nothing) or NULL; sets ctx->nomem when the table cannot grow. */
const struct pj_name_entry *pj_names_add(struct pj_ctx *ctx, enum pj_ns ns, const char *name,
                                         size_t len, uint32_t kind, size_t index);
/* Makes room for more names at once (one allocation, not a doubling
 * series); sets ctx->nomem when it cannot. */
void pj_names_reserve(struct pj_ctx *ctx, enum pj_ns ns, size_t more);
const struct pj_name_entry *pj_names_find(const struct pj_ctx *ctx, enum pj_ns ns, const char *name,
                                          size_t len);
/* "tags[3].name" for an entry, into out (size bytes); returns out. */
const char *pj_names_path(enum pj_ns ns, const struct pj_name_entry *entry, char *out, size_t size);
/* "device", "scan class", "tag", or the simulator kind's ("tank"). */
const char *pj_names_noun(enum pj_ns ns, uint32_t kind);
void pj_names_clear(struct pj_ctx *ctx);

/* ---- the parts -------------------------------------------------------- */

extern const struct pj_array_spec pj_scan_classes_spec;
extern const struct pj_array_spec pj_devices_spec;
extern const struct pj_object_spec pj_simulator_spec;
extern const struct pj_array_spec pj_tags_spec;
extern const struct pj_object_spec pj_history_spec;
extern const struct pj_object_spec pj_audit_spec;
extern const struct pj_object_spec pj_security_spec;

/* audit.c: warn_percent of the audit and history sections: 1..max
 * integers, each 1..99, each above the one before, into out; *count_out
 * set when all are valid. A PJ_LIST parser's body. */
bool pj_warn_percent_parse(struct pj_ctx *ctx, json_t *value, uint8_t *out, size_t max,
                           size_t *count_out);

/* audit.c: the audit section's defaults, stored before the walk so that
 * a project without the section has them. */
void pj_audit_init(struct bw_project_audit *audit);

/* history.c: the history section's defaults (the group "default" in the
 * pool, registered as a log group name), stored before the walk so that
 * a project without the section has them and tags may name the group;
 * sets ctx->nomem when out of memory. */
void pj_history_init(struct pj_ctx *ctx);

/* history.c: a tag's "log" object (the tag's type is valid), walked at
 * the tag's path into tag->log; groups resolve against the history
 * section, which the root walk visits before the tags. */
void pj_tag_log_check(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *log);

/* tags.c: a value of tag's type (whose "type" is valid) and range, from
 * v, into *out (strings copied into the pool); reports at the current path
 * why it is not ("must be an integer (the tag is int)", "must be between
 * min (0) and max (10)") and returns false. */
bool pj_tag_value_parse(struct pj_ctx *ctx, const struct bw_project_tag *tag, json_t *v,
                        struct bw_value *out);

/* tags.c: an area list ([1..31], at least one, none twice) into the
 * uint32_t mask at field_dst (bit n: area n); a PJ_LIST callback. */
bool pj_areas_parse(struct pj_ctx *ctx, json_t *value, void *field_dst);

/* security_ldap.c: allocates security->ldap (the project owns it from
 * then on) and walks the "ldap" object value into it at the current path
 * + "ldap"; group mappings resolve against security->roles, so the roles
 * come first. */
void pj_ldap_walk(struct pj_ctx *ctx, json_t *value, struct bw_project_security *security);
/* security_ldap.c: frees ldap, its strings and group mappings (NULL is
 * fine). */
void pj_ldap_free(struct bw_project_ldap *ldap);

/* simulator.c: "signals", "tanks", ... by enum bw_sim_kind; singular
 * names "signal", "tank", ... */
extern const char *const pj_sim_kind_keys[BW_SIM_KIND_COUNT_];
extern const char *const pj_sim_kind_nouns[BW_SIM_KIND_COUNT_];

/* simulator.c: the sim driver's binding of a tag's address. */
void pj_sim_bind(struct pj_ctx *ctx, struct bw_project_tag *tag);

/* devices.c: resolves tag->address for the driver of tag->device (a
 * valid index), with the tag's "modbus" object (NULL when absent; only
 * the modbus driver takes one); reports errors at the tag's path. */
void pj_driver_bind(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *options);
/* modbus.c: the modbus driver's binding of a tag's address and options. */
void pj_modbus_bind(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *options);
/* modbus.c: the modbus driver's device parameters. */
extern const struct pj_object_spec pj_modbus_params_spec;

/* write_rules.c: a tag's "validate" and "failsafe" objects (each NULL
 * when absent), walked at the tag's path once its type, range, device and
 * access are known; index is the tag's index. Everything kept is copied
 * into the pool (the tag's JSON is released right after). Condition tags
 * are resolved by pj_tag_rules_resolve once every tag is known, which also
 * applies the rules that need a whole tag (its "initial"). */
void pj_tag_rules_check(struct pj_ctx *ctx, struct bw_project_tag *tag, size_t index,
                        json_t *validate, json_t *failsafe);
void pj_tag_rules_resolve(struct pj_ctx *ctx);

/* load.c: frees the project's arrays (partial elements too), its audit
 * forwarding settings and its security policy; the other strings are the
 * pool's. */
void pj_project_clear(struct bw_project *project);

#endif
