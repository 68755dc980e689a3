/*
 * fuzz_ndjson.c - libFuzzer target for the NDJSON importer
 * (src/cli/import_fhir.c, `rhis import`).
 *
 * Feeds the input as an NDJSON file through the importer's stream loop on
 * an in-memory SQLite database with the migrated schema, a few areas of
 * 永吉县 and one institution, three lines per transaction so that
 * commits, savepoints and rollbacks all happen.  Oracles: no crash and no
 * leak (ASan/LSan); the counts add up (loaded + failed <= lines); the store
 * holds exactly one version per loaded resource and no typed row without
 * one (a failed line left nothing behind).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* the importer's static functions are under test: include, do not link */
#include "../../src/cli/import_fhir.c"

#include "rhis/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cli.h's default-URL helper lives in main.c, which is not linked here. */
const char *
cli_default_db(void)
{
    return "sqlite::memory:";
}

/* Reference rows, real codes of 永吉县 (data/divisions.csv). */
static const char setup_sql[] =
    "INSERT INTO area (code, name, level, parent_code, edition) VALUES"
    " ('22', '吉林省', 1, NULL, '2023'), ('2202', '吉林市', 2, '22', '2023'),"
    " ('220221', '永吉县', 3, '2202', '2023'),"
    " ('220221100', '口前镇', 4, '220221', '2023'),"
    " ('220221100001', '河北社区', 5, '220221100', '2023');"
    "INSERT INTO institution (id, code, name, tier, ownership, area_code,"
    " updated_at) VALUES (1, 'YJ-KQ-THC', '永吉县口前镇卫生院',"
    " 'township_hc', 'public', '220221100', 0);"
    "INSERT INTO practitioner (id, name, sex, updated_at)"
    " VALUES (1, '李明', 'M', 0);";

/* Current versions stored, and typed rows of every type (all of which
 * must have a version). */
static int64_t
count(rhis_db *db, const char *q)
{
    int64_t n = -1;
    if (rhis_db_scalar_int64(db, &n, q, "") != RHIS_OK)
        abort();
    return n;
}

/*
 * One database per process, migrated and seeded once; after each input
 * every table the import may write is emptied and its id counter reset,
 * so each input starts from the same state (a fresh migration per input
 * ran at 60 inputs/s under ASan).
 */
static rhis_db *g_db;
static rhis_buf g_reset;

static void
setup(void)
{
    /* the route table references every module, so every resource type of
     * the store is linked in (types.c holds weak references) */
    size_t nroutes;
    (void)rhis_routes(&nroutes);
#ifdef RHIS_FUZZ_DATA_DIR
    /* LOINC and vaccine tables, wherever the binary runs from */
    if (getenv("RHIS_DATA_DIR") == NULL)
        (void)setenv("RHIS_DATA_DIR", RHIS_FUZZ_DATA_DIR, 0);
#endif
    int version = 0;
    if (rhis_db_open(&g_db, "sqlite::memory:", NULL, 0) != RHIS_OK ||
        rhis_db_migrate(g_db, &version) != RHIS_OK ||
        rhis_db_exec(g_db, setup_sql) != RHIS_OK)
        abort();
    /* names come from sqlite_master, not from input */
    rhis_stmt *st;
    if (rhis_db_query(g_db, &st,
                      "SELECT name FROM sqlite_master WHERE type = 'table'"
                      " AND name NOT IN ('meta', 'area', 'population',"
                      " 'institution', 'practitioner', 'practitioner_role',"
                      " 'app_user', 'auth_token', 'audit_event',"
                      " 'schema_version', 'sqlite_sequence')",
                      "") != RHIS_OK)
        abort();
    rhis_buf_init(&g_reset, 1u << 16);
    rhis_buf_puts(&g_reset, "PRAGMA foreign_keys = OFF;");
    while (rhis_db_step(st) == RHIS_ROW) {
        const char *t = rhis_db_column_text(st, 0);
        rhis_buf_puts(&g_reset, "DELETE FROM ");
        rhis_buf_puts(&g_reset, t);
        rhis_buf_puts(&g_reset, "; DELETE FROM sqlite_sequence WHERE name = '");
        rhis_buf_puts(&g_reset, t);
        rhis_buf_puts(&g_reset, "';");
    }
    rhis_db_finalize(st);
    rhis_buf_puts(&g_reset, "PRAGMA foreign_keys = ON;");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (devnull == NULL) {
        devnull = fopen("/dev/null", "w");
        setup();
    }
    if (size == 0)
        return 0;
    rhis_db *db = g_db;
    FILE *in = fmemopen((void *)(uintptr_t)data, size, "r");
    if (in == NULL)
        abort();
    importer im;
    importer_init(&im, db, 3,
                  getenv("RHIS_FUZZ_VERBOSE") != NULL ? stderr : devnull);
    rhis_status rc = import_stream(&im, in);
    (void)fclose(in);
    if (rc != RHIS_OK && im.fatal[0] == '\0')
        abort();
    if (im.loaded + im.failed > im.lines || im.loaded < 0 || im.failed < 0)
        abort();
    if (getenv("RHIS_FUZZ_VERBOSE") != NULL)
        (void)fprintf(
            stderr, "fuzz_ndjson: %lld lines, %lld loaded, %lld failed\n",
            (long long)im.lines, (long long)im.loaded, (long long)im.failed);
    if (rc == RHIS_OK) {
        int64_t versions = count(db, "SELECT COUNT(*) FROM fhir_version");
        if (versions != im.loaded)
            abort();
        int n;
        const rhis_fhir_type *const *all = rhis_fhir_types(&n);
        for (int i = 0; i < n; i++) {
            int64_t rows = 0;
            rhis_sql_where w;
            rhis_sql_where_init(&w);
            if (rhis_sql_where_count(db, &w, all[i]->from, &rows) != RHIS_OK)
                abort();
            int64_t v = 0;
            if (rhis_db_scalar_int64(db, &v,
                                     "SELECT COUNT(*) FROM fhir_version"
                                     " WHERE type = ?",
                                     "s", all[i]->name) != RHIS_OK ||
                v != rows)
                abort();
        }
    }
    importer_fini(&im);
    if (rhis_db_exec(db, g_reset.data) != RHIS_OK ||
        count(db, "SELECT COUNT(*) FROM fhir_version") != 0)
        abort();
    return 0;
}
