/*
 * surveillance.js - the surveillance console (传染病监测预警): signals by severity with
 * their response deadlines counting down, a grid of the area's townships coloured by
 * signal count, the report-card audit queue, duplicate cards and the response KPIs.
 *
 * Why: CDC duty staff must answer every signal before its deadline (2 h for a single
 * case of a listed disease, 24 h otherwise); the list puts the most severe and most
 * urgent first and shows how much time is left, so nothing overdue hides below the
 * fold. The tab lives in the hash (#/surveillance?tab=grid) so a reload keeps it.
 */
import './surveil-i18n.js';
import { api, qs } from '../api.js';
import { h, mount } from '../dom.js';
import { t, fmtNumber, hasKey } from '../i18n.js';
import { errorBox, loading, dataTable, statCard, panel } from '../ui.js';
import { ICONS } from '../icons.js';
import { fmtDateTime } from '../fhirview.js';

/* ---------- shared with the signal page ---------- */

export function severityBadge(sev) {
  return h('span', { class: `sev-badge sev-${sev}`, dataset: { severity: sev } }, t(`sv.severity.${sev}`));
}

export function stateBadge(state) {
  return h('span', { class: `state-badge state-${state}`, dataset: { state } }, t(`sv.state.${state}`));
}

const maybe = (key, fallback) => (hasKey(key) ? t(key) : fallback);

/* "发热门诊 · 呼吸道" for a channel subject, the disease's name otherwise. */
export function subjectText(s) {
  if (s.subjectType === 'channel') {
    const [ch, cat] = String(s.subject).split(':');
    return `${maybe(`sv.channel.${ch}`, ch)} · ${maybe(`sv.cat.${cat}`, cat)}`;
  }
  if (s.subjectType === 'syndrome') return s.subjectName || maybe(`sv.cat.${s.subject}`, s.subject);
  return s.subjectName || s.subject;
}

export function methodText(m) {
  return maybe(`sv.method.${m}`, m);
}

function span(ms) {
  const m = Math.max(0, Math.round(ms / 60000));
  return m >= 60 ? t('sv.hm', { h: Math.floor(m / 60), m: m % 60 }) : t('sv.m', { m });
}

/*
 * The deadline cell: time left, or overdue, or the response time once answered.
 * skew = server clock - browser clock, so the countdown follows the server.
 */
export function dueText(s, skew) {
  if (s.responded) return { text: t('sv.due.done', { h: s.responseHours }), cls: 'due-done' };
  if (s.pushed === false || s.deadlineMs == null) return { text: t('sv.due.evidence'), cls: 'due-none' };
  const left = s.deadlineMs - (Date.now() + skew);
  if (left < 0) return { text: t('sv.due.over', { t: span(-left) }), cls: 'due-over' };
  return { text: t('sv.due.left', { t: span(left) }), cls: left < 3600000 ? 'due-soon' : 'due-ok' };
}

export function dueCell(s, skew) {
  const d = dueText(s, skew);
  const el = h('span', { class: `due ${d.cls}`, dataset: { deadline: s.deadlineMs } }, d.text);
  return el;
}

/* Refreshes every countdown under root each 30 s until the page goes. */
export function tickCountdowns(root, rows, skew, ctx) {
  const timer = setInterval(() => {
    if (!root.isConnected) { clearInterval(timer); return; }
    for (const [el, s] of rows) {
      const d = dueText(s, skew);
      el.textContent = d.text;
      el.className = `due ${d.cls}`;
    }
  }, 30000);
  ctx.onCleanup(() => clearInterval(timer));
}

function fmtNum(v) {
  if (v == null) return t('common.none');
  return Number.isInteger(v) ? fmtNumber(v) : Number(v).toFixed(1);
}

/* ---------- tabs ---------- */

const TABS = ['signals', 'grid', 'cards', 'dups', 'kpi'];

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

function lastDays(n) {
  const to = new Date();
  const from = new Date(to.getTime() - (n - 1) * 86400000);
  return { from: isoDay(from), to: isoDay(to) };
}

async function renderSignals(box, ctx) {
  const { params, area } = ctx;
  const state = params.state || 'open';
  const severity = params.severity || '';
  const kind = params.kind || '';
  /* pushed signals need a response; evidence is the screen behind them
   * (docs/internals/signals.md "Pushed or evidence") */
  const pushed = params.pushed || '1';
  const select = (id, key, value, options) => h('label', { class: 'field-inline' },
    h('span', null, t(`sv.filter.${key}`)),
    h('select', {
      class: 'select', id,
      onchange: (ev) => ctx.update({ tab: 'signals', state, severity, kind, pushed, [key]: ev.target.value }),
    }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
  const filters = h('div', { class: 'filters', id: 'sv-filters' },
    select('sv-pushed', 'pushed', pushed, [['1', t('sv.pushed.1')], ['0', t('sv.pushed.0')], ['all', t('sv.filter.all')]]),
    select('sv-state', 'state', state, [['open', t('sv.filter.open')], ['new', t('sv.state.new')], ['verified', t('sv.state.verified')],
      ['dismissed', t('sv.state.dismissed')], ['warning', t('sv.state.warning')], ['all', t('sv.filter.all')]]),
    select('sv-severity', 'severity', severity, [['', t('sv.filter.all')], ...['red', 'orange', 'yellow', 'blue'].map((s) => [s, t(`sv.severity.${s}`)])]),
    select('sv-kind', 'kind', kind, [['', t('sv.filter.all')], ...['fixed', 'temporal', 'spatial', 'fused'].map((k) => [k, t(`sv.kind.${k}`)])]));
  const runLine = h('p', { class: 'muted small', id: 'sv-last-run' });
  const list = h('div', { id: 'sv-list', dataset: { state: 'loading' } }, loading());
  mount(box, filters, runLine, list);

  api('/api/v1/warn/runs?_count=1').then((r) => {
    const last = r.items && r.items[0];
    runLine.textContent = last ? t('sv.lastRun', { day: last.day, status: last.status, n: fmtNumber(last.signals) }) : t('sv.noRun');
  }).catch(() => { runLine.textContent = ''; });

  const res = await api(`/api/v1/signals${qs({ area: area.code, state, severity, kind, pushed: pushed === 'all' ? '' : pushed, _count: 200 })}`);
  const skew = (res.now || Date.now()) - Date.now();
  const timers = [];
  const open = (s) => ctx.go('signal', { area: area.code, id: s.id });
  const table = dataTable([
    { title: t('sv.col.severity'), cell: (s) => severityBadge(s.severity) },
    { title: t('sv.col.subject'), cell: (s) => h('span', { class: 'cell-name' }, h('a', { href: `#/signal?area=${encodeURIComponent(area.code)}&id=${s.id}`, class: 'sig-link' }, subjectText(s))) },
    { title: t('sv.col.kind'), cell: (s) => t(`sv.kind.${s.kind}`) },
    { title: t('sv.col.area'), cell: (s) => s.areaName || s.area },
    { title: t('sv.col.day'), cell: (s) => s.day },
    { title: t('sv.col.observed'), num: true, cell: (s) => `${fmtNum(s.observed)} / ${fmtNum(s.threshold)}` },
    { title: t('sv.col.state'), cell: (s) => [stateBadge(s.state), s.escalated ? h('span', { class: 'tag tag-esc' }, t('sv.escalated', { to: s.escalatedTo })) : null] },
    { title: t('sv.col.deadline'), cell: (s) => { const el = dueCell(s, skew); timers.push([el, s]); return el; } },
  ], res.items || [], { id: 'sv-table', onRow: open, empty: t('sv.empty') });
  for (const [i, tr] of Array.from(table.querySelectorAll('tbody tr.clickable')).entries()) {
    const s = res.items[i];
    tr.dataset.signal = s.id;
    tr.dataset.severity = s.severity;
    tr.dataset.state = s.state;
  }
  mount(list, h('p', { class: 'muted', id: 'sv-count' }, t('sv.count', { n: fmtNumber(res.total) })), table);
  list.dataset.state = 'loaded';
  list.dataset.total = String(res.total);
  tickCountdowns(list, timers, skew, ctx);
}

function gridTone(item, max) {
  if (!item.signals) return 'grid-none';
  if (item.red) return 'grid-red';
  const r = item.signals / Math.max(1, max);
  return r > 0.66 ? 'grid-high' : r > 0.33 ? 'grid-mid' : 'grid-low';
}

async function renderGrid(box, ctx) {
  const { area, params } = ctx;
  const def = lastDays(30);
  const from = params.from || def.from;
  const to = params.to || def.to;
  const res = await api(`/api/v1/signals/grid${qs({ area: area.code, from, to })}`);
  const items = res.items || [];
  const max = Math.max(0, ...items.map((i) => i.signals));
  const cells = items.map((i) => h('a', {
    class: `grid-cell ${gridTone(i, max)}`, id: `grid-${i.code}`,
    href: `#/surveillance?area=${encodeURIComponent(i.code)}&tab=signals&state=all`,
    dataset: { code: i.code, signals: i.signals }, title: i.code,
  },
  h('span', { class: 'grid-name' }, i.name),
  h('span', { class: 'grid-count' }, i.signals ? t('sv.grid.signals', { n: fmtNumber(i.signals) }) : t('sv.grid.none')),
  i.open ? h('span', { class: 'grid-open' }, t('sv.grid.open', { n: fmtNumber(i.open) })) : null));
  mount(box, panel(t('sv.grid.title', { area: area.name, from, to }),
    items.length ? h('div', { class: 'sv-grid', id: 'sv-grid' }, cells) : h('div', { class: 'empty' }, t('common.empty'))));
}

async function renderCards(box, ctx) {
  const { area } = ctx;
  const notice = h('div', { class: 'alert alert-ok', id: 'sv-cards-notice', role: 'status', hidden: true });
  const list = h('div', { id: 'sv-cards' }, loading());
  mount(box, notice, list);
  const canAudit = ['cdc', 'admin'].includes(ctx.me.role);
  async function load() {
    const res = await api(`/api/v1/report-cards${qs({ status: 'pending', area: area.code, _count: 100 })}`);
    const items = res.items || [];
    const approve = async (c) => {
      try {
        await api(`/api/v1/report-cards/${c.id}/audit`, { method: 'POST', body: { decision: 'audited' } });
        notice.textContent = t('sv.cards.approved', { id: c.id });
        notice.className = 'alert alert-ok';
      } catch (e) {
        notice.textContent = e.message;
        notice.className = 'alert alert-error';
      }
      notice.hidden = false;
      await load();
    };
    mount(list,
      h('p', { class: 'muted', id: 'sv-cards-count' }, t('sv.cards.count', { n: fmtNumber(res.total ?? items.length) })),
      dataTable([
        { title: '#', cell: (c) => String(c.id) },
        { title: t('sv.cards.disease'), cell: (c) => (c.disease && c.disease.name) || '' },
        { title: t('sv.cards.area'), cell: (c) => c.area_name || c.area_code },
        { title: t('sv.cards.inst'), cell: (c) => c.institution_name || '' },
        { title: t('sv.cards.diagnosis'), cell: (c) => fmtDateTime(c.diagnosis) },
        { title: t('sv.cards.auditDue'), cell: (c) => [fmtDateTime(c.audit_deadline), c.late ? h('span', { class: 'tag tag-esc' }, t('sv.cards.late')) : null] },
        { title: '', cell: (c) => (canAudit ? h('button', { type: 'button', class: 'btn btn-small', id: `sv-card-approve-${c.id}`, onclick: () => approve(c) }, t('sv.cards.approve')) : null) },
      ], items, { id: 'sv-cards-table', empty: t('sv.cards.empty') }));
  }
  await load();
}

async function renderDups(box) {
  const res = await api(`/api/v1/report-cards/duplicates${qs({ status: 'open', _count: 100 })}`);
  const items = res.items || [];
  mount(box,
    h('p', { class: 'muted', id: 'sv-dups-count' }, t('sv.dups.count', { n: fmtNumber(res.total ?? items.length) })),
    dataTable([
      { title: '#', cell: (d) => String(d.id) },
      { title: t('sv.tab.dups'), cell: (d) => t('sv.dups.pair', { a: d.card_a ?? d.a ?? '', b: d.card_b ?? d.b ?? '' }) },
      { title: t('sv.cards.disease'), cell: (d) => d.disease_name || d.disease || d.disease_code || '' },
      { title: t('sig.created'), cell: (d) => fmtDateTime(d.created) },
    ], items, { id: 'sv-dups-table', empty: t('sv.dups.empty') }));
}

async function renderKpi(box, ctx) {
  const { area, params } = ctx;
  const def = lastDays(90);
  const from = params.from || def.from;
  const to = params.to || def.to;
  const res = await api(`/api/v1/signals/kpi${qs({ area: area.code, from, to, by: 'child' })}`);
  const k = res.total || {};
  const pct = (v) => (v == null ? t('common.none') : `${(v * 100).toFixed(1)}%`);
  const hours = (v) => (v == null ? t('common.none') : t('sv.kpi.hours', { h: v }));
  mount(box,
    h('p', { class: 'muted' }, t('sv.kpi.title', { from, to }), ' · ', t('sv.kpi.rule')),
    h('div', { class: 'cards', id: 'sv-kpi-cards' },
      statCard({ id: 'kpi-signals', iconPaths: ICONS.surveillance, title: t('sv.kpi.signals'), value: fmtNumber(k.signals), tone: 'blue' }),
      statCard({ id: 'kpi-rate', iconPaths: ICONS.surveillance, title: t('sv.kpi.rate'), value: pct(k.responseRate), tone: 'green',
        sub: `${t('sv.kpi.timely')} ${pct(k.timelyRate)}` }),
      statCard({ id: 'kpi-median', iconPaths: ICONS.surveillance, title: t('sv.kpi.median'), value: hours(k.medianResponseHours), tone: 'teal' }),
      statCard({ id: 'kpi-escalated', iconPaths: ICONS.surveillance, title: t('sv.kpi.escalated'), value: fmtNumber(k.escalated), tone: 'indigo',
        sub: `${t('sv.kpi.warnings')} ${fmtNumber(k.warnings)}` })),
    dataTable([
      { title: t('sv.col.area'), cell: (r) => r.areaName || r.area },
      { title: t('sv.kpi.signals'), num: true, cell: (r) => fmtNumber(r.signals) },
      { title: t('sv.kpi.rate'), num: true, cell: (r) => pct(r.responseRate) },
      { title: t('sv.kpi.timely'), num: true, cell: (r) => pct(r.timelyRate) },
      { title: t('sv.kpi.median'), num: true, cell: (r) => hours(r.medianResponseHours) },
      { title: t('sv.kpi.escalated'), num: true, cell: (r) => fmtNumber(r.escalated) },
    ], res.byArea || [], { id: 'sv-kpi-table' }));
}

const RENDER = { signals: renderSignals, grid: renderGrid, cards: renderCards, dups: renderDups, kpi: renderKpi };

export async function renderSurveillance(root, ctx) {
  const tab = TABS.includes(ctx.params.tab) ? ctx.params.tab : 'signals';
  const tabs = h('nav', { class: 'tabs', id: 'sv-tabs', role: 'tablist' }, TABS.map((id) => h('a', {
    class: `tab${id === tab ? ' active' : ''}`, role: 'tab', id: `sv-tab-${id}`,
    'aria-selected': id === tab ? 'true' : 'false',
    href: `#/surveillance?area=${encodeURIComponent(ctx.area.code)}&tab=${id}`,
  }, t(`sv.tab.${id}`))));
  const box = h('div', { class: 'sv-tab-body', id: `sv-body-${tab}` }, loading());
  mount(root,
    h('div', { class: 'page-head' }, h('div', null,
      h('h1', null, `${ctx.area.name} · ${t('sv.title')}`),
      h('p', { class: 'muted' }, t('sv.subtitle')))),
    tabs, box);
  try {
    await RENDER[tab](box, ctx);
  } catch (e) {
    if (box.isConnected) mount(box, errorBox(e.status === 403 ? `${t('sv.forbidden')}（${e.message}）` : e.message, () => renderSurveillance(root, ctx)));
  }
}
