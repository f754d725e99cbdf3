/* SPDX-License-Identifier: Apache-2.0
 *
 * What each control request does, against the running plant: "status"
 * (version, uptime, tag counts by quality, engine statistics, device
 * states), "tags" (live values with quality and timestamps, made in
 * chunks of about BW_CLI_REPLY_CHUNK bytes that the control server asks
 * for one at a time as the client reads them) and "write" (through
 * bw_core_write, the engine's one write path). Runs on the control
 * thread; everything it calls is safe there and never waits on the
 * engine.
 */
#include "audit/audit.h"
#include "cli/internal.h"
#include "crypto/crypto.h"
#include "drivers/drivers.h"
#include "project/project.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static void reply_json(struct bw_buf *reply, json_t *json)
{
    if (!json || bw_cli_json_append(reply, json) != BW_OK ||
        bw_buf_append(reply, "\n", 1) != BW_OK) {
        bw_buf_reset(reply);
        if (bw_cli_reply_error(reply, "internal", "no reply could be made") != BW_OK)
            bw_buf_reset(reply);
    }
    json_decref(json);
}

static json_t *time_json(int64_t us)
{
    char text[BW_TIME_TEXT_MAX];
    return json_string(bw_time_format_utc(us, text));
}

static json_t *engine_json(const struct bw_core *core)
{
    struct bw_core_stats s;
    bw_core_stats_get(core, &s);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "updates_applied",
                     (json_int_t)s.updates_applied, "updates_rejected",
                     (json_int_t)s.updates_rejected, "queue_full", (json_int_t)s.queue_full,
                     "changes_published", (json_int_t)s.changes_published, "subscriber_lost",
                     (json_int_t)s.subscriber_lost, "subscribers", (json_int_t)s.subscribers,
                     "queue_capacity", (json_int_t)s.queue_capacity);
}

static json_t *devices_json(const struct bw_cli_plant *plant)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < plant->driver_count; i++) {
        struct bw_driver_status d;
        bw_driver_status_get(plant->drivers[i], &d);
        json_t *one = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "name", d.device,
                                "driver", d.driver, "state", bw_driver_state_name(d.state),
                                "cycles", (json_int_t)d.cycles, "updates", (json_int_t)d.updates,
                                "writes", (json_int_t)d.writes, "queue_full",
                                (json_int_t)d.queue_full, "registers", (json_int_t)d.registers);
        if (!one || json_array_append_new(list, one) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* Every counter a driver keeps, for `bulwark devices`. */
static json_t *device_detail_json(const struct bw_driver_status *d)
{
    json_t *errors = json_object();
    for (size_t k = 0; errors && k < BW_DRIVER_ERR_COUNT_; k++)
        json_object_set_new(errors, bw_driver_error_name((enum bw_driver_error_kind)k),
                            json_integer((json_int_t)d->errors[k]));
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I}, "
        "s:s}",
        "name", d->device, "driver", d->driver, "state", bw_driver_state_name(d->state), "cycles",
        (json_int_t)d->cycles, "updates", (json_int_t)d->updates, "writes", (json_int_t)d->writes,
        "write_failures", (json_int_t)d->write_failures, "queue_full", (json_int_t)d->queue_full,
        "requests", (json_int_t)d->requests, "registers", (json_int_t)d->registers, "connects",
        (json_int_t)d->connects, "errors", errors ? errors : json_null(), "latency_us", "p50",
        (json_int_t)d->latency_p50_us, "p90", (json_int_t)d->latency_p90_us, "p99",
        (json_int_t)d->latency_p99_us, "max", (json_int_t)d->latency_max_us, "last_error",
        d->last_error);
}

static void op_devices(const struct bw_cli_plant *plant, struct bw_buf *reply)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < plant->driver_count; i++) {
        struct bw_driver_status d;
        bw_driver_status_get(plant->drivers[i], &d);
        json_t *one = device_detail_json(&d);
        if (!one || json_array_append_new(list, one) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    reply_json(reply, list ? json_pack("{s:b, s:o}", "ok", 1, "devices", list) : NULL);
}

static void op_status(const struct bw_cli_plant *plant, struct bw_buf *reply)
{
    struct bw_cli_quality_counts q;
    bw_cli_plant_count(plant, &q);
    int64_t up_us = bw_clock_monotonic_us() - plant->started_mono_us;
    json_t *status = json_pack(
        "{s:b, s:s, s:I, s:s, s:o, s:I, s:{s:I, s:I, s:I, s:I}, s:o, s:o}", "ok", 1, "version",
        BW_VERSION, "pid", (json_int_t)getpid(), "project", plant->project->name, "started",
        time_json(plant->started_real_us), "uptime_s", (json_int_t)(up_us / 1000000), "tags",
        "total", (json_int_t)(q.good + q.uncertain + q.bad), "good", (json_int_t)q.good,
        "uncertain", (json_int_t)q.uncertain, "bad", (json_int_t)q.bad, "engine",
        engine_json(plant->core), "devices", devices_json(plant));
    reply_json(reply, status);
}

/* Text from a device may be any bytes; JSON needs UTF-8. Bytes that do
 * not form UTF-8 are shown as U+FFFD. */
static json_t *text_json(const char *s, size_t len)
{
    if (bw_utf8_valid(s, len))
        return json_stringn(s, len);
    char fixed[BW_TAG_STRING_MAX * 3 + 1];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 3 < sizeof(fixed); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            fixed[n++] = (char)c;
        } else {
            memcpy(fixed + n, "\xef\xbf\xbd", 3);
            n += 3;
        }
    }
    return json_stringn(fixed, n);
}

json_t *bw_cli_tag_value_json(const struct bw_tag_state *st)
{
    if (st->quality == BW_QUALITY_BAD)
        return json_null(); /* no usable value */
    switch (st->type) {
    case BW_TYPE_BOOL:
        return json_boolean(st->v.b);
    case BW_TYPE_INT:
        return json_integer((json_int_t)st->v.i);
    case BW_TYPE_FLOAT:
        return isfinite(st->v.f) ? json_real(st->v.f) : json_null();
    case BW_TYPE_STRING:
        return text_json(st->str, st->str_len < sizeof(st->str) ? st->str_len : 0);
    }
    return json_null();
}

static json_t *tag_json(const struct bw_core *core, uint32_t id)
{
    struct bw_tag_state st;
    const struct bw_core_tag_def *def = bw_core_tag_def(core, id);
    if (!def || bw_core_tag_read(core, id, &st) != BW_OK)
        return NULL;
    json_t *tag =
        json_pack("{s:s, s:s, s:o, s:s, s:s, s:o*}", "name", def->name, "type",
                  bw_type_name(def->type), "value", bw_cli_tag_value_json(&st), "quality",
                  bw_quality_name(st.quality), "reason", bw_quality_reason_name(st.reason),
                  "server_ts", st.server_ts_us ? time_json(st.server_ts_us) : NULL);
    if (tag && st.source_ts_us &&
        json_object_set_new(tag, "source_ts", time_json(st.source_ts_us)) != 0) {
        json_decref(tag);
        return NULL;
    }
    return tag;
}

/* Makes the next chunk of {"ok":true,"count":N,"tags":[...]}: the head
 * on the first call, then tags from cursor->next on until the chunk
 * holds BW_CLI_REPLY_CHUNK bytes, and the tail after the last. The tag
 * set is fixed while the daemon runs, so a rank range stays valid from
 * one call to the next; values are read as each chunk is made. */
static void op_tags(const struct bw_cli_plant *plant, const char *prefix,
                    struct bw_cli_reply_cursor *cursor, struct bw_buf *reply)
{
    int rc = BW_OK;
    bool first_chunk = !cursor->started;
    size_t begin = 0;
    if (first_chunk) {
        size_t count;
        bw_core_tag_prefix_range(plant->core, prefix, &begin, &count);
        cursor->next = begin;
        cursor->end = begin + count;
        rc = bw_buf_printf(reply, "{\"ok\":true,\"count\":%zu,\"tags\":[", count);
    }
    while (!rc && cursor->next < cursor->end && reply->len < BW_CLI_REPLY_CHUNK) {
        json_t *tag = tag_json(plant->core, bw_core_tag_by_rank(plant->core, cursor->next));
        rc = tag ? BW_OK : BW_ENOMEM;
        /* Every tag but the request's first follows a comma. */
        if (!rc && !(first_chunk && cursor->next == begin))
            rc = bw_buf_append(reply, ",", 1);
        if (!rc)
            rc = bw_cli_json_append(reply, tag);
        json_decref(tag);
        if (!rc)
            cursor->next++;
    }
    if (!rc && cursor->next == cursor->end)
        rc = bw_buf_append_str(reply, "]}\n");
    cursor->more = !rc && cursor->next < cursor->end;
    if (!rc)
        return;
    /* A tag of BW_CLI_CHUNK_MAX bytes cannot be, so what failed is memory.
     * Before anything was sent the client can be told; after, the
     * server can only cut the line (an empty reply). */
    bw_buf_reset(reply);
    cursor->more = false;
    if (first_chunk && bw_cli_reply_error(reply, "internal", "no reply could be made") != BW_OK)
        bw_buf_reset(reply);
}

/* The value a write asked for, as JSON for its audit record. */
static json_t *request_value_json(const struct bw_cli_request *req, const struct bw_value *v)
{
    switch (v->type) {
    case BW_TYPE_BOOL:
        return json_boolean(v->v.b);
    case BW_TYPE_INT:
        return json_integer((json_int_t)v->v.i);
    case BW_TYPE_FLOAT:
        return isfinite(v->v.f) ? json_real(v->v.f) : json_null();
    case BW_TYPE_STRING:
        return text_json(req->text, req->value.len < sizeof(req->text) ? req->value.len : 0);
    }
    return json_null();
}

static const char *write_code(int rc)
{
    switch (rc) {
    case BW_EINVAL:
    case BW_ENOTFOUND:
        return "unknown_tag";
    case BW_EDENIED:
        return "not_writable";
    case BW_ETYPE:
        return "type_mismatch";
    case BW_ERANGE:
        return "out_of_range";
    case BW_EFULL:
    case BW_EBUSY:
        return "busy";
    default:
        return "write_failed";
    }
}

static void reply_write_error(struct bw_buf *reply, const char *code, const char *message)
{
    if (bw_cli_reply_error(reply, code, message) != BW_OK)
        bw_buf_reset(reply);
}

/* Reads the text given for a non-string tag as that tag's type, so the
 * command line can pass any value as it was typed. */
static int write_value(const struct bw_cli_request *req, const struct bw_core_tag_def *def,
                       struct bw_value *value, struct bw_write_error *err)
{
    *value = req->value;
    if (value->type != BW_TYPE_STRING || def->type == BW_TYPE_STRING ||
        bw_cli_value_from_text(def->type, req->text, req->value.len, value) == BW_OK)
        return BW_OK;
    int fits = bw_snprintf(err->message, sizeof(err->message),
                           "tag %s is of type %s and the text given is not a valid %s", req->tag,
                           bw_type_name(def->type), bw_type_name(def->type));
    (void)fits; /* the message is shortened, never lost */
    return BW_ETYPE;
}

/* A write is recorded as requested before it runs and with its result
 * after (SR 2.8, 2.10): when the trail cannot take the request, the
 * write does not run. */
static void op_write(struct bw_cli_plant *plant, const struct bw_cli_request *req,
                     struct bw_buf *reply)
{
    uint32_t id;
    struct bw_write_error err = {{0}};
    struct bw_value value = req->value;
    json_t *old_json = NULL;
    int rc = bw_core_tag_find(plant->core, req->tag, &id);
    if (rc) {
        int fits = bw_snprintf(err.message, sizeof(err.message), "no tag named %s", req->tag);
        (void)fits; /* a name fits: it is at most BW_TAG_NAME_MAX bytes */
    } else {
        rc = write_value(req, bw_core_tag_def(plant->core, id), &value, &err);
    }
    if (rc == BW_OK &&
        bw_cli_audit_tag_write_request(plant->audit, req->peer_uid, req->peer_pid, req->tag,
                                       request_value_json(req, &value)) != BW_OK) {
        bw_log(BW_LOG_WARN, BW_LOGC_CONTROL,
               "control: write to %s refused: audit trail unavailable", req->tag);
        bw_cli_audit_tag_write(plant->audit, req->peer_uid, req->peer_pid, req->tag, NULL,
                               request_value_json(req, &value), BW_EDENIED,
                               "audit trail unavailable");
        reply_write_error(reply, "audit_unavailable",
                          "the audit trail cannot record this command now; writes are refused "
                          "until it can");
        return;
    }
    if (rc == BW_OK) {
        struct bw_tag_state before;
        if (bw_core_tag_read(plant->core, id, &before) == BW_OK)
            old_json = bw_cli_tag_value_json(&before);
        rc = bw_core_write(plant->core, id, &value, &err);
    }
    const char *why = err.message[0] ? err.message : bw_strerror(rc);
    bw_cli_audit_tag_write(plant->audit, req->peer_uid, req->peer_pid, req->tag, old_json,
                           request_value_json(req, &value), rc, why);
    if (rc) {
        bw_log(BW_LOG_INFO, BW_LOGC_CONTROL, "control: write to %s refused: %s", req->tag, why);
        reply_write_error(reply, write_code(rc), why);
        return;
    }
    bw_log(BW_LOG_INFO, BW_LOGC_CONTROL, "control: write to %s accepted", req->tag);
    reply_json(reply, json_pack("{s:b, s:s}", "ok", 1, "tag", req->tag));
}

/* An administrator frees the trail (essential: it never asks the gate).
 * Blocks the control thread while the writer archives. */
static void op_audit_archive(struct bw_cli_plant *plant, const struct bw_cli_request *req,
                             struct bw_buf *reply)
{
    if (!plant->audit) {
        reply_write_error(reply, "no_audit", "this daemon keeps no audit trail");
        return;
    }
    uint64_t first = 0, last = 0;
    int rc = bw_audit_archive_now(plant->audit, &first, &last);
    bw_cli_audit_archive_requested(plant->audit, req->peer_uid, req->peer_pid, rc, first, last);
    if (rc) {
        bw_log(BW_LOG_WARN, BW_LOGC_CONTROL, "control: audit archive failed: %s", bw_strerror(rc));
        reply_write_error(reply, "archive_failed",
                          rc == BW_ETIMEOUT ? "the audit writer did not answer in time"
                                            : "the audit trail could not be archived now");
        return;
    }
    bw_log(BW_LOG_INFO, BW_LOGC_CONTROL, "control: audit records %llu..%llu archived on request",
           (unsigned long long)first, (unsigned long long)last);
    struct bw_audit_status st;
    bw_audit_status_get(plant->audit, &st);
    reply_json(reply, json_pack("{s:b, s:I, s:I, s:i, s:s}", "ok", 1, "first_seq",
                                (json_int_t)first, "last_seq", (json_int_t)last, "usage_percent",
                                (int)st.usage_percent, "state",
                                st.state == BW_AUDIT_STATE_OK     ? "ok"
                                : st.state == BW_AUDIT_STATE_FULL ? "full"
                                                                  : "failed"));
}

/* `bulwark audit export` says what it wrote; the daemon records it with
 * who asked (the peer's credentials, not anything the request says). */
static void op_audit_exported(struct bw_cli_plant *plant, const struct bw_cli_request *req,
                              struct bw_buf *reply)
{
    if (!plant->audit) {
        reply_write_error(reply, "no_audit", "this daemon keeps no audit trail");
        return;
    }
    uint64_t seq = 0;
    int rc =
        bw_cli_audit_exported(plant->audit, req->peer_uid, req->peer_pid, &req->export_note, &seq);
    if (rc) {
        reply_write_error(reply, "audit_unavailable",
                          "the audit trail cannot record the export now");
        return;
    }
    reply_json(reply, json_pack("{s:b, s:I}", "ok", 1, "seq", (json_int_t)seq));
}

/* An account action (`bulwark user` while the daemon runs): done with
 * the daemon's policy, by the operating-system user of the peer (its
 * SO_PEERCRED uid, never anything the request says). The arguments may
 * hold a password: they are neither logged nor recorded; the security
 * module records the outcome. Blocks the control thread for one
 * password hash where the action computes one. */
static void op_user(struct bw_cli_plant *plant, const struct bw_cli_request *req,
                    struct bw_buf *reply)
{
    if (!plant->security) {
        reply_write_error(reply, "no_security", "this daemon manages no accounts");
        return;
    }
    char os_user[BW_CLI_OS_USER_MAX], address[64];
    bw_cli_os_user_describe(req->peer_uid, os_user, sizeof(os_user));
    if (bw_snprintf(address, sizeof(address), "control socket, pid %d", (int)req->peer_pid))
        bw_strlcpy(address, "control socket", sizeof(address));
    struct bw_cli_user_actor actor = {.os_user = os_user, .address = address};
    actor.login_uid_known = req->peer_pid > 0 && bw_cli_login_uid(req->peer_pid, &actor.login_uid);
    json_t *answer = bw_cli_user_apply(plant->security, &plant->project->security, &actor,
                                       req->user_action, req->user_args);
    bw_log(BW_LOG_INFO, BW_LOGC_CONTROL, "control: account action %s by %s: %s",
           bw_cli_user_action_name(req->user_action), os_user,
           json_is_true(json_object_get(answer, "ok")) ? "done" : "refused");
    /* An enrolment's reply holds the new key: wiped once it is sent on. */
    json_t *uri = json_incref(json_object_get(answer, "uri"));
    reply_json(reply, answer);
    if (json_is_string(uri))
        bw_crypto_wipe((char *)json_string_value(uri), json_string_length(uri));
    json_decref(uri);
}

void bw_cli_ops_handle(void *ctx, const struct bw_cli_request *req,
                       struct bw_cli_reply_cursor *cursor, struct bw_buf *reply)
{
    struct bw_cli_plant *plant = ctx;
    switch (req->op) {
    case BW_CLI_OP_STATUS:
        op_status(plant, reply);
        return;
    case BW_CLI_OP_TAGS:
        op_tags(plant, req->prefix, cursor, reply);
        return;
    case BW_CLI_OP_WRITE:
        op_write(plant, req, reply);
        return;
    case BW_CLI_OP_AUDIT_ARCHIVE:
        op_audit_archive(plant, req, reply);
        return;
    case BW_CLI_OP_AUDIT_EXPORTED:
        op_audit_exported(plant, req, reply);
        return;
    case BW_CLI_OP_USER:
        op_user(plant, req, reply);
        return;
    case BW_CLI_OP_DEVICES:
        op_devices(plant, reply);
        return;
    }
}
