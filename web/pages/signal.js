/*
 * signal.js - one signal (预警信号): what was observed against which baseline and
 * threshold (an ECharts series), the evidence (channels of a multi-point signal, the
 * townships of a cluster, the card of a single case), its history, and the answers:
 * verify, dismiss (with a reason), escalate, or raise a warning (预警) of a type and
 * an audience.
 *
 * Why: a duty epidemiologist decides from this page within the deadline; the chart
 * shows at a glance whether the rise is real (several days above the threshold) or
 * one odd day, and every answer is recorded with who, when and why.
 */
import './surveil-i18n.js';
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { t, label, getLang } from '../i18n.js';
import { errorBox, loading, panel } from '../ui.js';
import { fmtDateTime, openDialog, fieldList } from '../fhirview.js';
import {
  severityBadge, stateBadge, subjectText, methodText, dueCell, tickCountdowns,
} from './surveillance.js';

function num(v) {
  if (v == null) return t('common.none');
  return Number.isInteger(v) ? String(v) : Number(v).toFixed(2);
}

/* The series chart: counts as bars, the 7-day sum (MPM), threshold and mean lines,
 * alarm days marked.  Plain table when ECharts is not loaded. */
function seriesChart(el, ev, ctx) {
  /* the last 28 days: the threshold curve's span (the evidence keeps 56) */
  const series = (Array.isArray(ev.series) ? ev.series : []).slice(-28);
  if (!series.length) { mount(el, h('div', { class: 'empty', id: 'sig-chart-none' }, t('sig.chart.none'))); return; }
  const dates = series.map((p) => p.date);
  const hasWindow = series.some((p) => p.window != null);
  /* MPM compares 7-day sums with its threshold; others compare the day's count. */
  const thr = series.map((p) => (hasWindow ? (p.threshold ?? null) : (p.upper ?? null)));
  if (!window.echarts) {
    mount(el, h('table', { class: 'table', id: 'sig-series-table' },
      h('tbody', null, series.map((p, i) => h('tr', null, h('td', null, p.date), h('td', { class: 'num' }, String(p.count)),
        h('td', { class: 'num' }, thr[i] == null ? '' : num(thr[i])))))));
    return;
  }
  el.classList.add('chart');
  const chart = window.echarts.init(el, null, { renderer: 'canvas' });
  const font = getComputedStyle(document.body).fontFamily;
  const alarmPts = series.map((p, i) => (p.alarm ? [p.date, hasWindow ? p.window : p.count] : null)).filter(Boolean);
  const lines = [
    { name: t('sig.chart.count'), type: 'bar', data: series.map((p) => p.count), itemStyle: { color: '#7aa7d8' }, barMaxWidth: 14 },
  ];
  if (hasWindow) lines.push({ name: t('sig.chart.window'), type: 'line', data: series.map((p) => p.window ?? null), smooth: false, symbol: 'none', lineStyle: { width: 2, color: '#1f3a5f' } });
  if (series.some((p) => p.mean != null)) lines.push({ name: t('sig.chart.mean'), type: 'line', data: series.map((p) => p.mean ?? null), symbol: 'none', lineStyle: { width: 1.5, color: '#5fb3a8' } });
  lines.push({ name: t('sig.chart.threshold'), type: 'line', step: 'middle', data: thr, symbol: 'none', lineStyle: { width: 2, type: 'dashed', color: '#d9480f' } });
  lines.push({ name: t('sig.chart.alarm'), type: 'scatter', data: alarmPts, symbolSize: 10, itemStyle: { color: '#c92a2a' } });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: { color: '#475467' } },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: dates, axisLabel: { color: '#667085' } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#667085' }, splitLine: { lineStyle: { color: '#eef2f6' } } },
    series: lines,
  });
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  ctx.onCleanup(() => { window.removeEventListener('resize', onResize); chart.dispose(); });
}

function evidencePanel(s, ctx) {
  const ev = s.evidence || {};
  const parts = [];
  if (Array.isArray(ev.baseline) && ev.baseline.length) {
    parts.push(h('div', { class: 'section-title' }, t('sig.baseline', { n: ev.baseline.length })),
      h('div', { class: 'baseline', id: 'sig-baseline' }, ev.baseline.map((b) => h('span', { class: 'tag tag-muted', title: b.end }, String(b.count)))));
  }
  if (ev.rule && typeof ev.rule === 'object') {
    parts.push(h('div', { class: 'section-title' }, t('sig.rule')),
      h('p', { id: 'sig-rule' }, `${ev.rule.id} · ${getLang() === 'en' ? ev.rule.nameEn : ev.rule.name}`));
  }
  if (Array.isArray(ev.channels) && ev.channels.length) {
    parts.push(h('div', { class: 'section-title' }, t('sig.channels')),
      h('div', { id: 'sig-channels' }, ev.channels.map((c) => h('span', { class: 'tag', dataset: { channel: c } }, label('sv.channel', c)))));
  }
  if (Array.isArray(ev.townships) && ev.townships.length) {
    parts.push(h('div', { class: 'section-title' }, t('sig.townships')),
      h('p', { class: 'muted small' }, t('sig.scan', { llr: num(ev.llr), p: num(ev.p), rr: num(ev.relativeRisk) })),
      h('ul', { class: 'plain-list', id: 'sig-townships' }, ev.townships.map((z) => h('li', null, `${z.area} · ${t('sig.cases', { n: z.cases })}`))));
  }
  if (ev.card != null) {
    parts.push(h('div', { class: 'section-title' }, t('sig.card')), h('p', { id: 'sig-card', class: 'mono' }, `#${ev.card}`));
  }
  if (Array.isArray(s.contributing) && s.contributing.length) {
    parts.push(h('div', { class: 'section-title' }, t('sig.contributing')),
      h('ul', { class: 'plain-list', id: 'sig-contributing' }, s.contributing.map((c) => h('li', { dataset: { signal: c.id } },
        severityBadge(c.severity), ' ',
        h('a', { href: `#/signal?area=${encodeURIComponent(ctx.area.code)}&id=${c.id}` }, `#${c.id} ${subjectText(c)}`),
        h('span', { class: 'muted small' }, ` · ${c.areaName || c.area} · ${c.day} · `), stateBadge(c.state)))));
  }
  if (s.fusedInto) {
    parts.push(h('p', { id: 'sig-fused-into' }, `${t('sig.fusedInto')} `,
      h('a', { href: `#/signal?area=${encodeURIComponent(ctx.area.code)}&id=${s.fusedInto}` }, `#${s.fusedInto}`)));
  }
  return parts.length ? panel(t('sig.evidence'), parts) : null;
}

function historyPanel(s) {
  const rows = (s.events || []).map((e) => h('li', { class: 'timeline-item', dataset: { action: e.action } },
    h('span', { class: 'timeline-when' }, fmtDateTime(e.time)),
    h('div', { class: 'timeline-card' },
      h('strong', null, label('sig.action', e.action)), ' · ',
      h('span', null, e.user ? e.username : t('sig.history.system')),
      e.note ? h('p', { class: 'muted' }, e.note) : null)));
  return panel(t('sig.history'), h('ul', { class: 'timeline', id: 'sig-history' }, rows));
}

function textField(id, labelText, placeholder, rows = 3) {
  const ta = h('textarea', { id, class: 'input textarea', rows, maxlength: 1000, placeholder: placeholder || '' });
  return { ta, node: h('label', { class: 'field' }, h('span', null, labelText), ta) };
}

/* A dialog with one text field; required decides whether the button waits for text. */
function answerDialog(s, { id, title, body, fieldLabel, placeholder, required, path, key, done }) {
  const f = textField(`${id}-text`, fieldLabel, placeholder);
  const close = openDialog({
    id, title,
    body: [h('p', null, body), f.node],
    actions: [
      { text: t('common.cancel'), id: `${id}-cancel` },
      {
        text: title, id: `${id}-confirm`, primary: true,
        isDisabled: () => required && !f.ta.value.trim(),
        onClick: async (closeIt) => {
          const text = f.ta.value.trim();
          const res = await api(`/api/v1/signals/${s.id}/${path}`, {
            method: 'POST', body: text || required ? { [key]: text } : {},
          });
          closeIt();
          done(res);
        },
      }],
  });
  f.ta.addEventListener('input', () => close.refresh());
}

function warnDialog(s, done) {
  const type = h('select', { id: 'sig-warn-type', class: 'select' },
    ['health_risk', 'alert_notice', 'decision_advice'].map((v) => h('option', { value: v }, t(`sig.warn.type.${v}`))));
  const audience = h('input', { id: 'sig-warn-audience', class: 'input', maxlength: 200 });
  const content = textField('sig-warn-content', t('sig.warn.content'), '', 4);
  const ready = () => audience.value.trim() && content.ta.value.trim();
  const close = openDialog({
    id: 'sig-warn-dialog', title: t('sig.warn.title'),
    body: [
      h('label', { class: 'field' }, h('span', null, t('sig.warn.type')), type),
      h('label', { class: 'field' }, h('span', null, t('sig.warn.audience')), audience),
      content.node],
    actions: [
      { text: t('common.cancel'), id: 'sig-warn-cancel' },
      {
        text: t('sig.warn'), id: 'sig-warn-confirm', primary: true, isDisabled: () => !ready(),
        onClick: async (closeIt) => {
          const res = await api(`/api/v1/signals/${s.id}/warning`, {
            method: 'POST', body: { type: type.value, audience: audience.value.trim(), content: content.ta.value.trim() },
          });
          closeIt();
          done(res);
        },
      }],
  });
  audience.addEventListener('input', () => close.refresh());
  content.ta.addEventListener('input', () => close.refresh());
}

function actionBar(s, ctx, onDone) {
  const mayAct = ['cdc', 'admin'].includes(ctx.me.role);
  const open = s.state === 'new' || s.state === 'verified';
  if (!mayAct || !open) return h('p', { class: 'muted small', id: 'sig-readonly' }, t('sig.readOnly'));
  const done = (key) => (res) => onDone(res, t(key));
  return h('div', { class: 'sig-actions', id: 'sig-actions' },
    s.state === 'new' ? h('button', {
      type: 'button', class: 'btn btn-primary', id: 'sig-verify',
      onclick: () => answerDialog(s, {
        id: 'sig-verify-dialog', title: t('sig.verify.title'), body: t('sig.verify.body'), fieldLabel: t('sig.note'),
        required: false, path: 'verify', key: 'note', done: done('sig.done.verify'),
      }),
    }, t('sig.verify')) : null,
    h('button', {
      type: 'button', class: 'btn', id: 'sig-dismiss',
      onclick: () => answerDialog(s, {
        id: 'sig-dismiss-dialog', title: t('sig.dismiss.title'), body: t('sig.dismiss.body'), fieldLabel: t('sig.reason'),
        placeholder: t('sig.reasonPlaceholder'), required: true, path: 'dismiss', key: 'reason', done: done('sig.done.dismiss'),
      }),
    }, t('sig.dismiss')),
    h('button', { type: 'button', class: 'btn', id: 'sig-warn', onclick: () => warnDialog(s, done('sig.done.warn')) }, t('sig.warn')),
    s.escalated < 2 && s.pushed !== false ? h('button', {
      type: 'button', class: 'btn btn-ghost-dark', id: 'sig-escalate',
      onclick: () => answerDialog(s, {
        id: 'sig-escalate-dialog', title: t('sig.escalate.title'), body: '', fieldLabel: t('sig.escalate.note'),
        required: true, path: 'escalate', key: 'note', done: done('sig.done.escalate'),
      }),
    }, t('sig.escalate')) : null);
}

function show(root, s, ctx, message) {
  const skew = (s.now || Date.now()) - Date.now();
  const due = dueCell(s, skew);
  const seven = (s.evidence && s.evidence.measure === '7-day sum') ? t('sig.measure.7day') : '';
  const facts = fieldList([
    [t('sig.kind'), t(`sv.kind.${s.kind}`)],
    [t('sig.method'), methodText(s.method)],
    [t('sig.area'), `${s.areaName || ''} ${s.area}`],
    [t('sig.period'), s.periodStart ? `${s.periodStart} – ${s.day}` : s.day],
    [t('sig.observed'), `${num(s.observed)}${seven}`],
    [t('sig.expected'), num(s.expected)],
    [t('sig.threshold'), `${num(s.threshold)}${s.threshold != null ? seven : ''}`],
    [t('sig.created'), fmtDateTime(s.created)],
    [t('sig.deadline'), s.pushed === false ? t('sv.due.evidence') : fmtDateTime(s.deadline)],
    [t('sig.responded'), fmtDateTime(s.responded)],
    [t('sig.escalatedTo'), s.escalated ? `${s.escalatedTo}（${s.escalated}）` : t('common.none')],
  ], 'sig-facts');
  const chartBox = h('div', { class: 'chart-box chart-tall', id: 'sig-chart' });
  const notice = h('div', { class: 'alert alert-ok', id: 'sig-notice', role: 'status', hidden: !message }, message || '');
  const warning = s.warning ? panel(t('sig.warning'), fieldList([
    [t('sig.warn.type'), t(`sig.warn.type.${s.warning.type}`)],
    [t('sig.warn.audience'), s.warning.audience],
    [t('sig.warn.content'), s.warning.content],
    [t('sig.created'), fmtDateTime(s.warning.issued)],
  ], 'sig-warning')) : null;
  const reload = async (res, msg) => show(root, res, ctx, msg);
  mount(root,
    h('div', { class: 'page-head' },
      h('div', null,
        h('a', { href: `#/surveillance?area=${encodeURIComponent(ctx.area.code)}`, class: 'muted small', id: 'sig-back' }, `‹ ${t('sig.back')}`),
        h('h1', { id: 'sig-title' }, severityBadge(s.severity), ' ', subjectText(s), h('span', { class: 'muted' }, ` · ${s.areaName || s.area} · ${s.day}`)),
        h('p', { class: 'sig-status' }, stateBadge(s.state), ' ', due)),
      actionBar(s, ctx, reload)),
    notice,
    h('div', { class: 'grid-2' }, panel(t('sig.facts'), facts), panel(t('sig.chart'), chartBox)),
    warning, evidencePanel(s, ctx), historyPanel(s));
  root.dataset.signal = s.id;
  root.dataset.state = s.state;
  seriesChart(chartBox, s.evidence || {}, ctx);
  tickCountdowns(root, [[due, s]], skew, ctx);
}

export async function renderSignal(root, ctx) {
  const id = ctx.params.id;
  if (!id) { ctx.go('surveillance', { area: ctx.area.code }, true); return; }
  mount(root, loading());
  try {
    const s = await api(`/api/v1/signals/${encodeURIComponent(id)}`);
    show(root, s, ctx);
  } catch (e) {
    mount(root, errorBox(e.message, () => renderSignal(root, ctx)));
  }
}
