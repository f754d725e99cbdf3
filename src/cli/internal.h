/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/internal.h: what the files of the cli module share. The module is
 * the `bulwark` binary: a table of subcommands (main.c, args.c), the
 * daemon's life cycle (serve.c, statedir.c, notify.c, plant.c,
 * plant_rules.c), the control socket (control_proto.c: the wire format;
 * control_server.c: the daemon's side, on its own thread; control_ops.c:
 * what each request does; control_client.c: the CLI's side) and the
 * commands that use it.
 * Nothing outside src/cli/ includes this header except the cli tests.
 */
#ifndef BW_CLI_INTERNAL_H
#define BW_CLI_INTERNAL_H

#include "base/base.h"
#include "core/core.h"
#include "security/security.h"

#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses of every subcommand. */
#define BW_CLI_EXIT_OK 0
#define BW_CLI_EXIT_FAIL 1
#define BW_CLI_EXIT_USAGE 2

/* ---- subcommands and their options (args.c) -------------------------- */

#define BW_CLI_MAX_OPTIONS 16
#define BW_CLI_MAX_ARGS 4

/* One --long option. arg names the value ("DIR") or is NULL for a flag. */
struct bw_cli_option {
    const char *name;
    const char *arg;
    const char *help;
};

/* What the parser found: values[i] belongs to options[i] (NULL when the
 * option was not given, "" for a given flag); args are the positional
 * arguments. All pointers borrow argv. */
struct bw_cli_args {
    const char *values[BW_CLI_MAX_OPTIONS];
    const char *args[BW_CLI_MAX_ARGS];
    size_t arg_count;
};

struct bw_cli_command {
    const char *name;     /* as typed after `bulwark`, e.g. "project validate" */
    const char *synopsis; /* what follows the name in the usage line */
    const char *summary;  /* one line for the command list */
    const char *details;  /* paragraph(s) for --help; may be NULL */
    const struct bw_cli_option *options;
    size_t option_count;
    size_t min_args, max_args;
    int (*run)(const struct bw_cli_args *args); /* returns an exit status */
    /* A group (e.g. "project") has subcommands instead of run. */
    const struct bw_cli_command *const *subs;
    size_t sub_count;
};

enum bw_cli_parse_result { BW_CLI_PARSE_OK = 0, BW_CLI_PARSE_HELP, BW_CLI_PARSE_USAGE };

/* Parses argv (argv[0] is the first word after the command's name) for
 * cmd. Prints the help on --help (BW_CLI_PARSE_HELP) and a clear message
 * on a usage error (BW_CLI_PARSE_USAGE); the caller maps those to exit 0
 * and 2. Main thread. */
enum bw_cli_parse_result bw_cli_args_parse(const struct bw_cli_command *cmd, int argc, char **argv,
                                           struct bw_cli_args *out);
/* Prints cmd's usage, options and details to out. */
void bw_cli_command_help(const struct bw_cli_command *cmd, FILE *out);
/* Prints "bulwark NAME: message" and the --help hint to stderr; returns
 * BW_CLI_EXIT_USAGE. */
int bw_cli_usage_error(const struct bw_cli_command *cmd, const char *fmt, ...) BW_PRINTF(2, 3);

/* The subcommands, each defined in its own file. */
extern const struct bw_cli_command bw_cli_serve_command;
extern const struct bw_cli_command bw_cli_project_command;
extern const struct bw_cli_command bw_cli_tags_command;
extern const struct bw_cli_command bw_cli_tag_command;
extern const struct bw_cli_command bw_cli_status_command;
extern const struct bw_cli_command bw_cli_devices_command;
extern const struct bw_cli_command bw_cli_history_command;
extern const struct bw_cli_command bw_cli_historian_command;
extern const struct bw_cli_command bw_cli_audit_command;
extern const struct bw_cli_command bw_cli_audit_query_command;
/* The subcommands of `audit` (cmd_audit.c lists them). */
extern const struct bw_cli_command bw_cli_audit_verify_command;
extern const struct bw_cli_command bw_cli_audit_verify_segment_command;
extern const struct bw_cli_command bw_cli_audit_export_command;
extern const struct bw_cli_command bw_cli_audit_archive_command;
/* `user` and its subcommands (cmd_user.c lists them), and `user mfa`. */
extern const struct bw_cli_command bw_cli_user_command;
extern const struct bw_cli_command bw_cli_user_add_command;
extern const struct bw_cli_command bw_cli_user_modify_command;
extern const struct bw_cli_command bw_cli_user_list_command;
extern const struct bw_cli_command bw_cli_user_show_command;
extern const struct bw_cli_command bw_cli_user_disable_command;
extern const struct bw_cli_command bw_cli_user_enable_command;
extern const struct bw_cli_command bw_cli_user_remove_command;
extern const struct bw_cli_command bw_cli_user_unlock_command;
extern const struct bw_cli_command bw_cli_user_passwd_command;
extern const struct bw_cli_command bw_cli_user_mfa_command;
extern const struct bw_cli_command bw_cli_user_mfa_enrol_command;
extern const struct bw_cli_command bw_cli_user_mfa_confirm_command;
extern const struct bw_cli_command bw_cli_user_mfa_remove_command;
extern const struct bw_cli_command bw_cli_user_setup_command;

/* ---- control protocol (control_proto.c) ------------------------------ */

/* One request is one line of at most this many bytes (newline excluded). */
#define BW_CLI_REQUEST_MAX (64u * 1024u)
/* The CLI reads a reply of at most this many bytes; the daemon has no
 * such limit, as it produces a large reply chunk by chunk. */
#define BW_CLI_REPLY_MAX (64u * 1024u * 1024u)
/* A handler that makes its reply in chunks stops adding to a chunk once
 * it holds this many bytes; one chunk (of any reply) is at most
 * BW_CLI_CHUNK_MAX bytes. */
#define BW_CLI_REPLY_CHUNK (64u * 1024u)
#define BW_CLI_CHUNK_MAX (1024u * 1024u)
/* The control socket's file name inside the state directory. */
#define BW_CLI_CONTROL_SOCKET "control.sock"

/* Room for a tag name or prefix, and for a string value, with the NUL. */
#define BW_CLI_NAME_BUF (BW_TAG_NAME_MAX + 1)
#define BW_CLI_TEXT_BUF (BW_TAG_STRING_MAX + 1)

enum bw_cli_op {
    BW_CLI_OP_STATUS = 0,
    BW_CLI_OP_TAGS,
    BW_CLI_OP_WRITE,
    BW_CLI_OP_AUDIT_ARCHIVE,
    BW_CLI_OP_AUDIT_EXPORTED,
    BW_CLI_OP_USER,
    BW_CLI_OP_DEVICES,
};

/* What op "user" asks of the account store (user_ops.c does it). */
enum bw_cli_user_action {
    BW_CLI_USER_ADD = 0,
    BW_CLI_USER_MODIFY,
    BW_CLI_USER_DISABLE,
    BW_CLI_USER_ENABLE,
    BW_CLI_USER_REMOVE,
    BW_CLI_USER_UNLOCK,
    BW_CLI_USER_PASSWD,
    BW_CLI_USER_SHOW,
    BW_CLI_USER_LIST,
    BW_CLI_USER_MFA_ENROL,
    BW_CLI_USER_MFA_CONFIRM,
    BW_CLI_USER_MFA_REMOVE,
    BW_CLI_USER_SETUP,
    BW_CLI_USER_ACTION_COUNT_
};
/* "add", ..., "mfa_enrol", ...; NULL for an out-of-range value. */
const char *bw_cli_user_action_name(enum bw_cli_user_action action);
/* Finds the action called name (len bytes, need not be NUL-terminated). */
bool bw_cli_user_action_find(const char *name, size_t len, enum bw_cli_user_action *out);

/* What `bulwark audit export` wrote, for the daemon to record. */
#define BW_CLI_EXPORT_FILE_MAX 1024
struct bw_cli_export_note {
    uint64_t first_seq, last_seq, records;
    char sha256[65]; /* lower-case hex of the file's SHA-256 */
    char file[BW_CLI_EXPORT_FILE_MAX + 1];
};

/* A validated request. The value's string (v.s) points into text. */
struct bw_cli_request {
    enum bw_cli_op op;
    char prefix[BW_CLI_NAME_BUF];
    char tag[BW_CLI_NAME_BUF];
    struct bw_value value;
    char text[BW_CLI_TEXT_BUF];
    struct bw_cli_export_note export_note; /* op audit_exported */
    /* op user: the action, and its arguments (a JSON object that may
     * hold a password): owned by the request, released and wiped by
     * bw_cli_request_clear. NULL for every other op. */
    enum bw_cli_user_action user_action;
    json_t *user_args;
    /* Who sent it: set by the control server from SO_PEERCRED, not by
     * the parser. */
    uid_t peer_uid;
    pid_t peer_pid;
};

/* Why a request was refused: code is a stable word for programs
 * ("malformed", "bad_request", "too_large", "no_memory"), message a
 * sentence for people that never echoes more than a sanitised key. */
struct bw_cli_proto_error {
    const char *code;
    char message[192];
};

/* Parses and validates one request line of len bytes (no newline; need
 * not be NUL-terminated): a JSON object with a known "op" and exactly the
 * keys that op takes, of the right types. Returns BW_OK and fills *out;
 * BW_ETOOLARGE when len > BW_CLI_REQUEST_MAX; BW_EMALFORMED when it is
 * not JSON or not a valid request; BW_ENOMEM. err says why in each case.
 * Pure function, any thread; the entry point the fuzzer drives. */
BW_MUST_CHECK int bw_cli_request_parse(const char *data, size_t len, struct bw_cli_request *out,
                                       struct bw_cli_proto_error *err);
/* Releases what a parsed request owns (op user's arguments, their
 * secrets wiped first). Call it once the request is answered, before
 * the struct is parsed into again or dropped; a cleared or never
 * parsed (zeroed) request is fine. */
void bw_cli_request_clear(struct bw_cli_request *req);
/* Overwrites, in place, the text of the members of an op user's args
 * that may be secret ("password", "secret", "code"), before the object
 * is freed. Not a JSON object: nothing is done. */
void bw_cli_user_args_wipe(json_t *args);

/* True when name is a valid tag name: [A-Za-z][A-Za-z0-9_.]*, at most
 * BW_TAG_NAME_MAX bytes (len bytes, need not be NUL-terminated). */
bool bw_cli_name_valid(const char *name, size_t len);

/* Converts text (a value given as a string, e.g. on the command line) to
 * a value for a tag of type type: bool takes true/false/1/0; int takes a
 * decimal integer, or a number (left for the core to judge integral);
 * float a decimal or exponent number; string takes the text as is
 * (out->v.s borrows text). BW_ETYPE when the text is not of that type. */
BW_MUST_CHECK int bw_cli_value_from_text(enum bw_type type, const char *text, size_t len,
                                         struct bw_value *out);

/* Appends one JSON value (compact) followed by nothing to out.
 * BW_ETOOLARGE when out's maximum is reached, BW_ENOMEM. */
BW_MUST_CHECK int bw_cli_json_append(struct bw_buf *out, const json_t *json);
/* Appends {"ok":false,"error":{"code":code,"message":message}} and a
 * newline to out. A message that is not valid UTF-8 is replaced. */
BW_MUST_CHECK int bw_cli_reply_error(struct bw_buf *out, const char *code, const char *message);

/* ---- control server (control_server.c) -------------------------------- */

/* Where a reply made in chunks has got to. The server zeroes it before
 * a request's first call; the handler keeps its place in it. */
struct bw_cli_reply_cursor {
    bool started; /* the first chunk has been made */
    bool more;    /* set by the handler: call again once this chunk is sent */
    size_t next;  /* the handler's position, e.g. the next tag rank */
    size_t end;
};

/* Appends the next chunk of the reply to a valid request to reply (at
 * most BW_CLI_CHUNK_MAX bytes; the whole reply is one JSON line, newline
 * included) and sets cursor->more when there is more to come. The
 * server calls it again for the same request only once the previous
 * chunk has been written to the socket, so a client that does not read
 * holds one chunk, and it serves other connections in between. A
 * handler that cannot go on with a reply it has begun leaves reply
 * empty and more false: the connection is then closed, the line cut.
 * Runs on the control thread; must not block for long. */
typedef void (*bw_cli_control_handler_fn)(void *ctx, const struct bw_cli_request *req,
                                          struct bw_cli_reply_cursor *cursor, struct bw_buf *reply);

struct bw_audit;

struct bw_cli_control_config {
    size_t max_connections; /* 0: 16 */
    /* Where refused peers and malformed requests are recorded; NULL:
     * nowhere (tests). Borrowed until the server is freed. */
    struct bw_audit *audit;
    /* Between requests, a client silent this long is dropped; 0: 5000. */
    int idle_timeout_ms;
    /* A request must arrive whole within this from its first byte, and
     * each chunk of its reply be taken by the client within this from
     * when it was made, or the client is dropped; 0: 5000. */
    int request_timeout_ms;
};

struct bw_cli_control_server;

/* Creates DIR/control.sock (mode 0600; a stale socket there is replaced,
 * so call it only while holding the state lock) and listens on it.
 * handler and ctx are borrowed until free. Returns BW_ETOOLARGE when the
 * path does not fit a socket address, BW_EEXIST when something other
 * than a socket has the name, BW_EIO, BW_ENOMEM. Main thread. */
BW_MUST_CHECK int bw_cli_control_server_new(const char *state_dir,
                                            const struct bw_cli_control_config *config,
                                            bw_cli_control_handler_fn handler, void *ctx,
                                            struct bw_cli_control_server **out);
/* Starts the control thread. BW_EIO when it cannot be created. */
BW_MUST_CHECK int bw_cli_control_server_start(struct bw_cli_control_server *server);
/* Wakes and joins the control thread, closing every connection. */
void bw_cli_control_server_stop(struct bw_cli_control_server *server);
/* Stops if needed, closes the socket and removes its file. Accepts NULL. */
void bw_cli_control_server_free(struct bw_cli_control_server *server);
/* Who may use the control socket: the daemon's own uid, or root. */
bool bw_cli_control_peer_allowed(uid_t peer, uid_t self);

/* ---- control client (control_client.c) -------------------------------- */

/* Sends request (a JSON object) to the daemon on state_dir and waits up
 * to 10 s for its reply. Whoever serves the socket must run as the
 * state directory's owner or as root (SO_PEERCRED), or nothing is sent.
 * On BW_OK *reply is the parsed reply object, whether "ok" is true or
 * false (the caller owns it). On failure prints what went wrong to
 * stderr (daemon not running, the wrong peer, timeout, bad reply) and
 * returns BW_ENOTFOUND, BW_EDENIED (the wrong peer), BW_EIO,
 * BW_ETIMEOUT, BW_EMALFORMED, BW_ENOMEM. */
BW_MUST_CHECK int bw_cli_control_call(const char *state_dir, json_t *request, json_t **reply);
/* For a reply with "ok":false: prints "bulwark: <what>: <message>" to
 * stderr. */
void bw_cli_control_print_error(const json_t *reply, const char *what);
/* bw_cli_control_call for a request that must succeed: takes request
 * (NULL: BW_ENOMEM), and gives *reply only when it says "ok":true. A
 * refusal is printed as by bw_cli_control_print_error(what) and returns
 * BW_EDENIED; other errors as bw_cli_control_call (already printed). */
BW_MUST_CHECK int bw_cli_control_ask(const char *state_dir, json_t *request_take, const char *what,
                                     json_t **reply);
/* Prints a reply as indented JSON (ASCII only: anything else escaped)
 * and a newline; the exit status. */
int bw_cli_print_json(const json_t *reply);

/* ---- the daemon's life cycle (notify.c, statedir.c, plant.c) --------- */

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET when it is set; BW_OK
 * and nothing sent when it is not. BW_EINVAL for an address kind we do
 * not speak, BW_ETOOLARGE, BW_EIO. */
BW_MUST_CHECK int bw_cli_notify_send(const char *state);

/* Creates the state directory (mode 0700) or checks an existing one: a
 * directory, owned by our uid, not writable by group or others. On
 * failure returns BW_EIO, BW_EDENIED or BW_EINVAL and puts a sentence
 * for the operator in why. */
BW_MUST_CHECK int bw_cli_state_dir_prepare(const char *dir, char *why, size_t why_size);

/* The exclusive lock on a state directory (DIR/bulwark.lock, flock). */
struct bw_cli_state_lock {
    int fd;
    char path[4096];
};

/* Takes the lock and writes our pid into the file. BW_EBUSY when another
 * process holds it (*holder is its pid, 0 when unknown); BW_EIO or
 * BW_ETOOLARGE with a sentence in why. */
BW_MUST_CHECK int bw_cli_state_lock_take(const char *dir, struct bw_cli_state_lock *lock,
                                         pid_t *holder, char *why, size_t why_size);
/* Removes the lock file and lets go of the lock. */
void bw_cli_state_lock_release(struct bw_cli_state_lock *lock);
/* Tells whether a process (a daemon) holds the lock, creating nothing:
 * the caller may not own the state directory. BW_EBUSY when one does
 * (*holder is its pid, 0 when unknown); BW_OK when none does, or there
 * is no lock file or no directory; BW_EINVAL, BW_EIO or BW_ETOOLARGE
 * with a sentence in why. */
BW_MUST_CHECK int bw_cli_state_lock_probe(const char *dir, pid_t *holder, char *why,
                                          size_t why_size);

struct bw_project;
struct bw_driver;

/* The running plant: the tag engine built from the project, and one
 * driver per device. Read by the control thread (status, tags) and
 * written through (write); everything it calls is safe on any thread. */
struct bw_cli_plant {
    const struct bw_project *project; /* borrowed */
    struct bw_core *core;
    struct bw_driver **drivers;
    size_t driver_count;
    size_t drivers_started;
    bool engine_started;
    int64_t started_real_us;
    int64_t started_mono_us;
    struct bw_audit *audit; /* borrowed; NULL: writes are not recorded (tests) */
    /* borrowed; NULL: no account requests are served (tests) */
    struct bw_security *security;
};

struct bw_cli_quality_counts {
    size_t good, uncertain, bad;
};

/* Builds the core from project's tags and a driver for each device.
 * project is borrowed and must outlive the plant. Logs what failed and
 * returns its error. Main thread. */
BW_MUST_CHECK int bw_cli_plant_new(const struct bw_project *project, struct bw_cli_plant **out);
/* Starts the engine, gives memory tags their initial values, then starts
 * the drivers. Logs what failed. */
BW_MUST_CHECK int bw_cli_plant_start(struct bw_cli_plant *plant);
/* Drives every output whose fail-safe value names event to it (the
 * drivers retry until their devices confirm). Any thread. */
void bw_cli_plant_failsafe(struct bw_cli_plant *plant, enum bw_failsafe_event event);
/* The audit trail's integrity hook (ctx: the plant). */
void bw_cli_plant_integrity_violated(void *ctx);
/* Records a driver's event in plant->audit (ctx: the plant). */
struct bw_driver_event;
void bw_cli_driver_event(void *ctx, const struct bw_driver_event *ev);
/* The daemon's historian (history.c): NULL *out when no tag is logged. */
struct bw_cli_history;
struct bw_project;
struct bw_audit;
BW_MUST_CHECK int bw_cli_history_start(struct bw_core *core, const struct bw_project *project,
                                       const char *state_dir, struct bw_audit *audit,
                                       struct bw_cli_history **out);
void bw_cli_history_stop(struct bw_cli_history *h);
/* Stops the drivers only (the engine goes on). */
void bw_cli_plant_stop_drivers(struct bw_cli_plant *plant);
/* Stops the drivers, then the engine. */
void bw_cli_plant_stop(struct bw_cli_plant *plant);
void bw_cli_plant_free(struct bw_cli_plant *plant);
/* Counts tags by quality (one snapshot per tag). Any thread. */
void bw_cli_plant_count(const struct bw_cli_plant *plant, struct bw_cli_quality_counts *out);
/* Logs one status line: counts, engine statistics, device states. */
void bw_cli_plant_log_status(const struct bw_cli_plant *plant);
/* Gives each tag of core its write rules from the project's "validate"
 * (plant_rules.c): tags, and the tags conditions name, are found by name.
 * Before the engine starts (bw_core_tag_set_rules). Logs what failed and
 * returns its error: BW_ENOTFOUND (a tag missing from core), BW_EINVAL,
 * BW_ESTATE, BW_ENOMEM. Main thread. */
BW_MUST_CHECK int bw_cli_plant_set_rules(struct bw_core *core, const struct bw_project *project);

/* The control socket's handler (control_ops.c): ctx is the plant. A
 * `tags` reply is made in chunks of about BW_CLI_REPLY_CHUNK bytes. */
void bw_cli_ops_handle(void *ctx, const struct bw_cli_request *req,
                       struct bw_cli_reply_cursor *cursor, struct bw_buf *reply);

/* ---- the daemon's audit records (audit_events.c) ---------------------- */

/* Opens the trail in state_dir with project's audit settings (NULL: the
 * defaults); relative forwarding paths are taken from project_dir.
 * Errors as bw_audit_open. Main thread. */
BW_MUST_CHECK int bw_cli_audit_open(const struct bw_project *project, const char *project_dir,
                                    const char *state_dir, struct bw_audit **out);
/* daemon.start (version, project hash, settings digest), project.loaded. */
void bw_cli_audit_daemon_start(struct bw_audit *audit, const struct bw_project *project);
void bw_cli_audit_daemon_stop(struct bw_audit *audit, const char *reason);
/* Opens the trail in state_dir for a few records while no daemon runs
 * (the caller holds the state lock): no size or age limit applies, since
 * the project's are not known. Errors as bw_audit_open. Main thread. */
BW_MUST_CHECK int bw_cli_audit_open_offline(const char *state_dir, struct bw_audit **out);
/* Opens the trail offline just to record a refused project. */
void bw_cli_audit_project_refused(const char *state_dir, const char *project_dir,
                                  size_t error_count, const char *first_error);
/* Control thread: a refused peer, a malformed request, a tag write. Each
 * accepts a NULL audit (nothing recorded). */
void bw_cli_audit_peer_refused(struct bw_audit *audit, uid_t uid, pid_t pid, const char *why);
void bw_cli_audit_request_malformed(struct bw_audit *audit, uid_t uid, pid_t pid,
                                    const struct bw_cli_proto_error *err);
/* Records a tag write request before it runs (value taken, may be NULL)
 * and says whether it may run: BW_OK, or BW_EDENIED when the trail
 * refuses it (full, or failing under the refuse policy; see
 * bw_audit_record_request) or cannot take the record at all. Control
 * thread. */
BW_MUST_CHECK int bw_cli_audit_tag_write_request(struct bw_audit *audit, uid_t uid, pid_t pid,
                                                 const char *tag, json_t *new_take);
/* Records audit.exported: what `bulwark audit export` wrote, and who ran
 * it (uid, pid). *seq gets the record's number. Errors as
 * bw_audit_record. Control thread, or a tool's main thread. */
BW_MUST_CHECK int bw_cli_audit_exported(struct bw_audit *audit, uid_t uid, pid_t pid,
                                        const struct bw_cli_export_note *note, uint64_t *seq);
struct bw_audit_export_info;
/* Puts a finished export on record (export_note.c): the file, and what
 * bw_audit_export wrote into it (range, records, SHA-256), through the
 * running daemon, or offline under the state lock when none runs. *seq
 * gets the record's number. BW_ETOOLARGE for a path over
 * BW_CLI_EXPORT_FILE_MAX, BW_ENOTFOUND when no daemon answers although
 * the state is locked, other errors as bw_audit_record and
 * bw_cli_control_call (which prints them). Main thread. */
BW_MUST_CHECK int bw_cli_export_record(const char *state_dir, const char *file,
                                       const struct bw_audit_export_info *info, uint64_t *seq);
/* Who asked the daemon to archive, and what came of it (control thread). */
void bw_cli_audit_archive_requested(struct bw_audit *audit, uid_t uid, pid_t pid, int rc,
                                    uint64_t first, uint64_t last);
/* old_take and new_take (JSON values, may be NULL) are taken over. rc is
 * the write's result; why says why it was refused. */
void bw_cli_audit_tag_write(struct bw_audit *audit, uid_t uid, pid_t pid, const char *tag,
                            json_t *old_take, json_t *new_take, int rc, const char *why);
/* A tag's value as JSON (null when bad). */
json_t *bw_cli_tag_value_json(const struct bw_tag_state *st);

/* ---- accounts (user_*.c, secret_input.c, cmd_user*.c) ---------------- */

/* Longest secret read or carried: a password of the policy's maximum
 * 1024 characters, each up to 4 bytes of UTF-8. */
#define BW_CLI_SECRET_MAX 4096u
/* Room for what a refusal says (the security module's why). */
#define BW_CLI_WHY_MAX 512
/* Room for "uid 4294967295 (name)". */
#define BW_CLI_OS_USER_MAX 96

/* An op user's arguments once checked (user_args.c). Strings borrow the
 * JSON object they came from. */
struct bw_cli_user_fields {
    const char *name;                      /* every action but list */
    const char *after;                     /* list: the page after this name; NULL: the first */
    struct bw_security_user_change change; /* add, modify */
    const char *roles[64];                 /* change.roles points here */
    const char *password;                  /* add, passwd, setup */
    size_t password_len;
    bool no_password;   /* add: a service account without one */
    const char *code;   /* mfa_confirm */
    const char *secret; /* setup */
};

/* Checks args against what action takes: every key known to the action,
 * the required ones present, each value of its type and within its
 * bounds. BW_EMALFORMED with why naming the key (never a value). Pure,
 * any thread. */
BW_MUST_CHECK int bw_cli_user_fields_get(enum bw_cli_user_action action, const json_t *args,
                                         struct bw_cli_user_fields *out, char *why,
                                         size_t why_size);

/* Who asks, for the audit records: the operating-system user
 * ("uid 1000 (alice)") and where from ("control socket, pid 42" or
 * "command line, pid 42"), both borrowed; and the audit login uid of
 * the process that asks, when known (bw_cli_login_uid). */
struct bw_cli_user_actor {
    const char *os_user;
    const char *address;
    bool login_uid_known;
    uint32_t login_uid;
};

/* The audit login uid of process pid (0: this one), from
 * /proc/PID/loginuid: who logged in, which sudo and su keep. False when
 * it cannot be read or is unset (4294967295). Any thread. */
bool bw_cli_login_uid(pid_t pid, uint32_t *out);

/* Does action with args (borrowed; checked here) against sec under
 * policy (the context's, borrowed) for actor, and returns the reply
 * object: {"ok":true,...} or {"ok":false,"error":{"code","message"}}
 * (codes bad_request, denied, not_found, exists, invalid,
 * password_policy, busy, state, failed). NULL only when memory is short.
 * The caller owns the reply; a reply to mfa_enrol holds the key (its
 * "uri"). Blocks for a password hash where the action computes one; not
 * on the engine thread. */
json_t *bw_cli_user_apply(struct bw_security *sec, const struct bw_project_security *policy,
                          const struct bw_cli_user_actor *actor, enum bw_cli_user_action action,
                          const json_t *args);

/* "uid N (name)" for uid, or "uid N" when it has no name. */
void bw_cli_os_user_describe(uid_t uid, char *out, size_t size);

/* An account as JSON (user_json.c): name, full_name, type, state, level,
 * areas (numbers), roles (names, from policy), must_change_password,
 * mfa, created, password_changed, last_login, expires, locked_until
 * (RFC 3339 text or null), failed_logins. NULL when memory is short. */
json_t *bw_cli_user_info_json(const struct bw_security_user_info *u,
                              const struct bw_project_security *policy);
const char *bw_cli_user_type_name(enum bw_security_account_type type);
const char *bw_cli_user_state_name(enum bw_security_account_state state);
/* Areas for people: "all", "1-3,5", or "none". */
void bw_cli_areas_format(uint32_t areas, char *out, size_t size);
/* A list of area numbers (an account's "areas") as a mask; numbers
 * outside 1..31 are left out. */
uint32_t bw_cli_areas_from_json(const json_t *list);
/* "all", or numbers and ranges 1..31 ("1,2,5", "1-4,7"). BW_EINVAL. */
BW_MUST_CHECK int bw_cli_areas_parse(const char *text, uint32_t *out);
/* YYYY-MM-DD (len bytes) as 00:00 UTC of that day. BW_EINVAL. */
BW_MUST_CHECK int bw_cli_date_parse(const char *text, size_t len, int64_t *out_us);

/* The way to the accounts of a state directory (user_session.c): the
 * running daemon's, or, when none runs, the command's own under the
 * state lock. */
struct bw_cli_user_session;
/* Probes the state lock, creating nothing. Held: the session goes
 * through the daemon (refused when the state directory is writable by
 * group or others). Free: the session works offline, on a state
 * directory that must be ours (it is created 0700 when missing), under
 * the lock, with the policy of project_dir (which must load) or the
 * defaults when project_dir is NULL. need_daemon: offline is an error
 * (setup). Prints what went wrong and returns its error. Main thread. */
BW_MUST_CHECK int bw_cli_user_session_open(const char *state_dir, const char *project_dir,
                                           bool need_daemon, struct bw_cli_user_session **out);
bool bw_cli_user_session_online(const struct bw_cli_user_session *s);
/* Does action with args (borrowed). Returns the reply (the caller owns
 * it), or NULL when there is none: what went wrong is printed. Offline
 * without a project, an action the policy must judge (a password, a
 * role list) is refused when users.db records a project's policy. */
json_t *bw_cli_user_session_call(struct bw_cli_user_session *s, enum bw_cli_user_action action,
                                 const json_t *args);
/* Closes what an offline session opened and lets go of the lock. NULL
 * is fine. */
void bw_cli_user_session_close(struct bw_cli_user_session *s);

/* A secret read from the terminal or standard input (secret_input.c). */
struct bw_cli_secret {
    char data[BW_CLI_SECRET_MAX + 1]; /* NUL-terminated */
    size_t len;
};
/* Wipes it. */
void bw_cli_secret_clear(struct bw_cli_secret *s);
/* Reads the next line of standard input (without its newline, nor one
 * carriage return before it; an empty line or the end of input gives
 * len 0), without echo when standard input is a terminal (then as
 * bw_cli_secret_read_tty). BW_ETOOLARGE, BW_EIO. */
BW_MUST_CHECK int bw_cli_secret_read_stdin(struct bw_cli_secret *s);
/* Writes prompt to the terminal (/dev/tty) and reads a line from it,
 * without echo unless echo: when echo cannot be turned off, nothing is
 * read (BW_EIO, said). BW_ENOTFOUND when there is no terminal,
 * BW_ETOOLARGE, BW_EIO. A stop signal while echo is off restores the
 * terminal, then takes its course. */
BW_MUST_CHECK int bw_cli_secret_read_tty(const char *prompt, bool echo, struct bw_cli_secret *s);
/* A new password for whose: the first line of standard input
 * (from_stdin), or typed twice on the terminal without echo. Prints what
 * went wrong (no terminal, empty, the two differ, a control character
 * in it: BW_EINVAL) and returns an error. */
BW_MUST_CHECK int bw_cli_password_read(bool from_stdin, const char *whose,
                                       struct bw_cli_secret *out);

/* What the user commands share (cmd_user.c). */
/* Checks text given on the command line as what ("NAME", "--full-name")
 * before it goes into a request: valid UTF-8, and for --full-name no
 * control characters. Returns 0, or the usage error's exit status after
 * saying it. */
int bw_cli_user_text_check(const struct bw_cli_command *cmd, const char *what, const char *text);
/* Prints a refusal reply as "bulwark: WHAT: message" on stderr. */
void bw_cli_user_print_refusal(const json_t *reply, const char *what);
/* Sets args[key] to the secret's text. BW_EMALFORMED (said on stderr)
 * when it is not UTF-8, BW_ENOMEM. */
BW_MUST_CHECK int bw_cli_user_args_set_password(json_t *args, const char *key,
                                                const struct bw_cli_secret *s);
/* Opens a session for --state/--project, does one action with args
 * (taken; secrets in it are wiped before it is freed) and returns its
 * reply when it says "ok":true; otherwise prints why (with what) and
 * returns NULL. */
json_t *bw_cli_user_do(const char *state_dir, const char *project_dir,
                       enum bw_cli_user_action action, json_t *args_take, const char *what);

/* ---- small helpers shared by commands (util.c) ------------------------ */

/* Prints "bulwark: ..." and a newline to stderr. */
void bw_cli_errorf(const char *fmt, ...) BW_PRINTF(1, 2);
/* Formats a duration in whole seconds as "3d 04:05:06" into out. */
void bw_cli_duration_format(uint64_t seconds, char *out, size_t size);
/* Prints text to out, escaping control and non-ASCII bytes so a value
 * from a device cannot drive the terminal. */
void bw_cli_print_safe(FILE *out, const char *text, size_t len);

/* An aligned text table for people (table.c): cells are copied; output
 * is escaped with bw_cli_print_safe. */
#define BW_CLI_TABLE_MAX_COLS 8

struct bw_cli_table {
    size_t cols;
    const char *head[BW_CLI_TABLE_MAX_COLS];
    char **cells; /* rows * cols */
    size_t rows, cap;
};

void bw_cli_table_init(struct bw_cli_table *t, size_t cols, const char *const *head);
BW_MUST_CHECK int bw_cli_table_add(struct bw_cli_table *t, const char *const *cells);
void bw_cli_table_print(const struct bw_cli_table *t, FILE *out);
void bw_cli_table_clear(struct bw_cli_table *t);

#endif
