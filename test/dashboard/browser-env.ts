import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

// How this project runs Chromium (as test/examples/demo.test.ts does):
// Debian's chromium, or CHROMIUM_PATH; skipped when missing, except under
// CI where its absence is a failure.

export const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const installed = fs.existsSync(executablePath);
export const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
// The flags keep headless Chromium off the network.
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath, args });
}

/** A page that records console errors, page errors and every URL it requests. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page: Page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  return { context, page, problems, requests };
}
