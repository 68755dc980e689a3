/*
 * report.c - the monitoring report of a plan for a year (年度监测报告,
 * 中期评估, 末期评估) as printable HTML or CSV.
 *
 * Why: the plans require a written evaluation every year and at mid-term
 * and end; planners print it (HTML with print CSS, "save as PDF") or take
 * the table into a spreadsheet (CSV).  Both come from the same status and
 * lint as the API, so the paper and the dashboard never disagree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "plans_int.h"
#include "rhis/indicator.h"

static void
html_esc(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void
csv_field(FILE *f, const char *s, int last)
{
    fputc('"', f);
    for (; s != NULL && *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
    fputc(last ? '\n' : ',', f);
}

static void
num(char *buf, size_t len, int ok, double v)
{
    if (!ok)
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%.4g", v);
}

static const char *
goal_text(rhis_arena *a, const rhis_plan_status *s)
{
    if (!s->has_goal)
        return "";
    return rhis_arena_printf(a, "%s %.4g",
                             s->cmp == '<'   ? "≤"
                             : s->cmp == '>' ? "≥"
                                             : "≈",
                             s->goal);
}

/* An inline SVG sparkline of the trend (prints without scripts). */
static void
sparkline(FILE *f, const rhis_plan_status *s)
{
    double lo = INFINITY, hi = -INFINITY;
    int k = 0;
    for (int i = 0; i < s->ntrend; i++)
        if (s->trend_ok[i]) {
            lo = fmin(lo, s->trend[i]);
            hi = fmax(hi, s->trend[i]);
            k++;
        }
    if (k < 2) {
        fputs("—", f);
        return;
    }
    fputs("<svg class=\"spark\" viewBox=\"0 0 80 20\" width=\"80\""
          " height=\"20\"><polyline fill=\"none\" stroke=\"#1f6feb\""
          " stroke-width=\"1.5\" points=\"",
          f);
    for (int i = 0; i < s->ntrend; i++) {
        if (!s->trend_ok[i])
            continue;
        double x = s->ntrend > 1 ? 2 + 76.0 * i / (s->ntrend - 1) : 40;
        double y = hi > lo ? 18 - 16 * (s->trend[i] - lo) / (hi - lo) : 10;
        fprintf(f, "%.1f,%.1f ", x, y);
    }
    fputs("\"/></svg>", f);
}

static void
trend_text(char *buf, size_t len, const rhis_plan_status *s)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->ntrend && o + 24 < len; i++)
        if (s->trend_ok[i])
            o += (size_t)snprintf(buf + o, len - o, "%s%d:%.4g",
                                  o > 0 ? ";" : "", s->trend_year[i],
                                  s->trend[i]);
}

static const char *const css =
    "body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;"
    "margin:2em;color:#111}h1{font-size:1.4em}h2{font-size:1.15em;"
    "margin-top:1.5em}table{border-collapse:collapse;width:100%;"
    "font-size:.85em}th,td{border:1px solid #999;padding:3px 5px;"
    "vertical-align:top}th{background:#eee}.met{background:#d4f4dd}"
    ".on_track{background:#e3f0ff}.at_risk{background:#fff3cd}"
    ".off_track{background:#f8d7da}.no_data{background:#f1f1f1;color:#666}"
    ".bind{font-weight:bold}.meta{color:#555;font-size:.9em}"
    "@media print{body{margin:0}h2{page-break-after:avoid}"
    "tr{page-break-inside:avoid}thead{display:table-header-group}"
    "@page{size:A4 landscape;margin:12mm}}";

static void
html(FILE *f,
     rhis_arena *a,
     const rhis_plan *p,
     int year,
     const char *ev,
     const rhis_plan_status *s,
     size_t n,
     const rhis_plan_finding *x,
     size_t nx)
{
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
          "<title>",
          f);
    html_esc(f, p->name_zh);
    fprintf(f, " %d年%s</title><style>%s</style></head><body>\n", year,
            rhis_plan_evaluation_zh(ev), css);
    fputs("<h1>", f);
    html_esc(f, p->name_zh);
    fprintf(f, "<br>%d年%s报告</h1>\n", year, rhis_plan_evaluation_zh(ev));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    fprintf(f,
            "<p class=\"meta\">规划 %s · 地区 %s（%s）· 基线年 %d · 目标年 %d"
            " · 生成于 %04d-%02d-%02d（UTC）· 约束性指标列在前</p>\n",
            p->id, p->area_name, p->area, p->baseline_year, p->horizon,
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    size_t cnt[6] = {0};
    for (size_t i = 0; i < n; i++)
        cnt[s[i].state]++;
    fprintf(f,
            "<p>共 %zu 项目标：已达标 %zu，进度正常 %zu，有风险 %zu，偏离目标"
            " %zu，无数据 %zu。</p>\n",
            n, cnt[RHIS_PLAN_MET], cnt[RHIS_PLAN_ON_TRACK],
            cnt[RHIS_PLAN_AT_RISK], cnt[RHIS_PLAN_OFF_TRACK],
            cnt[RHIS_PLAN_NO_DATA]);
    fputs("<h2>一、指标监测情况</h2>\n<table><thead><tr><th>序号</th>"
          "<th>领域</th><th>指标</th><th>属性</th><th>单位</th><th>基线</th>"
          "<th>目标</th><th>当前值</th><th>趋势（近5年）</th><th>预测"
          "（目标年）</th><th>状态</th><th>来源</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_status *t = &s[i];
        const rhis_plan_row *r = t->row;
        char cur[48], proj[48];
        num(cur, sizeof(cur), t->has_value, t->value);
        num(proj, sizeof(proj), t->has_projection, t->projection);
        fprintf(f, "<tr class=\"%s%s\"><td>%d</td><td>",
                rhis_plan_state_name(t->state),
                strcmp(r->attribute, "约束性") == 0 ? " bind" : "", r->row);
        html_esc(f, r->domain);
        fputs("</td><td>", f);
        html_esc(f, r->name_zh);
        fputs("</td><td>", f);
        html_esc(f, r->attribute);
        fputs("</td><td>", f);
        html_esc(f, r->unit);
        fputs("</td><td>", f);
        html_esc(f, r->baseline_text);
        if (r->baseline_year)
            fprintf(f, "（%d）", r->baseline_year);
        fputs("</td><td>", f);
        html_esc(f, r->target_text);
        fprintf(f, "（%d）", r->target_year ? r->target_year : p->horizon);
        if (t->has_goal) {
            fputs("<br><small>", f);
            html_esc(f, goal_text(a, t));
            fputs("</small>", f);
        }
        fprintf(f, "</td><td>%s", cur);
        if (t->has_value)
            fprintf(f, "<br><small>%d</small>", t->value_year);
        fputs("</td><td>", f);
        sparkline(f, t);
        fprintf(f, "</td><td>%s</td><td>%s</td><td>", proj,
                rhis_plan_state_zh(t->state));
        if (strcmp(t->value_from, "entered") == 0) {
            fputs("填报：", f);
            html_esc(f, t->entered_source);
            fputs("（", f);
            html_esc(f, t->entered_person);
            fputs("）", f);
        } else if (t->value_from[0] != '\0') {
            fputs("业务记录实时汇总", f);
            if (t->flags & RHIS_IND_FLAG_SMALL)
                fputs("（分母小，数值不稳定）", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n<h2>二、规划自身的问题（规划检查）</h2>\n", f);
    if (nx == 0)
        fputs("<p>未发现问题。</p>\n", f);
    else
        fputs("<table><thead><tr><th>行</th><th>类型</th><th>指标</th>"
              "<th>说明</th></tr></thead><tbody>\n",
              f);
    for (size_t i = 0; i < nx; i++) {
        fprintf(f, "<tr><td>%d", x[i].row);
        if (x[i].other_row)
            fprintf(f, " / %d", x[i].other_row);
        fputs("</td><td>", f);
        html_esc(f, x[i].kind);
        fputs("</td><td>", f);
        html_esc(f, x[i].indicator);
        fputs("</td><td>", f);
        html_esc(f, x[i].message);
        fputs("</td></tr>\n", f);
    }
    if (nx > 0)
        fputs("</tbody></table>\n", f);
    fputs("<h2>三、说明</h2>\n<p class=\"meta\">当前值：业务记录计算的指标取"
          "本年度实时汇总值，调查、财务、环境等填报指标取截至本年度最近一次"
          "填报值。预测：对近5年数值做最小二乘直线拟合（不足两年时加入规划"
          "基线），外推到目标年。状态：已达标＝当前值满足目标；进度正常＝"
          "预测值在目标年满足目标；有风险＝趋势向目标改善但预测仍未达到，或"
          "无趋势且差距在10%以内；偏离目标＝其余情况（目标年已到而未达标亦"
          "然）；无数据＝无数值或目标非数值。“左右”按±5%判断。</p>\n"
          "</body></html>\n",
          f);
}

static void
csv(FILE *f,
    rhis_arena *a,
    const rhis_plan *p,
    int year,
    const char *ev,
    const rhis_plan_status *s,
    size_t n,
    const rhis_plan_finding *x,
    size_t nx)
{
    fputs("section,plan,year,evaluation,row,attribute,domain,indicator,"
          "indicator_code,unit,baseline_year,baseline,target_year,target,"
          "goal,current,current_year,value_from,status,trend,projection,"
          "message\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const rhis_plan_status *t = &s[i];
        const rhis_plan_row *r = t->row;
        char rowno[16], by[16], ty[16], cur[48], cy[16], proj[48], tr[256];
        snprintf(rowno, sizeof(rowno), "%d", r->row);
        snprintf(by, sizeof(by), "%d", r->baseline_year);
        snprintf(ty, sizeof(ty), "%d",
                 r->target_year ? r->target_year : p->horizon);
        num(cur, sizeof(cur), t->has_value, t->value);
        snprintf(cy, sizeof(cy), "%d", t->has_value ? t->value_year : 0);
        num(proj, sizeof(proj), t->has_projection, t->projection);
        trend_text(tr, sizeof(tr), t);
        char yr[16];
        snprintf(yr, sizeof(yr), "%d", year);
        const char *cols[] = {"status",
                              p->id,
                              yr,
                              ev,
                              rowno,
                              r->attribute,
                              r->domain,
                              r->name_zh,
                              r->indicator,
                              r->unit,
                              r->baseline_year ? by : "",
                              r->baseline_text,
                              ty,
                              r->target_text,
                              goal_text(a, t),
                              cur,
                              t->has_value ? cy : "",
                              t->value_from,
                              rhis_plan_state_name(t->state),
                              tr,
                              proj,
                              t->reason};
        size_t nc = sizeof(cols) / sizeof(cols[0]);
        for (size_t c = 0; c < nc; c++)
            csv_field(f, cols[c], c + 1 == nc);
    }
    for (size_t i = 0; i < nx; i++) {
        char rowno[16], yr[16];
        snprintf(rowno, sizeof(rowno), "%d", x[i].row);
        snprintf(yr, sizeof(yr), "%d", year);
        const char *cols[] = {
            "lint",    p->id, yr, ev, rowno, "",          "", x[i].indicator,
            x[i].kind, "",    "", "", "",    "",          "", "",
            "",        "",    "", "", "",    x[i].message};
        size_t nc = sizeof(cols) / sizeof(cols[0]);
        for (size_t c = 0; c < nc; c++)
            csv_field(f, cols[c], c + 1 == nc);
    }
}

rhis_status
rhis_plan_report(rhis_db *db,
                 const char *plan,
                 int year,
                 rhis_plan_format fmt,
                 FILE *out,
                 char *err,
                 size_t errlen)
{
    rhis_arena *a = rhis_arena_new();
    rhis_plan p;
    rhis_status rc = rhis_plan_get(db, a, plan, &p);
    if (rc == RHIS_ENOTFOUND)
        snprintf(err, errlen, "no plan %s (run rhis plan load)", plan);
    rhis_plan_status *s = NULL;
    size_t n = 0, nx = 0;
    rhis_plan_finding *x = NULL;
    if (rc == RHIS_OK)
        rc = rhis_plan_status_get(db, a, plan, year, &s, &n);
    if (rc == RHIS_OK)
        rc = rhis_plan_lint(db, a, plan, &x, &nx);
    if (rc != RHIS_OK && rc != RHIS_ENOTFOUND)
        snprintf(err, errlen, "cannot evaluate plan %s: %s", plan,
                 rhis_db_errmsg(db));
    if (rc == RHIS_OK) {
        const char *ev = rhis_plan_evaluation(&p, year);
        if (fmt == RHIS_PLAN_CSV)
            csv(out, a, &p, year, ev, s, n, x, nx);
        else
            html(out, a, &p, year, ev, s, n, x, nx);
        if (ferror(out)) {
            snprintf(err, errlen, "write error");
            rc = RHIS_EIO;
        }
    }
    rhis_arena_free(a);
    return rc;
}
