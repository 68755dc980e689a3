/*
 * ehr_int.h - private to src/ehr: the FHIR R4 element checker and the
 * helpers the health-record resource types (Encounter, Condition,
 * Observation, Immunization, DocumentReference) share.
 *
 * Why: every resource RHIS stores is served back as it was received, so
 * whatever we accept must be valid FHIR R4 JSON; and every fault must name
 * its element ("Observation.component[1].valueQuantity.value").  Each type
 * therefore describes its elements once as a table (name, datatype,
 * cardinality, choice group); one walker checks the whole resource against
 * it - unknown elements, wrong JSON types, empty values, malformed dates,
 * codes and URIs - before the type's own rules (code systems, references,
 * dates in order) run and its typed rows are written.
 *
 * Everything here is static inline: the header is the one place the five
 * resource files share, and each uses most of it.
 */
#ifndef RHIS_EHR_INT_H
#define RHIS_EHR_INT_H

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/fhirstore.h"
#include "rhis/json.h"

#define EHR_PATH       160 /* as rhis_fhir_ctx.err_expr */
#define EHR_MAX_STRING ((size_t)64 * 1024)
#define EHR_MAX_ARRAY  1000
#define EHR_NONE       INT64_MIN /* an absent optional integer column */

/* Code systems of FHIR R4 value sets the types check. */
#define EHR_SYS_COND_CLINICAL                                                  \
    "http://terminology.hl7.org/CodeSystem/condition-clinical"
#define EHR_SYS_COND_VERIFY                                                    \
    "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#define EHR_SYS_COND_CATEGORY                                                  \
    "http://terminology.hl7.org/CodeSystem/condition-category"
#define EHR_SYS_OBS_CATEGORY                                                   \
    "http://terminology.hl7.org/CodeSystem/observation-category"
#define EHR_SYS_INTERPRETATION                                                 \
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

/* Roles of the health record (docs/internals/ehr.md). */
#define EHR_READ_ROLES                                                         \
    (RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |                   \
     RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT)
#define EHR_WRITE_ROLES                                                        \
    (RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR)

/* ---- element tables ---- */

typedef enum ehr_kind {
    /* primitives */
    EK_STRING = 1,
    EK_CODE,
    EK_ID,
    EK_URI,
    EK_BOOL,
    EK_INT,
    EK_POSINT,
    EK_UINT,
    EK_DECIMAL,
    EK_DATE,
    EK_DATETIME,
    EK_INSTANT,
    EK_BASE64,
    EK_XHTML,
    /* complex datatypes */
    EK_CODING,
    EK_CC,
    EK_REF,
    EK_PERIOD,
    EK_QUANTITY,
    EK_SIMPLEQTY,
    EK_IDENTIFIER,
    EK_ANNOTATION,
    EK_ATTACHMENT,
    EK_NARRATIVE,
    EK_META,
    EK_BACKBONE, /* children in ehr_elem.sub */
    EK_SKIP,     /* resourceType: checked by the engine */
} ehr_kind;

enum {
    EF_ARRAY = 1u << 0, /* 0..* : a non-empty JSON array */
    EF_REQ = 1u << 1,   /* 1..1 or 1..* */
};

typedef struct ehr_elem {
    const char *name;
    ehr_kind kind;
    unsigned flags;
    const struct ehr_elem *sub; /* EK_BACKBONE */
    const char *choice;         /* "value" for value[x]: at most one */
} ehr_elem;

/* Tables end with a row whose name is NULL. */
static const ehr_elem ehr_coding_elems[] = {
    {"system", EK_URI, 0, NULL, NULL},
    {"version", EK_STRING, 0, NULL, NULL},
    {"code", EK_CODE, 0, NULL, NULL},
    {"display", EK_STRING, 0, NULL, NULL},
    {"userSelected", EK_BOOL, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_cc_elems[] = {
    {"coding", EK_CODING, EF_ARRAY, NULL, NULL},
    {"text", EK_STRING, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_period_elems[] = {
    {"start", EK_DATETIME, 0, NULL, NULL},
    {"end", EK_DATETIME, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_quantity_elems[] = {
    {"value", EK_DECIMAL, 0, NULL, NULL},
    {"comparator", EK_CODE, 0, NULL, NULL},
    {"unit", EK_STRING, 0, NULL, NULL},
    {"system", EK_URI, 0, NULL, NULL},
    {"code", EK_CODE, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_simpleqty_elems[] = {
    {"value", EK_DECIMAL, 0, NULL, NULL},
    {"unit", EK_STRING, 0, NULL, NULL},
    {"system", EK_URI, 0, NULL, NULL},
    {"code", EK_CODE, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
/* Identifier.assigner is left out: Identifier and Reference would nest. */
static const ehr_elem ehr_identifier_elems[] = {
    {"use", EK_CODE, 0, NULL, NULL},      {"type", EK_CC, 0, NULL, NULL},
    {"system", EK_URI, 0, NULL, NULL},    {"value", EK_STRING, 0, NULL, NULL},
    {"period", EK_PERIOD, 0, NULL, NULL}, {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_ref_elems[] = {
    {"reference", EK_STRING, 0, NULL, NULL},
    {"type", EK_URI, 0, NULL, NULL},
    {"identifier", EK_IDENTIFIER, 0, NULL, NULL},
    {"display", EK_STRING, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_annotation_elems[] = {
    {"authorString", EK_STRING, 0, NULL, "author"},
    {"time", EK_DATETIME, 0, NULL, NULL},
    {"text", EK_STRING, EF_REQ, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_attachment_elems[] = {
    {"contentType", EK_CODE, 0, NULL, NULL},
    {"language", EK_CODE, 0, NULL, NULL},
    {"data", EK_BASE64, 0, NULL, NULL},
    {"url", EK_URI, 0, NULL, NULL},
    {"size", EK_UINT, 0, NULL, NULL},
    {"hash", EK_BASE64, 0, NULL, NULL},
    {"title", EK_STRING, 0, NULL, NULL},
    {"creation", EK_DATETIME, 0, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_narrative_elems[] = {
    {"status", EK_CODE, EF_REQ, NULL, NULL},
    {"div", EK_XHTML, EF_REQ, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const ehr_elem ehr_meta_elems[] = {
    {"versionId", EK_ID, 0, NULL, NULL},
    {"lastUpdated", EK_INSTANT, 0, NULL, NULL},
    {"source", EK_URI, 0, NULL, NULL},
    {"profile", EK_URI, EF_ARRAY, NULL, NULL},
    {"security", EK_CODING, EF_ARRAY, NULL, NULL},
    {"tag", EK_CODING, EF_ARRAY, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
/* What every resource of the health record may carry besides its own. */
static const ehr_elem ehr_resource_elems[] = {
    {"resourceType", EK_SKIP, 0, NULL, NULL},
    {"id", EK_ID, 0, NULL, NULL},
    {"meta", EK_META, 0, NULL, NULL},
    {"language", EK_CODE, 0, NULL, NULL},
    {"text", EK_NARRATIVE, 0, NULL, NULL},
    {"identifier", EK_IDENTIFIER, EF_ARRAY, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

/* ---- small utilities ---- */

/* Joins NULL-terminated list into buf as "a, b, c". */
static inline const char *
ehr_join(const char *const *list, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; list[i] != NULL && n < len; i++) {
        int k = snprintf(buf + n, len - n, "%s%s", i > 0 ? ", " : "", list[i]);
        if (k < 0)
            break;
        n += (size_t)k;
    }
    return buf;
}

static inline int
ehr_in(const char *v, const char *const *list)
{
    for (int i = 0; v != NULL && list[i] != NULL; i++)
        if (strcmp(v, list[i]) == 0)
            return 1;
    return 0;
}

/*
 * Appends n bytes of s at out + *at, cut at EHR_PATH - 1 (a path cut short
 * still names the place; it is never parsed).  The checker builds a path
 * for every element it visits, so this is plain copying, not snprintf.
 */
static inline void
ehr_put(char *out, size_t *at, const char *s, size_t n)
{
    if (*at + n > EHR_PATH - 1)
        n = EHR_PATH - 1 - *at;
    memmove(out + *at, s, n);
    *at += n;
}

/* path + "." + key into out. */
static inline const char *
ehr_sub(char *out, const char *path, const char *key)
{
    size_t at = 0;
    ehr_put(out, &at, path, strlen(path));
    ehr_put(out, &at, ".", 1);
    ehr_put(out, &at, key, strlen(key));
    out[at] = '\0';
    return out;
}

/* path + "[i]" into out. */
static inline const char *
ehr_idx(char *out, const char *path, size_t i)
{
    char num[24];
    size_t k = sizeof(num);
    num[--k] = ']';
    do
        num[--k] = (char)('0' + i % 10);
    while ((i /= 10) != 0);
    num[--k] = '[';
    size_t at = 0;
    ehr_put(out, &at, path, strlen(path));
    ehr_put(out, &at, num + k, sizeof(num) - k);
    out[at] = '\0';
    return out;
}

/* Exactly n ASCII digits at s, as a number; -1 otherwise. */
static inline int
ehr_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static inline int64_t
ehr_days(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*
 * Parses a FHIR R4 date (k = EK_DATE: YYYY, YYYY-MM, YYYY-MM-DD), dateTime
 * (those, or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)) or instant (the
 * full form only) into the half-open range [lo, hi) of unix milliseconds
 * it denotes (a date without a zone is taken as UTC).  Returns 0 if v is
 * malformed or its year is outside 1900..2200.
 */
static inline int
ehr_parse_time(const char *v, ehr_kind k, int64_t *lo, int64_t *hi)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(v);
    int y = ehr_digits(v, 4);
    if (len < 4 || y < 1900 || y > 2200)
        return 0;
    if (len == 4) {
        *lo = ehr_days(y, 1, 1) * 86400000LL;
        *hi = ehr_days(y + 1, 1, 1) * 86400000LL;
        return k != EK_INSTANT;
    }
    int mo = len >= 7 && v[4] == '-' ? ehr_digits(v + 5, 2) : -1;
    if (mo < 1 || mo > 12)
        return 0;
    if (len == 7) {
        *lo = ehr_days(y, mo, 1) * 86400000LL;
        *hi = ehr_days(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1) *
              86400000LL;
        return k != EK_INSTANT;
    }
    int d = len >= 10 && v[7] == '-' ? ehr_digits(v + 8, 2) : -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return 0;
    int64_t day = ehr_days(y, mo, d);
    if (len == 10) {
        *lo = day * 86400000LL;
        *hi = *lo + 86400000LL;
        return k != EK_INSTANT;
    }
    if (k == EK_DATE || len < 20 || v[10] != 'T' || v[13] != ':' ||
        v[16] != ':')
        return 0;
    int h = ehr_digits(v + 11, 2), mi = ehr_digits(v + 14, 2),
        s = ehr_digits(v + 17, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
        return 0;
    const char *t = v + 19;
    int ms = 0, nfrac = 0;
    if (*t == '.') {
        for (t++; *t >= '0' && *t <= '9'; t++, nfrac++)
            if (nfrac < 3)
                ms = ms * 10 + (*t - '0');
        if (nfrac == 0)
            return 0;
        for (int i = nfrac; i < 3; i++)
            ms *= 10;
    }
    int64_t off = 0;
    if (t[0] == 'Z' && t[1] == '\0') {
        off = 0;
    } else if ((t[0] == '+' || t[0] == '-') && strlen(t) == 6 && t[3] == ':') {
        int oh = ehr_digits(t + 1, 2), om = ehr_digits(t + 4, 2);
        if (oh < 0 || om < 0 || om > 59 || oh > 14 || (oh == 14 && om != 0))
            return 0;
        off = ((int64_t)oh * 60 + om) * 60000 * (t[0] == '+' ? 1 : -1);
    } else {
        return 0; /* a time needs a zone in FHIR */
    }
    *lo = day * 86400000LL + ((int64_t)h * 3600 + (int64_t)mi * 60 + s) * 1000 +
          ms - off;
    *hi = *lo + (nfrac > 0 ? 1 : 1000);
    return 1;
}

/*
 * True for an ICD-10 code in the shape of WHO ICD-10 and of the Chinese
 * clinical edition (国家临床版): a letter, two digits (A00-Z99), then
 * optionally '.' and one to three characters - digits, or an 'x'
 * placeholder followed by digits (I10.x00, E11.900, J18.9) - and, after a
 * full three-character subcategory, an optional national extension 'x'
 * plus three digits (K35.800x004).
 */
static inline int
ehr_icd10_valid(const char *s)
{
    if (s[0] < 'A' || s[0] > 'Z' || ehr_digits(s + 1, 2) < 0)
        return 0;
    s += 3;
    if (*s == '\0')
        return 1;
    if (*s != '.')
        return 0;
    s++;
    size_t n = 0;
    int placeholder = *s == 'x'; /* I10.x00: the x needs its two digits */
    if (!placeholder && (*s < '0' || *s > '9'))
        return 0;
    for (s++, n++; n < 3 && *s >= '0' && *s <= '9'; s++)
        n++;
    if (placeholder && n != 3)
        return 0;
    if (*s == '\0')
        return 1;
    return n == 3 && s[0] == 'x' && ehr_digits(s + 1, 3) >= 0 && s[4] == '\0';
}

/* ---- the element checker ---- */

static inline rhis_status ehr_check(rhis_fhir_ctx *c,
                                    json_object *o,
                                    const ehr_elem *el,
                                    const ehr_elem *common,
                                    const char *path);

static inline const ehr_elem *
ehr_find(const ehr_elem *el, const char *key)
{
    for (; el != NULL && el->name != NULL; el++)
        if (strcmp(el->name, key) == 0)
            return el;
    return NULL;
}

/* True for a FHIR code: no leading, trailing or double whitespace. */
static inline int
ehr_is_code(const char *s)
{
    if (*s == '\0' || *s == ' ')
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\t' || *p == '\n' || *p == '\r')
            return 0;
        if (*p == ' ' && (p[1] == ' ' || p[1] == '\0'))
            return 0;
    }
    return 1;
}

/* The value of one base64 character, -1 if none. */
static inline int
ehr_b64(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/*
 * Checks base64 text (whitespace between characters allowed, as in FHIR's
 * base64Binary) and computes the decoded size without decoding.  Returns 0
 * when malformed (bad character, bad padding, length not a multiple of 4).
 */
static inline int
ehr_base64_size(const char *s, size_t *size)
{
    size_t n = 0, pad = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            continue;
        if (*p == '=') {
            pad++;
        } else {
            if (pad > 0 || ehr_b64((unsigned char)*p) < 0)
                return 0;
        }
        n++;
    }
    if (n == 0 || n % 4 != 0 || pad > 2)
        return 0;
    *size = n / 4 * 3 - pad;
    return 1;
}

static inline rhis_status
ehr_check_string(rhis_fhir_ctx *c, json_object *v, const char *p, size_t cap)
{
    if (!json_object_is_type(v, json_type_string))
        return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s must be a string", p);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, p,
                              "%s must not be empty (leave the element out)",
                              p);
    if (n > cap)
        return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s is longer than %zu bytes",
                              p, cap);
    if (strlen(json_object_get_string(v)) != n)
        return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s contains a NUL", p);
    return RHIS_OK;
}

static inline rhis_status
ehr_check_integer(rhis_fhir_ctx *c, json_object *v, ehr_kind k, const char *p)
{
    if (!json_object_is_type(v, json_type_int))
        return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s must be an integer", p);
    int64_t n = json_object_get_int64(v);
    int64_t min = k == EK_POSINT ? 1 : k == EK_UINT ? 0 : -2147483648LL;
    if (n < min || n > 2147483647LL)
        return rhis_fhir_fail(c, RHIS_EINVAL, p,
                              "%s must be an integer from %lld to 2147483647",
                              p, (long long)min);
    return RHIS_OK;
}

/* Datatype invariants beyond the element table. */
static inline rhis_status
ehr_check_invariants(rhis_fhir_ctx *c,
                     json_object *v,
                     ehr_kind k,
                     const char *p)
{
    char sp[EHR_PATH];
    if (k == EK_PERIOD) {
        const char *s = rhis_json_get_str(v, "start");
        const char *e = rhis_json_get_str(v, "end");
        int64_t slo, shi, elo, ehi;
        if (s != NULL && e != NULL &&
            ehr_parse_time(s, EK_DATETIME, &slo, &shi) &&
            ehr_parse_time(e, EK_DATETIME, &elo, &ehi) && ehi <= slo)
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(sp, p, "end"),
                                  "%s.end (%s) is before %s.start (%s)", p, e,
                                  p, s);
    } else if (k == EK_QUANTITY || k == EK_SIMPLEQTY) {
        static const char *const cmp[] = {"<", "<=", ">=", ">", NULL};
        const char *cm = rhis_json_get_str(v, "comparator");
        if (cm != NULL && !ehr_in(cm, cmp))
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(sp, p, "comparator"),
                                  "%s.comparator must be one of <, <=, >=, >",
                                  p);
        if (rhis_json_get(v, "code") != NULL &&
            rhis_json_get(v, "system") == NULL) /* qty-3 */
            return rhis_fhir_fail(
                c, RHIS_EINVAL, ehr_sub(sp, p, "system"),
                "%s.code needs %s.system (e.g. " RHIS_SYS_UCUM ")", p, p);
    } else if (k == EK_NARRATIVE) {
        static const char *const st[] = {"generated", "extensions",
                                         "additional", "empty", NULL};
        if (!ehr_in(rhis_json_get_str(v, "status"), st))
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(sp, p, "status"),
                                  "%s.status must be one of generated, "
                                  "extensions, additional, empty",
                                  p);
    } else if (k == EK_IDENTIFIER) {
        static const char *const use[] = {"usual",     "official", "temp",
                                          "secondary", "old",      NULL};
        const char *u = rhis_json_get_str(v, "use");
        if (u != NULL && !ehr_in(u, use))
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(sp, p, "use"),
                                  "%s.use must be one of usual, official, "
                                  "temp, secondary, old",
                                  p);
    } else if (k == EK_ATTACHMENT) {
        if (rhis_json_get(v, "data") != NULL &&
            rhis_json_get(v, "contentType") == NULL) /* att-1 */
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(sp, p, "contentType"),
                                  "%s with data needs a contentType", p);
    }
    return RHIS_OK;
}

/* Checks one primitive value of element e at path p. */
static inline rhis_status
ehr_check_primitive(rhis_fhir_ctx *c,
                    json_object *v,
                    const ehr_elem *e,
                    const char *p)
{
    int64_t lo, hi;
    const char *s;
    switch (e->kind) {
    case EK_SKIP:
        return RHIS_OK;
    case EK_STRING:
        return ehr_check_string(c, v, p, EHR_MAX_STRING);
    case EK_XHTML:
        if (ehr_check_string(c, v, p, EHR_MAX_STRING) != RHIS_OK)
            return c->err_status;
        if (strncmp(json_object_get_string(v), "<div", 4) != 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s must be an XHTML <div> element", p);
        return RHIS_OK;
    case EK_BASE64:
        /* the size is checked by the type that owns the attachment */
        if (!json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) == 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s must be a base64 string", p);
        return RHIS_OK;
    case EK_CODE:
    case EK_ID:
    case EK_URI:
        if (ehr_check_string(c, v, p, 4096) != RHIS_OK)
            return c->err_status;
        s = json_object_get_string(v);
        if (e->kind == EK_CODE && !ehr_is_code(s))
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s must be a code (no leading, trailing or "
                                  "repeated spaces)",
                                  p);
        if (e->kind == EK_ID) {
            size_t n = strlen(s);
            if (n > 64 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
                                    "pqrstuvwxyz0123456789-.") != n)
                return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                      "%s must be an id (1-64 of A-Z a-z 0-9 "
                                      "- .)",
                                      p);
        }
        if (e->kind == EK_URI && strpbrk(s, " \t\r\n") != NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s must be a URI without whitespace", p);
        return RHIS_OK;
    case EK_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s must be true or false",
                                  p);
        return RHIS_OK;
    case EK_INT:
    case EK_POSINT:
    case EK_UINT:
        return ehr_check_integer(c, v, e->kind, p);
    case EK_DECIMAL:
        if (!json_object_is_type(v, json_type_int) &&
            !json_object_is_type(v, json_type_double))
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s must be a JSON number (a decimal)", p);
        if (!isfinite(json_object_get_double(v)))
            return rhis_fhir_fail(c, RHIS_EINVAL, p, "%s is out of range", p);
        return RHIS_OK;
    case EK_DATE:
    case EK_DATETIME:
    case EK_INSTANT:
        if (!json_object_is_type(v, json_type_string) ||
            !ehr_parse_time(json_object_get_string(v), e->kind, &lo, &hi))
            return rhis_fhir_fail(
                c, RHIS_EINVAL, p, "%s must be a FHIR %s (%s)", p,
                e->kind == EK_DATE       ? "date"
                : e->kind == EK_DATETIME ? "dateTime"
                                         : "instant",
                e->kind == EK_DATE ? "YYYY, YYYY-MM or YYYY-MM-DD"
                : e->kind == EK_DATETIME
                    ? "YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+08:00"
                    : "YYYY-MM-DDThh:mm:ss+08:00 or ...Z");
        return RHIS_OK;
    default:
        break;
    }
    return RHIS_OK;
}

/* The element table of a complex datatype or backbone element. */
static inline const ehr_elem *
ehr_table_of(const ehr_elem *e)
{
    const ehr_elem *t = NULL;
    switch (e->kind) {
    case EK_CODING:
        t = ehr_coding_elems;
        break;
    case EK_CC:
        t = ehr_cc_elems;
        break;
    case EK_REF:
        t = ehr_ref_elems;
        break;
    case EK_PERIOD:
        t = ehr_period_elems;
        break;
    case EK_QUANTITY:
        t = ehr_quantity_elems;
        break;
    case EK_SIMPLEQTY:
        t = ehr_simpleqty_elems;
        break;
    case EK_IDENTIFIER:
        t = ehr_identifier_elems;
        break;
    case EK_ANNOTATION:
        t = ehr_annotation_elems;
        break;
    case EK_ATTACHMENT:
        t = ehr_attachment_elems;
        break;
    case EK_NARRATIVE:
        t = ehr_narrative_elems;
        break;
    case EK_META:
        t = ehr_meta_elems;
        break;
    default:
        t = e->sub;
        break;
    }
    return t;
}

/* Checks one value of element e at path p. */
static inline rhis_status
ehr_check_value(rhis_fhir_ctx *c,
                json_object *v,
                const ehr_elem *e,
                const char *p)
{
    if (e->kind < EK_CODING || e->kind == EK_SKIP)
        return ehr_check_primitive(c, v, e, p);
    if (ehr_check(c, v, ehr_table_of(e), NULL, p) != RHIS_OK)
        return c->err_status;
    return ehr_check_invariants(c, v, e->kind, p);
}

/*
 * Checks object o at path against element table el (and common, may be
 * NULL): every key known, each value of the right datatype and
 * cardinality, at most one element per choice group, required elements
 * present, no empty object (ele-1).  The first fault is recorded on c with
 * its path.
 */
static inline rhis_status
ehr_check(rhis_fhir_ctx *c,
          json_object *o,
          const ehr_elem *el,
          const ehr_elem *common,
          const char *path)
{
    char p[EHR_PATH], q[EHR_PATH];
    if (o == NULL || !json_object_is_type(o, json_type_object))
        return rhis_fhir_fail(c, RHIS_EINVAL, path, "%s must be a JSON object",
                              path);
    if (json_object_object_length(o) == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, path,
                              "%s must not be empty (leave it out)", path);
    json_object_object_foreach(o, key, val)
    {
        const ehr_elem *e = ehr_find(el, key);
        if (e == NULL)
            e = ehr_find(common, key);
        ehr_sub(p, path, key);
        if (e == NULL) {
            if (strcmp(key, "extension") == 0 ||
                strcmp(key, "modifierExtension") == 0 ||
                strcmp(key, "contained") == 0 || key[0] == '_')
                return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                      "%s is not supported by RHIS", p);
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "unknown element '%s' in %s", key, path);
        }
        if (val == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                  "%s is null: leave the element out", p);
        if (e->choice != NULL) {
            for (const ehr_elem *x = el; x->name != NULL; x++)
                if (x != e && x->choice != NULL &&
                    strcmp(x->choice, e->choice) == 0 &&
                    rhis_json_get(o, x->name) != NULL)
                    return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                          "%s and %s.%s are alternatives of "
                                          "%s.%s[x]: give one",
                                          p, path, x->name, path, e->choice);
        }
        if (e->flags & EF_ARRAY) {
            if (!json_object_is_type(val, json_type_array))
                return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                      "%s must be a JSON array", p);
            size_t n = json_object_array_length(val);
            if (n == 0)
                return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                      "%s must not be an empty array", p);
            if (n > EHR_MAX_ARRAY)
                return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                      "%s has more than %d items", p,
                                      EHR_MAX_ARRAY);
            for (size_t i = 0; i < n; i++) {
                json_object *item = json_object_array_get_idx(val, i);
                ehr_idx(q, p, i);
                if (item == NULL)
                    return rhis_fhir_fail(c, RHIS_EINVAL, q, "%s is null", q);
                if (ehr_check_value(c, item, e, q) != RHIS_OK)
                    return c->err_status;
            }
        } else {
            if (json_object_is_type(val, json_type_array))
                return rhis_fhir_fail(c, RHIS_EINVAL, p,
                                      "%s takes one value, not an array", p);
            if (ehr_check_value(c, val, e, p) != RHIS_OK)
                return c->err_status;
        }
    }
    for (const ehr_elem *e = el; e != NULL && e->name != NULL; e++)
        if ((e->flags & EF_REQ) && rhis_json_get(o, e->name) == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(p, path, e->name),
                                  "%s is required", p);
    return RHIS_OK;
}

/* Checks a whole resource: its own elements plus the common ones. */
static inline rhis_status
ehr_check_resource(rhis_fhir_ctx *c,
                   json_object *res,
                   const char *type,
                   const ehr_elem *el)
{
    return ehr_check(c, res, el, ehr_resource_elems, type);
}

/* ---- semantic helpers (run after ehr_check) ---- */

/* Item i of array element key of o, NULL if absent. */
static inline json_object *
ehr_item(json_object *o, const char *key, size_t i)
{
    json_object *a = rhis_json_get(o, key);
    if (a == NULL || !json_object_is_type(a, json_type_array) ||
        i >= json_object_array_length(a))
        return NULL;
    return json_object_array_get_idx(a, i);
}

static inline size_t
ehr_count(json_object *o, const char *key)
{
    json_object *a = rhis_json_get(o, key);
    return a != NULL && json_object_is_type(a, json_type_array)
               ? json_object_array_length(a)
               : 0;
}

/* The first coding of CodeableConcept cc with system sys (*idx its index),
 * NULL if none. */
static inline json_object *
ehr_coding(json_object *cc, const char *sys, size_t *idx)
{
    for (size_t i = 0; i < ehr_count(cc, "coding"); i++) {
        json_object *cd = ehr_item(cc, "coding", i);
        const char *s = rhis_json_get_str(cd, "system");
        if (s != NULL && strcmp(s, sys) == 0) {
            if (idx != NULL)
                *idx = i;
            return cd;
        }
    }
    return NULL;
}

/* Records "path must be one of a, b, c" (what = list of allowed values). */
static inline rhis_status
ehr_fail_list(rhis_fhir_ctx *c,
              const char *path,
              const char *value,
              const char *const *list)
{
    char buf[400];
    return rhis_fhir_fail(c, RHIS_EINVAL, path, "%s '%.40s' is not one of %s",
                          path, value != NULL ? value : "",
                          ehr_join(list, buf, 400));
}

/* The code of a required code element key of o, checked against list. */
static inline rhis_status
ehr_code_in(rhis_fhir_ctx *c,
            json_object *o,
            const char *key,
            const char *path,
            const char *const *list,
            const char **out)
{
    const char *v = rhis_json_get_str(o, key);
    *out = v;
    if (v != NULL && !ehr_in(v, list)) {
        char p[EHR_PATH];
        return ehr_fail_list(c, ehr_sub(p, path, key), v, list);
    }
    return RHIS_OK;
}

/*
 * The code of CodeableConcept cc from system sys, which must be in list:
 * *out NULL when cc is absent.  A cc without a coding of sys is an error
 * naming sys.
 */
static inline rhis_status
ehr_cc_in(rhis_fhir_ctx *c,
          json_object *cc,
          const char *sys,
          const char *path,
          const char *const *list,
          const char **out)
{
    char p[EHR_PATH], q[EHR_PATH];
    size_t i = 0;
    *out = NULL;
    if (cc == NULL)
        return RHIS_OK;
    json_object *cd = ehr_coding(cc, sys, &i);
    if (cd == NULL)
        return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(p, path, "coding"),
                              "%s needs a coding of system %s", path, sys);
    ehr_idx(q, ehr_sub(p, path, "coding"), i);
    const char *code = rhis_json_get_str(cd, "code");
    if (code == NULL || !ehr_in(code, list))
        return ehr_fail_list(c, ehr_sub(p, q, "code"), code, list);
    *out = code;
    return RHIS_OK;
}

/* Time element key of o as unix ms (lo, and hi of its range); 0 if absent.
 * Call after ehr_check, which validated the format. */
static inline int
ehr_time(json_object *o, const char *key, int64_t *lo, int64_t *hi)
{
    const char *s = rhis_json_get_str(o, key);
    int64_t h;
    if (s == NULL || !ehr_parse_time(s, EK_DATETIME, lo, hi != NULL ? hi : &h))
        return 0;
    return 1;
}

/* Fails when the time at path (range lo..) lies in the future; 5 minutes
 * of clock skew are tolerated. */
static inline rhis_status
ehr_not_future(rhis_fhir_ctx *c, int64_t lo, const char *path)
{
    if (lo > c->now_ms + (int64_t)5 * 60 * 1000)
        return rhis_fhir_fail(c, RHIS_EINVAL, path, "%s lies in the future",
                              path);
    return RHIS_OK;
}

/*
 * The resource type a Reference names: "Organization" from
 * "Organization/3", from an absolute URL ".../Organization/3", or from the
 * rewrite of a transaction's urn:uuid.  0 if it names none.
 */
static inline int
ehr_ref_type(rhis_fhir_ctx *c, json_object *ref, char *buf, size_t len)
{
    const char *r = rhis_json_get_str(ref, "reference");
    if (r == NULL)
        return 0;
    if (strncmp(r, "urn:uuid:", 9) == 0) {
        const char *to = NULL;
        for (int i = 0; i < c->nrefs; i++)
            if (strcmp(c->ref_from[i], r) == 0)
                to = c->ref_to[i];
        if (to == NULL)
            return 0;
        r = to;
    }
    const char *slash = strrchr(r, '/');
    if (slash == NULL || slash == r)
        return 0;
    const char *start = slash;
    while (start > r && start[-1] != '/')
        start--;
    size_t n = (size_t)(slash - start);
    if (n == 0 || n >= len)
        return 0;
    memcpy(buf, start, n);
    buf[n] = '\0';
    return 1;
}

/*
 * Resolves Reference ref at path to a live resource of one of the
 * NULL-terminated types; *type gets the one it names (buf of 32).
 */
static inline rhis_status
ehr_ref_any(rhis_fhir_ctx *c,
            json_object *ref,
            const char *const *types,
            const char *path,
            char type[32],
            int64_t *id)
{
    if (!ehr_ref_type(c, ref, type, 32) || !ehr_in(type, types)) {
        char p[EHR_PATH], list[200];
        return rhis_fhir_fail(c, RHIS_EINVAL, ehr_sub(p, path, "reference"),
                              "%s must reference a %s (\"Type/<id>\")", path,
                              ehr_join(types, list, sizeof(list)));
    }
    return rhis_fhir_ref(c, ref, type, path, id);
}

/* Sets *same when other_pid is pid, or a record merged into pid. */
static inline rhis_status
ehr_same_patient(rhis_fhir_ctx *c, int64_t other_pid, int64_t pid, int *same)
{
    *same = other_pid == pid;
    if (*same)
        return RHIS_OK;
    int64_t m = 0;
    rhis_status rc =
        rhis_db_scalar_int64(c->db, &m,
                             "SELECT COALESCE(merged_into, 0) FROM patient"
                             " WHERE id = ?",
                             "i", other_pid);
    if (rc == RHIS_ENOTFOUND)
        return RHIS_OK;
    *same = rc == RHIS_OK && m == pid;
    return rc;
}

/*
 * Resolves Reference ref (at path) to an Encounter of patient pid: *id the
 * encounter, *inst its institution (0 if none).  An encounter of another
 * patient is an error.
 */
static inline rhis_status
ehr_encounter_ref(rhis_fhir_ctx *c,
                  json_object *ref,
                  const char *path,
                  int64_t pid,
                  int64_t *id,
                  int64_t *inst)
{
    if (rhis_fhir_ref(c, ref, "Encounter", path, id) != RHIS_OK)
        return c->err_status;
    rhis_stmt *st;
    rhis_status rc = rhis_db_query(c->db, &st,
                                   "SELECT patient_id,"
                                   " COALESCE(institution_id, 0)"
                                   " FROM encounter WHERE id = ?"
                                   " AND deleted = 0",
                                   "i", *id);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, path, "cannot read %s", path);
    int64_t epid = 0;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        epid = rhis_db_column_int64(st, 0);
        *inst = rhis_db_column_int64(st, 1);
    }
    rhis_db_finalize(st);
    if (rc == RHIS_DONE)
        return rhis_fhir_fail(c, RHIS_EINVAL, path,
                              "%s: Encounter/%lld does not exist", path,
                              (long long)*id);
    if (rc != RHIS_ROW)
        return rhis_fhir_fail(c, rc, path, "cannot read %s", path);
    int same = 0;
    rc = ehr_same_patient(c, epid, pid, &same);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc, path, "cannot read %s", path);
    if (!same)
        return rhis_fhir_fail(c, RHIS_EINVAL, path,
                              "%s: Encounter/%lld is an encounter of another "
                              "patient than the subject",
                              path, (long long)*id);
    return RHIS_OK;
}

/*
 * The institution column of a record: inst when the resource names one
 * (performer, custodian, its encounter's), else the institution the
 * caller works for (the record was made there), else NULL.
 */
static inline int64_t
ehr_inst_or_caller(const rhis_fhir_ctx *c, int64_t inst)
{
    if (inst != 0)
        return inst;
    if (c->user != NULL && c->user->scope_institution != 0)
        return c->user->scope_institution;
    return EHR_NONE;
}

/* Birth of patient pid as unix ms; 0 in *known when not recorded. */
static inline rhis_status
ehr_patient_birth(rhis_fhir_ctx *c, int64_t pid, int64_t *birth, int *known)
{
    rhis_stmt *st;
    int64_t v;
    *known = 0;
    /* the patient store remembers what it writes (rhis_db_memo_*) */
    if (rhis_db_memo_get(c->db, RHIS_MEMO_BIRTH, pid, &v)) {
        *known = v != INT64_MIN;
        if (*known)
            *birth = v;
        return RHIS_OK;
    }
    rhis_status rc = rhis_db_query(
        c->db, &st, "SELECT birth_ms FROM patient WHERE id = ?", "i", pid);
    if (rc != RHIS_OK)
        return rc;
    rc = rhis_db_step(st);
    if (rc == RHIS_ROW) {
        *known = !rhis_db_column_is_null(st, 0);
        if (*known)
            *birth = rhis_db_column_int64(st, 0);
        rhis_db_memo_put(c->db, RHIS_MEMO_BIRTH, pid,
                         *known ? *birth : INT64_MIN);
    }
    rhis_db_finalize(st);
    return rc == RHIS_ROW || rc == RHIS_DONE ? RHIS_OK : rc;
}

/* ---- typed rows ---- */

/* One bound value: 'i' (i, EHR_NONE binds NULL), 'd' (d), 's' (s, NULL
 * binds NULL), 'n' NULL. */
typedef struct ehr_val {
    char type;
    int64_t i;
    double d;
    const char *s;
} ehr_val;

static inline ehr_val
ehr_i(int64_t v)
{
    ehr_val x = {'i', v, 0, NULL};
    return x;
}

static inline ehr_val
ehr_s(const char *v)
{
    ehr_val x = {'s', 0, 0, v};
    return x;
}

static inline ehr_val
ehr_d(double v, int has)
{
    ehr_val x = {has ? 'd' : 'n', 0, v, NULL};
    return x;
}

static inline rhis_status
ehr_bind(rhis_stmt *st, int idx, const ehr_val *v)
{
    switch (v->type) {
    case 'i':
        return v->i == EHR_NONE ? rhis_db_bind_null(st, idx)
                                : rhis_db_bind_int64(st, idx, v->i);
    case 'd':
        return rhis_db_bind_double(st, idx, v->d);
    case 's':
        return rhis_db_bind_text(st, idx, v->s);
    default:
        return rhis_db_bind_null(st, idx);
    }
}

/*
 * Writes the typed row: *id == 0 runs insert_sql (n values, "... RETURNING
 * id") and sets *id; otherwise update_sql (the same n values, then the id).
 * A database fault is recorded on c.
 */
/*
 * With deferred writes (PostgreSQL pipeline, rhis_db_set_deferred) an
 * insert need not wait for "RETURNING id": its id is reserved first
 * (rhis_db_next_id) and written with the row.  From "INSERT INTO t (cols)
 * VALUES (vals) RETURNING id" this makes "INSERT INTO t (cols, id) VALUES
 * (vals, ?)" in the arena and the table's name in table; NULL when
 * insert_sql is not of that form (the insert then waits for its id).
 */
static inline const char *
ehr_insert_with_id(rhis_fhir_ctx *c,
                   const char *insert_sql,
                   char *table,
                   size_t tlen)
{
    static const char head[] = "INSERT INTO ", tail[] = ") RETURNING id";
    size_t n = strlen(insert_sql), hl = strlen(head), tl = strlen(tail);
    const char *vals = strstr(insert_sql, ") VALUES (");
    if (strncmp(insert_sql, head, hl) != 0 || n <= hl + tl || vals == NULL ||
        strcmp(insert_sql + n - tl, tail) != 0)
        return NULL;
    size_t k = strcspn(insert_sql + hl, " (");
    if (k == 0 || k >= tlen)
        return NULL;
    memcpy(table, insert_sql + hl, k);
    table[k] = '\0';
    size_t a = (size_t)(vals - insert_sql), b = n - tl;
    char *out = rhis_arena_alloc(c->arena, n + 16);
    char *p = out;
    memcpy(p, insert_sql, a); /* INSERT INTO t (cols */
    p += a;
    memcpy(p, ", id", 4);
    p += 4;
    memcpy(p, insert_sql + a, b - a); /* ) VALUES (vals */
    p += b - a;
    memcpy(p, ", ?)", 5);
    return out;
}

/*
 * Inserts (*id == 0, sets *id: the insert's SQL ends "RETURNING id") or
 * updates (binds *id after the n values) one typed row.
 */
static inline rhis_status
ehr_write_row(rhis_fhir_ctx *c,
              const char *insert_sql,
              const char *update_sql,
              const ehr_val *v,
              int n,
              int64_t *id,
              const char *type)
{
    rhis_stmt *st = NULL;
    int insert = *id == 0;
    const char *sql = insert ? insert_sql : update_sql;
    int64_t reserved = 0;
    rhis_status rc = RHIS_OK;
    if (insert && rhis_db_deferred(c->db)) {
        char table[64];
        const char *with_id =
            ehr_insert_with_id(c, insert_sql, table, sizeof(table));
        if (with_id != NULL &&
            (rc = rhis_db_next_id(c->db, table, &reserved)) == RHIS_OK)
            sql = with_id;
        else if (rc == RHIS_EUNSUPPORTED)
            rc = RHIS_OK;
    }
    if (rc == RHIS_OK)
        rc = rhis_db_prepare(c->db, sql, &st);
    for (int i = 0; rc == RHIS_OK && i < n; i++)
        rc = ehr_bind(st, i + 1, &v[i]);
    if (rc == RHIS_OK && (!insert || reserved != 0))
        rc = rhis_db_bind_int64(st, n + 1, insert ? reserved : *id);
    if (rc == RHIS_OK)
        rc = rhis_db_step(st);
    if (rc == RHIS_ROW && insert && reserved == 0) {
        *id = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE && insert && reserved != 0) {
        *id = reserved;
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE && !insert) {
        rc = rhis_db_changes(c->db) == 1 ? RHIS_OK : RHIS_ENOTFOUND;
    } else if (rc == RHIS_DONE || rc == RHIS_ROW) {
        rc = RHIS_EINTERNAL;
    }
    rhis_db_finalize(st);
    if (rc != RHIS_OK)
        return rhis_fhir_fail(c, rc == RHIS_ECONFLICT ? RHIS_ECONFLICT : rc,
                              NULL, "cannot store the %s row", type);
    return RHIS_OK;
}

/* ---- reference tables (src/ehr/observation.c, immunization.c) ---- */

/* A LOINC code RHIS knows (data/loinc-rhis.csv). */
typedef struct ehr_loinc {
    const char *code;
    const char *kind; /* panel, vital, lab, document */
    const char *name_zh;
    const char *name_en;
    const char *units; /* UCUM codes separated by spaces, "" = none */
} ehr_loinc;

/* A vaccine of the national immunisation programme
 * (data/vaccines-cn.csv). */
typedef struct ehr_vaccine {
    const char *code;
    const char *name_zh;
    const char *name_en;
    int doses; /* doses in the programme's schedule */
} ehr_vaccine;

/*
 * A reference table (src/ehr/reftable.c): data/<file>, a CSV whose header
 * is exactly `header` (ncols fields), each row turned into a record of
 * rowsize bytes by fill (strings copied into a; 0 for a bad row, reported
 * with row_rule).  Every record's first member is its code (const char *).
 * Read once, on first use, under lock; kept for the life of the process.
 */
typedef struct ehr_reftable {
    const char *file;
    const char *what; /* "LOINC", for messages */
    const char *header;
    int ncols;
    size_t rowsize;
    int (*fill)(void *row, char **f, rhis_arena *a);
    const char *row_rule;
    pthread_mutex_t lock;
    void *rows;
    size_t n;
    rhis_arena *strings;
} ehr_reftable;

/* Looks code up in t (loading it first if needed); *out NULL if unknown.
 * RHIS_EIO (recorded, and logged) if the table cannot be read. */
rhis_status rhis_ehr_reftable_find(rhis_fhir_ctx *c,
                                   ehr_reftable *t,
                                   const char *code,
                                   const void **out);

/*
 * Looks code up in the LOINC table, loading it on first use from the data
 * directory (the request's configuration, else $RHIS_DATA_DIR, else
 * "data").  *out NULL when unknown.  RHIS_EIO (recorded) if the table
 * cannot be read.
 */
rhis_status
rhis_ehr_loinc_find(rhis_fhir_ctx *c, const char *code, const ehr_loinc **out);
/* Same for the vaccine table. */
rhis_status rhis_ehr_vaccine_find(rhis_fhir_ctx *c,
                                  const char *code,
                                  const ehr_vaccine **out);
/* True if code has LOINC's form: digits, '-', the mod-10 check digit. */
int rhis_ehr_loinc_valid(const char *code);
/* The data directory of c (see rhis_ehr_loinc_find). */
const char *rhis_ehr_data_dir(const rhis_fhir_ctx *c);

/* ---- HTTP handlers: every type routes to the generic engine ---- */

#define EHR_HANDLERS(lower, type)                                              \
    rhis_status api_##lower##_read(rhis_req *req, rhis_resp *resp)             \
    {                                                                          \
        return rhis_fhir_read(req, resp, &(type));                             \
    }                                                                          \
    rhis_status api_##lower##_vread(rhis_req *req, rhis_resp *resp)            \
    {                                                                          \
        return rhis_fhir_vread(req, resp, &(type));                            \
    }                                                                          \
    rhis_status api_##lower##_history(rhis_req *req, rhis_resp *resp)          \
    {                                                                          \
        return rhis_fhir_history(req, resp, &(type));                          \
    }                                                                          \
    rhis_status api_##lower##_create(rhis_req *req, rhis_resp *resp)           \
    {                                                                          \
        return rhis_fhir_create(req, resp, &(type));                           \
    }                                                                          \
    rhis_status api_##lower##_update(rhis_req *req, rhis_resp *resp)           \
    {                                                                          \
        return rhis_fhir_update(req, resp, &(type));                           \
    }                                                                          \
    rhis_status api_##lower##_delete(rhis_req *req, rhis_resp *resp)           \
    {                                                                          \
        return rhis_fhir_delete(req, resp, &(type));                           \
    }                                                                          \
    rhis_status api_##lower##_search(rhis_req *req, rhis_resp *resp)           \
    {                                                                          \
        return rhis_fhir_search_type(req, resp, &(type));                      \
    }

#endif
