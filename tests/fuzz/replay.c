/*
 * replay.c - runs a fuzz target over stored inputs without libFuzzer.
 *
 * Why: the same fuzz_<name>.c compiles with gcc into replay_<name>, which
 * feeds every regular file of the directories (or files) named on the
 * command line to LLVMFuzzerTestOneInput once, so the corpus and the
 * regression crashers run as ordinary ctest tests (SQLite fuzzcheck, lwan).
 * A crash or abort fails the test; the last "replay:" line names the input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rhis/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = rhis_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            cap *= 2;
            buf = rhis_xrealloc(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        rhis_free(buf);
        perror(path);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* an exact-size copy lets ASan see reads past the end */
    uint8_t *exact = rhis_xmalloc(len > 0 ? len : 1);
    memcpy(exact, buf, len);
    rhis_free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    rhis_free(exact);
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir (sorted, not recursive); -1 on error. */
static int
run_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            names = rhis_xrealloc(names, cap * sizeof(*names));
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = rhis_xmalloc(len);
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) < 0)
                rc = -1;
            else
                (*count)++;
        }
        rhis_free(names[i]);
    }
    rhis_free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    int count = 0, rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            /* an empty regression/ directory may be absent from a checkout */
            fprintf(stderr, "replay: skipping missing %s\n", argv[i]);
            continue;
        }
        if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) < 0
                                : run_file(argv[i]) < 0)
            rc = 1;
        else if (!S_ISDIR(st.st_mode))
            count++;
    }
    fprintf(stderr, "replay: %d inputs, %s\n", count,
            rc == 0 ? "all passed" : "some could not be read");
    return rc;
}
