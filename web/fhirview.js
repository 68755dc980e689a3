/*
 * fhirview.js - reading FHIR resources for display, and a modal dialog; shared by
 * the residents, record and MPI review pages.
 *
 * Why: the same Patient appears in a search result, on the record page and side by
 * side in the MPI queue; one reader of its shapes (name text or family+given, the
 * resident ID number by system, the division code extension) keeps them consistent.
 * Values are shown exactly as the server returned them: masking is the server's job.
 */
import { api } from './api.js';
import { h, icon } from './dom.js';
import { ICONS } from './icons.js';
import { t, getLang } from './i18n.js';

export const SYS_IDNUM = 'urn:oid:2.16.156.10011.1.3';
export const SYS_ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const EXT_DIVISION = 'https://rhis.cn/fhir/StructureDefinition/address-division';

/* The entries of a search Bundle that matched (not _include'd ones). */
export function bundleResources(bundle) {
  return ((bundle && bundle.entry) || [])
    .filter((e) => e.resource && (!e.search || !e.search.mode || e.search.mode === 'match'))
    .map((e) => e.resource);
}

export function patientName(p) {
  const n = p && Array.isArray(p.name) ? (p.name.find((x) => x.use === 'official') || p.name[0]) : null;
  if (!n) return t('common.none');
  if (n.text) return n.text;
  const given = Array.isArray(n.given) ? n.given : [];
  /* Chinese names: family then given, no space; Latin names keep the space. */
  const han = /[\u3400-\u9fff]/.test(`${n.family || ''}${given.join('')}`);
  return [n.family || '', given.join(han ? '' : ' ')].filter(Boolean).join(han ? '' : ' ') || t('common.none');
}

export function patientIdNumber(p) {
  const id = ((p && p.identifier) || []).find((x) => x.system === SYS_IDNUM);
  return id ? id.value : null;
}

export function patientPhone(p) {
  const tel = ((p && p.telecom) || []).find((x) => x.system === 'phone') || ((p && p.telecom) || [])[0];
  return tel ? tel.value : null;
}

export function patientDivision(p) {
  const a = p && Array.isArray(p.address) ? p.address[0] : null;
  const ext = a && (a.extension || []).find((x) => x.url === EXT_DIVISION);
  return ext ? ext.valueCode || null : null;
}

export function patientAddressText(p) {
  const a = p && Array.isArray(p.address) ? p.address[0] : null;
  if (!a) return null;
  if (a.text) return a.text;
  const parts = [a.state, a.city, a.district, ...(a.line || [])].filter(Boolean);
  return parts.length ? parts.join('') : null;
}

/* The patient this one was merged into (Patient.link replaced-by), or null. */
export function replacedBy(p) {
  const l = ((p && p.link) || []).find((x) => x.type === 'replaced-by');
  return l && l.other && l.other.reference ? refId(l.other.reference) : null;
}

export function genderText(g) {
  return g ? t(`gender.${g}`) : t('common.none');
}

/* "Organization/12" or a full URL ending in Type/id -> "12". */
export function refId(ref) {
  if (!ref) return null;
  const m = /([^/]+)\/([^/]+)$/.exec(ref);
  return m ? m[2] : ref;
}

const areaNames = new Map();

/* The name of a division code (cached for the page's life), the code on failure. */
export function areaName(code) {
  if (!code) return Promise.resolve(null);
  if (!areaNames.has(code)) {
    areaNames.set(code, api(`/api/v1/areas/${encodeURIComponent(code)}`)
      .then((a) => (a.ancestors || []).filter((x) => x.level >= 3).map((x) => x.name).concat(a.name).join(' '))
      .catch(() => code));
  }
  return areaNames.get(code);
}

/* A span that shows the division code and fills in its name once known. */
export function areaText(code, cls) {
  if (!code) return h('span', { class: cls }, t('common.none'));
  const el = h('span', { class: cls, title: code, dataset: { code } }, code);
  areaName(code).then((name) => { if (name) el.textContent = name; });
  return el;
}

const orgNames = new Map();

/* Text of a Reference: its display, else the Organization's name (looked up), else the reference. */
export function refText(ref, cls) {
  if (!ref) return h('span', { class: cls }, t('common.none'));
  if (ref.display) return h('span', { class: cls }, ref.display);
  const r = ref.reference || '';
  const el = h('span', { class: cls }, r || t('common.none'));
  const m = /^(?:.*\/)?Organization\/([^/]+)$/.exec(r);
  if (m) {
    if (!orgNames.has(m[1])) {
      orgNames.set(m[1], api(`/fhir/Organization/${encodeURIComponent(m[1])}`)
        .then((o) => o.name || r).catch(() => r));
    }
    orgNames.get(m[1]).then((name) => { el.textContent = name; });
  }
  return el;
}

/* The text of a CodeableConcept: text, else the first coding's display or code. */
export function conceptText(cc) {
  if (!cc) return null;
  if (cc.text) return cc.text;
  const c = (cc.coding || []).find((x) => x.display) || (cc.coding || [])[0];
  return c ? c.display || c.code || null : null;
}

export function fmtDate(s) {
  if (!s) return t('common.none');
  return String(s).slice(0, 10);
}

export function fmtDateTime(s) {
  if (!s) return t('common.none');
  if (String(s).length <= 10) return String(s);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return d.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN', {
    hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}

/*
 * A modal dialog. body: nodes; actions: [{text, primary, id, onClick(close, setError)}].
 * onClick may be async: its button is disabled while it runs, and a thrown error
 * is shown in the dialog. Escape and the backdrop close it. Returns close().
 */
export function openDialog({ id, title, body, actions, onClose }) {
  const err = h('div', { class: 'alert alert-error', role: 'alert', hidden: true, id: id ? `${id}-error` : null });
  const setError = (msg) => { err.textContent = msg || ''; err.hidden = !msg; };
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    layer.remove();
    document.removeEventListener('keydown', onKey);
    if (onClose) onClose();
  };
  const onKey = (ev) => { if (ev.key === 'Escape') close(); };
  const buttons = (actions || []).map((a) => {
    const b = h('button', {
      type: 'button', class: `btn${a.primary ? ' btn-primary' : ''}${a.danger ? ' btn-danger' : ''}`, id: a.id,
      onclick: async () => {
        if (!a.onClick) { close(); return; }
        b.disabled = true;
        try {
          await a.onClick(close, setError);
        } catch (e) {
          setError(e.message);
        } finally {
          if (!closed) b.disabled = a.isDisabled ? a.isDisabled() : false;
        }
      },
    }, a.text);
    if (a.isDisabled) b.disabled = a.isDisabled();
    a.button = b;
    return b;
  });
  const closeBtn = h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': t('common.close'), title: t('common.close'), onclick: close }, icon(ICONS.close));
  const titleId = `${id || 'dialog'}-title`;
  const layer = h('div', { class: 'modal-layer', id },
    h('div', { class: 'modal-backdrop', onclick: close }),
    h('section', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
      h('header', { class: 'modal-head' }, h('h2', { id: titleId }, title), closeBtn),
      h('div', { class: 'modal-body' }, err, body),
      h('footer', { class: 'modal-foot' }, buttons)));
  document.body.append(layer);
  document.addEventListener('keydown', onKey);
  const first = layer.querySelector('textarea, input, select');
  (first || closeBtn).focus();
  /* Re-evaluates the actions' disabled state (call after input changes). */
  close.refresh = () => { for (const a of actions || []) if (a.isDisabled && a.button) a.button.disabled = a.isDisabled(); };
  close.setError = setError;
  return close;
}

/* A labelled definition list from [[key, value], ...] (null values become "—"). */
export function fieldList(pairs, id) {
  return h('dl', { class: 'fields', id }, pairs.map(([k, v]) => [
    h('dt', null, t(k)),
    h('dd', null, v == null || v === '' ? t('common.none') : v)]));
}
