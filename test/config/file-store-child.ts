/**
 * Run by file-config-store-cas.test.ts in a separate Node process:
 *   node --import tsx file-store-child.ts <file> <config JSON> <go file>
 * Opens a FileConfigStore on <file> (its view: the file as it is now), waits
 * (bounded) until <go file> exists, saves <config>, and prints the outcome.
 */
import fs from 'node:fs';
import { FileConfigStore } from '../../src/config/file-config-store.js';

const [file, configJson, goFile] = process.argv.slice(2);
if (file === undefined || configJson === undefined || goFile === undefined) throw new Error('usage: file config go');
const store = new FileConfigStore({ path: file, watch: false });
process.stdout.write('ready\n');
const deadline = Date.now() + 20_000;
while (!fs.existsSync(goFile)) {
  if (Date.now() > deadline) throw new Error('no go signal');
  await new Promise((resolve) => setTimeout(resolve, 2));
}
try {
  await store.save(JSON.parse(configJson));
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ ok: false, code: (err as { code?: unknown }).code, message: (err as Error).message })}\n`);
}
