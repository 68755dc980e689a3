/*
 * copy.c - `rhis copy --from URL --to URL`: move a node to another engine.
 *
 * Why: the README's path from SQLite to PostgreSQL; see src/db/copy.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int
cmd_copy(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else
            from = NULL, i = argc;
    }
    if (from == NULL || to == NULL) {
        fputs("usage: rhis copy --from URL --to URL\n"
              "  copies every table (ids, users, audit trail included) into "
              "a new, empty\n"
              "  database, e.g. --from sqlite:rhis.db --to "
              "postgresql://rhis@127.0.0.1/rhis\n",
              stderr);
        return 2;
    }
    rhis_db *src = cli_open_db(from);
    rhis_db *dst = cli_open_db(to);
    int vs = 0, vd = 0;
    rhis_status rc = rhis_db_migrate(src, &vs);
    if (rc == RHIS_OK)
        rc = rhis_db_migrate(dst, &vd);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis copy: migration failed: %s\n",
                rhis_db_errmsg(dst));
        rhis_db_close(src);
        rhis_db_close(dst);
        return 1;
    }
    char err[512] = "";
    int64_t rows = 0;
    rc = rhis_db_copy(src, dst, &rows, err, sizeof(err));
    rhis_db_close(src);
    rhis_db_close(dst);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis copy: %s (nothing was copied)\n", err);
        return 1;
    }
    printf("copied %lld rows (schema version %d)\n", (long long)rows, vd);
    return 0;
}
