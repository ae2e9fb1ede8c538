import { describe, expect, it } from 'vitest';
import { errorText, loggableError, timeoutError, unwrap } from '../../src/data/bounded.js';
import { MigrationGlueError } from '../../src/errors.js';

// src/data/bounded.ts: the timeout error of a store call, unwrapping a
// settled call, and describing any thrown value without running user code
// that throws.

const unreadable = 'an unreadable value (a revoked Proxy or an object whose getters throw)';

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** An Error whose `name` getter throws. */
function hostileError(): Error {
  const error = new Error('inner');
  Object.defineProperty(error, 'name', {
    get() {
      throw new Error('no name');
    },
  });
  return error;
}

describe('timeoutError', () => {
  it('is ERR_TIMEOUT naming the call and the bound', () => {
    const error = timeoutError('new.save', 250);
    expect(error).toBeInstanceOf(MigrationGlueError);
    expect(error.code).toBe('ERR_TIMEOUT');
    expect(error.message).toBe('[migration-glue] new.save timed out: no answer within 250 ms');
  });
});

describe('unwrap', () => {
  it('returns the value of a call that answered, without calling onTimeout', () => {
    let asked = 0;
    const onTimeout = () => {
      asked++;
      return new Error('late');
    };
    expect(unwrap({ status: 'ok', value: 7 }, onTimeout)).toBe(7);
    expect(unwrap({ status: 'ok', value: undefined }, onTimeout)).toBeUndefined();
    expect(asked).toBe(0);
  });

  it('throws the error of a call that failed, unchanged, without calling onTimeout', () => {
    const failure = new Error('boom');
    let asked = 0;
    let thrown: unknown;
    try {
      unwrap({ status: 'error', error: failure }, () => {
        asked++;
        return new Error('late');
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(failure);
    expect(asked).toBe(0);
  });

  it('throws what onTimeout returns for a call that timed out', () => {
    const late = new Error('late');
    expect(() => unwrap({ status: 'timeout' }, () => late)).toThrow(late);
  });
});

describe('errorText', () => {
  it('gives name and message of an Error', () => {
    expect(errorText(new TypeError('bad input'))).toBe('TypeError: bad input');
    expect(errorText(new MigrationGlueError('ERR_TIMEOUT', 'slow'))).toBe('MigrationGlueError: [migration-glue] slow');
  });

  it('gives a string as it is, unquoted', () => {
    expect(errorText('plain words')).toBe('plain words');
    expect(errorText('')).toBe('');
  });

  it('describes any other value', () => {
    expect(errorText({ code: 1 })).toBe('an object');
    expect(errorText([1])).toBe('an array');
    expect(errorText(null)).toBe('null');
    expect(errorText(undefined)).toBe('undefined');
    expect(errorText(42)).toBe('42');
  });

  it('never throws: a revoked Proxy or an Error whose getters throw gives a fixed text', () => {
    expect(errorText(revoked())).toBe(unreadable);
    expect(errorText(hostileError())).toBe(unreadable);
  });
});

describe('loggableError', () => {
  it('reads type, message and stack of an Error once', () => {
    const error = new RangeError('out of range');
    expect(loggableError(error)).toEqual({ type: 'RangeError', message: 'out of range', stack: String(error.stack) });
  });

  it('gives only a message for anything else', () => {
    expect(loggableError('plain words')).toEqual({ message: 'plain words' });
    expect(loggableError({ code: 1 })).toEqual({ message: 'an object' });
    expect(loggableError(undefined)).toEqual({ message: 'undefined' });
  });

  it('falls back to the text when reading the Error throws', () => {
    expect(loggableError(hostileError())).toEqual({ message: unreadable });
    expect(loggableError(revoked())).toEqual({ message: unreadable });
  });
});
