/*
 * surveil.test.mjs - browser tests of the surveillance console: the signal list with
 * its deadline countdowns, the signal page with its chart, and the two answers a CDC
 * duty officer gives most: verify and dismiss (with a reason).
 *
 * Run through tests/browser/run.sh (server, users admin/integrator/cdc with one
 * password). Seeds through the API: school-absence counts with a rise on one day in
 * two townships of 永吉县 (integrator), and antipyretic sales rising with the
 * absences in the first, then that day's detection run (admin), which makes one
 * channel signal per township and series and a fused (多点触发) signal in the first.
 * Push policy (warn_push confirmed, the default): the fused signal is pushed (the
 * main list, a countdown); the single-channel signals are evidence (the evidence
 * list, no deadline).
 *
 * Report cards (the last tests): three people each reported twice for one disease by
 * two institutions (admin, through the API) make three open duplicate pairs; in the
 * console cdc merges the first (keeping the later card), marks the second as not
 * duplicates (the note is required), and sees a clear 409 on the third, merged through
 * the API behind the page's back. A fourth card is rejected from the audit queue.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.RHIS_URL || 'http://127.0.0.1:8080';
const PASSWORD = process.env.RHIS_PASSWORD;
const SHOTS = process.env.RHIS_SCREENSHOT_DIR || os.tmpdir();
const CHROMIUM = process.env.RHIS_CHROMIUM || '/usr/bin/chromium';
/* yesterday: inside the console's default periods (grid: 30 days) */
const DAY = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
const TOWNSHIPS = { verify: '220221101', dismiss: '220221102' }; /* 双河镇, 西阳镇 */

let browser;
const tokens = {};
const seed = {};

async function login(user) {
  const res = await fetch(`${BASE}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: PASSWORD }),
  });
  assert.equal(res.status, 200, `login ${user}: HTTP ${res.status}`);
  tokens[user] = (await res.json()).token;
}

async function call(user, method, p, body) {
  const res = await fetch(`${BASE}${p}`, {
    method,
    headers: {
      Accept: 'application/json',
      Authorization: `Bearer ${tokens[user]}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

async function ok(user, method, p, body) {
  const res = await fetch(`${BASE}${p}`, {
    method,
    headers: {
      Accept: 'application/json',
      Authorization: `Bearer ${tokens[user]}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${user} ${method} ${p}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/* Ten days of school absences ending DAY: flat, then a jump on DAY. */
function absences(township, category, jump) {
  const counts = [];
  for (let i = 9; i >= 0; i--) {
    const d = new Date(Date.parse(`${DAY}T00:00:00Z`) - i * 86400000).toISOString().slice(0, 10);
    counts.push({
      channel: 'school_absence', area_code: township, site: '中心小学', day: d, category,
      count: i === 0 ? jump : 2 + (i % 2),
    });
  }
  return { counts };
}

/* Ten days of antipyretic sales at one pharmacy ending DAY: flat, then a jump. */
function sales(township, jump) {
  const counts = [];
  for (let i = 9; i >= 0; i--) {
    const d = new Date(Date.parse(`${DAY}T00:00:00Z`) - i * 86400000).toISOString().slice(0, 10);
    counts.push({
      channel: 'pharmacy', area_code: township, site: '仁和大药房', day: d, category: 'antipyretic',
      count: i === 0 ? jump : 6 + (i % 3),
    });
  }
  return { counts };
}

before(async () => {
  assert.ok(PASSWORD, 'RHIS_PASSWORD must be set');
  for (const u of ['admin', 'integrator', 'cdc']) await login(u);
  await ok('integrator', 'POST', '/api/v1/channel-counts', absences(TOWNSHIPS.verify, 'respiratory', 25));
  await ok('integrator', 'POST', '/api/v1/channel-counts', absences(TOWNSHIPS.dismiss, 'gi', 18));
  await ok('integrator', 'POST', '/api/v1/channel-counts', sales(TOWNSHIPS.verify, 40));
  const run = await ok('admin', 'POST', '/api/v1/warn/runs', { date: DAY });
  assert.ok(run.newSignals >= 4, `detection made ${run.newSignals} signals`);
  const list = await ok('cdc', 'GET', `/api/v1/signals?since=${DAY}&until=${DAY}&state=all`);
  for (const [k, code] of Object.entries(TOWNSHIPS)) {
    const s = list.items.find((i) => i.area === code && i.subject.startsWith('school_absence:'));
    assert.ok(s, `no signal for ${code}`);
    assert.equal(s.pushed, false, `a single channel's signal is evidence (${code})`);
    assert.equal(s.deadline, null);
    seed[k] = s;
  }
  seed.fused = list.items.find((i) => i.area === TOWNSHIPS.verify && i.kind === 'fused');
  assert.ok(seed.fused, 'no fused signal');
  assert.equal(seed.fused.pushed, true);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, context, errors };
}

async function loginUi(page, user) {
  await page.goto(`${BASE}/`);
  await page.fill('#login-username', user);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#nav').waitFor();
}

test('signal list: pushed first with countdowns, evidence apart, township grid', async () => {
  const { page, context, errors } = await newPage();
  try {
    await loginUi(page, 'cdc');
    await page.click('#nav [data-nav="surveillance"]');
    await page.locator('#sv-list[data-state="loaded"]').waitFor();
    /* the main list: the pushed (fused) signal with its countdown, no evidence */
    const fusedRow = page.locator(`#sv-table tr[data-signal="${seed.fused.id}"]`);
    await fusedRow.waitFor();
    assert.equal((await fusedRow.locator('.state-badge').textContent()).trim(), '待响应');
    assert.match(await fusedRow.locator('.due').textContent(), /^剩余 \d+小时\d+分$/);
    for (const k of ['verify', 'dismiss'])
      assert.equal(await page.locator(`#sv-table tr[data-signal="${seed[k].id}"]`).count(), 0, `${k}: evidence in the main list`);
    /* the evidence list: the single-channel signals, without a deadline */
    await page.selectOption('#sv-pushed', '0');
    for (const k of ['verify', 'dismiss']) {
      const row = page.locator(`#sv-table tr[data-signal="${seed[k].id}"]`);
      await row.waitFor();
      assert.equal((await row.locator('.sev-badge').textContent()).trim(), '蓝色');
      assert.equal((await row.locator('.state-badge').textContent()).trim(), '待响应');
      assert.equal((await row.locator('.due').textContent()).trim(), '证据，无需响应');
      assert.match(await row.textContent(), /因病缺课/);
    }
    assert.equal(await page.locator(`#sv-table tr[data-signal="${seed.fused.id}"]`).count(), 0);
    /* rows are ordered by severity: no red after a blue */
    const sevs = await page.locator('#sv-table tbody tr.clickable').evaluateAll((rs) => rs.map((r) => r.dataset.severity));
    const rank = { red: 0, orange: 1, yellow: 2, blue: 3 };
    for (let i = 1; i < sevs.length; i++) assert.ok(rank[sevs[i - 1]] <= rank[sevs[i]], `order ${sevs.join(',')}`);

    await page.click('#sv-tab-grid');
    await page.locator(`#grid-${TOWNSHIPS.verify}`).waitFor();
    assert.ok(Number(await page.getAttribute(`#grid-${TOWNSHIPS.verify}`, 'data-signals')) >= 1);
    await page.screenshot({ path: path.join(SHOTS, 'rhis-surveillance-grid.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('verify a signal: chart, dialog, state and history', async () => {
  const { page, context, errors } = await newPage();
  try {
    await loginUi(page, 'cdc');
    await page.goto(`${BASE}/#/surveillance?area=220221&pushed=0`);
    await page.locator(`#sv-table tr[data-signal="${seed.verify.id}"]`).click();
    await page.locator(`#page-signal[data-signal="${seed.verify.id}"]`).waitFor();
    assert.match(await page.locator('#sig-title').textContent(), /因病缺课 · 呼吸道/);
    /* the series with its threshold is drawn (ECharts canvas) */
    await page.locator('#sig-chart canvas').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'rhis-signal.png') });

    await page.click('#sig-verify');
    await page.locator('#sig-verify-dialog').waitFor();
    await page.fill('#sig-verify-dialog-text', '已电话核实：双河镇中心小学呼吸道症状缺课');
    await page.click('#sig-verify-dialog-confirm');
    await page.locator('#sig-verify-dialog').waitFor({ state: 'detached' });
    await page.locator('#page-signal[data-state="verified"]').waitFor();
    assert.equal((await page.locator('#sig-notice').textContent()).trim(), '信号已核实');
    assert.equal((await page.locator('.sig-status .state-badge').textContent()).trim(), '已核实');
    assert.match(await page.locator('#sig-history [data-action="verify"]').textContent(), /cdc.*已电话核实/s);
    /* a verified signal cannot be verified again, but may still be dismissed */
    assert.equal(await page.locator('#sig-verify').count(), 0);
    assert.equal(await page.locator('#sig-dismiss').count(), 1);

    const s = await ok('cdc', 'GET', `/api/v1/signals/${seed.verify.id}`);
    assert.equal(s.state, 'verified');
    assert.ok(s.responded, 'response time recorded');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('dismiss a signal: the reason is required and kept', async () => {
  const { page, context, errors } = await newPage();
  try {
    await loginUi(page, 'cdc');
    await page.goto(`${BASE}/#/signal?area=220221&id=${seed.dismiss.id}`);
    await page.locator(`#page-signal[data-state="new"]`).waitFor();
    await page.click('#sig-dismiss');
    await page.locator('#sig-dismiss-dialog').waitFor();
    assert.ok(await page.isDisabled('#sig-dismiss-dialog-confirm'), 'no reason: confirm disabled');
    await page.fill('#sig-dismiss-dialog-text', '   ');
    assert.ok(await page.isDisabled('#sig-dismiss-dialog-confirm'), 'blank reason: confirm disabled');
    await page.fill('#sig-dismiss-dialog-text', '学校组织春游，缺课登记口径有误');
    await page.click('#sig-dismiss-dialog-confirm');
    await page.locator('#page-signal[data-state="dismissed"]').waitFor();
    assert.equal((await page.locator('#sig-notice').textContent()).trim(), '信号已排除');
    assert.match(await page.locator('#sig-history [data-action="dismiss"]').textContent(), /学校组织春游/);
    assert.equal(await page.locator('#sig-actions').count(), 0, 'no actions on a dismissed signal');
    await page.locator('#sig-readonly').waitFor();

    /* the evidence list: gone from the open signals, found under 已排除 */
    await page.click('#sig-back');
    await page.locator('#sv-list[data-state="loaded"]').waitFor();
    await page.selectOption('#sv-pushed', '0');
    await page.locator(`#sv-table tr[data-signal="${seed.verify.id}"]`).waitFor();
    assert.equal(await page.locator(`#sv-table tr[data-signal="${seed.dismiss.id}"]`).count(), 0);
    await page.selectOption('#sv-state', 'dismissed');
    await page.locator(`#sv-table tr[data-signal="${seed.dismiss.id}"][data-state="dismissed"]`).waitFor();

    const s = await ok('cdc', 'GET', `/api/v1/signals/${seed.dismiss.id}`);
    assert.equal(s.state, 'dismissed');
    assert.equal(s.events.find((e) => e.action === 'dismiss').note, '学校组织春游，缺课登记口径有误');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the console in English', async () => {
  const { page, context, errors } = await newPage();
  try {
    await loginUi(page, 'cdc');
    await page.click('#lang-switch');
    await page.goto(`${BASE}/#/surveillance?area=220221&state=all&pushed=all`);
    await page.locator('#sv-list[data-state="loaded"]').waitFor();
    assert.match(await page.locator('#sv-tab-signals').textContent(), /Signals/);
    assert.match(await page.locator(`#sv-table tr[data-signal="${seed.verify.id}"]`).textContent(), /School absence/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/* ---------- report cards: duplicate review and audit ---------- */

/* An 18-digit resident ID number with its GB 11643 check character. */
function idNumber(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, ch, i) => acc + Number(ch) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

function daysAgo(n, hour) {
  const d = new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);
  return `${d}T${String(hour).padStart(2, '0')}:00:00+08:00`;
}

async function created(user, p, body) {
  const r = await call(user, 'POST', p, body);
  assert.equal(r.status, 201, `${user} POST ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r.json();
}

const cards = {};

/* A patient (integrator) and two cards of one disease from two institutions (admin). */
/* A resident born 1990-01-01; seq: three digits, even (female). */
async function patient(seq, name) {
  const idn = idNumber(`22022119900101${seq}`);
  const pat = await created('integrator', '/fhir/Patient', {
    resourceType: 'Patient', name: [{ text: name }], gender: 'female', birthDate: '1990-01-01',
    identifier: [{ system: 'urn:oid:2.16.156.10011.1.3', value: idn }],
  });
  return { idn, pat };
}

async function duplicatePair(key, seq, name, disease, inst) {
  const { idn, pat } = await patient(seq, name);
  const card = (i, days, classification) => created('admin', '/api/v1/report-cards', {
    patient_id: Number(pat.id), area_code: '220221100006', occupation: 'farmer', classification, disease,
    onset: daysAgo(days + 2, 8).slice(0, 10), diagnosis: daysAgo(days, 9), institution_id: inst[i].id,
    doctor: i ? '赵医生' : '李医生', report_time: daysAgo(days, 11),
  });
  const a = await card(0, 6, 'clinical');
  const b = await card(1, 3, 'confirmed');
  assert.equal(b.duplicate_of, a.id, `${key}: the second card is flagged as a duplicate`);
  cards[key] = { a, b, idn, pid: Number(pat.id) };
}

test('duplicate cards: side by side, merge one pair, keep another apart, 409 on a stale pair', async () => {
  const insts = await ok('admin', 'GET', '/api/v1/institutions?area=220221&_count=50');
  const inst = insts.items.filter((i) => i.code === 'H220221001' || i.code === 'H220221002');
  assert.equal(inst.length, 2, 'two county hospitals');
  await duplicatePair('merge', '112', '孙丽华', 'hepatitis_e', inst);
  await duplicatePair('apart', '224', '钱美玲', 'dysentery', inst);
  await duplicatePair('stale', '306', '周晓燕', 'hepatitis_e', inst);

  const { page, context, errors } = await newPage();
  try {
    await loginUi(page, 'cdc');
    await page.goto(`${BASE}/#/surveillance?area=220221&tab=dups`);
    await page.locator('#sv-dups[data-state="loaded"]').waitFor();
    const pair = (k) => page.locator(`.dup-pair[data-a="${cards[k].a.id}"][data-b="${cards[k].b.id}"]`);
    for (const k of ['merge', 'apart', 'stale']) await pair(k).waitFor();

    /* both cards side by side: masked ID number, dates, institution, classification */
    const m = pair('merge');
    const masked = `${cards.merge.idn.slice(0, 6)}********${cards.merge.idn.slice(-4)}`;
    const field = (c, f) => m.locator(`.dup-card[data-card="${cards.merge[c].id}"] dd[data-field="${f}"]`);
    for (const c of ['a', 'b']) {
      assert.equal((await field(c, 'id_number').textContent()).trim(), masked);
      assert.equal((await field(c, 'disease').textContent()).trim(), '戊型肝炎');
    }
    assert.equal(await m.textContent().then((x) => x.includes(cards.merge.idn)), false, 'the full ID number is not shown');
    assert.equal((await field('a', 'institution').textContent()).trim(), '永吉县人民医院');
    assert.equal((await field('b', 'institution').textContent()).trim(), '永吉县中医院');
    assert.equal((await field('a', 'classification').textContent()).trim(), '临床诊断病例');
    assert.equal((await field('b', 'classification').textContent()).trim(), '确诊病例');
    assert.equal((await field('a', 'onset').textContent()).trim(), cards.merge.a.onset.slice(0, 10));
    assert.ok(await field('b', 'institution').evaluate((e) => e.classList.contains('dup-diff')), 'differences are marked');
    assert.ok(!(await field('b', 'disease').evaluate((e) => e.classList.contains('dup-diff'))));
    /* the first reported card is kept by default */
    assert.ok(await page.isChecked(`#sv-dup-${await m.getAttribute('data-pair')}-keep-${cards.merge.a.id}`));
    await page.screenshot({ path: path.join(SHOTS, 'rhis-surveillance-dups.png'), fullPage: true });

    /* merge, keeping the later (confirmed) card */
    const mid = await m.getAttribute('data-pair');
    await page.check(`#sv-dup-${mid}-keep-${cards.merge.b.id}`);
    await page.fill(`#sv-dup-${mid}-note`, '中医院确诊，与人民医院为同一病例');
    await page.click(`#sv-dup-${mid}-merge`);
    await page.locator('#sv-dups-notice').filter({ hasText: `报告卡 ${cards.merge.a.id} 已并入报告卡 ${cards.merge.b.id}` }).waitFor();
    await page.locator('#sv-dups[data-state="loaded"]').waitFor();
    await pair('merge').waitFor({ state: 'detached' });
    const gone = await ok('cdc', 'GET', `/api/v1/report-cards/${cards.merge.a.id}`);
    assert.equal(gone.status, 'merged');
    assert.equal(gone.merged_into, cards.merge.b.id);
    assert.equal((await ok('cdc', 'GET', `/api/v1/report-cards/${cards.merge.b.id}`)).status, 'pending');
    const merged = await ok('cdc', 'GET', '/api/v1/report-cards/duplicates?status=merged');
    assert.equal(merged.items.find((d) => d.card_a === cards.merge.a.id).note, '中医院确诊，与人民医院为同一病例');

    /* not duplicates: the note is required */
    const aid = await pair('apart').getAttribute('data-pair');
    assert.ok(await page.isDisabled(`#sv-dup-${aid}-separate`), 'no note: disabled');
    await page.fill(`#sv-dup-${aid}-note`, '   ');
    assert.ok(await page.isDisabled(`#sv-dup-${aid}-separate`), 'blank note: disabled');
    await page.fill(`#sv-dup-${aid}-note`, '两次发病，间隔两周以上，分别报告');
    await page.click(`#sv-dup-${aid}-separate`);
    await page.locator('#sv-dups-notice').filter({ hasText: `报告卡 ${cards.apart.a.id} 与 ${cards.apart.b.id} 已标记为非重复` }).waitFor();
    await pair('apart').waitFor({ state: 'detached' });
    const apart = await ok('cdc', 'GET', '/api/v1/report-cards/duplicates?status=separate');
    const sep = apart.items.find((d) => d.card_a === cards.apart.a.id);
    assert.ok(sep, 'the pair is kept apart');
    assert.equal(sep.card_b, cards.apart.b.id);
    assert.equal(sep.note, '两次发病，间隔两周以上，分别报告');
    for (const c of ['a', 'b'])
      assert.equal((await ok('cdc', 'GET', `/api/v1/report-cards/${cards.apart[c].id}`)).status, 'pending', 'both cards stay');

    /* the pair changes behind the page: a clear 409, the pair stays until reloaded */
    const sid = await pair('stale').getAttribute('data-pair');
    await ok('cdc', 'POST', `/api/v1/report-cards/${cards.stale.b.id}/merge`, { into: cards.stale.a.id, note: '他人已处理' });
    await page.fill(`#sv-dup-${sid}-note`, '不同病例');
    await page.click(`#sv-dup-${sid}-separate`);
    const err = page.locator(`#sv-dup-${sid}-error`);
    await err.waitFor();
    assert.match(await err.textContent(), /已被他人处理或已变更.*not an open duplicate pair/);
    assert.equal(await pair('stale').getAttribute('data-state'), 'error');
    await page.click(`#sv-dup-${sid}-reload`);
    await pair('stale').waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('audit queue: reject a card with a required note', async () => {
  const insts = await ok('admin', 'GET', '/api/v1/institutions?area=220221&_count=50');
  const inst = insts.items.find((i) => i.code === 'H220221001');
  const { idn } = await patient('408', '郑秀英');
  const card = await created('admin', '/api/v1/report-cards', {
    id_number: idn, area_code: '220221100006', occupation: 'farmer',
    classification: 'suspected', disease: 'dysentery', onset: daysAgo(2, 8).slice(0, 10),
    diagnosis: daysAgo(1, 9), institution_id: inst.id, doctor: '李医生', report_time: daysAgo(1, 10),
  });
  const { page, context, errors } = await newPage();
  try {
    await loginUi(page, 'cdc');
    await page.goto(`${BASE}/#/surveillance?area=220221&tab=cards`);
    await page.locator('#sv-cards[data-state="loaded"]').waitFor();
    await page.locator(`#sv-cards-table tr[data-card="${card.id}"]`).waitFor();
    await page.click(`#sv-card-reject-${card.id}`);
    await page.locator('#sv-reject-dialog').waitFor();
    assert.ok(await page.isDisabled('#sv-reject-dialog-confirm'), 'no note: confirm disabled');
    await page.fill('#sv-reject-dialog-text', '  ');
    assert.ok(await page.isDisabled('#sv-reject-dialog-confirm'), 'blank note: confirm disabled');
    await page.fill('#sv-reject-dialog-text', '发病日期待核实，请订正');
    await page.click('#sv-reject-dialog-confirm');
    await page.locator('#sv-reject-dialog').waitFor({ state: 'detached' });
    assert.equal((await page.locator('#sv-cards-notice').textContent()).trim(), `报告卡 ${card.id} 审核不通过，已退回订正`);
    await page.locator(`#sv-cards-table tr[data-card="${card.id}"]`).waitFor({ state: 'detached' });
    const c = await ok('cdc', 'GET', `/api/v1/report-cards/${card.id}`);
    assert.equal(c.status, 'rejected');
    assert.equal(c.audit_note, '发病日期待核实，请订正');
    /* the decision is final: a second one is refused */
    assert.equal((await call('cdc', 'POST', `/api/v1/report-cards/${card.id}/audit`, { decision: 'audited' })).status, 409);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
