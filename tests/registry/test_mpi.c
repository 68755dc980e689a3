/*
 * test_mpi.c - unit tests of the master patient index (src/registry/mpi.c,
 * src/registry/api_mpi.c): every comparator and its levels, the weights,
 * grades and thresholds, the in-memory index (blocking, replace, remove,
 * concurrent readers and a writer), EM on a synthetic population with
 * duplicates, and - on SQLite and PostgreSQL - loading from table patient,
 * the review queue the Patient store feeds, and a merge / unmerge round
 * trip through the HTTP handlers (database state, versions, audit).
 *
 * Why: a wrong level or weight silently merges two people or splits one;
 * a merge that cannot be undone exactly loses a history.  These are the
 * checks a refactoring must not break.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>

#include "rhis/config.h"
#include "rhis/fhirstore.h"
#include "rhis/handlers.h"
#include "rhis/http.h"
#include "rhis/idnum.h"
#include "rhis/json.h"
#include "rhis/mpi.h"
#include "rhis/patient.h"
#include "rhis/registry.h"

#define EXT_DIV "https://rhis.cn/fhir/StructureDefinition/address-division"

/* ---- comparators ---- */

static void
name_levels(void **state)
{
    (void)state;
    assert_int_equal(rhis_mpi_cmp_name("王丽", "王丽"), RHIS_MPI_NAME_EXACT);
    /* spaces and the middle dot of minority names do not count */
    assert_int_equal(rhis_mpi_cmp_name("王 丽", "王丽"), RHIS_MPI_NAME_EXACT);
    assert_int_equal(rhis_mpi_cmp_name("买买提·艾力", "买买提艾力"),
                     RHIS_MPI_NAME_EXACT);
    assert_int_equal(rhis_mpi_cmp_name("Anna LI", "anna li"),
                     RHIS_MPI_NAME_EXACT);
    /* homophones typed with a pinyin input method */
    assert_int_equal(rhis_mpi_cmp_name("王丽", "王莉"), RHIS_MPI_NAME_PINYIN);
    assert_int_equal(rhis_mpi_cmp_name("张伟", "章伟"), RHIS_MPI_NAME_PINYIN);
    assert_int_equal(rhis_mpi_cmp_name("孙桂兰", "孙贵兰"),
                     RHIS_MPI_NAME_PINYIN);
    /* the surname reading of 单 (shan) is used on both sides */
    assert_int_equal(rhis_mpi_cmp_name("单伟", "善伟"), RHIS_MPI_NAME_PINYIN);
    /* one edit apart: a front/back nasal, l/n */
    assert_int_equal(rhis_mpi_cmp_name("陈明", "程明"), RHIS_MPI_NAME_SIMILAR);
    assert_int_equal(rhis_mpi_cmp_name("刘娜", "牛娜"), RHIS_MPI_NAME_SIMILAR);
    /* the same initials only */
    assert_int_equal(rhis_mpi_cmp_name("王丽", "吴磊"), RHIS_MPI_NAME_SIMILAR);
    assert_int_equal(rhis_mpi_cmp_name("王丽", "张伟"), RHIS_MPI_NAME_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_name("李国华", "王淑芬"),
                     RHIS_MPI_NAME_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_name("", "王丽"), RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_name("王丽", NULL), RHIS_MPI_MISSING);
    /* invalid UTF-8 is no name */
    assert_int_equal(rhis_mpi_cmp_name("\xe7\x8e", "王丽"), RHIS_MPI_MISSING);
}

static void
birth_levels(void **state)
{
    (void)state;
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1985-03-12"),
                     RHIS_MPI_BIRTH_EXACT);
    /* day and month swapped */
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1985-12-03"),
                     RHIS_MPI_BIRTH_NEAR);
    /* one digit */
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1985-03-13"),
                     RHIS_MPI_BIRTH_NEAR);
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1995-03-12"),
                     RHIS_MPI_BIRTH_NEAR);
    /* two neighbouring digits transposed */
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1985-03-21"),
                     RHIS_MPI_BIRTH_NEAR);
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1958-03-12"),
                     RHIS_MPI_BIRTH_NEAR);
    /* the year only */
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1985-07-30"),
                     RHIS_MPI_BIRTH_YEAR);
    assert_int_equal(rhis_mpi_cmp_birth("1985", "1985-03-12"),
                     RHIS_MPI_BIRTH_YEAR);
    assert_int_equal(rhis_mpi_cmp_birth("1985-03", "1985-03"),
                     RHIS_MPI_BIRTH_YEAR);
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1990-07-30"),
                     RHIS_MPI_BIRTH_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_birth("1985-03-12", "1986-04-13"),
                     RHIS_MPI_BIRTH_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_birth(NULL, "1985-03-12"), RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_birth("1985-13-01", "1985-03-12"),
                     RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_birth("85-03-12", "1985-03-12"),
                     RHIS_MPI_MISSING);
}

static void
sex_area_phone_levels(void **state)
{
    (void)state;
    assert_int_equal(rhis_mpi_cmp_sex('M', 'M'), RHIS_MPI_SEX_AGREE);
    assert_int_equal(rhis_mpi_cmp_sex('f', 'F'), RHIS_MPI_SEX_AGREE);
    assert_int_equal(rhis_mpi_cmp_sex('M', 'F'), RHIS_MPI_SEX_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_sex('U', 'F'), RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_sex(0, 'F'), RHIS_MPI_MISSING);

    assert_int_equal(rhis_mpi_cmp_area("220221102205", "220221102205"),
                     RHIS_MPI_AREA_EXACT);
    assert_int_equal(rhis_mpi_cmp_area("220221102205", "220221102207"),
                     RHIS_MPI_AREA_TOWNSHIP);
    assert_int_equal(rhis_mpi_cmp_area("220221102", "220221102207"),
                     RHIS_MPI_AREA_TOWNSHIP);
    assert_int_equal(rhis_mpi_cmp_area("220221100001", "220221102207"),
                     RHIS_MPI_AREA_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_area("220281001001", "220221102207"),
                     RHIS_MPI_AREA_DISAGREE);
    /* the county alone cannot tell villages apart */
    assert_int_equal(rhis_mpi_cmp_area("220221", "220221102207"),
                     RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_area("220281", "220221102207"),
                     RHIS_MPI_AREA_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_area("2202211022", "220221102207"),
                     RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_area(NULL, "220221102207"), RHIS_MPI_MISSING);

    assert_int_equal(rhis_mpi_cmp_phone("13812345678", "138-1234-5678"),
                     RHIS_MPI_PHONE_EXACT);
    assert_int_equal(rhis_mpi_cmp_phone("+86 13812345678", "13812345678"),
                     RHIS_MPI_PHONE_EXACT);
    assert_int_equal(rhis_mpi_cmp_phone("0432-64201234", "043264201234"),
                     RHIS_MPI_PHONE_EXACT);
    assert_int_equal(rhis_mpi_cmp_phone("13812345678", "13812345679"),
                     RHIS_MPI_PHONE_DISAGREE);
    assert_int_equal(rhis_mpi_cmp_phone("", "13812345679"), RHIS_MPI_MISSING);
    assert_int_equal(rhis_mpi_cmp_phone("unknown", "13812345679"),
                     RHIS_MPI_MISSING);
}

static void
names_of_fields_and_levels(void **state)
{
    (void)state;
    int total = 0;
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        assert_non_null(rhis_mpi_field_name((rhis_mpi_field)f));
        int n = rhis_mpi_nlevels((rhis_mpi_field)f);
        assert_true(n >= 2 && n <= RHIS_MPI_MAXLEVELS);
        for (int l = 0; l < n; l++)
            assert_non_null(rhis_mpi_level_name((rhis_mpi_field)f, l));
        assert_null(rhis_mpi_level_name((rhis_mpi_field)f, n));
        assert_string_equal(
            rhis_mpi_level_name((rhis_mpi_field)f, RHIS_MPI_MISSING),
            "missing");
        total += n;
    }
    assert_int_equal(total, 15);
    assert_string_equal(rhis_mpi_level_name(RHIS_MPI_NAME, 1), "pinyin");
    assert_string_equal(rhis_mpi_level_name(RHIS_MPI_BIRTH, 1), "near");
    assert_string_equal(rhis_mpi_level_name(RHIS_MPI_AREA, 1), "township");
    assert_null(rhis_mpi_field_name(RHIS_MPI_NFIELDS));
}

/* ---- weights, grades, thresholds ---- */

static void
weights_are_log2_of_m_over_u(void **state)
{
    (void)state;
    rhis_mpi_weights w;
    rhis_mpi_weights_default(&w);
    assert_int_equal(w.estimated_ms, 0);
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        int n = rhis_mpi_nlevels((rhis_mpi_field)f);
        double sm = 0, su = 0;
        for (int l = 0; l < n; l++) {
            assert_true(fabs(w.w[f][l] - log2(w.m[f][l] / w.u[f][l])) < 1e-12);
            sm += w.m[f][l];
            su += w.u[f][l];
        }
        /* m and u are distributions over the levels */
        assert_true(fabs(sm - 1) < 1e-6 && fabs(su - 1) < 1e-6);
        /* agreement is evidence for, disagreement against */
        assert_true(w.w[f][0] > 0);
        assert_true(w.w[f][n - 1] < 0);
        for (int l = n; l < RHIS_MPI_MAXLEVELS; l++)
            assert_true(w.w[f][l] == 0);
    }
    /* levels are ordered: a homophone counts less than the characters */
    assert_true(w.w[RHIS_MPI_NAME][0] > w.w[RHIS_MPI_NAME][1]);
    assert_true(w.w[RHIS_MPI_NAME][1] > w.w[RHIS_MPI_NAME][2]);
    assert_true(w.w[RHIS_MPI_BIRTH][0] > w.w[RHIS_MPI_BIRTH][1]);
    assert_true(w.w[RHIS_MPI_AREA][0] > w.w[RHIS_MPI_AREA][1]);
    /* update clamps m and u into (0, 1) */
    w.m[RHIS_MPI_PHONE][0] = 0;
    w.u[RHIS_MPI_PHONE][0] = 2;
    rhis_mpi_weights_update(&w);
    assert_true(w.m[RHIS_MPI_PHONE][0] > 0 && w.u[RHIS_MPI_PHONE][0] < 1);
    assert_true(isfinite(w.w[RHIS_MPI_PHONE][0]));
}

static void
compare_grades_and_scores(void **state)
{
    (void)state;
    rhis_mpi_weights w;
    rhis_mpi_weights_default(&w);
    rhis_mpi_person a = {.name = "张玉珍",
                         .id_number = "220221194911030027",
                         .sex = 'F',
                         .birth_date = "1949-11-03",
                         .phone = "13843219876",
                         .area_code = "220221102205"};
    rhis_mpi_person b = {.name = "张玉真",
                         .sex = 'F',
                         .birth_date = "1949-03-11",
                         .phone = "13500001111",
                         .area_code = "220221102205"};
    rhis_mpi_compare c;
    rhis_mpi_compare_persons(&w, &a, &b, &c);
    assert_int_equal(c.level[RHIS_MPI_NAME], RHIS_MPI_NAME_PINYIN);
    assert_int_equal(c.level[RHIS_MPI_BIRTH], RHIS_MPI_BIRTH_NEAR);
    assert_int_equal(c.level[RHIS_MPI_SEX], RHIS_MPI_SEX_AGREE);
    assert_int_equal(c.level[RHIS_MPI_AREA], RHIS_MPI_AREA_EXACT);
    assert_int_equal(c.level[RHIS_MPI_PHONE], RHIS_MPI_PHONE_DISAGREE);
    double sum = 0;
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        assert_true(c.weight[f] == w.w[f][c.level[f]]);
        sum += c.weight[f];
    }
    assert_true(fabs(sum - c.total) < 1e-9);
    assert_false(c.id_equal);
    assert_false(c.id_differ);
    /* homophone + swapped date + new phone: still a link */
    assert_true(c.total >= RHIS_MPI_LINK_THRESHOLD);
    assert_int_equal(rhis_mpi_grade_of(&c, RHIS_MPI_LINK_THRESHOLD,
                                       RHIS_MPI_REVIEW_THRESHOLD),
                     RHIS_MPI_PROBABLE);
    /* the thresholds decide the band */
    assert_int_equal(rhis_mpi_grade_of(&c, c.total + 1, c.total - 1),
                     RHIS_MPI_POSSIBLE);
    assert_int_equal(rhis_mpi_grade_of(&c, c.total + 2, c.total + 1),
                     RHIS_MPI_NONE);
    assert_int_equal(rhis_mpi_grade_of(&c, c.total, c.total),
                     RHIS_MPI_PROBABLE);
    /* the 0..1 score: about 0.9 at link, 0.1 at review, monotone */
    rhis_mpi_compare x = c;
    x.total = RHIS_MPI_LINK_THRESHOLD;
    double at_link = rhis_mpi_score01(&x, RHIS_MPI_LINK_THRESHOLD,
                                      RHIS_MPI_REVIEW_THRESHOLD);
    x.total = RHIS_MPI_REVIEW_THRESHOLD;
    double at_review = rhis_mpi_score01(&x, RHIS_MPI_LINK_THRESHOLD,
                                        RHIS_MPI_REVIEW_THRESHOLD);
    assert_true(fabs(at_link - 0.9) < 1e-3 && fabs(at_review - 0.1) < 1e-3);
    double prev = -1;
    for (double t = -20; t <= 60; t += 2) {
        x.total = t;
        double s = rhis_mpi_score01(&x, 20, 12);
        assert_true(s >= 0 && s <= 1 && s >= prev);
        prev = s;
    }
    /* a missing field weighs nothing */
    b.phone = NULL;
    rhis_mpi_compare_persons(&w, &a, &b, &c);
    assert_int_equal(c.level[RHIS_MPI_PHONE], RHIS_MPI_MISSING);
    assert_true(c.weight[RHIS_MPI_PHONE] == 0);
    /* ID numbers: equal is certain whatever the rest says */
    rhis_mpi_person d = {.name = "李国华",
                         .id_number = "220221194911030027",
                         .sex = 'M',
                         .birth_date = "1968-03-04"};
    rhis_mpi_compare_persons(&w, &a, &d, &c);
    assert_true(c.id_equal);
    assert_true(c.total < 0);
    assert_int_equal(rhis_mpi_grade_of(&c, 20, 12), RHIS_MPI_CERTAIN);
    assert_true(rhis_mpi_score01(&c, 20, 12) == 1.0);
    /* ... and different valid numbers certainly not, however alike */
    rhis_mpi_person e = a;
    e.id_number = "220221194911030043";
    assert_int_equal(rhis_idnum_check(e.id_number, NULL, NULL, 0), RHIS_OK);
    rhis_mpi_compare_persons(&w, &a, &e, &c);
    assert_true(c.id_differ);
    assert_true(c.total > 40);
    assert_int_equal(rhis_mpi_grade_of(&c, 20, 12), RHIS_MPI_CERTAINLY_NOT);
    assert_true(rhis_mpi_score01(&c, 20, 12) == 0.0);
    /* an invalid number counts as none */
    e.id_number = "220221194911030028";
    rhis_mpi_compare_persons(&w, &a, &e, &c);
    assert_false(c.id_differ || c.id_equal);
    assert_string_equal(rhis_mpi_grade_code(RHIS_MPI_CERTAIN), "certain");
    assert_string_equal(rhis_mpi_grade_code(RHIS_MPI_CERTAINLY_NOT),
                        "certainly-not");
    assert_null(rhis_mpi_grade_code(RHIS_MPI_NONE));
}

static void
detail_json_names_every_field(void **state)
{
    (void)state;
    rhis_mpi_weights w;
    rhis_mpi_weights_default(&w);
    rhis_mpi_person a = {
        .name = "王丽", .sex = 'F', .birth_date = "1985-03-12"};
    rhis_mpi_person b = {
        .name = "王莉", .sex = 'F', .birth_date = "1985-03-12"};
    rhis_mpi_compare c;
    rhis_mpi_compare_persons(&w, &a, &b, &c);
    json_object *d = rhis_mpi_detail_json(&c);
    assert_string_equal(rhis_json_get_str(rhis_json_get(d, "name"), "level"),
                        "pinyin");
    assert_string_equal(
        rhis_json_get_str(rhis_json_get(d, "birthDate"), "level"), "exact");
    assert_string_equal(rhis_json_get_str(rhis_json_get(d, "village"), "level"),
                        "missing");
    assert_true(json_object_get_double(
                    rhis_json_get(rhis_json_get(d, "phone"), "weight")) == 0);
    assert_string_equal(rhis_json_get_str(d, "idNumber"), "missing");
    assert_true(fabs(json_object_get_double(rhis_json_get(d, "total")) -
                     c.total) < 0.01);
    json_object_put(d);
}

/* ---- the index ---- */

static rhis_mpi_person
person(int64_t id,
       const char *name,
       const char *idn,
       char sex,
       const char *birth,
       const char *phone,
       const char *area)
{
    rhis_mpi_person p = {.id = id,
                         .name = name,
                         .id_number = idn,
                         .sex = sex,
                         .birth_date = birth,
                         .phone = phone,
                         .area_code = area};
    return p;
}

static void
index_put_match_replace_remove(void **state)
{
    (void)state;
    rhis_mpi_index *ix = rhis_mpi_index_new();
    rhis_mpi_person p1 = person(1, "孙桂兰", "220221196207090041", 'F',
                                "1962-07-09", "13904321177", "220221102203");
    rhis_mpi_person p2 =
        person(2, "刘秀英", NULL, 'F', "1962-03-21", NULL, "220221102203");
    rhis_mpi_person p3 = person(3, "孙桂芝", NULL, 'F', "1960-01-02",
                                "13904321177", "220221102203");
    rhis_mpi_index_put(ix, &p1);
    rhis_mpi_index_put(ix, &p2);
    rhis_mpi_index_put(ix, &p3);
    assert_int_equal(rhis_mpi_index_count(ix), 3);
    assert_true(rhis_mpi_index_memory(ix) > 0);

    rhis_mpi_candidate c[8];
    /* the ID number: certain */
    rhis_mpi_person q =
        person(0, NULL, "220221196207090041", 0, NULL, NULL, NULL);
    int n = rhis_mpi_index_match(ix, &q, 20, 12, c, 8);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].id, 1);
    assert_int_equal(c[0].grade, RHIS_MPI_CERTAIN);
    /* homophone and swapped date, no ID, no phone: found by blocking */
    q = person(0, "孙贵兰", NULL, 'F', "1962-09-07", NULL, "220221102203");
    n = rhis_mpi_index_match(ix, &q, 20, 12, c, 8);
    assert_true(n >= 1);
    assert_int_equal(c[0].id, 1);
    assert_int_equal(c[0].grade, RHIS_MPI_PROBABLE);
    /* a query never matches itself */
    n = rhis_mpi_index_match(ix, &p1, 20, 12, c, 8);
    for (int i = 0; i < n; i++)
        assert_true(c[i].id != 1);
    /* everything that shares a key, best first, when review is low */
    q = person(0, "孙桂兰", NULL, 'F', "1962-07-09", "13904321177",
               "220221102203");
    n = rhis_mpi_index_match(ix, &q, 20, -1000, c, 8);
    assert_int_equal(n, 2); /* 1 and, by the phone, 3 */
    assert_int_equal(c[0].id, 1);
    assert_int_equal(c[1].id, 3);
    assert_true(c[0].cmp.total > c[1].cmp.total);
    /* max caps the answer */
    assert_int_equal(rhis_mpi_index_match(ix, &q, 20, -1000, c, 1), 1);
    assert_int_equal(c[0].id, 1);
    /* replacing an entry moves it to its new keys */
    p1 = person(1, "孙桂兰", NULL, 'F', "1962-07-09", NULL, "220221100001");
    rhis_mpi_index_put(ix, &p1);
    assert_int_equal(rhis_mpi_index_count(ix), 3);
    q = person(0, NULL, "220221196207090041", 0, NULL, NULL, NULL);
    assert_int_equal(rhis_mpi_index_match(ix, &q, 20, 12, c, 8), 0);
    q = person(0, "孙桂兰", NULL, 'F', "1962-07-09", NULL, NULL);
    n = rhis_mpi_index_match(ix, &q, 20, 12, c, 8);
    assert_int_equal(c[0].id, 1);
    assert_int_equal(c[0].cmp.level[RHIS_MPI_AREA], RHIS_MPI_MISSING);
    /* removal; removing twice or an unknown id is harmless */
    rhis_mpi_index_remove(ix, 1);
    rhis_mpi_index_remove(ix, 1);
    rhis_mpi_index_remove(ix, 99);
    assert_int_equal(rhis_mpi_index_count(ix), 2);
    n = rhis_mpi_index_match(ix, &q, 20, 12, c, 8);
    for (int i = 0; i < n; i++)
        assert_true(c[i].id != 1);
    /* the freed slot is reused */
    rhis_mpi_index_put(ix, &p1);
    assert_int_equal(rhis_mpi_index_count(ix), 3);
    assert_int_equal(rhis_mpi_index_match(ix, &q, 20, 12, c, 8) >= 1, 1);
    assert_int_equal(c[0].id, 1);
    rhis_mpi_index_free(ix);
    rhis_mpi_index_free(NULL);
}

/* Many residents sharing keys: chains are walked, unlinked and re-linked
 * correctly through thousands of replacements and removals. */
static void
index_churn_keeps_chains_consistent(void **state)
{
    (void)state;
    rhis_mpi_index *ix = rhis_mpi_index_new();
    char names[4][16] = {"王伟", "王卫", "王威", "汪伟"};
    char birth[16], phone[16];
    for (int round = 0; round < 3; round++)
        for (int i = 1; i <= 3000; i++) {
            snprintf(birth, sizeof(birth), "19%02d-0%d-1%d", 50 + i % 3,
                     1 + i % 2, i % 4);
            snprintf(phone, sizeof(phone), "1380000%04d", (i + round) % 50);
            rhis_mpi_person p = person(i, names[(i + round) % 4], NULL, 'M',
                                       birth, phone, "220221100001");
            if (round == 2 && i % 3 == 0)
                rhis_mpi_index_remove(ix, i);
            else
                rhis_mpi_index_put(ix, &p);
        }
    assert_int_equal(rhis_mpi_index_count(ix), 2000);
    rhis_mpi_candidate c[64];
    rhis_mpi_person q =
        person(0, "王伟", NULL, 'M', "1951-02-11", "13800000001", NULL);
    int n = rhis_mpi_index_match(ix, &q, 100, -1000, c, 64);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        assert_true(c[i].id % 3 != 0); /* removed ones never come back */
        assert_true(c[i].id >= 1 && c[i].id <= 3000);
        if (i > 0)
            assert_true(c[i - 1].cmp.total >= c[i].cmp.total);
    }
    rhis_mpi_index_free(ix);
}

typedef struct race {
    rhis_mpi_index *ix;
    int stop;
    long matches;
} race;

static void *
reader(void *arg)
{
    race *r = arg;
    rhis_mpi_candidate c[8];
    rhis_mpi_person q =
        person(0, "王丽", NULL, 'F', "1985-03-12", "13812345678", NULL);
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        int n = rhis_mpi_index_match(r->ix, &q, 20, 12, c, 8);
        for (int i = 0; i < n; i++)
            if (c[i].id <= 0)
                abort();
        __atomic_add_fetch(&r->matches, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void
index_readers_and_a_writer(void **state)
{
    (void)state;
    race r = {.ix = rhis_mpi_index_new()};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
    for (int i = 1; i <= 20000; i++) {
        rhis_mpi_person p = person(i % 500 + 1, i % 2 ? "王丽" : "王莉", NULL,
                                   'F', "1985-03-12", "13812345678", NULL);
        if (i % 7 == 0)
            rhis_mpi_index_remove(r.ix, p.id);
        else
            rhis_mpi_index_put(r.ix, &p);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_true(r.matches > 0);
    assert_true(rhis_mpi_index_count(r.ix) <= 500);
    rhis_mpi_index_free(r.ix);
}

/* ---- EM on a synthetic population ---- */

static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static const char *const syn_surname[] = {"王", "李", "张", "刘", "陈", "杨",
                                          "赵", "黄", "周", "吴", "徐", "孙",
                                          "马", "朱", "胡", "郭", "林", "何"};
/* given-name characters and a homophone of each */
static const char *const syn_given[][2] = {
    {"丽", "莉"}, {"伟", "卫"}, {"华", "化"}, {"明", "鸣"}, {"军", "君"},
    {"静", "敬"}, {"红", "宏"}, {"平", "萍"}, {"芳", "方"}, {"英", "鹰"},
    {"杰", "洁"}, {"强", "墙"}, {"磊", "蕾"}, {"玲", "铃"}, {"涛", "滔"},
    {"娟", "捐"}, {"敏", "民"}, {"燕", "艳"}, {"辉", "晖"}, {"鹏", "朋"},
    {"霞", "侠"}, {"飞", "菲"}, {"宇", "雨"}, {"梅", "玫"}, {"兰", "蓝"},
};
#define NSUR   (sizeof(syn_surname) / sizeof(syn_surname[0]))
#define NGIVEN (sizeof(syn_given) / sizeof(syn_given[0]))

typedef struct syn {
    char name[32], birth[16], phone[16], area[16];
    int g1, g2; /* given characters; g2 < 0 for one */
    char sex;
} syn;

/* "YYYY-MM-DD" (the modulus tells the compiler the widths). */
static void
put_date(char *out, size_t cap, int y, int m, int d)
{
    snprintf(out, cap, "%04u-%02u-%02u", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)d % 100u);
}

static void
syn_name(syn *s, int sur, int homophone)
{
    snprintf(s->name, sizeof(s->name), "%s%s%s", syn_surname[sur],
             syn_given[s->g1][homophone == 1],
             s->g2 >= 0 ? syn_given[s->g2][homophone == 2] : "");
}

/* A person of one of 300 villages; one in three shares a phone with the
 * previous one (a household). */
static void
syn_person(syn *s, const syn *prev, uint64_t *r, int *sur)
{
    *sur = (int)(rnd(r) % NSUR);
    s->g1 = (int)(rnd(r) % NGIVEN);
    s->g2 = rnd(r) % 3 == 0 ? -1 : (int)(rnd(r) % NGIVEN);
    s->sex = rnd(r) % 2 ? 'M' : 'F';
    syn_name(s, *sur, 0);
    int y = 1930 + (int)(rnd(r) % 90), m = 1 + (int)(rnd(r) % 12);
    put_date(s->birth, sizeof(s->birth), y, m, 1 + (int)(rnd(r) % 28));
    if (prev != NULL && rnd(r) % 3 == 0) {
        memcpy(s->phone, prev->phone, sizeof(s->phone));
        memcpy(s->area, prev->area, sizeof(s->area));
    } else {
        snprintf(s->phone, sizeof(s->phone), "139%08d",
                 (int)(rnd(r) % 100000000));
        int town = (int)(rnd(r) % 10);
        snprintf(s->area, sizeof(s->area), "2202211%02d%03d", town,
                 (int)(rnd(r) % 30));
    }
}

/* A duplicate with the typical errors. */
static void
syn_errors(syn *d, int sur, uint64_t *r)
{
    if (rnd(r) % 4 == 0)
        syn_name(d, sur, d->g2 >= 0 && rnd(r) % 2 ? 2 : 1);
    int y, m, dd;
    sscanf(d->birth, "%d-%d-%d", &y, &m, &dd);
    if (rnd(r) % 10 == 0 && dd <= 12)
        put_date(d->birth, sizeof(d->birth), y, dd, m);
    if (rnd(r) % 5 == 0)
        snprintf(d->phone, sizeof(d->phone), "135%08d",
                 (int)(rnd(r) % 100000000));
}

static void
em_estimates_weights_of_a_synthetic_population(void **state)
{
    (void)state;
    enum { N = 20000 };
    syn *pop = rhis_xcalloc(N, sizeof(syn));
    int *sur = rhis_xcalloc(N, sizeof(int));
    uint64_t r = 42;
    rhis_mpi_index *ix = rhis_mpi_index_new();
    for (int i = 0; i < N; i++) {
        syn_person(&pop[i], i > 0 ? &pop[i - 1] : NULL, &r, &sur[i]);
        rhis_mpi_person p = person(i + 1, pop[i].name, NULL, pop[i].sex,
                                   pop[i].birth, pop[i].phone, pop[i].area);
        rhis_mpi_index_put(ix, &p);
    }
    /* one duplicate of every fifth resident */
    for (int i = 0; i < N; i += 5) {
        syn d = pop[i];
        syn_errors(&d, sur[i], &r);
        rhis_mpi_person p =
            person(N + i + 1, d.name, NULL, d.sex, d.birth, d.phone, d.area);
        rhis_mpi_index_put(ix, &p);
    }
    rhis_mpi_weights w;
    rhis_mpi_weights_default(&w);
    /* start far from the answer: EM must find it */
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
        for (int l = 0; l < rhis_mpi_nlevels((rhis_mpi_field)f); l++)
            w.m[f][l] = 1.0 / rhis_mpi_nlevels((rhis_mpi_field)f) +
                        (l == 0 ? 0.2 : -0.2 / 3);
    rhis_mpi_weights_update(&w);
    rhis_mpi_estimate rep;
    assert_int_equal(rhis_mpi_index_estimate(ix, &w, 0, &rep), RHIS_OK);
    assert_true(rep.u_pairs > 1000000);
    for (int i = 0; i < RHIS_MPI_EM_PASSES; i++) {
        assert_int_equal(rep.rc[i], RHIS_OK);
        assert_true(rep.pass[i].converged);
        assert_true(rep.pairs[i] > 1000);
    }
    /* the truth: 4000 duplicates; pass 2 sees those keeping the phone */
    assert_true(rep.pass[1].matches > 0.7 * 4000 * 0.8 &&
                rep.pass[1].matches < 1.2 * 4000);
    /* m near the error rates put in, u near the chance agreement */
    assert_true(fabs(w.m[RHIS_MPI_NAME][RHIS_MPI_NAME_EXACT] - 0.75) < 0.07);
    assert_true(fabs(w.m[RHIS_MPI_NAME][RHIS_MPI_NAME_PINYIN] - 0.25) < 0.07);
    assert_true(w.m[RHIS_MPI_BIRTH][RHIS_MPI_BIRTH_EXACT] > 0.85);
    assert_true(w.m[RHIS_MPI_BIRTH][RHIS_MPI_BIRTH_NEAR] > 0.01);
    assert_true(fabs(w.m[RHIS_MPI_PHONE][RHIS_MPI_PHONE_EXACT] - 0.8) < 0.07);
    assert_true(w.m[RHIS_MPI_AREA][RHIS_MPI_AREA_EXACT] > 0.95);
    assert_true(w.m[RHIS_MPI_SEX][RHIS_MPI_SEX_AGREE] > 0.97);
    assert_true(w.u[RHIS_MPI_BIRTH][RHIS_MPI_BIRTH_EXACT] < 0.001);
    assert_true(fabs(w.u[RHIS_MPI_SEX][RHIS_MPI_SEX_AGREE] - 0.5) < 0.01);
    assert_true(w.u[RHIS_MPI_AREA][RHIS_MPI_AREA_EXACT] < 0.01);
    assert_true(w.u[RHIS_MPI_AREA][RHIS_MPI_AREA_TOWNSHIP] > 0.05);
    /* and the estimate links the duplicates */
    rhis_mpi_index_set_weights(ix, &w);
    int found = 0, wrong = 0, total = 0;
    uint64_t r2 = 7;
    for (int i = 0; i < N; i += 5) {
        syn d = pop[i];
        syn_errors(&d, sur[i], &r2);
        rhis_mpi_person q =
            person(0, d.name, NULL, d.sex, d.birth, d.phone, d.area);
        rhis_mpi_candidate c[4];
        int n = rhis_mpi_index_match(ix, &q, RHIS_MPI_LINK_THRESHOLD,
                                     RHIS_MPI_REVIEW_THRESHOLD, c, 4);
        total++;
        for (int k = 0; k < n && k < 2; k++)
            if (c[k].grade == RHIS_MPI_PROBABLE && c[k].id != i + 1 &&
                c[k].id != N + i + 1)
                wrong++;
        if (n > 0 && (c[0].id == i + 1 || c[0].id == N + i + 1) &&
            c[0].grade == RHIS_MPI_PROBABLE)
            found++;
    }
    assert_true(found > total * 0.98);
    assert_true(wrong < total * 0.01);
    rhis_mpi_index_free(ix);
    rhis_free(pop);
    rhis_free(sur);
}

static void
em_refuses_degenerate_input(void **state)
{
    (void)state;
    rhis_mpi_em em;
    rhis_mpi_em_result res;
    rhis_mpi_weights w, before;
    rhis_mpi_weights_default(&w);
    before = w;
    rhis_mpi_em_init(&em);
    /* too few pairs */
    rhis_mpi_compare c = {.level = {3, 3, 0, 2, 1}};
    for (int i = 0; i < 50; i++)
        rhis_mpi_em_add(&em, &c);
    assert_int_equal(em.pairs, 50);
    assert_int_equal(
        rhis_mpi_em_run(&em, 1u << RHIS_MPI_NAME, &w, 100, 1e-6, &res),
        RHIS_EINVAL);
    /* enough pairs, but no duplicates among them */
    for (int i = 0; i < 5000; i++)
        rhis_mpi_em_add(&em, &c);
    assert_int_equal(
        rhis_mpi_em_run(&em, 1u << RHIS_MPI_NAME, &w, 100, 1e-6, &res),
        RHIS_EINVAL);
    assert_memory_equal(&w, &before, sizeof(w));
    /* pairs with different ID numbers are known non-matches: skipped */
    c.id_differ = 1;
    rhis_mpi_em_add(&em, &c);
    assert_int_equal(em.pairs, 5050);
    /* an index too small to sample u from */
    rhis_mpi_index *ix = rhis_mpi_index_new();
    rhis_mpi_estimate rep;
    assert_int_equal(rhis_mpi_index_estimate(ix, &w, 0, &rep), RHIS_EINVAL);
    assert_memory_equal(&w, &before, sizeof(w));
    rhis_mpi_index_free(ix);
}

/* ---- database-backed ---- */

static rhis_db *g_db;
static rhis_config g_conf;
static rhis_principal u_admin, u_cdc;
static int g_seq;

static void
principal(rhis_principal *p, int64_t uid, const char *name, unsigned role)
{
    memset(p, 0, sizeof(*p));
    p->user_id = uid;
    (void)snprintf(p->username, sizeof(p->username), "%s", name);
    p->role = role;
    (void)snprintf(p->scope_area, sizeof(p->scope_area), "%s",
                   role == RHIS_ROLE_CDC ? "220221" : "");
}

static int
group_setup(void **state)
{
    (void)state;
    char path[512], err[256];
    int64_t added = 0;
    rhis_config_defaults(&g_conf);
    if (rhis_test_open_migrated(&g_db) != 0)
        return -1;
    rhis_test_data_file("divisions.csv", path, sizeof(path));
    if (rhis_registry_load_divisions(g_db, path, &added, err, sizeof(err)) !=
        RHIS_OK) {
        print_error("divisions: %s\n", err);
        return -1;
    }
    principal(&u_admin, 9101, "steward", RHIS_ROLE_ADMIN);
    principal(&u_cdc, 9102, "cdc", RHIS_ROLE_CDC);
    rhis_mpi_global_reset(); /* the index of this database */
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    rhis_mpi_global_reset();
    rhis_db_close(g_db);
    g_db = NULL;
    return 0;
}

/* Creates a Patient through the store (its hook feeds the index). */
static int64_t
create(const char *json)
{
    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, a);
    json_object *res = NULL;
    char err[128];
    assert_int_equal(
        rhis_json_parse(json, strlen(json), 32, &res, err, sizeof(err)),
        RHIS_OK);
    int64_t id = 0, v;
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    rhis_status rc = rhis_fhir_do_create(&c, &rhis_type_patient, res, &id, &v);
    if (rc != RHIS_OK)
        print_error("create: %s\n", c.err_text);
    assert_int_equal(rc, RHIS_OK);
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    json_object_put(res);
    rhis_arena_free(a);
    return id;
}

static int64_t
scalar(const char *sql, int64_t arg)
{
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &n, sql, "i", arg));
    return n;
}

static void
db_load_skips_deleted_and_merged(void **state)
{
    (void)state;
    RHIS_CHECK_OK(
        g_db,
        rhis_db_run(g_db,
                    "INSERT INTO patient (updated_ms, name, sex, birth_date,"
                    " area_code) VALUES (1, '赵小红', 'F', '2001-04-15',"
                    " '220221102001'), (1, '赵小宏', 'F', '2001-04-15',"
                    " '220221102001')",
                    ""));
    int64_t first = rhis_test_scalar(
        g_db, "SELECT MIN(id) FROM patient WHERE name = '赵小红'");
    int64_t second = rhis_test_scalar(
        g_db, "SELECT MIN(id) FROM patient WHERE name = '赵小宏'");
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "INSERT INTO patient (updated_ms, name,"
                                    " sex, deleted) VALUES (1, '钱一', 'M', 1)",
                                    ""));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "INSERT INTO patient (updated_ms, name,"
                                    " sex, merged_into) VALUES (1, '钱二',"
                                    " 'M', ?)",
                                    "i", first));
    int64_t live =
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM patient WHERE deleted = 0"
                               " AND merged_into IS NULL");
    rhis_mpi_index *ix = rhis_mpi_index_new();
    int64_t n = 0;
    RHIS_CHECK_OK(g_db, rhis_mpi_index_load(ix, g_db, &n));
    assert_int_equal(n, live);
    assert_int_equal(rhis_mpi_index_count(ix), (size_t)live);
    rhis_mpi_candidate c[4];
    rhis_mpi_person q =
        person(0, "赵小红", NULL, 'F', "2001-04-15", NULL, "220221102001");
    int k = rhis_mpi_index_match(ix, &q, 20, 12, c, 4);
    assert_int_equal(k, 2);
    assert_int_equal(c[0].id, first);
    assert_int_equal(c[1].id, second);
    q = person(0, "钱二", NULL, 'M', NULL, NULL, NULL);
    assert_int_equal(rhis_mpi_index_match(ix, &q, 20, -100, c, 4), 0);
    rhis_mpi_index_free(ix);
    /* the refresh hook follows the table */
    rhis_mpi_index *g;
    RHIS_CHECK_OK(g_db, rhis_mpi_global(g_db, &g));
    size_t before = rhis_mpi_index_count(g);
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE patient SET deleted = 1"
                                    " WHERE id = ?",
                                    "i", second));
    RHIS_CHECK_OK(g_db, rhis_mpi_refresh(g_db, second));
    assert_int_equal(rhis_mpi_index_count(g), before - 1);
    RHIS_CHECK_OK(g_db, rhis_mpi_refresh(g_db, 99999999));
    assert_int_equal(rhis_mpi_index_count(g), before - 1);
}

static void
db_weights_round_trip(void **state)
{
    (void)state;
    rhis_mpi_weights w, back, def;
    rhis_mpi_weights_default(&def);
    RHIS_CHECK_OK(g_db, rhis_mpi_weights_load(g_db, &w));
    assert_memory_equal(&w, &def, sizeof(w)); /* empty table: defaults */
    w.m[RHIS_MPI_NAME][0] = 0.7;
    w.u[RHIS_MPI_PHONE][0] = 0.00002;
    w.estimated_ms = 1780000000000;
    rhis_mpi_weights_update(&w);
    RHIS_CHECK_OK(g_db, rhis_mpi_weights_save(g_db, &w));
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM mpi_weight"),
                     15);
    RHIS_CHECK_OK(g_db, rhis_mpi_weights_load(g_db, &back));
    assert_int_equal(back.estimated_ms, w.estimated_ms);
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++)
        for (int l = 0; l < RHIS_MPI_MAXLEVELS; l++) {
            assert_true(fabs(back.m[f][l] - w.m[f][l]) < 1e-12);
            assert_true(fabs(back.w[f][l] - w.w[f][l]) < 1e-9);
        }
    /* a row missing keeps the default; unknown rows are ignored */
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "DELETE FROM mpi_weight WHERE field ="
                                    " 'name' AND level = 'exact'",
                                    ""));
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "INSERT INTO mpi_weight VALUES ('shoe',"
                                    " 'size', 0.5, 0.5, 1)",
                                    ""));
    RHIS_CHECK_OK(g_db, rhis_mpi_weights_load(g_db, &back));
    assert_true(back.m[RHIS_MPI_NAME][0] == def.m[RHIS_MPI_NAME][0]);
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db, "DELETE FROM mpi_weight", ""));
}

#define P_SUN                                                                  \
    "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"               \
    "\"urn:oid:2.16.156.10011.1.3\",\"value\":\"220221195508170112\"}],"       \
    "\"name\":[{\"text\":\"周建国\"}],\"gender\":\"male\",\"birthDate\":"   \
    "\"1955-08-17\",\"telecom\":[{\"system\":\"phone\",\"value\":"             \
    "\"13704320011\"}],\"address\":[{\"extension\":[{\"url\":\"" EXT_DIV       \
    "\",\"valueCode\":\"220221104200\"}]}]}"
#define P_DUP                                                                  \
    "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"周建囯\"}],"       \
    "\"gender\":\"male\",\"birthDate\":\"1955-08-17\",\"address\":[{"          \
    "\"extension\":[{\"url\":\"" EXT_DIV "\",\"valueCode\":"                   \
    "\"220221104200\"}]}]}"

static void
db_store_hook_queues_review(void **state)
{
    (void)state;
    int64_t a = create(P_SUN);
    int64_t b = create(P_DUP);
    assert_true(a < b);
    const char *q = "SELECT COUNT(*) FROM mpi_review WHERE patient_a = ? AND"
                    " patient_b = ?";
    int64_t n = -1;
    RHIS_CHECK_OK(g_db, rhis_db_scalar_int64(g_db, &n, q, "ii", a, b));
    assert_int_equal(n, 1);
    rhis_stmt *st;
    RHIS_CHECK_OK(g_db,
                  rhis_db_query(g_db, &st,
                                "SELECT status, score, detail FROM mpi_review"
                                " WHERE patient_a = ? AND patient_b = ?",
                                "ii", a, b));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    assert_string_equal(rhis_db_column_text(st, 0), "open");
    assert_true(rhis_db_column_double(st, 1) >= RHIS_MPI_REVIEW_THRESHOLD);
    json_object *d = NULL;
    char err[64];
    const char *dt = rhis_db_column_text(st, 2);
    assert_int_equal(rhis_json_parse(dt, strlen(dt), 8, &d, err, sizeof(err)),
                     RHIS_OK);
    /* 国 and 囯 are both guo */
    assert_string_equal(rhis_json_get_str(rhis_json_get(d, "name"), "level"),
                        "pinyin");
    assert_string_equal(rhis_json_get_str(d, "idNumber"), "missing");
    json_object_put(d);
    rhis_db_finalize(st);
    /* a decided pair stays decided when either is updated */
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE mpi_review SET status = 'separate'"
                                    " WHERE patient_a = ? AND patient_b = ?",
                                    "ii", a, b));
    rhis_arena *ar = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, g_db, ar);
    json_object *res = NULL;
    assert_int_equal(
        rhis_json_parse(P_DUP, strlen(P_DUP), 32, &res, err, sizeof(err)),
        RHIS_OK);
    json_object_object_add(
        res, "id",
        json_object_new_string(rhis_arena_printf(ar, "%lld", (long long)b)));
    RHIS_CHECK_OK(g_db, rhis_db_begin(g_db));
    RHIS_CHECK_OK(
        g_db, rhis_fhir_do_update(&c, &rhis_type_patient, b, res, -1, NULL));
    RHIS_CHECK_OK(g_db, rhis_db_commit(g_db));
    json_object_put(res);
    rhis_arena_free(ar);
    assert_int_equal(scalar("SELECT COUNT(*) FROM mpi_review WHERE patient_b"
                            " = ? AND status = 'separate'",
                            b),
                     1);
    RHIS_CHECK_OK(g_db, rhis_db_run(g_db,
                                    "UPDATE mpi_review SET status = 'open'"
                                    " WHERE patient_a = ? AND patient_b = ?",
                                    "ii", a, b));
}

/* ---- handlers in process ---- */

typedef struct call {
    rhis_arena *a;
    rhis_req req;
    rhis_resp resp;
    json_object *out;
} call;

static int
call_run(call *k,
         const rhis_principal *u,
         rhis_handler fn,
         const char *query,
         const char *id,
         const char *body)
{
    memset(k, 0, sizeof(*k));
    k->a = rhis_arena_new();
    rhis_req *r = &k->req;
    r->arena = k->a;
    r->method = body != NULL ? "POST" : "GET";
    r->path = "/api/v1/mpi";
    r->raw_query = query != NULL ? query : "";
    assert_int_equal(
        rhis_query_parse(k->a, r->raw_query, strlen(r->raw_query), &r->query),
        RHIS_OK);
    (void)snprintf(r->request_id, sizeof(r->request_id), "t-mpi-%d", ++g_seq);
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
    rhis_buf_init(&k->resp.body, 16u << 20);
    rhis_status rc = fn(r, &k->resp);
    if (rc != RHIS_OK)
        rhis_resp_error(&k->resp, rc, r->err_text, r->err_expr, r->request_id);
    rhis_db_rollback(g_db); /* a handler must never leave one open */
    char err[160];
    rc = rhis_json_parse(k->resp.body.data, k->resp.body.len, 64, &k->out, err,
                         sizeof(err));
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

/* A version's JSON from fhir_version. */
static json_object *
version_json(int64_t id, int64_t v)
{
    rhis_stmt *st;
    json_object *o = NULL;
    char err[64];
    RHIS_CHECK_OK(g_db, rhis_db_query(g_db, &st,
                                      "SELECT json FROM fhir_version WHERE"
                                      " type = 'Patient' AND id = ? AND"
                                      " version = ?",
                                      "ii", id, v));
    assert_int_equal(rhis_db_step(st), RHIS_ROW);
    const char *j = rhis_db_column_text(st, 0);
    assert_int_equal(rhis_json_parse(j, strlen(j), 32, &o, err, sizeof(err)),
                     RHIS_OK);
    rhis_db_finalize(st);
    return o;
}

static const char *
link_type(json_object *res, int i)
{
    json_object *l = rhis_json_get(res, "link");
    return l != NULL ? rhis_json_get_str(
                           json_object_array_get_idx(l, (size_t)i), "type")
                     : NULL;
}

static void
db_merge_unmerge_round_trip(void **state)
{
    (void)state;
    int64_t a = scalar("SELECT id FROM patient WHERE id_number ="
                       " '220221195508170112' AND 0 = ?",
                       0);
    int64_t b =
        scalar("SELECT id FROM patient WHERE name = '周建囯' AND 0 = ?", 0);
    int64_t rid = scalar("SELECT id FROM mpi_review WHERE patient_b = ?", b);
    int64_t va = scalar("SELECT version FROM patient WHERE id = ?", a);
    int64_t vb = scalar("SELECT version FROM patient WHERE id = ?", b);
    char ids[32], body[256];
    call k;

    /* the queue, as cdc: masked */
    assert_int_equal(call_run(&k, &u_cdc, api_mpi_review_list,
                              "status=open&_count=100", NULL, NULL),
                     200);
    json_object *items = rhis_json_get(k.out, "items");
    json_object *it = NULL;
    for (size_t i = 0; i < json_object_array_length(items); i++)
        if (json_object_get_int64(rhis_json_get(
                json_object_array_get_idx(items, i), "id")) == rid)
            it = json_object_array_get_idx(items, i);
    assert_non_null(it);
    json_object *ida = json_object_array_get_idx(
        rhis_json_get(rhis_json_get(it, "a"), "identifier"), 0);
    assert_string_equal(rhis_json_get_str(ida, "value"), "220221********0112");
    call_done(&k);
    /* showing the pair was a disclosure of both */
    assert_int_equal(scalar("SELECT COUNT(*) FROM audit_event WHERE"
                            " operation = 'mpi-review' AND patient_id = ?",
                            a),
                     1);
    int64_t audits = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event");

    /* merge b into a from the review */
    snprintf(ids, sizeof(ids), "%lld", (long long)rid);
    snprintf(body, sizeof(body),
             "{\"survivor\": %lld, \"reason\": \"囯 is 国\"}", (long long)a);
    assert_int_equal(
        call_run(&k, &u_admin, api_mpi_review_merge, NULL, ids, body), 200);
    int64_t mid = json_object_get_int64(rhis_json_get(k.out, "merge"));
    call_done(&k);
    assert_int_equal(scalar("SELECT merged_into FROM patient WHERE id = ?", b),
                     a);
    assert_int_equal(scalar("SELECT active FROM patient WHERE id = ?", b), 0);
    assert_int_equal(scalar("SELECT version FROM patient WHERE id = ?", b),
                     vb + 1);
    assert_int_equal(scalar("SELECT version FROM patient WHERE id = ?", a),
                     va + 1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM mpi_merge WHERE id = ? AND"
                            " undone_ms IS NULL",
                            mid),
                     1);
    assert_int_equal(
        scalar("SELECT COUNT(*) FROM mpi_review WHERE id = ? AND status ="
               " 'merged' AND decided_by = 9101",
               rid),
        1);
    /* the merge was audited in its transaction: both residents */
    assert_int_equal(rhis_test_scalar(g_db, "SELECT COUNT(*) FROM audit_event"),
                     audits + 2);
    assert_int_equal(scalar("SELECT COUNT(*) FROM audit_event WHERE"
                            " operation = 'mpi-merge' AND patient_id = ?",
                            b),
                     1);
    json_object *v2 = version_json(b, vb + 1);
    assert_string_equal(link_type(v2, 0), "replaced-by");
    assert_false(json_object_get_boolean(rhis_json_get(v2, "active")));
    json_object_put(v2);
    v2 = version_json(a, va + 1);
    assert_string_equal(link_type(v2, 0), "replaces");
    json_object_put(v2);
    /* the index followed: b is gone, a is found for b's demographics */
    rhis_mpi_index *ix;
    RHIS_CHECK_OK(g_db, rhis_mpi_global(g_db, &ix));
    rhis_mpi_candidate c[4];
    rhis_mpi_person q =
        person(0, "周建囯", NULL, 'M', "1955-08-17", NULL, "220221104200");
    int n = rhis_mpi_index_match(ix, &q, 20, 12, c, 4);
    assert_true(n >= 1);
    assert_int_equal(c[0].id, a);
    for (int i = 0; i < n; i++)
        assert_true(c[i].id != b);

    /* undo */
    snprintf(ids, sizeof(ids), "%lld", (long long)mid);
    assert_int_equal(call_run(&k, &u_admin, api_mpi_merge_undo, NULL, ids,
                              "{\"reason\": \"two men\"}"),
                     200);
    call_done(&k);
    assert_int_equal(
        scalar("SELECT COUNT(*) FROM patient WHERE id = ? AND merged_into IS"
               " NULL AND active = 1",
               b),
        1);
    assert_int_equal(scalar("SELECT version FROM patient WHERE id = ?", b),
                     vb + 2);
    assert_int_equal(scalar("SELECT version FROM patient WHERE id = ?", a),
                     va + 2);
    /* every version kept: the full story is in _history */
    assert_int_equal(scalar("SELECT COUNT(*) FROM fhir_version WHERE type ="
                            " 'Patient' AND id = ?",
                            b),
                     vb + 2);
    json_object *v3 = version_json(b, vb + 2);
    assert_null(rhis_json_get(v3, "link"));
    assert_true(json_object_get_boolean(rhis_json_get(v3, "active")));
    json_object_put(v3);
    v3 = version_json(a, va + 2);
    assert_null(rhis_json_get(v3, "link"));
    json_object_put(v3);
    assert_int_equal(scalar("SELECT COUNT(*) FROM mpi_merge WHERE id = ? AND"
                            " undone_ms IS NOT NULL AND undone_by = 9101",
                            mid),
                     1);
    assert_int_equal(scalar("SELECT COUNT(*) FROM mpi_review WHERE id = ? AND"
                            " status = 'open'",
                            rid),
                     1);
    n = rhis_mpi_index_match(ix, &q, 20, 12, c, 4);
    int seen_b = 0;
    for (int i = 0; i < n; i++)
        seen_b |= c[i].id == b;
    assert_true(seen_b);
    /* twice is refused, and changes nothing */
    int64_t vers = rhis_test_scalar(g_db, "SELECT COUNT(*) FROM fhir_version");
    assert_int_equal(call_run(&k, &u_admin, api_mpi_merge_undo, NULL, ids,
                              "{\"reason\": \"again\"}"),
                     409);
    call_done(&k);
    assert_int_equal(
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM fhir_version"), vers);
    /* a failed merge leaves nothing behind: the survivor is unknown */
    snprintf(body, sizeof(body),
             "{\"survivor\": 99999999, \"merged\": %lld, \"reason\": \"x\"}",
             (long long)b);
    assert_int_equal(call_run(&k, &u_admin, api_mpi_merge, NULL, NULL, body),
                     404);
    call_done(&k);
    assert_int_equal(
        rhis_test_scalar(g_db, "SELECT COUNT(*) FROM fhir_version"), vers);
    /* the history */
    snprintf(body, sizeof(body), "patient=%lld", (long long)b);
    assert_int_equal(call_run(&k, &u_cdc, api_mpi_merge_list, body, NULL, NULL),
                     200);
    assert_int_equal(json_object_get_int64(rhis_json_get(k.out, "total")), 1);
    it = json_object_array_get_idx(rhis_json_get(k.out, "items"), 0);
    assert_string_equal(rhis_json_get_str(it, "undoReason"), "two men");
    assert_string_equal(rhis_json_get_str(it, "reason"), "囯 is 国");
    call_done(&k);
}

static void
db_match_handler(void **state)
{
    (void)state;
    int64_t a = scalar("SELECT id FROM patient WHERE id_number ="
                       " '220221195508170112' AND 0 = ?",
                       0);
    call k;
    const char *body =
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":"
        "\"resource\",\"resource\":{\"resourceType\":\"Patient\","
        "\"identifier\":[{\"system\":\"urn:oid:2.16.156.10011.1.3\","
        "\"value\":\"220221195508170112\"}]}}]}";
    assert_int_equal(call_run(&k, &u_cdc, api_patient_match, NULL, NULL, body),
                     200);
    json_object *e =
        json_object_array_get_idx(rhis_json_get(k.out, "entry"), 0);
    assert_non_null(e);
    assert_string_equal(rhis_json_get_str(rhis_json_get(e, "resource"), "id"),
                        rhis_arena_printf(k.a, "%lld", (long long)a));
    json_object *s = rhis_json_get(e, "search");
    assert_string_equal(rhis_json_get_str(s, "mode"), "match");
    assert_string_equal(rhis_json_get_str(json_object_array_get_idx(
                                              rhis_json_get(s, "extension"), 0),
                                          "valueCode"),
                        "certain");
    call_done(&k);
}

int
main(void)
{
    static const struct CMUnitTest pure[] = {
        cmocka_unit_test(name_levels),
        cmocka_unit_test(birth_levels),
        cmocka_unit_test(sex_area_phone_levels),
        cmocka_unit_test(names_of_fields_and_levels),
        cmocka_unit_test(weights_are_log2_of_m_over_u),
        cmocka_unit_test(compare_grades_and_scores),
        cmocka_unit_test(detail_json_names_every_field),
        cmocka_unit_test(index_put_match_replace_remove),
        cmocka_unit_test(index_churn_keeps_chains_consistent),
        cmocka_unit_test(index_readers_and_a_writer),
        cmocka_unit_test(em_estimates_weights_of_a_synthetic_population),
        cmocka_unit_test(em_refuses_degenerate_input),
    };
    static const struct CMUnitTest db[] = {
        cmocka_unit_test(db_load_skips_deleted_and_merged),
        cmocka_unit_test(db_weights_round_trip),
        cmocka_unit_test(db_store_hook_queues_review),
        cmocka_unit_test(db_merge_unmerge_round_trip),
        cmocka_unit_test(db_match_handler),
    };
    int failed = cmocka_run_group_tests_name("mpi", pure, NULL, NULL);
    failed +=
        rhis_test_run_engines("mpi database", db, sizeof(db) / sizeof(db[0]),
                              group_setup, group_teardown);
    return failed != 0;
}
