/*
 * plan.js - the planner dashboard (规划指标监测): pick a plan and a year, see every
 * target row with its status colour, a sparkline of the last five years and the
 * projection; click a row to drill from the county to its townships (and further);
 * enter survey/finance values; compare resources per 1000 with the plan's allocation
 * targets; colour a grid of areas by an indicator; read the plan's own
 * inconsistencies.
 *
 * Why: planners evaluate their plan every year (年度监测, 中期评估, 末期评估); the
 * hash (#/plan?plan=220221:2025&year=2025&tab=table&row=4&drill=220221) keeps the
 * view across reloads and shared links.
 */
import './plan-i18n.js';
import { api, qs, getToken } from '../api.js';
import { h, mount } from '../dom.js';
import { t, fmtNumber } from '../i18n.js';
import { errorBox, loading, dataTable, statCard, panel } from '../ui.js';
import { ICONS } from '../icons.js';

const TABS = ['table', 'resources', 'grid', 'lint'];
const STATES = ['met', 'on_track', 'at_risk', 'off_track', 'no_data'];
const TONES = { met: 'green', on_track: 'blue', at_risk: 'amber', off_track: 'red', no_data: 'gray' };
const RESOURCES = [
  { code: 'beds_per_1000', key: 'pl.res.beds' },
  { code: 'physicians_per_1000', key: 'pl.res.physicians' },
  { code: 'nurses_per_1000', key: 'pl.res.nurses' },
  { code: 'gps_per_10000', key: 'pl.res.gps' },
];

/* ctx.update keeps only the area: carry the page's other params along. */
const upd = (ctx, p) => ctx.update({ ...ctx.params, ...p });

const num = (v) => (v == null ? '—' : (Math.round(v * 100) / 100).toString());

function statusBadge(s) {
  return h('span', { class: `pl-badge pl-${s}`, dataset: { status: s } }, t(`pl.status.${s}`));
}

function targetText(r) {
  const y = r.target_year ? `（${r.target_year}）` : '';
  return `${r.target_text || '—'}${y}`;
}

/* A small ECharts line of the trend; plain text without ECharts. */
function sparkline(el, trend, ctx) {
  const pts = trend.filter((p) => p.value != null);
  if (pts.length < 2) { el.textContent = pts.length ? num(pts[0].value) : '—'; return; }
  if (!window.echarts) { el.textContent = pts.map((p) => num(p.value)).join(' → '); return; }
  el.classList.add('pl-spark');
  const chart = window.echarts.init(el, null, { renderer: 'svg', width: 110, height: 28 });
  chart.setOption({
    animation: false,
    grid: { left: 2, right: 2, top: 3, bottom: 3 },
    xAxis: { type: 'category', show: false, data: trend.map((p) => p.year) },
    yAxis: { type: 'value', show: false, scale: true },
    tooltip: { trigger: 'axis', confine: true, textStyle: { fontSize: 11 } },
    series: [{ type: 'line', data: trend.map((p) => p.value), symbol: 'circle', symbolSize: 3,
      connectNulls: true, lineStyle: { width: 1.5, color: '#2f7fd1' }, itemStyle: { color: '#2f7fd1' } }],
  });
  ctx.onCleanup(() => chart.dispose());
}

function barChart(el, items, unit, ctx) {
  if (!window.echarts || !items.length) return;
  el.classList.add('chart');
  const chart = window.echarts.init(el, null, { renderer: 'canvas' });
  chart.setOption({
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    yAxis: { type: 'category', data: items.map((c) => c.name), inverse: true, axisTick: { show: false } },
    xAxis: { type: 'value', name: unit },
    series: [{ type: 'bar', data: items.map((c) => c.value), barMaxWidth: 18, itemStyle: { color: '#5fb3a8' },
      label: { show: true, position: 'right', formatter: (p) => num(p.value) } }],
  });
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  ctx.onCleanup(() => { window.removeEventListener('resize', onResize); chart.dispose(); });
}

/* Opens the printable report (needs the bearer token, so fetched, then shown). */
async function openReport(plan, year, format) {
  const res = await fetch(`/api/v1/plans/${encodeURIComponent(plan)}/report${qs({ year, format })}`,
    { headers: { Authorization: `Bearer ${getToken()}` } });
  const blob = new Blob([await res.arrayBuffer()], { type: format === 'csv' ? 'text/csv' : 'text/html' });
  const url = URL.createObjectURL(blob);
  if (format === 'csv') {
    const a = h('a', { href: url, download: `${plan.replace(':', '-')}-${year}.csv` });
    document.body.append(a); a.click(); a.remove();
  } else {
    window.open(url, '_blank');
  }
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/* ---------- drill-down and data entry ---------- */

function entryForm(row, area, year, onSaved) {
  const msg = h('span', { class: 'muted', id: 'pl-entry-msg' });
  const f = {
    value: h('input', { type: 'number', step: 'any', id: 'pl-entry-value', required: true }),
    year: h('input', { type: 'number', id: 'pl-entry-year', value: String(year), min: '1949', max: '2100' }),
    source: h('input', { type: 'text', id: 'pl-entry-source', required: true }),
    person: h('input', { type: 'text', id: 'pl-entry-person', required: true }),
    note: h('input', { type: 'text', id: 'pl-entry-note' }),
  };
  const lab = (k, el) => h('label', { class: 'pl-field' }, h('span', null, t(k)), el);
  return h('form', {
    class: 'pl-entry', id: 'pl-entry',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api('/api/v1/entered-values', { method: 'POST', body: {
          measure: row.measure, area, year: Number(f.year.value), value: Number(f.value.value),
          source: f.source.value, person: f.person.value, note: f.note.value || null } });
        msg.textContent = t('pl.entry.saved');
        onSaved();
      } catch (e) { msg.textContent = e.message; }
    },
  }, h('h3', null, t('pl.entry.title')),
  lab('pl.entry.value', f.value), lab('pl.year', f.year), lab('pl.entry.source', f.source),
  lab('pl.entry.person', f.person), lab('pl.entry.note', f.note),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'pl-entry-save' }, t('pl.entry.save')), msg);
}

/* The parent division code of area, never above the plan's own area. */
function parentOf(area, top) {
  const lens = [2, 4, 6, 9, 12].filter((n) => n < area.length && n >= top.length);
  return lens.length ? area.slice(0, lens[lens.length - 1]) : top;
}

async function renderDrill(box, ctx, plan, rowNo, year) {
  const area = ctx.params.drill || plan.area;
  mount(box, loading());
  let d;
  try {
    d = await api(`/api/v1/plans/${encodeURIComponent(plan.id)}/rows/${rowNo}/children${qs({ year, area })}`);
  } catch (e) { mount(box, errorBox(e.message)); return; }
  const up = area.length > plan.area.length
    ? h('button', { type: 'button', class: 'btn btn-small', id: 'pl-drill-up',
      onclick: () => upd(ctx, { drill: parentOf(area, plan.area) }) }, t('pl.drill.up'))
    : null;
  const chartBox = h('div', { class: 'chart-box', id: 'pl-drill-chart' });
  const items = d.children || [];
  const parts = [h('p', { class: 'muted' }, `${d.row.indicator_zh} · ${d.row.unit || ''} · ${year}`)];
  if (!items.length && d.row.measure) parts.push(h('p', { class: 'muted', id: 'pl-drill-entered' }, t('pl.drill.entered')));
  parts.push(dataTable([
    { title: t('pl.col.area'), cell: (c) => c.name },
    { title: t('pl.col.value'), num: true, cell: (c) => num(c.value) },
    { title: '', cell: (c) => (c.small_numbers ? h('span', { class: 'muted' }, t('pl.small')) : '') },
  ], items, { id: 'pl-drill-table', onRow: (c) => upd(ctx, { drill: c.code }) }));
  parts.push(chartBox);
  const status = (ctx.statusRows || []).find((r) => r.row === rowNo);
  const role = ctx.me && ctx.me.role;
  if (status && status.entered && (role === 'admin' || role === 'planner')) {
    parts.push(entryForm(status, area, year, () => upd(ctx, {})));
  }
  mount(box, panel(t('pl.drill.title', { name: d.area_name || area }), h('div', { class: 'pl-drill-body' }, ...parts), up));
  barChart(chartBox, items.filter((c) => c.value != null), d.row.unit, ctx);
}

/* ---------- tabs ---------- */

async function tabTable(body, ctx, plan, year, st) {
  ctx.statusRows = st.rows;
  const drill = h('div', { id: 'pl-drill' }, h('p', { class: 'muted' }, t('pl.drill.hint')));
  const sparks = [];
  const table = dataTable([
    { title: t('pl.col.indicator'), cell: (r) => h('span', null,
      r.binding ? h('span', { class: 'pl-bind' }, t('pl.binding')) : null, r.indicator_zh,
      h('small', { class: 'muted' }, ` ${r.unit || ''}`)) },
    { title: t('pl.col.baseline'), cell: (r) => (r.baseline_text ? `${r.baseline_text}（${r.baseline_year || ''}）` : '—') },
    { title: t('pl.col.target'), cell: targetText },
    { title: t('pl.col.value'), num: true, cell: (r) => h('span', null, num(r.value),
      r.value != null ? h('small', { class: 'muted' }, ` ${r.value_year} ${r.value_from === 'entered' ? t('pl.entered') : t('pl.records')}`) : null) },
    { title: t('pl.col.trend'), cell: (r) => { const el = h('span', { class: 'pl-trend' }); sparks.push([el, r.trend]); return el; } },
    { title: t('pl.col.projection'), num: true, cell: (r) => num(r.projection) },
    { title: t('pl.col.status'), cell: (r) => statusBadge(r.status) },
  ], st.rows, { id: 'pl-table', onRow: (r) => upd(ctx, { row: r.row, drill: '' }) });
  for (const [i, tr] of Array.from(table.querySelectorAll('tbody tr.clickable')).entries()) {
    tr.dataset.row = st.rows[i].row;
    tr.dataset.indicator = st.rows[i].indicator;
    tr.classList.add(`pl-row-${st.rows[i].status}`);
  }
  mount(body, h('div', { class: 'pl-main' }, drill, panel(t('pl.tab.table'), table)));
  for (const [el, tr] of sparks) sparkline(el, tr || [], ctx);
  if (ctx.params.row) await renderDrill(drill, ctx, plan, Number(ctx.params.row), year);
}

async function tabResources(body, ctx, plan, year, st) {
  const dx = RESOURCES.map((r) => r.code).join(';');
  const a = await api(`/api/v1/analytics${qs({ dx, ou: `${plan.area};CHILDREN`, pe: String(year) })}`);
  const own = await api(`/api/v1/analytics${qs({ dx, ou: plan.area, pe: String(year) })}`);
  const val = {};
  for (const r of [...a.rows, ...own.rows]) val[`${r[0]}|${r[1]}`] = Number(r[3]);
  const targets = {};
  for (const r of st.rows) {
    if (RESOURCES.some((x) => x.code === r.indicator) && r.goal != null && !targets[r.indicator]) targets[r.indicator] = r;
  }
  const areas = [{ code: plan.area, name: plan.area_name }, ...a.metaData.dimensions.ou.map((c) => ({ code: c, name: a.metaData.items[c].name }))];
  const cell = (code, area) => {
    const v = val[`${code}|${area}`];
    const tg = targets[code];
    let cls = '';
    if (v != null && tg) cls = (tg.goal_cmp === '<' ? v <= tg.goal : tg.goal_cmp === '>' ? v >= tg.goal : Math.abs(v - tg.goal) <= tg.goal * 0.05) ? 'pl-ok' : 'pl-short';
    return h('span', { class: cls }, num(v));
  };
  const targetRow = { code: '', name: t('pl.res.target') };
  mount(body, panel(t('pl.res.title'), dataTable([
    { title: t('pl.col.area'), cell: (x) => x.name },
    ...RESOURCES.map((r) => ({ title: t(r.key), num: true,
      cell: (x) => (x === targetRow ? (targets[r.code] ? targetText(targets[r.code]) : '—') : cell(r.code, x.code)) })),
  ], [targetRow, ...areas], { id: 'pl-res-table' })));
}

async function tabGrid(body, ctx, plan, year, st) {
  const rows = st.rows.filter((r) => !r.entered);
  const rowNo = Number(ctx.params.row) || (rows[0] && rows[0].row);
  const sel = h('select', { id: 'pl-grid-ind', onchange: (ev) => upd(ctx, { row: ev.target.value }) },
    rows.map((r) => h('option', { value: String(r.row), selected: r.row === rowNo }, `${r.indicator_zh}（${r.row}）`)));
  if (!rowNo) { mount(body, h('p', { class: 'muted' }, t('common.empty'))); return; }
  const d = await api(`/api/v1/plans/${encodeURIComponent(plan.id)}/rows/${rowNo}/children${qs({ year })}`);
  const vals = d.children.map((c) => c.value).filter((v) => v != null);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const down = d.row.direction === 'down';
  const tiles = d.children.map((c) => {
    let bg = '#eef2f6';
    if (c.value != null) {
      let k = hi > lo ? (c.value - lo) / (hi - lo) : 0.5;
      if (down) k = 1 - k;
      bg = `hsl(${Math.round(10 + 110 * k)}, 60%, 78%)`;
    }
    return h('a', { class: 'pl-tile', href: `#/plan?area=${encodeURIComponent(ctx.area.code)}&plan=${encodeURIComponent(plan.id)}&year=${year}&tab=table&row=${rowNo}&drill=${c.code}`,
      style: `background:${bg}`, dataset: { code: c.code } },
    h('strong', null, c.name), h('span', null, num(c.value)));
  });
  mount(body, panel(`${d.row.indicator_zh} · ${year}`, h('div', null,
    h('label', { class: 'pl-field' }, h('span', null, t('pl.grid.indicator')), sel),
    h('div', { class: 'pl-grid', id: 'pl-grid' }, tiles))));
}

async function tabLint(body, ctx, plan) {
  const l = await api(`/api/v1/plans/${encodeURIComponent(plan.id)}/lint`);
  mount(body, panel(t('pl.tab.lint'), dataTable([
    { title: t('pl.lint.row'), cell: (f) => (f.other_row ? `${f.row} / ${f.other_row}` : String(f.row)) },
    { title: t('pl.col.status'), cell: (f) => t(`pl.lint.kind.${f.kind}`) },
    { title: t('pl.col.indicator'), cell: (f) => f.indicator_zh },
    { title: '', cell: (f) => f.message },
  ], l.findings, { id: 'pl-lint-table', empty: t('pl.lint.none') })));
}

/* ---------- page ---------- */

export async function renderPlan(root, ctx) {
  mount(root, loading());
  const list = await api('/api/v1/plans');
  const plans = list.plans || [];
  const code = ctx.area.code;
  const plan = plans.find((p) => p.id === ctx.params.plan)
    || plans.find((p) => p.area === code)
    || plans.find((p) => code.startsWith(p.area) || p.area.startsWith(code))
    || plans[0];
  if (!plan) { mount(root, h('p', { class: 'empty', id: 'pl-none' }, t('pl.noPlan'))); return; }
  const years = [];
  for (let y = plan.baseline_year + 1; y <= plan.horizon; y++) years.push(y);
  const thisYear = new Date().getFullYear();
  const year = Number(ctx.params.year) || Math.min(Math.max(thisYear, years[0]), plan.horizon);
  const tab = TABS.includes(ctx.params.tab) ? ctx.params.tab : 'table';
  const st = await api(`/api/v1/plans/${encodeURIComponent(plan.id)}/status${qs({ year })}`);
  ctx.me = ctx.me || await api('/api/v1/me').catch(() => null);

  const head = h('div', { class: 'page-head' },
    h('div', null, h('h1', null, `${t('pl.title')} · ${st.name}`),
      h('p', { class: 'muted', id: 'pl-eval' }, `${year} · ${st.evaluation_zh} · ${t('pl.subtitle')}`)),
    h('div', { class: 'pl-controls' },
      h('select', { id: 'pl-plan', onchange: (ev) => upd(ctx, { plan: ev.target.value, row: '', drill: '' }) },
        plans.map((p) => h('option', { value: p.id, selected: p.id === plan.id }, `${p.area_name} ${p.id}`))),
      h('select', { id: 'pl-year', onchange: (ev) => upd(ctx, { year: ev.target.value }) },
        years.map((y) => h('option', { value: String(y), selected: y === year }, String(y)))),
      h('button', { type: 'button', class: 'btn', id: 'pl-report', onclick: () => openReport(plan.id, year, 'html') }, t('pl.report')),
      h('button', { type: 'button', class: 'btn', id: 'pl-report-csv', onclick: () => openReport(plan.id, year, 'csv') }, t('pl.reportCsv'))));
  const cards = h('div', { class: 'cards pl-cards', id: 'pl-cards' }, STATES.map((s) => statCard({
    id: `pl-card-${s}`, iconPaths: ICONS.plan || ICONS.overview, title: t(`pl.status.${s}`),
    value: fmtNumber(st.summary[s] || 0), tone: TONES[s] })));
  const base = { area: ctx.area.code, plan: plan.id, year };
  const tabs = h('nav', { class: 'tabs', id: 'pl-tabs', role: 'tablist' }, TABS.map((id) => h('a', {
    class: `tab${id === tab ? ' active' : ''}`, role: 'tab', id: `pl-tab-${id}`,
    href: `#/plan${qs({ ...base, tab: id })}`,
  }, t(`pl.tab.${id}`))));
  const body = h('div', { id: `pl-body-${tab}` }, loading());
  mount(root, head, cards, tabs, body);
  try {
    if (tab === 'table') await tabTable(body, ctx, plan, year, st);
    else if (tab === 'resources') await tabResources(body, ctx, plan, year, st);
    else if (tab === 'grid') await tabGrid(body, ctx, plan, year, st);
    else await tabLint(body, ctx, plan);
  } catch (e) { mount(body, errorBox(e.message)); }
}
