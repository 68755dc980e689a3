/*
 * app.js - boot, login, the application shell (top bar, navigation, area bar) and
 * the hash router.
 *
 * Why: the UI is a static single page served by `rhis serve`; the hash
 * (#/institutions?area=220221&tier=...) holds everything needed to rebuild a view, so
 * a reload or a shared link lands on the same page, area and filters.
 */
import { api, getToken, setToken, setUnauthorizedHandler } from './api.js';
import { h, mount, icon } from './dom.js';
import { errorBox } from './ui.js';
import { ICONS } from './icons.js';
import { t, getLang, setLang, applyHtmlLang, label } from './i18n.js';
import { renderAreaBar } from './areapicker.js';
import { renderOverview } from './pages/overview.js';
import { renderInstitutions } from './pages/institutions.js';
import { renderAudit } from './pages/audit.js';
import { renderResidents } from './pages/residents.js';
import { renderRecord } from './pages/record.js';
import { renderMpi } from './pages/mpi.js';
import { renderSurveillance } from './pages/surveillance.js';
import { renderSignal } from './pages/signal.js';
import { renderPlan } from './pages/plan.js';

/*
 * The navigation: working pages have a render function, the rest are announced.
 * hidden pages are routes without an entry; navId names the entry they highlight;
 * roles (or admin) limits who may open a page.
 */
const NAV = [
  { id: 'overview', icon: 'overview', render: renderOverview },
  { id: 'institutions', icon: 'institutions', render: renderInstitutions },
  { id: 'residents', icon: 'residents', render: renderResidents },
  { id: 'record', render: renderRecord, hidden: true, navId: 'residents' },
  { id: 'referral', icon: 'referral' },
  { id: 'chronic', icon: 'chronic' },
  { id: 'surveillance', icon: 'surveillance', render: renderSurveillance, roles: ['admin', 'cdc'] },
  { id: 'signal', render: renderSignal, hidden: true, navId: 'surveillance', roles: ['admin', 'cdc'] },
  { id: 'plan', icon: 'plan', render: renderPlan, roles: ['admin', 'planner', 'cdc'] },
  { id: 'ems', icon: 'ems' },
  { id: 'mpi', icon: 'mpi', render: renderMpi, roles: ['admin', 'cdc'], group: 'admin' },
  { id: 'audit', icon: 'audit', render: renderAudit, admin: true, group: 'admin' },
  { id: 'users', icon: 'users', admin: true, group: 'admin' },
];

const DEFAULT_AREA = '22';
const app = document.getElementById('app');

const state = {
  me: null,        /* GET /api/v1/me */
  area: null,      /* GET /api/v1/areas/{code} of the picked area */
  shell: null,     /* the shell's live elements, null while the login page shows */
  cleanup: [],     /* disposers of the current page (charts, listeners) */
};

/* ---------- routing ---------- */

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { page: path || '', params: Object.fromEntries(new URLSearchParams(query)) };
}

function hashFor(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${page}${s ? `?${s}` : ''}`;
}

/* Moves to page with params; replace=true rewrites the history entry instead. */
export function go(page, params = {}, replace = false) {
  const target = hashFor(page, params);
  if (target === location.hash) { route(); return; }
  if (replace) { history.replaceState(null, '', target); route(); } else location.hash = target;
}

/* Where a bare URL lands: a resident on their own record, staff on the overview. */
function homePage() {
  if (state.me && state.me.role === 'resident') return state.me.patient_id ? 'record' : 'residents';
  return 'overview';
}

function defaultArea() {
  return (state.me && state.me.scope_area) || DEFAULT_AREA;
}

/* ---------- login ---------- */

function langButton(onSwitch) {
  return h('button', {
    type: 'button', class: 'btn btn-ghost lang-switch', id: 'lang-switch',
    title: t('lang.switch.title'),
    onclick: () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); onSwitch(); },
  }, icon(ICONS.globe), h('span', null, t('lang.switch')));
}

function showLogin(message) {
  disposePage();
  state.me = null;
  state.area = null;
  state.shell = null;
  const err = h('div', { class: 'alert alert-error', id: 'login-error', role: 'alert', hidden: !message }, message || '');
  const user = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'login-submit' }, t('login.submit'));

  async function onSubmit(ev) {
    ev.preventDefault();
    if (!user.value.trim() || !pass.value) {
      err.textContent = t('login.required');
      err.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.submitting');
    err.hidden = true;
    try {
      const res = await api('/api/v1/login', {
        method: 'POST', auth: false, statusKeys: { 401: 'login.bad' },
        body: { username: user.value.trim(), password: pass.value },
      });
      setToken(res.token);
      await start();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      pass.value = '';
      pass.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  }

  mount(app, h('div', { class: 'login-page' },
    h('div', { class: 'login-lang' }, langButton(() => showLogin(err.hidden ? '' : err.textContent))),
    h('main', { class: 'login-card' },
      h('div', { class: 'login-brand' },
        h('div', { class: 'brand-mark brand-mark-lg' }, icon(ICONS.logo)),
        h('div', null,
          h('h1', null, t('app.name')),
          h('p', { class: 'muted' }, t('app.tagline')))),
      h('form', { class: 'login-form', id: 'login-form', onsubmit: onSubmit, novalidate: true },
        h('h2', null, t('login.title')),
        err,
        h('label', { class: 'field' }, h('span', null, t('login.username')), user),
        h('label', { class: 'field' }, h('span', null, t('login.password')), pass),
        submit,
        h('p', { class: 'muted small' }, t('login.hint')))),
    h('footer', { class: 'login-footer' }, t('app.footer'))));
  user.focus();
}

async function logout() {
  try { await api('/api/v1/logout', { method: 'POST' }); } catch { /* the token is dropped anyway */ }
  setToken(null);
  history.replaceState(null, '', location.pathname);
  showLogin();
}

/* ---------- shell ---------- */

function buildShell() {
  const me = state.me;
  const scope = me.scope_area ? (me.scope_area_name || me.scope_area) : t('top.scope.all');
  const areaName = h('strong', { id: 'current-area' }, '');
  const nav = h('nav', { class: 'sidebar', id: 'nav', 'aria-label': t('nav.group.main') });
  const areaBar = h('div', { class: 'areabar', id: 'areabar' });
  const content = h('main', { class: 'content', id: 'content' });

  const header = h('header', { class: 'topbar' },
    h('div', { class: 'brand' },
      h('div', { class: 'brand-mark' }, icon(ICONS.logo)),
      h('div', { class: 'brand-text' },
        h('span', { class: 'brand-name' }, t('app.name')),
        h('span', { class: 'brand-tag' }, t('app.short')))),
    h('div', { class: 'topbar-area', title: t('top.area') },
      icon(ICONS.pin), h('span', { class: 'muted-on-dark' }, t('top.area')), areaName),
    h('div', { class: 'topbar-user' },
      h('div', { class: 'user-chip', id: 'user-chip' },
        icon(ICONS.user),
        h('span', { class: 'user-name', id: 'user-name' }, me.username),
        h('span', { class: 'role-badge', id: 'user-role' }, label('role', me.role)),
        h('span', { class: 'user-scope', title: t('top.scope') }, t('top.scopeLine', { scope }))),
      langButton(() => { buildShell(); route(); }),
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'logout', onclick: logout },
        icon(ICONS.logout), h('span', null, t('top.logout')))));

  mount(app, h('div', { class: 'shell' }, header,
    h('div', { class: 'body' }, nav, h('div', { class: 'main' }, areaBar, content))));
  state.shell = { nav, areaBar, content, areaName };
}

function renderNav(active, areaCode) {
  const isAdmin = state.me.role === 'admin';
  const groups = { main: [], admin: [] };
  for (const item of NAV) {
    if (item.hidden) continue;
    const forbidden = (item.admin && !isAdmin) || (item.roles && !item.roles.includes(state.me.role));
    const soon = !item.render;
    const disabled = forbidden || soon;
    const text = t(`nav.${item.id}`);
    const badge = soon ? h('span', { class: 'badge-soon' }, t('nav.soon'))
      : forbidden ? h('span', { class: 'badge-soon' }, t('nav.adminOnly')) : null;
    const link = disabled
      ? h('span', { class: 'nav-item disabled', 'aria-disabled': 'true', dataset: { nav: item.id }, title: badge.textContent },
        icon(ICONS[item.icon]), h('span', { class: 'nav-label' }, text), badge)
      : h('a', {
        class: `nav-item${item.id === active ? ' active' : ''}`, dataset: { nav: item.id },
        href: hashFor(item.id, { area: areaCode }), 'aria-current': item.id === active ? 'page' : null,
      }, icon(ICONS[item.icon]), h('span', { class: 'nav-label' }, text));
    groups[item.group || 'main'].push(link);
  }
  mount(state.shell.nav,
    h('div', { class: 'nav-group' }, t('nav.group.main')), groups.main,
    h('div', { class: 'nav-group' }, t('nav.group.admin')), groups.admin);
}

function disposePage() {
  for (const fn of state.cleanup.splice(0)) { try { fn(); } catch { /* ignore */ } }
}

/* Loads the picked area's record unless it is already current. */
async function loadArea(code) {
  if (state.area && state.area.code === code) return state.area;
  state.area = await api(`/api/v1/areas/${encodeURIComponent(code)}`);
  return state.area;
}

let routeSeq = 0;

async function route() {
  if (!state.me) return;
  const seq = ++routeSeq;
  const { page, params } = parseHash();
  const item = NAV.find((n) => n.id === page && n.render);
  if (!item || !params.area) {
    go(item ? item.id : homePage(), { ...params, area: params.area || (state.area && state.area.code) || defaultArea() }, true);
    return;
  }
  if (!state.shell) buildShell();
  renderNav(item.navId || item.id, params.area);
  disposePage();

  const { content, areaBar, areaName } = state.shell;
  mount(content, h('div', { class: 'loading' }, t('common.loading')));
  let area;
  try {
    area = await loadArea(params.area);
  } catch (e) {
    if (seq !== routeSeq || !state.me) return;
    mount(areaBar);
    areaName.textContent = params.area;
    mount(content, errorBox(e.message, () => go(item.id, { area: defaultArea() }), t('area.backToScope')));
    return;
  }
  if (seq !== routeSeq) return;
  areaName.textContent = area.name;

  const ctx = {
    me: state.me,
    area,
    params,
    page: item.id,
    /* Same page with new params (area kept unless given). */
    update: (p, replace) => go(item.id, { area: area.code, ...p }, replace),
    go,
    onCleanup: (fn) => state.cleanup.push(fn),
  };
  renderAreaBar(areaBar, ctx, (code) => {
    const keep = { ...params, area: code };
    delete keep.offset;
    go(item.id, keep);
  });
  const root = h('div', { class: 'page', id: `page-${item.id}` });
  mount(content, root);
  try {
    await item.render(root, ctx);
  } catch (e) {
    if (root.isConnected) mount(root, errorBox(e.message, route));
  }
}

/* ---------- boot ---------- */

async function start() {
  try {
    state.me = await api('/api/v1/me');
  } catch (e) {
    if (e.status === 401 || !getToken()) { showLogin(); return; }
    mount(app, h('div', { class: 'login-page' }, h('main', { class: 'login-card' }, errorBox(e.message, start))));
    return;
  }
  state.shell = null;
  state.area = null;
  route();
}

setUnauthorizedHandler(() => {
  if (state.me) showLogin(t('err.session'));
});

window.addEventListener('hashchange', () => { if (state.me) route(); });

applyHtmlLang();
if (getToken()) start(); else showLogin();
