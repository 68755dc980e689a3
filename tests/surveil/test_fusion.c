/*
 * test_fusion.c - unit tests for multi-point fusion (src/surveil/fusion.c).
 *
 * Why: a fused signal is what CDC staff see first, so the rules must
 * combine exactly the evidence they say - k of n channels, the right area
 * level by code prefix, the window, required channels, severity floor,
 * syndrome - and nothing else; a standing situation must not be raised
 * again every night; and the hand-edited rule file must load with a
 * message naming the line and the field for every kind of mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/fusion.h"
#include "rhis/surveil.h"

/* The channel numbers are rhis_channel's (surveil.h), plus report cards. */
_Static_assert(RHIS_CH_FEVER == 1 && RHIS_CH_INTESTINAL == 2 &&
                   RHIS_CH_SCHOOL == 3 && RHIS_CH_PHARMACY == 4 &&
                   RHIS_CH_PUBLIC == 5 && RHIS_CH_LAB == 6,
               "fusion channels follow rhis_channel");

#define HEADER                                                                 \
    "rule_id,name_zh,name_en,channels,min_channels,required,syndrome,"         \
    "area_level,window_days,min_severity,severity\n"

/* Two test rules: township 2 of 3 respiratory in 3 days (yellow); county
 * 3 of 4 at yellow+ in 7 days (orange); lab + card in a township with the
 * lab required (red). */
static const char rules_text[] =
    HEADER "T2,乡镇双渠道,Township two channels,"
           "fever_clinic|school_absence|pharmacy,2,,respiratory,township,3,"
           "blue,yellow\n"
           "C3,县三渠道,County three channels,"
           "fever_clinic|school_absence|pharmacy|public_report,3,,,county,7,"
           "yellow,orange\n"
           "L2,实验室加报告卡,Lab and cards,lab_positive|report_card,2,"
           "lab_positive,,township,7,blue,red\n";

static rhis_fusion_rules *
load_rules(void)
{
    rhis_fusion_rules *r = NULL;
    char err[256];
    rhis_status rc = rhis_fusion_rules_parse(rules_text, strlen(rules_text),
                                             "test", &r, err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, RHIS_OK);
    assert_int_equal(r->n, 3);
    return r;
}

#define DAY 20400 /* asof */

static rhis_fusion_signal
sg(int64_t id, int ch, const char *area, int64_t day, int sev, const char *syn)
{
    rhis_fusion_signal s = {id, ch, area, day, sev, syn};
    return s;
}

static size_t
run(rhis_arena *a,
    const rhis_fusion_rules *r,
    const rhis_fusion_signal *s,
    size_t n,
    int flags,
    rhis_fused_signal **out)
{
    size_t nout = 0;
    char err[256];
    rhis_status rc =
        rhis_fusion_run(a, r, s, n, DAY, flags, out, &nout, err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, RHIS_OK);
    return nout;
}

static void
parse_fills_the_rules(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    const rhis_fusion_rule *t = &r->rules[0];
    assert_string_equal(t->id, "T2");
    assert_string_equal(t->name_zh, "乡镇双渠道");
    assert_string_equal(t->name_en, "Township two channels");
    assert_int_equal(t->channels, (1u << 1) | (1u << 3) | (1u << 4));
    assert_int_equal(t->min_channels, 2);
    assert_int_equal(t->required, 0);
    assert_string_equal(t->syndrome, "respiratory");
    assert_int_equal(t->level, RHIS_FUSION_TOWNSHIP);
    assert_int_equal(t->window_days, 3);
    assert_int_equal(t->min_severity, RHIS_FUSION_BLUE);
    assert_int_equal(t->severity, RHIS_FUSION_YELLOW);
    assert_int_equal(t->line, 2);
    assert_int_equal(r->rules[1].level, RHIS_FUSION_COUNTY);
    assert_string_equal(r->rules[1].syndrome, "");
    assert_int_equal(r->rules[2].required, 1u << 6); /* lab_positive */
    assert_int_equal(r->rules[2].severity, RHIS_FUSION_RED);
    rhis_fusion_rules_free(r);
    rhis_fusion_rules_free(NULL);
}

static void
names_round_trip(void **state)
{
    (void)state;
    for (int c = 1; c <= RHIS_FUSION_CHANNELS; c++)
        assert_int_equal(rhis_fusion_channel_parse(rhis_fusion_channel_name(c)),
                         c);
    assert_null(rhis_fusion_channel_name(0));
    assert_null(rhis_fusion_channel_name(8));
    assert_int_equal(rhis_fusion_channel_parse("fever"), 0);
    assert_int_equal(rhis_fusion_channel_parse(NULL), 0);
    for (int s = 1; s <= 4; s++)
        assert_int_equal(
            rhis_fusion_severity_parse(rhis_fusion_severity_name(s)), s);
    assert_int_equal(rhis_fusion_severity_parse("Red"), 0);
    assert_null(rhis_fusion_severity_name(5));
}

static void
two_channels_in_one_township_fuse(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fusion_signal s[] = {
        sg(11, 1, "220221100", DAY - 1, 1, "respiratory"),
        sg(12, 3, "220221100201", DAY, 2, "respiratory"), /* a village */
        sg(13, 4, "220221101", DAY, 1, "respiratory"),    /* next township */
        sg(14, 1, "220221100", DAY - 2, 1, "respiratory"),
    };
    rhis_fused_signal *f = NULL;
    size_t n = run(a, r, s, 4, 0, &f);
    assert_int_equal(n, 1);
    assert_ptr_equal(f[0].rule, &r->rules[0]);
    assert_string_equal(f[0].area, "220221100");
    assert_int_equal(f[0].severity, RHIS_FUSION_YELLOW);
    assert_int_equal(f[0].nchannels, 2);
    assert_int_equal(f[0].channels, (1u << 1) | (1u << 3));
    assert_int_equal(f[0].first_day, DAY - 2);
    assert_int_equal(f[0].last_day, DAY);
    /* evidence by channel, day, id */
    assert_int_equal(f[0].nids, 3);
    assert_int_equal(f[0].ids[0], 14);
    assert_int_equal(f[0].ids[1], 11);
    assert_int_equal(f[0].ids[2], 12);
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

static void
one_channel_or_other_townships_do_not_fuse(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    /* the same channel twice is one channel */
    rhis_fusion_signal same[] = {
        sg(1, 1, "220221100", DAY - 1, 2, "respiratory"),
        sg(2, 1, "220221100", DAY, 2, "respiratory"),
    };
    assert_int_equal(run(a, r, same, 2, 0, &f), 0);
    /* two channels, two townships of one county */
    rhis_fusion_signal apart[] = {
        sg(1, 1, "220221100", DAY, 2, "respiratory"),
        sg(2, 3, "220221101", DAY, 2, "respiratory"),
    };
    assert_int_equal(run(a, r, apart, 2, 0, &f), 0);
    /* outside the 3-day window: DAY - 3 is the 4th day back */
    rhis_fusion_signal old[] = {
        sg(1, 1, "220221100", DAY - 3, 2, "respiratory"),
        sg(2, 3, "220221100", DAY, 2, "respiratory"),
    };
    assert_int_equal(run(a, r, old, 2, 0, &f), 0);
    /* after asof: not yet */
    rhis_fusion_signal future[] = {
        sg(1, 1, "220221100", DAY + 1, 2, "respiratory"),
        sg(2, 3, "220221100", DAY, 2, "respiratory"),
    };
    assert_int_equal(run(a, r, future, 2, 0, &f), 0);
    /* another syndrome, or none, does not count for a respiratory rule
     * (blue: below the county rule's floor, which takes any syndrome) */
    rhis_fusion_signal other[] = {
        sg(1, 1, "220221100", DAY, 1, "gastrointestinal"),
        sg(2, 3, "220221100", DAY, 1, "respiratory"),
        sg(3, 4, "220221100", DAY, 1, NULL),
    };
    assert_int_equal(run(a, r, other, 3, 0, &f), 0);
    /* a county-level signal is not evidence for a township rule */
    rhis_fusion_signal coarse[] = {
        sg(1, 1, "220221", DAY, 2, "respiratory"),
        sg(2, 3, "220221100", DAY, 2, "respiratory"),
    };
    assert_int_equal(run(a, r, coarse, 2, 0, &f), 0);
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

static void
county_rule_fuses_across_townships(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    rhis_fusion_signal s[] = {
        sg(1, 1, "220221100", DAY - 6, 2, "respiratory"),
        sg(2, 3, "220221101", DAY - 2, 3, "gastrointestinal"),
        sg(3, 5, "220221", DAY, 2, NULL),             /* county-level */
        sg(4, 4, "220221102", DAY, 1, "respiratory"), /* blue: too weak */
        sg(5, 4, "220222100", DAY, 3, "respiratory"), /* other county */
    };
    size_t n = run(a, r, s, 5, 0, &f);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].rule->id, "C3");
    assert_string_equal(f[0].area, "220221");
    assert_int_equal(f[0].severity, RHIS_FUSION_ORANGE);
    assert_int_equal(f[0].nids, 3);
    assert_int_equal(f[0].ids[0], 1);
    assert_int_equal(f[0].ids[1], 2);
    assert_int_equal(f[0].ids[2], 3);
    assert_int_equal(f[0].first_day, DAY - 6);
    /* 7 days back is outside the window */
    s[0].day = DAY - 7;
    assert_int_equal(run(a, r, s, 5, 0, &f), 0);
    /* a stronger pharmacy signal in the county makes three again */
    s[3].severity = 2;
    n = run(a, r, s, 5, 0, &f);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].channels, (1u << 3) | (1u << 4) | (1u << 5));
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

static void
required_channel_must_contribute(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    /* two report cards only: the lab channel is required and missing */
    rhis_fusion_signal s[] = {
        sg(1, 7, "220221100", DAY, 1, "rash"),
        sg(2, 7, "220221100", DAY, 1, "rash"),
        sg(3, 6, "220221100", DAY - 5, 2, "enteric"),
    };
    assert_int_equal(run(a, r, s, 2, 0, &f), 0);
    size_t n = run(a, r, s, 3, 0, &f);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].rule->id, "L2");
    assert_int_equal(f[0].severity, RHIS_FUSION_RED);
    assert_int_equal(f[0].nids, 3);
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

static void
standing_situation_is_not_raised_again(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    /* both channels were there yesterday; today only repeats one */
    rhis_fusion_signal s[] = {
        sg(1, 1, "220221100", DAY - 1, 2, "respiratory"),
        sg(2, 3, "220221100", DAY - 1, 2, "respiratory"),
        sg(3, 1, "220221100", DAY, 2, "respiratory"),
    };
    assert_int_equal(run(a, r, s, 3, 0, &f), 0);
    /* with RHIS_FUSION_ALL it is reported, evidence and all */
    assert_int_equal(run(a, r, s, 3, RHIS_FUSION_ALL, &f), 1);
    assert_int_equal(f[0].nids, 3);
    /* a channel new today raises it again (more evidence) */
    rhis_fusion_signal t[] = {
        sg(1, 1, "220221100", DAY - 1, 2, "respiratory"),
        sg(2, 3, "220221100", DAY - 1, 2, "respiratory"),
        sg(3, 4, "220221100", DAY, 2, "respiratory"),
    };
    /* ... and the county rule (three channels at yellow) fires too */
    assert_int_equal(run(a, r, t, 3, 0, &f), 2);
    assert_string_equal(f[0].rule->id, "C3");
    assert_string_equal(f[1].rule->id, "T2");
    assert_int_equal(f[1].nchannels, 3);
    /* nothing today at all: nothing new */
    assert_int_equal(run(a, r, t, 2, 0, &f), 0);
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

static void
results_are_ordered_by_severity(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    rhis_fusion_signal s[] = {
        sg(1, 1, "220221102", DAY, 2, "respiratory"),
        sg(2, 3, "220221102", DAY, 2, "respiratory"),
        sg(3, 1, "220221100", DAY, 2, "respiratory"),
        sg(4, 4, "220221100", DAY, 2, "respiratory"),
        sg(5, 6, "220221105", DAY, 2, "rash"),
        sg(6, 7, "220221105", DAY, 2, "rash"),
    };
    size_t n = run(a, r, s, 6, 0, &f);
    /* L2 (red), C3 (orange: fever, school, pharmacy in 220221), then T2
     * (yellow) in 220221100 and 220221102 */
    assert_int_equal(n, 4);
    assert_string_equal(f[0].rule->id, "L2");
    assert_string_equal(f[1].rule->id, "C3");
    assert_string_equal(f[2].rule->id, "T2");
    assert_string_equal(f[2].area, "220221100");
    assert_string_equal(f[3].area, "220221102");
    assert_int_equal(f[1].nids, 4);
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

static void
bad_signals_are_refused(void **state)
{
    (void)state;
    rhis_fusion_rules *r = load_rules();
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    size_t n = 0;
    char err[256];
    rhis_fusion_signal s[] = {sg(1, 1, "220221100", DAY, 2, NULL)};
    s[0].channel = 8;
    assert_int_equal(
        rhis_fusion_run(a, r, s, 1, DAY, 0, &f, &n, err, sizeof(err)),
        RHIS_EINVAL);
    assert_string_equal(err, "signal 0 (id 1): channel must be 1..7");
    s[0].channel = 1;
    s[0].severity = 0;
    assert_int_equal(
        rhis_fusion_run(a, r, s, 1, DAY, 0, &f, &n, err, sizeof(err)),
        RHIS_EINVAL);
    s[0].severity = 1;
    static const char *const bad_areas[] = {"2202211", "22022110x",
                                            "220221100 ", ""};
    for (size_t i = 0; i < 4; i++) {
        s[0].area = bad_areas[i];
        assert_int_equal(
            rhis_fusion_run(a, r, s, 1, DAY, 0, &f, &n, err, sizeof(err)),
            RHIS_EINVAL);
        assert_non_null(strstr(err, "division code"));
    }
    s[0].area = NULL;
    assert_int_equal(
        rhis_fusion_run(a, r, s, 1, DAY, 0, &f, &n, err, sizeof(err)),
        RHIS_EINVAL);
    s[0].area = "220221100";
    s[0].syndrome = "Respiratory";
    assert_int_equal(
        rhis_fusion_run(a, r, s, 1, DAY, 0, &f, &n, err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(
        rhis_fusion_run(a, r, s, 1, INT64_MIN, 0, &f, &n, err, sizeof(err)),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "asof"));
    /* no signals is fine */
    assert_int_equal(
        rhis_fusion_run(a, r, NULL, 0, DAY, 0, &f, &n, err, sizeof(err)),
        RHIS_OK);
    assert_int_equal(n, 0);
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

/* Parses HEADER + row and expects RHIS_EINVAL with `want` in the message. */
static void
expect_row_error(const char *row, const char *want)
{
    char text[2048], err[512];
    (void)snprintf(text, sizeof(text), "%s%s", HEADER, row);
    rhis_fusion_rules *r = (rhis_fusion_rules *)&r; /* must become NULL */
    rhis_status rc = rhis_fusion_rules_parse(text, strlen(text), "rules.csv",
                                             &r, err, sizeof(err));
    if (rc != RHIS_EINVAL || strstr(err, want) == NULL)
        print_error("row %s\n-> %d: %s\nwant: %s\n", row, (int)rc, err, want);
    assert_int_equal(rc, RHIS_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err, want));
}

#define OK_TAIL "fever_clinic|pharmacy,2,,respiratory,township,3,blue,yellow\n"

static void
rule_file_errors_name_line_and_field(void **state)
{
    (void)state;
    expect_row_error("F 1,名,Name," OK_TAIL,
                     "rules.csv:2: field 'rule_id': must be 1..32");
    expect_row_error(",名,Name," OK_TAIL, "field 'rule_id'");
    expect_row_error("F1,,Name," OK_TAIL, "rules.csv:2: field 'name_zh'");
    expect_row_error("F1,名,," OK_TAIL, "field 'name_en'");
    expect_row_error("F1,名,Na\tme," OK_TAIL,
                     "field 'name_en': control characters");
    expect_row_error("F1,\xe5\x90,Name," OK_TAIL,
                     "field 'name_zh': must be UTF-8");
    expect_row_error("F1,名,Name,fever_clinic|fever,2,,,township,3,blue,red\n",
                     "field 'channels': channels are '|'-separated names");
    expect_row_error("F1,名,Name,,1,,,township,3,blue,red\n",
                     "field 'channels': at least one channel");
    expect_row_error("F1,名,Name,pharmacy|pharmacy,1,,,township,3,blue,red\n",
                     "field 'channels': a channel is listed twice");
    expect_row_error("F1,名,Name,pharmacy|,1,,,township,3,blue,red\n",
                     "field 'channels'");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,3,,,township,3,blue,"
                     "red\n",
                     "field 'min_channels': must be an integer 1..2 (got "
                     "'3')");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,0,,,township,3,blue,"
                     "red\n",
                     "field 'min_channels'");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,+2,,,township,3,blue,"
                     "red\n",
                     "field 'min_channels'");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,2,lab_positive,,"
                     "township,3,blue,red\n",
                     "field 'required': required channels must be among");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy|lab_positive,1,"
                     "fever_clinic|pharmacy,,township,3,blue,red\n",
                     "field 'required': more required channels");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,2,,Resp,township,3,"
                     "blue,red\n",
                     "field 'syndrome'");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,2,,,village,3,blue,"
                     "red\n",
                     "field 'area_level': must be township, county or city "
                     "(got 'village')");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,2,,,county,91,blue,"
                     "red\n",
                     "field 'window_days': must be an integer 1..90");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,2,,,county,7,green,"
                     "red\n",
                     "field 'min_severity'");
    expect_row_error("F1,名,Name,fever_clinic|pharmacy,2,,,county,7,blue,"
                     "3\n",
                     "rules.csv:2: field 'severity'");
    expect_row_error("F1,名,Name,fever_clinic,1,,,county,7,blue\n",
                     "rules.csv:2: 10 fields, want 11");
    /* the line is right after a good row, a blank line and a quoted
     * comma; a quoted newline counts as a line too */
    expect_row_error("F1,名,Name," OK_TAIL "\n"
                     "F2,\"名,字\",Name," OK_TAIL "F3,名,Name," OK_TAIL
                     "F1,名,Name," OK_TAIL,
                     "rules.csv:6: field 'rule_id': duplicate rule id (first "
                     "on line 2)");
    expect_row_error("F1,名,Name," OK_TAIL "F2,\"名\n字\",Name," OK_TAIL,
                     "rules.csv:3: field 'name_zh': control characters are "
                     "not allowed");
    expect_row_error("F1,名,\"Name," OK_TAIL, "rules.csv:2: malformed CSV");
    /* long values are cut in the message */
    char row[512];
    (void)snprintf(row, sizeof(row),
                   "F1,名,Name,fever_clinic|pharmacy,2,,,%s,3,blue,red\n",
                   "townshiptownshiptownshiptownshiptownshiptownship");
    expect_row_error(row,
                     "(got 'townshiptownshiptownshiptownshiptownship...')");
}

static void
rule_file_level_errors(void **state)
{
    (void)state;
    rhis_fusion_rules *r = NULL;
    char err[512];
    static const char no_header[] = "F1,名,Name," OK_TAIL;
    assert_int_equal(rhis_fusion_rules_parse(no_header, strlen(no_header),
                                             "x.csv", &r, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "x.csv:1: the header must be rule_id,"));
    assert_int_equal(
        rhis_fusion_rules_parse("", 0, "x.csv", &r, err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(rhis_fusion_rules_parse(HEADER, strlen(HEADER), "x.csv",
                                             &r, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_string_equal(err, "x.csv: no rules");
    assert_int_equal(rhis_fusion_rules_parse(HEADER, RHIS_FUSION_MAX_FILE + 1,
                                             "x.csv", &r, err, sizeof(err)),
                     RHIS_ETOOBIG);
    assert_null(r);
    assert_int_equal(
        rhis_fusion_rules_load("/nonexistent/rules.csv", &r, err, sizeof(err)),
        RHIS_EIO);
    assert_null(r);
    /* more than the rule cap */
    size_t cap = 80 * (RHIS_FUSION_MAX_RULES + 2) + sizeof(HEADER);
    char *big = rhis_xmalloc(cap);
    size_t len = (size_t)snprintf(big, cap, "%s", HEADER);
    for (int i = 0; i <= RHIS_FUSION_MAX_RULES; i++)
        len += (size_t)snprintf(big + len, cap - len, "R%d,名,N," OK_TAIL, i);
    assert_int_equal(
        rhis_fusion_rules_parse(big, len, "x.csv", &r, err, sizeof(err)),
        RHIS_ETOOBIG);
    assert_non_null(strstr(err, "x.csv:1002: more than 1000 rules"));
    rhis_free(big);
}

/* The shipped data/fusion-rules.csv loads and fires on a typical
 * township outbreak. */
static void
shipped_rule_file_loads(void **state)
{
    (void)state;
    const char *dir = getenv("RHIS_DATA_DIR");
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/fusion-rules.csv",
                   dir != NULL ? dir : "data");
    rhis_fusion_rules *r = NULL;
    char err[512];
    rhis_status rc = rhis_fusion_rules_load(path, &r, err, sizeof(err));
    if (rc != RHIS_OK)
        print_error("%s\n", err);
    assert_int_equal(rc, RHIS_OK);
    assert_true(r->n >= 6);
    /* fever clinic, absenteeism and antipyretic sales in one township */
    rhis_fusion_signal s[] = {
        sg(1, 1, "220221100", DAY - 1, 2, "respiratory"),
        sg(2, 3, "220221100", DAY, 2, "respiratory"),
        sg(3, 4, "220221100", DAY, 1, "respiratory"),
    };
    rhis_arena *a = rhis_arena_new();
    rhis_fused_signal *f = NULL;
    size_t n = 0;
    assert_int_equal(
        rhis_fusion_run(a, r, s, 3, DAY, 0, &f, &n, err, sizeof(err)), RHIS_OK);
    assert_true(n >= 2);
    assert_int_equal(f[0].severity, RHIS_FUSION_ORANGE); /* three channels */
    assert_int_equal(f[0].nchannels, 3);
    assert_string_equal(f[0].area, "220221100");
    rhis_arena_free(a);
    rhis_fusion_rules_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_fills_the_rules),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(two_channels_in_one_township_fuse),
        cmocka_unit_test(one_channel_or_other_townships_do_not_fuse),
        cmocka_unit_test(county_rule_fuses_across_townships),
        cmocka_unit_test(required_channel_must_contribute),
        cmocka_unit_test(standing_situation_is_not_raised_again),
        cmocka_unit_test(results_are_ordered_by_severity),
        cmocka_unit_test(bad_signals_are_refused),
        cmocka_unit_test(rule_file_errors_name_line_and_field),
        cmocka_unit_test(rule_file_level_errors),
        cmocka_unit_test(shipped_rule_file_loads),
    };
    return cmocka_run_group_tests_name("surveil fusion", tests, NULL, NULL);
}
