/*
 * user.c - `rhis user add|list|disable|passwd`.
 *
 * Why: operators manage accounts from the shell before any web UI exists
 * and in emergencies; passwords come from a file or stdin, never argv
 * (argv is visible to every user of the machine).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rhis/auth.h"

static int
usage(void)
{
    fputs("usage:\n"
          "  rhis user add --db URL --username U --role R --scope CODE "
          "--password-file F\n"
          "      role: admin planner cdc clinician family_doctor resident "
          "dispatcher integrator\n"
          "      scope: an area code (e.g. 220221), inst:ID, or * (admin "
          "only)\n"
          "  rhis user list --db URL\n"
          "  rhis user disable --db URL --username U\n"
          "  rhis user passwd --db URL --username U --password-file F\n"
          "  (--password-file - reads the password from stdin)\n",
          stderr);
    return 2;
}

int
cmd_user(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *sub = argv[1];
    const char *url = cli_default_db(), *username = NULL, *role = NULL,
               *scope = NULL, *pwfile = NULL;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--db") == 0)
            url = argv[++i];
        else if (strcmp(argv[i], "--username") == 0)
            username = argv[++i];
        else if (strcmp(argv[i], "--role") == 0)
            role = argv[++i];
        else if (strcmp(argv[i], "--scope") == 0)
            scope = argv[++i];
        else if (strcmp(argv[i], "--password-file") == 0)
            pwfile = argv[++i];
        else
            return usage();
    }
    char err[512], pw[160];
    int ret = 1;
    if (strcmp(sub, "add") == 0) {
        if (username == NULL || role == NULL || scope == NULL || pwfile == NULL)
            return usage();
        if (cli_read_secret(pwfile, pw, sizeof(pw)) != 0)
            return 1;
        rhis_db *db = cli_open_db(url);
        if (rhis_auth_user_add(db, username, role, scope, pw, err,
                               sizeof(err)) == RHIS_OK) {
            printf("user %s added (%s, scope %s)\n", username, role, scope);
            ret = 0;
        } else {
            fprintf(stderr, "rhis user add: %s\n", err);
        }
        sodium_memzero(pw, sizeof(pw));
        rhis_db_close(db);
        return ret;
    }
    if (strcmp(sub, "passwd") == 0) {
        if (username == NULL || pwfile == NULL)
            return usage();
        if (cli_read_secret(pwfile, pw, sizeof(pw)) != 0)
            return 1;
        rhis_db *db = cli_open_db(url);
        if (rhis_auth_user_set_password(db, username, pw, err, sizeof(err)) ==
            RHIS_OK) {
            printf("password of %s changed; its sessions ended\n", username);
            ret = 0;
        } else {
            fprintf(stderr, "rhis user passwd: %s\n", err);
        }
        sodium_memzero(pw, sizeof(pw));
        rhis_db_close(db);
        return ret;
    }
    if (strcmp(sub, "disable") == 0) {
        if (username == NULL)
            return usage();
        rhis_db *db = cli_open_db(url);
        rhis_status rc = rhis_auth_user_disable(db, username);
        if (rc == RHIS_OK) {
            printf("user %s disabled; its sessions ended\n", username);
            ret = 0;
        } else {
            fprintf(stderr, "rhis user disable: %s\n",
                    rc == RHIS_ENOTFOUND ? "no such user" : "failed");
        }
        rhis_db_close(db);
        return ret;
    }
    if (strcmp(sub, "list") == 0) {
        rhis_db *db = cli_open_db(url);
        rhis_stmt *st;
        if (rhis_db_query(db, &st,
                          "SELECT id, username, role, scope_area,"
                          " scope_institution, disabled FROM app_user"
                          " ORDER BY id",
                          "") != RHIS_OK) {
            fprintf(stderr, "rhis user list: %s\n", rhis_db_errmsg(db));
            rhis_db_close(db);
            return 1;
        }
        printf("%-5s %-24s %-14s %-14s %s\n", "ID", "USERNAME", "ROLE", "SCOPE",
               "STATUS");
        while (rhis_db_step(st) == RHIS_ROW) {
            char scope_s[32];
            if (!rhis_db_column_is_null(st, 4))
                snprintf(scope_s, sizeof(scope_s), "inst:%lld",
                         (long long)rhis_db_column_int64(st, 4));
            else
                snprintf(scope_s, sizeof(scope_s), "%s",
                         rhis_db_column_text(st, 3)[0] != '\0'
                             ? rhis_db_column_text(st, 3)
                             : "*");
            printf("%-5lld %-24s %-14s %-14s %s\n",
                   (long long)rhis_db_column_int64(st, 0),
                   rhis_db_column_text(st, 1), rhis_db_column_text(st, 2),
                   scope_s,
                   rhis_db_column_int64(st, 5) != 0 ? "disabled" : "active");
        }
        rhis_db_finalize(st);
        rhis_db_close(db);
        return 0;
    }
    return usage();
}
