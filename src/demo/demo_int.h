/*
 * demo_int.h - what the demo generator's files share beyond demo.h: the
 * reference tables (names, age structure, rates) and the helpers built on
 * them.  src/demo/ only.
 */
#ifndef RHIS_DEMO_INT_H
#define RHIS_DEMO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "demo.h"

#define DEMO_NBANDS 18 /* 5-year age bands 0..85+ */

/* A weighted choice list: items[i] with cumulative weight cum[i]. */
typedef struct demo_choice {
    char **items;
    double *cum;
    int n, cap;
} demo_choice;

/* Given-name tables of one (sex, era). */
typedef struct demo_given {
    char sex;
    int era; /* first birth year the table applies to */
    demo_choice full, c1, c2, single;
} demo_given;

#define DEMO_MAX_GIVEN 16

/* One row of demo-areas.csv. */
typedef struct demo_area_pop {
    char code[7];
    double population;
    char basis[16];
} demo_area_pop;

/* One row of demo-rates.csv. */
typedef struct demo_rate_row {
    char area[7];
    char indicator[24];
    double value;
} demo_rate_row;

struct demo_data {
    char dir[512]; /* the data directory */
    double band_share[DEMO_NBANDS];
    double band_male[DEMO_NBANDS];
    demo_choice surname_han, surname_korean;
    demo_given given[DEMO_MAX_GIVEN];
    int ngiven;
    demo_area_pop *areas;
    int nareas;
    demo_rate_row *rates;
    int nrates;
    /* wall seconds per stage (registry, people, care, surveillance, the
     * denominators and the commit) */
    double stage_sec[6];
    /* time in the store per resource type */
    struct {
        const char *type;
        int64_t n;
        double sec;
    } per_type[16];
    /* progress bar */
    char label[64];
    int64_t work_total, work_done; /* counties of the run / done */
    double stage_frac;             /* of the current county, 0..1 */
    int64_t events_at_start;
    double t_start, t_drawn;
    int bar_shown;
};

/* Monotonic seconds. */
double demo_now(void);

/* Adds an item to a choice list (copied). */
void demo_choice_add(demo_choice *ch, const char *item, double weight);
const char *demo_choice_draw(const demo_choice *ch, demo_rng *r);
void demo_choice_fini(demo_choice *ch);

/*
 * Draws a realistic name for someone of sex 'M'/'F' born in birth_year with
 * ethnicity (GB/T 3304 number) into family and given (UTF-8).
 */
void demo_name(const demo_ctx *c,
               demo_rng *r,
               char sex,
               int birth_year,
               int ethnicity,
               char *family,
               size_t flen,
               char *given,
               size_t glen);

/* The rates of area code (longest prefix of demo-rates.csv). */
void demo_rates_of(const demo_ctx *c, const char *code, demo_rates *out);

/* Hash of a string for stream keys (FNV-1a 64). */
uint64_t demo_hash_str(const char *s);

/* Numeric value of a county code (for stream keys). */
uint64_t demo_code_key(const char *code);

/* ---- the county's geography (demo.c) ---- */

/* Builds c->county for code from the area table (townships, villages,
 * village target populations after --scale).  Frees with demo_county_free. */
rhis_status
demo_county_build(demo_ctx *c, const char *code, char *err, size_t errlen);
void demo_county_free(demo_county *k);

/* Approximate coordinates of a township (seat table, else around the
 * county's seat), deterministic. */
void
demo_township_coords(const demo_ctx *c, int township, double *lat, double *lon);

/* Seat coordinates of a city or county from data/demo-seats.csv; 0 when
 * the table has no row for code. */
int
demo_county_seat(const demo_ctx *c, const char *code, double *lat, double *lon);

/* People writes the population denominators (people.c). */
rhis_status demo_population_rows(demo_ctx *c);

#endif
