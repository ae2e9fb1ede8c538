import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../../src');
const files = (readdirSync(src, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts')).map((file) => file.split(path.sep).join('/'));
const importsOf = (file: string) => [...readFileSync(path.join(src, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');

// DESIGN: nothing in src imports from testing, so the kit never ships inside the main entry.
describe('the testing kit boundaries', () => {
  it('nothing in src outside src/testing imports from it', () => {
    const offenders = files.filter((file) => !file.startsWith('testing/') && importsOf(file).some((from) => from.includes('/testing/')));
    expect(offenders).toEqual([]);
  });

  it('kit files import siblings by file, never through the kit index', () => {
    const offenders = files.filter((file) => file.startsWith('testing/') && file !== 'testing/index.ts' && importsOf(file).includes('./index.js'));
    expect(offenders).toEqual([]);
  });
});
