/*
 * fuzz_fusion.c - libFuzzer target for the multi-point fusion rule file
 * (rhis_fusion_rules_parse in src/surveil/fusion.c).
 *
 * Parses the input as a rule file.  Oracles: on failure *out is NULL and
 * the message names the input; on success every rule holds what the
 * loader promises (id set, k of n consistent, required a subset, a known
 * level, window and severities in range) and a fusion run over a fixed
 * set of signals returns fused signals consistent with their rule (its
 * channels only, at least k of them, evidence inside the window, the area
 * a prefix of the rule's level).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/fusion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASOF 20400

static const char *const syndromes[] = {"respiratory", "gastrointestinal",
                                        "rash", NULL};
static const char *const areas[] = {"220221100", "220221101", "220221",
                                    "220221100201", "220222100"};

static int
bits(uint32_t x)
{
    int n = 0;
    for (; x != 0; x &= x - 1)
        n++;
    return n;
}

static void
check_rule(const rhis_fusion_rule *r)
{
    if (r->id[0] == '\0' || r->name_zh[0] == '\0' || r->name_en[0] == '\0')
        abort();
    if (r->channels == 0 || (r->channels & 1u) != 0 ||
        (r->channels >> (RHIS_FUSION_CHANNELS + 1)) != 0)
        abort();
    if (r->min_channels < 1 || r->min_channels > bits(r->channels))
        abort();
    if ((r->required & ~r->channels) != 0 ||
        bits(r->required) > r->min_channels)
        abort();
    if (r->level != RHIS_FUSION_TOWNSHIP && r->level != RHIS_FUSION_COUNTY &&
        r->level != RHIS_FUSION_CITY)
        abort();
    if (r->window_days < 1 || r->window_days > RHIS_FUSION_MAX_WINDOW)
        abort();
    if (r->min_severity < RHIS_FUSION_BLUE ||
        r->min_severity > RHIS_FUSION_RED || r->severity < RHIS_FUSION_BLUE ||
        r->severity > RHIS_FUSION_RED)
        abort();
}

static void
run_fusion(const rhis_fusion_rules *rs)
{
    rhis_fusion_signal sig[70];
    size_t n = 0;
    for (int ch = 1; ch <= RHIS_FUSION_CHANNELS; ch++)
        for (int k = 0; k < 10; k++, n++) {
            sig[n].id = (int64_t)n;
            sig[n].channel = ch;
            sig[n].area = areas[(ch + k) % 5];
            sig[n].day = ASOF - (k % 4) * 3;
            sig[n].severity = 1 + (ch + k) % 4;
            sig[n].syndrome = syndromes[k % 4];
        }
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    size_t nf = 0;
    char err[256];
    if (rhis_fusion_run(a, rs, sig, n, ASOF, 0, &f, &nf, err, sizeof(err)) !=
        RHIS_OK)
        abort();
    for (size_t i = 0; i < nf; i++) {
        const rhis_fusion_rule *r = f[i].rule;
        if ((f[i].channels & ~r->channels) != 0 ||
            bits(f[i].channels) < r->min_channels ||
            (f[i].channels & r->required) != r->required)
            abort();
        if (strlen(f[i].area) != (size_t)r->level || f[i].nids < 1 ||
            f[i].nids > n)
            abort();
        if (f[i].first_day < ASOF - r->window_days + 1 || f[i].last_day > ASOF)
            abort();
        if (i > 0 && f[i].severity > f[i - 1].severity)
            abort();
    }
    rhis_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rhis_fusion_rules *rs = NULL;
    char err[512];
    err[0] = '\0';
    rhis_status rc = rhis_fusion_rules_parse((const char *)data, size,
                                             "fuzz.csv", &rs, err, sizeof(err));
    if (rc != RHIS_OK) {
        if (rs != NULL || strncmp(err, "fuzz.csv", 8) != 0)
            abort();
        return 0;
    }
    if (rs == NULL || rs->n == 0 || rs->n > RHIS_FUSION_MAX_RULES)
        abort();
    for (size_t i = 0; i < rs->n; i++)
        check_rule(&rs->rules[i]);
    run_fusion(rs);
    rhis_fusion_rules_free(rs);
    return 0;
}
