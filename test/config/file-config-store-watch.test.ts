import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { phases } from '../../src/config/phases.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { recordingLogger, tempDirFixture, waitUntil } from './file-store-helpers.js';

const fixture = tempDirFixture();
const json = (config: MigrationConfig) => `${JSON.stringify(config)}\n`;
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Lays out a directory as the kubelet mounts a ConfigMap: config.json -> ..data/config.json, ..data -> ..<stamp>. */
function configMap(dir: string, config: MigrationConfig): { update: (config: MigrationConfig) => void; file: string } {
  let stamp = 0;
  let current = '';
  const publish = (next: MigrationConfig) => {
    stamp += 1;
    const version = `..2026_11_26_10_00_0${stamp}.${1000 + stamp}`;
    fs.mkdirSync(path.join(dir, version));
    fs.writeFileSync(path.join(dir, version, 'config.json'), json(next));
    // The kubelet's atomic swap: a new symlink, renamed over ..data, then the old directory removed.
    fs.symlinkSync(version, path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    if (current !== '') fs.rmSync(path.join(dir, current), { recursive: true });
    current = version;
  };
  publish(config);
  fs.symlinkSync(path.join('..data', 'config.json'), path.join(dir, 'config.json'));
  return { update: publish, file: path.join(dir, 'config.json') };
}

describe('FileConfigStore watching', () => {
  describe('when the file is a Kubernetes ConfigMap mount', () => {
    it('reads through the links and picks up each update of ..data', async () => {
      const mount = configMap(fixture.dir(), phases.canary(5));
      const logger = recordingLogger();
      const store = fixture.open({ path: mount.file, logger, debounceMs: 5 });
      const seen: number[] = [];
      store.subscribe((config) => seen.push(config.newSystemPercentage));
      expect(store.current()).toEqual(phases.canary(5));

      mount.update(phases.canary(10));
      await waitUntil(() => store.current().newSystemPercentage === 10, 'first ConfigMap update');
      mount.update(phases.rolledBack());
      await waitUntil(() => store.current().newSystemEnabled === false, 'second ConfigMap update');
      expect(seen).toEqual([10, 0]);
      expect(logger.at('error')).toEqual([]);
      expect(fs.lstatSync(mount.file).isSymbolicLink()).toBe(true);
    });

    it('picks up an update by events alone, without waiting for the poll', async () => {
      const mount = configMap(fixture.dir(), phases.canary(5));
      const store = fixture.open({ path: mount.file, debounceMs: 5, pollIntervalMs: 3_600_000 });
      mount.update(phases.canary(20));
      await waitUntil(() => store.current().newSystemPercentage === 20, 'ConfigMap update seen by the directory watch');
    });

    it('saves into the file ..data points to, keeping every link', async () => {
      const mount = configMap(fixture.dir(), phases.canary(5));
      const store = fixture.open({ path: mount.file, debounceMs: 5 });
      await store.save(phases.rolledBack());
      expect(fs.lstatSync(mount.file).isSymbolicLink()).toBe(true);
      expect(fs.lstatSync(path.join(fixture.dir(), '..data')).isSymbolicLink()).toBe(true);
      expect(readJson(mount.file)).toEqual(phases.rolledBack());
    });
  });

  describe('when the path is a symlink', () => {
    it('save writes the target and keeps the link; other processes reading either see it', async () => {
      const real = path.join(fixture.dir(), 'shared', 'real.json');
      fs.mkdirSync(path.dirname(real));
      fs.writeFileSync(real, json(phases.canary(5)));
      const link = path.join(fixture.dir(), 'link.json');
      fs.symlinkSync(real, link);
      const viaLink = fixture.open({ path: link, debounceMs: 5 });
      const viaReal = fixture.open({ path: real, debounceMs: 5 });
      expect(viaLink.current()).toEqual(phases.canary(5));

      await viaLink.save(phases.canary(10));
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
      expect(fs.readlinkSync(link)).toBe(real);
      expect(readJson(real)).toEqual(phases.canary(10));
      await waitUntil(() => viaReal.current().newSystemPercentage === 10, 'reader of the target');

      await viaReal.save(phases.canary(25));
      await waitUntil(() => viaLink.current().newSystemPercentage === 25, 'reader through the link (target in another directory)');
      expect(fs.readdirSync(path.dirname(real)).filter((name) => name !== 'real.json')).toEqual([]);
    });

    it('creates the file a dangling link points to, rather than replacing the link', () => {
      const real = path.join(fixture.dir(), 'target', 'config.json');
      const link = path.join(fixture.dir(), 'config.json');
      fs.symlinkSync(real, link);
      const store = fixture.open({ path: link, initial: phases.shadow(), watch: false });
      expect(store.current()).toEqual(phases.shadow());
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readJson(real)).toEqual(phases.shadow());
    });
  });

  describe('when the directory is deleted and recreated', () => {
    it('keeps the last good config meanwhile, then picks up the new file and later changes', async () => {
      const sub = path.join(fixture.dir(), 'conf');
      const file = path.join(sub, 'config.json');
      const logger = recordingLogger();
      const store = fixture.open({ path: file, initial: phases.canary(5), logger, debounceMs: 5, pollIntervalMs: 20 });

      fs.rmSync(sub, { recursive: true });
      await waitUntil(() => logger.at('warn').some((line) => /deleted/.test(line.message ?? '')), 'deletion noticed');
      expect(store.current()).toEqual(phases.canary(5));

      fs.mkdirSync(sub);
      fs.writeFileSync(file, json(phases.canary(30)));
      await waitUntil(() => store.current().newSystemPercentage === 30, 'file in the recreated directory');
      fs.writeFileSync(`${file}.new`, json(phases.canary(40)));
      fs.renameSync(`${file}.new`, file);
      await waitUntil(() => store.current().newSystemPercentage === 40, 'a later change in the recreated directory');
    });
  });

  describe('close', () => {
    it('stops the poll and the watches: a change after close reaches no one', async () => {
      const file = path.join(fixture.dir(), 'config.json');
      const store = fixture.open({ path: file, debounceMs: 1, pollIntervalMs: 5 });
      const witness = fixture.open({ path: file, debounceMs: 1, pollIntervalMs: 5 });
      const calls: MigrationConfig[] = [];
      store.subscribe((config) => calls.push(config));
      store.close();
      fs.writeFileSync(`${file}.new`, json(phases.full()));
      fs.renameSync(`${file}.new`, file);
      await waitUntil(() => witness.current().newSystemPercentage === 100, 'witness');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls).toEqual([]);
      expect(store.current()).toEqual(phases.preparation());
    });
  });
});
