/*
 * import.c - `rhis import-population` and `rhis import-institutions`.
 *
 * Why: denominators and institution lists come from statistics offices
 * and health commissions as spreadsheets; each file loads all or nothing,
 * and a fault names its line.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rhis/registry.h"

typedef rhis_status (*import_fn)(
    rhis_db *, const char *, int64_t *, char *, size_t);

static int
run_import(int argc, char **argv, const char *what, import_fn fn)
{
    const char *url = cli_default_db(), *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (argv[i][0] != '-' && file == NULL)
            file = argv[i];
        else
            file = NULL, i = argc;
    }
    if (file == NULL) {
        fprintf(stderr, "usage: rhis import-%s [--db URL] FILE.csv\n", what);
        return 2;
    }
    rhis_db *db = cli_open_db(url);
    char err[512] = "";
    int64_t n = 0;
    rhis_status rc = fn(db, file, &n, err, sizeof(err));
    rhis_db_close(db);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis import-%s: %s (nothing was imported)\n", what,
                err);
        return 1;
    }
    printf("%s: %lld rows imported from %s\n", what, (long long)n, file);
    return 0;
}

int
cmd_import_population(int argc, char **argv)
{
    return run_import(argc, argv, "population",
                      rhis_registry_import_population);
}

int
cmd_import_institutions(int argc, char **argv)
{
    return run_import(argc, argv, "institutions",
                      rhis_registry_import_institutions);
}
