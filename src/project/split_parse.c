/* SPDX-License-Identifier: Apache-2.0
 *
 * Parses a large project.json on two threads. Almost all of a large
 * project is its "tags" array, and jansson parses one document on one
 * core; so the top level is parsed with an empty "tags" array while the
 * two halves of the real array (split at a top-level comma) are parsed
 * in parallel, then joined. Runs on the caller's thread and the loader's
 * helper thread (reaper.c), which parses the second half.
 *
 * This is only a faster route to the same tree: whenever the document
 * does not have the expected shape (no single plainly spelled "tags" key
 * holding an array of two or more elements) or any part fails to parse,
 * it returns NULL and the caller parses the whole text the ordinary way,
 * which also produces the exact error message.
 */
#include "project/internal.h"

#include <string.h>

/* Where the "tags" array sits in the text, and where to split it. */
struct tags_span {
    size_t open;  /* index of '[' */
    size_t close; /* index of the matching ']' */
    size_t split; /* index of the top-level ',' nearest past the middle */
};

/* Skips a string starting at data[i] == '"'; returns the index after its
 * closing quote, or len when it is unterminated. */
static size_t skip_string(const char *data, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (data[i] == '\\')
            i++;
        else if (data[i] == '"')
            return i + 1;
    }
    return len;
}

static size_t skip_space(const char *data, size_t len, size_t i)
{
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    return i;
}

/* Finds the ']' closing the array opened at data[open], and the first
 * comma at the array's own level past the middle of the rest of the
 * text (in a large project the array is nearly all of it). */
static bool find_array_end(const char *data, size_t len, struct tags_span *span)
{
    size_t middle = span->open + (len - span->open) / 2;
    size_t last_comma = 0;
    int depth = 0;
    span->split = 0;
    for (size_t i = span->open; i < len;) {
        char c = data[i];
        if (c == '"') {
            i = skip_string(data, len, i);
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (--depth == 0) {
                /* The parts are parsed without the array's own brackets,
                 * so the closing one is checked here: it must match. */
                if (c != ']')
                    return false;
                span->close = i;
                /* The array was not most of the text: split at its
                 * last comma rather than not at all. */
                if (span->split == 0)
                    span->split = last_comma;
                return span->split != 0;
            }
        } else if (c == ',' && depth == 1) {
            last_comma = i;
            if (span->split == 0 && i >= middle)
                span->split = i;
        }
        i++;
    }
    return false;
}

/* Locates the one top-level "tags" key and its array; false when the
 * document has any other shape. */
static bool find_tags(const char *data, size_t len, struct tags_span *span)
{
    int depth = 0;
    bool found = false;
    bool expect_key = false;
    for (size_t i = 0; i < len;) {
        char c = data[i];
        if (c == '"') {
            size_t end = skip_string(data, len, i);
            if (depth == 1 && expect_key && end - i == 6 && memcmp(data + i, "\"tags\"", 6) == 0) {
                size_t j = skip_space(data, len, end);
                if (found || j >= len || data[j] != ':')
                    return false;
                j = skip_space(data, len, j + 1);
                if (j >= len || data[j] != '[')
                    return false;
                span->open = j;
                if (!find_array_end(data, len, span))
                    return false;
                found = true;
                i = span->close + 1;
                expect_key = false;
                continue;
            }
            expect_key = false;
            i = end;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        expect_key = depth == 1 && (c == '{' || c == ',');
        i++;
    }
    return found;
}

/* A piece of the text to parse on its own: "[" body "]" or the top level
 * with the array replaced by "[]". */
struct part {
    char *text;
    size_t len;
    json_t *value;
};

static bool part_make(struct part *p, const char *a, size_t alen, const char *mid, size_t mlen,
                      const char *b, size_t blen)
{
    size_t total = alen + mlen + blen;
    p->text = bw_malloc(total ? total : 1);
    if (!p->text)
        return false;
    memcpy(p->text, a, alen);
    memcpy(p->text + alen, mid, mlen);
    memcpy(p->text + alen + mlen, b, blen);
    p->len = total;
    p->value = NULL;
    return true;
}

static void part_parse(void *arg)
{
    struct part *p = arg;
    json_error_t err;
    p->value = json_loadb(p->text, p->len, JSON_REJECT_DUPLICATES, &err);
}

static void part_clear(struct part *p)
{
    bw_free(p->text);
    json_decref(p->value);
    p->text = NULL;
    p->value = NULL;
}

json_t *pj_parse_split(struct pj_reaper *helper, const char *data, size_t len)
{
    struct tags_span span;
    if (!helper || !find_tags(data, len, &span))
        return NULL;
    struct part top, first, second;
    memset(&top, 0, sizeof(top));
    memset(&first, 0, sizeof(first));
    memset(&second, 0, sizeof(second));
    json_t *root = NULL;
    bool ok =
        part_make(&top, data, span.open, "[]", 2, data + span.close + 1, len - span.close - 1) &&
        part_make(&first, "[", 1, data + span.open + 1, span.split - span.open - 1, "]", 1) &&
        part_make(&second, "[", 1, data + span.split + 1, span.close - span.split - 1, "]", 1);
    if (ok) {
        pj_reaper_submit(helper, part_parse, &second);
        part_parse(&top);
        part_parse(&first);
        pj_reaper_wait(helper);
        json_t *tags = json_object_get(top.value, "tags");
        ok = json_is_object(top.value) && json_is_array(tags) && json_array_size(tags) == 0 &&
             json_is_array(first.value) && json_is_array(second.value) &&
             /* an empty half means a stray comma ("[a,]"), which the whole
              * text would not allow */
             json_array_size(first.value) > 0 && json_array_size(second.value) > 0 &&
             json_array_extend(first.value, second.value) == 0 &&
             json_object_set(top.value, "tags", first.value) == 0;
        if (ok) {
            root = top.value;
            top.value = NULL;
        }
    }
    part_clear(&top);
    part_clear(&first);
    part_clear(&second);
    return root;
}
