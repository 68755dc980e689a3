/*
 * fuzz_fhir.c - libFuzzer target for the FHIR JSON mapping: arbitrary bytes
 * through the strict JSON parser and, when they form a resource of a type
 * the versioned store knows, through that type's validation and typed-row
 * writer (rhis_fhir_do_create, then rhis_fhir_do_update of the same input).
 *
 * Why: every FHIR resource a client, a Bundle or an NDJSON import sends
 * ends up in a store function; none of them may crash, leak, trip UBSan or
 * fail without saying why, whatever the input.
 *
 * Database: one in-memory SQLite database per process, migrated once, with
 * the rows references may point at (永吉县 divisions down to a community,
 * institution 1, practitioner 1, patient 1 with its stored version).  Each
 * input runs in a transaction that is rolled back, so inputs do not see
 * each other and the replay order does not matter.
 *
 * Oracles (abort on violation):
 *   - a failure returns a status an API would answer as a client error
 *     (invalid, conflict, too big, not found) with a message recorded in
 *     the context: a database error means input got past validation;
 *   - a success stores version 1 whose JSON parses, with the right
 *     resourceType and id;
 *   - what was created can be updated with the same input (version 2).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/db.h"
#include "rhis/fhirstore.h"
#include "rhis/http.h"
#include "rhis/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rhis_db *g_db;
static int g_verbose; /* RHIS_FUZZ_VERBOSE=1: each input's outcome */

/* Reference rows, real codes of 永吉县 (data/divisions.csv). */
static const char *const seed_sql[] = {
    "INSERT INTO area (code, name, level, parent_code, edition) VALUES"
    " ('22', '吉林省', 1, NULL, '2023'),"
    " ('2202', '吉林市', 2, '22', '2023'),"
    " ('220221', '永吉县', 3, '2202', '2023'),"
    " ('220221100', '口前镇', 4, '220221', '2023'),"
    " ('220221100001', '河北社区', 5, '220221100', '2023')",
    "INSERT INTO institution (id, code, name, tier, ownership, area_code,"
    " updated_at) VALUES (1, 'YJ-KQ-THC', '永吉县口前镇卫生院',"
    " 'township_hc', 'public', '220221100', 0)",
    "INSERT INTO practitioner (id, name, sex, updated_at)"
    " VALUES (1, '李明', 'M', 0)",
    "INSERT INTO patient (id, version, updated_ms, id_number, name, family,"
    " given, sex, birth_date, birth_ms, area_code, institution_id)"
    " VALUES (1, 1, 0, '220221198503120021', '王丽', '王', '丽', 'F',"
    " '1985-03-12', 479433600000, '220221100001', 1)",
    "INSERT INTO patient_identifier (patient_id, system, value) VALUES"
    " (1, '" RHIS_SYS_IDNUM "', '220221198503120021')",
    "INSERT INTO fhir_version (type, id, version, ts, method, patient_id,"
    " json) VALUES ('Patient', 1, 1, 0, 'POST', 1,"
    " '{\"resourceType\":\"Patient\",\"id\":\"1\",\"meta\":{\"versionId\":"
    "\"1\"},\"name\":[{\"text\":\"王丽\"}],\"gender\":\"female\","
    "\"birthDate\":\"1985-03-12\"}')",
};

static void
fatal(const char *what)
{
    (void)fprintf(stderr, "fuzz_fhir: %s: %s\n", what,
                  g_db != NULL ? rhis_db_errmsg(g_db) : "");
    abort();
}

static void
setup(void)
{
    char err[256];
    int version = 0;
    /* The store's types are weak references (src/fhir/types.c) that only
     * resolve when their modules are linked; the route table names every
     * handler, so referencing it links what the server has. */
    size_t nroutes;
    (void)rhis_routes(&nroutes);
#ifdef RHIS_FUZZ_DATA_DIR
    /* LOINC and vaccine tables, wherever the binary runs from */
    if (getenv("RHIS_DATA_DIR") == NULL)
        (void)setenv("RHIS_DATA_DIR", RHIS_FUZZ_DATA_DIR, 0);
#endif
    int ntypes;
    (void)rhis_fhir_types(&ntypes);
    g_verbose = getenv("RHIS_FUZZ_VERBOSE") != NULL;
    if (ntypes == 0)
        (void)fprintf(stderr, "fuzz_fhir: note: no store types linked\n");
    if (rhis_db_open(&g_db, "sqlite::memory:", err, sizeof(err)) != RHIS_OK) {
        (void)fprintf(stderr, "fuzz_fhir: open: %s\n", err);
        abort();
    }
    if (rhis_db_migrate(g_db, &version) != RHIS_OK)
        fatal("migrate");
    for (size_t i = 0; i < sizeof(seed_sql) / sizeof(seed_sql[0]); i++)
        if (rhis_db_exec(g_db, seed_sql[i]) != RHIS_OK)
            fatal(seed_sql[i]);
}

/* A refusal must be a client error and say what is wrong. */
static void
check_refusal(const rhis_fhir_ctx *c, rhis_status rc, const char *op)
{
    if (rc != RHIS_EINVAL && rc != RHIS_ECONFLICT && rc != RHIS_ETOOBIG &&
        rc != RHIS_ENOTFOUND) {
        (void)fprintf(stderr, "fuzz_fhir: %s failed with %s (%d): %s [%s]\n",
                      op, rhis_status_name(rc), (int)rc, c->err_text,
                      c->err_expr);
        abort();
    }
    if (c->err_status != rc || c->err_text[0] == '\0') {
        (void)fprintf(stderr, "fuzz_fhir: %s failed (%d) without a message\n",
                      op, (int)rc);
        abort();
    }
}

/* The stored current version of t/id must be version want, parse, and
 * carry the type and id. */
static void
check_stored(rhis_fhir_ctx *c,
             const rhis_fhir_type *t,
             int64_t id,
             int64_t want)
{
    const char *json = NULL;
    int64_t version = 0, pid = 0;
    if (rhis_fhir_do_read(c, t, id, &json, &version, &pid) != RHIS_OK ||
        json == NULL || version != want)
        fatal("stored version not readable");
    char err[256], idbuf[32];
    json_object *back = NULL;
    if (rhis_json_parse(json, strlen(json), RHIS_JSON_DEFAULT_DEPTH + 8, &back,
                        err, sizeof(err)) != RHIS_OK) {
        (void)fprintf(stderr, "fuzz_fhir: stored JSON does not parse: %s\n",
                      err);
        abort();
    }
    (void)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
    const char *rt = rhis_json_get_str(back, "resourceType");
    const char *rid = rhis_json_get_str(back, "id");
    if (rt == NULL || strcmp(rt, t->name) != 0 || rid == NULL ||
        strcmp(rid, idbuf) != 0)
        fatal("stored JSON lost its resourceType or id");
    json_object_put(back);
}

/* Parses the input again (create may have normalised the first copy). */
static json_object *
parse_input(const uint8_t *data, size_t size)
{
    char err[256];
    json_object *obj = NULL;
    if (rhis_json_parse((const char *)data, size, RHIS_JSON_DEFAULT_DEPTH, &obj,
                        err, sizeof(err)) != RHIS_OK)
        return NULL;
    return obj;
}

static void
run_type(const rhis_fhir_type *t, const uint8_t *data, size_t size)
{
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    if (rhis_db_begin(g_db) != RHIS_OK)
        fatal("begin");
    json_object *res = parse_input(data, size);
    int64_t id = 0, version = 0;
    rhis_status rc = rhis_fhir_do_create(&c, t, res, &id, &version);
    json_object_put(res);
    if (g_verbose)
        (void)fprintf(stderr, "fuzz_fhir: create %s: %s %s [%s]\n", t->name,
                      rhis_status_name(rc), c.err_text, c.err_expr);
    if (rc != RHIS_OK) {
        check_refusal(&c, rc, "create");
    } else {
        if (id <= 0 || version != 1)
            fatal("create returned no id or a version other than 1");
        check_stored(&c, t, id, 1);
        /* the same content again, as an update of what was created */
        json_object *again = parse_input(data, size);
        char idbuf[32];
        (void)snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
        json_object_object_add(again, "id", json_object_new_string(idbuf));
        rc = rhis_fhir_do_update(&c, t, id, again, 1, &version);
        json_object_put(again);
        if (rc != RHIS_OK) {
            (void)fprintf(stderr,
                          "fuzz_fhir: created %s/%lld but the same input "
                          "does not update it: %s [%s]\n",
                          t->name, (long long)id, c.err_text, c.err_expr);
            abort();
        }
        check_stored(&c, t, id, 2);
    }
    rhis_db_rollback(g_db);
    rhis_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size > (size_t)64 * 1024)
        return 0;
    json_object *obj = parse_input(data, size);
    if (obj == NULL)
        return 0;
    const rhis_fhir_type *t = NULL;
    if (json_object_is_type(obj, json_type_object)) {
        const char *rt = rhis_json_get_str(obj, "resourceType");
        if (rt != NULL)
            t = rhis_fhir_type_find(rt);
    }
    json_object_put(obj);
    if (t != NULL)
        run_type(t, data, size);
    return 0;
}
