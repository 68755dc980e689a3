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
import { errorBox, loading, dataTable, statCard, panel, pager } from '../ui.js';
import { ICONS } from '../icons.js';
import { fmtDate, fmtDateTime, openDialog } from '../fhirview.js';

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

/* The audit queue (报告卡审核): approve, or reject with a required note (审核不通过). */
function rejectDialog(c, onDone) {
  const ta = h('textarea', { id: 'sv-reject-dialog-text', class: 'input textarea', rows: 3, maxlength: 500,
    placeholder: t('sv.cards.rejectPlaceholder') });
  const close = openDialog({
    id: 'sv-reject-dialog', title: t('sv.cards.rejectTitle', { id: c.id }),
    body: [h('p', null, t('sv.cards.rejectBody')),
      h('label', { class: 'field' }, h('span', null, t('sv.cards.rejectNote')), ta)],
    actions: [
      { text: t('common.cancel'), id: 'sv-reject-dialog-cancel' },
      {
        text: t('sv.cards.reject'), id: 'sv-reject-dialog-confirm', danger: true,
        isDisabled: () => !ta.value.trim(),
        onClick: async (closeIt, setError) => {
          try {
            await api(`/api/v1/report-cards/${c.id}/audit`, { method: 'POST', body: { decision: 'rejected', note: ta.value.trim() } });
          } catch (e) {
            setError(actionError(e));
            return;
          }
          closeIt();
          onDone();
        },
      }],
  });
  ta.addEventListener('input', () => close.refresh());
}

/* An action's error for the operator: what a 409 or 403 means, then the server's words. */
function actionError(e) {
  if (e.status === 409) return `${t('sv.conflict')}（${e.message}）`;
  if (e.status === 403) return `${t('sv.actionForbidden')}（${e.message}）`;
  return e.message;
}

async function renderCards(box, ctx) {
  const { area } = ctx;
  const notice = h('div', { class: 'alert alert-ok', id: 'sv-cards-notice', role: 'status', hidden: true });
  const list = h('div', { id: 'sv-cards', dataset: { state: 'loading' } }, loading());
  mount(box, notice, list);
  const canAudit = ['cdc', 'admin'].includes(ctx.me.role);
  const say = (text, ok) => {
    notice.textContent = text;
    notice.className = `alert ${ok ? 'alert-ok' : 'alert-error'}`;
    notice.hidden = false;
  };
  async function load() {
    const res = await api(`/api/v1/report-cards${qs({ status: 'pending', area: area.code, _count: 100 })}`);
    const items = res.items || [];
    const approve = async (c) => {
      try {
        await api(`/api/v1/report-cards/${c.id}/audit`, { method: 'POST', body: { decision: 'audited' } });
        say(t('sv.cards.approved', { id: c.id }), true);
      } catch (e) {
        say(actionError(e), false);
      }
      await load();
    };
    const reject = (c) => rejectDialog(c, async () => {
      say(t('sv.cards.rejected', { id: c.id }), true);
      await load();
    });
    const table = dataTable([
      { title: '#', cell: (c) => String(c.id) },
      { title: t('sv.cards.disease'), cell: (c) => (c.disease && c.disease.name) || '' },
      { title: t('sv.cards.area'), cell: (c) => c.area_name || c.area_code },
      { title: t('sv.cards.inst'), cell: (c) => c.institution_name || '' },
      { title: t('sv.cards.diagnosis'), cell: (c) => fmtDateTime(c.diagnosis) },
      { title: t('sv.cards.auditDue'), cell: (c) => [fmtDateTime(c.audit_deadline), c.late ? h('span', { class: 'tag tag-esc' }, t('sv.cards.late')) : null] },
      {
        title: '',
        cell: (c) => (canAudit ? h('span', { class: 'sv-card-actions' },
          h('button', { type: 'button', class: 'btn btn-small', id: `sv-card-approve-${c.id}`, onclick: () => approve(c) }, t('sv.cards.approve')),
          h('button', { type: 'button', class: 'btn btn-small btn-danger', id: `sv-card-reject-${c.id}`, onclick: () => reject(c) }, t('sv.cards.reject'))) : null),
      },
    ], items, { id: 'sv-cards-table', empty: t('sv.cards.empty') });
    for (const [i, tr] of Array.from(table.querySelectorAll('tbody tr')).entries())
      if (items[i]) tr.dataset.card = items[i].id;
    mount(list, h('p', { class: 'muted', id: 'sv-cards-count' }, t('sv.cards.count', { n: fmtNumber(res.total ?? items.length) })), table);
    list.dataset.state = 'loaded';
  }
  await load();
}

/* ---------- duplicate review (重卡审核) ---------- */

/* 220221********123X, as the card list masks an ID number (rhis_idnum_mask). */
function maskIdNumber(s) {
  if (!s || s.includes('*') || s.length < 15) return s || '';
  return `${s.slice(0, 6)}${'*'.repeat(s.length - 10)}${s.slice(-4)}`;
}

/*
 * Both cards of a pair, ID numbers masked: the card list of the pair's patient and
 * disease masks them on the server; a card not in it (a pair across two patient
 * records that were merged) is read alone and masked here.
 */
async function pairCards(d) {
  const res = await api(`/api/v1/report-cards${qs({ patient: d.patient_id, disease: d.disease, _count: 100 })}`);
  const byId = new Map((res.items || []).map((c) => [c.id, c]));
  const one = async (id) => {
    if (byId.has(id)) return byId.get(id);
    const c = await api(`/api/v1/report-cards/${id}`);
    return { ...c, id_number: maskIdNumber(c.id_number) };
  };
  return Promise.all([one(d.card_a), one(d.card_b)]);
}

const DUP_FIELDS = [
  ['id_number', (c) => c.id_number || t('common.none')],
  ['disease', (c) => (c.disease && (c.disease.name || c.disease.code)) || ''],
  ['classification', (c) => maybe(`sv.class.${c.classification}`, c.classification || t('common.none'))],
  ['onset', (c) => fmtDate(c.onset)],
  ['diagnosis', (c) => fmtDateTime(c.diagnosis)],
  ['institution', (c) => c.institution_name || (c.institution_id != null ? `#${c.institution_id}` : t('common.none'))],
  ['doctor', (c) => c.doctor || t('common.none')],
  ['reported', (c) => fmtDateTime(c.report_time)],
  ['address', (c) => [c.area_name || c.area_code, c.address_line].filter(Boolean).join(' ')],
  ['status', (c) => maybe(`sv.cardStatus.${c.status}`, c.status)],
];

/* One card of a pair as a column; fields that differ from the other card are marked. */
function dupCardColumn(d, c, other, keepName, keep) {
  const radio = h('input', {
    type: 'radio', name: keepName, value: String(c.id), id: `sv-dup-${d.id}-keep-${c.id}`,
    checked: c.id === keep,
  });
  return h('div', { class: 'dup-card', dataset: { card: c.id } },
    h('label', { class: 'dup-keep' }, radio, h('span', null, t('sv.dups.keep', { id: c.id }))),
    h('dl', { class: 'dup-fields' }, DUP_FIELDS.map(([key, get]) => {
      const v = String(get(c));
      const diff = other && v !== String(get(other));
      return [h('dt', null, t(`sv.dups.f.${key}`)),
        h('dd', { class: diff ? 'dup-diff' : null, dataset: { field: key } }, v)];
    })));
}

/* The card kept by default: the first reported (the earlier report time, then the lower id). */
function defaultKeep(a, b) {
  const ta = Date.parse(a.report_time || '') || 0;
  const tb = Date.parse(b.report_time || '') || 0;
  if (ta !== tb && ta && tb) return ta < tb ? a.id : b.id;
  return Math.min(a.id, b.id);
}

function dupPair(d, cards, canReview, { onDone, say }) {
  const box = h('section', { class: 'dup-pair panel', id: `sv-dup-${d.id}`, dataset: { pair: d.id, a: d.card_a, b: d.card_b, state: 'open' } });
  const head = h('header', { class: 'dup-head' },
    h('strong', null, t('sv.dups.pair', { a: d.card_a, b: d.card_b })),
    h('span', { class: 'muted small' }, t('sv.dups.found', { t: fmtDateTime(d.created) })));
  if (!cards) {
    mount(box, head, h('div', { class: 'alert alert-error', role: 'alert' }, t('sv.dups.unreadable')));
    return box;
  }
  const [a, b] = cards;
  const keepName = `sv-dup-keep-${d.id}`;
  const err = h('div', { class: 'alert alert-error', role: 'alert', id: `sv-dup-${d.id}-error`, hidden: true });
  const cols = h('div', { class: 'dup-cards' },
    dupCardColumn(d, a, b, keepName, defaultKeep(a, b)),
    dupCardColumn(d, b, a, keepName, defaultKeep(a, b)));
  if (!canReview) {
    cols.querySelectorAll('input[type=radio]').forEach((r) => { r.disabled = true; });
    mount(box, head, cols, h('p', { class: 'muted small' }, t('sv.dups.readOnly')));
    return box;
  }
  const note = h('textarea', { id: `sv-dup-${d.id}-note`, class: 'input textarea', rows: 2, maxlength: 500, placeholder: t('sv.dups.notePlaceholder') });
  const mergeBtn = h('button', { type: 'button', class: 'btn btn-primary', id: `sv-dup-${d.id}-merge` }, t('sv.dups.merge'));
  const sepBtn = h('button', { type: 'button', class: 'btn', id: `sv-dup-${d.id}-separate`, disabled: true, title: t('sv.dups.noteRequired') }, t('sv.dups.separate'));
  let busy = false;
  const refresh = () => { sepBtn.disabled = busy || !note.value.trim(); mergeBtn.disabled = busy; };
  note.addEventListener('input', refresh);
  const run = async (path, body, doneText) => {
    busy = true;
    refresh();
    err.hidden = true;
    try {
      await api(path, { method: 'POST', body });
    } catch (e) {
      err.replaceChildren(actionError(e), ' ',
        e.status === 409 ? h('button', { type: 'button', class: 'btn btn-small', id: `sv-dup-${d.id}-reload`, onclick: onDone }, t('sv.dups.reload')) : null);
      err.hidden = false;
      box.dataset.state = 'error';
      busy = false;
      refresh();
      return;
    }
    box.dataset.state = 'done';
    say(doneText);
    await onDone();
  };
  mergeBtn.addEventListener('click', () => {
    const picked = box.querySelector(`input[name="${keepName}"]:checked`);
    const keep = Number(picked ? picked.value : defaultKeep(a, b));
    const drop = keep === a.id ? b.id : a.id;
    const text = note.value.trim();
    run(`/api/v1/report-cards/${drop}/merge`, text ? { into: keep, note: text } : { into: keep },
      t('sv.dups.merged', { drop, keep }));
  });
  sepBtn.addEventListener('click', () => {
    const text = note.value.trim();
    if (!text) return;
    run(`/api/v1/report-cards/${a.id}/not-duplicate`, { other: b.id, note: text },
      t('sv.dups.separated', { a: a.id, b: b.id }));
  });
  mount(box, head, cols,
    h('div', { class: 'dup-actions' },
      h('label', { class: 'field dup-note' }, h('span', null, t('sv.dups.note')), note),
      h('div', { class: 'dup-buttons' }, mergeBtn, sepBtn),
      err));
  return box;
}

const DUP_PAGE = 20;

async function renderDups(box, ctx) {
  const canReview = ['cdc', 'admin'].includes(ctx.me.role);
  const notice = h('div', { class: 'alert alert-ok', id: 'sv-dups-notice', role: 'status', hidden: true });
  const list = h('div', { id: 'sv-dups', dataset: { state: 'loading' } }, loading());
  mount(box, notice, list);
  const say = (text) => { notice.textContent = text; notice.hidden = false; };
  let offset = 0;
  async function load() {
    list.dataset.state = 'loading';
    const res = await api(`/api/v1/report-cards/duplicates${qs({ status: 'open', _count: DUP_PAGE, _offset: offset })}`);
    const items = res.items || [];
    const total = res.total ?? items.length;
    if (!items.length && offset > 0 && total > 0) { offset = Math.max(0, offset - DUP_PAGE); return load(); }
    const cards = await Promise.all(items.map((d) => pairCards(d).catch(() => null)));
    const reload = () => load().catch((e) => { if (list.isConnected) mount(list, errorBox(e.message, reload)); });
    mount(list,
      h('p', { class: 'muted', id: 'sv-dups-count' }, t('sv.dups.count', { n: fmtNumber(total) }), ' · ', t('sv.dups.hint')),
      items.length
        ? h('div', { class: 'dup-list' }, items.map((d, i) => dupPair(d, cards[i], canReview, { onDone: reload, say })))
        : h('div', { class: 'empty', id: 'sv-dups-empty' }, t('sv.dups.empty')),
      total > DUP_PAGE ? pager(total, offset, DUP_PAGE, (o) => { offset = o; reload(); }) : null);
    list.dataset.state = 'loaded';
    list.dataset.total = String(total);
  }
  await load();
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
