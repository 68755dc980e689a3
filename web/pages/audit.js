/*
 * audit.js - the latest audit events (FHIR AuditEvent search), for administrators.
 */
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { t, label, getLang } from '../i18n.js';
import { dataTable, errorBox, panel, loading } from '../ui.js';

function fmtTime(s) {
  if (!s) return t('common.none');
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN', { hour12: false });
}

/* The first entity that names a resource, else the operation (subtype) code. */
function entityText(e) {
  const ent = (e.entity || []).find((x) => x.what && (x.what.reference || x.what.display));
  if (ent) return ent.what.reference || ent.what.display;
  return e.subtype?.[0]?.code || t('common.none');
}

export async function renderAudit(root, ctx) {
  const head = h('div', { class: 'page-head' },
    h('div', null, h('h1', null, t('audit.title')), h('p', { class: 'muted' }, t('audit.subtitle'))));
  if (ctx.me.role !== 'admin') {
    mount(root, head, errorBox(t('audit.forbidden')));
    return;
  }
  mount(root, head, loading());
  const bundle = await api('/fhir/AuditEvent?_count=50');
  const events = (bundle.entry || []).map((e) => e.resource).filter(Boolean);
  const outcomeCls = (o) => (String(o ?? '0') === '0' ? 'ok' : 'fail');

  mount(root, head, panel(t('audit.title'), dataTable([
    { title: t('audit.col.time'), cell: (e) => h('span', { class: 'nowrap' }, fmtTime(e.recorded)) },
    { title: t('audit.col.user'), cell: (e) => e.agent?.[0]?.who?.display || e.agent?.[0]?.who?.reference || t('common.none') },
    { title: t('audit.col.action'), cell: (e) => [label('action', e.action), e.subtype?.[0]?.code ? h('span', { class: 'cell-sub' }, ` ${e.subtype[0].code}`) : null] },
    { title: t('audit.col.outcome'), cell: (e) => h('span', { class: `outcome outcome-${outcomeCls(e.outcome)}`, title: e.outcomeDesc || null }, label('outcome', e.outcome ?? '0')) },
    { title: t('audit.col.entity'), cell: (e) => h('code', null, entityText(e)) },
    { title: t('audit.col.source'), cell: (e) => e.source?.observer?.display || e.source?.site || t('common.none') },
  ], events, { id: 'audit-table' })));
}
