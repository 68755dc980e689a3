/*
 * institutions.js - the institutions of the picked area: filter by tier and name,
 * page through, open one in a detail panel.
 *
 * Filters and the page offset live in the URL hash, so reload and back/forward work.
 */
import { api, qs } from '../api.js';
import { h, mount, icon } from '../dom.js';
import { ICONS } from '../icons.js';
import { t, label, fmtNumber, TIERS } from '../i18n.js';
import { dataTable, pager, errorBox, loading } from '../ui.js';

const LIMIT = 50;

function tierBadge(tier, serverLabel) {
  return h('span', { class: `tier-badge tier-${tier || 'other'}` }, label('tier', tier, serverLabel));
}

function fmtCoord(v) {
  return v == null ? t('common.none') : Number(v).toFixed(4);
}

let closeCurrent = null;

/* The detail panel (a drawer on the right); replaces any open one. */
function openDetail(id, ctx) {
  if (closeCurrent) closeCurrent();
  const body = h('div', { class: 'drawer-body' }, loading());
  const close = () => {
    if (closeCurrent === close) closeCurrent = null;
    drawer.remove();
    document.removeEventListener('keydown', onKey);
    document.querySelectorAll('#inst-table tr.selected').forEach((tr) => tr.classList.remove('selected'));
  };
  const onKey = (ev) => { if (ev.key === 'Escape') close(); };
  const closeBtn = h('button', { type: 'button', class: 'btn btn-icon', id: 'inst-drawer-close', 'aria-label': t('common.close'), title: t('common.close'), onclick: close }, icon(ICONS.close));
  const drawer = h('div', { class: 'drawer-layer', id: 'inst-drawer' },
    h('div', { class: 'drawer-backdrop', onclick: close }),
    h('aside', { class: 'drawer', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('inst.detail') },
      h('header', { class: 'drawer-head' }, h('h2', null, t('inst.detail')), closeBtn),
      body));
  closeCurrent = close;
  document.body.append(drawer);
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(close);
  closeBtn.focus();

  api(`/api/v1/institutions/${encodeURIComponent(id)}`).then((d) => {
    const staff = d.staff || { total: null, by_role: [] };
    const field = (k, v) => [h('dt', null, t(k)), h('dd', null, v)];
    mount(body,
      h('div', { class: 'detail-title' },
        h('h3', { id: 'inst-detail-name' }, d.name),
        h('div', { class: 'detail-tags' }, tierBadge(d.tier, d.tier_label),
          d.grade ? h('span', { class: 'grade-badge' }, label('grade', d.grade, d.grade_label)) : null)),
      h('dl', { class: 'fields', id: 'inst-detail-fields' },
        field('inst.f.code', d.code || t('common.none')),
        field('inst.f.tier', label('tier', d.tier, d.tier_label)),
        field('inst.f.grade', d.grade ? label('grade', d.grade, d.grade_label) : t('common.none')),
        field('inst.f.ownership', label('ownership', d.ownership)),
        field('inst.f.area', d.area_path || d.area_name || d.area_code),
        field('inst.f.beds', `${fmtNumber(d.beds_approved)} / ${fmtNumber(d.beds_open)}`),
        field('inst.f.coords', d.lat == null && d.lon == null ? t('common.none') : `${fmtCoord(d.lat)}, ${fmtCoord(d.lon)}`),
        field('inst.f.staff', fmtNumber(staff.total))),
      h('h4', { class: 'section-title' }, t('inst.staffByRole')),
      dataTable([
        { title: t('inst.role'), cell: (r) => label('staff', r.role, r.label) },
        { title: t('inst.count'), num: true, cell: (r) => fmtNumber(r.count) },
      ], staff.by_role || [], { id: 'inst-staff' }));
  }).catch((e) => mount(body, errorBox(e.message)));
}

export async function renderInstitutions(root, ctx) {
  const { area, params } = ctx;
  const tier = TIERS.includes(params.tier) ? params.tier : '';
  const q = params.q || '';
  const offset = Math.max(0, parseInt(params.offset, 10) || 0);

  const tierSel = h('select', { id: 'inst-tier', class: 'select', name: 'tier' },
    h('option', { value: '' }, t('common.all')),
    TIERS.map((v) => h('option', { value: v, selected: v === tier }, label('tier', v))));
  const qInput = h('input', { id: 'inst-q', class: 'input', type: 'search', name: 'q', value: q, placeholder: t('inst.qPlaceholder') });
  const apply = () => ctx.update({ tier: tierSel.value, q: qInput.value.trim() });
  tierSel.addEventListener('change', apply);

  const filters = h('form', { class: 'filters', id: 'inst-filters', onsubmit: (ev) => { ev.preventDefault(); apply(); } },
    h('label', { class: 'field-inline' }, h('span', null, t('inst.tier')), tierSel),
    h('label', { class: 'field-inline' }, h('span', null, t('inst.q')), qInput),
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'inst-search' }, icon(ICONS.search), h('span', null, t('common.search'))),
    h('button', { type: 'button', class: 'btn', id: 'inst-reset', onclick: () => ctx.update({}) }, t('common.reset')));

  const results = h('div', { class: 'results', id: 'inst-results' }, loading());
  mount(root,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', null, `${area.name} · ${t('inst.title')}`),
        h('p', { class: 'muted' }, t('inst.clickHint')))),
    h('section', { class: 'panel' }, h('div', { class: 'panel-body' }, filters, results)));

  const list = await api(`/api/v1/institutions${qs({ area: area.code, tier, q, limit: LIMIT, offset })}`);
  const items = list.items || [];
  const total = list.total ?? items.length;

  const table = dataTable([
    { title: t('inst.col.name'), cell: (r) => h('div', { class: 'cell-name' }, h('span', { class: 'inst-name' }, r.name), r.code ? h('span', { class: 'cell-sub' }, r.code) : null) },
    { title: t('inst.col.tier'), cell: (r) => tierBadge(r.tier, r.tier_label) },
    { title: t('inst.col.grade'), cell: (r) => (r.grade ? label('grade', r.grade, r.grade_label) : t('common.none')) },
    { title: t('inst.col.area'), cell: (r) => r.area_name || r.area_code || t('common.none') },
    { title: t('inst.col.bedsApproved'), num: true, cell: (r) => fmtNumber(r.beds_approved) },
    { title: t('inst.col.bedsOpen'), num: true, cell: (r) => fmtNumber(r.beds_open) },
  ], items, {
    id: 'inst-table',
    onRow: (r, tr) => {
      openDetail(r.id, ctx);
      tr.classList.add('selected');
    },
  });
  /* What is shown, for tests and styling: the query this table answers. */
  Object.assign(results.dataset, { area: area.code, tier: tier || 'all', offset: String(offset), state: 'loaded' });
  mount(results, table, pager(total, offset, LIMIT, (o) => ctx.update({ tier, q, offset: o || '' })));
}
