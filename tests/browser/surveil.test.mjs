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
