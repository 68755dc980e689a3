/*
 * init.c - `rhis init`: schema, reference data, first admin.
 *
 * Why: one idempotent command brings any database (new or older schema)
 * to the current version and loads the division tree the binary ships in
 * data/; re-running it changes nothing that exists.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/auth.h"
#include "rhis/indicator.h"
#include "rhis/plan.h"
#include "rhis/registry.h"

int
cmd_init(int argc, char **argv)
{
    const char *url = cli_default_db();
    const char *pwfile = NULL;
    const char *data_dir = getenv("RHIS_DATA_DIR");
    if (data_dir == NULL)
        data_dir = "data";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--admin-password-file") == 0 && i + 1 < argc)
            pwfile = argv[++i];
        else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else {
            fprintf(stderr,
                    "usage: rhis init [--db URL] [--admin-password-file F] "
                    "[--data-dir DIR]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    rhis_db *db = cli_open_db(url);
    int version = 0;
    rhis_status rc = rhis_db_migrate(db, &version);
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis init: migration failed: %s\n",
                rhis_db_errmsg(db));
        rhis_db_close(db);
        return 1;
    }
    printf("schema version %d\n", version);

    char path[1024], err[512];
    snprintf(path, sizeof(path), "%s/divisions.csv", data_dir);
    int64_t added = 0;
    rc = rhis_registry_load_divisions(db, path, &added, err, sizeof(err));
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis init: %s\n", err);
        rhis_db_close(db);
        return 1;
    }
    printf("areas: %lld added (division codes, edition %s)\n", (long long)added,
           RHIS_DIVISION_EDITION);

    /* the five plans' targets (issue 6); replaced on every init */
    rhis_ind_defs_set_dir(data_dir);
    int nplan = 0;
    rc = rhis_plan_load(db, data_dir, &nplan, err, sizeof(err));
    if (rc != RHIS_OK) {
        fprintf(stderr, "rhis init: plans: %s\n", err);
        rhis_db_close(db);
        return 1;
    }
    printf("plans: %d target rows\n", nplan);

    int64_t admins = 0;
    rc = rhis_db_scalar_int64(db, &admins,
                              "SELECT COUNT(*) FROM app_user WHERE role ="
                              " 'admin'",
                              "");
    if (rc == RHIS_OK && admins == 0) {
        char pw[160];
        int generated = 0;
        if (pwfile != NULL) {
            if (cli_read_secret(pwfile, pw, sizeof(pw)) != 0) {
                rhis_db_close(db);
                return 1;
            }
        } else {
            unsigned char raw[12];
            randombytes_buf(raw, sizeof(raw));
            sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw),
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING);
            generated = 1;
        }
        rc =
            rhis_auth_user_add(db, "admin", "admin", "*", pw, err, sizeof(err));
        if (rc != RHIS_OK) {
            fprintf(stderr, "rhis init: admin: %s\n", err);
            rhis_db_close(db);
            return 1;
        }
        if (generated)
            printf("admin user created; password (shown once): %s\n", pw);
        else
            printf("admin user created\n");
        sodium_memzero(pw, sizeof(pw));
    } else if (rc == RHIS_OK) {
        printf("admin user exists\n");
    }
    rhis_db_close(db);
    return rc == RHIS_OK ? 0 : 1;
}
