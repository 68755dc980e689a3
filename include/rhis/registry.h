/*
 * registry.h - areas (GB/T 2260 + statistical division codes), population
 * denominators, institutions and practitioners.
 *
 * Why: every indicator is "per area and period"; the area tree and its
 * denominators are the spine of the platform.  A code's prefix is its
 * ancestry, so a roll-up over a subtree is a range scan on the code.
 */
#ifndef RHIS_REGISTRY_H
#define RHIS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rhis/db.h"
#include "rhis/status.h"

/* The edition of the division codes shipped in data/divisions.csv. */
#define RHIS_DIVISION_EDITION "2023"

/* Code length of each level: 1 province .. 5 village/community. */
int rhis_area_code_level(const char *code);
/* The parent code of a valid code ("" for a province). */
void rhis_area_parent_code(const char *code, char *out, size_t len);

/*
 * Loads data/divisions.csv ("code,name,level,parent_code") into the area
 * table in one transaction, skipping codes already present.  *added counts
 * new rows.  Errors name the line.
 */
rhis_status rhis_registry_load_divisions(
    rhis_db *db, const char *path, int64_t *added, char *err, size_t errlen);

/*
 * Imports population denominators from CSV
 * "area_code,year,sex,age_band,population[,source]" (sex M/F, age_band the
 * lower bound of a 5-year band 0..85).  All or nothing: one bad line
 * rejects the file with its line number.  Existing rows for the same key
 * are replaced.
 */
rhis_status rhis_registry_import_population(
    rhis_db *db, const char *path, int64_t *rows, char *err, size_t errlen);

/*
 * Imports institutions from CSV "code,name,tier,grade,ownership,area_code,
 * beds_approved,beds_open,lat,lon" (UTF-8); validated like the API; all or
 * nothing; rows whose code exists are skipped (idempotent).
 */
rhis_status rhis_registry_import_institutions(
    rhis_db *db, const char *path, int64_t *added, char *err, size_t errlen);

/* Tier and grade vocabularies: value -> Chinese label, NULL if unknown. */
const char *rhis_tier_label(const char *tier);
const char *rhis_tier_label_en(const char *tier);
const char *rhis_grade_label(const char *grade);
/* Practitioner roles: physician, assistant_physician, nurse, gp,
 * pharmacist, technician, public_health. */
const char *rhis_practitioner_role_label(const char *role);

/* Iterates the tier vocabulary: returns the i-th value or NULL past end. */
const char *rhis_tier_at(size_t i);
const char *rhis_practitioner_role_at(size_t i);

#endif
