import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/cli/operator.js';
import { openOperator } from '../../src/cli/operator.js';
import { FileConfigStore } from '../../src/config/file-config-store.js';
import { phases } from '../../src/config/phases.js';
import type { Dashboard } from '../../src/dashboard/server.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { executablePath, installed, launch, underCi, watchedPage } from './browser-env.js';

// The dashboard in a real Chromium, steering a real FileConfigStore opened
// with openOperator: the buttons change the store, and a change made by
// another process or another store instance reaches the page.

const root = path.resolve(import.meta.dirname, '../..');
const hostile = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
const token = 'browser-test-token-0123456789abcdef';
const day = 86_400_000;
const wait = { timeout: 20_000 };

let browser: Browser | undefined;
let dir = '';
let file = '';
let operator: Operator;
let dashboard: Dashboard;

/** What another process would see in the file now. */
function stored() {
  const reader = new FileConfigStore({ path: file, watch: false });
  try {
    return { config: reader.current(), ramp: reader.rampState(), rolledBack: reader.rolledBack() };
  } finally {
    reader.close();
  }
}

beforeAll(async () => {
  if (installed) browser = await launch();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-browser-'));
  file = path.join(dir, 'migration.json');
  const seed = new FileConfigStore({ path: file, initial: phases.canary(5), watch: false });
  const now = Date.now();
  await seed.updateRamp((ramp) => ({
    ramp: {
      ...ramp,
      plan: [1, 5, 10, 25, 50, 90, 100].map((percentage) => ({ percentage, holdMs: day })),
      step: 1,
      since: now - day,
      nextAt: now,
      blockedBy: 'approval',
      pendingApproval: { step: 2, percentage: 10, requestedAt: now },
    },
  }));
  seed.close();
  operator = await openOperator(`file:${file}`, { by: 'dashboard test' });
  dashboard = await startDashboard({ operator, port: 0, token });
});
afterEach(async () => {
  await dashboard?.close();
  await operator?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard in headless Chromium, on a FileConfigStore', () => {
  it.runIf(underCi)('has Chromium to run in (CI installs it)', () => {
    expect(installed, `${executablePath} is missing: scripts/chromium-install.sh installs it`).toBe(true);
  });

  it.runIf(installed)('approves the pending step and rolls back through the buttons; the store holds both', async () => {
    const { page, problems, requests } = await watchedPage(browser as Browser);
    await page.goto(`${dashboard.url}?token=${token}`);
    expect(page.url()).toBe(dashboard.url);
    await page.locator('#live.on').waitFor(wait);
    expect(await page.locator('#phase').textContent()).toBe('canary');
    expect(await page.locator('#percentage').textContent()).toBe('5 %');
    expect(await page.locator('#step').textContent()).toBe('2 of 7 (next: 10 %)');

    await page.locator('#by').fill('release owner');
    await page.locator('#approve-comment').fill('error rate flat for a day');
    await page.locator('#approve').click();
    await page.locator('#approval .approved').waitFor(wait);
    expect(await page.locator('#approve').isDisabled()).toBe(true);
    const approvals = stored().ramp.approvals;
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ percentage: 10, by: 'release owner', comment: 'error rate flat for a day' });

    await page.locator('#rollback').click();
    await page.locator('#rollback-reason').fill(hostile);
    await page.locator('#rollback-confirm').click();
    await page.locator('body[data-phase="rolled-back"]').waitFor(wait);
    await page.locator('#message', { hasText: 'Rolled back; stored in' }).waitFor(wait);
    const after = stored();
    expect(after.config).toEqual(phases.rolledBack());
    expect(after.rolledBack).toBe(true);
    expect(after.ramp.lastRollback).toMatchObject({ reason: hostile, by: 'release owner', percentage: 5 });
    expect(await page.locator('#last-rollback').textContent()).toContain(hostile);
    expect(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(problems).toEqual([]);
    expect(requests.every((url) => url.startsWith(dashboard.url))).toBe(true);
  }, 60_000);

  it.runIf(installed)('follows a change made by another process and by another store instance', async () => {
    const { page, problems } = await watchedPage(browser as Browser);
    await page.goto(`${dashboard.url}?token=${token}`);
    await page.locator('#live.on').waitFor(wait);
    await page.locator('#percentage', { hasText: '5 %' }).waitFor(wait);

    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'test/dashboard/save-child.ts'), file, JSON.stringify(phases.canary(25))], {
      cwd: root,
      timeout: 30_000,
    });
    expect(stdout).toBe('saved\n');
    await page.locator('#percentage', { hasText: '25 %' }).waitFor(wait);

    const other = new FileConfigStore({ path: file, watch: false });
    try {
      await other.save(phases.full());
    } finally {
      other.close();
    }
    await page.locator('body[data-phase="full"]').waitFor(wait);
    expect(await page.locator('#percentage').textContent()).toBe('100 %');
    expect(problems).toEqual([]);
  }, 60_000);

  it.runIf(installed)('refuses a request without the token, and a page request without its CSRF token, changing nothing', async () => {
    const before = fs.readFileSync(file, 'utf8');
    const stranger = await watchedPage(browser as Browser);
    const answer = await stranger.page.goto(dashboard.url);
    expect(answer?.status()).toBe(401);
    expect(await stranger.page.content()).not.toContain('canary');
    const post = (csrf: boolean) =>
      stranger.page.evaluate(async (withCsrf) => {
        // A stranger has no page and so no CSRF token: a guessed one changes nothing either.
        const res = await fetch('/api/rollback', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(withCsrf ? { 'x-migration-glue-csrf': 'a-guessed-csrf-token' } : {}) },
          body: JSON.stringify({ reason: 'not allowed' }),
        });
        return res.status;
      }, csrf);
    expect(await post(false)).toBe(401);
    const wrong = await stranger.page.goto(`${dashboard.url}?token=not-the-token`);
    expect(wrong?.status()).toBe(401);
    expect(await post(true)).toBe(401);
    expect((await fetch(new URL('/api/rollback', dashboard.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reason":"x"}' })).status).toBe(401);

    const owner = await watchedPage(browser as Browser);
    await owner.page.goto(`${dashboard.url}?token=${token}`);
    await owner.page.locator('#live.on').waitFor(wait);
    const withoutCsrf = await owner.page.evaluate(async () => {
      const res = await fetch('/api/rollback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'no csrf' }) });
      return res.status;
    });
    expect(withoutCsrf).toBe(403);

    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect((await operator.status()).phase).toBe('canary');
  }, 60_000);
});
