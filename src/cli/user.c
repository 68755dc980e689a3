/*
 * user.c - `rhis user add|list|disable|passwd`.
 *
 * Why: operators manage accounts from the shell before any web UI exists
 * and in emergencies; passwords come from a file or stdin, never argv
 * (argv is visible to every user of the machine).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/auth.h"

static int
usage(void)
{
    fputs("usage:\n"
          "  rhis user add --db URL --username U --role R --scope CODE "
          "--password-file F [--patient ID]\n"
          "      role: admin planner cdc clinician family_doctor resident "
          "dispatcher integrator\n"
          "      scope: an area code (e.g. 220221), inst:ID, or * (admin "
          "only)\n"
          "      --patient ID links a resident to its own Patient record\n"
          "  rhis user list --db URL\n"
          "  rhis user disable --db URL --username U\n"
          "  rhis user passwd --db URL --username U --password-file F\n"
          "  (--password-file - reads the password from stdin)\n",
          stderr);
    return 2;
}

/* "12" -> 12; prints an error and returns -1 for anything else. */
static int
parse_patient(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '1' || *s > '9' || *end != '\0' || v <= 0) {
        fprintf(stderr, "rhis user add: --patient needs a Patient id\n");
        return -1;
    }
    *out = v;
    return 0;
}

/* Adds the user and its link to Patient pid (0 = none) together, or
 * nothing; prints the outcome.  Returns the exit status. */
static int
add_user(const char *url,
         const char *username,
         const char *role,
         const char *scope,
         const char *pw,
         int64_t pid)
{
    char err[512] = "database busy";
    rhis_db *db = cli_open_db(url);
    rhis_status rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc =
            rhis_auth_user_add(db, username, role, scope, pw, err, sizeof(err));
    if (rc == RHIS_OK && pid != 0)
        rc = rhis_auth_user_link_patient(db, username, pid, err, sizeof(err));
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc == RHIS_OK) {
        printf("user %s added (%s, scope %s)", username, role, scope);
        if (pid != 0)
            printf(", linked to Patient/%lld", (long long)pid);
        printf("\n");
    } else {
        rhis_db_rollback(db);
        fprintf(stderr, "rhis user add: %s\n", err);
    }
    rhis_db_close(db);
    return rc == RHIS_OK ? 0 : 1;
}

int
cmd_user(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *sub = argv[1];
    const char *url = cli_default_db(), *username = NULL, *role = NULL,
               *scope = NULL, *pwfile = NULL, *patient = NULL;
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
        else if (strcmp(argv[i], "--patient") == 0)
            patient = argv[++i];
        else
            return usage();
    }
    char pw[160];
    int ret = 1;
    if (strcmp(sub, "add") == 0) {
        if (username == NULL || role == NULL || scope == NULL || pwfile == NULL)
            return usage();
        int64_t pid = 0;
        if (patient != NULL && parse_patient(patient, &pid) != 0)
            return 1;
        if (cli_read_secret(pwfile, pw, sizeof(pw)) != 0)
            return 1;
        ret = add_user(url, username, role, scope, pw, pid);
        sodium_memzero(pw, sizeof(pw));
        return ret;
    }
    if (strcmp(sub, "passwd") == 0) {
        char err[512];
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
