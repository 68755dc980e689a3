/*
 * test_care.c - the demo's care stage (src/demo/care.c) on a hand-built
 * county: two townships, four villages, 3000 residents with hypertension,
 * diabetes, severe mental disorders, deaths, migrations and 150 births.
 *
 * Why: the demo is the ground truth of the plan indicators.  Each rate the
 * stage draws (src/demo/care.h) is computed back here from the database
 * with SQL - never from the generator's memory - and compared with the
 * value it was drawn for, within four standard errors of a proportion at
 * that size (at least one point), so a wrong rule fails: hypertension and
 * diabetes standardised management and control, severe-mental-disorder
 * management, the 65+ health check, maternal systematic management, 0-3 child
 * systematic management, immunisation coverage per township, family-doctor
 * contracts (all residents and key groups).  Every event went through the
 * FHIR store (validation), so the run itself checks that everything
 * generated is accepted.  Determinism: the same seed gives the same rows.
 *
 * Denominators follow docs/internals/demo.md ("Care events"): a resident
 * who moved away is patient.active = 0 and left out; an arrival's Patient
 * version 1 is dated on arrival.
 */
#include "testutil.h"

#include <math.h>

#include "demo/care.h"
#include "demo/demo.h"
#include "demo/demo_int.h"
#include "rhis/fhirstore.h"
#include "rhis/registry.h"

#define NPEOPLE 3000
#define NBIRTHS 150
#define YEAR0   2019
#define YEAR1   2023
#define DAY_MS  ((int64_t)86400 * 1000)

static const char *const county_code = "220221";

typedef struct world {
    rhis_db *db;
    rhis_arena *arena;
    demo_county county;
    demo_township twp[2];
    demo_village vil[4];
    char names[8][16];
    demo_inst inst[9];
    int64_t staff[9][2];
    demo_person *people;
    size_t npeople;
    demo_birth births[NBIRTHS];
    size_t nbirths;
    demo_ctx c;
} world;

static world *g_w;    /* the hand-built world, NULL in the county group */
static rhis_db *g_db; /* the database the checks read */
static demo_ctx g_cc; /* the county group's run */

/* ---- building the county ---- */

static void
sql(rhis_db *db, const char *q)
{
    RHIS_CHECK_OK(db, rhis_db_run(db, q, ""));
}

static int64_t
insert_inst(rhis_db *db, const char *code, const char *tier, const char *area)
{
    int64_t id = 0;
    RHIS_CHECK_OK(db, rhis_db_run(db,
                                  "INSERT INTO institution (code, name, tier,"
                                  " ownership, area_code, updated_at)"
                                  " VALUES (?, ?, ?, 'public', ?, 0)",
                                  "ssss", code, code, tier, area));
    RHIS_CHECK_OK(db, rhis_db_scalar_int64(
                          db, &id, "SELECT id FROM institution WHERE code = ?",
                          "s", code));
    return id;
}

static int64_t
insert_staff(rhis_db *db, int64_t inst, int n)
{
    int64_t id = 0;
    char name[32];
    (void)snprintf(name, sizeof(name), "医生%lld-%d", (long long)inst, n);
    RHIS_CHECK_OK(db, rhis_db_run(db,
                                  "INSERT INTO practitioner (name, updated_at)"
                                  " VALUES (?, 0)",
                                  "s", name));
    RHIS_CHECK_OK(db, rhis_db_scalar_int64(
                          db, &id, "SELECT MAX(id) FROM practitioner", ""));
    return id;
}

/* A day uniformly in [a, b]. */
static demo_day
day_in(demo_rng *r, demo_day a, demo_day b)
{
    return a + (demo_day)demo_rng_below(r, (uint32_t)(b - a + 1));
}

/*
 * The residents: births 1935-2018 and as many again 1962-1984, 80 % of the
 * 35+ with hypertension and 60 % with diabetes, 1.5 % SMI (more than real
 * life, to have enough patients in management for the rates, while the key
 * populations of the contracts - registered patients only - stay near 40 %
 * as in a real county), deaths among the old, 3
 * % arrivals and 3 % departures of the young; then 300 births to women 20-38 of
 * the same village.
 */
static void
build_people(world *w, uint64_t seed)
{
    demo_rng r;
    demo_rng_init(&r, seed, "test-people", 1);
    w->people = rhis_xcalloc(NPEOPLE + NBIRTHS, sizeof(demo_person));
    demo_day from = demo_day_of(YEAR0, 1, 1), to = demo_day_of(YEAR1, 12, 31);
    for (size_t i = 0; i < NPEOPLE; i++) {
        demo_person *p = &w->people[i];
        p->birth =
            day_in(&r, demo_day_of(1935, 1, 1), demo_day_of(2018, 12, 31));
        if (i % 2 == 0) /* more people aged 35-57 */
            p->birth =
                day_in(&r, demo_day_of(1962, 1, 1), demo_day_of(1984, 12, 31));
        p->death = p->out_day = DEMO_NEVER;
        p->in_day = from;
        p->htn_onset = p->t2d_onset = DEMO_NEVER;
        p->village = (int32_t)(i % 4);
        p->household = (int32_t)(i / 3);
        p->sex = demo_rng_bern(&r, 0.5) ? 'M' : 'F';
        p->death_cause = -1;
        int age = (from - p->birth) / 365;
        if (age >= 35 && demo_rng_bern(&r, 0.8)) {
            p->flags |= DEMO_HTN;
            p->htn_onset = demo_rng_bern(&r, 0.85)
                               ? day_in(&r, from - 15 * 365, from - 1)
                               : day_in(&r, from, to);
        }
        if (age >= 35 && demo_rng_bern(&r, 0.6)) {
            p->flags |= DEMO_T2D;
            p->t2d_onset = demo_rng_bern(&r, 0.85)
                               ? day_in(&r, from - 15 * 365, from - 1)
                               : day_in(&r, from, to);
        }
        if (demo_rng_bern(&r, 0.015))
            p->flags |= DEMO_SMI;
        if (age >= 65 && demo_rng_bern(&r, 0.12))
            p->death = day_in(&r, from, to);
        if (age >= 18 && age < 45 && demo_rng_bern(&r, 0.03))
            p->out_day = day_in(&r, from + 1, to);
        if (age >= 1 && demo_rng_bern(&r, 0.03)) {
            p->in_day = day_in(&r, from + 1, to);
            p->flags |= DEMO_MIGRANT;
        }
    }
    size_t n = NPEOPLE;
    w->nbirths = 0;
    while (w->nbirths < NBIRTHS) {
        size_t m = demo_rng_below(&r, NPEOPLE);
        const demo_person *mo = &w->people[m];
        demo_day d = day_in(&r, from, to);
        int age = (d - mo->birth) / 365;
        if (mo->sex != 'F' || age < 20 || age > 38 || mo->in_day != from ||
            mo->out_day != DEMO_NEVER || mo->death != DEMO_NEVER)
            continue;
        demo_person *ch = &w->people[n];
        memset(ch, 0, sizeof(*ch));
        ch->birth = ch->in_day = d;
        ch->death = ch->out_day = DEMO_NEVER;
        ch->htn_onset = ch->t2d_onset = DEMO_NEVER;
        ch->village = mo->village;
        ch->household = mo->household;
        ch->sex = demo_rng_bern(&r, 0.52) ? 'M' : 'F';
        ch->death_cause = -1;
        w->births[w->nbirths].mother = (int32_t)m;
        w->births[w->nbirths].child = (int32_t)n;
        w->births[w->nbirths].day = d;
        w->nbirths++;
        n++;
    }
    /* births by day, as demo_people leaves them */
    for (size_t i = 1; i < w->nbirths; i++)
        for (size_t j = i; j > 0 && w->births[j].day < w->births[j - 1].day;
             j--) {
            demo_birth t = w->births[j];
            w->births[j] = w->births[j - 1];
            w->births[j - 1] = t;
        }
    w->npeople = n;
}

/* Patients as demo_people stores them: the typed row and version 1, dated
 * on arrival; deaths in deceased_ms; departures active = 0. */
static void
store_people(world *w)
{
    rhis_db *db = w->db;
    for (size_t i = 0; i < w->npeople; i++) {
        demo_person *p = &w->people[i];
        int64_t birth_ms = (int64_t)p->birth * DAY_MS;
        int64_t in_ms = demo_ms(p->in_day, 8, 0);
        const char *area = w->vil[p->village].code;
        RHIS_CHECK_OK(
            db, rhis_db_run(db,
                            "INSERT INTO patient (updated_ms, name, sex,"
                            " birth_ms, area_code, deceased_ms, active)"
                            " VALUES (?, '居民', ?, ?, ?, ?, ?)",
                            "isisii", in_ms, p->sex == 'M' ? "M" : "F",
                            birth_ms, area,
                            p->death != DEMO_NEVER ? demo_ms(p->death, 12, 0)
                                                   : (int64_t)0,
                            (int64_t)(p->out_day == DEMO_NEVER)));
        RHIS_CHECK_OK(db,
                      rhis_db_scalar_int64(db, &p->patient_id,
                                           "SELECT MAX(id) FROM patient", ""));
        if (p->death == DEMO_NEVER)
            RHIS_CHECK_OK(db, rhis_db_run(db,
                                          "UPDATE patient SET deceased_ms ="
                                          " NULL WHERE id = ?",
                                          "i", p->patient_id));
        RHIS_CHECK_OK(db,
                      rhis_db_run(db,
                                  "INSERT INTO fhir_version (type, id,"
                                  " version, ts, method, patient_id, json)"
                                  " VALUES ('Patient', ?, 1, ?, 'POST', ?,"
                                  " '{\"resourceType\":\"Patient\"}')",
                                  "iii", p->patient_id, in_ms, p->patient_id));
    }
}

static void
build_county(world *w)
{
    rhis_db *db = w->db;
    static const char *const twp[] = {"220221100", "220221101"};
    static const char *const vil[] = {"220221100201", "220221100202",
                                      "220221101201", "220221101202"};
    sql(db, "INSERT INTO area (code, name, level, parent_code, edition)"
            " VALUES ('22', '吉林省', 1, NULL, '2023')");
    sql(db, "INSERT INTO area (code, name, level, parent_code, edition)"
            " VALUES ('2202', '吉林市', 2, '22', '2023')");
    sql(db, "INSERT INTO area (code, name, level, parent_code, edition)"
            " VALUES ('220221', '永吉县', 3, '2202', '2023')");
    for (int t = 0; t < 2; t++) {
        RHIS_CHECK_OK(db, rhis_db_run(db,
                                      "INSERT INTO area (code, name, level,"
                                      " parent_code, edition)"
                                      " VALUES (?, ?, 4, '220221', '2023')",
                                      "ss", twp[t], twp[t]));
        memset(&w->twp[t], 0, sizeof(w->twp[t]));
        (void)snprintf(w->twp[t].code, sizeof(w->twp[t].code), "%s", twp[t]);
        (void)snprintf(w->names[t], 16, "乡镇%d", t);
        w->twp[t].name = w->names[t];
        w->twp[t].first_village = 2 * t;
        w->twp[t].nvillages = 2;
    }
    for (int v = 0; v < 4; v++) {
        RHIS_CHECK_OK(db, rhis_db_run(db,
                                      "INSERT INTO area (code, name, level,"
                                      " parent_code, edition)"
                                      " VALUES (?, ?, 5, ?, '2023')",
                                      "sss", vil[v], vil[v], twp[v / 2]));
        memset(&w->vil[v], 0, sizeof(w->vil[v]));
        (void)snprintf(w->vil[v].code, sizeof(w->vil[v].code), "%s", vil[v]);
        (void)snprintf(w->names[2 + v], 16, "村%d", v);
        w->vil[v].name = w->names[2 + v];
        w->vil[v].township = v / 2;
        w->vil[v].clinic = -1;
    }
    /* institutions: county hospital, TCM, MCH, 2 township centres, 3
     * village clinics (village 3 has none), CDC */
    static const struct {
        const char *code, *tier;
        int demo_tier, township, village;
    } def[] = {
        {"H1", "county_hospital", DEMO_COUNTY, -1, -1},
        {"H2", "county_hospital", DEMO_COUNTY, -1, -1},
        {"MCH", "mch", DEMO_PUBLIC_HEALTH, -1, -1},
        {"T0", "township_hc", DEMO_TOWNSHIP, 0, -1},
        {"T1", "township_hc", DEMO_TOWNSHIP, 1, -1},
        {"V0", "village_clinic", DEMO_VILLAGE_CLINIC, 0, 0},
        {"V1", "village_clinic", DEMO_VILLAGE_CLINIC, 0, 1},
        {"V2", "village_clinic", DEMO_VILLAGE_CLINIC, 1, 2},
        {"CDC", "cdc", DEMO_PUBLIC_HEALTH, -1, -1},
    };
    for (int i = 0; i < 9; i++) {
        demo_inst *in = &w->inst[i];
        memset(in, 0, sizeof(*in));
        const char *area = def[i].village >= 0    ? vil[def[i].village]
                           : def[i].township >= 0 ? twp[def[i].township]
                                                  : "220221";
        in->id = insert_inst(db, def[i].code, def[i].tier, area);
        (void)snprintf(in->code, sizeof(in->code), "%s", def[i].code);
        in->tier = def[i].demo_tier;
        in->township = def[i].township;
        in->village = def[i].village;
        for (int s = 0; s < 2; s++)
            w->staff[i][s] = insert_staff(db, in->id, s);
        in->staff = w->staff[i];
        in->nstaff = 2;
        in->nphysicians = 1;
        if (def[i].village >= 0)
            w->vil[def[i].village].clinic = i;
    }
    w->twp[0].health_centre = 3;
    w->twp[1].health_centre = 4;
    memset(&w->county, 0, sizeof(w->county));
    (void)snprintf(w->county.code, sizeof(w->county.code), "%s", county_code);
    (void)snprintf(w->names[6], 16, "永吉县");
    w->county.name = w->names[6];
    w->county.townships = w->twp;
    w->county.ntownships = 2;
    w->county.villages = w->vil;
    w->county.nvillages = 4;
    w->county.insts = w->inst;
    w->county.ninsts = 9;
    w->county.county_hospital = 0;
    w->county.tcm_hospital = 1;
    w->county.mch = 2;
    w->county.cdc = 8;
    w->county.city_hospital_id = 0;
}

/* Builds the world on a fresh database and runs the stage. */
static int
run_world(world *w, uint64_t seed, size_t limit)
{
    memset(w, 0, sizeof(*w));
    if (rhis_test_open_migrated(&w->db) != 0)
        return -1;
    if (rhis_db_begin(w->db) != RHIS_OK)
        return -1;
    build_county(w);
    build_people(w, 42);
    if (limit > 0 && limit < w->npeople) {
        w->npeople = limit; /* a smaller world: no births beyond it */
        size_t nb = 0;
        for (size_t b = 0; b < w->nbirths; b++)
            if ((size_t)w->births[b].child < limit)
                w->births[nb++] = w->births[b];
        w->nbirths = nb;
    }
    store_people(w);
    if (rhis_db_commit(w->db) != RHIS_OK)
        return -1;
    w->arena = rhis_arena_new();
    demo_ctx *c = &w->c;
    c->db = w->db;
    c->data = rhis_xcalloc(1, sizeof(demo_data)); /* per-type counters */
    c->seed = seed;
    c->year_from = YEAR0;
    c->year_to = YEAR1;
    c->day_from = demo_day_of(YEAR0, 1, 1);
    c->day_to = demo_day_of(YEAR1, 12, 31);
    c->scale = 1;
    c->county = &w->county;
    c->people = w->people;
    c->npeople = w->npeople;
    c->births = w->births;
    c->nbirths = w->nbirths;
    rhis_fhir_ctx_cli(&c->fx, w->db, rhis_arena_new());
    c->arena = w->arena;
    if (rhis_db_begin(w->db) != RHIS_OK)
        return -1;
    rhis_status rc = demo_care(c);
    if (rc != RHIS_OK) {
        print_error("demo_care: %d\n", (int)rc);
        rhis_db_rollback(w->db);
        return -1;
    }
    return rhis_db_commit(w->db) == RHIS_OK ? 0 : -1;
}

static void
free_world(world *w)
{
    if (w == NULL)
        return;
    rhis_db_close(w->db);
    rhis_arena_free(w->c.fx.arena);
    rhis_arena_free(w->arena);
    rhis_free(w->people);
    rhis_free(w->c.data);
}

static int
setup(void **state)
{
    (void)state;
    g_w = rhis_xcalloc(1, sizeof(world));
    int rc = run_world(g_w, 7, 0);
    g_db = g_w->db;
    return rc;
}

static int
teardown(void **state)
{
    (void)state;
    free_world(g_w);
    rhis_free(g_w);
    g_w = NULL;
    g_db = NULL;
    return 0;
}

/*
 * The county group: 永吉县 generated by the whole demo (demo_county_run:
 * registry, people, care, surveillance) at --scale 0.02 for the same
 * years, on a database loaded like `rhis init` loads it.
 */
static int
setup_county(void **state)
{
    (void)state;
    char path[512], err[512];
    int64_t added = 0;
    int skipped = 0;
    const char *dir = getenv("RHIS_DATA_DIR");
    if (dir == NULL || *dir == '\0')
        dir = "data";
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    rhis_test_data_file("divisions.csv", path, sizeof(path));
    if (rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err)) !=
            RHIS_OK ||
        demo_ctx_init(&g_cc, g_db, dir, 3, YEAR0, YEAR1, 0.02, err,
                      sizeof(err)) != RHIS_OK ||
        demo_county_run(&g_cc, county_code, &skipped, err, sizeof(err)) !=
            RHIS_OK) {
        print_error("county: %s\n", err);
        return -1;
    }
    print_message("county %s: %zu residents, %lld resources\n", county_code,
                  g_cc.npeople, (long long)g_cc.nresources);
    return 0;
}

static int
teardown_county(void **state)
{
    (void)state;
    demo_ctx_fini(&g_cc);
    memset(&g_cc, 0, sizeof(g_cc));
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

/* ---- SQL helpers ---- */

/* Unix ms of local midnight, 1 January of year y. */
static int64_t
jan1(int y)
{
    return demo_ms(demo_day_of(y, 1, 1), 0, 0);
}

/* Two integer columns of a one-row query with the given bound ints. */
static void
two(const char *q, int64_t *a, int64_t *b, int nargs, const int64_t *args)
{
    rhis_stmt *st = NULL;
    rhis_db *db = g_db;
    RHIS_CHECK_OK(db, rhis_db_prepare(db, q, &st));
    for (int i = 0; i < nargs; i++)
        RHIS_CHECK_OK(db, rhis_db_bind_int64(st, i + 1, args[i]));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    *a = rhis_db_column_int64(st, 0);
    *b = rhis_db_column_int64(st, 1);
    rhis_db_finalize(st);
}

/*
 * Compares num/den with the target: within tol when tol > 0, else within
 * four standard errors of a proportion at the target (at least 1 point).
 */
static void
check_rate(const char *what, double num, double den, double target, double tol)
{
    double rate = den > 0 ? num / den : -1;
    if (tol <= 0 && den > 0)
        tol = fmax(0.01, 4 * sqrt(target * (1 - target) / den));
    print_message("%-32s %6.0f / %6.0f = %.4f (target %.4f +- %.3f)\n", what,
                  num, den, rate, target, tol);
    assert_true(den >= 30);
    assert_true(fabs(rate - target) <= tol);
}

/* ---- the rates ---- */

/* Standardised management of a programme: among patients registered
 * (problem-list Condition recorded) before the year, alive at its end and
 * followed up at least once in it: >= 4 follow-ups with the measurement. */
static void
check_std(const char *icd,
          const char *service,
          const char *loinc,
          const double *std,
          const char *what)
{
    static const char *const q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN n >= 4 THEN 1 ELSE 0 END),"
        " 0) FROM (SELECT c.patient_id, (SELECT COUNT(*) FROM encounter e"
        " WHERE e.patient_id = c.patient_id AND e.type_code = ?"
        " AND e.start_ms >= ? AND e.start_ms < ? AND EXISTS (SELECT 1 FROM"
        " observation o WHERE o.encounter_id = e.id AND o.code = ?)) AS n"
        " FROM condition c JOIN patient p ON p.id = c.patient_id"
        " WHERE c.code = ? AND c.category = 'problem-list-item'"
        " AND c.recorded_ms < ? AND p.active = 1 AND (p.deceased_ms IS NULL"
        " OR p.deceased_ms >= ?)) x WHERE n >= 1";
    double num = 0, den = 0, want = 0;
    for (int y = YEAR0; y <= YEAR1; y++) {
        rhis_stmt *st = NULL;
        RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st, q, "siissii", service,
                                          jan1(y), jan1(y + 1), loinc, icd,
                                          jan1(y), jan1(y + 1)));
        assert_int_equal(rhis_db_step(st), RHIS_ROW);
        double d = (double)rhis_db_column_int64(st, 0);
        num += (double)rhis_db_column_int64(st, 1);
        rhis_db_finalize(st);
        den += d;
        want += d * demo_care_rate(std, y);
    }
    check_rate(what, num, den, want / den, 0);
}

static void
test_htn_standardised(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    check_std("I10.x00", "htn-fu", "85354-9", r->htn_std,
              "hypertension 规范管理率");
}

static void
test_t2d_standardised(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    check_std("E11.900", "t2d-fu", "14771-0", r->t2d_std,
              "diabetes 规范管理率");
}

/* Control: the latest measurement of the year at a follow-up. */
static void
test_control(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    static const char *const htn_q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.value_num < 140 AND"
        " d.value_num < 90 THEN 1 ELSE 0 END), 0) FROM observation o"
        " JOIN encounter e ON e.id = o.encounter_id AND e.type_code = 'htn-fu'"
        " JOIN observation_component s ON s.observation_id = o.id"
        " AND s.code = '8480-6'"
        " JOIN observation_component d ON d.observation_id = o.id"
        " AND d.code = '8462-4'"
        " WHERE o.code = '85354-9' AND o.effective_ms >= ?"
        " AND o.effective_ms < ? AND o.effective_ms = (SELECT"
        " MAX(o2.effective_ms) FROM observation o2 JOIN encounter e2"
        " ON e2.id = o2.encounter_id AND e2.type_code = 'htn-fu'"
        " WHERE o2.patient_id = o.patient_id AND o2.code = '85354-9'"
        " AND o2.effective_ms >= ? AND o2.effective_ms < ?)";
    static const char *const t2d_q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN o.value_num < 7.0 THEN 1"
        " ELSE 0 END), 0) FROM observation o"
        " JOIN encounter e ON e.id = o.encounter_id AND e.type_code = 't2d-fu'"
        " WHERE o.code = '14771-0' AND o.effective_ms >= ?"
        " AND o.effective_ms < ? AND o.effective_ms = (SELECT"
        " MAX(o2.effective_ms) FROM observation o2 JOIN encounter e2"
        " ON e2.id = o2.encounter_id AND e2.type_code = 't2d-fu'"
        " WHERE o2.patient_id = o.patient_id AND o2.code = '14771-0'"
        " AND o2.effective_ms >= ? AND o2.effective_ms < ?)";
    for (int k = 0; k < 2; k++) {
        double num = 0, den = 0, want = 0;
        for (int y = YEAR0; y <= YEAR1; y++) {
            int64_t a[4] = {jan1(y), jan1(y + 1), jan1(y), jan1(y + 1)}, d, n;
            two(k == 0 ? htn_q : t2d_q, &d, &n, 4, a);
            den += (double)d;
            num += (double)n;
            want += (double)d *
                    demo_care_rate(k == 0 ? r->htn_ctrl : r->t2d_ctrl, y);
        }
        check_rate(k == 0 ? "血压控制率" : "血糖控制率", num, den, want / den,
                   0);
    }
}

/* 严重精神障碍管理率: registered before the year, alive, >= 1 follow-up. */
static void
test_smi_management(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    static const char *const q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM"
        " encounter e WHERE e.patient_id = p.id AND e.type_code = 'smi-fu'"
        " AND e.start_ms >= ? AND e.start_ms < ?) THEN 1 ELSE 0 END), 0)"
        " FROM patient p WHERE p.active = 1 AND (p.deceased_ms IS NULL OR"
        " p.deceased_ms >= ?) AND EXISTS (SELECT 1 FROM condition c"
        " WHERE c.patient_id = p.id AND c.code IN ('F20.9', 'F31.9',"
        " 'F25.9') AND c.category = 'problem-list-item'"
        " AND c.recorded_ms < ?)";
    double num = 0, den = 0, want = 0;
    for (int y = YEAR0; y <= YEAR1; y++) {
        int64_t a[4] = {jan1(y), jan1(y + 1), jan1(y + 1), jan1(y)}, d, n;
        two(q, &d, &n, 4, a);
        den += (double)d;
        num += (double)n;
        want += (double)d * demo_care_rate(r->smi_mgmt, y);
    }
    check_rate("严重精神障碍管理率", num, den, want / den, 0);
}

/* 65+ health check: residents born in y - 65 or before, there since
 * before the year, alive at its end: a check in the year. */
static void
test_elder_check(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    static const char *const q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM"
        " encounter e WHERE e.patient_id = p.id AND e.type_code ="
        " 'elder-check' AND e.start_ms >= ? AND e.start_ms < ?) THEN 1 ELSE"
        " 0 END), 0) FROM patient p JOIN fhir_version v ON v.type ="
        " 'Patient' AND v.id = p.id AND v.version = 1 WHERE p.active = 1"
        " AND p.birth_ms < ? AND v.ts < ? AND (p.deceased_ms IS NULL OR"
        " p.deceased_ms >= ?)";
    double num = 0, den = 0, want = 0;
    for (int y = YEAR0; y <= YEAR1; y++) {
        int64_t b = (int64_t)demo_day_of(y - 64, 1, 1) * DAY_MS;
        int64_t a[5] = {jan1(y), jan1(y + 1), b, jan1(y), jan1(y + 1)}, d, n;
        two(q, &d, &n, 5, a);
        den += (double)d;
        num += (double)n;
        want += (double)d * demo_care_rate(r->elder, y);
    }
    check_rate("65+ 健康管理服务率", num, den, want / den, 0);
}

/*
 * 孕产妇系统管理率: deliveries from October 2019 (the pregnancy inside the
 * run) of mothers living there since before the pregnancy: registration (first
 * antenatal visit) before 13 weeks from the LMP (the pregnancy Condition's
 * onset), >= 5 antenatal visits and a postpartum visit within 28 days.
 */
static void
test_maternal(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    static const char *const q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN (SELECT COUNT(*) FROM"
        " encounter a WHERE a.patient_id = d.patient_id AND a.type_code ="
        " 'anc' AND a.start_ms < d.start_ms AND a.start_ms > d.start_ms - ?)"
        " >= 5 AND EXISTS (SELECT 1 FROM encounter v WHERE v.patient_id ="
        " d.patient_id AND v.type_code = 'pnc' AND v.start_ms > d.start_ms"
        " AND v.start_ms < d.start_ms + ?) AND EXISTS (SELECT 1 FROM"
        " condition c WHERE c.patient_id = d.patient_id AND c.code ="
        " 'Z34.9' AND c.onset_ms > d.start_ms - ? AND (SELECT"
        " MIN(a.start_ms) FROM encounter a WHERE a.patient_id ="
        " d.patient_id AND a.type_code = 'anc' AND a.start_ms > c.onset_ms)"
        " - c.onset_ms < ?) THEN 1 ELSE 0 END), 0) FROM encounter d"
        " WHERE d.type_code = 'delivery' AND d.start_ms >= ?"
        " AND d.start_ms < ? AND (SELECT v.ts FROM fhir_version v WHERE"
        " v.type = 'Patient' AND v.id = d.patient_id AND v.version = 1)"
        " < d.start_ms - 300 * CAST(86400000 AS BIGINT)";
    double num = 0, den = 0, want = 0;
    for (int y = YEAR0; y <= YEAR1; y++) {
        int64_t lo =
            y == YEAR0 ? demo_ms(demo_day_of(y, 10, 20), 0, 0) : jan1(y);
        int64_t a[6] = {300 * DAY_MS, 28 * DAY_MS, 300 * DAY_MS,
                        91 * DAY_MS,  lo,          jan1(y + 1)};
        int64_t d, n;
        two(q, &d, &n, 6, a);
        den += (double)d;
        num += (double)n;
        want += (double)d * demo_care_rate(r->mat_sys, y);
    }
    check_rate("孕产妇系统管理率", num, den, want / den, 0);
}

/* 3岁以下儿童系统管理率 (4:2:2) for children born in the county in 2019-2020
 * (not arrivals), alive and still there, who were 3 by
 * the end of the run: >= 4 checks from 2 months to 13 months, >= 2 to 25,
 * >= 2 to 37. */
static void
test_child_systematic(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    static const char *const q =
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN"
        " (SELECT COUNT(*) FROM encounter e WHERE e.patient_id = p.id AND"
        " e.type_code = 'child-check' AND e.start_ms >= p.birth_ms + ? AND"
        " e.start_ms < p.birth_ms + ?) >= 4 AND"
        " (SELECT COUNT(*) FROM encounter e WHERE e.patient_id = p.id AND"
        " e.type_code = 'child-check' AND e.start_ms >= p.birth_ms + ? AND"
        " e.start_ms < p.birth_ms + ?) >= 2 AND"
        " (SELECT COUNT(*) FROM encounter e WHERE e.patient_id = p.id AND"
        " e.type_code = 'child-check' AND e.start_ms >= p.birth_ms + ? AND"
        " e.start_ms < p.birth_ms + ?) >= 2 THEN 1 ELSE 0 END), 0)"
        " FROM patient p JOIN fhir_version v ON v.type = 'Patient'"
        " AND v.id = p.id AND v.version = 1 WHERE p.active = 1"
        " AND p.deceased_ms IS NULL AND v.ts < p.birth_ms + 172800000"
        " AND p.birth_ms >= ? AND p.birth_ms < ?";
    double num = 0, den = 0, want = 0;
    for (int y = YEAR0; y <= YEAR0 + 1; y++) {
        int64_t a[8] = {60 * DAY_MS,
                        395 * DAY_MS,
                        395 * DAY_MS,
                        760 * DAY_MS,
                        760 * DAY_MS,
                        1125 * DAY_MS,
                        (int64_t)demo_day_of(y, 1, 1) * DAY_MS,
                        (int64_t)(y == YEAR0 ? demo_day_of(y + 1, 1, 1)
                                             : demo_day_of(y, 12, 1)) *
                            DAY_MS};
        int64_t d, n;
        two(q, &d, &n, 8, a);
        den += (double)d;
        num += (double)n;
        want += (double)d * demo_care_rate(r->child_sys, y + 1);
    }
    check_rate("3岁以下儿童系统管理率", num, den, want / den, 0);
}

/*
 * Immunisation: children born in the county 2019-2021 (their Patient
 * created at birth; never moved away, alive), every
 * dose due by 18 months: county coverage of all doses near the rate, every
 * township >= 90 % (the plans' floor), and no township-dose far below the
 * lowest township rate.
 */
static void
test_immunization_coverage(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    static const struct {
        const char *v;
        int dose;
    } doses[] = {{"HepB", 1},   {"HepB", 2}, {"HepB", 3}, {"BCG", 1},
                 {"IPV", 1},    {"IPV", 2},  {"bOPV", 1}, {"DTaP", 1},
                 {"DTaP", 2},   {"DTaP", 3}, {"DTaP", 4}, {"MPSV-A", 1},
                 {"MPSV-A", 2}, {"MMR", 1},  {"MMR", 2},  {"JE-L", 1},
                 {"HepA-L", 1}};
    rhis_db *db = g_db;
    /* township rates are imm - 0.025 + U(0, 0.04) */
    double pmin = r->imm - 0.025, num = 0, den = 0;
    double tnum[64], tden[64];
    int ntwp = 0;
    memset(tnum, 0, sizeof(tnum));
    memset(tden, 0, sizeof(tden));
    for (size_t j = 0; j < sizeof(doses) / sizeof(doses[0]); j++) {
        rhis_stmt *st = NULL;
        RHIS_CHECK_OK(
            db, rhis_db_query(db, &st,
                              "SELECT substr(p.area_code, 1, 9), COUNT(*),"
                              " COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM"
                              " immunization i WHERE i.patient_id = p.id AND"
                              " i.vaccine_code = ? AND i.dose_number = ? AND"
                              " i.status = 'completed') THEN 1 ELSE 0 END), 0)"
                              " FROM patient p JOIN fhir_version v ON v.type ="
                              " 'Patient' AND v.id = p.id AND v.version = 1"
                              " WHERE p.active = 1 AND p.deceased_ms IS NULL"
                              " AND p.birth_ms >= ? AND p.birth_ms < ?"
                              " AND v.ts < p.birth_ms + 172800000"
                              " GROUP BY substr(p.area_code, 1, 9)"
                              " ORDER BY substr(p.area_code, 1, 9)",
                              "siii", doses[j].v, (int64_t)doses[j].dose,
                              (int64_t)demo_day_of(YEAR0, 1, 1) * DAY_MS,
                              (int64_t)demo_day_of(YEAR0 + 3, 1, 1) * DAY_MS));
        int t = 0, bad = 0;
        while (rhis_db_step(st) == RHIS_ROW && t < 64) {
            double kids = (double)rhis_db_column_int64(st, 1);
            double got = (double)rhis_db_column_int64(st, 2);
            /* each township and dose (of 10 children or more): not below
             * the lowest township rate by more than four standard errors */
            double floor = pmin - 4 * sqrt(pmin * (1 - pmin) / kids);
            if (kids >= 10 && got / kids < floor) {
                print_error("%s dose %d, township %d: %.0f / %.0f\n",
                            doses[j].v, doses[j].dose, t, got, kids);
                bad++;
            }
            tnum[t] += got;
            tden[t] += kids;
            num += got;
            den += kids;
            t++;
        }
        rhis_db_finalize(st);
        assert_int_equal(bad, 0);
        assert_true(t >= 2);
        ntwp = t;
    }
    /* the plans' floor, >= 90 % in every township (all doses pooled),
     * unless the township is too small to tell (four standard errors) */
    for (int t = 0; t < ntwp; t++) {
        double floor = fmin(0.90, pmin - 4 * sqrt(pmin * (1 - pmin) / tden[t]));
        print_message("township %d: coverage %.4f of %.0f doses due\n", t,
                      tnum[t] / tden[t], tden[t]);
        assert_true(tnum[t] / tden[t] >= floor);
    }
    /* the county's coverage lies within the township rates' range */
    check_rate("免疫规划疫苗接种率 (all doses)", num, den, r->imm - 0.005,
               0.02 + 4 * sqrt(pmin * (1 - pmin) / den));
}

/*
 * 家庭医生签约率 for residents present in the year (there before its end,
 * alive at its start, never moved away): a contract spell overlapping the
 * year; all residents, and the key groups the database shows (65+, 0-6,
 * registered hypertension/diabetes/SMI, pregnant).
 */
static void
test_contracts(void **state)
{
    (void)state;
    const demo_care_rates *r = demo_care_rates_for(county_code);
    /* bound in order: contract (year end, year start), residents (year
     * end, year end, year start), key groups (65+ born before, 0-6 born
     * from, year end, year start, year end) */
#define CONTRACT_HEAD                                                          \
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM"            \
    " fd_contract f WHERE f.patient_id = p.id AND f.start_ms < ? AND"          \
    " f.end_ms >= ?) THEN 1 ELSE 0 END), 0) FROM patient p JOIN"               \
    " fhir_version v ON v.type = 'Patient' AND v.id = p.id AND v.version = 1"  \
    " WHERE p.active = 1 AND v.ts < ? AND p.birth_ms < ? AND (p.deceased_ms"   \
    " IS NULL OR p.deceased_ms >= ?)"
    static const char *const qs[2] = {
        CONTRACT_HEAD,
        CONTRACT_HEAD
        " AND (p.birth_ms < ? OR p.birth_ms >= ? OR EXISTS (SELECT 1 FROM"
        " condition c WHERE c.patient_id = p.id AND c.category ="
        " 'problem-list-item' AND c.code IN ('I10.x00', 'E11.900', 'F20.9',"
        " 'F31.9', 'F25.9') AND c.recorded_ms < ?) OR EXISTS (SELECT 1"
        " FROM encounter a WHERE a.patient_id = p.id AND a.type_code ="
        " 'anc' AND a.start_ms >= ? AND a.start_ms < ?))",
    };
#undef CONTRACT_HEAD
    double num[2] = {0, 0}, den[2] = {0, 0}, want[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        const char *q = qs[k];
        for (int y = YEAR0; y <= YEAR1; y++) {
            int64_t e = jan1(y + 1), b = jan1(y);
            int64_t a[10] = {e,
                             b,
                             e,
                             e,
                             b,
                             (int64_t)demo_day_of(y - 64, 1, 1) * DAY_MS,
                             (int64_t)demo_day_of(y - 6, 1, 1) * DAY_MS,
                             e,
                             b,
                             e};
            int64_t d, n;
            two(q, &d, &n, k == 1 ? 10 : 5, a);
            den[k] += (double)d;
            num[k] += (double)n;
            want[k] +=
                (double)d * demo_care_rate(k == 0 ? r->fd_all : r->fd_key, y);
        }
    }
    check_rate("家庭医生签约率 (all)", num[0], den[0], want[0] / den[0], 0);
    check_rate("重点人群签约率", num[1], den[1], want[1] / den[1], 0);
}

/* Every kind of event is there, at the tiers it belongs to. */
static void
test_volumes(void **state)
{
    (void)state;
    static const char *const types[] = {
        "opd", "ipd",      "htn-fu", "t2d-fu", "smi-fu",  "elder-check",
        "anc", "delivery", "pnc",    "pnc42",  "newborn", "child-check"};
    rhis_db *db = g_db;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        int64_t n = 0;
        RHIS_CHECK_OK(db, rhis_db_scalar_int64(db, &n,
                                               "SELECT COUNT(*) FROM encounter"
                                               " WHERE type_code = ?",
                                               "s", types[i]));
        print_message("%-12s %lld\n", types[i], (long long)n);
        assert_true(n > 0);
    }
    /* follow-ups at village clinics and township centres only */
    assert_int_equal(
        rhis_test_scalar(db, "SELECT COUNT(*) FROM encounter e JOIN"
                             " institution i ON i.id = e.institution_id"
                             " WHERE e.type_code IN ('htn-fu', 't2d-fu')"
                             " AND i.tier NOT IN ('village_clinic',"
                             " 'township_hc', 'community_hc',"
                             " 'community_station')"),
        0);
    /* every outpatient/inpatient visit has its ICD-10 diagnosis and
     * chief complaint */
    assert_int_equal(
        rhis_test_scalar(db, "SELECT COUNT(*) FROM encounter e WHERE"
                             " e.type_code IN ('opd', 'ipd') AND"
                             " (e.reason_code IS NULL OR e.reason_text IS"
                             " NULL)"),
        0);
    /* no visit after a death (the death day's noon or later) */
    assert_int_equal(
        rhis_test_scalar(db, "SELECT COUNT(*) FROM encounter e JOIN patient"
                             " p ON p.id = e.patient_id WHERE p.deceased_ms"
                             " IS NOT NULL AND e.start_ms > p.deceased_ms"),
        0);
    if (g_w == NULL)
        return;
    /* no event after a departure either (the world knows the days) */
    for (size_t i = 0; i < g_w->npeople; i++) {
        const demo_person *p = &g_w->people[i];
        if (p->out_day == DEMO_NEVER)
            continue;
        int64_t n = 0;
        RHIS_CHECK_OK(
            db, rhis_db_scalar_int64(db, &n,
                                     "SELECT COUNT(*) FROM encounter WHERE"
                                     " patient_id = ? AND start_ms >= ?",
                                     "ii", p->patient_id,
                                     demo_ms(p->out_day + 1, 0, 0)));
        assert_int_equal(n, 0);
    }
    print_message("resources %lld, events %lld\n", (long long)g_w->c.nresources,
                  (long long)g_w->c.nevents);
}

/* The same seed gives the same rows; another seed other rows (SQLite:
 * three more small databases). */
static void
test_deterministic(void **state)
{
    (void)state;
    if (strcmp(rhis_test_engine_cur()->name, "sqlite") != 0 || g_w == NULL)
        skip();
    static const char *const q =
        "SELECT COUNT(*), SUM(LENGTH(json) * (id % 97)) FROM fhir_version"
        " WHERE type <> 'Patient'";
    int64_t h[3][2];
    for (int k = 0; k < 3; k++) {
        world *w = rhis_xcalloc(1, sizeof(world));
        rhis_test_engine saved = *rhis_test_engine_cur();
        assert_int_equal(rhis_test_sqlite_begin(), 0);
        assert_int_equal(run_world(w, k == 2 ? 8 : 7, 200), 0);
        rhis_stmt *st = NULL;
        RHIS_CHECK_OK(w->db, rhis_db_prepare(w->db, q, &st));
        assert_int_equal(rhis_db_step(st), RHIS_ROW);
        h[k][0] = rhis_db_column_int64(st, 0);
        h[k][1] = rhis_db_column_int64(st, 1);
        rhis_db_finalize(st);
        free_world(w);
        rhis_free(w);
        (void)rhis_test_engine_end(NULL);
        *rhis_test_engine_cur() = saved;
    }
    assert_true(h[0][0] > 100);
    assert_true(h[0][0] == h[1][0] && h[0][1] == h[1][1]);
    assert_true(h[0][0] != h[2][0] || h[0][1] != h[2][1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volumes),
        cmocka_unit_test(test_htn_standardised),
        cmocka_unit_test(test_t2d_standardised),
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_smi_management),
        cmocka_unit_test(test_elder_check),
        cmocka_unit_test(test_maternal),
        cmocka_unit_test(test_child_systematic),
        cmocka_unit_test(test_immunization_coverage),
        cmocka_unit_test(test_contracts),
        cmocka_unit_test(test_deterministic),
    };
    size_t n = sizeof(tests) / sizeof(tests[0]);
    int failed = rhis_test_run_engines("demo_care", tests, n, setup, teardown);
    /* the same checks on the whole demo's county (not the determinism
     * case: tests/demo/run.sh hashes whole runs) */
    failed += rhis_test_run_engines("demo_care_county", tests, n - 1,
                                    setup_county, teardown_county);
    return failed;
}
