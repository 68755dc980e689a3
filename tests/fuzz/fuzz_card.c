/*
 * fuzz_card.c - libFuzzer target for the report-card parser
 * (src/surveil/card_parse.c) and the Beijing-time parser under it
 * (src/surveil/common.c).
 *
 * Why: report cards arrive as JSON from every hospital system and from
 * hand-built forms; the parser sees arbitrary bytes before any database
 * check.  Oracles beyond "no crash":
 * - the answer is RHIS_OK, RHIS_EINVAL or RHIS_ETOOBIG, never anything
 *   else, and a refusal carries a message;
 * - an accepted card has NUL-terminated text fields of valid UTF-8 and
 *   its required fields set (area_code, occupation, classification,
 *   disease non-empty, onset and diagnosis set, institution_id > 0);
 * - the time parser round-trips: an accepted time formatted in Beijing
 *   time and parsed again gives the same instant (to the second), and its
 *   Beijing day parses back to a midnight no later than it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/surveil.h"
#include "rhis/text.h"
#include "surveil/surveil_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap || !rhis_utf8_valid(s, n))
        abort();
}

static void
check_time(const char *s)
{
    int64_t ms, back, mid;
    char buf[40], day[11];
    if (!surv_parse_time(s, &ms))
        return;
    surv_format_time(ms, buf, sizeof(buf));
    if (!surv_parse_time(buf, &back))
        abort();
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    if (back != sec * 1000)
        abort();
    rhis_surv_day_of(ms, day);
    if (rhis_surv_day_ms(day, &mid) != RHIS_OK || mid > ms ||
        ms - mid >= (int64_t)86400000)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the time parser on the raw bytes (cut at 64) */
    char t[65];
    size_t tn = size < sizeof(t) - 1 ? size : sizeof(t) - 1;
    memcpy(t, data, tn);
    t[tn] = '\0';
    check_time(t);

    rhis_arena *a = rhis_arena_new();
    rhis_fhir_ctx c;
    rhis_fhir_ctx_cli(&c, NULL, a);
    rhis_card k;
    rhis_status st = rhis_card_parse(&c, (const char *)data, size, &k);
    if (st == RHIS_OK) {
        check_text(k.id_number, sizeof(k.id_number));
        check_text(k.area_code, sizeof(k.area_code));
        check_text(k.address_line, sizeof(k.address_line));
        check_text(k.occupation, sizeof(k.occupation));
        check_text(k.classification, sizeof(k.classification));
        check_text(k.disease, sizeof(k.disease));
        check_text(k.doctor, sizeof(k.doctor));
        check_text(k.note, sizeof(k.note));
        if (k.area_code[0] == '\0' || k.occupation[0] == '\0' ||
            k.classification[0] == '\0' || k.disease[0] == '\0' ||
            k.onset_ms == RHIS_SURV_NONE || k.diagnosis_ms == RHIS_SURV_NONE ||
            k.institution_id <= 0 || k.patient_id < 0 || k.practitioner_id < 0)
            abort();
    } else if (st == RHIS_EINVAL || st == RHIS_ETOOBIG) {
        if (c.err_text[0] == '\0' || c.err_status != st)
            abort();
    } else {
        abort();
    }
    rhis_arena_free(a);
    return 0;
}
