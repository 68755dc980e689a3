/*
 * areapicker.js - the area bar: breadcrumb over the division tree, a list of the
 * picked area's children (loaded when needed) and a search box.
 *
 * Why: every view is "for an area"; users move down the tree (province › city ›
 * county › township) or jump by name. Areas above the user's scope are shown for
 * orientation but cannot be picked (the server refuses them anyway).
 */
import { api, qs } from './api.js';
import { h, mount, icon, debounce } from './dom.js';
import { ICONS } from './icons.js';
import { t } from './i18n.js';

const childCache = new Map();

async function children(code) {
  if (!childCache.has(code)) {
    const p = api(`/api/v1/areas/${encodeURIComponent(code)}/children`).then((r) => r.children || []);
    childCache.set(code, p);
    p.catch(() => childCache.delete(code));
  }
  return childCache.get(code);
}

function inScope(me, code) {
  const scope = me.scope_area || '';
  return code.startsWith(scope);
}

export function renderAreaBar(el, ctx, onPick) {
  const { area, me } = ctx;
  const trail = [...(area.ancestors || []), { code: area.code, name: area.name, level: area.level }];

  const crumbs = [];
  trail.forEach((a, i) => {
    if (i) crumbs.push(h('span', { class: 'crumb-sep', 'aria-hidden': 'true' }, '›'));
    const last = i === trail.length - 1;
    const text = [h('span', { class: 'crumb-level' }, t(`area.level.${a.level}`)), a.name];
    if (last) crumbs.push(h('span', { class: 'crumb current', 'aria-current': 'location', dataset: { code: a.code } }, text));
    else if (inScope(me, a.code)) crumbs.push(h('a', { class: 'crumb', href: '#', dataset: { code: a.code }, onclick: (ev) => { ev.preventDefault(); onPick(a.code); } }, text));
    else crumbs.push(h('span', { class: 'crumb locked', dataset: { code: a.code } }, text));
  });

  /* Children dropdown, filled when loaded. */
  const select = h('select', { id: 'area-children', class: 'select', 'aria-label': t('area.pick'), disabled: true },
    h('option', { value: '' }, area.child_count ? t('common.loading') : t('area.noChildren')));
  select.addEventListener('change', () => { if (select.value) onPick(select.value); });
  if (area.child_count) {
    children(area.code).then((list) => {
      mount(select,
        h('option', { value: '' }, t('area.children', { n: list.length })),
        list.map((c) => h('option', { value: c.code }, c.name)));
      select.disabled = list.length === 0;
    }).catch((e) => {
      mount(select, h('option', { value: '' }, e.message));
    });
  }

  /* Search box with a result list. */
  const input = h('input', { id: 'area-search', type: 'search', class: 'input', placeholder: t('area.search'), autocomplete: 'off', 'aria-label': t('area.search') });
  const results = h('ul', { id: 'area-results', class: 'search-results', role: 'listbox', hidden: true });
  let seq = 0;
  let items = [];

  const pick = (code) => { results.hidden = true; input.value = ''; onPick(code); };
  const search = debounce(async () => {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) { results.hidden = true; return; }
    try {
      const r = await api(`/api/v1/areas${qs({ q, limit: 20 })}`);
      if (mine !== seq) return;
      items = (r.areas || []).filter((a) => inScope(me, a.code));
      mount(results, items.length
        ? items.map((a) => h('li', { role: 'option' },
          h('button', { type: 'button', class: 'result', dataset: { code: a.code }, onmousedown: (ev) => ev.preventDefault(), onclick: () => pick(a.code) },
            h('span', { class: 'result-name' }, a.name),
            h('span', { class: 'crumb-level' }, t(`area.level.${a.level}`)),
            h('span', { class: 'result-path' }, a.path || a.code))))
        : h('li', { class: 'result-empty' }, t('area.searchEmpty')));
      results.hidden = false;
    } catch (e) {
      if (mine !== seq) return;
      mount(results, h('li', { class: 'result-empty' }, e.message));
      results.hidden = false;
    }
  }, 250);
  input.addEventListener('input', search);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { results.hidden = true; input.blur(); }
    if (ev.key === 'Enter' && items.length && !results.hidden) { ev.preventDefault(); pick(items[0].code); }
    if (ev.key === 'ArrowDown' && !results.hidden) {
      ev.preventDefault();
      const first = results.querySelector('button');
      if (first) first.focus();
    }
  });
  results.addEventListener('keydown', (ev) => {
    const btns = [...results.querySelectorAll('button')];
    const i = btns.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' && i < btns.length - 1) { ev.preventDefault(); btns[i + 1].focus(); }
    if (ev.key === 'ArrowUp') { ev.preventDefault(); if (i > 0) btns[i - 1].focus(); else input.focus(); }
    if (ev.key === 'Escape') { results.hidden = true; input.focus(); }
  });
  input.addEventListener('blur', () => setTimeout(() => {
    if (!results.contains(document.activeElement)) results.hidden = true;
  }, 150));
  input.addEventListener('focus', () => { if (input.value.trim() && results.childElementCount) results.hidden = false; });

  mount(el,
    h('div', { class: 'areabar-trail' },
      icon(ICONS.pin),
      h('nav', { class: 'breadcrumb', id: 'area-breadcrumb', 'aria-label': t('area.pick') }, crumbs),
      select),
    h('div', { class: 'areabar-search' }, icon(ICONS.search, 'icon search-icon'), input, results));
}
