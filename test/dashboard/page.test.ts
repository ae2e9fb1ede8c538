import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/dashboard/server.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { executablePath, installed, launch, underCi, watchedPage } from './browser-env.js';
import { FakeOperator } from './fake-operator.js';
import { sampleJournal, sampleStatus } from './sample-migration.js';

// The page in a real Chromium against a fake operator: what it draws, and
// that store text stays text. `DASHBOARD_SCREENSHOT=1` also writes
// docs/dashboard.png (never on an ordinary run).

const root = path.resolve(import.meta.dirname, '../..');
const hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
const token = 'page-test-token-0123456789abcdef';

let dir = '';
let dashboard: Dashboard;
let operator: FakeOperator;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-page-'));
  const now = Date.now();
  const journal = path.join(dir, 'journal.jsonl');
  fs.writeFileSync(journal, sampleJournal(now).map((e) => `${JSON.stringify(e)}\n`).join(''));
  operator = new FakeOperator(sampleStatus(now));
  dashboard = await startDashboard({ operator, port: 0, token, journal });
});
afterAll(async () => {
  await dashboard?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard page in headless Chromium', () => {
  it.runIf(underCi)('has Chromium to run in (CI installs it)', () => {
    expect(installed, `${executablePath} is missing: scripts/chromium-install.sh installs it`).toBe(true);
  });

  it.runIf(installed)('draws the status, the charts, the fingerprints and the journal, with no request elsewhere and no console error', async () => {
    const browser = await launch();
    try {
      const { page, problems, requests } = await watchedPage(browser);
      await page.goto(`${dashboard.url}?token=${token}`);
      expect(page.url()).toBe(dashboard.url);
      await page.locator('#live.on').waitFor({ timeout: 15_000 });
      expect(await page.locator('#phase').textContent()).toBe('canary');
      expect(await page.locator('#percentage').textContent()).toBe('25 %');
      expect(await page.locator('#approval').textContent()).toContain('Waiting for approval: 50 %');
      expect(await page.locator('#approve').isEnabled()).toBe(true);
      expect(await page.locator('#fingerprints tr').count()).toBe(3);
      expect(await page.locator('#fingerprints tr').first().textContent()).toContain('a41f09c2');
      const journalEntries = sampleJournal(Date.now()).filter((e) => e.kind !== 'metrics').length;
      expect(await page.locator('#journal li').count()).toBe(journalEntries);
      expect(await page.locator('svg#chart-percentage [data-kind="rollback"]').count()).toBe(1);
      expect(await page.locator('svg#chart-percentage [data-kind="step"]').count()).toBeGreaterThanOrEqual(8);
      expect(await page.locator('svg#chart-error-rate path[data-series="new"]').count()).toBe(1);
      expect(await page.locator('svg#chart-p95 path[data-series="old"]').count()).toBe(1);
      if (process.env.DASHBOARD_SCREENSHOT === '1') {
        await page.setViewportSize({ width: 1280, height: 1330 });
        await page.screenshot({ path: path.join(root, 'docs/dashboard.png'), fullPage: false });
      }
      expect(problems).toEqual([]);
      expect(requests.every((url) => url.startsWith(dashboard.url))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it.runIf(installed)('shows a hostile reason as text: no script runs, no element is made from it', async () => {
    const browser = await launch();
    try {
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${dashboard.url}?token=${token}`);
      await page.locator('#live.on').waitFor({ timeout: 15_000 });
      await operator.rollback(hostile, hostile);
      await page.locator('body[data-phase="rolled-back"]').waitFor({ timeout: 15_000 });
      expect(await page.locator('#last-rollback').textContent()).toContain(hostile);
      expect(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned)).toBeUndefined();
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('script').count()).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
