/*
 * patient.c - residents (全员人口) as FHIR R4 Patient: the store type of the
 * generic engine (rhis/fhirstore.h), its search parameters, list masking
 * and the HTTP handlers of /fhir/Patient.
 *
 * Why: the population register is the spine of the health record and the
 * master patient index; a mistyped ID number, an unknown village code or a
 * second record for the same resident costs every later match.  So every
 * Patient is checked before it is stored: the whole resource against the
 * R4 element lists (unknown elements and wrong JSON types are refused, as
 * the official JSON schema would), the ID number against GB 11643 and
 * against the gender and birth date given beside it, codes and references
 * against our tables.  Each fault answers with the FHIRPath of the element.
 *
 * Mapping (table patient, one row per resident; patient_identifier, every
 * identifier of the current version):
 *   name[0]          text, else family + given -> name, family, given;
 *                    name_pinyin = rhis_pinyin_of(name)
 *   gender           male/female/other/unknown -> sex M/F/O/U (required)
 *   birthDate        birth_date (as given), birth_ms (UTC midnight of the
 *                    first day); filled from the ID number when absent
 *   identifier[]     all -> patient_identifier; RHIS_SYS_IDNUM -> id_number
 *   telecom[]        first phone -> phone
 *   address[0]       extension address-division -> area_code; text or the
 *                    lines -> address_line
 *   extension        household (valueString), ethnicity (valueCoding)
 *   deceased[x]      deceased_ms (RHIS_PATIENT_DECEASED_UNDATED for true)
 *   managingOrganization -> institution_id; link replaced-by -> merged_into
 * Elements not mapped (contact, communication, photo ...) are checked and
 * kept in the version's JSON.
 *
 * Search: `name` is a FHIR string search on the name as written (prefix,
 * so "王" finds every 王); `name-pinyin` matches the toneless pinyin,
 * spaces ignored ("wangli", "wang li", "wangl" all find 王丽 and 王莉), for
 * callers who cannot type the characters or are unsure which homophone was
 * used.  Two parameters rather than one so `name` keeps its R4 meaning.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rhis/fhirstore.h"
#include "rhis/handlers.h"
#include "rhis/idnum.h"
#include "rhis/json.h"
#include "rhis/mpi.h"
#include "rhis/patient.h"
#include "rhis/pinyin.h"


#define N(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_IDENTIFIERS 32
#define MAX_NAME_BYTES  100
#define MAX_ID_VALUE    128

#define SYS_GENDER "http://hl7.org/fhir/administrative-gender"

/* ---------------------------------------------------------------- paths */

/* The FHIRPath of the element being checked, built as we descend. */
typedef struct path {
    char s[160];
    size_t n;
} path;

/* Appends n bytes of t to p; returns the previous length for path_pop.
 * A path too long for the buffer is cut, never overrun.  (The checker
 * builds a path for every element it visits: plain copies, no printf.) */
static size_t
path_put(path *p, const char *t, size_t n)
{
    size_t old = p->n, room = sizeof(p->s) - 1 - p->n;
    if (n > room)
        n = room;
    memcpy(p->s + p->n, t, n);
    p->n += n;
    p->s[p->n] = '\0';
    return old;
}

/* Appends ".key". */
static size_t
path_key(path *p, const char *key)
{
    size_t old = path_put(p, ".", 1);
    (void)path_put(p, key, strlen(key));
    return old;
}

/* Appends "[i]". */
static size_t
path_idx(path *p, size_t i)
{
    char num[24];
    size_t k = sizeof(num);
    num[--k] = ']';
    do
        num[--k] = (char)('0' + i % 10);
    while ((i /= 10) != 0);
    num[--k] = '[';
    return path_put(p, num + k, sizeof(num) - k);
}

static void
path_pop(path *p, size_t n)
{
    p->n = n;
    p->s[n] = '\0';
}

/* ---------------------------------------------------------------- dates */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* Exactly n ASCII digits at s into *out. */
static int
digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

enum { D_DATE = 0, D_DATETIME = 1, D_INSTANT = 2 };

/* A parsed FHIR date, dateTime or instant. */
typedef struct fdate {
    int y, m, d;
    int prec;   /* 1 year, 2 month, 3 day, 4 with time */
    int64_t ms; /* the first instant it covers (UTC) */
} fdate;

/*
 * Parses s strictly as a FHIR R4 date (mode D_DATE: YYYY, YYYY-MM,
 * YYYY-MM-DD), dateTime (also YYYY-MM-DDThh:mm:ss[.f+](Z|+hh:mm|-hh:mm))
 * or instant (the full form only).  Returns 1 and fills *out, or 0.
 */
static int
parse_fdate(const char *s, int mode, fdate *out)
{
    memset(out, 0, sizeof(*out));
    out->m = out->d = 1;
    if (!digits(s, 4, &out->y) || out->y == 0)
        return 0;
    out->prec = 1;
    const char *t = s + 4;
    if (*t == '-') {
        if (!digits(t + 1, 2, &out->m) || out->m < 1 || out->m > 12)
            return 0;
        out->prec = 2;
        t += 3;
        if (*t == '-') {
            if (!digits(t + 1, 2, &out->d) || out->d < 1 ||
                out->d > days_in_month(out->y, out->m))
                return 0;
            out->prec = 3;
            t += 3;
        }
    }
    out->ms = days_from_civil(out->y, out->m, out->d) * 86400000LL;
    if (*t == '\0')
        return mode != D_INSTANT || out->prec == 4;
    if (*t != 'T' || out->prec != 3 || mode == D_DATE)
        return 0;
    int h, mi, sec, oh, om;
    if (!digits(t + 1, 2, &h) || t[3] != ':' || !digits(t + 4, 2, &mi) ||
        t[6] != ':' || !digits(t + 7, 2, &sec) || h > 23 || mi > 59 || sec > 60)
        return 0;
    t += 9;
    int64_t frac = 0;
    if (*t == '.') {
        int k = 0;
        for (t++; *t >= '0' && *t <= '9'; t++, k++)
            if (k < 3)
                frac = frac * 10 + (*t - '0');
        if (k == 0)
            return 0;
        for (; k < 3; k++)
            frac *= 10;
    }
    int64_t off = 0;
    if (*t == 'Z') {
        t++;
    } else if (*t == '+' || *t == '-') {
        if (!digits(t + 1, 2, &oh) || t[3] != ':' || !digits(t + 4, 2, &om) ||
            oh > 14 || om > 59)
            return 0;
        off = ((int64_t)oh * 60 + om) * 60000 * (*t == '+' ? 1 : -1);
        t += 6;
    } else {
        return 0;
    }
    if (*t != '\0')
        return 0;
    out->prec = 4;
    out->ms +=
        ((int64_t)h * 3600 + (int64_t)mi * 60 + (sec > 59 ? 59 : sec)) * 1000 +
        frac - off;
    return 1;
}

/* Today's day number (days since 1970-01-01) in China Standard Time. */
static int64_t
today_cst(int64_t now_ms)
{
    int64_t t = now_ms + 8 * 3600000LL;
    return (t >= 0 ? t : t - 86399999) / 86400000;
}

/* ------------------------------------------------ structure of R4 Patient */

/*
 * The element lists of the R4 datatypes a Patient uses, from the spec.
 * Each object in the resource is checked against its list: unknown
 * elements, wrong JSON types, empty values, nulls and missing required
 * elements are refused, as the official JSON schema refuses them.  What
 * the element means is checked later, by the mapping.
 */
enum kind {
    K_STR = 1, /* string, markdown */
    K_CODE,    /* code: no leading, trailing or double whitespace */
    K_URI,     /* uri, url, canonical: no whitespace */
    K_ID,      /* id: [A-Za-z0-9-.]{1,64} */
    K_BOOL,
    K_INT,  /* integer (32-bit) */
    K_UINT, /* unsignedInt */
    K_POS,  /* positiveInt */
    K_DEC,  /* decimal: any JSON number */
    K_DATE,
    K_DATETIME,
    K_INSTANT,
    K_B64,   /* base64Binary */
    K_XHTML, /* Narrative.div */
    K_OBJ,   /* a complex datatype: see type */
    K_RES,   /* a contained resource */
};

#define F_ARR 1u /* 0..* */
#define F_REQ 2u /* 1..  */

typedef struct tspec tspec;

typedef struct espec {
    const char *name;
    unsigned char kind;
    unsigned char flags;
    const tspec *type; /* K_OBJ */
} espec;

struct tspec {
    const espec *elems; /* ends with a NULL name */
    int extension;      /* Extension: value[x] allowed */
};

static const tspec t_extension, t_element, t_coding, t_cc, t_period,
    t_reference, t_identifier, t_humanname, t_contactpoint, t_address,
    t_attachment, t_meta, t_narrative, t_quantity, t_contact, t_communication,
    t_link, t_patient;

#define ELEMENT_BASE                                                           \
    {"id", K_STR, 0, NULL},                                                    \
    {                                                                          \
        "extension", K_OBJ, F_ARR, &t_extension                                \
    }
#define BACKBONE_BASE                                                          \
    ELEMENT_BASE,                                                              \
    {                                                                          \
        "modifierExtension", K_OBJ, F_ARR, &t_extension                        \
    }

static const espec e_element[] = {ELEMENT_BASE, {NULL, 0, 0, NULL}};
static const espec e_extension[] = {
    ELEMENT_BASE, {"url", K_URI, F_REQ, NULL}, {NULL, 0, 0, NULL}};
static const espec e_coding[] = {ELEMENT_BASE,
                                 {"system", K_URI, 0, NULL},
                                 {"version", K_STR, 0, NULL},
                                 {"code", K_CODE, 0, NULL},
                                 {"display", K_STR, 0, NULL},
                                 {"userSelected", K_BOOL, 0, NULL},
                                 {NULL, 0, 0, NULL}};
static const espec e_cc[] = {ELEMENT_BASE,
                             {"coding", K_OBJ, F_ARR, &t_coding},
                             {"text", K_STR, 0, NULL},
                             {NULL, 0, 0, NULL}};
static const espec e_period[] = {ELEMENT_BASE,
                                 {"start", K_DATETIME, 0, NULL},
                                 {"end", K_DATETIME, 0, NULL},
                                 {NULL, 0, 0, NULL}};
static const espec e_reference[] = {ELEMENT_BASE,
                                    {"reference", K_STR, 0, NULL},
                                    {"type", K_URI, 0, NULL},
                                    {"identifier", K_OBJ, 0, &t_identifier},
                                    {"display", K_STR, 0, NULL},
                                    {NULL, 0, 0, NULL}};
static const espec e_identifier[] = {ELEMENT_BASE,
                                     {"use", K_CODE, 0, NULL},
                                     {"type", K_OBJ, 0, &t_cc},
                                     {"system", K_URI, 0, NULL},
                                     {"value", K_STR, 0, NULL},
                                     {"period", K_OBJ, 0, &t_period},
                                     {"assigner", K_OBJ, 0, &t_reference},
                                     {NULL, 0, 0, NULL}};
static const espec e_humanname[] = {ELEMENT_BASE,
                                    {"use", K_CODE, 0, NULL},
                                    {"text", K_STR, 0, NULL},
                                    {"family", K_STR, 0, NULL},
                                    {"given", K_STR, F_ARR, NULL},
                                    {"prefix", K_STR, F_ARR, NULL},
                                    {"suffix", K_STR, F_ARR, NULL},
                                    {"period", K_OBJ, 0, &t_period},
                                    {NULL, 0, 0, NULL}};
static const espec e_contactpoint[] = {ELEMENT_BASE,
                                       {"system", K_CODE, 0, NULL},
                                       {"value", K_STR, 0, NULL},
                                       {"use", K_CODE, 0, NULL},
                                       {"rank", K_POS, 0, NULL},
                                       {"period", K_OBJ, 0, &t_period},
                                       {NULL, 0, 0, NULL}};
static const espec e_address[] = {ELEMENT_BASE,
                                  {"use", K_CODE, 0, NULL},
                                  {"type", K_CODE, 0, NULL},
                                  {"text", K_STR, 0, NULL},
                                  {"line", K_STR, F_ARR, NULL},
                                  {"city", K_STR, 0, NULL},
                                  {"district", K_STR, 0, NULL},
                                  {"state", K_STR, 0, NULL},
                                  {"postalCode", K_STR, 0, NULL},
                                  {"country", K_STR, 0, NULL},
                                  {"period", K_OBJ, 0, &t_period},
                                  {NULL, 0, 0, NULL}};
static const espec e_attachment[] = {ELEMENT_BASE,
                                     {"contentType", K_CODE, 0, NULL},
                                     {"language", K_CODE, 0, NULL},
                                     {"data", K_B64, 0, NULL},
                                     {"url", K_URI, 0, NULL},
                                     {"size", K_UINT, 0, NULL},
                                     {"hash", K_B64, 0, NULL},
                                     {"title", K_STR, 0, NULL},
                                     {"creation", K_DATETIME, 0, NULL},
                                     {NULL, 0, 0, NULL}};
static const espec e_quantity[] = {ELEMENT_BASE,
                                   {"value", K_DEC, 0, NULL},
                                   {"comparator", K_CODE, 0, NULL},
                                   {"unit", K_STR, 0, NULL},
                                   {"system", K_URI, 0, NULL},
                                   {"code", K_CODE, 0, NULL},
                                   {NULL, 0, 0, NULL}};
static const espec e_meta[] = {ELEMENT_BASE,
                               {"versionId", K_ID, 0, NULL},
                               {"lastUpdated", K_INSTANT, 0, NULL},
                               {"source", K_URI, 0, NULL},
                               {"profile", K_URI, F_ARR, NULL},
                               {"security", K_OBJ, F_ARR, &t_coding},
                               {"tag", K_OBJ, F_ARR, &t_coding},
                               {NULL, 0, 0, NULL}};
static const espec e_narrative[] = {ELEMENT_BASE,
                                    {"status", K_CODE, F_REQ, NULL},
                                    {"div", K_XHTML, F_REQ, NULL},
                                    {NULL, 0, 0, NULL}};
static const espec e_contact[] = {BACKBONE_BASE,
                                  {"relationship", K_OBJ, F_ARR, &t_cc},
                                  {"name", K_OBJ, 0, &t_humanname},
                                  {"telecom", K_OBJ, F_ARR, &t_contactpoint},
                                  {"address", K_OBJ, 0, &t_address},
                                  {"gender", K_CODE, 0, NULL},
                                  {"organization", K_OBJ, 0, &t_reference},
                                  {"period", K_OBJ, 0, &t_period},
                                  {NULL, 0, 0, NULL}};
static const espec e_communication[] = {BACKBONE_BASE,
                                        {"language", K_OBJ, F_REQ, &t_cc},
                                        {"preferred", K_BOOL, 0, NULL},
                                        {NULL, 0, 0, NULL}};
static const espec e_link[] = {BACKBONE_BASE,
                               {"other", K_OBJ, F_REQ, &t_reference},
                               {"type", K_CODE, F_REQ, NULL},
                               {NULL, 0, 0, NULL}};
static const espec e_patient[] = {
    {"resourceType", K_STR, 0, NULL},
    {"id", K_ID, 0, NULL},
    {"meta", K_OBJ, 0, &t_meta},
    {"implicitRules", K_URI, 0, NULL},
    {"language", K_CODE, 0, NULL},
    {"text", K_OBJ, 0, &t_narrative},
    {"contained", K_RES, F_ARR, NULL},
    {"extension", K_OBJ, F_ARR, &t_extension},
    {"modifierExtension", K_OBJ, F_ARR, &t_extension},
    {"identifier", K_OBJ, F_ARR, &t_identifier},
    {"active", K_BOOL, 0, NULL},
    {"name", K_OBJ, F_ARR, &t_humanname},
    {"telecom", K_OBJ, F_ARR, &t_contactpoint},
    {"gender", K_CODE, 0, NULL},
    {"birthDate", K_DATE, 0, NULL},
    {"deceasedBoolean", K_BOOL, 0, NULL},
    {"deceasedDateTime", K_DATETIME, 0, NULL},
    {"address", K_OBJ, F_ARR, &t_address},
    {"maritalStatus", K_OBJ, 0, &t_cc},
    {"multipleBirthBoolean", K_BOOL, 0, NULL},
    {"multipleBirthInteger", K_INT, 0, NULL},
    {"photo", K_OBJ, F_ARR, &t_attachment},
    {"contact", K_OBJ, F_ARR, &t_contact},
    {"communication", K_OBJ, F_ARR, &t_communication},
    {"generalPractitioner", K_OBJ, F_ARR, &t_reference},
    {"managingOrganization", K_OBJ, 0, &t_reference},
    {"link", K_OBJ, F_ARR, &t_link},
    {NULL, 0, 0, NULL}};

static const tspec t_extension = {e_extension, 1};
static const tspec t_element = {e_element, 0};
static const tspec t_coding = {e_coding, 0};
static const tspec t_cc = {e_cc, 0};
static const tspec t_period = {e_period, 0};
static const tspec t_reference = {e_reference, 0};
static const tspec t_identifier = {e_identifier, 0};
static const tspec t_humanname = {e_humanname, 0};
static const tspec t_contactpoint = {e_contactpoint, 0};
static const tspec t_address = {e_address, 0};
static const tspec t_attachment = {e_attachment, 0};
static const tspec t_meta = {e_meta, 0};
static const tspec t_narrative = {e_narrative, 0};
static const tspec t_quantity = {e_quantity, 0};
static const tspec t_contact = {e_contact, 0};
static const tspec t_communication = {e_communication, 0};
static const tspec t_link = {e_link, 0};
static const tspec t_patient = {e_patient, 0};

/* Extension.value[x]: the types checked; any other R4 type is accepted
 * with its JSON kind unchecked beyond "a value". */
static const struct {
    const char *suffix;
    unsigned char kind;
    const tspec *type;
} xvalues[] = {
    {"String", K_STR, NULL},
    {"Markdown", K_STR, NULL},
    {"Code", K_CODE, NULL},
    {"Id", K_ID, NULL},
    {"Uri", K_URI, NULL},
    {"Url", K_URI, NULL},
    {"Canonical", K_URI, NULL},
    {"Oid", K_URI, NULL},
    {"Uuid", K_URI, NULL},
    {"Boolean", K_BOOL, NULL},
    {"Integer", K_INT, NULL},
    {"UnsignedInt", K_UINT, NULL},
    {"PositiveInt", K_POS, NULL},
    {"Decimal", K_DEC, NULL},
    {"Date", K_DATE, NULL},
    {"DateTime", K_DATETIME, NULL},
    {"Instant", K_INSTANT, NULL},
    {"Base64Binary", K_B64, NULL},
    {"Coding", K_OBJ, &t_coding},
    {"CodeableConcept", K_OBJ, &t_cc},
    {"Reference", K_OBJ, &t_reference},
    {"Period", K_OBJ, &t_period},
    {"Identifier", K_OBJ, &t_identifier},
    {"HumanName", K_OBJ, &t_humanname},
    {"ContactPoint", K_OBJ, &t_contactpoint},
    {"Address", K_OBJ, &t_address},
    {"Attachment", K_OBJ, &t_attachment},
    {"Quantity", K_OBJ, &t_quantity},
};

static const char *const kind_names[] = {
    [K_STR] = "a string",
    [K_CODE] = "a code",
    [K_URI] = "a uri",
    [K_ID] = "an id",
    [K_BOOL] = "a boolean",
    [K_INT] = "an integer",
    [K_UINT] = "an unsignedInt",
    [K_POS] = "a positiveInt",
    [K_DEC] = "a decimal number",
    [K_DATE] = "a date (YYYY-MM-DD)",
    [K_DATETIME] = "a dateTime",
    [K_INSTANT] = "an instant",
    [K_B64] = "base64 text",
    [K_XHTML] = "XHTML text in a <div>",
    [K_OBJ] = "an object",
    [K_RES] = "a resource object",
};

static const espec *
find_elem(const tspec *t, const char *name)
{
    for (const espec *e = t->elems; e->name != NULL; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static int
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Does the JSON primitive v have the form of kind k? */
static int
primitive_ok(json_object *v, int k)
{
    const char *s;
    fdate d;
    switch (k) {
    case K_BOOL:
        return json_object_is_type(v, json_type_boolean);
    case K_INT:
    case K_UINT:
    case K_POS: {
        if (!json_object_is_type(v, json_type_int))
            return 0;
        int64_t n = json_object_get_int64(v);
        int64_t lo = k == K_INT ? -2147483648LL : k == K_UINT ? 0 : 1;
        return n >= lo && n <= 2147483647LL;
    }
    case K_DEC:
        return json_object_is_type(v, json_type_int) ||
               json_object_is_type(v, json_type_double);
    default:
        break;
    }
    if (!json_object_is_type(v, json_type_string))
        return 0;
    s = json_object_get_string(v);
    size_t len = strlen(s);
    switch (k) {
    case K_STR: {
        for (size_t i = 0; i < len; i++)
            if (!is_space(s[i]))
                return 1;
        return 0;
    }
    case K_CODE:
        if (len == 0 || is_space(s[0]) || is_space(s[len - 1]))
            return 0;
        for (size_t i = 1; i < len; i++)
            if (is_space(s[i]) && (s[i] != ' ' || is_space(s[i - 1])))
                return 0;
        return 1;
    case K_URI:
        if (len == 0)
            return 0;
        for (size_t i = 0; i < len; i++)
            if (is_space(s[i]))
                return 0;
        return 1;
    case K_ID:
        if (len == 0 || len > 64)
            return 0;
        for (size_t i = 0; i < len; i++)
            if (!((s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= 'a' && s[i] <= 'z') ||
                  (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
                return 0;
        return 1;
    case K_DATE:
        return parse_fdate(s, D_DATE, &d);
    case K_DATETIME:
        return parse_fdate(s, D_DATETIME, &d);
    case K_INSTANT:
        return parse_fdate(s, D_INSTANT, &d);
    case K_B64:
        if (len == 0)
            return 0;
        for (size_t i = 0; i < len; i++)
            if (!((s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= 'a' && s[i] <= 'z') ||
                  (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/' ||
                  s[i] == '=' || is_space(s[i])))
                return 0;
        return 1;
    case K_XHTML:
        return strncmp(s, "<div", 4) == 0;
    default:
        return 0;
    }
}

static rhis_status
check_object(rhis_fhir_ctx *c, json_object *o, const tspec *t, path *p);

/* Checks one value (not an array) of kind k / type t at p. */
static rhis_status
check_value(rhis_fhir_ctx *c, json_object *v, int k, const tspec *t, path *p)
{
    if (v == NULL || json_object_is_type(v, json_type_null))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                              "%s is null; leave the element out instead",
                              p->s);
    if (k == K_OBJ)
        return check_object(c, v, t, p);
    if (k == K_RES) {
        if (!json_object_is_type(v, json_type_object) ||
            rhis_json_get_str(v, "resourceType") == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                                  "%s must be a resource with resourceType",
                                  p->s);
        return RHIS_OK;
    }
    if (!primitive_ok(v, k))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s, "%s must be %s", p->s,
                              kind_names[k]);
    return RHIS_OK;
}

/* Checks the value of element e (array or single) at p. */
static rhis_status
check_elem(rhis_fhir_ctx *c, json_object *v, const espec *e, path *p)
{
    if ((e->flags & F_ARR) == 0)
        return check_value(c, v, e->kind, e->type, p);
    if (!json_object_is_type(v, json_type_array))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s, "%s must be an array",
                              p->s);
    size_t n = json_object_array_length(v);
    if (n == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                              "%s is an empty array; leave it out instead",
                              p->s);
    for (size_t i = 0; i < n; i++) {
        size_t old = path_idx(p, i);
        rhis_status rc = check_value(c, json_object_array_get_idx(v, i),
                                     e->kind, e->type, p);
        if (rc != RHIS_OK)
            return rc;
        path_pop(p, old);
    }
    return RHIS_OK;
}

/* "_birthDate": the id and extensions of a primitive element. */
static rhis_status
check_primitive_ext(rhis_fhir_ctx *c,
                    json_object *v,
                    const espec *base,
                    path *p)
{
    if ((base->flags & F_ARR) == 0)
        return check_object(c, v, &t_element, p);
    if (!json_object_is_type(v, json_type_array))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s, "%s must be an array",
                              p->s);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *it = json_object_array_get_idx(v, i);
        if (it == NULL) /* null keeps the positions aligned */
            continue;
        size_t old = path_idx(p, i);
        rhis_status rc = check_object(c, it, &t_element, p);
        if (rc != RHIS_OK)
            return rc;
        path_pop(p, old);
    }
    return RHIS_OK;
}

/* Extension.value[x]: kind of the suffix, or 0 if not a value key. */
static int
xvalue_kind(const char *key, const tspec **type)
{
    *type = NULL;
    if (strncmp(key, "value", 5) != 0 || key[5] < 'A' || key[5] > 'Z')
        return 0;
    for (size_t i = 0; i < N(xvalues); i++)
        if (strcmp(key + 5, xvalues[i].suffix) == 0) {
            *type = xvalues[i].type;
            return xvalues[i].kind;
        }
    return -1; /* another R4 type: accepted as is */
}

static rhis_status
check_object(rhis_fhir_ctx *c, json_object *o, const tspec *t, path *p)
{
    if (!json_object_is_type(o, json_type_object))
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s, "%s must be an object",
                              p->s);
    if (json_object_object_length(o) == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                              "%s is an empty object; leave it out instead",
                              p->s);
    int nvalues = 0;
    json_object_object_foreach(o, key, v)
    {
        size_t old = path_key(p, key);
        rhis_status rc;
        const espec *e = find_elem(t, key[0] == '_' ? key + 1 : key);
        const tspec *xt;
        int xk = t->extension ? xvalue_kind(key, &xt) : 0;
        if (xk != 0) {
            nvalues++;
            if (v == NULL || json_object_is_type(v, json_type_null))
                rc = check_value(c, v, K_STR, NULL, p);
            else
                rc = xk > 0 ? check_value(c, v, xk, xt, p) : RHIS_OK;
        } else if (e == NULL || (key[0] == '_' && e->kind >= K_OBJ)) {
            rc = rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                                "unknown element '%s' in %.*s", key, (int)old,
                                p->s);
        } else if (strcmp(key, "modifierExtension") == 0) {
            rc = rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                                "modifierExtension is not supported: RHIS "
                                "cannot tell how it changes the meaning");
        } else if (key[0] == '_') {
            rc = check_primitive_ext(c, v, e, p);
        } else {
            rc = check_elem(c, v, e, p);
        }
        if (rc != RHIS_OK)
            return rc;
        path_pop(p, old);
    }
    for (const espec *e = t->elems; e->name != NULL; e++)
        if ((e->flags & F_REQ) != 0 && rhis_json_get(o, e->name) == NULL)
            return rhis_fhir_fail(c, RHIS_EINVAL, p->s, "%s.%s is required",
                                  p->s, e->name);
    if (t->extension) {
        int nested = rhis_json_get(o, "extension") != NULL;
        if (nvalues > 1 || (nvalues == 1) == nested)
            return rhis_fhir_fail(c, RHIS_EINVAL, p->s,
                                  "%s needs exactly one value[x] or nested "
                                  "extensions, not both",
                                  p->s);
    }
    return RHIS_OK;
}

/* ----------------------------------------------------------- vocabularies */

char
rhis_patient_sex_of(const char *gender)
{
    if (gender == NULL)
        return 0;
    if (strcmp(gender, "male") == 0)
        return 'M';
    if (strcmp(gender, "female") == 0)
        return 'F';
    if (strcmp(gender, "other") == 0)
        return 'O';
    if (strcmp(gender, "unknown") == 0)
        return 'U';
    return 0;
}

const char *
rhis_patient_gender_of(char sex)
{
    switch (sex) {
    case 'M':
        return "male";
    case 'F':
        return "female";
    case 'O':
        return "other";
    case 'U':
        return "unknown";
    default:
        return NULL;
    }
}

/* GB/T 3304-1991 codes of the nationalities of China. */
static const char *const ethnicities[] = {
    "汉族",       "蒙古族",   "回族",     "藏族",     "维吾尔族",   "苗族",
    "彝族",       "壮族",     "布依族",   "朝鲜族",   "满族",       "侗族",
    "瑶族",       "白族",     "土家族",   "哈尼族",   "哈萨克族",   "傣族",
    "黎族",       "傈僳族",   "佤族",     "畲族",     "高山族",     "拉祜族",
    "水族",       "东乡族",   "纳西族",   "景颇族",   "柯尔克孜族", "土族",
    "达斡尔族",   "仫佬族",   "羌族",     "布朗族",   "撒拉族",     "毛南族",
    "仡佬族",     "锡伯族",   "阿昌族",   "普米族",   "塔吉克族",   "怒族",
    "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",   "保安族",     "裕固族",
    "京族",       "塔塔尔族", "独龙族",   "鄂伦春族", "赫哲族",     "门巴族",
    "珞巴族",     "基诺族",
};

/* The display of GB/T 3304 code, NULL if not a code. */
static const char *
ethnicity_display(const char *code)
{
    int n;
    if (code == NULL || strlen(code) != 2 || !digits(code, 2, &n))
        return NULL;
    if (n >= 1 && n <= (int)N(ethnicities))
        return ethnicities[n - 1];
    if (n == 97)
        return "其他";
    if (n == 98)
        return "外国血统中国籍人士";
    return NULL;
}

int
rhis_patient_phone_valid(const char *s)
{
    int v;
    if (s == NULL)
        return 0;
    size_t len = strlen(s);
    if (len == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9') {
        for (size_t i = 0; i < len; i++)
            if (s[i] < '0' || s[i] > '9')
                return 0;
        return 1;
    }
    if (len < 10 || s[0] != '0' || s[1] == '0')
        return 0;
    for (int area = 3; area <= 4; area++) {
        const char *t = s + area;
        if (!digits(s, area, &v))
            continue;
        if (*t == '-')
            t++;
        size_t rest = strlen(t);
        if ((rest == 7 || rest == 8) && t[0] != '0' && t[0] != '1') {
            size_t i = 0;
            while (i < rest && t[i] >= '0' && t[i] <= '9')
                i++;
            if (i == rest)
                return 1;
        }
    }
    return 0;
}

void
rhis_patient_mask_phone(const char *s, char *out, size_t len)
{
    if (len == 0)
        return;
    size_t n = s != NULL ? strlen(s) : 0;
    if (n < 8 || n >= len) {
        (void)snprintf(out, len, "****");
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = '*';
    memcpy(out, s, 3);
    memcpy(out + n - 4, s + n - 4, 4);
    out[n] = '\0';
}

/* Masks the phone and sms values of a ContactPoint array. */
static void
mask_telecom(json_object *tel)
{
    for (size_t i = 0; json_object_is_type(tel, json_type_array) &&
                       i < json_object_array_length(tel);
         i++) {
        json_object *cp = json_object_array_get_idx(tel, i);
        const char *sys = rhis_json_get_str(cp, "system");
        if (sys == NULL ||
            (strcmp(sys, "phone") != 0 && strcmp(sys, "sms") != 0) ||
            rhis_json_get(cp, "value") == NULL)
            continue;
        char m[64];
        rhis_patient_mask_phone(rhis_json_get_str(cp, "value"), m, sizeof(m));
        json_object_object_add(cp, "value", json_object_new_string(m));
    }
}

void
rhis_patient_mask(json_object *res)
{
    json_object *ids = rhis_json_get(res, "identifier");
    for (size_t i = 0; json_object_is_type(ids, json_type_array) &&
                       i < json_object_array_length(ids);
         i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = rhis_json_get_str(id, "system");
        if (sys == NULL || strcmp(sys, RHIS_SYS_IDNUM) != 0 ||
            rhis_json_get(id, "value") == NULL)
            continue;
        char m[RHIS_IDNUM_LEN + 1];
        rhis_idnum_mask(rhis_json_get_str(id, "value"), m);
        json_object_object_add(id, "value", json_object_new_string(m));
    }
    mask_telecom(rhis_json_get(res, "telecom"));
    /* the phones of relatives and other contacts too */
    json_object *contacts = rhis_json_get(res, "contact");
    for (size_t i = 0; json_object_is_type(contacts, json_type_array) &&
                       i < json_object_array_length(contacts);
         i++)
        mask_telecom(
            rhis_json_get(json_object_array_get_idx(contacts, i), "telecom"));
    json_object_object_del(res, "text");
}

/* ------------------------------------------------------------ the mapping */

typedef struct ident {
    const char *system;
    const char *value;
    int index; /* in Patient.identifier */
} ident;

/* A Patient being stored: its typed row and what goes beside it. */
typedef struct pat {
    rhis_patient row;
    int has_idnum;
    int idnum_index;
    rhis_idnum idn;
    fdate birth;
    int nident;
    ident ids[MAX_IDENTIFIERS];
} pat;

static rhis_status bad(rhis_fhir_ctx *c, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rhis_fhir_fail with RHIS_EINVAL at expr; the message is formatted here. */
static rhis_status
bad(rhis_fhir_ctx *c, const char *expr, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s", msg);
}

/* Copies s into out[len]; 0 if it does not fit. */
static int
copy_fits(char *out, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (n >= len)
        return 0;
    memcpy(out, s, n + 1);
    return 1;
}

static int
is_ascii_alnum(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= 'a' && ch <= 'z');
}

static rhis_status
map_name(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    json_object *names = rhis_json_get(res, "name");
    if (names == NULL)
        return bad(c, "Patient.name", "Patient.name is required");
    json_object *n0 = json_object_array_get_idx(names, 0);
    const char *text = rhis_json_get_str(n0, "text");
    const char *family = rhis_json_get_str(n0, "family");
    json_object *given = rhis_json_get(n0, "given");
    char g[192] = "";
    size_t gl = 0;
    for (size_t i = 0; given != NULL && i < json_object_array_length(given);
         i++) {
        const char *s =
            json_object_get_string(json_object_array_get_idx(given, i));
        int k = snprintf(g + gl, sizeof(g) - gl, "%s%s",
                         gl > 0 && is_ascii_alnum((unsigned char)g[gl - 1]) &&
                                 is_ascii_alnum((unsigned char)s[0])
                             ? " "
                             : "",
                         s);
        if (k < 0 || (size_t)k >= sizeof(g) - gl)
            return bad(c, "Patient.name[0].given",
                       "Patient.name[0].given is too long (at most %d bytes)",
                       (int)sizeof(pt->row.given) - 1);
        gl += (size_t)k;
    }
    if (family != NULL &&
        !copy_fits(pt->row.family, sizeof(pt->row.family), family))
        return bad(c, "Patient.name[0].family",
                   "Patient.name[0].family is too long (at most %d bytes)",
                   (int)sizeof(pt->row.family) - 1);
    if (!copy_fits(pt->row.given, sizeof(pt->row.given), g))
        return bad(c, "Patient.name[0].given",
                   "Patient.name[0].given is too long (at most %d bytes)",
                   (int)sizeof(pt->row.given) - 1);
    char full[256];
    if (text != NULL) {
        (void)snprintf(full, sizeof(full), "%s", text);
    } else {
        /* Chinese order, family name first, no space between characters;
         * a space only between two Latin words ("Smith Anna"). */
        const char *f = family != NULL ? family : "";
        size_t fl = strlen(f);
        int space = fl > 0 && gl > 0 &&
                    is_ascii_alnum((unsigned char)f[fl - 1]) &&
                    is_ascii_alnum((unsigned char)g[0]);
        (void)snprintf(full, sizeof(full), "%s%s%s", f, space ? " " : "", g);
    }
    if (full[0] == '\0')
        return bad(c, "Patient.name[0]",
                   "Patient.name[0] needs text, or family and/or given");
    if (strlen(full) > MAX_NAME_BYTES)
        return bad(c, text != NULL ? "Patient.name[0].text" : "Patient.name[0]",
                   "the name is too long (at most %d bytes)", MAX_NAME_BYTES);
    memcpy(pt->row.name, full, strlen(full) + 1);
    (void)rhis_pinyin_of(pt->row.name, pt->row.name_pinyin,
                         sizeof(pt->row.name_pinyin));
    return RHIS_OK;
}

/* The resident ID number at identifier[i]: checked, normalised in res. */
static rhis_status
map_idnum(rhis_fhir_ctx *c, json_object *id, int i, pat *pt)
{
    char ex[64], err[200], buf[64];
    (void)snprintf(ex, sizeof(ex), "Patient.identifier[%d].value", i);
    const char *v = rhis_json_get_str(id, "value");
    /* leading and trailing blanks are a typing artefact, not part of it */
    while (is_space(*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && is_space(v[n - 1]))
        n--;
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    rhis_idnum idn;
    if (rhis_idnum_check_at(buf, (time_t)(c->now_ms / 1000), &idn, err,
                            sizeof(err)) != RHIS_OK)
        return bad(c, ex, "%s", err);
    if (pt->has_idnum) {
        if (strcmp(pt->idn.normalised, idn.normalised) == 0)
            return RHIS_OK;
        return bad(c, ex,
                   "Patient has two different resident ID numbers "
                   "(identifier[%d] and identifier[%d])",
                   pt->idnum_index, i);
    }
    pt->has_idnum = 1;
    pt->idnum_index = i;
    pt->idn = idn;
    memcpy(pt->row.id_number, idn.normalised, sizeof(pt->row.id_number));
    if (strcmp(rhis_json_get_str(id, "value"), idn.normalised) != 0)
        json_object_object_add(id, "value",
                               json_object_new_string(idn.normalised));
    return RHIS_OK;
}

static rhis_status
map_identifiers(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    json_object *ids = rhis_json_get(res, "identifier");
    size_t n = ids != NULL ? json_object_array_length(ids) : 0;
    if (n > MAX_IDENTIFIERS)
        return bad(c, "Patient.identifier",
                   "Patient has %zu identifiers; at most %d are accepted", n,
                   MAX_IDENTIFIERS);
    for (size_t i = 0; i < n; i++) {
        char ex[64];
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = rhis_json_get_str(id, "system");
        if (sys == NULL) {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%zu].system", i);
            return bad(c, ex, "an identifier needs a system and a value");
        }
        if (rhis_json_get_str(id, "value") == NULL) {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%zu].value", i);
            return bad(c, ex, "an identifier needs a system and a value");
        }
        if (strcmp(sys, RHIS_SYS_IDNUM) == 0) {
            rhis_status rc = map_idnum(c, id, (int)i, pt);
            if (rc != RHIS_OK)
                return rc;
        }
        const char *val = rhis_json_get_str(id, "value");
        if (strlen(val) > MAX_ID_VALUE) {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%zu].value", i);
            return bad(c, ex, "identifier value is too long (at most %d bytes)",
                       MAX_ID_VALUE);
        }
        if (strncmp(sys, RHIS_SYS_MRN_PREFIX, strlen(RHIS_SYS_MRN_PREFIX)) ==
                0 &&
            sys[strlen(RHIS_SYS_MRN_PREFIX)] == '\0') {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%zu].system", i);
            return bad(c, ex,
                       "a medical record number system is " RHIS_SYS_MRN_PREFIX
                       " followed by the institution code");
        }
        int dup = 0;
        for (int k = 0; k < pt->nident; k++)
            if (strcmp(pt->ids[k].system, sys) == 0 &&
                strcmp(pt->ids[k].value, val) == 0)
                dup = 1;
        if (dup)
            continue;
        pt->ids[pt->nident].system = sys;
        pt->ids[pt->nident].value = val;
        pt->ids[pt->nident].index = (int)i;
        pt->nident++;
    }
    return RHIS_OK;
}

static rhis_status
map_telecom(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    json_object *tel = rhis_json_get(res, "telecom");
    for (size_t i = 0; tel != NULL && i < json_object_array_length(tel); i++) {
        char ex[64];
        json_object *cp = json_object_array_get_idx(tel, i);
        const char *sys = rhis_json_get_str(cp, "system");
        const char *val = rhis_json_get_str(cp, "value");
        if (val != NULL && sys == NULL) {
            (void)snprintf(ex, sizeof(ex), "Patient.telecom[%zu].system", i);
            return bad(c, ex,
                       "a telecom value needs a system (phone, sms, "
                       "email, ...)");
        }
        if (sys == NULL ||
            (strcmp(sys, "phone") != 0 && strcmp(sys, "sms") != 0))
            continue;
        (void)snprintf(ex, sizeof(ex), "Patient.telecom[%zu].value", i);
        if (val == NULL)
            return bad(c, ex, "a phone telecom needs a value");
        if (!rhis_patient_phone_valid(val))
            return bad(c, ex,
                       "phone number must be an 11-digit mobile number "
                       "starting with 1, or a landline with its area code "
                       "such as 0432-64201234");
        if (pt->row.phone[0] == '\0' && strcmp(sys, "phone") == 0)
            (void)snprintf(pt->row.phone, sizeof(pt->row.phone), "%s", val);
    }
    return RHIS_OK;
}

static rhis_status
storage_error(rhis_fhir_ctx *c, rhis_status rc)
{
    return rhis_fhir_fail(c, rc == RHIS_EBUSY ? RHIS_EBUSY : RHIS_EIO, NULL,
                          "storage error while saving Patient");
}

/* Does area code exist in table area? */
static rhis_status
area_exists(rhis_fhir_ctx *c, const char *code, int *found)
{
    int64_t one;
    rhis_status rc = rhis_db_scalar_int64(
        c->db, &one, "SELECT 1 FROM area WHERE code = ?", "s", code);
    *found = rc == RHIS_OK;
    return rc == RHIS_ENOTFOUND ? RHIS_OK : rc;
}

static rhis_status
map_address(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    json_object *addrs = rhis_json_get(res, "address");
    for (size_t a = 0; addrs != NULL && a < json_object_array_length(addrs);
         a++) {
        json_object *ad = json_object_array_get_idx(addrs, a);
        json_object *exts = rhis_json_get(ad, "extension");
        for (size_t k = 0; exts != NULL && k < json_object_array_length(exts);
             k++) {
            json_object *x = json_object_array_get_idx(exts, k);
            const char *url = rhis_json_get_str(x, "url");
            char ex[96];
            if (strcmp(url, RHIS_EXT_ADDRESS_DIVISION) != 0) {
                if (strncmp(url, RHIS_EXT_BASE, strlen(RHIS_EXT_BASE)) != 0)
                    continue;
                (void)snprintf(ex, sizeof(ex),
                               "Patient.address[%zu].extension[%zu].url", a, k);
                return bad(c, ex, "extension %s is not defined on Address",
                           url);
            }
            (void)snprintf(ex, sizeof(ex),
                           "Patient.address[%zu].extension[%zu].valueCode", a,
                           k);
            const char *code = rhis_json_get_str(x, "valueCode");
            if (code == NULL)
                return bad(c, ex,
                           "the address-division extension needs a valueCode "
                           "(a village or community code)");
            int found = 0;
            rhis_status rc = RHIS_OK;
            /* Deferred writes (a bulk load on PostgreSQL): the code of
             * address[0] is the row's area_code, which the foreign key
             * checks; a refusal fails the batch, which is redone with this
             * check and its message. */
            if (a == 0 && strlen(code) <= 12 && rhis_db_deferred(c->db))
                found = 1;
            else if (strlen(code) <= 12)
                rc = area_exists(c, code, &found);
            if (rc != RHIS_OK)
                return storage_error(c, rc);
            if (!found)
                return bad(c, ex,
                           "division code '%s' is not a known area (use the "
                           "12-digit village or community code)",
                           code);
            if (a == 0) {
                if (pt->row.area_code[0] != '\0')
                    return bad(c, ex,
                               "Patient.address[0] has two address-division "
                               "extensions");
                (void)snprintf(pt->row.area_code, sizeof(pt->row.area_code),
                               "%s", code);
            }
        }
    }
    if (addrs == NULL)
        return RHIS_OK;
    json_object *a0 = json_object_array_get_idx(addrs, 0);
    const char *text = rhis_json_get_str(a0, "text");
    json_object *lines = rhis_json_get(a0, "line");
    char buf[512] = "";
    size_t n = 0;
    if (text != NULL) {
        n = (size_t)snprintf(buf, sizeof(buf), "%s", text);
    } else {
        for (size_t i = 0; lines != NULL && i < json_object_array_length(lines);
             i++) {
            int k = snprintf(
                buf + n, sizeof(buf) - n, "%s",
                json_object_get_string(json_object_array_get_idx(lines, i)));
            n = k > 0 && (size_t)k < sizeof(buf) - n ? n + (size_t)k
                                                     : sizeof(buf);
            if (n >= sizeof(buf))
                break;
        }
    }
    if (n >= sizeof(pt->row.address_line))
        return bad(c,
                   text != NULL ? "Patient.address[0].text"
                                : "Patient.address[0].line",
                   "the address is too long (at most %d bytes)",
                   (int)sizeof(pt->row.address_line) - 1);
    memcpy(pt->row.address_line, buf, n + 1);
    return RHIS_OK;
}

static rhis_status
map_extensions(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    json_object *exts = rhis_json_get(res, "extension");
    for (size_t k = 0; exts != NULL && k < json_object_array_length(exts);
         k++) {
        json_object *x = json_object_array_get_idx(exts, k);
        const char *url = rhis_json_get_str(x, "url");
        char ex[80];
        if (strcmp(url, RHIS_EXT_HOUSEHOLD) == 0) {
            (void)snprintf(ex, sizeof(ex), "Patient.extension[%zu].valueString",
                           k);
            const char *v = rhis_json_get_str(x, "valueString");
            if (v == NULL)
                return bad(c, ex,
                           "the household extension needs a "
                           "valueString (the household number)");
            if (pt->row.household[0] != '\0')
                return bad(c, ex, "Patient has two household extensions");
            if (!copy_fits(pt->row.household, sizeof(pt->row.household), v))
                return bad(c, ex, "household is too long (at most %d bytes)",
                           (int)sizeof(pt->row.household) - 1);
        } else if (strcmp(url, RHIS_EXT_ETHNICITY) == 0) {
            (void)snprintf(ex, sizeof(ex), "Patient.extension[%zu].valueCoding",
                           k);
            json_object *cd = rhis_json_get(x, "valueCoding");
            if (cd == NULL)
                return bad(c, ex,
                           "the ethnicity extension needs a "
                           "valueCoding (GB/T 3304)");
            if (pt->row.ethnicity[0] != '\0')
                return bad(c, ex, "Patient has two ethnicity extensions");
            const char *sys = rhis_json_get_str(cd, "system");
            const char *code = rhis_json_get_str(cd, "code");
            const char *disp = ethnicity_display(code);
            if (sys == NULL || strcmp(sys, RHIS_SYS_ETHNICITY) != 0) {
                (void)snprintf(ex, sizeof(ex),
                               "Patient.extension[%zu].valueCoding.system", k);
                return bad(c, ex, "ethnicity system must be %s (GB/T 3304)",
                           RHIS_SYS_ETHNICITY);
            }
            if (disp == NULL) {
                (void)snprintf(ex, sizeof(ex),
                               "Patient.extension[%zu].valueCoding.code", k);
                return bad(c, ex,
                           "ethnicity code must be 01..56, 97 or 98 (GB/T "
                           "3304)");
            }
            memcpy(pt->row.ethnicity, code, 3);
            if (rhis_json_get(cd, "display") == NULL)
                json_object_object_add(cd, "display",
                                       json_object_new_string(disp));
        } else if (strncmp(url, RHIS_EXT_BASE, strlen(RHIS_EXT_BASE)) == 0) {
            (void)snprintf(ex, sizeof(ex), "Patient.extension[%zu].url", k);
            return bad(c, ex,
                       "extension %s is not defined on Patient (household "
                       "and ethnicity are; address-division goes in "
                       "Patient.address.extension)",
                       url);
        }
    }
    return RHIS_OK;
}

static rhis_status
map_refs(rhis_fhir_ctx *c, json_object *res, int64_t self, pat *pt)
{
    json_object *org = rhis_json_get(res, "managingOrganization");
    rhis_status rc;
    if (org != NULL) {
        rc = rhis_fhir_ref(c, org, "Organization",
                           "Patient.managingOrganization",
                           &pt->row.institution_id);
        if (rc != RHIS_OK)
            return rc;
    }
    json_object *gps = rhis_json_get(res, "generalPractitioner");
    for (size_t i = 0; gps != NULL && i < json_object_array_length(gps); i++) {
        char ex[64];
        int64_t ignored;
        json_object *r = json_object_array_get_idx(gps, i);
        const char *s = rhis_json_get_str(r, "reference");
        (void)snprintf(ex, sizeof(ex), "Patient.generalPractitioner[%zu]", i);
        rc = rhis_fhir_ref(c, r,
                           s != NULL && strstr(s, "Organization/") != NULL
                               ? "Organization"
                               : "Practitioner",
                           ex, &ignored);
        if (rc != RHIS_OK)
            return rc;
    }
    json_object *links = rhis_json_get(res, "link");
    for (size_t i = 0; links != NULL && i < json_object_array_length(links);
         i++) {
        char ex[64];
        int64_t other;
        json_object *l = json_object_array_get_idx(links, i);
        const char *type = rhis_json_get_str(l, "type");
        (void)snprintf(ex, sizeof(ex), "Patient.link[%zu].type", i);
        if (strcmp(type, "replaced-by") != 0 && strcmp(type, "replaces") != 0 &&
            strcmp(type, "refer") != 0 && strcmp(type, "seealso") != 0)
            return bad(c, ex,
                       "link type must be replaced-by, replaces, refer or "
                       "seealso");
        (void)snprintf(ex, sizeof(ex), "Patient.link[%zu].other", i);
        rc = rhis_fhir_ref(c, rhis_json_get(l, "other"), "Patient", ex, &other);
        if (rc != RHIS_OK)
            return rc;
        if (other == self)
            return bad(c, ex, "a Patient cannot link to itself");
        if (strcmp(type, "replaced-by") == 0) {
            if (pt->row.merged_into != 0 && pt->row.merged_into != other)
                return bad(c, ex,
                           "a Patient can be replaced by one Patient only");
            pt->row.merged_into = other;
        }
    }
    return RHIS_OK;
}

/* The demographics: gender, birthDate, deceased[x], active. */
static rhis_status
map_demographics(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    const char *g = rhis_json_get_str(res, "gender");
    if (g == NULL)
        return bad(c, "Patient.gender", "Patient.gender is required");
    pt->row.sex = rhis_patient_sex_of(g);
    if (pt->row.sex == 0)
        return bad(c, "Patient.gender",
                   "gender must be male, female, other or unknown");
    const char *bd = rhis_json_get_str(res, "birthDate");
    int64_t today = today_cst(c->now_ms);
    if (bd != NULL) {
        (void)parse_fdate(bd, D_DATE, &pt->birth); /* checked by form */
        if (pt->birth.ms / 86400000 > today)
            return bad(c, "Patient.birthDate", "birthDate %s is in the future",
                       bd);
        (void)snprintf(pt->row.birth_date, sizeof(pt->row.birth_date), "%s",
                       bd);
        pt->row.has_birth = 1;
        pt->row.birth_ms = pt->birth.ms;
    }
    json_object *db = rhis_json_get(res, "deceasedBoolean");
    const char *dt = rhis_json_get_str(res, "deceasedDateTime");
    if (db != NULL && dt != NULL)
        return bad(c, "Patient.deceasedDateTime",
                   "give deceasedBoolean or deceasedDateTime, not both");
    if (db != NULL && json_object_get_boolean(db)) {
        pt->row.deceased = 1;
        pt->row.deceased_ms = RHIS_PATIENT_DECEASED_UNDATED;
    }
    if (dt != NULL) {
        fdate d;
        (void)parse_fdate(dt, D_DATETIME, &d);
        if (d.ms > c->now_ms + 86400000LL)
            return bad(c, "Patient.deceasedDateTime",
                       "deceasedDateTime is in the future");
        if (pt->row.has_birth && d.ms / 86400000 < pt->row.birth_ms / 86400000)
            return bad(c, "Patient.deceasedDateTime",
                       "deceasedDateTime is before birthDate");
        pt->row.deceased = 1;
        pt->row.deceased_ms = d.ms;
    }
    json_object *act = rhis_json_get(res, "active");
    pt->row.active = act != NULL ? json_object_get_boolean(act) : 1;
    if (rhis_json_get(res, "multipleBirthBoolean") != NULL &&
        rhis_json_get(res, "multipleBirthInteger") != NULL)
        return bad(c, "Patient.multipleBirthInteger",
                   "give multipleBirthBoolean or multipleBirthInteger, not "
                   "both");
    return RHIS_OK;
}

/* The ID number against gender and birthDate; fills a missing birthDate. */
static rhis_status
cross_check(rhis_fhir_ctx *c, json_object *res, pat *pt)
{
    char ex[64];
    if (!pt->has_idnum) {
        if (!pt->row.has_birth)
            return bad(c, "Patient.birthDate",
                       "Patient needs a birthDate or a valid resident ID "
                       "number (identifier of system " RHIS_SYS_IDNUM ")");
        return RHIS_OK;
    }
    const rhis_idnum *id = &pt->idn;
    (void)snprintf(ex, sizeof(ex), "Patient.identifier[%d].value",
                   pt->idnum_index);
    if ((pt->row.sex == 'M' || pt->row.sex == 'F') &&
        !rhis_idnum_sex_agrees(id, pt->row.sex))
        return bad(c, ex,
                   "ID number sequence (characters 15-17) is that of a %s, "
                   "but Patient.gender is %s",
                   id->sex == 'M' ? "male" : "female",
                   rhis_patient_gender_of(pt->row.sex));
    char iso[16];
    (void)snprintf(iso, sizeof(iso), "%04d-%02d-%02d", id->year % 10000,
                   id->month % 100, id->day % 100);
    if (pt->row.has_birth) {
        /* a partial birthDate (1985, 1985-03) must contain the date */
        size_t n = strlen(pt->row.birth_date);
        if (strncmp(iso, pt->row.birth_date, n) != 0)
            return bad(c, ex,
                       "ID number birth date %s does not agree with "
                       "Patient.birthDate %s",
                       iso, pt->row.birth_date);
        return RHIS_OK;
    }
    json_object_object_add(res, "birthDate", json_object_new_string(iso));
    (void)parse_fdate(iso, D_DATE, &pt->birth);
    memcpy(pt->row.birth_date, iso, 11);
    pt->row.has_birth = 1;
    pt->row.birth_ms = pt->birth.ms;
    return RHIS_OK;
}

/* ------------------------------------------------------- checks in tables */


/* MRN systems name an institution that exists; identifiers belong to one
 * live resident; the ID number too. */
static rhis_status
check_tables(rhis_fhir_ctx *c, int64_t self, pat *pt)
{
    rhis_status rc;
    int64_t other;
    char ex[64];
    size_t plen = strlen(RHIS_SYS_MRN_PREFIX);
    for (int i = 0; i < pt->nident; i++) {
        const ident *d = &pt->ids[i];
        if (strncmp(d->system, RHIS_SYS_MRN_PREFIX, plen) != 0)
            continue;
        rc = rhis_db_scalar_int64(c->db, &other,
                                  "SELECT id FROM institution WHERE code = ?",
                                  "s", d->system + plen);
        if (rc == RHIS_ENOTFOUND) {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%d].system",
                           d->index);
            return bad(c, ex,
                       "medical record number system names institution code "
                       "'%s', which is not a known institution",
                       d->system + plen);
        }
        if (rc != RHIS_OK)
            return storage_error(c, rc);
    }
    /* A record being merged away keeps its identifiers: the survivor may
     * carry the same ones. */
    if (pt->row.merged_into != 0)
        return RHIS_OK;
    /* Deferred writes: the unique index on id_number refuses a duplicate
     * instead; the batch is then redone with this check. */
    if (pt->has_idnum && !rhis_db_deferred(c->db)) {
        rc = rhis_db_scalar_int64(c->db, &other,
                                  "SELECT id FROM patient WHERE id_number = ?"
                                  " AND deleted = 0 AND merged_into IS NULL"
                                  " AND id <> ?",
                                  "si", pt->row.id_number, self);
        if (rc == RHIS_OK) {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%d].value",
                           pt->idnum_index);
            return rhis_fhir_fail(c, RHIS_ECONFLICT, ex,
                                  "a resident with this ID number is already "
                                  "registered: Patient/%lld",
                                  (long long)other);
        }
        if (rc != RHIS_ENOTFOUND)
            return storage_error(c, rc);
    }
    for (int i = 0; i < pt->nident; i++) {
        const ident *d = &pt->ids[i];
        if (strcmp(d->system, RHIS_SYS_IDNUM) == 0)
            continue;
        rc = rhis_db_scalar_int64(
            c->db, &other,
            "SELECT i.patient_id FROM patient_identifier i"
            " JOIN patient p ON p.id = i.patient_id"
            " WHERE i.system = ? AND i.value = ? AND i.patient_id <> ?"
            " AND p.deleted = 0 AND p.merged_into IS NULL",
            "ssi", d->system, d->value, self);
        if (rc == RHIS_OK) {
            (void)snprintf(ex, sizeof(ex), "Patient.identifier[%d].value",
                           d->index);
            return rhis_fhir_fail(c, RHIS_ECONFLICT, ex,
                                  "this identifier of system %s already "
                                  "belongs to Patient/%lld",
                                  d->system, (long long)other);
        }
        if (rc != RHIS_ENOTFOUND)
            return storage_error(c, rc);
    }
    return RHIS_OK;
}

/* ---------------------------------------------------------------- writing */

#define ROW_SET                                                                \
    "version = ?, deleted = 0, updated_ms = ?, id_number = ?, name = ?,"       \
    " family = ?, given = ?, name_pinyin = ?, sex = ?, birth_date = ?,"        \
    " birth_ms = ?, phone = ?, area_code = ?, address_line = ?,"               \
    " household = ?, ethnicity = ?, deceased_ms = ?, active = ?,"              \
    " merged_into = ?, institution_id = ?"
#define ROW_NPARAMS 19

static rhis_status
bind_text_opt(rhis_stmt *st, int idx, const char *s)
{
    return rhis_db_bind_text(st, idx, s != NULL && s[0] != '\0' ? s : NULL);
}

static rhis_status
bind_int_opt(rhis_stmt *st, int idx, int has, int64_t v)
{
    return has ? rhis_db_bind_int64(st, idx, v) : rhis_db_bind_null(st, idx);
}

/* Binds the ROW_SET values, in order, from parameter 1. */
static rhis_status
bind_row(rhis_stmt *st, const rhis_patient *r, int64_t version, int64_t now)
{
    char sex[2] = {r->sex, '\0'};
    rhis_status rc = RHIS_OK;
    int i = 0;
#define B(expr)                                                                \
    do {                                                                       \
        if (rc == RHIS_OK)                                                     \
            rc = (expr);                                                       \
    } while (0)
    B(rhis_db_bind_int64(st, ++i, version));
    B(rhis_db_bind_int64(st, ++i, now));
    B(bind_text_opt(st, ++i, r->id_number));
    B(rhis_db_bind_text(st, ++i, r->name));
    B(bind_text_opt(st, ++i, r->family));
    B(bind_text_opt(st, ++i, r->given));
    B(bind_text_opt(st, ++i, r->name_pinyin));
    B(rhis_db_bind_text(st, ++i, sex));
    B(bind_text_opt(st, ++i, r->birth_date));
    B(bind_int_opt(st, ++i, r->has_birth, r->birth_ms));
    B(bind_text_opt(st, ++i, r->phone));
    B(bind_text_opt(st, ++i, r->area_code));
    B(bind_text_opt(st, ++i, r->address_line));
    B(bind_text_opt(st, ++i, r->household));
    B(bind_text_opt(st, ++i, r->ethnicity));
    B(bind_int_opt(st, ++i, r->deceased, r->deceased_ms));
    B(rhis_db_bind_int64(st, ++i, r->active));
    B(bind_int_opt(st, ++i, r->merged_into != 0, r->merged_into));
    B(bind_int_opt(st, ++i, r->institution_id != 0, r->institution_id));
#undef B
    RHIS_ASSERT(rc != RHIS_OK || i == ROW_NPARAMS);
    return rc;
}

/*
 * Inserts (*id == 0, sets *id) or replaces the patient row.  With deferred
 * writes the id is reserved first and the INSERT needs no answer.
 */
static rhis_status
write_row(rhis_fhir_ctx *c, const pat *pt, int64_t *id, int64_t version)
{
    rhis_stmt *st = NULL;
    rhis_status rc;
    int64_t reserved = 0;
    if (*id == 0 && rhis_db_deferred(c->db)) {
        rc = rhis_db_next_id(c->db, "patient", &reserved);
        if (rc != RHIS_OK)
            return storage_error(c, rc);
        rc = rhis_db_prepare(
            c->db,
            "INSERT INTO patient (version, deleted, updated_ms, id_number,"
            " name, family, given, name_pinyin, sex, birth_date, birth_ms,"
            " phone, area_code, address_line, household, ethnicity,"
            " deceased_ms, active, merged_into, institution_id, id)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?)",
            &st);
    } else if (*id == 0) {
        rc = rhis_db_prepare(
            c->db,
            "INSERT INTO patient (version, deleted, updated_ms, id_number,"
            " name, family, given, name_pinyin, sex, birth_date, birth_ms,"
            " phone, area_code, address_line, household, ethnicity,"
            " deceased_ms, active, merged_into, institution_id)"
            " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?) RETURNING id",
            &st);
    } else {
        rc = rhis_db_prepare(
            c->db, "UPDATE patient SET " ROW_SET " WHERE id = ?", &st);
    }
    if (rc != RHIS_OK)
        return storage_error(c, rc);
    rc = bind_row(st, &pt->row, version, c->now_ms);
    if (rc == RHIS_OK && (*id != 0 || reserved != 0))
        rc = rhis_db_bind_int64(st, ROW_NPARAMS + 1, *id != 0 ? *id : reserved);
    if (rc == RHIS_OK)
        rc = rhis_db_step(st);
    if (rc == RHIS_ROW && *id == 0) {
        *id = rhis_db_column_int64(st, 0);
        rc = RHIS_OK;
    } else if (rc == RHIS_DONE) {
        if (*id == 0)
            *id = reserved;
        rc = RHIS_OK;
    }
    rhis_db_finalize(st);
    if (rc == RHIS_ECONFLICT)
        return rhis_fhir_fail(c, RHIS_ECONFLICT,
                              pt->has_idnum ? "Patient.identifier" : NULL,
                              "another resident with this ID number was "
                              "registered at the same time");
    return rc == RHIS_OK ? RHIS_OK : storage_error(c, rc);
}

/* Writes the identifier rows of Patient id; an update first drops the
 * old ones (a new resident has none). */
static rhis_status
write_identifiers(rhis_fhir_ctx *c, const pat *pt, int64_t id, int created)
{
    rhis_status rc = RHIS_OK;
    if (!created)
        rc = rhis_db_run(c->db,
                         "DELETE FROM patient_identifier WHERE patient_id = ?",
                         "i", id);
    for (int i = 0; rc == RHIS_OK && i < pt->nident; i++)
        rc = rhis_db_run(c->db,
                         "INSERT INTO patient_identifier (patient_id, system,"
                         " value) VALUES (?, ?, ?)",
                         "iss", id, pt->ids[i].system, pt->ids[i].value);
    return rc == RHIS_OK ? RHIS_OK : storage_error(c, rc);
}

/*
 * The store function of rhis_type_patient (contract in rhis/fhirstore.h):
 * checks the structure, maps and cross-checks, checks the tables, then
 * writes.  Nothing is written before every check has passed.
 */
static rhis_status
patient_store(rhis_fhir_ctx *c,
              json_object *res,
              int64_t *id,
              int64_t version,
              int64_t *patient_id)
{
    path p = {"Patient", 7};
    rhis_status rc = check_object(c, res, &t_patient, &p);
    if (rc != RHIS_OK)
        return rc;
    static rhis_status (*const steps[])(rhis_fhir_ctx *, json_object *,
                                        pat *) = {
        map_name,    map_demographics, map_identifiers, cross_check,
        map_telecom, map_extensions,   map_address,
    };
    pat *pt = rhis_arena_calloc(c->arena, sizeof(*pt));
    for (size_t i = 0; i < N(steps) && rc == RHIS_OK; i++)
        rc = steps[i](c, res, pt);
    if (rc == RHIS_OK)
        rc = map_refs(c, res, *id, pt);
    if (rc == RHIS_OK)
        rc = check_tables(c, *id, pt);
    if (rc != RHIS_OK)
        return rc;
    int created = *id == 0;
    rc = write_row(c, pt, id, version);
    if (rc == RHIS_OK)
        rc = write_identifiers(c, pt, *id, created);
    if (rc != RHIS_OK)
        return rc;
    pt->row.id = *id;
    pt->row.version = version;
    pt->row.updated_ms = c->now_ms;
    /* what ehr_patient_birth would read back (src/ehr) */
    rhis_db_memo_put(c->db, RHIS_MEMO_BIRTH, *id,
                     pt->row.has_birth ? pt->row.birth_ms : INT64_MIN);
    {
        rc = rhis_mpi_note_patient(c, &pt->row);
        if (rc != RHIS_OK)
            return rc;
    }
    *patient_id = *id;
    return RHIS_OK;
}

/* Lists show the ID number and phone masked unless the role needs them. */
static void
patient_redact(rhis_fhir_ctx *c, json_object *res)
{
    if (c->user == NULL ||
        (c->user->role & (RHIS_ROLE_ADMIN | RHIS_ROLE_INTEGRATOR)) != 0)
        return;
    rhis_patient_mask(res);
}

/* ------------------------------------------------------------- typed row */

static void
fill_row(rhis_stmt *st, void *out)
{
    rhis_patient *r = out;
    const char *s;
    memset(r, 0, sizeof(*r));
#define TEXT(col, field)                                                       \
    do {                                                                       \
        s = rhis_db_column_text(st, col);                                      \
        (void)snprintf(r->field, sizeof(r->field), "%s", s != NULL ? s : "");  \
    } while (0)
    r->id = rhis_db_column_int64(st, 0);
    r->version = rhis_db_column_int64(st, 1);
    r->deleted = (int)rhis_db_column_int64(st, 2);
    r->updated_ms = rhis_db_column_int64(st, 3);
    TEXT(4, id_number);
    TEXT(5, name);
    TEXT(6, family);
    TEXT(7, given);
    TEXT(8, name_pinyin);
    s = rhis_db_column_text(st, 9);
    r->sex = 'U';
    if (s != NULL && s[0] != '\0')
        r->sex = s[0];
    TEXT(10, birth_date);
    r->has_birth = !rhis_db_column_is_null(st, 11);
    r->birth_ms = rhis_db_column_int64(st, 11);
    TEXT(12, phone);
    TEXT(13, area_code);
    TEXT(14, address_line);
    TEXT(15, household);
    TEXT(16, ethnicity);
    r->deceased = !rhis_db_column_is_null(st, 17);
    r->deceased_ms = rhis_db_column_int64(st, 17);
    r->active = (int)rhis_db_column_int64(st, 18);
    r->merged_into = rhis_db_column_int64(st, 19);
    r->institution_id = rhis_db_column_int64(st, 20);
#undef TEXT
}

rhis_status
rhis_patient_load(rhis_db *db, int64_t id, rhis_patient *out)
{
    return rhis_db_query_row(
        db, fill_row, out,
        "SELECT id, version, deleted, updated_ms, id_number, name, family,"
        " given, name_pinyin, sex, birth_date, birth_ms, phone, area_code,"
        " address_line, household, ethnicity, deceased_ms, active,"
        " COALESCE(merged_into, 0), COALESCE(institution_id, 0)"
        " FROM patient WHERE id = ?",
        "i", id);
}

/* --------------------------------------------------------------- search */

#define GENDER_CASE                                                            \
    "CASE CAST(? AS TEXT) WHEN 'male' THEN 'M' WHEN 'female' THEN 'F'"         \
    " WHEN 'other' THEN 'O' WHEN 'unknown' THEN 'U' END"

static const rhis_fhir_param params[] = {
    /* [system|]value over every identifier, the ID number included */
    {"identifier", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "t.id IN (SELECT i.patient_id FROM patient_identifier i"
     " WHERE i.value = ?)",
     "t.id IN (SELECT i.patient_id FROM patient_identifier i"
     " WHERE i.system = ? AND i.value = ?)",
     NULL},
    {"name", RHIS_P_STRING, "t.name", NULL, NULL, NULL, NULL, "t.name"},
    {"family", RHIS_P_STRING, "t.family", NULL, NULL, NULL, NULL, NULL},
    {"given", RHIS_P_STRING, "t.given", NULL, NULL, NULL, NULL, NULL},
    /* toneless pinyin, prefix, spaces and case ignored */
    {"name-pinyin", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "REPLACE(t.name_pinyin, ' ', '') LIKE"
     " REPLACE(LOWER(CAST(? AS TEXT)), ' ', '') || '%'",
     NULL, NULL},
    {"birthdate", RHIS_P_DATE, "t.birth_ms", NULL, NULL, NULL, NULL,
     "t.birth_ms"},
    {"gender", RHIS_P_CUSTOM, NULL, NULL, NULL, "t.sex = " GENDER_CASE,
     "CAST(? AS TEXT) = '" SYS_GENDER "' AND t.sex = " GENDER_CASE, NULL},
    {"phone", RHIS_P_TOKEN, "t.phone", NULL, NULL, NULL, NULL, NULL},
    /* the area and every area below it */
    {"address-division", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "t.area_code LIKE CAST(? AS TEXT) || '%'", NULL, NULL},
    {"organization", RHIS_P_REF, "t.institution_id", NULL, "Organization", NULL,
     NULL, NULL},
    {"active", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "t.active = CASE CAST(? AS TEXT) WHEN 'true' THEN 1"
     " WHEN 'false' THEN 0 END",
     NULL, NULL},
    {"deceased", RHIS_P_CUSTOM, NULL, NULL, NULL,
     "(CASE WHEN t.deceased_ms IS NULL THEN 'false' ELSE 'true' END)"
     " = CAST(? AS TEXT)",
     NULL, NULL},
};

#define PATIENT_READERS                                                        \
    (RHIS_ROLE_ADMIN | RHIS_ROLE_CDC | RHIS_ROLE_CLINICIAN |                   \
     RHIS_ROLE_FAMILY_DOCTOR | RHIS_ROLE_INTEGRATOR | RHIS_ROLE_RESIDENT)
#define PATIENT_WRITERS                                                        \
    (RHIS_ROLE_ADMIN | RHIS_ROLE_CLINICIAN | RHIS_ROLE_FAMILY_DOCTOR |         \
     RHIS_ROLE_INTEGRATOR)

const rhis_fhir_type rhis_type_patient = {
    .name = "Patient",
    .table = "patient",
    .patient_col = "t.id",
    .from = "patient t",
    .from_json = "patient t JOIN fhir_version v ON v.type = 'Patient'"
                 " AND v.id = t.id AND v.version = t.version",
    .sql_delete = "UPDATE patient SET deleted = 1, version = ?,"
                  " updated_ms = ? WHERE id = ?",
    .params = params,
    .nparams = (int)N(params),
    .store = patient_store,
    .redact = patient_redact,
    .read_roles = PATIENT_READERS,
    .write_roles = PATIENT_WRITERS,
};

/* ------------------------------------------------------------- handlers */

rhis_status
api_patient_read(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_read(req, resp, &rhis_type_patient);
}

rhis_status
api_patient_vread(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_vread(req, resp, &rhis_type_patient);
}

rhis_status
api_patient_history(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_history(req, resp, &rhis_type_patient);
}

rhis_status
api_patient_search(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_search_type(req, resp, &rhis_type_patient);
}

rhis_status
api_patient_create(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_create(req, resp, &rhis_type_patient);
}

rhis_status
api_patient_update(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_update(req, resp, &rhis_type_patient);
}

rhis_status
api_patient_delete(rhis_req *req, rhis_resp *resp)
{
    return rhis_fhir_delete(req, resp, &rhis_type_patient);
}
