/* SPDX-License-Identifier: Apache-2.0
 *
 * Standalone driver that replays saved inputs through a libFuzzer target
 * without libFuzzer, so that the seed corpora run in every `make check`
 * build (normal and ASan+UBSan) with the ordinary compiler. Linked with
 * one tests/fuzz/fuzz_<name>.c when BW_FUZZ is off; never linked into
 * the libFuzzer builds, which bring their own main().
 *
 *   fuzz_<name>_replay PATH...
 *
 * Each PATH is a file (run as one input) or a directory (every file in it
 * and below, in name order; names starting with '.' are skipped). Each
 * input is copied into a buffer of exactly its size, so that a read past
 * the end is caught by ASan. Calls LLVMFuzzerInitialize() first when the
 * target defines it. Exits non-zero when a path is missing, when a
 * directory holds no input (so that a test cannot pass on nothing), when
 * a file cannot be read, or when the target returns neither 0 nor -1; a
 * crash in the target ends the process as it would under libFuzzer.
 * Single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A seed larger than this is a mistake in the corpus, not an input. */
#define REPLAY_MAX_INPUT (64u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target; weak so that the address is NULL when absent. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads the whole of fd (size bytes per fstat) into a fresh buffer of
 * exactly that size. Returns 0 or -1 with errno set. */
static int read_input(int fd, size_t size, uint8_t **out)
{
    /* malloc(0) may give NULL; the target still gets a valid pointer. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* shorter than fstat said: changed under us */
            free(buf);
            return -1;
        }
        done += (size_t)n;
    }
    *out = buf;
    return 0;
}

/* Runs one file through the target. Returns 0 on success, -1 after
 * printing why not. */
static int run_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uintmax_t)st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n", path,
                REPLAY_MAX_INPUT);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = NULL;
    int rc = read_input(fd, size, &data);
    int saved = errno;
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(saved));
        return -1;
    }
    /* Named before it runs, so that a crash report says which input. */
    printf("replay: %s (%zu bytes)\n", path, size);
    fflush(stdout);
    int ret = LLVMFuzzerTestOneInput(data, size);
    free(data);
    if (ret != 0 && ret != -1) {
        fprintf(stderr, "replay: %s: target returned %d\n", path, ret);
        return -1;
    }
    return 0;
}

static int skip_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Runs path (a file, or a directory taken recursively), adding the
 * number of inputs run to *count. Returns 0 or -1 after printing why. */
static int run_path(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (run_file(path) != 0)
            return -1;
        (*count)++;
        return 0;
    }
    struct dirent **names = NULL;
    int n = scandir(path, &names, skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char child[4096];
        int len = snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
        if (rc == 0 && (len < 0 || (size_t)len >= sizeof(child))) {
            fprintf(stderr, "replay: %s/%s: path too long\n", path, names[i]->d_name);
            rc = -1;
        }
        if (rc == 0)
            rc = run_path(child, count);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize && LLVMFuzzerInitialize(&argc, &argv) != 0) {
        fprintf(stderr, "replay: LLVMFuzzerInitialize failed\n");
        return 1;
    }
    size_t total = 0;
    for (int i = 1; i < argc; i++) {
        size_t count = 0;
        if (run_path(argv[i], &count) != 0)
            return 1;
        if (count == 0) {
            fprintf(stderr, "replay: %s: no inputs (a corpus must not be empty)\n", argv[i]);
            return 1;
        }
        total += count;
    }
    printf("replay: ran %zu inputs from %d paths\n", total, argc - 1);
    return 0;
}
