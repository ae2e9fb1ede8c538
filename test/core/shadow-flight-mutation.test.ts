import { describe, expect, it } from 'vitest';
import { newCargo, newFlight } from '../../src/core/shadow-flight.js';

// src/core/shadow-flight.ts: what a shadow call holds when it takes off.
// The shadow runner reads these fields to decide whether a flight has
// landed (done, cargo), whether both sides answered (old, new), whether a
// re-run is pending and which timeout cohort it is in.

describe('newCargo', () => {
  it('holds the input, given to new as is until isolated, with nothing answered nor pending', () => {
    const input = { userId: 'u1' };
    const cargo = newCargo<typeof input, number>(input);
    expect(cargo).toStrictEqual({ input, newInput: input, snapshot: undefined, old: undefined, new: undefined, pending: undefined });
    expect(cargo.input).toBe(input);
    expect(cargo.newInput).toBe(input);
  });

  it('gives each flight a cargo of its own', () => {
    const input = { userId: 'u1' };
    const a = newCargo<typeof input, number>(input);
    const b = newCargo<typeof input, number>(input);
    expect(a).not.toBe(b);
    a.old = { ok: true, value: 1 };
    expect(b.old).toBeUndefined();
  });
});

describe('newFlight', () => {
  it('takes off not landed, carrying its cargo, with no durations, gate or cohort yet', () => {
    const cargo = newCargo<string, number>('in');
    const flight = newFlight<string, number>('u1', cargo, 1_234.5);
    expect(flight).toStrictEqual({
      key: 'u1',
      start: 1_234.5,
      done: false,
      cargo,
      oldMs: 0,
      newMs: 0,
      settledAt: 0,
      gate: undefined,
      cohort: undefined,
      prev: undefined,
      next: undefined,
    });
    expect(flight.cargo).toBe(cargo);
  });

  it('keeps a missing key as undefined', () => {
    const flight = newFlight<string, number>(undefined, newCargo<string, number>('in'), 0);
    expect(flight.key).toBeUndefined();
    expect(flight.done).toBe(false);
  });
});
