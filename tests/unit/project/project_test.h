/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the project loader's unit tests: JSON written with '
 * for " (so test inputs stay readable), parsing with error dumps, and
 * lookups in an error list. Include after cmocka.h.
 */
#ifndef BW_TEST_PROJECT_TEST_H
#define BW_TEST_PROJECT_TEST_H

#include "project/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A copy of text with every ' turned into ". Caller frees. */
static inline char *pt_dequote(const char *text)
{
    size_t len = strlen(text);
    char *json = malloc(len + 1);
    assert_non_null(json);
    for (size_t i = 0; i <= len; i++)
        json[i] = text[i] == '\'' ? '"' : text[i];
    return json;
}

static inline void pt_dump(const struct bw_project_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        fprintf(stderr, "  error: %s: %s\n", errors->items[i].path, errors->items[i].reason);
    if (errors->omitted)
        fprintf(stderr, "  (%zu more)\n", errors->omitted);
}

/* Parses JSON written with ' for ". */
static inline int pt_parse(const char *text, struct bw_project **out,
                           struct bw_project_errors *errors)
{
    char *json = pt_dequote(text);
    int rc = bw_project_parse(json, strlen(json), out, errors);
    free(json);
    return rc;
}

/* Parses text, which must be valid; returns the project. */
static inline struct bw_project *pt_parse_ok(const char *text)
{
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    int rc = pt_parse(text, &p, &errors);
    if (rc != BW_OK)
        pt_dump(&errors);
    assert_int_equal(rc, BW_OK);
    assert_int_equal(errors.count, 0);
    assert_non_null(p);
    bw_project_errors_clear(&errors);
    return p;
}

/* Index of the error with exactly this path and reason, or -1. */
static inline long pt_find(const struct bw_project_errors *errors, const char *path,
                           const char *reason)
{
    for (size_t i = 0; i < errors->count; i++)
        if (strcmp(errors->items[i].path, path) == 0 &&
            strcmp(errors->items[i].reason, reason) == 0)
            return (long)i;
    return -1;
}

static inline void pt_expect(const struct bw_project_errors *errors, const char *path,
                             const char *reason)
{
    if (pt_find(errors, path, reason) < 0) {
        fprintf(stderr, "  expected: %s: %s\n  got:\n", path, reason);
        pt_dump(errors);
        fail();
    }
}

#endif
