import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/index.js';
import { simulatedMigration } from './simulated-migration.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const installed = fs.existsSync(executablePath);
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

// The flags keep headless Chromium off the network, which this check needs anyway.
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the report in a real browser', () => {
  it.runIf(underCi)('has Chromium to run in (CI installs it)', () => {
    expect(installed, `${executablePath} is missing: .ci/run installs Debian's chromium`).toBe(true);
  });

  it.runIf(installed)('loads with no console error or request, JavaScript off, with every chart and its points', async () => {
    const { journal, glue } = await simulatedMigration();
    const html = renderReport(journal, glue.stats());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, html);
    const browser = await chromium.launch({ executablePath, args });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 1200 } });
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${file}`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Migration report: pricing');
      for (const id of ['chart-percentage', 'chart-error-rate', 'chart-p95', 'chart-mismatch', 'chart-backfill']) {
        expect(await page.locator(`svg#${id}`).count(), id).toBe(1);
      }
      const metrics = journal.entries().filter((e) => e.kind === 'metrics');
      const newServed = metrics.filter((e) => (e.data as { new: { calls: number } }).new.calls > 0).length;
      expect(await page.locator('svg#chart-error-rate [data-series="new-error-rate"] circle').count()).toBe(newServed);
      expect(await page.locator('svg#chart-backfill [data-series="backfill"] circle').count()).toBe(4);
      expect(await page.locator('svg#chart-percentage [data-kind="rollback"]').count()).toBe(1);
      expect(await page.locator('li.done').count()).toBeGreaterThan(5);
      const box = await page.locator('svg#chart-percentage').boundingBox();
      expect(box?.width).toBeGreaterThan(300);
      expect(problems).toEqual([]);
      expect(requests).toEqual([`file://${file}`]);
    } finally {
      await browser.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
