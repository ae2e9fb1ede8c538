import { describe, expect, it, vi } from 'vitest';
import type { ConfigFileRead } from '../../src/config/config-file.js';
import { fileConfigError } from '../../src/config/config-file.js';
import { ConfigConflictError } from '../../src/config/config-conflict.js';
import type { WritePlan, WriteRequest } from '../../src/config/file-config-write.js';
import { planWrite } from '../../src/config/file-config-write.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { MigrationConfigError } from '../../src/config/migration-config.js';
import { phases } from '../../src/config/phases.js';
import type { RampState } from '../../src/config/ramp-state.js';
import { emptyRampState } from '../../src/config/ramp-state.js';

// What a FileConfigStore writes, decided from the file as found under the
// lock: each case is one a mutant of src/config/file-config-write.ts passes.

const file = '/srv/config.json';

function ok(config: MigrationConfig, ramp?: RampState, signature = 'sig-found'): ConfigFileRead {
  return { kind: 'ok', config, ramp, signature, mode: 0o644 };
}

const missing: ConfigFileRead = { kind: 'missing' };

function invalid(): ConfigFileRead & { kind: 'invalid' } {
  return {
    kind: 'invalid',
    problem: 'json:garbage',
    signature: 'sig-invalid',
    mode: 0o600,
    error: fileConfigError(file, [{ path: '(root)', message: 'is not valid JSON: the file is empty' }]),
  };
}

function ramp(extra: Partial<RampState> = {}): RampState {
  return { ...emptyRampState(), revision: 7, stepRevision: 3, step: 1, updatedAt: 1000, ...extra };
}

function save(config: MigrationConfig, seen: string | undefined = 'sig-found', overwriteInvalid = false): WriteRequest {
  return { config, seen, overwriteInvalid };
}

function written(plan: WritePlan): { config: MigrationConfig; ramp: RampState | undefined } {
  expect(plan.kind).toBe('write');
  const { config, ramp: planned } = plan as Extract<WritePlan, { kind: 'write' }>;
  return { config, ramp: planned };
}

function thrownBy(run: () => unknown): Error & { code?: string } {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Error);
  return caught as Error & { code?: string };
}

describe('planWrite for a save', () => {
  it('writes the config and no ramp state when the file holds none', () => {
    expect(planWrite(file, ok(phases.canary(5)), phases.canary(5), save(phases.canary(10)))).toEqual({ kind: 'write', config: phases.canary(10), ramp: undefined });
  });

  it('writes over a missing file, with no ramp state', () => {
    expect(planWrite(file, missing, phases.full(), save(phases.canary(10), undefined))).toEqual({ kind: 'write', config: phases.canary(10), ramp: undefined });
  });

  it('keeps the ramp state found and marks a rollback over a config that used new as rolled back', () => {
    const found = ramp({ paused: { by: 'ops', at: 5 } });
    const plan = written(planWrite(file, ok(phases.canary(25), found), phases.canary(25), save(phases.rolledBack())));
    expect(plan.config).toEqual(phases.rolledBack());
    expect(plan.ramp).toEqual({ ...found, rolledBack: true });
  });

  it('judges the rollback flag against the config in the file, not the one in memory', () => {
    // The file holds preparation (never rolled back); memory still holds a canary.
    const plan = written(planWrite(file, ok(phases.preparation(), ramp()), phases.canary(50), save(phases.rolledBack())));
    expect(plan.ramp?.rolledBack).toBe(false);
  });

  it('keeps the flag of a rollback saved over a rollback, and only when the file said so', () => {
    const over = (rolledBack: boolean | undefined) =>
      written(planWrite(file, ok(phases.rolledBack(), ramp({ rolledBack })), phases.rolledBack(), save(phases.rolledBack()))).ramp?.rolledBack;
    expect(over(true)).toBe(true);
    expect(over(false)).toBe(false);
    expect(over(undefined)).toBe(false);
  });

  it('clears the flag when the save moves forward', () => {
    const plan = written(planWrite(file, ok(phases.rolledBack(), ramp({ rolledBack: true })), phases.rolledBack(), save(phases.canary(1))));
    expect(plan.ramp?.rolledBack).toBe(false);
  });
});

describe('planWrite and a rollback the save had not seen', () => {
  it('refuses a step when the file changed since the save was decided and now holds a rollback', () => {
    const plan = planWrite(file, ok(phases.rolledBack(), undefined, 'sig-new'), phases.canary(25), save(phases.canary(50), 'sig-old'));
    expect(plan.kind).toBe('conflict');
    const { error } = plan as Extract<WritePlan, { kind: 'conflict' }>;
    expect(error).toBeInstanceOf(ConfigConflictError);
    expect(error.code).toBe('ERR_CONFLICT');
    expect(error.message).toContain(`config not saved to ${file}`);
    expect(error.message).toMatch(/rolled back after this save was decided/);
  });

  it('lets a step through when the save was decided from the file it finds (same signature)', () => {
    const plan = planWrite(file, ok(phases.rolledBack(), undefined, 'sig-same'), phases.rolledBack(), save(phases.canary(50), 'sig-same'));
    expect(written(plan).config).toEqual(phases.canary(50));
  });

  it('never refuses a rollback, and does not refuse a step over a file that holds no rollback', () => {
    expect(planWrite(file, ok(phases.rolledBack(), undefined, 'sig-new'), phases.canary(25), save(phases.rolledBack(), 'sig-old')).kind).toBe('write');
    expect(planWrite(file, ok(phases.canary(30), undefined, 'sig-new'), phases.canary(25), save(phases.canary(50), 'sig-old')).kind).toBe('write');
  });

  it('never refuses a ramp change: it decides from the file it finds', () => {
    const plan = planWrite(file, ok(phases.rolledBack(), ramp(), 'sig-new'), phases.canary(25), {
      change: (state) => ({ ramp: state, config: phases.shadow() }),
    });
    expect(written(plan).config).toEqual(phases.shadow());
  });
});

describe('planWrite over a file that holds no valid config', () => {
  it('refuses a step, with the file issues and the ways out in the message', () => {
    const found = invalid();
    const error = thrownBy(() => planWrite(file, found, phases.canary(5), save(phases.canary(10), 'sig-invalid')));
    expect(error).toBeInstanceOf(MigrationConfigError);
    expect((error as MigrationConfigError).issues).toEqual(found.error.issues);
    expect(error.message).toBe(
      `${found.error.message}; not replaced by a save that is not a rollback: fix the file, roll back, or save with { overwriteInvalid: true }`,
    );
  });

  it('is replaced by a rollback, or by a step saved with overwriteInvalid, with no ramp state', () => {
    expect(planWrite(file, invalid(), phases.canary(5), save(phases.rolledBack(), 'sig-invalid'))).toEqual({ kind: 'write', config: phases.rolledBack(), ramp: undefined });
    expect(planWrite(file, invalid(), phases.canary(5), save(phases.canary(10), 'sig-invalid', true))).toEqual({
      kind: 'write',
      config: phases.canary(10),
      ramp: undefined,
    });
  });

  it('refuses a ramp change that keeps a config using new, and takes one that rolls back', () => {
    expect(thrownBy(() => planWrite(file, invalid(), phases.canary(5), { change: (state) => ({ ramp: state }) }))).toBeInstanceOf(MigrationConfigError);
    const plan = written(planWrite(file, invalid(), phases.canary(5), { change: (state) => ({ ramp: state, config: phases.rolledBack() }) }));
    expect(plan.config).toEqual(phases.rolledBack());
    // Rolled back from the config in force (a canary), since the file holds none.
    expect(plan.ramp?.rolledBack).toBe(true);
  });
});

describe('planWrite for a ramp change', () => {
  it('calls the change with the state and config in the file, and writes the next revision', () => {
    const found = ramp({ revision: 7 });
    const change = vi.fn((state: RampState) => ({ ramp: { ...state, step: 2 } }));
    const plan = written(planWrite(file, ok(phases.canary(10), found), phases.full(), { change }));
    expect(change).toHaveBeenCalledWith(found, phases.canary(10));
    expect(plan.config).toEqual(phases.canary(10));
    expect(plan.ramp?.step).toBe(2);
    expect(plan.ramp?.revision).toBe(8);
  });

  it('starts from the empty state and the config in force when the file is missing', () => {
    const change = vi.fn((state: RampState) => ({ ramp: state }));
    const plan = written(planWrite(file, missing, phases.canary(3), { change }));
    expect(change).toHaveBeenCalledWith(emptyRampState(), phases.canary(3));
    expect(plan.config).toEqual(phases.canary(3));
    expect(plan.ramp?.revision).toBe(1);
  });

  it('starts from the empty state when the file holds a config but no ramp state', () => {
    const change = vi.fn((state: RampState) => ({ ramp: state }));
    const plan = written(planWrite(file, ok(phases.shadow()), phases.full(), { change }));
    expect(change).toHaveBeenCalledWith(emptyRampState(), phases.shadow());
    expect(plan.ramp?.revision).toBe(1);
  });

  it('writes nothing when the change returns undefined', () => {
    expect(planWrite(file, ok(phases.canary(10), ramp()), phases.canary(10), { change: () => undefined })).toEqual({ kind: 'unchanged' });
  });

  it('refuses an invalid ramp state with a TypeError, and an invalid config with ERR_INVALID_CONFIG', () => {
    const badRamp = thrownBy(() => planWrite(file, ok(phases.canary(10), ramp()), phases.canary(10), { change: (state) => ({ ramp: { ...state, step: -5 } }) }));
    expect(badRamp).toBeInstanceOf(TypeError);
    expect(badRamp.message).toBe('[migration-glue] updateRamp: the change returned an invalid ramp state');
    const badConfig = thrownBy(() =>
      planWrite(file, ok(phases.canary(10), ramp()), phases.canary(10), {
        change: (state) => ({ ramp: state, config: { ...phases.full(), newSystemPercentage: 101 } }),
      }),
    );
    expect(badConfig).toBeInstanceOf(MigrationConfigError);
  });

  it('writes the config the change returns, parsed (unknown fields dropped)', () => {
    const plan = written(
      planWrite(file, ok(phases.canary(10), ramp()), phases.canary(10), {
        change: (state) => ({ ramp: state, config: { ...phases.canary(20), extra: 1 } as MigrationConfig }),
      }),
    );
    expect(plan.config).toEqual(phases.canary(20));
    expect(Object.isFrozen(plan.config)).toBe(true);
  });

  it('keeps the flag the change sets, and the stored one when the config does not change', () => {
    const fromFile = ok(phases.canary(10), ramp({ rolledBack: false }));
    // The change says so itself: kept even when the config it writes is a rollback.
    expect(written(planWrite(file, fromFile, phases.canary(10), { change: (state) => ({ ramp: { ...state, rolledBack: false }, config: phases.rolledBack() }) })).ramp?.rolledBack).toBe(false);
    // No config: the state's own flag stays, even over a config that uses new.
    const rolled = ok(phases.canary(10), ramp({ rolledBack: true }));
    expect(written(planWrite(file, rolled, phases.canary(10), { change: (state) => ({ ramp: state }) })).ramp?.rolledBack).toBe(true);
    expect(written(planWrite(file, ok(phases.canary(10), ramp()), phases.canary(10), { change: (state) => ({ ramp: state }) })).ramp?.rolledBack).toBeUndefined();
  });

  it('works the flag out from the config when the change writes one and leaves the flag unset', () => {
    const unset = (state: RampState): RampState => {
      const { rolledBack: _drop, ...rest } = state;
      return rest;
    };
    const rollBack = { change: (state: RampState) => ({ ramp: unset(state), config: phases.rolledBack() }) };
    expect(written(planWrite(file, ok(phases.canary(10), ramp()), phases.canary(10), rollBack)).ramp?.rolledBack).toBe(true);
    // Over preparation, a rollback is rolled back only if the file said so.
    expect(written(planWrite(file, ok(phases.preparation(), ramp()), phases.canary(10), rollBack)).ramp?.rolledBack).toBe(false);
    expect(written(planWrite(file, ok(phases.preparation(), ramp({ rolledBack: true })), phases.canary(10), rollBack)).ramp?.rolledBack).toBe(true);
    expect(written(planWrite(file, ok(phases.preparation(), ramp({ rolledBack: false })), phases.canary(10), rollBack)).ramp?.rolledBack).toBe(false);
    // Over a file with no ramp state: nothing says it was rolled back.
    expect(written(planWrite(file, ok(phases.preparation()), phases.canary(10), rollBack)).ramp?.rolledBack).toBe(false);
    const forward = { change: (state: RampState) => ({ ramp: unset(state), config: phases.canary(1) }) };
    expect(written(planWrite(file, ok(phases.rolledBack(), ramp({ rolledBack: true })), phases.rolledBack(), forward)).ramp?.rolledBack).toBe(false);
  });
});
