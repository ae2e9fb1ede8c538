// @ts-check
// One area's part of the mutation setup, merged by the files beside
// test/mutation/areas: which tests pin each file (tests-by-file.mjs),
// survivors that cannot change behaviour (equivalent-mutants.mjs), explained
// survivors (survivor-notes.mjs) and how long a run took (run-times.mjs).
// The formats are those files' own.

/** @type {Readonly<Record<string, readonly string[]>>} */
export const tests = {
  'src/config/file-config-store.ts': [
    'test/config/file-config-store-mutation.test.ts',
    'test/config/file-config-store-hostile.test.ts',
    'test/config/file-config-store-watch.test.ts',
    'test/config/conformance.test.ts',
    'test/config/listeners.test.ts',
    'test/config/config-mutation.test.ts',
  ],
  'src/config/file-config-write.ts': ['test/config/file-config-write-mutation.test.ts', 'test/config/file-config-store-hostile.test.ts'],
  'src/config/ramp-state.ts': ['test/config/ramp-state-mutation.test.ts', 'test/config/file-config-write-mutation.test.ts'],
  'src/config/config-file.ts': ['test/config/config-file-mutation.test.ts', 'test/config/file-config-store-hostile.test.ts'],
  'src/config/in-memory-config-store.ts': [
    'test/config/in-memory-config-store-mutation.test.ts',
    'test/config/config-store.test.ts',
    'test/config/config-mutation.test.ts',
    'test/config/listeners.test.ts',
    'test/config/conformance.test.ts',
  ],
  'src/config/file-lock.ts': ['test/config/file-lock-mutation.test.ts'],
  'src/config/listeners.ts': ['test/config/listeners-mutation.test.ts', 'test/config/listeners.test.ts'],
  'src/config/phases.ts': ['test/config/phases-mutation.test.ts', 'test/config/config-mutation.test.ts'],
  'src/config/store-options.ts': ['test/config/config-mutation.test.ts', 'test/config/file-config-store-hostile.test.ts'],
  'src/config/file-store-options.ts': ['test/config/file-store-options-mutation.test.ts', 'test/config/config-mutation.test.ts'],
  'src/config/config-provider.ts': ['test/config/config-provider-mutation.test.ts', 'test/config/config-store.test.ts'],
  'src/config/file-watch.ts': ['test/config/file-watch-mutation.test.ts', 'test/config/file-config-store-watch.test.ts'],
};

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; reason: string }[]} */
export const equivalents = [
  // src/config/file-config-write.ts: a file that is missing or invalid has no
  // config and no ramp state, so the `found.kind === 'ok'` tests only narrow
  // the type (the rollback check short-circuits on `unseen`, false for them).
  {
    file: 'src/config/file-config-write.ts',
    line: "const foundRamp = found.kind === 'ok' ? found.ramp : undefined;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'A missing or invalid read has no `ramp` field: reading it gives the same undefined.',
  },
  {
    file: 'src/config/file-config-write.ts',
    line: "const unseen = 'config' in request && found.kind === 'ok' && found.signature !== request.seen;",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: "`unseen` is read only by the rollback check below, which runs only when `found.kind === 'ok'`.",
  },
  {
    file: 'src/config/file-config-write.ts',
    line: "if (found.kind === 'ok' && undoesUnseenRollback(config, found.config, unseen)) {",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: "For a missing or invalid file `unseen` is false (it requires `found.kind === 'ok'`), and undoesUnseenRollback returns false on it before reading the stored config.",
  },
  // src/config/ramp-state.ts
  {
    file: 'src/config/ramp-state.ts',
    line: "if (typeof store !== 'object' || store === null) return false;",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'For null, reading `rampState` below throws, and the catch returns the same false.',
  },
  ...[
    ['MethodExpression', 'Object.entries(member)', undefined],
    ['ConditionalExpression', 'true', 'v !== undefined'],
  ].map(([mutator, replacement, original]) => ({
    file: 'src/config/ramp-state.ts',
    line: 'Object.fromEntries(Object.entries(member).filter(([, v]) => v !== undefined)',
    mutator: String(mutator),
    replacement: String(replacement),
    ...(original === undefined ? {} : { original }),
    reason: 'JSON.stringify leaves out a member whose value is undefined by itself: the filter changes no output.',
  })),
  ...[
    ['EqualityOperator', 'a <= b', 'a < b'],
    ['ConditionalExpression', 'true', 'a > b'],
    ['ConditionalExpression', 'false', 'a > b'],
    ['EqualityOperator', 'a >= b', 'a > b'],
    ['EqualityOperator', 'a <= b', 'a > b'],
  ].map(([mutator, replacement, original]) => ({
    file: 'src/config/ramp-state.ts',
    line: '.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))',
    mutator,
    replacement,
    original,
    reason: "The keys of one object are distinct, so `a < b` alone decides, and V8's sort only asks whether the comparison is below 0 (checked up to 200 keys): every variant sorts the same.",
  })),
  // src/config/listeners.ts: close() both empties the set and stops add(); each guard covers for the other.
  {
    file: 'src/config/listeners.ts',
    line: 'if (this.#closed) return noop;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'A listener added after close() joins the set, but notify() returns at once while closed, so it is never called; its remover returns undefined as noop does.',
  },
  {
    file: 'src/config/listeners.ts',
    line: 'if (this.#closed) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'close() empties the set and add() adds nothing after it, so a notify() after close() finds no listener to call.',
  },
  // src/config/store-options.ts: resolveStoreLogger's shape test. A primitive
  // has no debug/info/warn/error functions, and reading them from null throws
  // into the catch, which answers "not usable" all the same.
  ...[
    ['ConditionalExpression', 'true'],
    ['LogicalOperator', "typeof candidate === 'object' || typeof candidate === 'function' || candidate !== null"],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/store-options.ts',
    line: "(typeof candidate === 'object' || typeof candidate === 'function') &&",
    mutator: String(mutator),
    replacement: String(replacement),
    reason: 'A string, number or boolean has no debug/info/warn/error functions, and reading them from null throws into the catch: every value the test lets through is refused the same.',
  })),
  {
    file: 'src/config/store-options.ts',
    line: 'candidate !== null &&',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Reading `debug` from null throws into the catch, which leaves `usable` false: null is refused the same.',
  },
  ...[
    ['BlockStatement', '{}'],
    ['StringLiteral', '""'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/store-options.ts',
    line: mutator === 'BlockStatement' ? '} catch {' : "return 'an unreadable object (a revoked Proxy?)';",
    mutator,
    replacement,
    reason: 'Unreachable: describeValue never throws (it reads only typeof, which never throws, and Array.isArray inside its own try, answering "a revoked Proxy").',
  })),
  {
    file: 'src/config/config-provider.ts',
    line: "if (typeof value !== 'object' || value === null) return false;",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'For null, reading `current` below throws, and the catch returns the same false.',
  },
  // src/config/file-lock.ts
  {
    file: 'src/config/file-lock.ts',
    line: "return match === null ? undefined : { pid: Number(match[1]), host: match[2] ?? '' };",
    mutator: 'StringLiteral',
    replacement: '"Stryker was here!"',
    reason: 'The `(.*)` group always takes part in a match, so `match[2]` is never undefined and the fallback is never used.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: 'const match = /^(\\d+) (.*)$/s.exec(text.trim());',
    mutator: 'Regex',
    replacement: '/^(\\d+) (.*)/s',
    reason: 'With the `s` flag, `(.*)` runs to the end of the text anyway: the `$` anchor matches nothing more.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: "const holder = holderOf(await fsp.readFile(lock, 'utf8').catch(() => ''));",
    mutator: 'StringLiteral',
    replacement: '"Stryker was here!"',
    reason: 'Neither text names a holder ("pid host"): holderOf gives undefined for both.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: 'if (age > staleLockMs) return true;',
    mutator: 'EqualityOperator',
    replacement: 'age >= staleLockMs',
    reason: 'One millisecond on the age of a lock left behind (ms clock, float mtime): no caller can tell, and a test would pin the clock, not the rule.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: 'if (age < 250) return false;',
    mutator: 'EqualityOperator',
    replacement: 'age <= 250',
    reason: 'One millisecond on the grace given a lock just written: no caller can tell.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: 'return holder !== undefined && holder.host === os.hostname() && holder.pid !== process.pid && isDead(holder.pid);',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Only the `holder.pid !== process.pid` operand: this process is alive, so isDead(process.pid) is false all the same.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'breakStale: when the rename fails (the lock is gone already) the rest finds no file aside (stat fails, rm is forced and caught) and returns the same.',
  },
  {
    file: 'src/config/file-lock.ts',
    line: 'if (moved !== undefined && moved.ino !== stats.ino) await fsp.link(aside, lock).catch(() => {});',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'Unreachable: the file was just renamed to a random name of our own, so its stat fails only if another process deleted a name it cannot know.',
  },
  ...[
    ['ObjectLiteral', '{}'],
    ['BooleanLiteral', 'false'],
  ].flatMap(([mutator, replacement]) =>
    ['await fsp.rm(aside, { force: true }).catch(() => {});', 'if (now !== undefined && now.ino === ino) await fsp.rm(lock, { force: true }).catch(() => {});'].map((line) => ({
      file: 'src/config/file-lock.ts',
      line,
      mutator,
      replacement,
      reason: '`force` only silences a missing file, and the `.catch` beside it silences every error: the same outcome either way.',
    })),
  ),
  {
    file: 'src/config/file-lock.ts',
    line: 'if (Date.now() - started > timeoutMs) {',
    mutator: 'EqualityOperator',
    replacement: 'Date.now() - started >= timeoutMs',
    reason: 'One millisecond more or less of waiting before ERR_TIMEOUT: no caller can tell, and a test would pin the clock.',
  },
  ...[
    ['MethodExpression', 'Math.max(pause * 2, 50)'],
    ['ArithmeticOperator', 'pause / 2'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/file-lock.ts',
    line: 'pause = Math.min(pause * 2, 50);',
    mutator,
    replacement,
    reason: 'Speed-only: how long to sleep between two tries for the lock; the lock is taken, broken or timed out the same.',
  })),
  // src/config/file-config-store.ts
  ...[
    ['StringLiteral', '""'],
    ['ConditionalExpression', 'false'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/file-config-store.ts',
    line: "if (read.kind === 'ok') {",
    mutator,
    replacement,
    reason: 'The create path finds the existing file (its hard link fails with EEXIST), reads it and returns the same config, ramp state and signature: a slower path to the same answer.',
  })),
  ...[
    ['StringLiteral', '""'],
    ['ConditionalExpression', 'false'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/file-config-store.ts',
    line: "if (read.kind === 'invalid') throw read.error;",
    mutator,
    replacement,
    reason: 'An invalid file then takes the create path, whose hard link fails with EEXIST; it reads the file again and throws the same MigrationConfigError, leaving the file and no temp file.',
  })),
  ...[
    ['ConditionalExpression', 'false'],
    ['StringLiteral', '""'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/file-config-store.ts',
    line: "const stats = await writeFileAtomic(target, serializeConfigFile(plan.config, plan.ramp), found.kind === 'missing' ? {} : { mode: found.mode });",
    mutator,
    replacement,
    reason: 'A missing file has no `mode`: `{ mode: undefined }` makes writeFileAtomic keep the umask, as `{}` does.',
  })),
  {
    file: 'src/config/file-config-store.ts',
    line: "this.#refuse('missing', () =>",
    mutator: 'StringLiteral',
    replacement: '""',
    reason: 'The key only has to differ from the other refusals (`unreadable:…`, `invalid:…`) and from undefined (nothing refused): "" does, so the same deletions are logged once each.',
  },
  // src/config/config-file.ts
  {
    file: 'src/config/config-file.ts',
    line: 'const code = (err as NodeJS.ErrnoException | undefined)?.code;',
    mutator: 'OptionalChaining',
    replacement: '(err as NodeJS.ErrnoException | undefined).code',
    reason: 'Only an fs open that failed calls it, and fs never throws undefined.',
  },
  {
    file: 'src/config/config-file.ts',
    line: 'if (!(err instanceof MigrationConfigError)) throw err;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Unreachable: parseMigrationConfig throws only MigrationConfigError, parseRampState never throws, and a value from JSON.parse has no getter or Proxy trap to throw anything else.',
  },
  ...[
    ['ConditionalExpression', 'false'],
    ['EqualityOperator', 'filled + n > length'],
    ['ArithmeticOperator', 'filled - n'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/config-file.ts',
    line: 'if (n === 0 || filled + n >= length) return buffer.subarray(0, filled + n);',
    mutator,
    replacement,
    reason: 'Speed-only: once the buffer is full the next read asks for 0 bytes, gets n === 0 and returns the same bytes.',
  })),
  ...[
    ['ConditionalExpression', 'false'],
    ['EqualityOperator', 'filled > buffer.length'],
  ].map(([mutator, replacement]) => ({
    file: 'src/config/config-file.ts',
    line: 'if (bytesRead === 0 || filled >= buffer.length) break;',
    mutator,
    replacement,
    reason: 'Speed-only: once the buffer is full the next read asks for 0 bytes, reads 0 and breaks with the same bytes.',
  })),
  {
    file: 'src/config/config-file.ts',
    line: 'if (!stats.isFile() || stats.size > BigInt(maxConfigFileBytes)) return judge(file, stats, () => Buffer.alloc(0));',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'Speed-only: a file over the limit is then read, but judge() refuses it by its stat size before looking at the bytes, with the same answer.',
  },
  {
    file: 'src/config/config-file.ts',
    line: 'if (!stats.isFile() || stats.size > BigInt(maxConfigFileBytes)) return judge(file, stats, () => Buffer.alloc(0));',
    mutator: 'ArrowFunction',
    replacement: '() => undefined',
    reason: 'judge() never reads the bytes of what is not a regular file or is over the limit by its stat: it returns before calling `read`.',
  },
  {
    file: 'src/config/config-file.ts',
    line: 'return `${JSON.stringify(ramp === undefined ? config : { ...config, ramp }, null, 2)}\\n`;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    reason: 'JSON.stringify leaves out a member whose value is undefined: `{ ...config, ramp: undefined }` is written as the config alone.',
  },
  // src/config/file-watch.ts
  {
    file: 'src/config/file-watch.ts',
    line: 'if (this.#closed) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    original: 'this.#closed',
    reason: 'In close(): a second run clears a cleared interval, closes closed watchers (idempotent) and clears an empty map. (The check of #rewatch, on the same text, is pinned by a close during a poll.)',
  },
  {
    file: 'src/config/file-watch.ts',
    line: "return name !== this.#base && name.startsWith(`${this.#base}.`)",
    mutator: 'ConditionalExpression',
    replacement: 'true',
    reason: 'A name equal to the base never starts with the base and a dot: the startsWith test below already refuses it.',
  },
  {
    file: 'src/config/file-watch.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    replacement: '{}',
    reason: 'inodeOf: an emptied catch falls off the end of the function, which returns the same undefined.',
  },
];

/** @type {readonly { file: string; line: string; mutator: string; replacement: string; original?: string; kind: 'flaw' | 'not pinned'; reason: string }[]} */
export const notes = [
  // src/config/file-config-store.ts: four lines read `if (this.#closed) return;`
  // and a rule cannot tell them apart. In close() and #scheduleReload the
  // check cannot change behaviour (see the reason); the first one of #reload
  // matters only for a re-read queued behind a save when close() is called.
  {
    file: 'src/config/file-config-store.ts',
    line: 'if (this.#closed) return;',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    kind: /** @type {const} */ ('not pinned'),
    reason:
      'close(): a second run is idempotent. #scheduleReload: only the FileWatch calls it, closed first by close(). #reload, on entry: a re-read queued behind a save when close() comes would still take the file into current() (notifying no one); only an fs event landing inside a save shows it. The check after the read is pinned.',
  },
  {
    file: 'src/config/config-file.ts',
    line: 'for (let hops = 0; hops < 40; hops += 1) {',
    mutator: 'EqualityOperator',
    replacement: 'hops <= 40',
    kind: /** @type {const} */ ('not pinned'),
    reason: 'The bound on symlinks followed (40, as Linux itself allows): only a chain of 41 links tells 40 from 41, and a cycle is stopped either way.',
  },
  {
    file: 'src/config/config-file.ts',
    line: "if (code !== 'EEXIST') {",
    mutator: 'ConditionalExpression',
    replacement: 'false',
    kind: /** @type {const} */ ('not pinned'),
    reason:
      'Where hard links fail (EPERM on some filesystems) the file is renamed into place, replacing one another process may have created in between: the first creator then does not win. The mutant reads that file instead; pinning either would pin a race on such filesystems only.',
  },
];

/** @type {readonly { file: string; minutes: number; mutants: number; measured: string }[]} */
export const times = [
  // Wall clock on two cores shared with several other mutation runs (load 12-16): an upper bound.
  { file: 'src/config/file-config-store.ts', minutes: 35.7, mutants: 162, measured: '2026-11-26' },
  { file: 'src/config/file-config-write.ts', minutes: 4.3, mutants: 88, measured: '2026-11-26' },
  { file: 'src/config/ramp-state.ts', minutes: 11.9, mutants: 121, measured: '2026-11-26' },
  { file: 'src/config/in-memory-config-store.ts', minutes: 6.8, mutants: 43, measured: '2026-11-26' },
  { file: 'src/config/config-file.ts', minutes: 14.6, mutants: 199, measured: '2026-11-26' },
  { file: 'src/config/file-lock.ts', minutes: 9.3, mutants: 115, measured: '2026-11-26' },
  { file: 'src/config/listeners.ts', minutes: 5.0, mutants: 16, measured: '2026-11-26' },
  { file: 'src/config/store-options.ts', minutes: 7.6, mutants: 44, measured: '2026-11-26' },
  { file: 'src/config/file-store-options.ts', minutes: 5.1, mutants: 32, measured: '2026-11-26' },
  { file: 'src/config/config-provider.ts', minutes: 2.1, mutants: 31, measured: '2026-11-26' },
  { file: 'src/config/file-watch.ts', minutes: 6.9, mutants: 100, measured: '2026-11-26' },
];
