/* SPDX-License-Identifier: Apache-2.0
 *
 * Aligned text tables for the commands that list things (`bulwark tags`,
 * `bulwark status`): rows are collected first so that every column can
 * be as wide as its widest cell. Main thread.
 */
#include "cli/internal.h"

#include <string.h>

void bw_cli_table_init(struct bw_cli_table *t, size_t cols, const char *const *head)
{
    memset(t, 0, sizeof(*t));
    t->cols = cols < BW_CLI_TABLE_MAX_COLS ? cols : BW_CLI_TABLE_MAX_COLS;
    for (size_t c = 0; c < t->cols; c++)
        t->head[c] = head[c];
}

int bw_cli_table_add(struct bw_cli_table *t, const char *const *cells)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64, bytes;
        if (!bw_size_mul(cap, t->cols * sizeof(char *), &bytes))
            return BW_ENOMEM;
        char **grown = bw_realloc(t->cells, bytes);
        if (!grown)
            return BW_ENOMEM;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->rows * t->cols;
    for (size_t c = 0; c < t->cols; c++) {
        row[c] = bw_strdup(cells[c] ? cells[c] : "");
        if (!row[c]) {
            while (c-- > 0)
                bw_free(row[c]);
            return BW_ENOMEM;
        }
    }
    t->rows++;
    return BW_OK;
}

static void print_cell(FILE *out, const char *text, size_t width, bool last)
{
    size_t len = strlen(text);
    bw_cli_print_safe(out, text, len);
    if (last)
        return;
    for (size_t i = len; i < width + 2; i++)
        fputc(' ', out);
}

void bw_cli_table_print(const struct bw_cli_table *t, FILE *out)
{
    size_t width[BW_CLI_TABLE_MAX_COLS];
    for (size_t c = 0; c < t->cols; c++) {
        width[c] = strlen(t->head[c]);
        for (size_t r = 0; r < t->rows; r++) {
            size_t len = strlen(t->cells[r * t->cols + c]);
            if (len > width[c])
                width[c] = len;
        }
    }
    for (size_t c = 0; c < t->cols; c++)
        print_cell(out, t->head[c], width[c], c + 1 == t->cols);
    fputc('\n', out);
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->cols; c++)
            print_cell(out, t->cells[r * t->cols + c], width[c], c + 1 == t->cols);
        fputc('\n', out);
    }
}

void bw_cli_table_clear(struct bw_cli_table *t)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        bw_free(t->cells[i]);
    bw_free(t->cells);
    memset(t, 0, sizeof(*t));
}
