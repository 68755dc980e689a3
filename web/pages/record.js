/*
 * record.js - a resident's health record (健康档案): demographics, a timeline of
 * encounters, diagnoses, vital signs as an ECharts chart, immunizations, documents
 * and the log of who read the record.
 *
 * Why: the record is read section by section from the FHIR API, so one section
 * the caller may not see (or that fails) does not hide the others. A 403 on the
 * record itself offers break-glass: the caller gives a reason (at least 10
 * characters) and every request of this record then carries it in the
 * X-Break-Glass-Reason header, where the server records it for review. The
 * reason lives in memory only.
 */
import { api, qs } from '../api.js';
import { h, mount, icon } from '../dom.js';
import { ICONS } from '../icons.js';
import { t, label, fmtNumber, getLang } from '../i18n.js';
import { dataTable, errorBox, panel, loading, pager } from '../ui.js';
import {
  SYS_ICD10, SYS_IDNUM, bundleResources, patientName, patientIdNumber, patientPhone, patientDivision,
  patientAddressText, genderText, replacedBy, refText, areaText, conceptText,
  fmtDate, fmtDateTime, openDialog, fieldList,
} from '../fhirview.js';

const COUNT = 100;
const LOG_LIMIT = 20;
const REASON_MIN = 10;

/* LOINC codes of the vitals chart. */
const LOINC = {
  bp: '85354-9', systolic: '8480-6', diastolic: '8462-4',
  glucose: ['2339-0', '15074-8', '2345-7', '14749-6', '1558-6'],
  weight: ['29463-7', '3141-9'],
};

/* Break-glass reasons given on this page load, by patient id. */
const breakGlass = new Map();

/*
 * The header carrying the reason as raw UTF-8 bytes: fetch only sends header
 * values of code points up to U+00FF, one byte each, so the UTF-8 bytes go in
 * as such code points and arrive as the UTF-8 text the server checks.
 */
function glassHeaders(id) {
  const reason = breakGlass.get(String(id));
  if (!reason) return undefined;
  const bytes = new TextEncoder().encode(reason);
  let v = '';
  for (const b of bytes) v += String.fromCharCode(b);
  return { 'X-Break-Glass-Reason': v };
}

function hasCode(cc, codes) {
  const list = Array.isArray(codes) ? codes : [codes];
  return ((cc && cc.coding) || []).some((c) => list.includes(c.code));
}

function qty(q) {
  if (!q || q.value == null) return null;
  return `${q.value}${q.unit || q.code ? ` ${q.unit || q.code}` : ''}`;
}

function obsTime(o) {
  return o.effectiveDateTime || (o.effectivePeriod && o.effectivePeriod.start) || o.issued || null;
}

/* The value of an Observation as text (BP as "systolic/diastolic unit"). */
function obsValue(o) {
  if (hasCode(o.code, LOINC.bp)) {
    const comp = (code) => (o.component || []).find((c) => hasCode(c.code, code));
    const s = comp(LOINC.systolic);
    const d = comp(LOINC.diastolic);
    if (s && d && s.valueQuantity && d.valueQuantity) {
      return `${s.valueQuantity.value}/${d.valueQuantity.value} ${s.valueQuantity.unit || 'mmHg'}`;
    }
  }
  if (o.valueQuantity) return qty(o.valueQuantity);
  if (o.valueString != null) return o.valueString;
  if (o.valueCodeableConcept) return conceptText(o.valueCodeableConcept);
  if (o.valueInteger != null) return String(o.valueInteger);
  if (o.valueBoolean != null) return String(o.valueBoolean);
  return t('common.none');
}

/* Glucose in mmol/L (the unit Chinese clinics read); mg/dL is converted. */
function mmolL(q) {
  if (!q || q.value == null || Number.isNaN(Number(q.value))) return null;
  const unit = String(q.code || q.unit || '').toLowerCase();
  if (unit === 'mg/dl') return Math.round((Number(q.value) / 18.016) * 10) / 10;
  return Number(q.value);
}

/* Weight in kg (UCUM g and [lb_av] are converted). */
function kg(q) {
  if (!q || q.value == null || Number.isNaN(Number(q.value))) return null;
  const unit = String(q.code || q.unit || '');
  if (unit === 'g') return Math.round(Number(q.value) / 100) / 10;
  if (unit === '[lb_av]' || unit === 'lb') return Math.round(Number(q.value) * 4.5359237) / 10;
  return Number(q.value);
}

/* Series for the chart: [[time, value], ...] sorted by time. */
function vitalSeries(obs) {
  const s = { systolic: [], diastolic: [], glucose: [], weight: [] };
  const num = (q) => (q && q.value != null && !Number.isNaN(Number(q.value)) ? Number(q.value) : null);
  for (const o of obs) {
    const when = obsTime(o);
    if (!when) continue;
    const push = (key, v) => { if (v != null) s[key].push([when, v]); };
    if (hasCode(o.code, LOINC.bp)) {
      for (const c of o.component || []) {
        if (hasCode(c.code, LOINC.systolic)) push('systolic', num(c.valueQuantity));
        if (hasCode(c.code, LOINC.diastolic)) push('diastolic', num(c.valueQuantity));
      }
    } else if (hasCode(o.code, LOINC.systolic)) push('systolic', num(o.valueQuantity));
    else if (hasCode(o.code, LOINC.diastolic)) push('diastolic', num(o.valueQuantity));
    else if (hasCode(o.code, LOINC.glucose)) push('glucose', mmolL(o.valueQuantity));
    else if (hasCode(o.code, LOINC.weight)) push('weight', kg(o.valueQuantity));
  }
  const byTime = (a, b) => new Date(a[0]) - new Date(b[0]);
  for (const k of Object.keys(s)) s[k].sort(byTime);
  return s;
}

/* The vitals chart: one grid per measure that has data, sharing the time axis. */
function vitalsChart(el, obs, ctx) {
  const s = vitalSeries(obs);
  Object.assign(el.dataset, {
    systolic: String(s.systolic.length), diastolic: String(s.diastolic.length),
    glucose: String(s.glucose.length), weight: String(s.weight.length),
  });
  const panels = [];
  if (s.systolic.length || s.diastolic.length) {
    panels.push({
      name: t('rec.vitals.bp'), unit: 'mmHg',
      series: [
        { name: t('rec.vitals.systolic'), data: s.systolic, color: '#c0392b', mark: 140 },
        { name: t('rec.vitals.diastolic'), data: s.diastolic, color: '#2f7fd1', mark: 90 },
      ],
    });
  }
  if (s.glucose.length) {
    panels.push({ name: t('rec.vitals.glucose'), unit: 'mmol/L', series: [{ name: t('rec.vitals.glucose'), data: s.glucose, color: '#b7791f' }] });
  }
  if (s.weight.length) {
    panels.push({ name: t('rec.vitals.weight'), unit: 'kg', series: [{ name: t('rec.vitals.weight'), data: s.weight, color: '#2a9d8f' }] });
  }
  if (!panels.length) {
    el.dataset.state = 'empty';
    mount(el, h('div', { class: 'empty' }, t('rec.vitals.none')));
    return;
  }
  if (!window.echarts) {
    el.dataset.state = 'table';
    mount(el, dataTable([
      { title: t('rec.col.item'), cell: (r) => r.name },
      { title: t('rec.col.time'), cell: (r) => fmtDateTime(r.point[0]) },
      { title: t('rec.col.value'), num: true, cell: (r) => `${r.point[1]} ${r.unit}` },
    ], panels.flatMap((p) => p.series.flatMap((se) => se.data.map((point) => ({ name: se.name, point, unit: p.unit }))))));
    return;
  }
  const GRID_H = 150;
  const GAP = 58;
  el.classList.add('chart');
  el.style.height = `${panels.length * (GRID_H + GAP) + 30}px`;
  const chart = window.echarts.init(el, null, { renderer: 'canvas', locale: getLang() === 'en' ? 'EN' : 'ZH' });
  const font = getComputedStyle(document.body).fontFamily;
  const grids = [];
  const xAxes = [];
  const yAxes = [];
  const series = [];
  const titles = [];
  /* One time range for every grid, so the measures line up by date. */
  const times = panels.flatMap((p) => p.series.flatMap((se) => se.data.map((d) => new Date(d[0]).getTime())));
  const day = 86400000;
  const tmin = Math.min(...times) - day;
  const tmax = Math.max(...times) + day;
  panels.forEach((p, i) => {
    const top = 36 + i * (GRID_H + GAP);
    grids.push({ left: 56, right: 40, top, height: GRID_H });
    titles.push({ text: t('rec.vitals.axis', { name: p.name, unit: p.unit }), top: top - 30, left: 8, textStyle: { fontSize: 13, fontWeight: 600, color: '#1f3a5f', fontFamily: font } });
    xAxes.push({
      type: 'time', gridIndex: i, min: tmin, max: tmax, axisLabel: { color: '#667085', hideOverlap: true },
      axisLine: { lineStyle: { color: '#cbd5e1' } }, splitLine: { show: false },
    });
    yAxes.push({ type: 'value', gridIndex: i, scale: true, axisLabel: { color: '#667085' }, splitLine: { lineStyle: { color: '#eef2f6' } } });
    for (const se of p.series) {
      series.push({
        name: se.name, type: 'line', xAxisIndex: i, yAxisIndex: i, data: se.data,
        symbol: 'circle', symbolSize: 7, itemStyle: { color: se.color }, lineStyle: { width: 2 },
        markLine: se.mark ? {
          silent: true, symbol: 'none', label: { formatter: String(se.mark), color: se.color },
          lineStyle: { type: 'dashed', color: se.color, opacity: 0.5 }, data: [{ yAxis: se.mark }],
        } : undefined,
      });
    }
  });
  chart.setOption({
    textStyle: { fontFamily: font },
    title: titles,
    legend: { top: 0, right: 8, textStyle: { color: '#475467' } },
    tooltip: { trigger: 'axis' },
    axisPointer: { link: [{ xAxisIndex: 'all' }] },
    grid: grids,
    xAxis: xAxes,
    yAxis: yAxes,
    series,
  });
  el.dataset.state = 'chart';
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  ctx.onCleanup(() => { window.removeEventListener('resize', onResize); chart.dispose(); });
}

function classBadge(cls) {
  const code = cls && cls.code;
  return h('span', { class: `tag enc-${String(code || 'other').toLowerCase()}` }, label('enc.class', code, cls && cls.display));
}

function timeline(encounters) {
  if (!encounters.length) return h('div', { class: 'empty' }, t('rec.enc.none'));
  return h('ol', { class: 'timeline', id: 'rec-timeline' }, encounters.map((e) => {
    const start = e.period && e.period.start;
    const end = e.period && e.period.end;
    const reason = (e.reasonCode || []).map(conceptText).filter(Boolean).join('；');
    const who = (e.participant || []).map((p) => p.individual).find(Boolean);
    return h('li', { class: 'timeline-item', dataset: { id: e.id } },
      h('div', { class: 'timeline-when' }, fmtDate(start),
        end && fmtDate(end) !== fmtDate(start) ? h('span', { class: 'muted small' }, ` – ${fmtDate(end)}`) : null),
      h('div', { class: 'timeline-card' },
        h('div', { class: 'timeline-head' }, classBadge(e.class), refText(e.serviceProvider, 'timeline-inst')),
        h('div', { class: 'timeline-reason' }, h('span', { class: 'muted' }, `${t('rec.enc.complaint')}${t('common.colon')}`), reason || t('common.none')),
        who ? h('div', { class: 'muted small' }, `${t('rec.enc.practitioner')}${t('common.colon')}`, refText(who)) : null));
  }));
}

function icdOf(c) {
  const code = c.code || {};
  const icd = (code.coding || []).find((x) => x.system === SYS_ICD10) || (code.coding || [])[0] || {};
  return { code: icd.code || '', display: icd.display || code.text || '' };
}

function conditionTable(conds) {
  return dataTable([
    { title: t('rec.dx.code'), cell: (c) => h('code', { class: 'icd' }, icdOf(c).code || t('common.none')) },
    { title: t('rec.dx.name'), cell: (c) => icdOf(c).display || conceptText(c.code) || t('common.none') },
    { title: t('rec.dx.status'), cell: (c) => { const s = c.clinicalStatus && c.clinicalStatus.coding && c.clinicalStatus.coding[0]; return s ? label('dx.status', s.code, s.display) : t('common.none'); } },
    { title: t('rec.dx.onset'), class: 'nowrap', cell: (c) => fmtDate(c.onsetDateTime || c.recordedDate) },
  ], conds, { id: 'rec-conditions', empty: t('rec.dx.none') });
}

function immunizationTable(imms) {
  return dataTable([
    { title: t('rec.imm.date'), class: 'nowrap', cell: (i) => fmtDate(i.occurrenceDateTime || i.occurrenceString) },
    { title: t('rec.imm.vaccine'), cell: (i) => conceptText(i.vaccineCode) || t('common.none') },
    { title: t('rec.imm.dose'), num: true, cell: (i) => { const p = (i.protocolApplied || [])[0] || {}; return p.doseNumberPositiveInt != null ? String(p.doseNumberPositiveInt) : p.doseNumberString || t('common.none'); } },
    { title: t('rec.imm.lot'), cell: (i) => h('span', { class: 'mono' }, i.lotNumber || t('common.none')) },
    { title: t('rec.imm.inst'), cell: (i) => { const p = (i.performer || []).find((x) => x.actor); return p ? refText(p.actor) : refText(i.location); } },
  ], imms, { id: 'rec-immunizations', empty: t('rec.imm.none') });
}

function fmtBytes(n) {
  if (n == null) return null;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function documentList(docs) {
  if (!docs.length) return h('div', { class: 'empty' }, t('rec.doc.none'));
  return h('ul', { class: 'doc-list', id: 'rec-documents' }, docs.map((d) => {
    const att = ((d.content || [])[0] || {}).attachment || {};
    const title = att.title || d.description || conceptText(d.type) || `DocumentReference/${d.id}`;
    const ct = att.contentType || 'application/octet-stream';
    let link = null;
    if (att.data) {
      const size = att.size != null ? att.size : Math.floor((att.data.length * 3) / 4) - (att.data.endsWith('==') ? 2 : att.data.endsWith('=') ? 1 : 0);
      link = h('a', { class: 'btn btn-small doc-download', href: `data:${ct};base64,${att.data}`, download: att.title || `document-${d.id}`, dataset: { id: d.id } },
        t('rec.doc.download'), h('span', { class: 'muted small' }, fmtBytes(size)));
    } else if (att.url && att.url.startsWith('data:')) {
      link = h('a', { class: 'btn btn-small doc-download', href: att.url, download: att.title || `document-${d.id}` }, t('rec.doc.download'));
    } else {
      link = h('span', { class: 'muted small' }, t('rec.doc.noData'));
    }
    return h('li', { class: 'doc-item', dataset: { id: d.id } },
      h('div', { class: 'doc-main' },
        h('span', { class: 'doc-title' }, title),
        h('span', { class: 'muted small' },
          [conceptText(d.type), fmtDateTime(d.date), ct].filter(Boolean).join(' · '))),
      link);
  }));
}

/* The access log section: admin reads any patient's, a resident their own. */
function accessLog(el, id, ctx, offset = 0) {
  const own = ctx.me.role === 'resident';
  const path = own ? '/api/v1/me/access-log' : `/api/v1/patients/${encodeURIComponent(id)}/access-log`;
  el.dataset.state = 'loading';
  mount(el, loading());
  api(`${path}${qs({ _count: LOG_LIMIT, _offset: offset || '' })}`).then((log) => {
    if (!el.isConnected) return;
    const items = log.items || [];
    const total = log.total ?? items.length;
    mount(el,
      dataTable([
        { title: t('rec.log.time'), class: 'nowrap', cell: (r) => fmtDateTime(r.ts) },
        { title: t('rec.log.user'), cell: (r) => h('span', { class: 'log-user' }, r.username || t('common.none')) },
        { title: t('rec.log.role'), cell: (r) => label('role', r.role) },
        { title: t('rec.log.inst'), cell: (r) => r.institution || t('common.none') },
        { title: t('rec.log.op'), cell: (r) => label('rec.op', r.operation) },
        { title: t('rec.log.resource'), cell: (r) => label('fhirtype', r.resource_type) },
        { title: t('rec.log.outcome'), cell: (r) => h('span', { class: `outcome ${outcomeOk(r.outcome) ? 'outcome-ok' : 'outcome-fail'}` }, outcomeText(r.outcome)) },
        { title: t('rec.log.glass'), cell: (r) => (r.break_glass ? h('span', { class: 'tag tag-glass' }, t('rec.log.glassYes')) : '') },
      ], items, { id: 'rec-access-log', empty: t('rec.log.none') }),
      total > LOG_LIMIT ? pager(total, offset, LOG_LIMIT, (o) => accessLog(el, id, ctx, o)) : null);
    el.dataset.state = 'loaded';
  }).catch((e) => {
    if (!el.isConnected) return;
    el.dataset.state = 'error';
    mount(el, errorBox(e.message, () => accessLog(el, id, ctx, offset)));
  });
}

/*
 * The outcome of an access: the HTTP status of the request (200, 403, ...), or
 * an AuditEvent outcome code (0 success, 4/8/12 failures), or a word.
 */
function outcomeOk(o) {
  const n = Number(o);
  if (o !== null && o !== '' && Number.isInteger(n)) return n === 0 || (n >= 200 && n < 400);
  return ['success', 'ok', 'allowed'].includes(o);
}

function outcomeText(o) {
  const n = Number(o);
  if (o === null || o === undefined || o === '') return t('common.none');
  if (Number.isInteger(n) && n >= 100) {
    if (n < 400) return t('rec.outcome.success');
    return `${t(n === 401 || n === 403 ? 'rec.outcome.denied' : 'rec.outcome.failure')} (${n})`;
  }
  if (Number.isInteger(n)) return label('outcome', n);
  return label('rec.outcome', o);
}

/* The break-glass dialog; resolves when the caller confirmed with a reason. */
function askBreakGlass(id, onConfirm) {
  const reason = h('textarea', { id: 'bg-reason', class: 'input textarea', rows: 4, maxlength: 500, placeholder: t('rec.bg.placeholder') });
  const counter = h('span', { class: 'muted small', id: 'bg-count' }, t('rec.bg.count', { n: 0, min: REASON_MIN }));
  const valid = () => reason.value.trim().length >= REASON_MIN;
  const close = openDialog({
    id: 'bg-dialog',
    title: t('rec.bg.title'),
    body: [
      h('p', { class: 'bg-warning' }, t('rec.bg.body')),
      h('label', { class: 'field' }, h('span', null, t('rec.bg.reason')), reason),
      counter],
    actions: [
      { text: t('common.cancel'), id: 'bg-cancel' },
      {
        text: t('rec.bg.confirm'), id: 'bg-submit', primary: true, isDisabled: () => !valid(),
        onClick: (done) => {
          if (!valid()) return;
          breakGlass.set(String(id), reason.value.trim());
          done();
          onConfirm();
        },
      }],
  });
  reason.addEventListener('input', () => {
    counter.textContent = t('rec.bg.count', { n: reason.value.trim().length, min: REASON_MIN });
    close.refresh();
  });
}

/* What a 403 on the record shows: the reason and the way through break-glass. */
function forbiddenBox(message, id, retry, allowGlass) {
  return h('div', { class: 'forbidden', id: 'rec-forbidden', role: 'alert' },
    h('div', { class: 'forbidden-icon' }, icon(ICONS.lock)),
    h('div', { class: 'forbidden-body' },
      h('h2', null, t('rec.forbidden.title')),
      h('p', null, message),
      allowGlass ? h('p', { class: 'muted' }, t('rec.forbidden.glassHint')) : null,
      allowGlass ? h('button', { type: 'button', class: 'btn btn-danger', id: 'rec-break-glass', onclick: () => askBreakGlass(id, retry) }, t('rec.bg.open')) : null));
}

/* Loads one section (a FHIR search); its panel shows rows, empty or an error. */
async function section(el, path, id, render) {
  el.dataset.state = 'loading';
  mount(el, loading());
  try {
    const bundle = await api(path, { headers: glassHeaders(id) });
    if (!el.isConnected) return null;
    const rows = bundleResources(bundle);
    mount(el, render(rows, bundle));
    el.dataset.state = 'loaded';
    el.dataset.count = String(rows.length);
    return rows;
  } catch (e) {
    if (!el.isConnected) return null;
    el.dataset.state = 'error';
    mount(el, errorBox(e.message, () => section(el, path, id, render)));
    return null;
  }
}

const MRN_PREFIX = 'https://rhis.cn/fhir/sid/mrn/';

/* What kind of identifier x is: health card, insurance, an institution's MRN, ... */
function idSystem(x) {
  const sys = x.system || '';
  if (sys.startsWith(MRN_PREFIX)) return t('idsys.mrn', { inst: sys.slice(MRN_PREFIX.length) });
  return label('idsys', sys, (x.type && conceptText(x.type)) || sys || null);
}

function demographics(p) {
  const others = (p.identifier || []).filter((x) => x.system !== SYS_IDNUM);
  return fieldList([
    ['rec.f.name', h('span', { id: 'rec-name' }, patientName(p))],
    ['rec.f.gender', genderText(p.gender)],
    ['rec.f.birth', p.birthDate],
    ['rec.f.idnum', h('span', { class: 'mono', id: 'rec-idnum' }, patientIdNumber(p) || t('common.none'))],
    ['rec.f.phone', h('span', { class: 'mono' }, patientPhone(p) || t('common.none'))],
    ['rec.f.division', areaText(patientDivision(p))],
    ['rec.f.address', patientAddressText(p)],
    ['rec.f.ids', others.length ? h('ul', { class: 'plain-list' }, others.map((x) => h('li', null,
      h('span', { class: 'muted small' }, `${idSystem(x)}${t('common.colon')}`),
      h('span', { class: 'mono' }, x.value)))) : null],
  ], 'rec-demographics');
}

export async function renderRecord(root, ctx) {
  const { me, params } = ctx;
  if (!params.id) {
    /* A resident's own record has a URL like any other. */
    if (me.role === 'resident' && me.patient_id) ctx.update({ id: me.patient_id }, true);
    else ctx.go('residents', { area: ctx.area.code }, true);
    return;
  }
  const { id } = params;
  const own = me.role === 'resident' && String(me.patient_id) === String(id);
  const back = me.role === 'resident' ? null
    : h('a', { class: 'btn', id: 'rec-back', href: `#/residents?area=${encodeURIComponent(ctx.area.code)}` }, `‹ ${t('rec.back')}`);
  const title = h('h1', { id: 'rec-title' }, own ? t('rec.mine') : t('rec.title'));
  const sub = h('p', { class: 'muted', id: 'rec-sub' }, `Patient/${id}`);
  const head = h('div', { class: 'page-head' }, h('div', null, title, sub), back);
  root.dataset.patient = String(id);
  mount(root, head, loading());

  let patient;
  try {
    patient = await api(`/fhir/Patient/${encodeURIComponent(id)}`, { headers: glassHeaders(id) });
  } catch (e) {
    if (!root.isConnected) return;
    /* 403: no access; 400 with a reason: the server refused the reason. */
    if (e.status === 403 || (e.status === 400 && breakGlass.has(String(id)))) {
      const msg = breakGlass.has(String(id)) ? t('rec.forbidden.stillDenied') : t('rec.forbidden.body');
      breakGlass.delete(String(id));
      mount(root, head, forbiddenBox(msg, id, () => renderRecord(root, ctx), me.role !== 'resident'),
        h('p', { class: 'muted small', id: 'rec-forbidden-detail' }, e.message));
      return;
    }
    if (e.status === 404 || e.status === 410) {
      mount(root, head, errorBox(t('rec.notFound')));
      return;
    }
    throw e;
  }
  if (!root.isConnected) return;

  title.textContent = own ? t('rec.mine') : `${t('rec.title')} · ${patientName(patient)}`;
  const glass = breakGlass.get(String(id));
  const banners = [];
  if (glass) {
    banners.push(h('div', { class: 'alert alert-warn', id: 'rec-glass-banner' },
      h('span', null, t('rec.bg.active', { reason: glass }))));
  }
  const merged = replacedBy(patient);
  if (merged) {
    banners.push(h('div', { class: 'alert alert-warn', id: 'rec-merged' },
      h('span', null, t('rec.mergedInto', { id: merged })),
      h('a', { class: 'btn btn-small', href: `#/record?area=${encodeURIComponent(ctx.area.code)}&id=${encodeURIComponent(merged)}` }, t('rec.openSurvivor'))));
  }

  const encBox = h('div', { class: 'section-box', id: 'rec-enc-box' });
  const dxBox = h('div', { class: 'section-box', id: 'rec-dx-box' });
  const vitalsBox = h('div', { class: 'chart-box vitals-chart', id: 'rec-vitals' });
  const latestBox = h('div', { class: 'section-box', id: 'rec-latest-box' });
  const immBox = h('div', { class: 'section-box', id: 'rec-imm-box' });
  const docBox = h('div', { class: 'section-box', id: 'rec-doc-box' });
  const showLog = me.role === 'admin' || own;
  const logBox = showLog ? h('div', { class: 'section-box', id: 'rec-log-box' }) : null;

  mount(root, head, banners,
    h('div', { class: 'record-grid' },
      panel(t('rec.demographics'), demographics(patient)),
      panel(t('rec.enc'), encBox)),
    h('div', { class: 'grid-2' },
      panel(t('rec.vitals'), vitalsBox),
      panel(t('rec.dx'), dxBox)),
    panel(t('rec.latest'), latestBox),
    h('div', { class: 'grid-2' },
      panel(t('rec.imm'), immBox),
      panel(t('rec.doc'), docBox)),
    showLog ? panel(own ? t('rec.log.mine') : t('rec.log'), logBox) : null);

  section(encBox, `/fhir/Encounter${qs({ patient: id, _sort: '-date', _count: COUNT })}`, id, (rows, b) => [
    timeline(rows),
    (b.total || 0) > rows.length ? h('p', { class: 'muted small' }, t('rec.more', { n: fmtNumber(rows.length), total: fmtNumber(b.total) })) : null]);
  section(dxBox, `/fhir/Condition${qs({ patient: id, _count: COUNT })}`, id, (rows) => conditionTable(rows));
  section(immBox, `/fhir/Immunization${qs({ patient: id, _count: COUNT })}`, id, (rows) => immunizationTable(rows));
  section(docBox, `/fhir/DocumentReference${qs({ patient: id, _count: COUNT })}`, id, (rows) => documentList(rows));
  section(latestBox, `/fhir/Observation${qs({ patient: id, category: 'vital-signs', _sort: '-date', _count: COUNT })}`, id, (rows) => {
    vitalsChart(vitalsBox, rows, ctx);
    return dataTable([
      { title: t('rec.col.time'), class: 'nowrap', cell: (o) => fmtDateTime(obsTime(o)) },
      { title: t('rec.col.item'), cell: (o) => conceptText(o.code) || t('common.none') },
      { title: t('rec.col.value'), num: true, cell: (o) => obsValue(o) },
      { title: t('rec.col.inst'), cell: (o) => refText((o.performer || [])[0]) },
    ], rows.slice(0, 10), { id: 'rec-observations', empty: t('rec.vitals.none') });
  }).then((rows) => {
    if (rows === null && vitalsBox.isConnected) mount(vitalsBox, h('div', { class: 'empty' }, t('rec.vitals.failed')));
  });
  if (logBox) accessLog(logBox, id, ctx);
  root.dataset.state = 'loaded';
}
