/*
 * mpi.js - the master patient index review queue (主索引待审核): pairs of records
 * the matcher scored between its link and non-link thresholds, side by side, with
 * the fields that differ highlighted and each field's agreement level and weight;
 * an operator merges them (choosing the surviving record) or keeps them separate.
 *
 * Why: probabilistic matching leaves a grey zone that only a person can settle;
 * showing the evidence (which fields agree, at what level, how much each counted)
 * next to the values is what makes that decision quick and defensible. Both
 * actions require a reason, which the server keeps with the merge history.
 */
import { api, qs } from '../api.js';
import { h, mount } from '../dom.js';
import { t, label, fmtNumber } from '../i18n.js';
import { errorBox, loading } from '../ui.js';
import {
  patientName, patientIdNumber, patientPhone, patientDivision, patientAddressText,
  genderText, areaText, fmtDateTime, openDialog,
} from '../fhirview.js';

/*
 * The rows of the comparison: what to show of each record, how to compare, and
 * the keys the matcher may use for the field in `detail`.
 */
const FIELDS = [
  { key: 'name', title: 'mpi.f.name', value: patientName, detail: ['name'] },
  { key: 'gender', title: 'mpi.f.gender', value: (p) => p.gender || null, show: (p) => genderText(p.gender), detail: ['gender', 'sex'] },
  { key: 'birth', title: 'mpi.f.birth', value: (p) => p.birthDate || null, detail: ['birthdate', 'birth_date', 'birthDate', 'birth', 'dob'] },
  { key: 'idnum', title: 'mpi.f.idnum', value: patientIdNumber, detail: ['idNumber', 'identifier', 'idnum', 'id_number'] },
  { key: 'phone', title: 'mpi.f.phone', value: patientPhone, detail: ['phone', 'telecom'] },
  { key: 'division', title: 'mpi.f.division', value: patientDivision, show: (p) => areaText(patientDivision(p)), detail: ['village', 'division', 'area', 'address'] },
  { key: 'address', title: 'mpi.f.address', value: patientAddressText, detail: [] },
];

function fmtWeight(w) {
  if (w == null || Number.isNaN(Number(w))) return '';
  const n = Number(w);
  return `${n > 0 ? '+' : ''}${n.toFixed(2)}`;
}

/* One field's comparison: {level, weight}, or a bare level ("idNumber": "equal"). */
function evidence(d) {
  if (d == null) return h('span', { class: 'muted' }, t('common.none'));
  if (typeof d !== 'object') d = { level: String(d) };
  const w = Number(d.weight);
  return h('span', { class: `evidence ${w > 0 ? 'ev-plus' : w < 0 ? 'ev-minus' : 'ev-zero'}` },
    h('span', { class: 'ev-level' }, label('mpi.level', d.level)),
    d.weight != null ? h('span', { class: 'ev-weight' }, fmtWeight(d.weight)) : null);
}

function patientHead(p, side, ctx) {
  return h('div', { class: 'mpi-side-head' },
    h('span', { class: 'mpi-side-tag' }, side),
    h('a', { href: `#/record?area=${encodeURIComponent(ctx.area.code)}&id=${encodeURIComponent(p.id)}`, class: 'mono' }, `Patient/${p.id}`));
}

/* The side-by-side table of one review; differing rows get class "diff". */
function compareTable(r, ctx) {
  const detail = r.detail || {};
  const used = new Set();
  const rows = FIELDS.map((f) => {
    const va = f.value(r.a);
    const vb = f.value(r.b);
    const dk = f.detail.find((k) => k in detail);
    if (dk) used.add(dk);
    if (va == null && vb == null && !dk) return null;
    const differ = (va || '') !== (vb || '');
    const cell = (p, v) => h('td', { class: 'mpi-val' }, f.show ? f.show(p) : (v || t('common.none')));
    return h('tr', { class: differ ? 'diff' : 'same', dataset: { field: f.key } },
      h('th', { scope: 'row' }, t(f.title)),
      cell(r.a, va), cell(r.b, vb),
      h('td', { class: 'mpi-ev' }, dk ? evidence(detail[dk]) : null));
  }).filter(Boolean);
  /* Evidence the matcher used for fields the table does not show. */
  for (const [k, d] of Object.entries(detail)) {
    if (used.has(k) || k === 'total') continue;
    rows.push(h('tr', { class: 'extra', dataset: { field: k } },
      h('th', { scope: 'row' }, label('mpi.f', k)), h('td', { class: 'muted' }, ''), h('td', { class: 'muted' }, ''),
      h('td', { class: 'mpi-ev' }, evidence(d))));
  }
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table mpi-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, t('mpi.field')),
        h('th', { scope: 'col' }, patientHead(r.a, 'A', ctx)),
        h('th', { scope: 'col' }, patientHead(r.b, 'B', ctx)),
        h('th', { scope: 'col' }, t('mpi.evidence')))),
      h('tbody', null, rows)));
}

function reasonField(id) {
  const ta = h('textarea', { id, class: 'input textarea', rows: 3, maxlength: 500, placeholder: t('mpi.reasonPlaceholder') });
  return { ta, node: h('label', { class: 'field' }, h('span', null, t('mpi.reason')), ta) };
}

function mergeDialog(r, done) {
  const pick = (p, side, checked) => h('label', { class: 'survivor-option' },
    h('input', { type: 'radio', name: 'mpi-survivor', value: p.id, id: `mpi-survivor-${side.toLowerCase()}`, checked }),
    h('span', null, h('strong', null, `${side} · ${patientName(p)}`), h('span', { class: 'muted small' }, ` Patient/${p.id} · ${p.birthDate || ''}`)));
  const reason = reasonField('mpi-merge-reason');
  const close = openDialog({
    id: 'mpi-merge-dialog',
    title: t('mpi.merge.title'),
    body: [
      h('p', null, t('mpi.merge.body')),
      h('fieldset', { class: 'survivor' }, h('legend', null, t('mpi.merge.survivor')), pick(r.a, 'A', true), pick(r.b, 'B', false)),
      reason.node],
    actions: [
      { text: t('common.cancel'), id: 'mpi-merge-cancel' },
      {
        text: t('mpi.merge'), id: 'mpi-merge-confirm', primary: true, isDisabled: () => !reason.ta.value.trim(),
        onClick: async (closeIt) => {
          const survivor = document.querySelector('input[name="mpi-survivor"]:checked').value;
          await api(`/api/v1/mpi/reviews/${encodeURIComponent(r.id)}/merge`, {
            method: 'POST', body: { survivor: Number(survivor) || survivor, reason: reason.ta.value.trim() },
          });
          closeIt();
          done(t('mpi.merged', { survivor, merged: String(survivor) === String(r.a.id) ? r.b.id : r.a.id }));
        },
      }],
  });
  reason.ta.addEventListener('input', () => close.refresh());
}

function separateDialog(r, done) {
  const reason = reasonField('mpi-separate-reason');
  const close = openDialog({
    id: 'mpi-separate-dialog',
    title: t('mpi.separate.title'),
    body: [h('p', null, t('mpi.separate.body', { a: `Patient/${r.a.id}`, b: `Patient/${r.b.id}` })), reason.node],
    actions: [
      { text: t('common.cancel'), id: 'mpi-separate-cancel' },
      {
        text: t('mpi.separate'), id: 'mpi-separate-confirm', primary: true, isDisabled: () => !reason.ta.value.trim(),
        onClick: async (closeIt) => {
          await api(`/api/v1/mpi/reviews/${encodeURIComponent(r.id)}/separate`, {
            method: 'POST', body: { reason: reason.ta.value.trim() },
          });
          closeIt();
          done(t('mpi.separated', { a: r.a.id, b: r.b.id }));
        },
      }],
  });
  reason.ta.addEventListener('input', () => close.refresh());
}

function reviewCard(r, ctx, onDone) {
  /* The queue is open to CDC staff; deciding is the MPI steward's (admin). */
  const canDecide = ctx.me.role === 'admin';
  return h('section', { class: 'panel mpi-card', id: `mpi-review-${r.id}`, dataset: { review: r.id, a: r.a.id, b: r.b.id } },
    h('header', { class: 'panel-head' },
      h('h2', null, t('mpi.pair', { id: r.id })),
      h('div', { class: 'mpi-meta' },
        h('span', { class: 'score-badge', title: t('mpi.scoreHint') }, t('mpi.score', { score: Number(r.score).toFixed(2) })),
        h('span', { class: 'muted small' }, fmtDateTime(r.created)))),
    h('div', { class: 'panel-body' },
      compareTable(r, ctx),
      h('div', { class: 'mpi-actions' }, canDecide ? [
        h('button', { type: 'button', class: 'btn', id: `mpi-separate-${r.id}`, onclick: () => separateDialog(r, onDone) }, t('mpi.separate')),
        h('button', { type: 'button', class: 'btn btn-primary', id: `mpi-merge-${r.id}`, onclick: () => mergeDialog(r, onDone) }, t('mpi.merge'))]
        : h('span', { class: 'muted small' }, t('mpi.readOnly')))));
}

/*
 * The queue as the server pages it by default: deciding a pair reloads the list,
 * so the operator works through it from the top without paging.
 */
export async function renderMpi(root, ctx) {
  const sub = h('p', { class: 'muted', id: 'mpi-sub' }, t('mpi.subtitle'));
  const notice = h('div', { class: 'alert alert-ok', id: 'mpi-notice', role: 'status', hidden: true });
  const list = h('div', { class: 'mpi-list', id: 'mpi-list' }, loading());
  mount(root,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, t('mpi.title')), sub)),
    notice, list);

  async function load(message) {
    list.dataset.state = 'loading';
    let res;
    try {
      res = await api(`/api/v1/mpi/reviews${qs({ status: 'open' })}`);
    } catch (e) {
      if (!list.isConnected) return;
      list.dataset.state = 'error';
      mount(list, errorBox(e.status === 403 ? t('mpi.forbidden') : e.message, () => load()));
      return;
    }
    if (!list.isConnected) return;
    const items = (res.items || []).filter((r) => r && r.a && r.b);
    const total = res.total ?? items.length;
    sub.textContent = t('mpi.count', { n: fmtNumber(total) });
    if (message) { notice.textContent = message; notice.hidden = false; }
    const done = (msg) => load(msg);
    mount(list,
      items.length ? items.map((r) => reviewCard(r, ctx, done)) : h('div', { class: 'panel' }, h('div', { class: 'empty', id: 'mpi-empty' }, t('mpi.empty'))),
      total > items.length ? h('p', { class: 'muted small', id: 'mpi-more' }, t('mpi.more', { n: fmtNumber(items.length), total: fmtNumber(total) })) : null);
    list.dataset.state = 'loaded';
    list.dataset.total = String(total);
  }
  await load();
}
