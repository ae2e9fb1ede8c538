import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/index.js';
import type { JournalEntry } from '../../src/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const installed = fs.existsSync(executablePath);
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
// The flags keep headless Chromium off the network, which this check needs anyway.
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir = '';
let stdout = '';
let entries: JournalEntry[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-'));
  const run = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'examples/demo.ts', '--out', path.join(dir, 'report.html'), '--journal', path.join(dir, 'journal.jsonl')],
    { cwd: root, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
  );
  stdout = run.stdout;
  entries = parseJournal(fs.readFileSync(path.join(dir, 'journal.jsonl'), 'utf8'));
}, 160_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('npm run demo', () => {
  it('walks the whole workflow: baseline, backfill, a shadow mismatch fixed, the ramp, an automatic rollback at 25 %, full', () => {
    for (const line of [
      'baseline of v1',
      'backfill  [##############################] 100 %',
      'verify: 2000 checked, 0 missing, 0 different',
      'mismatch  sku-',
      'the judge says fail: shadow value mismatches',
      'shadow again, judged afresh',
      'shadow pass:',
      'ramp step 1/7: 1 % on new',
      'rolled back from 25 % (rollback guard: new error rate',
      'ramp resumed in shadow mode',
      'ramp step 7/7: 100 % on new',
      'ramp complete',
      'phase 5   cleanup',
      '| 2026-03-16 | 25% | rollback guard: new error rate',
      '# Migration: pricing (pricing v1 → pricing v2)',
      'npx migration-glue status --store file:pricing-config.json',
      'npx migration-glue approve --store file:pricing-config.json',
      'npx migration-glue rollback --store file:pricing-config.json --reason',
    ]) {
      expect(stdout).toContain(line);
    }
    expect(entries.filter((e) => e.kind === 'rollback')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'step').map((e) => e.percentage)).toEqual([1, 5, 10, 25, 1, 5, 10, 25, 50, 90, 100]);
  });

  it('holds a step while the judge is inconclusive, with its reason and the calls it still needs', () => {
    const holds = stdout.split('\n').filter((line) => line.includes('hold      1 %: inconclusive, the ramp waits for evidence'));
    expect(holds.length).toBeGreaterThan(0);
    for (const line of holds) {
      expect(line).toMatch(/new error rate 0 % \(always-valid interval 0 % to [\d.]+ %, limit 1 %\) over \d+; about [\d,]+ more calls on new needed$/);
    }
    // A step inconclusive for more than three days is never a silent stall.
    expect(stdout).toMatch(/blocked {2}pricing: step inconclusive for more than 72 h/);
  });

  it('rolls back on evidence: the reason names the metric, the estimate and its always-valid interval', () => {
    expect(stdout).toMatch(/rolled back from 25 % \(rollback guard: new error rate [\d.]+ % \(always-valid interval [\d.]+ % to [\d.]+ %, limit 1 %\) over \d+\)/);
  });

  it('lists its options with --help', async () => {
    const { stdout: text } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/demo.ts', '--help'], { cwd: root });
    for (const option of ['--seed', '--speed', '--fault', '--out']) expect(text).toContain(option);
  });
});

describe("the demo's report in headless Chromium", () => {
  it.runIf(underCi)('has Chromium to run in (CI installs it)', () => {
    expect(installed, `${executablePath} is missing: .ci/run installs Debian's chromium`).toBe(true);
  });

  it.runIf(installed)('loads with JavaScript off, no console error, no request, and every chart with its points', async () => {
    const file = path.join(dir, 'report.html');
    const browser = await chromium.launch({ executablePath, args });
    try {
      const page = await (await browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 1400 } })).newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${file}`);
      expect(await page.locator('h1').textContent()).toBe('Migration report: pricing');
      for (const id of ['chart-percentage', 'chart-error-rate', 'chart-p95', 'chart-mismatch', 'chart-backfill']) {
        expect(await page.locator(`svg#${id}`).count(), id).toBe(1);
      }
      const metrics = entries.filter((e) => e.kind === 'metrics').map((e) => e.data as { new: { calls: number }; shadow: { compared: number } });
      const phasesSeen = entries.filter((e) => e.kind === 'phase').length;
      expect(await page.locator('svg#chart-percentage [data-series="percentage"] circle').count()).toBe(phasesSeen + 1);
      expect(await page.locator('svg#chart-error-rate [data-series="new-error-rate"] circle').count()).toBe(metrics.filter((m) => m.new.calls > 0).length);
      expect(await page.locator('svg#chart-mismatch [data-series="mismatch-rate"] circle').count()).toBe(metrics.filter((m) => m.shadow.compared > 0).length);
      expect(await page.locator('svg#chart-backfill [data-series="backfill"] circle').count()).toBe(entries.filter((e) => e.kind === 'backfill').length);
      expect(await page.locator('svg#chart-percentage [data-kind="rollback"]').count()).toBe(1);
      expect(await page.locator('svg#chart-percentage [data-kind="step"]').count()).toBe(11);
      expect(await page.locator('li.done').count()).toBeGreaterThan(10);
      expect((await page.locator('svg#chart-percentage').boundingBox())?.width).toBeGreaterThan(300);
      expect(problems).toEqual([]);
      expect(requests).toEqual([`file://${file}`]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
