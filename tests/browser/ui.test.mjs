/*
 * ui.test.mjs - browser tests of the web UI against a live `rhis serve`.
 *
 * Run through tests/browser/run.sh, which starts the server and sets RHIS_URL,
 * RHIS_USER and RHIS_PASSWORD. Drives Debian's chromium with playwright-core
 * (no browser download). RHIS_SCREENSHOT_DIR (default: the OS temp dir) receives
 * screenshots for a human to look at; nothing is written into the source tree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const URL = process.env.RHIS_URL || 'http://127.0.0.1:8080';
const USER = process.env.RHIS_USER || 'admin';
const PASSWORD = process.env.RHIS_PASSWORD;
const SHOTS = process.env.RHIS_SCREENSHOT_DIR || os.tmpdir();
const CHROMIUM = process.env.RHIS_CHROMIUM || '/usr/bin/chromium';

let browser;

before(async () => {
  assert.ok(PASSWORD, 'RHIS_PASSWORD must be set');
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

/* A fresh page (own storage: zh-CN, logged out) that fails the test on page errors. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, context, errors };
}

async function login(page, password = PASSWORD) {
  await page.goto(`${URL}/`);
  await page.fill('#login-username', USER);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

test('bad password shows the server message on the login page', async () => {
  const { page, context, errors } = await newPage();
  try {
    await login(page, 'definitely-not-the-password');
    const err = page.locator('#login-error');
    await err.waitFor({ state: 'visible' });
    const text = (await err.textContent()).trim();
    assert.ok(text.length > 0, 'error message is empty');
    assert.equal(await page.locator('#login-form').count(), 1, 'still on the login page');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('rhis.token')), null);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('log in, pick 永吉县, list township health centres', async () => {
  const { page, context, errors } = await newPage();
  try {
    await login(page);
    await page.locator('#nav').waitFor();
    assert.ok(await page.evaluate(() => sessionStorage.getItem('rhis.token')), 'token kept in sessionStorage');
    await page.locator('#user-name', { hasText: USER }).waitFor();

    /* Area search: type 永吉 and choose 永吉县. */
    await page.fill('#area-search', '永吉');
    await page.locator('#area-results button')
      .filter({ has: page.locator('.result-name', { hasText: /^永吉县$/ }) }).first().click();
    await page.locator('#area-breadcrumb .current', { hasText: '永吉县' }).waitFor();
    await page.locator('#current-area', { hasText: '永吉县' }).waitFor();
    await page.waitForFunction(() => location.hash.includes('area=220221'));

    /* Institutions page, tier 乡镇卫生院. */
    await page.click('#nav [data-nav="institutions"]');
    await page.locator('#inst-results[data-state="loaded"][data-area="220221"]').waitFor();
    await page.selectOption('#inst-tier', 'township_hc');
    await page.waitForFunction(() => location.hash.includes('tier=township_hc'));
    await page.locator('#inst-results[data-tier="township_hc"] #inst-table').waitFor();
    /* The table shown is the filtered one (the tier select was rebuilt from the hash). */
    assert.equal(await page.inputValue('#inst-tier'), 'township_hc');

    const rows = page.locator('#inst-table tbody tr.clickable');
    const n = await rows.count();
    assert.ok(n >= 5, `expected at least 5 township health centres, got ${n}`);
    const names = await page.locator('#inst-table tbody tr.clickable .inst-name').allTextContents();
    const tiers = await page.locator('#inst-table tbody tr.clickable .tier-badge').allTextContents();
    for (const name of names) assert.match(name, /卫生院/, `name without 卫生院: ${name}`);
    for (const tier of tiers) assert.equal(tier.trim(), '乡镇卫生院');

    /* Detail panel of the first row. */
    await rows.first().click();
    await page.locator('#inst-detail-fields').waitFor();
    assert.equal((await page.locator('#inst-detail-name').textContent()).trim(), names[0].trim());
    await page.screenshot({ path: path.join(SHOTS, 'rhis-institutions.png') });
    await page.click('#inst-drawer-close');

    /* Reload keeps area and filter (hash), the token keeps the session. */
    await page.reload();
    await page.locator('#inst-results[data-tier="township_hc"][data-area="220221"] #inst-table').waitFor();
    assert.equal(await page.inputValue('#inst-tier'), 'township_hc');
    await page.locator('#current-area', { hasText: '永吉县' }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('language switch to English changes the navigation and <html lang>', async () => {
  const { page, context, errors } = await newPage();
  try {
    await login(page);
    const nav = page.locator('#nav [data-nav="institutions"]');
    await nav.waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.match(await nav.textContent(), /机构/);

    await page.click('#lang-switch');
    await page.locator('#nav [data-nav="institutions"]', { hasText: 'Institutions' }).waitFor();
    assert.match(await page.locator('#nav [data-nav="overview"]').textContent(), /Overview/);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.evaluate(() => localStorage.getItem('rhis.lang')), 'en');
    await page.screenshot({ path: path.join(SHOTS, 'rhis-overview-en.png') });

    /* Remembered across a reload. */
    await page.reload();
    await page.locator('#nav [data-nav="institutions"]', { hasText: 'Institutions' }).waitFor();

    /* Logout returns to the login page and drops the token. */
    await page.click('#logout');
    await page.locator('#login-form').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('rhis.token')), null);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
