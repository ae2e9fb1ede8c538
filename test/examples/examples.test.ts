import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const examples = readdirSync(path.join(root, 'examples')).filter((file) => file.endsWith('.ts') && file !== 'demo.ts'); // demo.test.ts runs the demo

// Every example runs to the end, so none can rot.
describe('examples', () => {
  it.each(examples)('%s runs to the end', async (file) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join('examples', file)], { cwd: root, timeout: 60_000 });
    expect(stdout.length).toBeGreaterThan(0);
  }, 90_000);
});
