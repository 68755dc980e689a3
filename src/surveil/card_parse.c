/*
 * card_parse.c - the JSON form of a report card (the body of POST and PUT
 * /api/v1/report-cards) into a rhis_card, form only: types, lengths and
 * formats; the database checks are card.c's.
 *
 * Why: this is the parser of untrusted input in front of card.c (fuzzed
 * by tests/fuzz/fuzz_card.c); it knows every field, refuses unknown ones
 * (a misspelt "onset_date" must not silently drop the onset), and never
 * reads past a cap.
 */
#include <stdio.h>
#include <string.h>

#include "rhis/json.h"
#include "rhis/text.h"
#include "surveil_int.h"

#define CARD_JSON_MAX ((size_t)64 * 1024)

enum { F_STR = 1, F_INT, F_TIME };

typedef struct field {
    const char *name;
    int kind;
    int required;
    size_t off;  /* offset in rhis_card */
    size_t size; /* F_STR: buffer size */
} field;

#define S(m, req)                                                              \
    {                                                                          \
#m, F_STR, req, offsetof(rhis_card, m), sizeof(((rhis_card *)0)->m)    \
    }
#define I(m, req)                                                              \
    {                                                                          \
#m, F_INT, req, offsetof(rhis_card, m), 0                              \
    }
#define T(n, m, req)                                                           \
    {                                                                          \
        n, F_TIME, req, offsetof(rhis_card, m), 0                              \
    }

static const field fields[] = {
    I(patient_id, 0),
    S(id_number, 0),
    S(area_code, 1),
    S(address_line, 0),
    S(occupation, 1),
    S(classification, 1),
    S(disease, 1),
    T("onset", onset_ms, 1),
    T("diagnosis", diagnosis_ms, 1),
    T("death", death_ms, 0),
    I(institution_id, 1),
    I(practitioner_id, 0),
    S(doctor, 0),
    T("report_time", report_ms, 0),
    S(note, 0),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static rhis_status
set_field(rhis_fhir_ctx *c, const field *f, json_object *v, rhis_card *out)
{
    char expr[48];
    (void)snprintf(expr, sizeof(expr), "card.%s", f->name);
    char *base = (char *)out;
    if (v == NULL) { /* JSON null: the field's "none" */
        if (f->required)
            return rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s is required", expr);
        return RHIS_OK;
    }
    if (f->kind == F_INT) {
        if (!json_object_is_type(v, json_type_int))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "%s must be an integer id", expr);
        int64_t n = json_object_get_int64(v);
        if (n <= 0)
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "%s must be a positive id", expr);
        memcpy(base + f->off, &n, sizeof(n));
        return RHIS_OK;
    }
    if (!json_object_is_type(v, json_type_string))
        return rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s must be a string",
                              expr);
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (strlen(s) != len || !rhis_utf8_valid(s, len))
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s must be valid UTF-8 without NUL", expr);
    if (f->kind == F_TIME) {
        int64_t ms;
        if (!surv_parse_time(s, &ms))
            return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                                  "%s must be a real date YYYY-MM-DD or a "
                                  "time YYYY-MM-DDThh:mm[:ss][Z|+hh:mm] "
                                  "(Beijing time without an offset)",
                                  expr);
        memcpy(base + f->off, &ms, sizeof(ms));
        return RHIS_OK;
    }
    if (len >= f->size)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr,
                              "%s is longer than %zu bytes", expr, f->size - 1);
    if (f->required && len == 0)
        return rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s must not be empty",
                              expr);
    memcpy(base + f->off, s, len + 1);
    return RHIS_OK;
}

rhis_status
rhis_card_parse(rhis_fhir_ctx *c, const char *json, size_t len, rhis_card *out)
{
    memset(out, 0, sizeof(*out));
    out->death_ms = RHIS_SURV_NONE;
    out->onset_ms = RHIS_SURV_NONE;
    out->diagnosis_ms = RHIS_SURV_NONE;
    if (len > CARD_JSON_MAX)
        return rhis_fhir_fail(c, RHIS_ETOOBIG, NULL,
                              "a report card is at most %zu bytes",
                              CARD_JSON_MAX);
    json_object *o = NULL;
    char err[200];
    if (rhis_json_parse(json, len, 4, &o, err, sizeof(err)) != RHIS_OK)
        return rhis_fhir_fail(c, RHIS_EINVAL, NULL, "malformed JSON: %s", err);
    rhis_status rc = RHIS_OK;
    if (!json_object_is_type(o, json_type_object)) {
        rc = rhis_fhir_fail(c, RHIS_EINVAL, NULL,
                            "a report card is a JSON object");
        goto out;
    }
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        size_t i;
        for (i = 0; i < NFIELDS; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == NFIELDS) {
            rc =
                rhis_fhir_fail(c, RHIS_EINVAL, NULL,
                               "unknown field '%.40s' in the report card", key);
            goto out;
        }
    }
    /* the fields present first, so a malformed value is named before a
     * missing one */
    for (size_t i = 0; i < NFIELDS; i++) {
        json_object *v = NULL;
        if (json_object_object_get_ex(o, fields[i].name, &v) &&
            (rc = set_field(c, &fields[i], v, out)) != RHIS_OK)
            goto out;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].required &&
            !json_object_object_get_ex(o, fields[i].name, NULL)) {
            char expr[48];
            (void)snprintf(expr, sizeof(expr), "card.%s", fields[i].name);
            rc = rhis_fhir_fail(c, RHIS_EINVAL, expr, "%s is required", expr);
            goto out;
        }
    }
out:
    json_object_put(o);
    return rc;
}
