/* SPDX-License-Identifier: Apache-2.0
 *
 * The loader's entry points: read project.json within its size limit,
 * parse it with jansson, refuse nesting deeper than the limit, walk the
 * top-level table (scan classes, devices, simulator, history, tags, in
 * the order their references need, then audit and security) and hand
 * back either a whole project or every error found. Also frees a
 * project. Caller's thread; no shared state.
 */
#include "crypto/crypto.h"
#include "project/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the top level -------------------------------------------------- */

/* Sections in dependency order: what is named comes before what names it. */
static const struct pj_field root_fields[] = {
    {.key = "format",
     .kind = PJ_INT,
     .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_HAS_MAX,
     .store = PJ_ST_INT,
     .offset = offsetof(struct bw_project, format),
     .imin = 1,
     .imax = 1},
    {.key = "name",
     .kind = PJ_NAME,
     .flags = PJ_REQUIRED,
     .store = PJ_ST_STR,
     .offset = offsetof(struct bw_project, name)},
    {.key = "description",
     .kind = PJ_TEXT,
     .store = PJ_ST_STR,
     .offset = offsetof(struct bw_project, description),
     .imax = BW_PROJECT_TEXT_MAX},
    {.key = "scan_classes", .kind = PJ_ARRAY, .array = &pj_scan_classes_spec},
    {.key = "devices", .kind = PJ_ARRAY, .array = &pj_devices_spec},
    {.key = "simulator", .kind = PJ_OBJECT, .object = &pj_simulator_spec},
    /* Before the tags: their logs name its groups. */
    {.key = "history",
     .kind = PJ_OBJECT,
     .offset = offsetof(struct bw_project, history),
     .object = &pj_history_spec},
    {.key = "tags", .kind = PJ_ARRAY, .array = &pj_tags_spec},
    {.key = "audit",
     .kind = PJ_OBJECT,
     .offset = offsetof(struct bw_project, audit),
     .object = &pj_audit_spec},
    {.key = "security",
     .kind = PJ_OBJECT,
     .offset = offsetof(struct bw_project, security),
     .object = &pj_security_spec},
};

/* Rules that name other tags resolve once every tag is known; the
 * bound on field devices needs every device. */
static void root_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    (void)dst;
    (void)index;
    (void)seen;
    pj_tag_rules_resolve(ctx);
    size_t field = 0;
    for (size_t i = 0; ctx->project && i < ctx->project->device_count; i++)
        field += ctx->project->devices[i].driver == BW_DRIVER_MODBUS;
    if (field > BW_PROJECT_MAX_FIELD_DEVICES)
        pj_error_key(ctx, "devices",
                     "has %zu modbus devices; at most %u are allowed (each is polled by a "
                     "thread of its own)",
                     field, BW_PROJECT_MAX_FIELD_DEVICES);
}

static const struct pj_object_spec root_spec = {root_fields, BW_ARRAY_LEN(root_fields), root_check};

/* ---- nesting -------------------------------------------------------- */

struct depth_frame {
    json_t *node;
    void *iter;   /* objects */
    size_t index; /* arrays */
    size_t saved; /* path length before this node */
};

/* Next child of the frame's node (and its path segment), or NULL. */
static json_t *depth_next(struct pj_ctx *ctx, struct depth_frame *f, size_t *saved)
{
    for (;;) {
        json_t *child;
        if (json_is_object(f->node)) {
            if (!f->iter)
                return NULL;
            const char *key = json_object_iter_key(f->iter);
            child = json_object_iter_value(f->iter);
            f->iter = json_object_iter_next(f->node, f->iter);
            if (json_is_object(child) || json_is_array(child)) {
                *saved = pj_path_push_key(ctx, key);
                return child;
            }
        } else {
            if (f->index >= json_array_size(f->node))
                return NULL;
            child = json_array_get(f->node, f->index++);
            if (json_is_object(child) || json_is_array(child)) {
                *saved = pj_path_push_index(ctx, f->index - 1);
                return child;
            }
        }
    }
}

/* Refuses containers nested deeper than the limit (the root is level 1).
 * An explicit stack bounded by the limit: no recursion on file data. */
static bool depth_check(struct pj_ctx *ctx, json_t *root)
{
    struct depth_frame stack[BW_PROJECT_MAX_DEPTH];
    size_t top = 0;
    stack[0] = (struct depth_frame){root, json_object_iter(root), 0, ctx->path_len};
    for (;;) {
        size_t saved = 0;
        json_t *child = depth_next(ctx, &stack[top], &saved);
        if (!child) {
            pj_path_pop(ctx, stack[top].saved);
            if (top == 0)
                return true;
            top--;
            continue;
        }
        if (top + 2 > BW_PROJECT_MAX_DEPTH) {
            pj_error(ctx, "is nested too deeply (more than %d levels)", BW_PROJECT_MAX_DEPTH);
            pj_path_pop(ctx, 0);
            ctx->too_large = true;
            return false;
        }
        top++;
        stack[top] = (struct depth_frame){
            child, json_is_object(child) ? json_object_iter(child) : NULL, 0, saved};
    }
}

/* ---- parse ---------------------------------------------------------- */

/* jansson's message may quote the input; keep printable ASCII only. */
static void plain_text(char *out, size_t size, const char *text)
{
    size_t n = 0;
    for (; *text && n + 1 < size; text++)
        out[n++] = (*text >= 0x20 && *text < 0x7f) ? *text : '?';
    out[n] = '\0';
}

/* Counts the JSON values of data cheaply, before the parser builds its
 * tree: each value after the first is introduced by one of [ { , : outside
 * a string. Malformed text is left for the parser to describe. */
static size_t count_json_values(const char *data, size_t len)
{
    size_t count = 1;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{' || c == ',' || c == ':') {
            count++;
        }
    }
    return count;
}

static json_t *parse_json(struct pj_ctx *ctx, const char *data, size_t len)
{
    size_t values = count_json_values(data, len);
    if (values > BW_PROJECT_MAX_JSON_VALUES) {
        pj_error_at(ctx, "", "the project holds about %zu JSON values; at most %u are allowed",
                    values, BW_PROJECT_MAX_JSON_VALUES);
        ctx->too_large = true;
        return NULL;
    }
    if (ctx->reaper) {
        json_t *root = pj_parse_split(ctx->reaper, data, len);
        if (root)
            return root;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root)
        return root;
    char text[sizeof(jerr.text)];
    plain_text(text, sizeof(text), jerr.text);
    switch (json_error_code(&jerr)) {
    case json_error_out_of_memory:
        ctx->nomem = true;
        break;
    case json_error_stack_overflow:
        pj_error_at(ctx, "", "is nested too deeply (more than %d levels) at line %d, column %d",
                    BW_PROJECT_MAX_DEPTH, jerr.line, jerr.column);
        ctx->too_large = true;
        break;
    default:
        pj_error_at(ctx, "", "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                    text);
        break;
    }
    return NULL;
}

static int parse_result(struct pj_ctx *ctx)
{
    if (ctx->nomem)
        return BW_ENOMEM;
    if (ctx->too_large)
        return BW_ETOOLARGE;
    if (ctx->errors->count || ctx->errors->omitted)
        return BW_EMALFORMED;
    return BW_OK;
}

int bw_project_parse(const char *data, size_t len, struct bw_project **out,
                     struct bw_project_errors *errors)
{
    if (!out || !errors || (!data && len))
        return BW_EINVAL;
    *out = NULL;
    bw_project_errors_clear(errors);
    struct pj_ctx ctx = {.errors = errors};
    json_t *root = NULL;
    if (len > BW_PROJECT_MAX_FILE_BYTES) {
        pj_error_at(&ctx, "", "the project is %zu bytes; at most %u bytes are allowed", len,
                    BW_PROJECT_MAX_FILE_BYTES);
        ctx.too_large = true;
    } else {
        if (len >= PJ_SPLIT_MIN_BYTES)
            ctx.reaper = pj_reaper_start();
        root = parse_json(&ctx, data ? data : "", len);
    }
    if (root && !json_is_object(root))
        pj_error_at(&ctx, "", "must be an object");
    else if (root && depth_check(&ctx, root)) {
        struct pj_project_box *box = bw_calloc(1, sizeof(*box));
        ctx.nomem = !box;
        if (box) {
            ctx.project = &box->project;
            ctx.pool = &box->pool;
            /* A project without a history, audit or security section
             * has their defaults. */
            pj_audit_init(&box->project.audit);
            ctx.nomem = bw_project_security_defaults(&box->project.security) != BW_OK;
            if (!ctx.nomem)
                pj_history_init(&ctx);
        }
        struct pj_seen seen;
        if (ctx.project && !ctx.nomem)
            pj_object_walk(&ctx, root, &root_spec, ctx.project, 0, &seen);
    }
    pj_reaper_release(ctx.reaper, root);
    pj_reaper_finish(ctx.reaper);
    pj_names_clear(&ctx);
    int rc = parse_result(&ctx);
    if (rc) {
        bw_project_free(ctx.project);
        /* Half a list of errors would mislead; out of memory is the news. */
        if (rc == BW_ENOMEM)
            bw_project_errors_clear(errors);
        return rc;
    }
    if (bw_crypto_sha256(data ? data : "", len, ctx.project->sha256) != BW_OK) {
        bw_project_free(ctx.project);
        bw_project_errors_clear(errors);
        return BW_ENOMEM;
    }
    *out = ctx.project;
    return BW_OK;
}

/* ---- load ----------------------------------------------------------- */

static void io_error(struct pj_ctx *ctx, const char *what, const char *path, int err)
{
    char buf[128];
    pj_error_at(ctx, "", "cannot %s %s: %s", what, path, strerror_r(err, buf, sizeof(buf)));
}

/* Reads the whole file, refusing more than the limit. */
static int read_file(struct pj_ctx *ctx, int fd, const char *path, char **data, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        io_error(ctx, "read", path, errno);
        return BW_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        pj_error_at(ctx, "", "%s is not a regular file", path);
        return BW_EIO;
    }
    if ((uint64_t)st.st_size > BW_PROJECT_MAX_FILE_BYTES) {
        pj_error_at(ctx, "", "the project is %lld bytes; at most %u bytes are allowed",
                    (long long)st.st_size, BW_PROJECT_MAX_FILE_BYTES);
        return BW_ETOOLARGE;
    }
    /* One byte more than the size tells a file that grew meanwhile. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = bw_malloc(cap);
    if (!buf)
        return BW_ENOMEM;
    while (n < cap) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            io_error(ctx, "read", path, errno);
            bw_free(buf);
            return BW_EIO;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n == cap) {
        pj_error_at(ctx, "", "%s changed while it was read", path);
        bw_free(buf);
        return BW_EIO;
    }
    *data = buf;
    *len = n;
    return BW_OK;
}

int bw_project_load(const char *dir, struct bw_project **out, struct bw_project_errors *errors)
{
    if (!dir || !out || !errors)
        return BW_EINVAL;
    *out = NULL;
    bw_project_errors_clear(errors);
    struct pj_ctx ctx = {.errors = errors};
    char path[4096];
    if (bw_snprintf(path, sizeof(path), "%s/project.json", dir) != BW_OK) {
        pj_error_at(&ctx, "", "the project directory name is too long");
        return ctx.nomem ? BW_ENOMEM : BW_EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        io_error(&ctx, "open", path, errno);
        return ctx.nomem ? BW_ENOMEM : BW_EIO;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = read_file(&ctx, fd, path, &data, &len);
    close(fd);
    if (rc == BW_OK) {
        rc = bw_project_parse(data, len, out, errors);
        bw_free(data);
    } else if (ctx.nomem || rc == BW_ENOMEM) {
        bw_project_errors_clear(errors);
        rc = BW_ENOMEM;
    }
    return rc;
}

/* ---- free ----------------------------------------------------------- */

/* Strings live in the project's pool; only the arrays, the audit
 * forwarding settings and the security policy (which owns its strings)
 * are freed here. */
void pj_project_clear(struct bw_project *p)
{
    bw_free(p->audit.forward);
    p->audit.forward = NULL;
    bw_project_security_clear(&p->security);
    for (size_t i = 0; p->signals && i < p->signal_count; i++)
        bw_free(p->signals[i].steps);
    bw_free(p->scan_classes);
    bw_free(p->devices);
    bw_free(p->signals);
    bw_free(p->tanks);
    bw_free(p->pumps);
    bw_free(p->valves);
    bw_free(p->dosers);
    bw_free(p->tags);
}

void bw_project_free(struct bw_project *project)
{
    if (!project)
        return;
    struct pj_project_box *box =
        (struct pj_project_box *)((char *)project - offsetof(struct pj_project_box, project));
    pj_project_clear(project);
    pj_pool_clear(&box->pool);
    bw_free(box);
}
