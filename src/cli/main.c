/*
 * main.c - the rhis binary: one program, subcommands.
 *
 * Why: operators install one binary; each subcommand lives in its own file
 * (serve.c, init.c, user.c, import.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "rhis/log.h"
#include "rhis/mpi.h"
#include "rhis/warn.h"

static void
usage(FILE *f)
{
    fputs(
        "usage: rhis COMMAND [options]\n"
        "\n"
        "commands:\n"
        "  init                 create or migrate the database, load "
        "reference data,\n"
        "                       create the admin user\n"
        "  serve                run the HTTP server (API, FHIR, web UI)\n"
        "  user add|list|disable|passwd   manage users\n"
        "  import-population FILE.csv     load population denominators\n"
        "  import-institutions FILE.csv   load institutions\n"
        "  import FILE.ndjson             load FHIR resources (NDJSON)\n"
        "  mpi estimate [--sample N]      estimate the master patient index's"
        " match weights (EM)\n"
        "  copy --from URL --to URL       copy a database to another "
        "engine\n"
        "  demo --area CODE[,CODE...]     generate the synthetic demo region\n"
        "  detect --method M < series.csv run an outbreak detector on a "
        "date,count series\n"
        "  warn --date D                  run the daily outbreak detection "
        "for day D\n"
        "  report --plan P --year Y [--format html|csv]  plan monitoring"
        " report\n"
        "  plan rebuild|verify|value|load|lint   plan monitoring data "
        "(rhis plan --help)\n"
        "  version              print the version\n"
        "\n"
        "Every command takes --db URL (default sqlite:rhis.db, or "
        "$RHIS_DB).\n"
        "Run 'rhis COMMAND --help' for its options.\n",
        f);
}

const char *
cli_default_db(void)
{
    const char *e = getenv("RHIS_DB");
    return e != NULL && e[0] != '\0' ? e : "sqlite:rhis.db";
}

rhis_db *
cli_open_db(const char *url)
{
    char err[512] = "";
    rhis_db *db = NULL;
    if (rhis_db_open(&db, url, err, sizeof(err)) != RHIS_OK) {
        fprintf(stderr, "rhis: cannot open database: %s\n", err);
        exit(1);
    }
    return db;
}

int
cli_read_secret(const char *path, char *buf, size_t len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "rhis: cannot read %s\n", path);
        return -1;
    }
    int ok = fgets(buf, (int)len, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "rhis: %s is empty\n", path);
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fputs("rhis: libsodium failed to initialise\n", stderr);
        return 1;
    }
    const char *lvl = getenv("RHIS_LOG_LEVEL");
    if (lvl != NULL && rhis_log_level_parse(lvl) >= 0)
        rhis_log_level = rhis_log_level_parse(lvl);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return cmd_user(argc - 1, argv + 1);
    if (strcmp(cmd, "import-population") == 0)
        return cmd_import_population(argc - 1, argv + 1);
    if (strcmp(cmd, "import-institutions") == 0)
        return cmd_import_institutions(argc - 1, argv + 1);
    if (strcmp(cmd, "mpi") == 0)
        return rhis_mpi_cli(argc - 1, argv + 1, cli_default_db());
    if (strcmp(cmd, "import") == 0)
        return cmd_import_fhir(argc - 1, argv + 1);
    if (strcmp(cmd, "copy") == 0)
        return cmd_copy(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "detect") == 0)
        return cmd_detect(argc - 1, argv + 1);
    if (strcmp(cmd, "warn") == 0)
        return rhis_warn_cli(argc - 1, argv + 1, cli_default_db());
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0)
        return cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        puts("rhis 0.1.0");
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "rhis: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
