import { describe, expect, it } from 'vitest';
import { newCargo, newFlight } from '../../src/core/shadow-flight.js';
import { InputIsolation } from '../../src/core/shadow-input.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { recordingLogger } from '../helpers.js';

// src/core/shadow-input.ts: with isolateInput 'clone', new gets its own copy
// of the input, a second copy tells whether new changed it, and old's re-run
// gets a fresh copy; with 'none', everyone gets the same object.

type Input = Record<string, unknown>;

function isolation(clone: boolean) {
  const logger = recordingLogger();
  const isolate = new InputIsolation<Input, unknown>({ name: 'pricing', clone, log: new LogLimiter(logger, { now: () => 0 }) });
  return { isolate, logger };
}

function cargoOf(input: Input) {
  return newCargo<Input, unknown>(input);
}

const flight = (cargo: ReturnType<typeof cargoOf>) => newFlight<Input, unknown>('k1', cargo, 0);

describe('InputIsolation with clone', () => {
  it('gives new a copy and keeps a second one; neither is the input', () => {
    const { isolate } = isolation(true);
    const input = { user: 'alice', items: [1, 2] };
    const cargo = cargoOf(input);
    isolate.isolate(cargo);
    expect(cargo.newInput).toEqual(input);
    expect(cargo.newInput).not.toBe(input);
    expect(cargo.snapshot).toEqual(input);
    expect(cargo.snapshot).not.toBe(input);
    expect(cargo.snapshot).not.toBe(cargo.newInput);
  });

  it('an untouched copy is no mutation', () => {
    const { isolate, logger } = isolation(true);
    const cargo = cargoOf({ user: 'alice' });
    isolate.isolate(cargo);
    expect(isolate.mutated(flight(cargo), cargo)).toBe(false);
    expect(isolate.mutations).toBe(0);
    expect(logger.lines).toEqual([]);
  });

  it('a copy new changed is a mutation: counted and warned, with the key', () => {
    const { isolate, logger } = isolation(true);
    const cargo = cargoOf({ user: 'alice' });
    isolate.isolate(cargo);
    cargo.newInput['user'] = 'bob';
    expect(isolate.mutated(flight(cargo), cargo)).toBe(true);
    expect(isolate.mutated(flight(cargo), cargo)).toBe(true);
    expect(isolate.mutations).toBe(2);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', message: 'the new service mutated its input', context: { migration: 'pricing', key: 'k1' } });
  });

  it('a copy new made unreadable is warned about, not counted', () => {
    const { isolate, logger } = isolation(true);
    const cargo = cargoOf({ user: 'alice' });
    isolate.isolate(cargo);
    Object.defineProperty(cargo.newInput, 'user', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(isolate.mutated(flight(cargo), cargo)).toBe(false);
    expect(isolate.mutations).toBe(0);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      message: 'the shadow input could not be checked for mutation (too large, or new made it unreadable)',
      context: { migration: 'pricing', key: 'k1' },
    });
  });

  it('an input that cannot be cloned goes to new as it is, unchecked, warned about once', () => {
    const { isolate, logger } = isolation(true);
    const input = { callback: () => 1 };
    const cargo = cargoOf(input);
    cargo.snapshot = { stale: true };
    isolate.isolate(cargo);
    expect(logger.lines).toHaveLength(1);
    expect(cargo.newInput).toBe(input);
    expect(cargo.snapshot).toBeUndefined();
    expect(isolate.mutated(flight(cargo), cargo)).toBe(false);
    expect(isolate.rerunInput(cargo)).toBe(input);
    const again = cargoOf(input);
    isolate.isolate(again);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      message: 'shadow input cannot be cloned; new gets the same object (set shadow.isolateInput to none to silence)',
      context: { migration: 'pricing' },
    });
    expect((logger.lines[0]?.context as { err?: unknown }).err).toBeInstanceOf(Error);
  });

  it('old\'s re-run gets a fresh copy of the pristine input, even after new changed its own', () => {
    const { isolate } = isolation(true);
    const input = { user: 'alice' };
    const cargo = cargoOf(input);
    isolate.isolate(cargo);
    cargo.newInput['user'] = 'bob';
    const rerun = isolate.rerunInput(cargo);
    expect(rerun).toEqual({ user: 'alice' });
    expect(rerun).not.toBe(input);
    expect(rerun).not.toBe(cargo.snapshot);
  });

  it('a snapshot that can no longer be copied: the re-run gets the input itself', () => {
    const { isolate } = isolation(true);
    const input = { user: 'alice' };
    const cargo = cargoOf(input);
    cargo.snapshot = { f: Symbol('not cloneable') } as unknown as Input;
    expect(isolate.rerunInput(cargo)).toBe(input);
  });
});

describe('InputIsolation without clone', () => {
  it('everyone gets the input itself and nothing is checked', () => {
    const { isolate, logger } = isolation(false);
    const input = { user: 'alice' };
    const cargo = cargoOf(input);
    isolate.isolate(cargo);
    expect(cargo.newInput).toBe(input);
    expect(cargo.snapshot).toBeUndefined();
    input.user = 'bob';
    expect(isolate.mutated(flight(cargo), cargo)).toBe(false);
    expect(isolate.rerunInput(cargo)).toBe(input);
    expect(isolate.mutations).toBe(0);
    expect(logger.lines).toEqual([]);
  });

  it('re-runs with the input itself even when a snapshot is present', () => {
    const { isolate } = isolation(false);
    const input = { user: 'alice' };
    const cargo = cargoOf(input);
    cargo.snapshot = { user: 'alice' };
    expect(isolate.rerunInput(cargo)).toBe(input);
  });
});
