/* SPDX-License-Identifier: Apache-2.0
 *
 * project: loads and validates project.json, the integrator's description
 * of the plant. The loader checks everything and reports every error at
 * once, each with its JSON path and a plain reason; a project with any
 * error is refused as a whole. docs/project-file.md documents the format
 * and docs/project.schema.json is its JSON Schema.
 *
 * The top level (format 1):
 *   {
 *     "format": 1,                      required, must be 1
 *     "name": "waterworks",             required, a name (see below)
 *     "description": "...",             optional text, <= 1024 bytes
 *     "scan_classes": [ {"name", "period_ms" 1..3600000} ],
 *     "devices": [ {"name", "driver": "sim"|"modbus", "scan_class",
 *                   "description"?, "parameters"?: {...per driver} } ],
 *     "simulator": { "signals": [...], "tanks": [...], "pumps": [...],
 *                    "valves": [...], "dosers": [...] },
 *     "tags": [ {"name", "type": "bool"|"int"|"float"|"string",
 *                "description"?, "unit"?, "min"?, "max"?,
 *                "device"?, "address"?, "scan_class"?, "initial"?,
 *                "access"?: {"read"?: {"level", "areas"},
 *                            "write"?: {"level", "areas", "permission"?,
 *                                       "approval"?, "signature"?}},
 *                "validate"?: {"max_change"?, "allowed"?, "when"?},
 *                "failsafe"?: {"value", "on", "comm_loss_ms"?},
 *                "log"?: {"mode"?, "deadband"?, "deadband_percent"?,
 *                         "period_ms"?, "max_interval_ms"?, "group"?} } ],
 *     "history": { "groups"?: [ {"name", "retention_days"?,
 *                  "max_size_mb"?} ], "warn_percent"?, "queue_samples"?,
 *                  "spool_mb"?, "min_free_mb"? },
 *     "audit": { "max_size_mb"?, "max_age_days"?, "warn_percent"?,
 *                "when_full"?, "on_failure"?, "checkpoint_records"?,
 *                "checkpoint_seconds"?, "forward"?: {"host", "port"?,
 *                "ca_file", "server_name"?, "client_cert"?, "client_key"?,
 *                "facility"?} },
 *     "security": { "roles"?, "password"?, "lockout"?, "sessions"?,
 *                   "mfa"?, "banner"?, "banner_must_accept"?, "ldap"? }
 *   }
 *
 * Names match [A-Za-z][A-Za-z0-9_.]* and are at most 128 bytes; names of
 * one kind are unique (simulator elements share one name space). A tag
 * with a "device" needs an "address" in that device's address space; a
 * tag without a device is a memory tag (written by operators, holds
 * "initial" until then). A tag is writable only when access.write is
 * given. Levels are 1..9999, areas a list of 1..31, permission one of the
 * permission names (default "tag.write"). Read access defaults to level 1
 * in every area. write.approval (bool, default false): each write needs a
 * second, different user's approval; write.signature (bool, default
 * false): the writer re-enters the password and gives a reason.
 *
 * Simulator (driver "sim"; device parameters: "seed" integer, optional):
 *   signals: {"name", "shape": sine|ramp|square|random_walk|step,
 *             "min", "max", "period_ms", "steps"?: [numbers] (step only),
 *             "max_step"?: number (random_walk only)}
 *   tanks:   {"name", "area_m2" > 0, "height_m" > 0, "level_m" initial}
 *   pumps:   {"name", "from"?: tank, "to"?: tank, "flow_m3h" > 0,
 *             "pressure_bar" > 0, "running"?: bool initial}
 *   valves:  {"name", "from": tank, "to"?: tank, "flow_m3h" > 0,
 *             "position_pct"?: 0..100 initial}
 *   dosers:  {"name", "tank", "max_dose_mg_l" > 0, "rate_pct"?: 0..100,
 *             "decay_per_h"?: >= 0}
 * Sim addresses are "ELEMENT.VARIABLE"; bw_project_sim_vars lists the
 * variables of each element kind, their type and whether they are
 * writable. A writable tag must bind a writable variable; the tag's type
 * must match the variable's.
 *
 * Audit (optional; absent: every default below, no forwarding):
 *   max_size_mb 1..1048576 (1024), max_age_days 0..36500 (0: no limit;
 *   above 0 only with when_full "archive"), warn_percent 1..4 integers
 *   1..99 strictly increasing ([80, 95]), when_full archive|refuse
 *   (archive), on_failure continue|refuse (continue), checkpoint_records
 *   1..1000000 (1000), checkpoint_seconds 1..86400 (60). forward: host
 *   (1..253 bytes, no whitespace or control characters), port 1..65535
 *   (6514), ca_file (a path, relative to the project directory, kept as
 *   written), server_name (as host; absent: host), client_cert and
 *   client_key (paths, both or neither), facility 0..23 (13).
 *
 * History (optional; absent: every default below; docs/internals/
 * historian.md says what the historian does with it):
 *   groups: [ {"name", "retention_days" 1..36500 (365), "max_size_mb"
 *     0..1048576 (0: no cap)} ] (at most 64 listed, at most 64 in all).
 *     A group "default" (365 days, no cap) always exists, at index 0; a
 *     listed group of that name replaces it, any other name adds a group
 *     after it, in the order listed. Group names follow the name rule and
 *     are unique among groups (their own name space).
 *   warn_percent 1..4 integers 1..99 strictly increasing ([80, 95]; of a
 *   group's max_size_mb), queue_samples 1024..10000000 (1000000: the
 *   writer's bounded queue), spool_mb 0..1048576 (256; 0: no spool),
 *   min_free_mb 0..1048576 (1024: free space of the file system kept).
 * A tag's "log" (optional; absent: the tag is not historised; bool, int
 * and float tags only): mode "change"|"cyclic" (change), deadband >= 0
 * (0) and deadband_percent 0..100 (0) (both for mode change and int and
 * float tags only), period_ms 100..86400000 (required for cyclic, refused
 * for change), max_interval_ms 0 or 1000..86400000 (0: none), group (a
 * group's name; "default").
 *
 * Security (optional; absent: every default in the structs below, no
 * banner, no directory). Every key of every object is optional unless
 * said otherwise.
 *   roles: [ {"name", "permissions": [permission names, distinct]} ]
 *     The six default roles are always there (viewer, operator,
 *     supervisor, engineer, security-admin, auditor; see
 *     bw_project_security_defaults); a listed role with a default's name
 *     replaces its permissions, another name adds a role; at most 64
 *     roles in all. Role names follow the name rule and may contain '-'.
 *   password: {"min_length", "max_length" (>= min_length), "require":
 *     ["lower","upper","digit","symbol"] distinct, "min_classes",
 *     "reject_user_name", "history", "dictionary_check", "max_age_days",
 *     "min_age_hours", "argon2": {"memory_kib", "iterations",
 *     "parallelism"} (each at least its default: "is below the minimum
 *     of N"), "hash_concurrency", "hash_queue"}
 *   lockout: {"max_failures", "window_seconds", "lock_seconds",
 *     "address_max_failures", "address_window_seconds"}
 *   sessions: {"idle_seconds", "lifetime_seconds", "max_per_user",
 *     "max_total", "when_full": "refuse_new"|"end_oldest",
 *     "override_max_seconds", "approval_window_seconds"}
 *   mfa: "off"|"untrusted"|"always"
 *   banner: 1..4096 bytes of UTF-8 without control characters other than
 *     line feed and tab; banner_must_accept (bool) only with a banner.
 *   ldap: {"url" (required; ldaps://host[:port] with tls "ldaps", the
 *     default, or ldap://host[:port] with tls "starttls"), "tls",
 *     "ca_file" (required), "bind_dn" and "bind_password_file" (both or
 *     neither), "user_base" (required), "user_filter" (required, one
 *     "%s"), "group_attribute", or "group_base" with "group_filter" (one
 *     "%s"), "timeout_ms", "level", "areas", "groups": [ {"group",
 *     "role": an existing role} ] (at most 64; they need group_attribute
 *     or group_filter)}. Texts and paths are 1..1024 bytes, paths kept as
 *     written (relative: to the project directory).
 * Bounds and defaults are in the comments of the structs.
 *
 * Ownership: bw_project_load() returns a project that owns every string
 * in it; bw_project_free() releases it. Any thread (no shared state).
 */
#ifndef BW_PROJECT_H
#define BW_PROJECT_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits that give a clear error instead of exhausting the machine. */
#define BW_PROJECT_MAX_FILE_BYTES (64u * 1024u * 1024u)
#define BW_PROJECT_MAX_DEPTH 16
/* JSON values (counted as the structural characters outside strings):
 * the parser's tree costs tens of bytes per value, so this bounds the
 * memory a hostile file can make the loader use; a realistic project at
 * the tag limit has 2.5 to 4 million. */
#define BW_PROJECT_MAX_JSON_VALUES 5000000u
#define BW_PROJECT_MAX_TAGS 100000u
#define BW_PROJECT_MAX_DEVICES 1024u
/* Each field device is polled by a thread of its own: a bound on those. */
#define BW_PROJECT_MAX_FIELD_DEVICES 256u
#define BW_PROJECT_MAX_SCAN_CLASSES 64u
#define BW_PROJECT_MAX_SIM_ELEMENTS 1024u
#define BW_PROJECT_MAX_ERRORS 200u
#define BW_PROJECT_NAME_MAX 128u
#define BW_PROJECT_TEXT_MAX 1024u

/* ---- errors --------------------------------------------------------- */

struct bw_project_error {
    char path[192];   /* JSON path, e.g. tags[12].type; "" for the file */
    char reason[320]; /* plain reason, e.g. "flaot" is not one of ... */
};

struct bw_project_errors {
    struct bw_project_error *items;
    size_t count;
    size_t omitted; /* errors beyond BW_PROJECT_MAX_ERRORS, counted only */
};

void bw_project_errors_clear(struct bw_project_errors *errors);

/* ---- the model ------------------------------------------------------ */

enum bw_permission {
    BW_PERM_TAG_READ = 0,
    BW_PERM_TAG_WRITE,
    BW_PERM_ALARM_ACK,
    BW_PERM_ALARM_SHELVE,
    BW_PERM_USER_MANAGE,
    BW_PERM_AUDIT_READ,
    BW_PERM_CONFIG_CHANGE,
    BW_PERM_BACKUP_RUN,
    BW_PERM_SESSION_MANAGE,
    BW_PERM_OVERRIDE,
    BW_PERM_COUNT_
};
/* "tag.read" ... "override"; NULL for an out-of-range value. */
const char *bw_permission_name(enum bw_permission perm);

struct bw_project_access {
    uint16_t read_level;  /* 1..9999 */
    uint32_t read_areas;  /* bit n set: area n (1..31) */
    bool writable;        /* access.write present */
    uint16_t write_level; /* 1..9999 */
    uint32_t write_areas;
    enum bw_permission write_permission;
    /* access.write.approval: a second, different user with the write
     * permission must approve each write (SR 2.1 RE 4). */
    bool write_approval;
    /* access.write.signature: the acting user re-enters the password and
     * gives a reason, recorded with the write (SR 2.12). */
    bool write_signature;
};

struct bw_project_scan_class {
    char *name;
    uint32_t period_ms;
};

enum bw_driver_kind { BW_DRIVER_SIM = 0, BW_DRIVER_MODBUS };

/* A Modbus TCP device (driver "modbus"; "parameters" of the device).
 * Strings belong to the project. */
struct bw_project_modbus_device {
    char *host;              /* required: name or address, 1..253 bytes */
    uint16_t port;           /* 1..65535, default 502 */
    uint16_t unit_id;        /* 0..255, default 1 */
    uint32_t timeout_ms;     /* response timeout 10..60000, default 1000 */
    uint32_t retries;        /* attempts after the first on a timeout: 0..10, default 1 */
    uint32_t backoff_min_ms; /* first reconnect delay 10..600000, default 1000 */
    uint32_t backoff_max_ms; /* doubled up to this: backoff_min_ms..3600000, default 30000 */
    uint32_t max_in_flight;  /* requests outstanding at once 1..16, default 1 */
    uint32_t max_registers;  /* registers per read 1..125, default 125 */
    uint32_t max_bits;       /* coils or inputs per read 1..2000, default 2000 */
    uint32_t max_gap;        /* unused registers bridged to save a request 0..124 (bits: 16x),
                                default 8 */
    bool read_back;          /* read written values back to confirm them, default true */
};

/* Modbus data areas (the tag's address prefix). */
enum bw_modbus_area {
    BW_MODBUS_COIL = 0,         /* "coil:N"       read/write bits */
    BW_MODBUS_DISCRETE_INPUT,   /* "discrete:N"   read-only bits */
    BW_MODBUS_HOLDING_REGISTER, /* "holding:N[.B]" read/write registers */
    BW_MODBUS_INPUT_REGISTER,   /* "input:N[.B]"  read-only registers */
};

/* How a tag's registers encode its value ("modbus": {"type"}). */
enum bw_modbus_type {
    BW_MODBUS_BOOL = 0, /* a coil, a discrete input, or bit B of a register */
    BW_MODBUS_INT16,
    BW_MODBUS_UINT16,
    BW_MODBUS_INT32,
    BW_MODBUS_UINT32,
    BW_MODBUS_FLOAT32, /* IEEE 754 */
    BW_MODBUS_FLOAT64,
    BW_MODBUS_STRING, /* "length" registers, two bytes each, NUL-padded */
};

/* A tag's place in a Modbus device (from "address" and "modbus"). */
struct bw_project_modbus_map {
    enum bw_modbus_area area;
    uint16_t address; /* 0-based protocol address */
    uint16_t count;   /* bits or registers spanned: 1 (bits, 16-bit types), 2, 4, or the
                         string's length; address + count <= 65536 */
    int8_t bit;       /* 0..15 within a register; -1: none */
    enum bw_modbus_type type;
    bool word_swap; /* "word_order": "little": least significant register first
                       (default "big": most significant first) */
    bool byte_swap; /* "byte_order": "little": low byte first in each register
                       (default "big") */
    bool scaled;    /* "scale": eu = eu_min + (raw - raw_min) *
                       (eu_max - eu_min) / (raw_max - raw_min); float tags only */
    double raw_min, raw_max, eu_min, eu_max;
};

struct bw_project_device {
    char *name;
    char *description; /* may be NULL */
    enum bw_driver_kind driver;
    size_t scan_class;                      /* index into scan_classes */
    uint64_t sim_seed;                      /* sim: parameters.seed, default 1 */
    struct bw_project_modbus_device modbus; /* driver modbus */
};

enum bw_sim_kind {
    BW_SIM_SIGNAL = 0,
    BW_SIM_TANK,
    BW_SIM_PUMP,
    BW_SIM_VALVE,
    BW_SIM_DOSER,
    BW_SIM_KIND_COUNT_
};

enum bw_sim_shape {
    BW_SHAPE_SINE = 0,
    BW_SHAPE_RAMP,
    BW_SHAPE_SQUARE,
    BW_SHAPE_RANDOM_WALK,
    BW_SHAPE_STEP
};

struct bw_project_signal {
    char *name;
    enum bw_sim_shape shape;
    double min, max;
    uint32_t period_ms; /* sine/ramp/square: one cycle; random_walk: one
                           step; step: how long each step is held */
    double max_step;    /* random_walk; default (max - min) / 50 */
    double *steps;      /* step: values in turn (within min..max) */
    size_t step_count;
};

#define BW_SIM_NO_TANK SIZE_MAX

struct bw_project_tank {
    char *name;
    double area_m2, height_m, level_m;
};

struct bw_project_pump {
    char *name;
    size_t from, to; /* tank indexes or BW_SIM_NO_TANK (outside world) */
    double flow_m3h, pressure_bar;
    bool running;
};

struct bw_project_valve {
    char *name;
    size_t from, to;
    double flow_m3h, position_pct;
};

struct bw_project_doser {
    char *name;
    size_t tank;
    double max_dose_mg_l, rate_pct, decay_per_h;
};

/* A variable of a simulator element that a tag can bind. */
struct bw_sim_var {
    enum bw_sim_kind kind;
    const char *name;
    enum bw_type type;
    bool writable;
};
/* signal.value; tank.level, tank.volume, tank.level_pct, tank.chlorine;
 * pump.running (w), pump.flow, pump.pressure; valve.position (w),
 * valve.flow; doser.rate (w), doser.dose (mg/l added at current flow). */
extern const struct bw_sim_var bw_project_sim_vars[];
extern const size_t bw_project_sim_var_count;

/* Input validation of writes (a writable tag's "validate", SR 3.5),
 * checked by the engine's one write path after type and range, in the
 * order allowed, when, max_change (every key optional):
 *   "max_change": {"amount" > 0, "seconds" 1..86400}: within any window
 *     of that many seconds, starting at the first accepted write after
 *     the last window ended, a write may not move the value more than
 *     amount away from the tag's value at the window's start (int and
 *     float tags; a memory tag needs "initial", as a bad value is no
 *     reference);
 *   "allowed": [values of the tag's type] (1..64, distinct, within min
 *     and max; strings at most 255 bytes): the value must be one of them;
 *   "when": [ {"tag", "op": "=="|"!="|"<"|"<="|">"|">=", "value"} ]
 *     (1..8): each condition must hold on the other tag's current value,
 *     which must be of good quality. "tag" names another tag (not the
 *     tag itself; it may come later in the file); bool and string tags
 *     take == and != only; the value is of that tag's type (a float
 *     tag's may be an integer).
 * A refused write names the rule ("validate.when[0]: ..."). Arrays and
 * strings belong to the project. */
enum bw_rule_op { BW_RULE_EQ = 0, BW_RULE_NE, BW_RULE_LT, BW_RULE_LE, BW_RULE_GT, BW_RULE_GE };

#define BW_PROJECT_MAX_ALLOWED 64u
#define BW_PROJECT_MAX_CONDITIONS 8u

struct bw_project_condition {
    size_t tag; /* index into tags */
    enum bw_rule_op op;
    struct bw_value value; /* of that tag's type; strings belong to the project */
};

struct bw_project_write_rules {
    bool has_max_change;
    double max_change;        /* amount, > 0 */
    uint32_t change_seconds;  /* 1..86400 */
    struct bw_value *allowed; /* NULL: any value; of the tag's type */
    size_t allowed_count;
    struct bw_project_condition *when;
    size_t when_count;
};

/* Deterministic output (SR 3.6): a writable device tag's "failsafe":
 *   {"value" (the tag's type, within its range, and one of
 *    validate.allowed when that is given), "on": ["comm_loss",
 *    "shutdown", "integrity_violation", "island_mode"] (1..4, distinct),
 *    "comm_loss_ms" 100..3600000 (default 10000; only with comm_loss)}
 * When one of the events occurs the driver writes value to the device and
 * retries until the device confirms it. */
enum bw_failsafe_event {
    BW_FAILSAFE_COMM_LOSS = 1u << 0,
    BW_FAILSAFE_SHUTDOWN = 1u << 1,
    BW_FAILSAFE_INTEGRITY_VIOLATION = 1u << 2,
    BW_FAILSAFE_ISLAND_MODE = 1u << 3,
};

struct bw_project_failsafe {
    uint32_t events;       /* enum bw_failsafe_event bits; 0: no fail-safe value */
    struct bw_value value; /* strings belong to the project */
    uint32_t comm_loss_ms; /* 0 unless events has BW_FAILSAFE_COMM_LOSS */
};

/* How a logged tag's changes become samples (the tag's "log"). */
enum bw_project_log_mode {
    BW_PROJECT_LOG_CHANGE = 0, /* "change": on a change beyond the deadbands */
    BW_PROJECT_LOG_CYCLIC,     /* "cyclic": the current value every period_ms */
};

/* A tag's "log" object; all zero (enabled false) when absent. */
struct bw_project_log {
    bool enabled; /* "log" present: the tag is historised */
    enum bw_project_log_mode mode;
    double deadband;          /* absolute, >= 0; default 0 (change mode) */
    double deadband_percent;  /* 0..100 of the tag's span; default 0 (change mode) */
    uint32_t period_ms;       /* 100..86400000 with mode cyclic, else 0 */
    uint32_t max_interval_ms; /* 0 (none, the default) or 1000..86400000 */
    size_t group;             /* index into history.groups; default 0 ("default") */
};

struct bw_project_tag {
    char *name;
    enum bw_type type;
    char *description; /* may be NULL */
    char *unit;        /* may be NULL */
    bool has_min, has_max;
    double min, max;
    size_t device;     /* index into devices, or SIZE_MAX for a memory tag */
    char *address;     /* NULL for a memory tag */
    size_t scan_class; /* index; the device's when the tag names none;
                          SIZE_MAX for a memory tag */
    bool has_initial;
    struct bw_value initial; /* memory tags; for strings s is owned */
    struct bw_project_access access;
    /* resolved sim binding (device driver sim): */
    enum bw_sim_kind sim_kind;
    size_t sim_index;                    /* into the array of that kind */
    size_t sim_var;                      /* index into bw_project_sim_vars */
    struct bw_project_modbus_map modbus; /* resolved binding (driver modbus) */
    struct bw_project_write_rules rules; /* "validate" (writable tags) */
    struct bw_project_failsafe failsafe; /* "failsafe" (writable device tags) */
    struct bw_project_log log;           /* "log" (bool, int and float tags) */
};

/* What the audit trail does at its size or age limit. */
enum bw_project_audit_when_full {
    BW_PROJECT_AUDIT_FULL_ARCHIVE = 0, /* "archive" */
    BW_PROJECT_AUDIT_FULL_REFUSE       /* "refuse" */
};

/* What the daemon does while audit records cannot be written. */
enum bw_project_audit_on_failure {
    BW_PROJECT_AUDIT_FAIL_CONTINUE = 0, /* "continue" */
    BW_PROJECT_AUDIT_FAIL_REFUSE        /* "refuse" */
};

#define BW_PROJECT_AUDIT_MAX_WARN 4

/* Where the audit trail is forwarded (syslog over TLS). Strings belong to
 * the project. */
struct bw_project_audit_forward {
    char *host;        /* 1..253 bytes, no whitespace or control characters */
    uint16_t port;     /* 1..65535, default 6514 */
    char *ca_file;     /* as written; relative: to the project directory */
    char *server_name; /* NULL: host */
    char *client_cert; /* NULL: none; then client_key is NULL too */
    char *client_key;
    int facility; /* syslog facility 0..23, default 13 (log audit) */
};

struct bw_project_audit {
    uint32_t max_size_mb;                            /* 1..1048576, default 1024 */
    uint32_t max_age_days;                           /* 0..36500, default 0: no age limit */
    uint8_t warn_percent[BW_PROJECT_AUDIT_MAX_WARN]; /* 1..99, increasing */
    size_t warn_count;                               /* 1..4; default 80, 95 */
    enum bw_project_audit_when_full when_full;       /* default archive */
    enum bw_project_audit_on_failure on_failure;     /* default continue */
    uint32_t checkpoint_records;                     /* 1..1000000, default 1000 */
    uint32_t checkpoint_seconds;                     /* 1..86400, default 60 */
    struct bw_project_audit_forward *forward;        /* NULL when not configured;
                                                        owned by the project */
};

/* ---- history (section "history"; every field has a default) ---------- */

#define BW_PROJECT_MAX_LOG_GROUPS 64u
#define BW_PROJECT_HISTORY_MAX_WARN 4
/* The group that always exists, and that a tag's log names by default. */
#define BW_PROJECT_LOG_GROUP_DEFAULT 0u

/* A log group: how long its samples are kept and how much room they may
 * take. The name belongs to the project. */
struct bw_project_log_group {
    char *name;
    uint32_t retention_days; /* 1..36500, default 365 */
    uint32_t max_size_mb;    /* 0..1048576; 0: no cap (the default) */
};

struct bw_project_history {
    /* The group "default" at index 0 (as listed, or 365 days and no cap),
     * then the other listed groups in their order; 1..64 groups. The
     * array belongs to the project. */
    struct bw_project_log_group *groups;
    size_t group_count;
    uint8_t warn_percent[BW_PROJECT_HISTORY_MAX_WARN]; /* 1..99, increasing, of a cap */
    size_t warn_count;                                 /* 1..4; default 80, 95 */
    uint32_t queue_samples; /* the writer's queue: 1024..10000000, default 1000000 */
    uint32_t spool_mb;      /* spool file beyond it: 0..1048576 (0: none), default 256 */
    uint32_t min_free_mb;   /* free space kept on the file system: 0..1048576, default 1024 */
};

/* ---- security policy (section "security"; every field has a default) -- */

#define BW_PROJECT_MAX_ROLES 64u
#define BW_PROJECT_MAX_ROLE_GROUPS 64u
#define BW_PROJECT_BANNER_MAX 4096u

/* A role: a name and the permissions it grants (bit 1 << bw_permission). */
struct bw_project_role {
    char *name;
    uint32_t permissions;
};

/* Character classes a password may be required to contain (bit set). */
enum bw_password_class {
    BW_PWCLASS_LOWER = 1u << 0,
    BW_PWCLASS_UPPER = 1u << 1,
    BW_PWCLASS_DIGIT = 1u << 2,
    BW_PWCLASS_SYMBOL = 1u << 3,
};

struct bw_project_password_policy {
    uint32_t min_length;      /* 8..128, default 12 (characters, not bytes) */
    uint32_t max_length;      /* min_length..1024, default 128 */
    uint32_t require_classes; /* enum bw_password_class bits; default lower|upper|digit */
    uint32_t min_classes;     /* 0..4: at least this many classes of any kind; default 0 */
    bool reject_user_name;    /* default true: may not contain the user name */
    uint32_t history;         /* 0..24: not one of the last N passwords; default 5 */
    bool dictionary_check;    /* default true: libcrack2 must accept it */
    uint32_t max_age_days;    /* 0..3650; 0: never expires; default 0 */
    uint32_t min_age_hours;   /* 0..720; default 0 */
    /* Argon2id parameters for new hashes (older hashes are rehashed at
     * the next login). Raising them is allowed; lowering below the
     * defaults is refused by the loader. */
    uint32_t argon2_memory_kib;  /* 19456..4194304, default 19456 (19 MiB) */
    uint32_t argon2_iterations;  /* 2..100, default 2 */
    uint32_t argon2_parallelism; /* 1..16, default 1 */
    uint32_t hash_concurrency;   /* K: 1..64 hash computations at once, default 2 */
    uint32_t hash_queue;         /* waiting logins beyond K: 0..10000, default 64 */
};

struct bw_project_lockout_policy {
    uint32_t max_failures;   /* N: 1..100, default 5 */
    uint32_t window_seconds; /* W: 1..86400, default 900 */
    uint32_t lock_seconds;   /* T: 0..604800; 0: until an administrator unlocks; default 900 */
    uint32_t address_max_failures;   /* per source address: 1..100000, default 20 */
    uint32_t address_window_seconds; /* 1..86400, default 300 */
};

enum bw_project_session_when_full {
    BW_PROJECT_SESSION_REFUSE_NEW = 0, /* "refuse_new" (default) */
    BW_PROJECT_SESSION_END_OLDEST,     /* "end_oldest" */
};

struct bw_project_session_policy {
    uint32_t idle_seconds;     /* 30..86400: idle time that locks a session; default 900 */
    uint32_t lifetime_seconds; /* 60..604800: absolute lifetime; default 43200 */
    uint32_t max_per_user;     /* 1..1000, default 3 */
    uint32_t max_total;        /* 1..100000, default 1000 */
    enum bw_project_session_when_full when_full;
    uint32_t override_max_seconds;    /* 60..86400: longest supervisor override; default 3600 */
    uint32_t approval_window_seconds; /* 10..3600: dual approval window; default 120 */
};

enum bw_project_mfa_policy {
    BW_PROJECT_MFA_OFF = 0,   /* "off" */
    BW_PROJECT_MFA_UNTRUSTED, /* "untrusted": required on untrusted listeners (default) */
    BW_PROJECT_MFA_ALWAYS,    /* "always" */
};

/* A directory group and the role it grants. */
struct bw_project_role_group {
    char *group; /* the group's DN or name as the directory gives it */
    size_t role; /* index into security.roles */
};

enum bw_project_ldap_tls {
    BW_PROJECT_LDAP_LDAPS = 0, /* "ldaps" (default) */
    BW_PROJECT_LDAP_STARTTLS,  /* "starttls" */
};

/* Central accounts (optional). Strings belong to the project. */
struct bw_project_ldap {
    char *url; /* ldaps://host:port or ldap://host:port (starttls) */
    enum bw_project_ldap_tls tls;
    char *ca_file;            /* as written; relative: to the project directory */
    char *bind_dn;            /* service account for searches; NULL: anonymous search */
    char *bind_password_file; /* file (0600) holding its password; NULL with bind_dn NULL */
    char *user_base;          /* search base for users */
    char *user_filter;        /* e.g. "(uid=%s)"; %s is the escaped login name */
    char *group_attribute;    /* attribute on the user listing its groups, e.g. "memberOf";
                                 NULL: search groups instead */
    char *group_base;         /* with group_attribute NULL: where groups are searched */
    char *group_filter;       /* e.g. "(member=%s)"; %s is the escaped user DN */
    uint32_t timeout_ms;      /* 100..60000, default 5000 */
    uint16_t level;           /* level given to directory users, 1..9999, default 1 */
    uint32_t areas;           /* areas given to directory users, default all */
    struct bw_project_role_group *groups;
    size_t group_count;
};

struct bw_project_security {
    /* Roles: the six defaults (viewer, operator, supervisor, engineer,
     * security-admin, auditor, in that order) followed by the roles the
     * project adds; a project may redefine a default role's permissions
     * by listing a role of its name. The policy owns every string in
     * it (bw_project_security_clear frees them). */
    struct bw_project_role *roles;
    size_t role_count;
    struct bw_project_password_policy password;
    struct bw_project_lockout_policy lockout;
    struct bw_project_session_policy sessions;
    enum bw_project_mfa_policy mfa;
    char *banner;                 /* system use notification; NULL: none */
    bool banner_must_accept;      /* the login must say the banner was accepted */
    struct bw_project_ldap *ldap; /* NULL when not configured */
};

/* Fills security with every default (the six default roles, allocated:
 * release with bw_project_security_clear). BW_ENOMEM. */
BW_MUST_CHECK int bw_project_security_defaults(struct bw_project_security *security);
void bw_project_security_clear(struct bw_project_security *security);
/* Index of the role called name, or SIZE_MAX. */
size_t bw_project_role_find(const struct bw_project_security *security, const char *name);

struct bw_project {
    int format;
    char *name;
    char *description; /* may be NULL */
    struct bw_project_scan_class *scan_classes;
    size_t scan_class_count;
    struct bw_project_device *devices;
    size_t device_count;
    struct bw_project_signal *signals;
    size_t signal_count;
    struct bw_project_tank *tanks;
    size_t tank_count;
    struct bw_project_pump *pumps;
    size_t pump_count;
    struct bw_project_valve *valves;
    size_t valve_count;
    struct bw_project_doser *dosers;
    size_t doser_count;
    struct bw_project_tag *tags;
    size_t tag_count;
    struct bw_project_history history;   /* the defaults when the section is absent */
    struct bw_project_audit audit;       /* the defaults when the section is absent */
    struct bw_project_security security; /* the defaults when the section is absent */
    /* SHA-256 of the bytes parsed: what the daemon runs, for the audit
     * trail (read once, so no later change of the file can differ). */
    uint8_t sha256[32];
};

/* ---- loading -------------------------------------------------------- */

/* Parses and validates a project held in memory (len bytes, need not be
 * NUL-terminated). On success *out is the project and errors is empty.
 * On failure returns BW_EMALFORMED (errors lists every problem),
 * BW_ETOOLARGE (a size limit, also listed in errors) or BW_ENOMEM; *out
 * is NULL. errors must be zero-initialised; clear it after use. This is
 * the entry point the fuzzer drives. */
BW_MUST_CHECK int bw_project_parse(const char *data, size_t len, struct bw_project **out,
                                   struct bw_project_errors *errors);

/* Loads DIR/project.json (dir is the project directory). Adds BW_EIO
 * (listed in errors with path "" and the reason) when the file cannot be
 * read. */
BW_MUST_CHECK int bw_project_load(const char *dir, struct bw_project **out,
                                  struct bw_project_errors *errors);

void bw_project_free(struct bw_project *project);

#endif
