/*
 * plan.test.mjs - browser tests of the planner dashboard (issue 6 item 8): plan →
 * indicator → township drill-down, entering a survey value with its source and
 * person, the resource page and the plan check.
 *
 * Run through tests/browser/run.sh (admin with RHIS_PASSWORD). Seeds: 永吉县's
 * population table (rhis import-population through RHIS_BIN/RHIS_DB), so the
 * 65+ health-management rate and the per-1000 resources have denominators per
 * township; the institutions come from run.sh's import.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.RHIS_URL || 'http://127.0.0.1:8080';
const PASSWORD = process.env.RHIS_PASSWORD;
const CHROMIUM = process.env.RHIS_CHROMIUM || '/usr/bin/chromium';
const PLAN = '220221:2025';
const ELDER_ROW = 43; /* 65岁及以上常住老年人城乡社区规范健康管理服务率 */
const LITERACY_ROW = 7; /* 居民健康素养水平: entered (survey) */

let browser;

before(async () => {
  assert.ok(PASSWORD, 'RHIS_PASSWORD must be set');
  /* the 2020 census-based table, also as 2025's denominators */
  const csv = fs.readFileSync('data/population-220221.csv', 'utf8');
  const y2025 = path.join(os.tmpdir(), `rhis-plan-pop-${process.pid}.csv`);
  fs.writeFileSync(y2025, csv.replace(/^(\d+),2020,/gm, '$1,2025,'));
  for (const f of ['data/population-220221.csv', y2025]) {
    execFileSync(process.env.RHIS_BIN, ['import-population', '--db', process.env.RHIS_DB, f], { stdio: 'pipe' });
  }
  fs.unlinkSync(y2025);
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
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/`);
  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#nav').waitFor();
  return { page, context, errors };
}

test('plan → indicator → township drill-down', async () => {
  const { page, context, errors } = await newPage();
  try {
    await page.goto(`${BASE}/#/plan?area=220221&plan=${encodeURIComponent(PLAN)}&year=2025`);
    await page.locator('#pl-table').waitFor();
    assert.match(await page.locator('h1').textContent(), /永吉县卫生健康“十四五”规划/);
    assert.match(await page.locator('#pl-eval').textContent(), /2025 · 末期评估/);
    /* binding rows first, with their badge; every row has a status colour */
    const first = page.locator('#pl-table tbody tr.clickable').first();
    assert.match(await first.textContent(), /约束性/);
    const statuses = await page.locator('#pl-table .pl-badge').evaluateAll((b) => b.map((x) => x.dataset.status));
    assert.ok(statuses.length >= 40, `${statuses.length} rows`);
    for (const s of statuses) assert.match(s, /^(met|on_track|at_risk|off_track|no_data)$/);
    const cards = Number(await page.locator('#pl-card-no_data .stat-value').textContent());
    assert.equal(cards, statuses.filter((s) => s === 'no_data').length);

    /* the indicator: its townships */
    await page.click(`#pl-table tr[data-row="${ELDER_ROW}"]`);
    await page.locator('#pl-drill-table').waitFor();
    const towns = page.locator('#pl-drill-table tbody tr.clickable');
    assert.equal(await towns.count(), 9);
    assert.match(await towns.first().textContent(), /口前镇/);
    assert.match(page.url(), new RegExp(`row=${ELDER_ROW}`));
    /* population loaded: a value (0 checks so far), not "—" */
    assert.match(await towns.first().locator('td.num').textContent(), /^\d/);

    /* a township: its villages */
    await towns.first().click();
    await page.waitForFunction(() => location.hash.includes('drill=220221100'));
    await page.locator('#pl-drill-up').waitFor();
    assert.ok(await page.locator('#pl-drill-table tbody tr').count() >= 1);
    await page.click('#pl-drill-up');
    await page.waitForFunction(() => location.hash.includes('drill=220221') && !location.hash.includes('drill=220221100'));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an entered indicator: value, source and person', async () => {
  const { page, context, errors } = await newPage();
  try {
    await page.goto(`${BASE}/#/plan?area=220221&plan=${encodeURIComponent(PLAN)}&year=2025&row=${LITERACY_ROW}`);
    await page.locator('#pl-entry').waitFor();
    await page.fill('#pl-entry-value', '25.6');
    await page.fill('#pl-entry-source', '2025年居民健康素养监测');
    await page.fill('#pl-entry-person', '县疾控中心 张敏');
    await page.click('#pl-entry-save');
    const row = page.locator(`#pl-table tr[data-row="${LITERACY_ROW}"]`);
    await page.waitForFunction((r) => {
      const tr = document.querySelector(`#pl-table tr[data-row="${r}"]`);
      return tr && /25\.6/.test(tr.textContent);
    }, LITERACY_ROW);
    assert.equal(await row.locator('.pl-badge').getAttribute('data-status'), 'met');
    assert.match(await row.textContent(), /填报/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('resources, grid and plan check', async () => {
  const { page, context, errors } = await newPage();
  try {
    await page.goto(`${BASE}/#/plan?area=220881&plan=${encodeURIComponent('220881:2025')}&year=2025&tab=resources`);
    await page.locator('#pl-res-table').waitFor();
    /* Taonan's 2025 allocation targets head the table */
    const target = await page.locator('#pl-res-table tbody tr').first().textContent();
    assert.match(target, /规划目标/);
    assert.match(target, /3\.54/);
    assert.match(target, /4\.33/);

    await page.goto(`${BASE}/#/plan?area=220221&plan=${encodeURIComponent(PLAN)}&year=2025&tab=grid&row=${ELDER_ROW}`);
    await page.locator('#pl-grid .pl-tile').first().waitFor();
    assert.equal(await page.locator('#pl-grid .pl-tile').count(), 9);

    await page.goto(`${BASE}/#/plan?area=220221&plan=${encodeURIComponent(PLAN)}&year=2025&tab=lint`);
    await page.locator('#pl-lint-table').waitFor();
    const text = await page.locator('#pl-lint-table').textContent();
    assert.match(text, /基线与正文矛盾/);
    assert.match(text, /3\.13/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
