/*
 * ui.js - the shared widgets of the pages: error box, data table, pager, stat card.
 */
import { h, icon } from './dom.js';
import { t, fmtNumber } from './i18n.js';

export function errorBox(message, retry, retryLabel) {
  return h('div', { class: 'alert alert-error', role: 'alert' },
    h('span', null, message),
    retry ? h('button', { type: 'button', class: 'btn btn-small', onclick: retry }, retryLabel || t('common.retry')) : null);
}

/*
 * A data table. columns: [{title, cell: row => node|string, num: bool, class}].
 * onRow(row, tr) makes rows clickable (and keyboard-activatable).
 */
export function dataTable(columns, rows, { onRow, id, empty } = {}) {
  const head = h('tr', null, columns.map((c) => h('th', { class: c.num ? 'num' : c.class, scope: 'col' }, c.title)));
  const body = rows.length
    ? rows.map((r) => {
      const tr = h('tr', onRow ? {
        class: 'clickable', tabindex: '0',
        onclick: () => onRow(r, tr),
        onkeydown: (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onRow(r, tr); } },
      } : null, columns.map((c) => h('td', { class: c.num ? 'num' : c.class }, c.cell(r))));
      return tr;
    })
    : h('tr', { class: 'empty-row' }, h('td', { colspan: columns.length }, empty || t('common.empty')));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table', id }, h('thead', null, head), h('tbody', null, body)));
}

/* "1–50 of N" with previous/next; onPage(newOffset). */
export function pager(total, offset, limit, onPage) {
  const from = total ? offset + 1 : 0;
  const to = Math.min(offset + limit, total);
  return h('div', { class: 'pager' },
    h('span', { class: 'pager-range', id: 'pager-range' }, t('common.range', { from: fmtNumber(from), to: fmtNumber(to), total: fmtNumber(total) })),
    h('div', { class: 'pager-buttons' },
      h('button', { type: 'button', class: 'btn btn-small', id: 'pager-prev', disabled: offset <= 0, onclick: () => onPage(Math.max(0, offset - limit)) }, `‹ ${t('common.prev')}`),
      h('button', { type: 'button', class: 'btn btn-small', id: 'pager-next', disabled: to >= total, onclick: () => onPage(offset + limit) }, `${t('common.next')} ›`)));
}

/* A summary card: icon, title, big number with unit, a line below. */
export function statCard({ iconPaths, title, value, unit, sub, tone = 'blue', id }) {
  return h('section', { class: `stat-card tone-${tone}`, id },
    h('div', { class: 'stat-icon' }, icon(iconPaths)),
    h('div', { class: 'stat-body' },
      h('div', { class: 'stat-title' }, title),
      h('div', { class: 'stat-value' }, value, unit ? h('span', { class: 'stat-unit' }, unit) : null),
      sub ? h('div', { class: 'stat-sub' }, sub) : null));
}

export function panel(title, body, extra) {
  return h('section', { class: 'panel' },
    h('header', { class: 'panel-head' }, h('h2', null, title), extra || null),
    h('div', { class: 'panel-body' }, body));
}

export function loading() {
  return h('div', { class: 'loading' }, t('common.loading'));
}
