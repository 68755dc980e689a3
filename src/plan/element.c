/*
 * element.c - the element rules: from the records of one patient (or one
 * institution) to facts (element, leaf area, institution, day, value).
 *
 * Why: these functions are pure (no database), so the live hooks and the
 * rebuild, which read the same records in different ways, produce the same
 * facts.  Each kind's rule - what record, what condition, which day, which
 * area - is written once here and documented in data/README.md.
 *
 * Area: "resident" elements count in the patient's current village (the
 * typed row's area_code), "institution" elements in the institution's
 * area.  Facts follow the current residence: a move re-files the patient's
 * facts (the hook recomputes every scope of a patient on a Patient write).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "rhis/alloc.h"

void *
plan_vec_push(void *vec, size_t elsize)
{
    struct {
        char *v;
        size_t n, cap;
    } *x = vec;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 16;
        x->v = rhis_xrealloc(x->v, x->cap * elsize);
    }
    char *p = x->v + x->n * elsize;
    x->n++;
    memset(p, 0, elsize);
    return p;
}

void
plan_vec_free(void *vec)
{
    struct {
        void *v;
        size_t n, cap;
    } *x = vec;
    rhis_free(x->v);
    x->v = NULL;
    x->n = x->cap = 0;
}

static void
add(fvec *out,
    int elem,
    int band,
    const char *area,
    int64_t inst,
    int32_t day,
    int64_t value)
{
    if (area == NULL || area[0] == '\0' || value == 0)
        return;
    if (day != 0 && (day < rhis_day_of(PLAN_FIRST_YEAR, 1, 1) ||
                     day > rhis_day_of(PLAN_HORIZON_YEAR, 12, 31)))
        return;
    fact *f = plan_vec_push(out, sizeof(fact));
    f->elem = (int16_t)elem;
    f->band = (int16_t)band;
    snprintf(f->area, sizeof(f->area), "%s", area);
    f->inst = inst;
    f->day = day;
    f->value = value;
}

void
plan_fact_code(const rhis_ind_defs *d, const fact *f, char *out, size_t len)
{
    const char *c = d->elems[f->elem].info.code;
    if (f->band >= 0)
        snprintf(out, len, "%s.%d", c, plan_band_lo(f->band));
    else
        snprintf(out, len, "%s", c);
}

static int
alive_on(const prow *p, int32_t day)
{
    if (!p->has_birth || p->birth > day || p->undated_dead)
        return 0;
    return !p->dead || p->death > day;
}

/* 1 July of year y. */
static int32_t
mid_year(int y)
{
    return rhis_day_of(y, 7, 1);
}

static int
year_of(int32_t day)
{
    int y, m, d;
    rhis_day_date(day, &y, &m, &d);
    return y;
}

/* Encounter order: start, then id. */
static int
enc_cmp(const void *a, const void *b)
{
    const erow *x = *(const erow *const *)a, *y = *(const erow *const *)b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void
enc_facts(const rhis_ind_defs *d,
          const element *e,
          int ei,
          const prow *p,
          const evec *enc,
          fvec *out)
{
    switch (e->kind) {
    case EK_ENC:
        for (size_t i = 0; i < enc->n; i++) {
            const erow *r = &enc->v[i];
            if (strcmp(r->type, e->code) == 0 && r->start_ms != 0)
                add(out, ei, -1, e->by_inst ? r->inst_area : p->area, r->inst,
                    rhis_day_of_ms(r->start_ms), 1);
        }
        break;
    case EK_DISCHARGES:
    case EK_STAY_DAYS:
        for (size_t i = 0; i < enc->n; i++) {
            const erow *r = &enc->v[i];
            if (strcmp(r->type, e->code) != 0 || r->start_ms == 0 ||
                r->end_ms == 0 || r->end_ms < r->start_ms)
                continue;
            int32_t s = rhis_day_of_ms(r->start_ms),
                    t = rhis_day_of_ms(r->end_ms);
            int64_t v = e->kind == EK_DISCHARGES ? 1 : (t - s < 1 ? 1 : t - s);
            add(out, ei, -1, e->by_inst ? r->inst_area : p->area, r->inst, t,
                v);
        }
        break;
    case EK_ENC_NTH: {
        /* the encounters of the type in age range, in time order; the n-th
         * of each calendar year is the fact */
        const erow **sel = rhis_xmalloc((enc->n + 1) * sizeof(const erow *));
        size_t m = 0;
        for (size_t i = 0; i < enc->n; i++) {
            const erow *r = &enc->v[i];
            if (strcmp(r->type, e->code) != 0 || r->start_ms == 0)
                continue;
            int32_t day = rhis_day_of_ms(r->start_ms);
            if (e->lo > 0 || e->hi < 200) {
                if (!p->has_birth)
                    continue;
                int age = plan_age_years(p->birth, day);
                if (age < e->lo || age >= e->hi)
                    continue;
            }
            sel[m++] = r;
        }
        qsort((void *)sel, m, sizeof(const erow *), enc_cmp);
        int cur = -1, k = 0;
        for (size_t i = 0; i < m; i++) {
            int32_t day = rhis_day_of_ms(sel[i]->start_ms);
            int y = year_of(day);
            if (y != cur) {
                cur = y;
                k = 0;
            }
            if (++k == e->n)
                add(out, ei, -1, p->area, sel[i]->inst, day, 1);
        }
        rhis_free(sel);
        break;
    }
    case EK_ENC_PRIOR:
        for (size_t i = 0; i < enc->n; i++) {
            const erow *r = &enc->v[i];
            if (strcmp(r->type, e->code) != 0 || r->start_ms == 0)
                continue;
            int32_t day = rhis_day_of_ms(r->start_ms);
            int k = 0;
            for (size_t j = 0; j < enc->n; j++) {
                const erow *q = &enc->v[j];
                if (strcmp(q->type, e->code2) != 0 || q->start_ms == 0)
                    continue;
                int32_t qd = rhis_day_of_ms(q->start_ms);
                if (qd < day && qd >= day - e->window)
                    k++;
            }
            if (k >= e->n)
                add(out, ei, -1, p->area, r->inst, day, 1);
        }
        break;
    default:
        break;
    }
    (void)d;
}

static void
core_facts(const element *e, int ei, const prow *p, const ivec *imm, fvec *out)
{
    switch (e->kind) {
    case EK_BIRTHS:
        if (p->has_birth && (e->sex == 0 || e->sex == p->sex))
            add(out, ei, -1, p->area, 0, p->birth, 1);
        break;
    case EK_DEATHS:
    case EK_DEATHS_BAND: {
        if (!p->dead || !p->has_birth || p->death < p->birth)
            break;
        if (e->sex != 0 && e->sex != p->sex)
            break;
        if (!plan_cause_match(e, p->cause))
            break;
        int age = plan_age_years(p->birth, p->death);
        if (e->kind == EK_DEATHS) {
            if (age >= e->lo && age < e->hi)
                add(out, ei, -1, p->area, 0, p->death, 1);
        } else {
            add(out, ei, plan_band_of(age), p->area, 0, p->death, 1);
        }
        break;
    }
    case EK_RESIDENTS: {
        if (!p->has_birth)
            break;
        int by = year_of(p->birth);
        int y0 = by + e->lo - 1, y1 = by + e->hi;
        if (y0 < PLAN_FIRST_YEAR)
            y0 = PLAN_FIRST_YEAR;
        if (y1 > PLAN_HORIZON_YEAR)
            y1 = PLAN_HORIZON_YEAR;
        for (int y = y0; y <= y1; y++) {
            int32_t m = mid_year(y);
            if (!alive_on(p, m))
                continue;
            int age = plan_age_years(p->birth, m);
            if (age >= e->lo && age < e->hi)
                add(out, ei, -1, p->area, 0, m, 1);
        }
        break;
    }
    case EK_BIRTHDAY:
    case EK_BIRTHDAY_IMM: {
        if (!p->has_birth)
            break;
        int32_t b = plan_birthday(p->birth, e->n);
        if (year_of(b) > PLAN_HORIZON_YEAR || !alive_on(p, b))
            break;
        if (e->kind == EK_BIRTHDAY_IMM) {
            int got = 0;
            for (size_t i = 0; i < imm->n && !got; i++) {
                const irow *r = &imm->v[i];
                got = strcmp(r->vaccine, e->code) == 0 &&
                      r->dose == e->window && r->occ_ms != 0 &&
                      rhis_day_of_ms(r->occ_ms) < b;
            }
            if (!got)
                break;
        }
        add(out, ei, -1, p->area, 0, b, 1);
        break;
    }
    default:
        break;
    }
}

static void
cond_facts(const element *e, int ei, const prow *p, const cvec *cond, fvec *out)
{
    /* registered from the earliest matching problem-list entry; counted on
     * 1 July of every year the patient is registered and alive */
    int32_t reg = INT32_MAX;
    for (size_t i = 0; i < cond->n; i++)
        if (plan_cause_match(e, cond->v[i].code) && cond->v[i].day < reg)
            reg = cond->v[i].day;
    if (reg == INT32_MAX)
        return;
    int y0 = year_of(reg);
    if (mid_year(y0) < reg)
        y0++;
    if (y0 < PLAN_FIRST_YEAR)
        y0 = PLAN_FIRST_YEAR;
    for (int y = y0; y <= PLAN_HORIZON_YEAR; y++) {
        int32_t m = mid_year(y);
        if (p->dead && p->death <= m)
            break;
        if (p->undated_dead)
            break;
        add(out, ei, -1, p->area, 0, m, 1);
    }
}

static void
contract_facts(int ei, const prow *p, const kvec *con, fvec *out)
{
    if (con->n == 0)
        return;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t i = 0; i < con->n; i++) {
        if (con->v[i].start < lo)
            lo = con->v[i].start;
        if (con->v[i].end > hi)
            hi = con->v[i].end;
    }
    int y0 = year_of(lo), y1 = year_of(hi);
    if (y0 < PLAN_FIRST_YEAR)
        y0 = PLAN_FIRST_YEAR;
    if (y1 > PLAN_HORIZON_YEAR)
        y1 = PLAN_HORIZON_YEAR;
    for (int y = y0; y <= y1; y++) {
        int32_t m = mid_year(y);
        if (p->undated_dead || (p->dead && p->death <= m))
            break;
        for (size_t i = 0; i < con->n; i++)
            if (con->v[i].start <= m && m <= con->v[i].end) {
                add(out, ei, -1, p->area, 0, m, 1);
                break;
            }
    }
}

void
plan_facts_patient(const rhis_ind_defs *d,
                   escope sc,
                   const prow *p,
                   const evec *enc,
                   const ovec *obs,
                   const ivec *imm,
                   const cvec *cond,
                   const kvec *con,
                   fvec *out)
{
    if (!p->ok)
        return;
    for (size_t i = 0; i < d->nelems; i++) {
        const element *e = &d->elems[i];
        if (e->scope != sc)
            continue;
        int ei = (int)i;
        switch (sc) {
        case SC_ENC:
            enc_facts(d, e, ei, p, enc, out);
            break;
        case SC_CORE:
            core_facts(e, ei, p, imm, out);
            break;
        case SC_OBS:
            for (size_t j = 0; j < obs->n; j++)
                if (strcmp(obs->v[j].code, e->code) == 0 &&
                    obs->v[j].eff_ms != 0)
                    add(out, ei, -1, p->area, obs->v[j].inst,
                        rhis_day_of_ms(obs->v[j].eff_ms), 1);
            break;
        case SC_IMM:
            for (size_t j = 0; j < imm->n; j++)
                if ((e->code[0] == '\0' ||
                     strcmp(imm->v[j].vaccine, e->code) == 0) &&
                    imm->v[j].occ_ms != 0)
                    add(out, ei, -1, p->area, imm->v[j].inst,
                        rhis_day_of_ms(imm->v[j].occ_ms), 1);
            break;
        case SC_COND:
            cond_facts(e, ei, p, cond, out);
            break;
        case SC_CONTRACT:
            contract_facts(ei, p, con, out);
            break;
        default:
            break;
        }
    }
}

void
plan_facts_inst(const rhis_ind_defs *d,
                const inrow *in,
                const svec *roles,
                fvec *out)
{
    if (!in->ok)
        return;
    for (size_t i = 0; i < d->nelems; i++) {
        const element *e = &d->elems[i];
        if (e->kind == EK_BEDS) {
            int match = e->nset == 0;
            for (int k = 0; k < e->nset && !match; k++)
                match = strcmp(e->set[k], in->tier) == 0;
            if (match)
                add(out, (int)i, -1, in->area, in->id, 0, in->beds);
        } else if (e->kind == EK_STAFF) {
            int64_t n = 0;
            for (size_t j = 0; j < roles->n; j++)
                for (int k = 0; k < e->nset; k++)
                    if (strcmp(e->set[k], roles->v[j].role) == 0) {
                        n++;
                        break;
                    }
            add(out, (int)i, -1, in->area, in->id, 0, n);
        }
    }
}

static int
fact_cmp(const void *a, const void *b)
{
    const fact *x = a, *y = b;
    if (x->elem != y->elem)
        return x->elem - y->elem;
    if (x->band != y->band)
        return x->band - y->band;
    int c = strcmp(x->area, y->area);
    if (c != 0)
        return c;
    if (x->inst != y->inst)
        return x->inst < y->inst ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

void
plan_facts_normalize(fvec *f)
{
    if (f->n < 2)
        return;
    qsort(f->v, f->n, sizeof(fact), fact_cmp);
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (w > 0 && fact_cmp(&f->v[w - 1], &f->v[i]) == 0)
            f->v[w - 1].value += f->v[i].value;
        else
            f->v[w++] = f->v[i];
    }
    f->n = w;
}
