/*
 * record.test.mjs - browser tests of the residents' pages against a live
 * `rhis serve`: resident search -> health record -> access log, break-glass,
 * a resident's own record, and the MPI review queue (merge, keep separate).
 *
 * Run through tests/browser/run.sh, which makes the users admin, integrator,
 * cdc and clinician (institution 1), all with RHIS_PASSWORD. The test seeds
 * its data through the API (FHIR Patient, Encounter, Condition, Observation,
 * Immunization, DocumentReference) with valid ID numbers and real 永吉县
 * division codes; each run makes fresh ID numbers, so it also runs twice
 * against one server. RHIS_BIN, RHIS_DB and RHIS_PASSWORD_FILE (optional) add a
 * resident linked to a seeded patient with `rhis user add --patient`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.RHIS_URL || 'http://127.0.0.1:8080';
const PASSWORD = process.env.RHIS_PASSWORD;
const SHOTS = process.env.RHIS_SCREENSHOT_DIR || os.tmpdir();
const CHROMIUM = process.env.RHIS_CHROMIUM || '/usr/bin/chromium';
const IDSYS = 'urn:oid:2.16.156.10011.1.3';
const DIVISION_EXT = 'https://rhis.cn/fhir/StructureDefinition/address-division';
const VILLAGE = '220221101201'; /* 永吉县双河镇双河村 */
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

let browser;
const tokens = {};
/* What the seeding made: patient id, ID number, institution ids, ... */
const seed = {};

/* ---------- API helpers ---------- */

async function call(user, method, p, body, headers = {}) {
  const res = await fetch(`${BASE}${p}`, {
    method,
    headers: {
      Accept: 'application/fhir+json, application/json',
      Authorization: `Bearer ${tokens[user]}`,
      ...(body !== undefined ? { 'Content-Type': 'application/fhir+json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, json, text };
}

async function ok(user, method, p, body, expect = [200, 201]) {
  const r = await call(user, method, p, body);
  assert.ok(expect.includes(r.status), `${user} ${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 400)}`);
  return r.json;
}

async function login(user) {
  const res = await fetch(`${BASE}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: PASSWORD }),
  });
  assert.equal(res.status, 200, `login ${user}: HTTP ${res.status}`);
  tokens[user] = (await res.json()).token;
}

/* GB 11643 check character of the first 17 characters. */
function idCheck(s17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s17[i]) * w[i];
  return '10X98765432'[sum % 11];
}

/* A valid ID number of 永吉县 for birth (YYYYMMDD) and sex, unique per run. */
function idNumber(birth, female) {
  const seq = 100 + Math.floor(Math.random() * 400) * 2 + (female ? 0 : 1);
  const s17 = `220221${birth}${String(seq).padStart(3, '0').slice(-3)}`;
  return s17 + idCheck(s17);
}

function patient({ name, family, given, gender, birthDate, idnum, phone, village = VILLAGE, text }) {
  const p = {
    resourceType: 'Patient',
    name: [{ use: 'official', text: name, family, given: [given] }],
    gender,
    birthDate,
    address: [{
      use: 'home', text,
      extension: [{ url: DIVISION_EXT, valueCode: village }],
    }],
  };
  if (idnum) p.identifier = [{ system: IDSYS, value: idnum }];
  if (phone) p.telecom = [{ system: 'phone', value: phone, use: 'mobile' }];
  return p;
}

const ref = (type, id, display) => (display ? { reference: `${type}/${id}`, display } : { reference: `${type}/${id}` });

function vital(pid, code, display, when, value, unit, ucum, inst) {
  return {
    resourceType: 'Observation', status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code, display }], text: display },
    subject: ref('Patient', pid), effectiveDateTime: when,
    performer: [ref('Organization', inst)],
    valueQuantity: { value, unit, system: UCUM, code: ucum },
  };
}

function bloodPressure(pid, when, sys, dia, inst) {
  const comp = (code, display, value) => ({
    code: { coding: [{ system: LOINC, code, display }] },
    valueQuantity: { value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
  });
  return {
    resourceType: 'Observation', status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: LOINC, code: '85354-9', display: '血压' }], text: '血压' },
    subject: ref('Patient', pid), effectiveDateTime: when,
    performer: [ref('Organization', inst)],
    component: [comp('8480-6', '收缩压', sys), comp('8462-4', '舒张压', dia)],
  };
}

/* ---------- browser helpers ---------- */

async function newPage(locale = 'zh-CN') {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, context, errors };
}

async function uiLogin(page, user) {
  await page.goto(`${BASE}/`);
  await page.fill('#login-username', user);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#nav').waitFor();
}

/* Usernames of the access log, paging on until `want` shows or the pages end. */
async function logUsers(page, want) {
  const users = [];
  for (let n = 0; n < 20; n++) {
    await page.locator('#rec-log-box[data-state="loaded"]').waitFor();
    users.push(...(await page.locator('#rec-access-log tbody .log-user').allTextContents()).map((s) => s.trim()));
    const next = page.locator('#rec-log-box #pager-next');
    if (users.includes(want) || !(await next.count()) || await next.isDisabled()) break;
    await next.click();
  }
  return users;
}

/* ---------- setup ---------- */

before(async () => {
  assert.ok(PASSWORD, 'RHIS_PASSWORD must be set');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  for (const u of ['admin', 'integrator', 'cdc', 'clinician']) await login(u);

  /* Institutions: the clinician's own, and two others that treat the resident. */
  const me = await ok('clinician', 'GET', '/api/v1/me');
  seed.clinicianInst = me.scope_institution;
  const insts = (await ok('admin', 'GET', '/api/v1/institutions?area=220221101&limit=50')).items;
  const hc = insts.find((i) => i.tier === 'township_hc');
  const vc = insts.find((i) => i.tier === 'village_clinic' && i.area_code === VILLAGE) || insts.find((i) => i.tier === 'village_clinic');
  assert.ok(hc && vc, '双河镇 has a township health centre and a village clinic');
  assert.notEqual(hc.id, seed.clinicianInst);
  assert.notEqual(vc.id, seed.clinicianInst);
  seed.hc = hc;
  seed.vc = vc;

  /* The resident of the record tests. */
  seed.idnum = idNumber('19560308', true);
  seed.birth = '1956-03-08';
  const p = await ok('integrator', 'POST', '/fhir/Patient', patient({
    name: '张秀兰', family: '张', given: '秀兰', gender: 'female', birthDate: seed.birth,
    idnum: seed.idnum, phone: '13843215678', text: '吉林省吉林市永吉县双河镇双河村三组',
  }));
  seed.pid = p.id;
  const pid = p.id;

  const e1 = await ok('integrator', 'POST', '/fhir/Encounter', {
    resourceType: 'Encounter', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: '门诊' },
    subject: ref('Patient', pid), serviceProvider: ref('Organization', hc.id),
    period: { start: '2026-03-12T09:30:00+08:00', end: '2026-03-12T10:05:00+08:00' },
    reasonCode: [{ text: '头晕、血压控制不佳 1 周' }],
  });
  const e2 = await ok('integrator', 'POST', '/fhir/Encounter', {
    resourceType: 'Encounter', status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH', display: '家庭访视' },
    subject: ref('Patient', pid), serviceProvider: ref('Organization', vc.id),
    period: { start: '2026-05-20T14:00:00+08:00', end: '2026-05-20T14:40:00+08:00' },
    reasonCode: [{ text: '高血压、糖尿病随访' }],
  });
  seed.encounters = [e1.id, e2.id];
  await ok('integrator', 'POST', '/fhir/Condition', {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10', display: '特发性（原发性）高血压' }] },
    subject: ref('Patient', pid), encounter: ref('Encounter', e1.id), onsetDateTime: '2019-06-01',
  });
  await ok('integrator', 'POST', '/fhir/Condition', {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11.9', display: '2型糖尿病，不伴有并发症' }] },
    subject: ref('Patient', pid), encounter: ref('Encounter', e2.id), onsetDateTime: '2021-02-03',
  });
  const vitals = [
    bloodPressure(pid, '2026-01-20T09:00:00+08:00', 152, 94, vc.id),
    bloodPressure(pid, '2026-03-12T09:40:00+08:00', 146, 90, hc.id),
    bloodPressure(pid, '2026-05-20T14:10:00+08:00', 134, 84, vc.id),
    /* Glucose in mg/dL (2339-0) and in mmol/L (15074-8): the chart shows mmol/L. */
    vital(pid, '2339-0', '血糖', '2026-03-12T09:45:00+08:00', 140, 'mg/dL', 'mg/dL', hc.id),
    vital(pid, '15074-8', '血糖', '2026-05-20T14:15:00+08:00', 6.6, 'mmol/L', 'mmol/L', vc.id),
    vital(pid, '29463-7', '体重', '2026-03-12T09:42:00+08:00', 64.5, 'kg', 'kg', hc.id),
    vital(pid, '29463-7', '体重', '2026-05-20T14:12:00+08:00', 63.2, 'kg', 'kg', vc.id),
  ];
  for (const o of vitals) await ok('integrator', 'POST', '/fhir/Observation', o);
  await ok('integrator', 'POST', '/fhir/Immunization', {
    resourceType: 'Immunization', status: 'completed',
    vaccineCode: { coding: [{ system: 'https://rhis.cn/fhir/CodeSystem/vaccine', code: 'HepB', display: '乙肝疫苗' }], text: '乙肝疫苗' },
    patient: ref('Patient', pid), occurrenceDateTime: '2025-10-15T10:00:00+08:00',
    lotNumber: 'B202509-17', protocolApplied: [{ doseNumberPositiveInt: 2 }],
    performer: [{ actor: ref('Organization', hc.id) }],
  });
  seed.docText = '出院小结：患者张某，血压控制平稳，嘱低盐饮食，按时服药。';
  await ok('integrator', 'POST', '/fhir/DocumentReference', {
    resourceType: 'DocumentReference', status: 'current',
    type: { coding: [{ system: LOINC, code: '18842-5', display: '出院小结' }], text: '出院小结' },
    subject: ref('Patient', pid), date: '2026-03-15T10:00:00+08:00',
    custodian: ref('Organization', hc.id),
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', title: '出院小结.txt', data: Buffer.from(seed.docText).toString('base64') } }],
  });
  /* A read by the CDC user, which the access log must show. */
  await ok('cdc', 'GET', `/fhir/Patient/${pid}`, undefined, [200]);
});

after(async () => {
  if (browser) await browser.close();
});

/* ---------- tests ---------- */

test('resident search -> health record -> access log (admin)', async () => {
  const { page, context, errors } = await newPage();
  try {
    await uiLogin(page, 'admin');
    await page.click('#nav [data-nav="residents"]');
    await page.locator('#res-form').waitFor();

    /* A malformed ID number is refused before any request. */
    await page.fill('#res-idnum', '22022119560308');
    await page.click('#res-search');
    await page.locator('#res-form-error').waitFor({ state: 'visible' });

    /* By ID number: exactly this resident; admin sees the number in full. */
    await page.fill('#res-idnum', seed.idnum);
    await page.click('#res-search');
    await page.locator('#res-results[data-state="loaded"] #res-table').waitFor();
    const rows = page.locator('#res-table tbody tr.clickable');
    assert.equal(await rows.count(), 1);
    assert.equal((await rows.first().locator('.patient-name').textContent()).trim(), '张秀兰');
    const server = await ok('admin', 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`${IDSYS}|${seed.idnum}`)}`);
    const shown = server.entry[0].resource.identifier.find((i) => i.system === IDSYS).value;
    assert.equal((await rows.first().locator('.id-cell').textContent()).trim(), shown, 'ID number as the server returned it');

    /* By name and birth date. */
    await page.click('#res-reset');
    await page.fill('#res-name', '张秀兰');
    await page.fill('#res-birthdate', seed.birth);
    await page.click('#res-search');
    await page.locator('#res-results[data-state="loaded"] #res-table').waitFor();
    const byName = page.locator('#res-table tbody tr.clickable', { hasText: '张秀兰' });
    assert.ok(await byName.count() >= 1, 'found by name + birth date');

    /* Record page. */
    await page.locator('#res-table tbody tr.clickable').filter({ has: page.locator('.id-cell', { hasText: seed.idnum }) }).click();
    await page.waitForFunction((id) => location.hash.startsWith('#/record') && location.hash.includes(`id=${id}`), seed.pid);
    await page.locator('#rec-name', { hasText: '张秀兰' }).waitFor();
    assert.match(await page.locator('#rec-title').textContent(), /健康档案/);

    /* Timeline: two encounters, newest first, with institution and complaint. */
    await page.locator('#rec-enc-box[data-state="loaded"]').waitFor();
    const items = page.locator('#rec-timeline .timeline-item');
    assert.equal(await items.count(), 2);
    assert.match(await items.nth(0).textContent(), /2026-05-20/);
    assert.match(await items.nth(0).textContent(), /家庭访视/);
    assert.match(await items.nth(1).textContent(), /门诊/);
    assert.match(await items.nth(1).textContent(), /头晕/);
    await page.locator('#rec-timeline .timeline-inst', { hasText: seed.hc.name }).waitFor();

    /* Diagnoses with ICD-10 codes. */
    await page.locator('#rec-dx-box[data-state="loaded"]').waitFor();
    const dx = await page.locator('#rec-conditions tbody').textContent();
    assert.match(dx, /I10/);
    assert.match(dx, /E11\.9/);

    /* Vitals chart: BP from the panel's components, glucose, weight. */
    const chart = page.locator('#rec-vitals');
    await page.locator('#rec-vitals[data-state="chart"]').waitFor();
    assert.equal(await chart.getAttribute('data-systolic'), '3');
    assert.equal(await chart.getAttribute('data-diastolic'), '3');
    assert.equal(await chart.getAttribute('data-glucose'), '2');
    assert.equal(await chart.getAttribute('data-weight'), '2');
    const series = await page.evaluate(() => {
      const c = window.echarts.getInstanceByDom(document.getElementById('rec-vitals'));
      return c.getOption().series.map((s) => ({ name: s.name, n: s.data.length, first: s.data[0][1], last: s.data[s.data.length - 1][1] }));
    });
    assert.deepEqual(series.map((s) => s.n), [3, 3, 2, 2]);
    assert.equal(series[2].first, 7.8, '140 mg/dL shown as 7.8 mmol/L');
    assert.equal(series[2].last, 6.6);
    assert.equal(series[0].last, 134);
    assert.equal(series[1].last, 84);

    /* Immunizations and documents (attachment downloadable as a data: URL). */
    await page.locator('#rec-imm-box[data-state="loaded"]').waitFor();
    const imm = await page.locator('#rec-immunizations tbody').textContent();
    assert.match(imm, /乙肝疫苗/);
    assert.match(imm, /B202509-17/);
    await page.locator('#rec-doc-box[data-state="loaded"]').waitFor();
    const link = page.locator('#rec-documents .doc-download').first();
    const href = await link.getAttribute('href');
    assert.match(href, /^data:text\/plain/);
    assert.equal(Buffer.from(href.split(',')[1], 'base64').toString('utf8'), seed.docText);
    const download = await Promise.all([page.waitForEvent('download'), link.click()]).then(([d]) => d);
    assert.equal(download.suggestedFilename(), '出院小结.txt');

    /* Access log: the CDC user's read and the admin's own. */
    await page.locator('#rec-log-box[data-state="loaded"]').waitFor();
    const first = (await page.locator('#rec-access-log tbody .log-user').allTextContents()).map((s) => s.trim());
    assert.equal(first[0], 'admin', 'newest first: the admin\'s own reads');
    const users = await logUsers(page, 'cdc');
    assert.ok(users.includes('cdc'), `access log shows cdc: ${users.join(',')}`);
    await page.screenshot({ path: path.join(SHOTS, 'rhis-record.png'), fullPage: true });

    /* English. */
    await page.click('#lang-switch');
    await page.locator('.panel-head h2', { hasText: 'Encounters' }).waitFor();
    await page.locator('#rec-log-box[data-state="loaded"]').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.click('#lang-switch');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('lists mask the ID number and phone for the CDC role', async () => {
  const { page, context, errors } = await newPage();
  try {
    await uiLogin(page, 'cdc');
    await page.click('#nav [data-nav="residents"]');
    await page.fill('#res-name', '张秀兰');
    await page.fill('#res-birthdate', seed.birth);
    await page.click('#res-search');
    await page.locator('#res-results[data-state="loaded"] #res-table').waitFor();
    const ids = (await page.locator('#res-table .id-cell').allTextContents()).map((s) => s.trim());
    const phones = (await page.locator('#res-table .phone-cell').allTextContents()).map((s) => s.trim());
    assert.ok(ids.length >= 1);
    for (const v of ids) assert.ok(!v.includes(seed.idnum) && v.includes('*'), `masked ID number: ${v}`);
    assert.ok(phones.some((v) => v === '138****5678'), `masked phone: ${phones.join(',')}`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a clinician without a treating relation gets 403 and can break the glass', async () => {
  const REASON = '患者昏迷送急诊抢救，需查看既往病史和用药';
  const denied = await call('clinician', 'GET', `/fhir/Patient/${seed.pid}`);
  assert.equal(denied.status, 403, `clinician of another institution reads the record: HTTP ${denied.status}`);
  const { page, context, errors } = await newPage();
  try {
    await uiLogin(page, 'clinician');
    await page.goto(`${BASE}/#/record?area=220221&id=${seed.pid}`);
    await page.locator('#rec-forbidden').waitFor();
    await page.click('#rec-break-glass');
    await page.locator('#bg-dialog').waitFor();
    await page.fill('#bg-reason', '急诊抢救');
    assert.ok(await page.locator('#bg-submit').isDisabled(), 'a reason under 10 characters is refused');
    await page.fill('#bg-reason', REASON);
    assert.ok(!(await page.locator('#bg-submit').isDisabled()));
    await page.click('#bg-submit');
    await page.locator('#rec-name', { hasText: '张秀兰' }).waitFor();
    await page.locator('#rec-glass-banner').waitFor();
    await page.locator('#rec-enc-box[data-state="loaded"]').waitFor();
    assert.equal(await page.locator('#rec-timeline .timeline-item').count(), 2);
    assert.equal(await page.locator('#rec-log-box').count(), 0, 'a clinician sees no access log');
    await page.screenshot({ path: path.join(SHOTS, 'rhis-break-glass.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
  /* The admin's access log flags the break-glass reads. */
  const log = await ok('admin', 'GET', `/api/v1/patients/${seed.pid}/access-log`);
  assert.ok(log.items.some((i) => i.username === 'clinician' && i.break_glass), 'break-glass read in the access log');
  /* The reason arrives as the UTF-8 text typed (the UI sends it as raw bytes). */
  const bg = await ok('admin', 'GET', '/api/v1/break-glass?status=all');
  const mine = bg.items.filter((i) => i.username === 'clinician' && String(i.patient_id) === String(seed.pid));
  assert.ok(mine.length >= 1, 'break-glass rows recorded');
  for (const i of mine) assert.equal(i.reason, REASON);
});

test('a resident lands on their own record and sees who read it', async (t) => {
  if (!process.env.RHIS_BIN || !process.env.RHIS_DB || !process.env.RHIS_PASSWORD_FILE) {
    t.skip('RHIS_BIN, RHIS_DB and RHIS_PASSWORD_FILE not set');
    return;
  }
  const user = `resident${seed.pid}`;
  execFileSync(process.env.RHIS_BIN, ['user', 'add', '--db', process.env.RHIS_DB, '--username', user,
    '--role', 'resident', '--scope', '220221', '--password-file', process.env.RHIS_PASSWORD_FILE,
    '--patient', String(seed.pid)], { stdio: 'pipe' });
  const { page, context, errors } = await newPage();
  try {
    await uiLogin(page, user);
    await page.waitForFunction((id) => location.hash.startsWith('#/record') && location.hash.includes(`id=${id}`), seed.pid);
    await page.locator('#rec-title', { hasText: '我的健康档案' }).waitFor();
    await page.locator('#rec-name', { hasText: '张秀兰' }).waitFor();
    const users = await logUsers(page, 'cdc');
    assert.ok(users.includes('cdc'), `own access log shows cdc: ${users.join(',')}`);
    assert.ok(!users.includes(user), 'the resident\'s own reads are not disclosures');
    await page.screenshot({ path: path.join(SHOTS, 'rhis-my-record.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/* Creates a near-duplicate pair (no ID numbers) and returns its open review. */
async function reviewPair(a, b) {
  const pa = await ok('integrator', 'POST', '/fhir/Patient', patient(a));
  const pb = await ok('integrator', 'POST', '/fhir/Patient', patient(b));
  const q = await ok('admin', 'GET', '/api/v1/mpi/reviews?status=open');
  const ids = [String(pa.id), String(pb.id)].sort();
  const r = (q.items || []).find((x) => [String(x.a.id), String(x.b.id)].sort().join() === ids.join());
  assert.ok(r, `${a.name}/${b.name} (Patient/${pa.id}, Patient/${pb.id}) are not in the review queue`);
  return { review: r, a: pa, b: pb };
}

test('MPI review queue: merge a near-duplicate pair from the UI', async () => {
  const birth = `19${60 + Math.floor(Math.random() * 30)}-07-15`;
  const { review, a, b } = await reviewPair(
    { name: '王丽', family: '王', given: '丽', gender: 'female', birthDate: birth, text: '双河村五组' },
    { name: '王莉', family: '王', given: '莉', gender: 'female', birthDate: birth, text: '双河村五组' });
  const { page, context, errors } = await newPage();
  try {
    await uiLogin(page, 'admin');
    await page.click('#nav [data-nav="mpi"]');
    await page.locator('#mpi-list[data-state="loaded"]').waitFor();
    const card = page.locator(`#mpi-review-${review.id}`);
    await card.waitFor();
    /* Side by side: the names differ (highlighted), the birth dates agree. */
    const nameRow = card.locator('tr[data-field="name"]');
    assert.equal(await nameRow.getAttribute('class'), 'diff');
    assert.match(await nameRow.textContent(), /王丽/);
    assert.match(await nameRow.textContent(), /王莉/);
    assert.equal(await card.locator('tr[data-field="birth"]').getAttribute('class'), 'same');
    assert.ok(await card.locator('.ev-weight').count() >= 3, 'per-field weights shown');
    await page.screenshot({ path: path.join(SHOTS, 'rhis-mpi.png'), fullPage: true });

    /* Merge, B survives. */
    await page.click(`#mpi-merge-${review.id}`);
    await page.locator('#mpi-merge-dialog').waitFor();
    assert.ok(await page.locator('#mpi-merge-confirm').isDisabled(), 'a reason is required');
    await page.check('#mpi-survivor-b');
    await page.fill('#mpi-merge-reason', '电话核实：同一人，姓名录入同音字错误');
    await page.click('#mpi-merge-confirm');
    await page.locator('#mpi-notice').waitFor({ state: 'visible' });
    await page.locator(`#mpi-review-${review.id}`).waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
  /* B survived; A now points to it (a merged record may also answer 404/410). */
  const survivor = String(review.b.id);
  assert.ok([String(a.id), String(b.id)].includes(survivor));
  const m = await call('admin', 'GET', `/fhir/Patient/${review.a.id}`);
  if (m.status === 200) {
    assert.ok((m.json.link || []).some((l) => l.type === 'replaced-by' && l.other.reference.endsWith(`Patient/${survivor}`)),
      `merged record links to its survivor: ${JSON.stringify(m.json.link)}`);
  }
  const open = await ok('admin', 'GET', '/api/v1/mpi/reviews?status=open');
  assert.ok(!(open.items || []).some((x) => String(x.id) === String(review.id)), 'the review is closed');
});

test('MPI review queue: keep a pair separate', async () => {
  const birth = `19${60 + Math.floor(Math.random() * 30)}-11-02`;
  const { review } = await reviewPair(
    { name: '李桂芳', family: '李', given: '桂芳', gender: 'female', birthDate: birth, text: '双河村二组' },
    { name: '李桂方', family: '李', given: '桂方', gender: 'female', birthDate: birth, text: '双河村二组' });
  const { page, context, errors } = await newPage();
  try {
    await uiLogin(page, 'admin');
    await page.goto(`${BASE}/#/mpi?area=220221`);
    await page.locator(`#mpi-review-${review.id}`).waitFor();
    await page.click(`#mpi-separate-${review.id}`);
    await page.fill('#mpi-separate-reason', '核实为两位不同居民（姐妹）');
    await page.click('#mpi-separate-confirm');
    await page.locator(`#mpi-review-${review.id}`).waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
  const a = await ok('admin', 'GET', `/fhir/Patient/${review.a.id}`);
  assert.ok(!(a.link || []).some((l) => l.type === 'replaced-by'), 'kept separate: not merged');
});
