/*
 * areas.c - the division tree, population denominators and vocabularies.
 *
 * Why: division codes carry their ancestry in their prefix (2 province,
 * 4 city, 6 county, 9 township, 12 village), so the tree needs no closure
 * table and a subtree roll-up is "code LIKE prefix || '%'".  Codes change
 * between editions; the edition is stored with every row and never
 * rewritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/csv.h"
#include "rhis/registry.h"

static const int level_len[] = {0, 2, 4, 6, 9, 12};

int
rhis_area_code_level(const char *code)
{
    size_t n = strlen(code);
    for (const char *p = code; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            return 0;
    for (int l = 1; l <= 5; l++)
        if ((size_t)level_len[l] == n)
            return l;
    return 0;
}

void
rhis_area_parent_code(const char *code, char *out, size_t len)
{
    int l = rhis_area_code_level(code);
    int plen = l > 1 ? level_len[l - 1] : 0;
    snprintf(out, len, "%.*s", plen, code);
}

static const struct {
    const char *value, *zh, *en;
} tiers[] = {
    {"village_clinic", "村卫生室", "Village clinic"},
    {"township_hc", "乡镇卫生院", "Township health centre"},
    {"community_hc", "社区卫生服务中心", "Community health centre"},
    {"community_station", "社区卫生服务站", "Community health station"},
    {"county_hospital", "县级医院", "County hospital"},
    {"city_hospital", "市级医院", "City hospital"},
    {"province_hospital", "省级医院", "Provincial hospital"},
    {"tcm_hospital", "中医院", "TCM hospital"},
    {"mch", "妇幼保健院", "Maternal & child health"},
    {"cdc", "疾病预防控制中心", "CDC"},
    {"ems_station", "急救站", "EMS station"},
    {"other", "其他", "Other"},
};

static const struct {
    const char *value, *zh;
} grades[] = {
    {"3A", "三级甲等"}, {"3B", "三级乙等"}, {"3C", "三级丙等"},
    {"2A", "二级甲等"}, {"2B", "二级乙等"}, {"2C", "二级丙等"},
    {"1A", "一级甲等"}, {"1B", "一级乙等"}, {"1C", "一级丙等"},
    {"3", "三级"},      {"2", "二级"},      {"1", "一级"},
};

static const struct {
    const char *value, *zh;
} proles[] = {
    {"physician", "执业医师"},
    {"assistant_physician", "执业助理医师"},
    {"nurse", "注册护士"},
    {"gp", "全科医生"},
    {"pharmacist", "药师"},
    {"technician", "技师"},
    {"public_health", "公共卫生人员"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *
rhis_tier_label(const char *tier)
{
    for (size_t i = 0; tier != NULL && i < N(tiers); i++)
        if (strcmp(tiers[i].value, tier) == 0)
            return tiers[i].zh;
    return NULL;
}

const char *
rhis_tier_label_en(const char *tier)
{
    for (size_t i = 0; tier != NULL && i < N(tiers); i++)
        if (strcmp(tiers[i].value, tier) == 0)
            return tiers[i].en;
    return NULL;
}

const char *
rhis_tier_at(size_t i)
{
    return i < N(tiers) ? tiers[i].value : NULL;
}

const char *
rhis_grade_label(const char *grade)
{
    for (size_t i = 0; grade != NULL && i < N(grades); i++)
        if (strcmp(grades[i].value, grade) == 0)
            return grades[i].zh;
    return NULL;
}

const char *
rhis_practitioner_role_label(const char *role)
{
    for (size_t i = 0; role != NULL && i < N(proles); i++)
        if (strcmp(proles[i].value, role) == 0)
            return proles[i].zh;
    return NULL;
}

const char *
rhis_practitioner_role_at(size_t i)
{
    return i < N(proles) ? proles[i].value : NULL;
}

rhis_status
rhis_registry_load_divisions(
    rhis_db *db, const char *path, int64_t *added, char *err, size_t errlen)
{
    rhis_csv csv;
    *added = 0;
    rhis_status rc = rhis_csv_open(&csv, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *ins = NULL;
    rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(db,
                             "INSERT INTO area (code, name, level,"
                             " parent_code, edition) VALUES (?, ?, ?, ?, ?)"
                             " ON CONFLICT (code) DO NOTHING",
                             &ins);
    int nf;
    char **f;
    while (rc == RHIS_OK && (nf = rhis_csv_next(&csv, &f)) > 0) {
        if (csv.line == 1 && strcmp(f[0], "code") == 0)
            continue;
        int level = rhis_area_code_level(f[0]);
        char parent[16];
        rhis_area_parent_code(f[0], parent, sizeof(parent));
        if (nf < 4 || level == 0 || rhis_parse_int(f[2]) != level ||
            strcmp(f[3], parent) != 0 || f[1][0] == '\0') {
            snprintf(err, errlen,
                     "%s:%ld: expected code,name,level,parent_code with a "
                     "consistent 2/4/6/9/12-digit code",
                     path, csv.line);
            rc = RHIS_EINVAL;
            break;
        }
        rhis_db_reset(ins);
        rhis_db_bind_text(ins, 1, f[0]);
        rhis_db_bind_text(ins, 2, f[1]);
        rhis_db_bind_int64(ins, 3, level);
        rhis_db_bind_text(ins, 4, level == 1 ? NULL : parent);
        rhis_db_bind_text(ins, 5, RHIS_DIVISION_EDITION);
        rc = rhis_db_step(ins);
        if (rc == RHIS_DONE) {
            *added += rhis_db_changes(db);
            rc = RHIS_OK;
        } else {
            snprintf(err, errlen, "%s:%ld: %s", path, csv.line,
                     rhis_db_errmsg(db));
        }
    }
    if (rc == RHIS_OK && nf < 0) {
        snprintf(err, errlen, "%s:%ld: malformed CSV", path, csv.line);
        rc = RHIS_EINVAL;
    }
    rhis_db_finalize(ins);
    if (rc == RHIS_OK)
        rc = rhis_db_run(db,
                         "INSERT INTO meta (key, value) VALUES"
                         " ('division_edition', ?) ON CONFLICT (key) DO"
                         " UPDATE SET value = excluded.value",
                         "s", RHIS_DIVISION_EDITION);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    rhis_csv_close(&csv);
    return rc;
}

rhis_status
rhis_registry_import_population(
    rhis_db *db, const char *path, int64_t *rows, char *err, size_t errlen)
{
    rhis_csv csv;
    *rows = 0;
    rhis_status rc = rhis_csv_open(&csv, path, err, errlen);
    if (rc != RHIS_OK)
        return rc;
    rhis_stmt *ins = NULL, *chk = NULL;
    rc = rhis_db_begin(db);
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(
            db,
            "INSERT INTO population (area_code, year, sex, age_band,"
            " population, source) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (area_code, year, sex, age_band) DO UPDATE SET"
            " population = excluded.population, source = excluded.source",
            &ins);
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(db, "SELECT 1 FROM area WHERE code = ?", &chk);
    int nf;
    char **f;
    while (rc == RHIS_OK && (nf = rhis_csv_next(&csv, &f)) > 0) {
        if (csv.line == 1 && strcmp(f[0], "area_code") == 0)
            continue;
        const char *fault = NULL;
        int year = nf >= 5 ? rhis_parse_int(f[1]) : -1;
        int band = nf >= 5 ? rhis_parse_int(f[3]) : -1;
        long long pop = nf >= 5 ? rhis_parse_int64(f[4]) : -1;
        if (nf < 5)
            fault = "expected area_code,year,sex,age_band,population";
        else if (year < 1950 || year > 2100)
            fault = "year must be 1950..2100";
        else if (strcmp(f[2], "M") != 0 && strcmp(f[2], "F") != 0)
            fault = "sex must be M or F";
        else if (band < 0 || band > 85 || band % 5 != 0)
            fault = "age_band must be 0,5,...,85 (lower bound of the band)";
        else if (pop < 0)
            fault = "population must be a non-negative integer";
        if (fault == NULL) {
            rhis_db_reset(chk);
            rhis_db_bind_text(chk, 1, f[0]);
            if (rhis_db_step(chk) != RHIS_ROW)
                fault = "unknown area code";
        }
        if (fault != NULL) {
            snprintf(err, errlen, "%s:%ld: %s", path, csv.line, fault);
            rc = RHIS_EINVAL;
            break;
        }
        rhis_db_reset(ins);
        rhis_db_bind_text(ins, 1, f[0]);
        rhis_db_bind_int64(ins, 2, year);
        rhis_db_bind_text(ins, 3, f[2]);
        rhis_db_bind_int64(ins, 4, band);
        rhis_db_bind_int64(ins, 5, pop);
        rhis_db_bind_text(ins, 6, nf >= 6 && f[5][0] != '\0' ? f[5] : NULL);
        rc = rhis_db_step(ins);
        if (rc == RHIS_DONE) {
            (*rows)++;
            rc = RHIS_OK;
        } else {
            snprintf(err, errlen, "%s:%ld: %s", path, csv.line,
                     rhis_db_errmsg(db));
        }
    }
    if (rc == RHIS_OK && nf < 0) {
        snprintf(err, errlen, "%s:%ld: malformed CSV", path, csv.line);
        rc = RHIS_EINVAL;
    }
    rhis_db_finalize(ins);
    rhis_db_finalize(chk);
    if (rc == RHIS_OK)
        rc = rhis_db_commit(db);
    if (rc != RHIS_OK)
        rhis_db_rollback(db);
    rhis_csv_close(&csv);
    return rc;
}
