import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backfill } from '../../src/data/backfill.js';
import { FileCheckpointStore } from '../../src/data/file-checkpoint-store.js';
import { silentLogger } from '../../src/observe/logger.js';
import { BATCH, ROWS, source } from './fixtures/backfill-child.js';
import { FileRepository } from './fixtures/file-repository.js';
import type { Item } from './repository-conformance.js';
import { itemKey } from './repository-conformance.js';

const child = path.join(import.meta.dirname, 'fixtures', 'backfill-child.ts');

/** Starts the child backfill and SIGKILLs it once it reported `afterBatches` batches. */
function killMidway(dir: string, afterBatches: number): Promise<{ signal: NodeJS.Signals | null; batches: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let batches = 0;
    let buffered = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^batch (\d+)$/.exec(line);
        if (match !== null) batches = Number(match[1]);
      }
      if (batches >= afterBatches) proc.kill('SIGKILL');
    });
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => resolve({ signal, batches }));
  });
}

describe('backfill after a crash (a SIGKILLed process)', () => {
  it('resumes from the file checkpoint and ends identical, no row copied twice beyond one batch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backfill-crash-'));
    const { signal, batches } = await killMidway(dir, 5);
    expect(signal).toBe('SIGKILL');
    expect(batches).toBeLessThan(ROWS / BATCH);

    const target = new FileRepository<Item, string>(path.join(dir, 'target.jsonl'), itemKey);
    const before = target.puts;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(ROWS);
    const from = source();
    const result = await backfill({
      from,
      to: target,
      keyOf: itemKey,
      batchSize: BATCH,
      checkpoint: new FileCheckpointStore({ path: path.join(dir, 'checkpoint.json') }),
      logger: silentLogger,
    });

    const reopened = new FileRepository<Item, string>(path.join(dir, 'target.jsonl'), itemKey);
    expect(await reopened.getBatch(null, ROWS + 1)).toEqual(from.snapshot());
    expect(reopened.puts).toBeLessThanOrEqual(ROWS + BATCH);
    expect(result.copied + result.skipped).toBeGreaterThanOrEqual(ROWS);
    expect(result.lastKey).toBe(itemKey(from.snapshot().at(-1) as Item));
  }, 60_000);
});
