import { describe, expect, it } from 'vitest';
import { Listeners } from '../../src/config/listeners.js';
import { recordingLogger } from '../helpers.js';

// The listeners of a store, rule by rule: each case is one a mutant of
// src/config/listeners.ts would otherwise pass.

/** Resolves once pending promise callbacks and one macrotask have run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Listeners', () => {
  it('calls every listener with the value, in the order added, until removed', () => {
    const listeners = new Listeners<number>(recordingLogger(), 'listener threw');
    const calls: string[] = [];
    const offA = listeners.add((value) => calls.push(`a${value}`));
    listeners.add((value) => calls.push(`b${value}`));
    listeners.notify(1);
    offA();
    listeners.notify(2);
    expect(calls).toEqual(['a1', 'b1', 'b2']);
  });

  it('calls a listener added during a round only from the next one', () => {
    const listeners = new Listeners<number>(recordingLogger(), 'listener threw');
    const calls: string[] = [];
    listeners.add((value) => {
      calls.push(`first${value}`);
      if (value === 1) listeners.add((later) => calls.push(`late${later}`));
    });
    listeners.notify(1);
    listeners.notify(2);
    expect(calls).toEqual(['first1', 'first2', 'late2']);
  });

  it('logs a listener that throws at warn with the context and the error, and calls the next', () => {
    const logger = recordingLogger();
    const listeners = new Listeners<number>(logger, 'ramp listener threw', { migration: 'pricing' });
    const boom = new Error('boom');
    const seen: number[] = [];
    listeners.add(() => {
      throw boom;
    });
    listeners.add((value) => seen.push(value));
    listeners.notify(7);
    expect(seen).toEqual([7]);
    expect(logger.lines).toEqual([{ level: 'warn', context: { migration: 'pricing', err: boom }, message: 'ramp listener threw' }]);
  });

  it('logs with the error alone when given no context', () => {
    const logger = recordingLogger();
    const listeners = new Listeners<number>(logger, 'config listener threw');
    const boom = new Error('boom');
    listeners.add(() => {
      throw boom;
    });
    listeners.notify(1);
    expect(logger.lines).toEqual([{ level: 'warn', context: { err: boom }, message: 'config listener threw' }]);
  });

  it('keeps a listener that returns a rejected promise from becoming an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const listeners = new Listeners<number>(recordingLogger(), 'listener threw');
      listeners.add(async () => {
        throw new Error('async boom');
      });
      listeners.notify(1);
      await settle();
      await settle();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses a listener that is not a function, before and after close', () => {
    const listeners = new Listeners<number>(recordingLogger(), 'listener threw');
    expect(() => listeners.add('x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'listener' }));
    listeners.close();
    expect(() => listeners.add(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('after close, calls nobody, added before or after, and is idempotent', () => {
    const listeners = new Listeners<number>(recordingLogger(), 'listener threw');
    const calls: string[] = [];
    listeners.add(() => calls.push('before'));
    listeners.close();
    const off = listeners.add(() => calls.push('after'));
    expect(off()).toBeUndefined();
    listeners.notify(1);
    listeners.close();
    listeners.notify(2);
    expect(calls).toEqual([]);
  });

  it('stops calling the listeners notify is going through once closed mid-round', () => {
    const listeners = new Listeners<number>(recordingLogger(), 'listener threw');
    const calls: string[] = [];
    listeners.add(() => {
      calls.push('first');
      listeners.close();
    });
    listeners.add(() => calls.push('second'));
    listeners.notify(1);
    listeners.notify(2);
    // The round in progress runs to its end; the next one calls nobody.
    expect(calls).toEqual(['first', 'second']);
  });
});
