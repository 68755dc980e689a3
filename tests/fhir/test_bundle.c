/*
 * test_bundle.c - batch and transaction Bundles (POST /fhir) and
 * Patient/$everything, in process against SQLite and PostgreSQL.
 *
 * Why: the promises of a transaction - all or nothing, urn:uuid references
 * rewritten whatever the order of the entries, a failure naming its entry
 * - and the access rule of $everything are only worth something if a
 * test shows the database afterwards.  The handlers run with a fake
 * request (h2o loopback style) on the group's connection, as the route
 * table would call them, and every check counts rows.
 */
#include "testutil.h"

#include "rhis/config.h"
#include "rhis/handlers.h"
#include "rhis/http.h"
#include "rhis/json.h"
#include "rhis/registry.h"

static rhis_db *g_db;
static rhis_config g_conf;
static int64_t g_inst_kq; /* 永吉县口前镇卫生院, 220221100 */
static int64_t g_inst_jh; /* 蛟河市人民医院, 220281 */
static rhis_principal u_integrator, u_clin_kq, u_clin_jh, u_resident;
static int g_seq;

#define EXT_DIV "https://rhis.cn/fhir/StructureDefinition/address-division"
#define ACT     "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define OBS_CAT "http://terminology.hl7.org/CodeSystem/observation-category"

/* ---- fixtures ---- */

static void
principal(rhis_principal *p,
          int64_t uid,
          const char *name,
          unsigned role,
          const char *area,
          int64_t inst,
          const char *inst_area)
{
    memset(p, 0, sizeof(*p));
    p->user_id = uid;
    (void)snprintf(p->username, sizeof(p->username), "%s", name);
    p->role = role;
    (void)snprintf(p->scope_area, sizeof(p->scope_area), "%s", area);
    p->scope_institution = inst;
    (void)snprintf(p->inst_area, sizeof(p->inst_area), "%s", inst_area);
}

static int64_t
add_institution(const char *code,
                const char *name,
                const char *tier,
                const char *area)
{
    int64_t id = 0;
    RHIS_CHECK_OK(
        g_db, rhis_db_scalar_int64(g_db, &id,
                                   "INSERT INTO institution (code, name, tier,"
                                   " ownership, area_code, updated_at) VALUES"
                                   " (?, ?, ?, 'public', ?, 0) RETURNING id",
                                   "ssss", code, name, tier, area));
    return id;
}

static int
group_setup(void **state)
{
    (void)state;
    char path[512], err[256];
    int64_t added = 0;
    rhis_config_defaults(&g_conf);
    const char *dd = getenv("RHIS_DATA_DIR");
    (void)snprintf(g_conf.data_dir, sizeof(g_conf.data_dir), "%s",
                   dd != NULL && *dd != '\0' ? dd : "data");
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    rhis_test_data_file("divisions.csv", path, sizeof(path));
    if (rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err)) !=
        RHIS_OK) {
        print_error("divisions: %s\n", err);
        return -1;
    }
    g_inst_kq = add_institution("T-BUNDLE-KQ", "永吉县口前镇卫生院",
                                "township_hc", "220221100");
    g_inst_jh = add_institution("T-BUNDLE-JH", "蛟河市人民医院",
                                "county_hospital", "220281");
    principal(&u_integrator, 9001, "integrator", RHIS_ROLE_INTEGRATOR, "220221",
              0, "");
    principal(&u_clin_kq, 9002, "clin_kq", RHIS_ROLE_CLINICIAN, "", g_inst_kq,
              "220221100");
    principal(&u_clin_jh, 9003, "clin_jh", RHIS_ROLE_CLINICIAN, "", g_inst_jh,
              "220281");
    principal(&u_resident, 9004, "resident", RHIS_ROLE_RESIDENT, "220221", 0,
              "");
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

/* ---- calling a handler in process ---- */

typedef struct call {
    rhis_arena *a;
    rhis_req req;
    rhis_resp resp;
    json_object *out; /* the parsed answer */
} call;

static int
call_run(call *k,
         const rhis_principal *u,
         rhis_handler fn,
         const char *path,
         const char *query,
         const char *id,
         const char *body)
{
    memset(k, 0, sizeof(*k));
    k->a = rhis_arena_new();
    rhis_req *r = &k->req;
    r->arena = k->a;
    r->method = body != NULL ? "POST" : "GET";
    r->path = path;
    r->raw_query = query != NULL ? query : "";
    assert_int_equal(
        rhis_query_parse(k->a, r->raw_query, strlen(r->raw_query), &r->query),
        RHIS_OK);
    (void)snprintf(r->request_id, sizeof(r->request_id), "t-bundle-%d",
                   ++g_seq);
    r->client_addr = "127.0.0.1";
    r->body = body != NULL ? body : "";
    r->body_len = body != NULL ? strlen(body) : 0;
    r->user = u;
    r->conf = &g_conf;
    r->db = g_db;
    if (id != NULL) {
        r->match.nparams = 1;
        r->match.params[0].key = "id";
        r->match.params[0].value = id;
    }
    rhis_buf_init(&k->resp.body, 64u << 20);
    rhis_status rc = fn(r, &k->resp);
    if (rc != RHIS_OK)
        rhis_resp_error(&k->resp, rc, r->err_text, r->err_expr, r->request_id);
    rhis_db_rollback(g_db); /* a handler must never leave one open */
    char err[160];
    rc = rhis_json_parse(k->resp.body.data, k->resp.body.len, 64, &k->out, err,
                         sizeof(err));
    if (rc != RHIS_OK)
        print_error("%s: %d %.*s\n", err, k->resp.status, (int)k->resp.body.len,
                    k->resp.body.data);
    assert_int_equal(rc, RHIS_OK);
    return k->resp.status;
}

static void
call_done(call *k)
{
    json_object_put(k->out);
    rhis_buf_fini(&k->resp.body);
    rhis_arena_free(k->a);
}

static int
post_bundle(call *k, const rhis_principal *u, const char *body)
{
    return call_run(k, u, api_fhir_bundle, "/fhir", NULL, NULL, body);
}

/* The value at a path of dot-separated keys and [n] indexes, as text. */
static const char *
at(json_object *o, const char *path)
{
    char key[64];
    const char *p = path;
    while (o != NULL && *p != '\0') {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            long i = strtol(p + 1, NULL, 10);
            o = json_object_is_type(o, json_type_array)
                    ? json_object_array_get_idx(o, (size_t)i)
                    : NULL;
            p = strchr(p, ']');
            p = p != NULL ? p + 1 : "";
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        o = rhis_json_get(o, key);
        p += n;
    }
    return o != NULL ? json_object_get_string(o) : NULL;
}

static void
expect_at(json_object *o, const char *path, const char *want)
{
    const char *got = at(o, path);
    if (got == NULL || strcmp(got, want) != 0)
        print_error("%s: %s is '%s', want '%s'\n  in %s\n",
                    rhis_test_engine_cur()->name, path,
                    got != NULL ? got : "(absent)", want, rhis_json_print(o));
    assert_non_null(got);
    assert_string_equal(got != NULL ? got : "", want);
}

static void
expect_prefix(json_object *o, const char *path, const char *want)
{
    const char *got = at(o, path);
    if (got == NULL || strncmp(got, want, strlen(want)) != 0)
        print_error("%s: %s is '%s', want '%s...'\n  in %s\n",
                    rhis_test_engine_cur()->name, path,
                    got != NULL ? got : "(absent)", want, rhis_json_print(o));
    assert_non_null(got);
    assert_true(got != NULL && strncmp(got, want, strlen(want)) == 0);
}

typedef struct counts {
    int64_t patient, encounter, observation, version, audit;
} counts;

static counts
counts_now(void)
{
    counts c = {
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM patient"),
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM encounter"),
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM observation"),
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM fhir_version"),
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event"),
    };
    return c;
}

/* "Observation/12/_history/1" -> 12 */
static int64_t
id_of(json_object *o, const char *path)
{
    const char *loc = at(o, path);
    assert_non_null(loc);
    const char *slash = strchr(loc, '/');
    assert_non_null(slash);
    return strtoll(slash + 1, NULL, 10);
}

/* ---- resources ---- */

static const char *
patient_json(rhis_arena *a,
             const char *name,
             const char *gender,
             const char *birth,
             const char *idnum)
{
    return rhis_arena_printf(
        a,
        "{\"resourceType\":\"Patient\",%s%s%s\"name\":[{\"text\":\"%s\"}],"
        "\"gender\":\"%s\",\"birthDate\":\"%s\",\"address\":[{\"extension\":"
        "[{\"url\":\"" EXT_DIV "\",\"valueCode\":\"220221100001\"}]}]}",
        idnum != NULL ? "\"identifier\":[{\"system\":\"urn:oid:2.16.156."
                        "10011.1.3\",\"value\":\""
                      : "",
        idnum != NULL ? idnum : "", idnum != NULL ? "\"}]," : "", name, gender,
        birth);
}

static const char *
encounter_json(rhis_arena *a, const char *subject, int64_t inst)
{
    return rhis_arena_printf(
        a,
        "{\"resourceType\":\"Encounter\",\"status\":\"finished\","
        "\"class\":{\"system\":\"" ACT "\",\"code\":\"AMB\"},"
        "\"subject\":{\"reference\":\"%s\"},"
        "\"serviceProvider\":{\"reference\":\"Organization/%lld\"},"
        "\"period\":{\"start\":\"2024-05-06T09:00:00+08:00\","
        "\"end\":\"2024-05-06T09:20:00+08:00\"}}",
        subject, (long long)inst);
}

static const char *
observation_json(rhis_arena *a,
                 const char *subject,
                 const char *encounter,
                 const char *status)
{
    return rhis_arena_printf(
        a,
        "{\"resourceType\":\"Observation\",\"status\":\"%s\","
        "\"category\":[{\"coding\":[{\"system\":\"" OBS_CAT "\","
        "\"code\":\"vital-signs\"}]}],"
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
        "\"code\":\"8867-4\"}]},"
        "\"subject\":{\"reference\":\"%s\"},"
        "\"encounter\":{\"reference\":\"%s\"},"
        "\"effectiveDateTime\":\"2024-05-06T09:10:00+08:00\","
        "\"valueQuantity\":{\"value\":72,\"unit\":\"/min\","
        "\"system\":\"http://unitsofmeasure.org\",\"code\":\"/min\"}}",
        status, subject, encounter);
}

static const char *
entry_json(rhis_arena *a,
           const char *full_url,
           const char *method,
           const char *url,
           const char *resource,
           const char *extra)
{
    return rhis_arena_printf(
        a, "{%s%s%s\"request\":{\"method\":\"%s\",\"url\":\"%s\"%s}%s%s}",
        full_url != NULL ? "\"fullUrl\":\"" : "",
        full_url != NULL ? full_url : "", full_url != NULL ? "\"," : "", method,
        url, extra != NULL ? extra : "",
        resource != NULL ? ",\"resource\":" : "",
        resource != NULL ? resource : "");
}

static const char *
bundle_json(rhis_arena *a, const char *type, const char *entries)
{
    return rhis_arena_printf(
        a, "{\"resourceType\":\"Bundle\",\"type\":\"%s\",\"entry\":[%s]}", type,
        entries);
}

#define P_UUID "urn:uuid:8c1f2a4e-7b3d-4e5f-9a1b-2c3d4e5f6a70"
#define E_UUID "urn:uuid:8c1f2a4e-7b3d-4e5f-9a1b-2c3d4e5f6a71"
#define O_UUID "urn:uuid:8c1f2a4e-7b3d-4e5f-9a1b-2c3d4e5f6a72"

/* Creates, by transaction, a patient with one encounter at inst and one
 * observation; returns the patient id. */
static int64_t
make_record(const rhis_principal *u,
            int64_t inst,
            const char *name,
            const char *birth,
            const char *idnum,
            int64_t *enc,
            int64_t *obs)
{
    rhis_arena *a = rhis_arena_new();
    const char *entries = rhis_arena_printf(
        a, "%s,%s,%s",
        entry_json(a, P_UUID, "POST", "Patient",
                   patient_json(a, name, "female", birth, idnum), NULL),
        entry_json(a, E_UUID, "POST", "Encounter",
                   encounter_json(a, P_UUID, inst), NULL),
        entry_json(a, O_UUID, "POST", "Observation",
                   observation_json(a, P_UUID, E_UUID, "final"), NULL));
    call k;
    int st = post_bundle(&k, u, bundle_json(a, "transaction", entries));
    if (st != 200)
        print_error("%s\n", rhis_json_print(k.out));
    assert_int_equal(st, 200);
    int64_t pid = id_of(k.out, "entry[0].response.location");
    if (enc != NULL)
        *enc = id_of(k.out, "entry[1].response.location");
    if (obs != NULL)
        *obs = id_of(k.out, "entry[2].response.location");
    call_done(&k);
    rhis_arena_free(a);
    return pid;
}

/* ---- transactions ---- */

/* The Observation comes first and refers to the Patient and Encounter
 * created after it: the references are rewritten all the same. */
static void
transaction_rewrites_urn_uuid(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    counts before = counts_now();
    const char *entries = rhis_arena_printf(
        a, "%s,%s,%s",
        entry_json(a, O_UUID, "POST", "Observation",
                   observation_json(a, P_UUID, E_UUID, "final"), NULL),
        entry_json(a, P_UUID, "POST", "Patient",
                   patient_json(a, "王丽", "female", "1985-03-12",
                                "220221198503121243"),
                   NULL),
        entry_json(a, E_UUID, "POST", "Encounter",
                   encounter_json(a, P_UUID, g_inst_kq), NULL));
    call k;
    assert_int_equal(
        post_bundle(&k, &u_integrator, bundle_json(a, "transaction", entries)),
        200);
    expect_at(k.out, "type", "transaction-response");
    for (int i = 0; i < 3; i++) {
        char p[64];
        (void)snprintf(p, sizeof(p), "entry[%d].response.status", i);
        expect_at(k.out, p, "201 Created");
        (void)snprintf(p, sizeof(p), "entry[%d].response.etag", i);
        expect_at(k.out, p, "W/\"1\"");
    }
    expect_prefix(k.out, "entry[0].response.location", "Observation/");
    expect_prefix(k.out, "entry[1].response.location", "Patient/");
    expect_prefix(k.out, "entry[2].response.location", "Encounter/");
    assert_non_null(at(k.out, "entry[0].response.lastModified"));
    int64_t obs = id_of(k.out, "entry[0].response.location");
    int64_t pid = id_of(k.out, "entry[1].response.location");
    int64_t enc = id_of(k.out, "entry[2].response.location");
    call_done(&k);

    counts after = counts_now();
    assert_int_equal(after.patient, before.patient + 1);
    assert_int_equal(after.encounter, before.encounter + 1);
    assert_int_equal(after.observation, before.observation + 1);
    assert_int_equal(after.version, before.version + 3);
    assert_int_equal(after.audit, before.audit + 3);

    /* the typed rows and the stored JSON hold the real references */
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &n,
                            "SELECT COUNT(*) FROM observation WHERE id = ?"
                            " AND patient_id = ? AND encounter_id = ?",
                            "iii", obs, pid, enc));
    assert_int_equal(n, 1);
    rhis_stmt *st;
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT json FROM fhir_version WHERE"
                                      " type = 'Observation' AND id = ?",
                                      "i", obs));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    const char *json = rhis_db_column_text(st, 0);
    char want[64];
    (void)snprintf(want, sizeof(want), "\"Patient/%lld\"", (long long)pid);
    assert_non_null(strstr(json, want));
    (void)snprintf(want, sizeof(want), "\"Encounter/%lld\"", (long long)enc);
    assert_non_null(strstr(json, want));
    assert_null(strstr(json, "urn:uuid"));
    rhis_db_finalize(st);
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &n,
                            "SELECT COUNT(*) FROM audit_event WHERE"
                            " operation = 'create' AND resource_type ="
                            " 'Observation' AND resource_id = ? AND"
                            " patient_id = ?",
                            "ss", rhis_arena_printf(a, "%lld", (long long)obs),
                            rhis_arena_printf(a, "%lld", (long long)pid)));
    assert_int_equal(n, 1);
    rhis_arena_free(a);
}

/* The third entry is invalid: nothing of the first two stays. */
static void
transaction_rolls_back(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    counts before = counts_now();
    const char *entries = rhis_arena_printf(
        a, "%s,%s,%s",
        entry_json(a, P_UUID, "POST", "Patient",
                   patient_json(a, "李娜", "female", "1979-06-07", NULL), NULL),
        entry_json(a, E_UUID, "POST", "Encounter",
                   encounter_json(a, P_UUID, g_inst_kq), NULL),
        entry_json(a, O_UUID, "POST", "Observation",
                   observation_json(a, P_UUID, E_UUID, "nonsense"), NULL));
    call k;
    assert_int_equal(
        post_bundle(&k, &u_integrator, bundle_json(a, "transaction", entries)),
        400);
    expect_at(k.out, "resourceType", "OperationOutcome");
    expect_prefix(k.out, "issue[0].expression[0]", "Bundle.entry[2].resource");
    expect_prefix(k.out, "issue[0].diagnostics",
                  "transaction failed at Bundle.entry[2] (POST Observation");
    call_done(&k);
    counts after = counts_now();
    assert_int_equal(after.patient, before.patient);
    assert_int_equal(after.encounter, before.encounter);
    assert_int_equal(after.observation, before.observation);
    assert_int_equal(after.version, before.version);
    /* only the audit of the failure, written after the rollback */
    assert_int_equal(after.audit, before.audit + 1);

    /* a reference to a urn:uuid that is no entry names its element */
    entries =
        entry_json(a, NULL, "POST", "Encounter",
                   encounter_json(a, "urn:uuid:0000-nowhere", g_inst_kq), NULL);
    assert_int_equal(
        post_bundle(&k, &u_integrator, bundle_json(a, "transaction", entries)),
        400);
    expect_at(k.out, "issue[0].expression[0]",
              "Bundle.entry[0].resource.subject");
    call_done(&k);
    assert_int_equal(counts_now().encounter, before.encounter);
    rhis_arena_free(a);
}

/* A batch stores the good entries and reports the bad one. */
static void
batch_keeps_good_entries(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    counts before = counts_now();
    const char *bad = "{\"resourceType\":\"Patient\",\"name\":[{\"text\":"
                      "\"张伟\"}],\"birthDate\":\"1992-01-01\"}";
    const char *entries = rhis_arena_printf(
        a, "%s,%s,%s",
        entry_json(a, NULL, "POST", "Patient",
                   patient_json(a, "刘洋", "female", "1992-01-01", NULL), NULL),
        entry_json(a, NULL, "POST", "Patient", bad, NULL),
        entry_json(a, NULL, "POST", "Patient",
                   patient_json(a, "陈静", "female", "1960-08-15", NULL),
                   NULL));
    call k;
    assert_int_equal(
        post_bundle(&k, &u_integrator, bundle_json(a, "batch", entries)), 200);
    expect_at(k.out, "type", "batch-response");
    expect_at(k.out, "entry[0].response.status", "201 Created");
    expect_at(k.out, "entry[1].response.status", "400 Bad Request");
    expect_at(k.out, "entry[1].response.outcome.resourceType",
              "OperationOutcome");
    expect_at(k.out, "entry[1].response.outcome.issue[0].expression[0]",
              "Bundle.entry[1].resource.gender");
    expect_at(k.out, "entry[2].response.status", "201 Created");
    call_done(&k);
    counts after = counts_now();
    assert_int_equal(after.patient, before.patient + 2);
    assert_int_equal(after.version, before.version + 2);
    /* two creates and the failure */
    assert_int_equal(after.audit, before.audit + 3);
    rhis_arena_free(a);
}

/* ifNoneExist: the second run finds the patient and refers to it. */
static void
transaction_conditional_create(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    const char *cond = ",\"ifNoneExist\":\"identifier=urn:oid:2.16.156.10011.1."
                       "3|220221200102205681\"";
    const char *entries = rhis_arena_printf(
        a, "%s,%s",
        entry_json(a, P_UUID, "POST", "Patient",
                   patient_json(a, "赵敏", "female", "2001-02-20",
                                "220221200102205681"),
                   cond),
        entry_json(a, NULL, "POST", "Encounter",
                   encounter_json(a, P_UUID, g_inst_kq), NULL));
    const char *body = bundle_json(a, "transaction", entries);
    counts before = counts_now();
    call k;
    assert_int_equal(post_bundle(&k, &u_integrator, body), 200);
    expect_at(k.out, "entry[0].response.status", "201 Created");
    int64_t pid = id_of(k.out, "entry[0].response.location");
    call_done(&k);
    assert_int_equal(post_bundle(&k, &u_integrator, body), 200);
    expect_at(k.out, "entry[0].response.status", "200 OK");
    assert_int_equal(id_of(k.out, "entry[0].response.location"), pid);
    expect_at(k.out, "entry[1].response.status", "201 Created");
    int64_t enc = id_of(k.out, "entry[1].response.location");
    call_done(&k);
    counts after = counts_now();
    assert_int_equal(after.patient, before.patient + 1);
    assert_int_equal(after.encounter, before.encounter + 2);
    int64_t n = -1;
    RHIS_CHECK_OK(g_db,
                  rhis_db_scalar_int64(
                      g_db, &n, "SELECT patient_id FROM encounter WHERE id = ?",
                      "i", enc));
    assert_int_equal(n, pid);
    rhis_arena_free(a);
}

/* Reads, updates with ifMatch and deletes in one batch. */
static void
batch_get_put_delete(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    int64_t obs = 0;
    int64_t pid = make_record(&u_integrator, g_inst_kq, "孙悦", "1985-03-12",
                              NULL, NULL, &obs);
    const char *upd = rhis_arena_printf(
        a,
        "{\"resourceType\":\"Patient\",\"id\":\"%lld\",\"name\":[{\"text\":"
        "\"孙玥\"}],\"gender\":\"female\",\"birthDate\":\"1985-03-12\","
        "\"address\":[{\"extension\":[{\"url\":\"" EXT_DIV "\",\"valueCode\":"
        "\"220221100001\"}]}]}",
        (long long)pid);
    /* the DELETE apart: checksrc reads that word in a printf call as SQL */
    const char *del = entry_json(
        a, NULL, "DELETE",
        rhis_arena_printf(a, "Observation/%lld", (long long)obs), NULL, NULL);
    const char *entries = rhis_arena_printf(
        a, "%s,%s,%s,%s,%s",
        entry_json(a, NULL, "GET",
                   rhis_arena_printf(a, "Patient/%lld", (long long)pid), NULL,
                   NULL),
        entry_json(
            a, NULL, "GET",
            rhis_arena_printf(a, "Observation?patient=%lld", (long long)pid),
            NULL, NULL),
        entry_json(a, NULL, "PUT",
                   rhis_arena_printf(a, "Patient/%lld", (long long)pid), upd,
                   ",\"ifMatch\":\"W/\\\"1\\\"\""),
        del,
        entry_json(a, NULL, "PUT",
                   rhis_arena_printf(a, "Patient/%lld", (long long)pid), upd,
                   ",\"ifMatch\":\"W/\\\"1\\\"\""));
    call k;
    assert_int_equal(
        post_bundle(&k, &u_integrator, bundle_json(a, "batch", entries)), 200);
    /* FHIR order: DELETE, PUT, GET - the reads see the writes */
    expect_at(k.out, "entry[0].response.status", "200 OK");
    expect_at(k.out, "entry[0].resource.name[0].text", "孙玥");
    expect_at(k.out, "entry[0].response.etag", "W/\"2\"");
    expect_at(k.out, "entry[1].response.status", "200 OK");
    expect_at(k.out, "entry[1].resource.total", "0");
    expect_at(k.out, "entry[2].response.status", "200 OK");
    expect_at(k.out, "entry[2].response.etag", "W/\"2\"");
    expect_at(k.out, "entry[3].response.status", "204 No Content");
    /* the second update holds a stale version */
    expect_at(k.out, "entry[4].response.status", "412 Precondition Failed");
    call_done(&k);
    int64_t n = -1;
    RHIS_CHECK_OK(g_db,
                  rhis_db_scalar_int64(
                      g_db, &n, "SELECT deleted FROM observation WHERE id = ?",
                      "i", obs));
    assert_int_equal(n, 1);
    rhis_arena_free(a);
}

/* Faults of the Bundle itself and of entries before anything runs. */
static void
bad_bundles(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    static const struct {
        const char *body;
        int status;
        const char *expr;
    } cases[] = {
        {"{\"resourceType\":\"Patient\"}", 400, "resourceType"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"collection\"}", 400,
         "Bundle.type"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":{}}", 400,
         "Bundle.entry"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"request\":{\"method\":\"PATCH\",\"url\":\"Patient/1\"}}]}",
         400, "Bundle.entry[0].request.method"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"request\":{\"method\":\"POST\",\"url\":\"Patient/1\"},"
         "\"resource\":{\"resourceType\":\"Patient\"}}]}",
         400, "Bundle.entry[0].request.url"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"request\":{\"method\":\"PUT\",\"url\":\"Patient\"},"
         "\"resource\":{\"resourceType\":\"Patient\"}}]}",
         400, "Bundle.entry[0].request.url"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"request\":{\"method\":\"POST\",\"url\":\"Organization\"},"
         "\"resource\":{\"resourceType\":\"Organization\"}}]}",
         400, "Bundle.entry[0].request.url"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"request\":{\"method\":\"POST\",\"url\":\"Patient\"},"
         "\"resource\":{\"resourceType\":\"Encounter\"}}]}",
         400, "Bundle.entry[0].resource.resourceType"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"fullUrl\":\"urn:uuid:1\",\"request\":{\"method\":\"POST\","
         "\"url\":\"Patient\"},\"resource\":{\"resourceType\":\"Patient\"}},"
         "{\"fullUrl\":\"urn:uuid:1\",\"request\":{\"method\":\"POST\","
         "\"url\":\"Patient\"},\"resource\":{\"resourceType\":\"Patient\"}}]}",
         400, "Bundle.entry[1].fullUrl"},
        {"{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
         "[{\"fullUrl\":\"urn:uuid:a\",\"request\":{\"method\":\"POST\","
         "\"url\":\"Encounter\"},\"resource\":{\"resourceType\":\"Encounter\","
         "\"subject\":{\"reference\":\"urn:uuid:b\"}}},"
         "{\"fullUrl\":\"urn:uuid:b\",\"request\":{\"method\":\"POST\","
         "\"url\":\"Encounter\"},\"resource\":{\"resourceType\":\"Encounter\","
         "\"subject\":{\"reference\":\"urn:uuid:a\"}}}]}",
         400, "Bundle.entry[0].resource"},
    };
    counts before = counts_now();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        call k;
        int st = post_bundle(&k, &u_integrator, cases[i].body);
        if (st != cases[i].status)
            print_error("case %zu: %s\n", i, rhis_json_print(k.out));
        assert_int_equal(st, cases[i].status);
        expect_at(k.out, "issue[0].expression[0]", cases[i].expr);
        call_done(&k);
    }
    /* over the cap of entries */
    rhis_buf b;
    rhis_buf_init(&b, 1u << 20);
    (void)rhis_buf_puts(&b, "{\"resourceType\":\"Bundle\",\"type\":\"batch\","
                            "\"entry\":[");
    for (int i = 0; i < 1001; i++)
        (void)rhis_buf_puts(&b, i > 0 ? ",{}" : "{}");
    (void)rhis_buf_puts(&b, "]}");
    call k;
    assert_int_equal(post_bundle(&k, &u_integrator, b.data), 413);
    call_done(&k);
    rhis_buf_fini(&b);
    counts after = counts_now();
    assert_int_equal(after.patient, before.patient);
    assert_int_equal(after.encounter, before.encounter);
    assert_int_equal(after.version, before.version);
    rhis_arena_free(a);
}

/* Each entry is checked against the roles that may write its type. */
static void
entry_roles(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    counts before = counts_now();
    const char *entries =
        entry_json(a, NULL, "POST", "Patient",
                   patient_json(a, "周强", "male", "1975-05-05", NULL), NULL);
    call k;
    assert_int_equal(
        post_bundle(&k, &u_resident, bundle_json(a, "batch", entries)), 200);
    expect_at(k.out, "entry[0].response.status", "403 Forbidden");
    expect_at(k.out, "entry[0].response.outcome.issue[0].code", "forbidden");
    call_done(&k);
    assert_int_equal(
        post_bundle(&k, &u_resident, bundle_json(a, "transaction", entries)),
        403);
    expect_at(k.out, "issue[0].expression[0]", "Bundle.entry[0].request");
    call_done(&k);
    assert_int_equal(counts_now().patient, before.patient);
    rhis_arena_free(a);
}

/* ---- $everything ---- */

static int
everything(call *k, const rhis_principal *u, int64_t pid, const char *query)
{
    char id[24];
    (void)snprintf(id, sizeof(id), "%lld", (long long)pid);
    return call_run(k, u, api_patient_everything,
                    "/fhir/Patient/{id}/$everything", query, id, NULL);
}

/* The number of entries of resource type `type` with search mode `mode`. */
static int
entries_of(json_object *bundle, const char *type, const char *mode)
{
    json_object *es = rhis_json_get(bundle, "entry");
    int n = 0;
    for (size_t i = 0; es != NULL && i < json_object_array_length(es); i++) {
        json_object *e = json_object_array_get_idx(es, i);
        const char *rt =
            rhis_json_get_str(rhis_json_get(e, "resource"), "resourceType");
        const char *m = rhis_json_get_str(rhis_json_get(e, "search"), "mode");
        if (rt != NULL && strcmp(rt, type) == 0 && m != NULL &&
            strcmp(m, mode) == 0)
            n++;
    }
    return n;
}

static void
everything_contents(void **state)
{
    (void)state;
    rhis_arena *a = rhis_arena_new();
    int64_t pid = make_record(&u_integrator, g_inst_kq, "吴芳", "1988-09-09",
                              "220221198809096722", NULL, NULL);
    /* a second record of the same resident, merged into the first */
    int64_t dup = make_record(&u_integrator, g_inst_kq, "吴芳", "1988-09-09",
                              NULL, NULL, NULL);
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE patient SET merged_into = ?"
                                    " WHERE id = ?",
                                    "ii", pid, dup));
    int64_t audits = counts_now().audit;
    call k;
    assert_int_equal(everything(&k, &u_integrator, pid, NULL), 200);
    expect_at(k.out, "type", "searchset");
    expect_at(k.out, "total", "6");
    assert_int_equal(entries_of(k.out, "Patient", "match"), 2);
    assert_int_equal(entries_of(k.out, "Encounter", "match"), 2);
    assert_int_equal(entries_of(k.out, "Observation", "match"), 2);
    assert_int_equal(entries_of(k.out, "Organization", "include"), 1);
    expect_prefix(k.out, "entry[0].fullUrl", "/fhir/Patient/");
    call_done(&k);
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(
                            g_db, &n,
                            "SELECT COUNT(*) FROM audit_event WHERE"
                            " operation = 'everything' AND patient_id = ?",
                            "s", rhis_arena_printf(a, "%lld", (long long)pid)));
    assert_int_equal(n, 1);
    assert_int_equal(counts_now().audit, audits + 1);

    /* _type, paging, _since */
    assert_int_equal(everything(&k, &u_integrator, pid, "_type=Observation"),
                     200);
    expect_at(k.out, "total", "2");
    assert_int_equal(entries_of(k.out, "Observation", "match"), 2);
    assert_int_equal(entries_of(k.out, "Organization", "include"), 0);
    call_done(&k);
    assert_int_equal(everything(&k, &u_integrator, pid, "_count=4&_offset=2"),
                     200);
    expect_at(k.out, "total", "6");
    assert_int_equal(entries_of(k.out, "Patient", "match"), 0);
    assert_int_equal(entries_of(k.out, "Encounter", "match"), 2);
    assert_int_equal(entries_of(k.out, "Observation", "match"), 2);
    expect_at(k.out, "link[1].relation", "previous");
    call_done(&k);
    assert_int_equal(everything(&k, &u_integrator, pid, "_count=1"), 200);
    expect_at(k.out, "link[1].relation", "next");
    call_done(&k);
    assert_int_equal(
        everything(&k, &u_integrator, pid, "_since=2199-01-01T00:00:00Z"), 200);
    expect_at(k.out, "total", "0");
    call_done(&k);
    static const char *const bad[] = {"_type=Bogus", "start=2024",
                                      "_since=yesterday"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(everything(&k, &u_integrator, pid, bad[i]), 400);
        call_done(&k);
    }
    assert_int_equal(everything(&k, &u_integrator, 987654321, NULL), 404);
    call_done(&k);
    rhis_arena_free(a);
}

/* A clinician whose institution never treated the patient is refused. */
static void
everything_access(void **state)
{
    (void)state;
    int64_t pid = make_record(&u_clin_kq, g_inst_kq, "郑洁", "1992-01-01",
                              "220221199201013460", NULL, NULL);
    call k;
    assert_int_equal(everything(&k, &u_clin_jh, pid, NULL), 403);
    expect_at(k.out, "issue[0].code", "forbidden");
    call_done(&k);
    assert_int_equal(everything(&k, &u_clin_kq, pid, NULL), 200);
    expect_at(k.out, "total", "3");
    call_done(&k);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(transaction_rewrites_urn_uuid),
        cmocka_unit_test(transaction_rolls_back),
        cmocka_unit_test(batch_keeps_good_entries),
        cmocka_unit_test(transaction_conditional_create),
        cmocka_unit_test(batch_get_put_delete),
        cmocka_unit_test(bad_bundles),
        cmocka_unit_test(entry_roles),
        cmocka_unit_test(everything_contents),
        cmocka_unit_test(everything_access),
    };
    return rhis_test_run_engines("fhir bundle", tests,
                                 sizeof(tests) / sizeof(tests[0]), group_setup,
                                 group_teardown);
}
