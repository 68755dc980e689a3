/*
 * serve.c - `rhis serve`: configuration, then the HTTP server.
 *
 * Why: settings come from defaults, then the config file, then RHIS_*
 * environment, then flags; --check-config validates all of that and the
 * database without serving (like `nginx -t`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rhis/config.h"
#include "rhis/http.h"
#include "rhis/log.h"
#include "rhis/warn.h"

static void
print_routes(void)
{
    size_t n;
    const rhis_route *r = rhis_routes(&n);
    printf("%-7s %-40s %-5s %-6s %-40s %s\n", "METHOD", "PATH", "AUTH", "AUDIT",
           "ROLES", "SUMMARY");
    for (size_t i = 0; i < n; i++) {
        char roles[160];
        if ((r[i].flags & ROUTE_AUTH) != 0)
            rhis_roles_format(r[i].roles, roles, sizeof(roles));
        else
            snprintf(roles, sizeof(roles), "public");
        printf("%-7s %-40s %-5s %-6s %-40s %s\n", r[i].method, r[i].pattern,
               (r[i].flags & ROUTE_AUTH) != 0 ? "yes" : "no",
               (r[i].flags & ROUTE_AUDIT) != 0   ? "yes"
               : (r[i].flags & ROUTE_WRITE) != 0 ? "in-tx"
                                                 : "-",
               roles, r[i].summary);
    }
}

static void
serve_usage(void)
{
    puts("usage: rhis serve [--db URL] [--listen HOST:PORT] [--config FILE]\n"
         "                  [--SETTING VALUE ...] [--check-config]\n"
         "                  [--dump-config] [--describe-config] [--routes]\n"
         "\n"
         "Settings (file 'name value', environment RHIS_NAME, flag --name):");
    rhis_config_describe(stdout);
}

int
cmd_serve(int argc, char **argv)
{
    rhis_config conf;
    rhis_config_defaults(&conf);
    char err[512];
    const char *config_file = getenv("RHIS_CONFIG");
    int check = 0, dump = 0;
    /* the config file first, so flags override it wherever they stand */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_file = argv[i + 1];
    if (config_file != NULL && rhis_config_load_file(&conf, config_file, err,
                                                     sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis: %s\n", err);
        return 1;
    }
    if (rhis_config_load_env(&conf, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis: %s\n", err);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--routes") == 0) {
            print_routes();
            return 0;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            serve_usage();
            return 0;
        }
        if (strcmp(a, "--describe-config") == 0) {
            rhis_config_describe(stdout);
            return 0;
        }
        if (strcmp(a, "--check-config") == 0) {
            check = 1;
            continue;
        }
        if (strcmp(a, "--dump-config") == 0) {
            dump = 1;
            continue;
        }
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "rhis serve: bad argument '%s' (see --help)\n", a);
            return 2;
        }
        char name[64];
        snprintf(name, sizeof(name), "%s", a + 2);
        for (char *p = name; *p != '\0'; p++)
            if (*p == '-')
                *p = '_';
        if (rhis_config_set(&conf, name, argv[++i], err, sizeof(err)) !=
            RHIS_OK) {
            fprintf(stderr, "rhis serve: %s\n", err);
            return 2;
        }
    }
    rhis_log_level = rhis_log_level_parse(conf.log_level);
    if (dump)
        rhis_config_dump(&conf, stdout);
    if (check) {
        rhis_db *db = NULL;
        if (rhis_db_open(&db, conf.db, err, sizeof(err)) != RHIS_OK) {
            fprintf(stderr, "rhis: config check failed: database: %s\n", err);
            return 1;
        }
        int64_t v = 0;
        rhis_status rc = rhis_db_scalar_int64(
            db, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_version", "");
        rhis_db_close(db);
        if (rc != RHIS_OK || v != rhis_db_schema_version_latest()) {
            fprintf(stderr,
                    "rhis: config check failed: schema version %lld, "
                    "expected %d: run 'rhis init --db %s'\n",
                    (long long)v, rhis_db_schema_version_latest(), conf.db);
            return 1;
        }
        printf("configuration ok\n");
        return 0;
    }
    if (dump)
        return 0;

    rhis_server *srv;
    if (rhis_server_new(&srv, &conf, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis: %s\n", err);
        return 1;
    }
    /* the daily detection and the escalation sweep (src/surveil/sched.c) */
    rhis_warn_sched *sched = NULL;
    if (rhis_warn_sched_start(&sched, &conf) != RHIS_OK) {
        fprintf(stderr, "rhis: cannot start the detection scheduler\n");
        rhis_server_free(srv);
        return 1;
    }
    rhis_status rc = rhis_server_run(srv);
    rhis_warn_sched_stop(sched);
    rhis_server_free(srv);
    return rc == RHIS_OK ? 0 : 1;
}
