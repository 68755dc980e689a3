/*
 * residents.js - resident search (居民查询): by resident ID number (exact) or by
 * name and birth date; a click opens the record page.
 *
 * Why: the terms are personal data, so they stay out of the URL hash (history,
 * shared links, proxies); the last search lives in memory only, for the way back
 * from a record. Lists show the ID number and phone exactly as the server sent
 * them: the server masks them for roles that do not need them.
 */
import { api, qs } from '../api.js';
import { h, mount, icon } from '../dom.js';
import { ICONS } from '../icons.js';
import { t, fmtNumber } from '../i18n.js';
import { dataTable, errorBox, loading } from '../ui.js';
import {
  SYS_IDNUM, bundleResources, patientName, patientIdNumber, patientPhone, patientDivision,
  patientAddressText, genderText, replacedBy, areaText,
} from '../fhirview.js';

const COUNT = 50;
const ID_RE = /^\d{17}[\dX]$/;
/* Roles that may not see patient-level data: no search for them. */
const NO_PATIENTS = ['planner', 'dispatcher'];

/* The last search of this page load: {user, idnum, name, birthdate}. */
let last = null;

/* Checks the form; returns the FHIR query or an error key. */
function buildQuery({ idnum, name, birthdate }) {
  if (idnum) {
    if (!ID_RE.test(idnum)) return { error: 'res.err.idnum' };
    return { query: qs({ identifier: `${SYS_IDNUM}|${idnum}`, _count: COUNT }) };
  }
  if (!name && !birthdate) return { error: 'res.err.empty' };
  if (!name || !birthdate) return { error: 'res.err.nameBirth' };
  return { query: qs({ name, birthdate, _count: COUNT }) };
}

export async function renderResidents(root, ctx) {
  const { me } = ctx;
  const head = h('div', { class: 'page-head' },
    h('div', null, h('h1', null, t('res.title')), h('p', { class: 'muted' }, t('res.subtitle'))));
  if (NO_PATIENTS.includes(me.role)) {
    mount(root, head, errorBox(t('res.forbidden')));
    return;
  }
  /* A resident's own record is the page they want. */
  if (me.role === 'resident' && me.patient_id) {
    ctx.go('record', { area: ctx.area.code, id: me.patient_id }, true);
    return;
  }
  if (last && last.user !== me.username) last = null;

  const idnum = h('input', {
    id: 'res-idnum', class: 'input input-id', maxlength: 18, autocomplete: 'off', spellcheck: 'false',
    placeholder: t('res.idnumPlaceholder'), value: last ? last.idnum : '', inputmode: 'text',
  });
  const name = h('input', { id: 'res-name', class: 'input', autocomplete: 'off', placeholder: t('res.namePlaceholder'), value: last ? last.name : '' });
  const birthdate = h('input', { id: 'res-birthdate', class: 'input', type: 'date', value: last ? last.birthdate : '', max: new Date().toISOString().slice(0, 10) });
  const formError = h('div', { class: 'alert alert-error', id: 'res-form-error', role: 'alert', hidden: true });
  const results = h('div', { class: 'results', id: 'res-results' },
    h('div', { class: 'empty' }, t('res.hint')));

  async function run(terms) {
    const q = buildQuery(terms);
    if (q.error) {
      formError.textContent = t(q.error);
      formError.hidden = false;
      return;
    }
    formError.hidden = true;
    last = { user: me.username, ...terms };
    results.dataset.state = 'loading';
    mount(results, loading());
    let bundle;
    try {
      bundle = await api(`/fhir/Patient${q.query}`);
    } catch (e) {
      if (!results.isConnected) return;
      results.dataset.state = 'error';
      mount(results, errorBox(e.status === 403 ? t('res.forbidden') : e.message, () => run(terms)));
      return;
    }
    if (!results.isConnected) return;
    const rows = bundleResources(bundle).filter((r) => r.resourceType === 'Patient');
    const total = typeof bundle.total === 'number' ? bundle.total : rows.length;
    const table = dataTable([
      {
        title: t('res.col.name'),
        cell: (p) => h('div', { class: 'cell-name' },
          h('span', { class: 'patient-name' }, patientName(p)),
          replacedBy(p) ? h('span', { class: 'tag tag-muted' }, t('res.merged')) : null),
      },
      { title: t('res.col.gender'), cell: (p) => genderText(p.gender) },
      { title: t('res.col.birth'), cell: (p) => p.birthDate || t('common.none'), class: 'nowrap' },
      { title: t('res.col.idnum'), cell: (p) => h('span', { class: 'mono id-cell' }, patientIdNumber(p) || t('common.none')) },
      { title: t('res.col.phone'), cell: (p) => h('span', { class: 'mono phone-cell' }, patientPhone(p) || t('common.none')) },
      {
        title: t('res.col.address'),
        cell: (p) => {
          const text = patientAddressText(p);
          const code = patientDivision(p);
          return text ? h('span', { title: code || '' }, text) : areaText(code);
        },
      },
    ], rows, {
      id: 'res-table',
      empty: t('res.none'),
      onRow: (p) => ctx.go('record', { area: ctx.area.code, id: p.id }),
    });
    mount(results,
      h('p', { class: 'muted small', id: 'res-count' },
        total > rows.length ? t('res.countMore', { n: fmtNumber(rows.length), total: fmtNumber(total) }) : t('res.count', { n: fmtNumber(rows.length) })),
      table);
    results.dataset.state = 'loaded';
  }

  const form = h('form', {
    class: 'filters res-form', id: 'res-form', novalidate: true,
    onsubmit: (ev) => {
      ev.preventDefault();
      run({ idnum: idnum.value.trim().toUpperCase(), name: name.value.trim(), birthdate: birthdate.value });
    },
  },
  h('label', { class: 'field-inline' }, h('span', null, t('res.idnum')), idnum),
  h('span', { class: 'or-sep' }, t('res.or')),
  h('label', { class: 'field-inline' }, h('span', null, t('res.name')), name),
  h('label', { class: 'field-inline' }, h('span', null, t('res.birthdate')), birthdate),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'res-search' }, icon(ICONS.search), h('span', null, t('common.search'))),
  h('button', {
    type: 'button', class: 'btn', id: 'res-reset',
    onclick: () => {
      last = null;
      idnum.value = ''; name.value = ''; birthdate.value = '';
      formError.hidden = true;
      delete results.dataset.state;
      mount(results, h('div', { class: 'empty' }, t('res.hint')));
      idnum.focus();
    },
  }, t('common.reset')));

  mount(root, head,
    h('section', { class: 'panel' }, h('div', { class: 'panel-body' }, form, formError, results)));
  if (last) run(last); else idnum.focus();
}
