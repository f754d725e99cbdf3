/* SPDX-License-Identifier: Apache-2.0
 *
 * audit: the tamper-evident audit trail (IEC 62443-3-3 SR 2.8-2.12, 3.9,
 * 6.1). Three calls matter to the rest of Bulwark: bw_audit_record() to
 * record an event (returns once it is durable), bw_audit_query() to read
 * records back with filters and a cursor, bw_audit_verify() to check the
 * whole trail offline.
 *
 * Records live in STATE/audit.db (SQLite, WAL; the writer's commits are
 * made durable by an explicit fdatasync shared by every record committed
 * meanwhile: group commit); the schema refuses UPDATE and DELETE. Each record holds the SHA-256 of
 * its predecessor and an HMAC-SHA256 under STATE/keys/audit-mac.key; every N records or T seconds a
 * checkpoint is signed with the Ed25519 key in STATE/keys/audit-sign.key. When the trail reaches
 * its size or age limit, the oldest records are rolled into signed segment files in
 * STATE/audit-archive/ (the chain continues across them), or operations
 * are refused, as the project chooses. docs/internals/audit.md has the
 * formats; docs/audit-events.md the catalogue of event IDs.
 */
#ifndef BW_AUDIT_H
#define BW_AUDIT_H

#include "base/base.h"

#include <jansson.h>

/* The eight categories of SR 2.8; the numbers are stored. */
enum bw_audit_category {
    BW_AUDIT_ACCESS_CONTROL = 1,
    BW_AUDIT_REQUEST_ERROR = 2,
    BW_AUDIT_OS_EVENT = 3,
    BW_AUDIT_CONTROL_SYSTEM = 4,
    BW_AUDIT_BACKUP_RESTORE = 5,
    BW_AUDIT_CONFIG_CHANGE = 6,
    BW_AUDIT_RECONNAISSANCE = 7,
    BW_AUDIT_AUDIT_LOG = 8,
};
#define BW_AUDIT_CATEGORY_COUNT 8

enum bw_audit_result {
    BW_AUDIT_SUCCESS = 1,
    BW_AUDIT_FAILURE = 2,
    BW_AUDIT_DENIED = 3,
    BW_AUDIT_ERROR = 4,
};

enum bw_audit_source_kind {
    BW_AUDIT_SOURCE_USER = 1,    /* a person's account (or OS user at a terminal) */
    BW_AUDIT_SOURCE_PROCESS = 2, /* software: the daemon itself, a client program */
    BW_AUDIT_SOURCE_DEVICE = 3,  /* a field device or a peer system */
};

/* The catalogue of event IDs (docs/audit-events.md). Each ID fixes the
 * category and the type name; callers give only the ID. IDs are stable:
 * never renumber, only add. */
enum bw_audit_event_id {
    BW_AUDIT_EV_CONTROL_PEER_REFUSED = 1001,
    BW_AUDIT_EV_LOGIN_SUCCEEDED = 1002,
    BW_AUDIT_EV_LOGIN_FAILED = 1003,
    BW_AUDIT_EV_LOGOUT = 1004,
    BW_AUDIT_EV_ACCOUNT_LOCKED = 1005,
    BW_AUDIT_EV_ADDRESS_THROTTLED = 1006,
    BW_AUDIT_EV_SESSION_LOCKED = 1007,
    BW_AUDIT_EV_SESSION_UNLOCKED = 1008,
    BW_AUDIT_EV_SESSION_ENDED = 1009,
    BW_AUDIT_EV_SESSION_REFUSED = 1010,
    BW_AUDIT_EV_ACCESS_DENIED = 1011,
    BW_AUDIT_EV_SIGNATURE = 1012,
    BW_AUDIT_EV_APPROVAL = 1013,
    BW_AUDIT_EV_OVERRIDE_STARTED = 1014,
    BW_AUDIT_EV_OVERRIDE_ENDED = 1015,
    BW_AUDIT_EV_PASSWORD_CHANGED = 1016,
    BW_AUDIT_EV_PASSWORD_CHANGE_REFUSED = 1017,
    BW_AUDIT_EV_SETUP_SECRET_ISSUED = 1018,
    BW_AUDIT_EV_SETUP_SECRET_REFUSED = 1019,
    BW_AUDIT_EV_SESSION_TERMINATED = 1020,
    BW_AUDIT_EV_CONTROL_REQUEST_MALFORMED = 2001,
    BW_AUDIT_EV_TAG_WRITE_REFUSED = 2002,
    BW_AUDIT_EV_DAEMON_START = 3001,
    BW_AUDIT_EV_DAEMON_STOP = 3002,
    BW_AUDIT_EV_TIME_SYNC_STATUS = 3003,
    BW_AUDIT_EV_TIME_SYNC_LOST = 3004,
    BW_AUDIT_EV_TIME_SYNC_RESTORED = 3005,
    BW_AUDIT_EV_HISTORY_SAMPLES_LOST = 3006,
    BW_AUDIT_EV_HISTORY_CAPACITY = 3007,
    BW_AUDIT_EV_HISTORY_PARTITION_DROPPED = 3008,
    BW_AUDIT_EV_HISTORY_INTEGRITY = 3009,
    BW_AUDIT_EV_TAG_WRITE = 4001,
    BW_AUDIT_EV_TAG_WRITE_REQUESTED = 4002,
    BW_AUDIT_EV_DEVICE_COMM_LOST = 4003,
    BW_AUDIT_EV_DEVICE_COMM_RESTORED = 4004,
    BW_AUDIT_EV_FAILSAFE_TRIGGERED = 4005,
    BW_AUDIT_EV_FAILSAFE_CONFIRMED = 4006,
    BW_AUDIT_EV_PROJECT_LOADED = 6001,
    BW_AUDIT_EV_PROJECT_REFUSED = 6002,
    BW_AUDIT_EV_USER_ADDED = 6003,
    BW_AUDIT_EV_USER_MODIFIED = 6004,
    BW_AUDIT_EV_USER_DISABLED = 6005,
    BW_AUDIT_EV_USER_ENABLED = 6006,
    BW_AUDIT_EV_USER_REMOVED = 6007,
    BW_AUDIT_EV_USER_UNLOCKED = 6008,
    BW_AUDIT_EV_USER_PASSWORD_RESET = 6009,
    BW_AUDIT_EV_USER_MFA_ENROLLED = 6010,
    BW_AUDIT_EV_USER_MFA_REMOVED = 6011,
    BW_AUDIT_EV_USER_CHANGE_REFUSED = 6012,
    BW_AUDIT_EV_SETUP_ADMIN_CREATED = 6013,
    BW_AUDIT_EV_AUDIT_THRESHOLD = 8001,
    BW_AUDIT_EV_AUDIT_FULL = 8002,
    BW_AUDIT_EV_AUDIT_ARCHIVED = 8003,
    BW_AUDIT_EV_AUDIT_FAILURE = 8004,
    BW_AUDIT_EV_AUDIT_RECOVERED = 8005,
    BW_AUDIT_EV_AUDIT_RECORDS_LOST = 8006,
    BW_AUDIT_EV_AUDIT_EXPORTED = 8007,
    BW_AUDIT_EV_AUDIT_INTEGRITY = 8008,
    BW_AUDIT_EV_AUDIT_FORWARD_LOST = 8009,
    BW_AUDIT_EV_AUDIT_FORWARD_RESTORED = 8010,
    BW_AUDIT_EV_AUDIT_SPACE_FREED = 8011,
    BW_AUDIT_EV_AUDIT_FORWARD_SKIPPED = 8012,
    BW_AUDIT_EV_AUDIT_ARCHIVE_REQUESTED = 8020,
};

/* One catalogue entry. */
struct bw_audit_event_info {
    uint32_t id;
    enum bw_audit_category category;
    const char *type;        /* stable dotted name, e.g. "daemon.start" */
    const char *description; /* one line for docs and tools */
};
/* NULL when id is not in the catalogue. Any thread. */
const struct bw_audit_event_info *bw_audit_event_lookup(uint32_t id);
/* The whole catalogue, in ID order. */
const struct bw_audit_event_info *bw_audit_event_catalogue(size_t *count);

/* "access-control", ..., "audit-log"; NULL for an unknown value. */
const char *bw_audit_category_name(enum bw_audit_category category);
/* "success", "failure", "denied", "error"; NULL for an unknown value. */
const char *bw_audit_result_name(enum bw_audit_result result);
/* "user", "process", "device"; NULL for an unknown value. */
const char *bw_audit_source_kind_name(enum bw_audit_source_kind kind);

/* Who caused an event. name is an account, program or device name;
 * address is a network address or "local" detail, NULL when there is
 * none. Both borrowed for the call. */
struct bw_audit_source {
    enum bw_audit_source_kind kind;
    const char *name;
    const char *address;
};

/* An event to record. details is a JSON object (borrowed, may be NULL).
 * Values under keys that name secrets, anywhere in the tree, are replaced
 * by "[redacted]" before anything is stored. A key names a secret when
 * one of its words (cut at punctuation and camelCase: "api_key",
 * "apiKey") is key, pin, otp, totp, pwd, pass, sid, jwt, mfa, auth, seed,
 * csrf, salt, nonce and the like, or when it holds password, passphrase,
 * secret, token, credential, cookie, session, bearer, authorization or
 * recovery anywhere (src/audit/record.c has the lists). The check is on
 * keys only: a caller must never put a secret under another key. */
struct bw_audit_event {
    uint32_t id;
    enum bw_audit_result result;
    struct bw_audit_source source;
    const json_t *details;
};

/* ---- the trail, as the daemon keeps it -------------------------------- */

enum bw_audit_when_full {
    BW_AUDIT_FULL_ARCHIVE = 0, /* roll the oldest records into a signed segment */
    BW_AUDIT_FULL_REFUSE,      /* refuse non-essential operations (bw_audit_gate) */
};

enum bw_audit_on_failure {
    BW_AUDIT_FAIL_CONTINUE = 0, /* keep operating; records wait in memory for the disk */
    BW_AUDIT_FAIL_REFUSE,       /* refuse non-essential operations until recording works */
};

#define BW_AUDIT_MAX_THRESHOLDS 4

struct bw_audit_forward_config {
    const char *host;
    uint16_t port;
    const char *ca_file;     /* PEM file of the CA that signed the collector */
    const char *server_name; /* name the collector's certificate carries; NULL: host */
    const char *client_cert; /* NULL: no client certificate */
    const char *client_key;
    int facility; /* syslog facility 0..23 */
};

/* Everything borrowed for the duration of bw_audit_open(). */
struct bw_audit_config {
    const char *state_dir;
    uint64_t max_bytes;                          /* 0: no size limit */
    uint32_t max_age_days;                       /* 0: no age limit (needs BW_AUDIT_FULL_ARCHIVE) */
    uint8_t thresholds[BW_AUDIT_MAX_THRESHOLDS]; /* percent of max_bytes, increasing */
    size_t threshold_count;
    enum bw_audit_when_full when_full;
    enum bw_audit_on_failure on_failure;
    uint32_t checkpoint_records; /* sign a checkpoint after this many records ... */
    uint32_t checkpoint_seconds; /* ... or this long after the first unsigned one */
    const struct bw_audit_forward_config *forward; /* NULL: no forwarding */
};

/* Fills config with the defaults: 1 GiB, no age limit, thresholds 80 and
 * 95 %, archive when full, continue on failure, a checkpoint every 1000
 * records or 60 s, no forwarding. */
void bw_audit_config_defaults(struct bw_audit_config *config, const char *state_dir);

struct bw_audit;

/* Opens the trail in config->state_dir: creates keys/ (0700) and the
 * keys (0600) on first use, the database and archive directory, checks
 * the last record, and starts the writer thread (and the forwarder when
 * configured). When the database cannot be opened or written, the trail
 * still opens in the failed state (it keeps retrying; see
 * bw_audit_status) so that control keeps running. Returns BW_EDENIED
 * when a key file is readable by others or is a link (keys are never
 * trusted then), BW_EIO when the keys cannot be read or created,
 * BW_EINVAL for a bad config, BW_ENOMEM. Main thread. */
BW_MUST_CHECK int bw_audit_open(const struct bw_audit_config *config, struct bw_audit **out);

/* Signs a final checkpoint, stops the threads, closes everything. Waits
 * for records still queued (at most 2 s when the disk is failing; what
 * cannot be written then is reported in the log with its count). NULL is
 * fine. Main thread, after every producer has stopped. */
void bw_audit_close(struct bw_audit *audit);

/* Called when the trail finds that it was changed (an integrity
 * violation: a record or its anchor does not match), so that the plant
 * can drive outputs to their fail-safe values. It runs on the audit's
 * own threads with the trail's lock held: it must return at once and
 * must not call the trail. A violation found before the hook was set is
 * told at once when it is set; setting it (NULL to clear) waits for a
 * call in progress. */
typedef void (*bw_audit_integrity_fn)(void *ctx);
void bw_audit_set_integrity_hook(struct bw_audit *audit, bw_audit_integrity_fn fn, void *ctx);

/* Records one event and returns once it is durable on disk (the commit
 * that holds it has been synced); many threads recording at once share
 * one sync. *seq_out (may be NULL) receives the record's sequence number
 * when it is durable (0 otherwise). The source's name and address are
 * stored as given, except that bytes that are not well-formed UTF-8 and
 * control characters become '?', and text over BW_AUDIT_NAME_MAX or
 * BW_AUDIT_ADDRESS_MAX bytes is cut and ends with "..." (a name typed at a
 * login must be on record, whatever it holds).
 * Returns BW_EINVAL for an ID not in the catalogue, a bad result or
 * source kind, or an empty source name; BW_ETOOLARGE for details over
 * BW_AUDIT_DETAILS_MAX; BW_EIO when the record could not be made durable now (the
 * trail is failing: the record stays queued in memory and is written
 * when the disk recovers; see bw_audit_gate for whether to go on),
 * BW_ENOMEM. Any thread except the engine thread (it may block). */
BW_MUST_CHECK int bw_audit_record(struct bw_audit *audit, const struct bw_audit_event *event,
                                  uint64_t *seq_out);

/* Whether a non-essential operation may go ahead now: BW_OK, or
 * BW_EDENIED when the project's policy says to refuse operations because
 * the trail is full (refuse policy) or failing (refuse policy). Essential
 * operations (keeping control running, freeing space) do not ask. Any
 * thread; never blocks. */
BW_MUST_CHECK int bw_audit_gate(struct bw_audit *audit);

/* Records the request for a non-essential operation before it runs
 * (DESIGN: audit the request, execute, audit the result) and says
 * whether it may run: BW_OK when the record is durable, or when it could
 * not be made durable but the project's policy is to continue;
 * BW_EDENIED when bw_audit_gate refuses (nothing is recorded: the caller
 * records the refusal) or the record could not be made durable and the
 * policy is to refuse, so that no command runs unrecorded (SR 2.10).
 * BW_EINVAL, BW_ETOOLARGE, BW_ENOMEM as bw_audit_record. Any thread
 * except the engine thread (it may block). */
BW_MUST_CHECK int bw_audit_record_request(struct bw_audit *audit,
                                          const struct bw_audit_event *event);

enum bw_audit_state {
    BW_AUDIT_STATE_OK = 0,
    BW_AUDIT_STATE_FULL,   /* at its limit with the refuse policy */
    BW_AUDIT_STATE_FAILED, /* records cannot be written */
};

struct bw_audit_status {
    enum bw_audit_state state;
    uint64_t last_seq;      /* newest durable record */
    uint64_t pending;       /* records waiting to be written */
    uint64_t lost;          /* records that could not be kept at all (memory bound) */
    uint64_t used_bytes;    /* live records in audit.db */
    unsigned usage_percent; /* of max_bytes; 0 without a size limit */
    uint64_t commits;       /* durable commits so far (each one sync) */
    uint64_t forwarded_seq; /* last record the collector has been sent; 0 without forwarding */
};
/* A snapshot of the trail's state. Any thread. */
void bw_audit_status_get(struct bw_audit *audit, struct bw_audit_status *out);

/* Rolls the oldest records into a signed segment in STATE/audit-archive/
 * now, as the archive policy does at the size limit (down below the
 * lowest threshold, the newest record always kept), whatever the policy:
 * the way an administrator frees space under the refuse policy, after
 * which operations resume. Waits for the writer (at most 30 s). On BW_OK
 * *first and *last (may be NULL) hold the archived range, both 0 when
 * there was nothing to archive. BW_EIO when the trail is failing or the
 * segment could not be written, BW_ETIMEOUT. Any thread but the
 * writer's. */
BW_MUST_CHECK int bw_audit_archive_now(struct bw_audit *audit, uint64_t *first, uint64_t *last);

/* Reads the system clock's synchronisation state (adjtimex) and records
 * it: at the first call (time.sync.status) and whenever it changes
 * (time.sync.lost, time.sync.restored), with a warning in the log when
 * synchronisation is lost. Call at start and periodically. Main thread. */
void bw_audit_clock_check(struct bw_audit *audit);

/* ---- reading the trail (with or without the daemon) ------------------- */

/* One stored record as read back; every pointer is borrowed and valid
 * only during the callback. details is the stored JSON text. */
struct bw_audit_entry {
    uint64_t seq;
    int64_t ts_us;
    enum bw_audit_category category;
    uint32_t event_id;
    const char *type;
    enum bw_audit_result result;
    enum bw_audit_source_kind source_kind;
    const char *source_name;
    const char *source_address; /* NULL when none */
    const char *details;
};

/* Filters of a query; bw_audit_filter_init() gives "everything". */
#define BW_AUDIT_FILTER_MAX_EVENTS 16
#define BW_AUDIT_QUERY_MAX_LIMIT 10000
struct bw_audit_filter {
    int64_t from_us;        /* inclusive; INT64_MIN: no lower bound */
    int64_t to_us;          /* exclusive; INT64_MAX: no upper bound */
    uint32_t category_mask; /* bit (1 << category); 0: every category */
    uint32_t result_mask;   /* bit (1 << result); 0: every result */
    char user[129];         /* source name to match exactly; "": anyone */
    uint32_t events[BW_AUDIT_FILTER_MAX_EVENTS];
    size_t event_count; /* 0: every event ID */
    uint64_t cursor;    /* only records with seq > cursor */
    uint32_t limit;     /* 1..BW_AUDIT_QUERY_MAX_LIMIT; default 100 */
};
void bw_audit_filter_init(struct bw_audit_filter *filter);

/* Sets one filter from a key and a text value, as the CLI options and
 * the HTTP query string give them: from, to (RFC 3339 UTC such as
 * 2026-12-03T10:00:00Z or 2026-12-03T10:00:00.250Z), category (names,
 * comma-separated), user, result (names, comma-separated), event (IDs,
 * comma-separated), cursor, limit. BW_EINVAL for an unknown key,
 * BW_EMALFORMED or BW_ERANGE for a bad value; err (errlen bytes) then
 * says which key and why, without echoing more than 32 bytes of input. */
BW_MUST_CHECK int bw_audit_filter_set(struct bw_audit_filter *filter, const char *key,
                                      const char *value, size_t value_len, char *err,
                                      size_t errlen);

/* Parses a URL query string ("from=...&category=access-control,audit-log
 * &limit=50"; percent-encoding and '+' understood; at most 4 KiB) into
 * filter, which it initialises first. Errors as bw_audit_filter_set, plus
 * BW_ETOOLARGE for an over-long string and BW_EMALFORMED for a key given
 * twice. This is the entry point the fuzzer drives. */
BW_MUST_CHECK int bw_audit_filter_parse(const char *query, size_t len,
                                        struct bw_audit_filter *filter, char *err, size_t errlen);

struct bw_audit_reader;

/* Opens STATE/audit.db read-only (the daemon may be writing it).
 * BW_ENOTFOUND when there is no trail, BW_EIO otherwise. Any thread; one
 * reader per thread. */
BW_MUST_CHECK int bw_audit_reader_open(const char *state_dir, struct bw_audit_reader **out);
void bw_audit_reader_free(struct bw_audit_reader *reader);

typedef int (*bw_audit_entry_fn)(const struct bw_audit_entry *entry, void *ctx);

/* Calls fn for each record matching filter, in sequence order, at most
 * filter->limit of them. *next_cursor is the cursor for the next page, 0
 * when this page ended the results. Records appended meanwhile appear in
 * later pages, never shift earlier ones. A non-zero return from fn stops
 * the query and is returned. BW_EIO when the database cannot be read,
 * BW_EINVAL for a filter out of its bounds (limit, event_count, user not
 * terminated), BW_ENOMEM. */
BW_MUST_CHECK int bw_audit_query(struct bw_audit_reader *reader,
                                 const struct bw_audit_filter *filter, bw_audit_entry_fn fn,
                                 void *ctx, uint64_t *next_cursor);

/* ---- verification and export ----------------------------------------- */

#define BW_AUDIT_PUBLIC_KEY_LEN 32
/* "sha256:" and 64 hex digits, NUL-terminated. */
#define BW_AUDIT_FINGERPRINT_LEN 72

struct bw_audit_verify_report {
    uint64_t records;     /* records checked (segments and database) */
    uint64_t checkpoints; /* signatures checked */
    uint64_t segments;    /* archive segments checked */
    uint64_t first_seq, last_seq;
    uint64_t bad_seq;    /* first sequence number found bad; 0 when none */
    char problem[256];   /* what is wrong there; "" when all holds */
    uint64_t anchor_seq; /* the checkpoint STATE/keys/audit-anchor names; 0: none */
    /* The public key the signatures were checked with, once read. */
    uint8_t public_key[BW_AUDIT_PUBLIC_KEY_LEN];
    bool have_public_key;
    bool key_pinned; /* and it is the key options->key_sha256 pins */
    bool no_trail;   /* state_dir holds neither audit.db nor keys/ */
};

/* What an auditor knows from outside the state directory. */
struct bw_audit_verify_options {
    /* SHA-256 of the public key the trail must be signed with (32 bytes;
     * see bw_audit_key_fingerprint); NULL: trust keys/audit-sign.pub. */
    const uint8_t *key_sha256;
    /* The trail must reach at least this record (0: no bound), e.g. the
     * newest one a collector or an exported segment holds. */
    uint64_t min_seq;
};

/* "sha256:<64 hex>" of a raw Ed25519 public key: the fingerprint that
 * `audit verify` prints and daemon.start records. Any thread. */
void bw_audit_key_fingerprint(const uint8_t public_key[BW_AUDIT_PUBLIC_KEY_LEN],
                              char out[BW_AUDIT_FINGERPRINT_LEN]);
/* The fingerprint of the open trail's signing key; "" for NULL. Any
 * thread. */
void bw_audit_signer_fingerprint(const struct bw_audit *audit, char out[BW_AUDIT_FINGERPRINT_LEN]);

/* Checks the whole trail in state_dir (read-only): every archive
 * segment's signature and records, then every record in audit.db: the
 * sequence has no gap, each record's predecessor hash matches, each MAC
 * holds under the key, each checkpoint's signature holds and signs the
 * record it names, and the newest checkpoint's record is present. Then
 * the anchor (STATE/keys/audit-anchor, the newest signed checkpoint kept
 * outside audit.db): its signature holds, the trail reaches its record
 * and holds the record it signed there; a signed trail without an anchor
 * fails. Stops at the first problem and describes it in the report.
 * Returns BW_OK when all holds, BW_EMALFORMED when something does not,
 * BW_ENOTFOUND (report->no_trail when there is nothing at all) /
 * BW_EIO / BW_EDENIED when the trail or keys cannot be read. */
BW_MUST_CHECK int bw_audit_verify(const char *state_dir, struct bw_audit_verify_report *report);
/* As bw_audit_verify, also checking what options (may be NULL) pin: the
 * signing key (a different one is BW_EMALFORMED, bad_seq 0) and the
 * least record the trail must reach. */
BW_MUST_CHECK int bw_audit_verify_with(const char *state_dir,
                                       const struct bw_audit_verify_options *options,
                                       struct bw_audit_verify_report *report);

/* What an export wrote: the range actually found, and the SHA-256 of the
 * whole file (for the record that names it). */
struct bw_audit_export_info {
    uint64_t first_seq, last_seq, records;
    uint8_t file_sha256[32];
};

/* Writes records first_seq..last_seq (0, 0: everything in audit.db) of
 * the trail in state_dir into a new signed segment file at out_path
 * (which must not exist), for write-once media. The file carries the
 * public key that checks it. *info (may be NULL) is filled on BW_OK and
 * zeroed otherwise. BW_ENOTFOUND when the range holds no records,
 * BW_EEXIST, BW_EIO. */
BW_MUST_CHECK int bw_audit_export(const char *state_dir, uint64_t first_seq, uint64_t last_seq,
                                  const char *out_path, struct bw_audit_export_info *info);

/* Checks one segment file on its own (as exported): signature, records'
 * chain inside it. MACs are checked when state_dir (may be NULL) holds
 * the key. Fills report as bw_audit_verify does. */
BW_MUST_CHECK int bw_audit_verify_segment(const char *path, const char *state_dir,
                                          struct bw_audit_verify_report *report);

#endif
