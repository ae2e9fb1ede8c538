import { describe, expect, it } from 'vitest';
import { callAsPromise, toServiceCall } from '../../src/core/service.js';
import type { Service } from '../../src/core/service.js';
import { InvalidOptionError } from '../../src/errors.js';

// src/core/service.ts: a Service or a function normalised once into a call,
// and a call whose every outcome comes back as a promise.

describe('toServiceCall', () => {
  it('returns a function as it is', () => {
    const fn = async (n: number) => n + 1;
    expect(toServiceCall(fn, 'oldService')).toBe(fn);
  });

  it('calls process on the service itself, with the input, each time', async () => {
    const seen: unknown[] = [];
    const service = {
      base: 10,
      async process(this: { base: number }, n: number) {
        seen.push(this);
        return this.base + n;
      },
    };
    const call = toServiceCall<number, number>(service, 'newService');
    await expect(call(1)).resolves.toBe(11);
    await expect(call(2)).resolves.toBe(12);
    expect(seen).toEqual([service, service]);
    expect(seen[0]).toBe(service);
  });

  it('reads process at each call, not once: a service that swaps its method is followed', async () => {
    const service: Service<number, string> = { process: async () => 'first' };
    const call = toServiceCall(service, 'newService');
    service.process = async () => 'second';
    await expect(call(0)).resolves.toBe('second');
  });

  it.each([
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a number', 7, '7'],
    ['a string', 'svc', '"svc"'],
    ['an object without process', {}, 'an object'],
    ['an object whose process is not a function', { process: 'no' }, 'an object'],
  ])('refuses %s, naming the option', (_, value, shown) => {
    const refusal = () => toServiceCall(value as never, 'oldService');
    expect(refusal).toThrow(InvalidOptionError);
    expect(refusal).toThrow(`option \`oldService\` must be a Service ({ process(input) }) or an async function, got ${shown}`);
  });

  it('refuses an object whose process getter throws, with an InvalidOptionError rather than the getter\'s error', () => {
    const hostile = {
      get process(): never {
        throw new Error('getter broke');
      },
    };
    expect(() => toServiceCall(hostile as never, 'newService')).toThrow(InvalidOptionError);
    expect(() => toServiceCall(hostile as never, 'newService')).toThrow('option `newService` must be a Service');
  });

  it('never takes a primitive for a Service, even with a process function inherited from a polluted Object.prototype', () => {
    const refusals: string[] = [];
    Object.defineProperty(Object.prototype, 'process', { value: async () => 'polluted', configurable: true, writable: true });
    try {
      for (const value of ['svc', 7, true, 10n, Symbol('svc')]) {
        try {
          toServiceCall(value as never, 'newService');
          refusals.push('accepted');
        } catch (error) {
          refusals.push(error instanceof InvalidOptionError ? 'refused' : 'other');
        }
      }
    } finally {
      delete (Object.prototype as { process?: unknown }).process;
    }
    expect(refusals).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
    // the pollution is gone again
    expect(({} as { process?: unknown }).process).toBeUndefined();
  });

  it('refuses a revoked Proxy', () => {
    const { proxy, revoke } = Proxy.revocable({ process: async () => 1 }, {});
    revoke();
    expect(() => toServiceCall(proxy as never, 'oldService')).toThrow('got a revoked Proxy');
  });
});

describe('callAsPromise', () => {
  it('returns a native promise as it is, and passes every argument', () => {
    const answer = Promise.resolve(3);
    let args: unknown[] = [];
    const fn = (...given: unknown[]) => {
      args = given;
      return answer;
    };
    expect(callAsPromise(fn, 1, 'two', null)).toBe(answer);
    expect(args).toEqual([1, 'two', null]);
  });

  it('turns a plain value into a promise of it', async () => {
    const result = callAsPromise(() => 5);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe(5);
  });

  it('turns a synchronous throw into a rejection with that very error', async () => {
    const failure = new Error('sync');
    let result: Promise<never> | undefined;
    expect(() => {
      result = callAsPromise(() => {
        throw failure;
      });
    }).not.toThrow();
    await expect(result).rejects.toBe(failure);
  });

  it('adopts a thenable', async () => {
    const thenable = { then: (resolve: (value: string) => void) => resolve('adopted') };
    await expect(callAsPromise(() => thenable as unknown as Promise<string>)).resolves.toBe('adopted');
  });
});
