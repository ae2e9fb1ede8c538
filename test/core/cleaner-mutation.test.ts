import { describe, expect, it } from 'vitest';
import { Cleaner, isThenable, withheld } from '../../src/core/cleaner.js';
import type { ErrorSummary } from '../../src/core/error-shown.js';
import type { CleanHooks } from '../../src/core/shadow-options.js';
import type { Clock } from '../../src/observe/clock.js';
import { LogLimiter } from '../../src/observe/log-limiter.js';
import { recordingLogger } from '../helpers.js';

// src/core/cleaner.ts: the `shadow.clean` rules. What a hook answers is what
// events show; a hook that throws or answers a promise withholds the value;
// with any hook set, an error is shown as a masked { name, message, code? }
// copy, never as itself.

type Input = { user: string; card: string; nested?: { token: string } };
type Output = { total: number; token: string };

const fixedClock: Clock = { now: () => 1_000 };

/** A Cleaner named `payments` logging through a limiter of `perKind` lines per kind into a recording logger. */
function cleanerWith(clean: CleanHooks<Input, Output>, perKind = 10) {
  const logger = recordingLogger();
  const cleaner = new Cleaner<Input, Output>('payments', clean, new LogLimiter(logger, fixedClock, perKind));
  return { cleaner, logger };
}

const secretCard = '4111-1111-SECRET';
const maskCard = (input: Input): Input => ({ ...input, card: '***' });
const declined = (input: Input) => Object.assign(new TypeError(`card ${input.card} declined for ${input.user}`), { code: 'E_DECLINED', request: { auth: 'Bearer tok' } });

describe('Cleaner without hooks', () => {
  it('is not active, cleans no output, and shows input, output and error as themselves', () => {
    const { cleaner, logger } = cleanerWith({});
    const input = { user: 'alice', card: secretCard };
    const output = { total: 1, token: 'tok' };
    const error = declined(input);
    expect(cleaner.active).toBe(false);
    expect(cleaner.cleansOutput).toBe(false);
    expect(cleaner.input(input)).toBe(input);
    expect(cleaner.output(output)).toBe(output);
    expect(cleaner.error(error, input)).toBe(error);
    expect(logger.lines).toEqual([]);
  });
});

describe('Cleaner.active and cleansOutput', () => {
  it('any one hook makes the cleaner active; only clean.output makes it clean outputs', () => {
    expect(cleanerWith({ input: maskCard }).cleaner.active).toBe(true);
    expect(cleanerWith({ input: maskCard }).cleaner.cleansOutput).toBe(false);
    expect(cleanerWith({ output: (o) => o }).cleaner.active).toBe(true);
    expect(cleanerWith({ output: (o) => o }).cleaner.cleansOutput).toBe(true);
    expect(cleanerWith({ error: (e) => e }).cleaner.active).toBe(true);
    expect(cleanerWith({ error: (e) => e }).cleaner.cleansOutput).toBe(false);
  });

  it('with only clean.output set, an error is still shown as a summary copy, not as itself', () => {
    const { cleaner } = cleanerWith({ output: (o) => o });
    const input = { user: 'alice', card: secretCard };
    const shown = cleaner.error(declined(input), input);
    expect(shown).not.toBeInstanceOf(Error);
    expect(shown).toEqual({ name: 'TypeError', message: `card ${secretCard} declined for alice`, code: 'E_DECLINED' });
  });

  it('with only clean.error set, the hook gets the unmasked summary and its answer is shown', () => {
    const seen: ErrorSummary[] = [];
    const { cleaner } = cleanerWith({
      error: (e) => {
        seen.push(e);
        return { kind: 'cleaned', name: e.name };
      },
    });
    const input = { user: 'alice', card: secretCard };
    expect(cleaner.error(declined(input), input)).toEqual({ kind: 'cleaned', name: 'TypeError' });
    expect(seen).toEqual([{ name: 'TypeError', message: `card ${secretCard} declined for alice`, code: 'E_DECLINED' }]);
  });
});

describe('Cleaner.input and Cleaner.output', () => {
  it('show what the hook answers, computed on a copy: the caller\'s object is never handed over nor changed', () => {
    const handed: unknown[] = [];
    const { cleaner } = cleanerWith({
      input: (input) => {
        handed.push(input);
        input.card = '***';
        return { ...input, user: 'hidden' };
      },
      output: (output) => {
        handed.push(output);
        output.token = '***';
        return output;
      },
    });
    const input = { user: 'alice', card: secretCard, nested: { token: 'in-token' } };
    const output = { total: 3, token: 'out-token' };
    expect(cleaner.input(input)).toEqual({ user: 'hidden', card: '***', nested: { token: 'in-token' } });
    expect(cleaner.output(output)).toEqual({ total: 3, token: '***' });
    expect(handed[0]).not.toBe(input);
    expect(handed[1]).not.toBe(output);
    expect(input).toEqual({ user: 'alice', card: secretCard, nested: { token: 'in-token' } });
    expect(output).toEqual({ total: 3, token: 'out-token' });
  });

  it('an input hook alone leaves outputs as they are, an output hook alone leaves inputs as they are', () => {
    const input = { user: 'alice', card: secretCard };
    const output = { total: 3, token: 'out-token' };
    expect(cleanerWith({ input: maskCard }).cleaner.output(output)).toBe(output);
    expect(cleanerWith({ output: (o) => ({ ...o, token: '***' }) }).cleaner.input(input)).toBe(input);
  });

  it('a hook that throws withholds the value and logs a warning naming only the error class', () => {
    const { cleaner, logger } = cleanerWith({
      input: (input) => {
        throw new RangeError(`cannot clean ${input.card}`);
      },
    });
    expect(withheld).toBe('[clean failed]');
    expect(cleaner.input({ user: 'alice', card: secretCard })).toBe('[clean failed]');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', context: { errorName: 'RangeError', migration: 'payments' } });
    expect(logger.lines[0]?.message).toBe('shadow.clean.input threw; the input is withheld');
    expect(JSON.stringify(logger.lines)).not.toContain('SECRET');
  });

  it('the warning names the hook that failed', () => {
    const fail = () => {
      throw new Error('no');
    };
    const { cleaner, logger } = cleanerWith({ input: fail, output: fail, error: fail });
    cleaner.output({ total: 1, token: 't' });
    cleaner.error(new Error('e'), undefined);
    cleaner.input({ user: 'a', card: 'b' });
    expect(logger.lines.map((line) => line.message)).toEqual([
      'shadow.clean.output threw; the output is withheld',
      'shadow.clean.error threw; the error is withheld',
      'shadow.clean.input threw; the input is withheld',
    ]);
  });

  it('a hook that answers a promise withholds the value, logs a warning, and its rejection is handled', async () => {
    let handled = 0;
    const rejecting = {
      then(_resolve: unknown, reject: unknown) {
        if (typeof reject === 'function') handled += 1;
      },
    };
    const { cleaner, logger } = cleanerWith({ output: () => rejecting as unknown as Output });
    expect(cleaner.output({ total: 1, token: 'tok' })).toBe('[clean failed]');
    expect(handled).toBe(1);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', context: { migration: 'payments' } });
    expect(logger.lines[0]?.message).toBe('shadow.clean.output returned a promise (it must be synchronous); the output is withheld');
    expect(logger.lines[0]?.context).not.toHaveProperty('errorName');
  });

  it('an answer that is not a promise is shown as it is, falsy answers included', () => {
    for (const answer of [0, '', null, false, { then: 'not callable' }]) {
      const { cleaner, logger } = cleanerWith({ output: () => answer as unknown as Output });
      expect(cleaner.output({ total: 1, token: 'tok' })).toBe(answer);
      expect(logger.lines).toEqual([]);
    }
  });

  it('failures of each hook are logged as their own kind, so one flooding hook does not silence another', () => {
    const fail = () => {
      throw new Error('no');
    };
    const { cleaner, logger } = cleanerWith({ input: fail, output: fail, error: fail }, 1);
    cleaner.input({ user: 'a', card: 'b' });
    cleaner.output({ total: 1, token: 't' });
    cleaner.error(new Error('e'), undefined);
    expect(logger.lines).toHaveLength(3);
    cleaner.input({ user: 'a', card: 'b' });
    expect(logger.lines).toHaveLength(3);
  });

  it('promise answers are logged under the same kind as throws of that hook', () => {
    let n = 0;
    const { cleaner, logger } = cleanerWith(
      {
        output: (() => {
          n += 1;
          if (n === 1) return Promise.resolve({ total: 0, token: '' });
          throw new Error('no');
        }) as never,
        input: (async () => ({ user: '', card: '' })) as never,
      },
      1,
    );
    cleaner.output({ total: 1, token: 't' });
    cleaner.input({ user: 'a', card: 'b' });
    expect(logger.lines).toHaveLength(2);
    cleaner.output({ total: 1, token: 't' });
    expect(logger.lines).toHaveLength(2);
  });
});

describe('the error name logged when a hook throws', () => {
  function nameLogged(thrown: unknown): unknown {
    const { cleaner, logger } = cleanerWith({
      input: () => {
        throw thrown;
      },
    });
    cleaner.input({ user: 'a', card: 'b' });
    return (logger.lines[0]?.context as { errorName?: unknown }).errorName;
  }

  it('is the name of an Error, at most 100 characters; Error when its name is not a string', () => {
    expect(nameLogged(new SyntaxError('x'))).toBe('SyntaxError');
    expect(nameLogged(Object.assign(new Error('x'), { name: 'N'.repeat(150) }))).toBe('N'.repeat(100));
    expect(nameLogged(Object.assign(new Error('x'), { name: 42 }))).toBe('Error');
  });

  it('is the type of anything else thrown, never its text', () => {
    expect(nameLogged('secret text')).toBe('string');
    expect(nameLogged({ name: 'Fake', message: 'secret' })).toBe('object');
    expect(nameLogged(undefined)).toBe('undefined');
  });

  it('is read without trusting the error: a throwing name getter or a hostile Proxy gives its type', () => {
    const getter = new Error('x');
    Object.defineProperty(getter, 'name', {
      get() {
        throw new Error('no');
      },
    });
    expect(nameLogged(getter)).toBe('object');
    const proxy = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('no');
        },
      },
    );
    expect(nameLogged(proxy)).toBe('object');
  });
});

describe('Cleaner.error with clean.input set', () => {
  it('masks in the message every value clean.input masked in the input, and keeps name and code', () => {
    const { cleaner } = cleanerWith({ input: maskCard });
    const input = { user: 'alice', card: secretCard };
    expect(cleaner.error(declined(input), input)).toEqual({ name: 'TypeError', message: 'card [redacted] declined for alice', code: 'E_DECLINED' });
  });

  it('hands clean.error the masked copy and shows its answer', () => {
    const seen: ErrorSummary[] = [];
    const { cleaner } = cleanerWith({
      input: maskCard,
      error: (e) => {
        seen.push(e);
        return `${e.name}: ${e.message}`;
      },
    });
    const input = { user: 'alice', card: secretCard };
    expect(cleaner.error(declined(input), input)).toBe('TypeError: card [redacted] declined for alice');
    expect(seen).toEqual([{ name: 'TypeError', message: 'card [redacted] declined for alice', code: 'E_DECLINED' }]);
  });

  it('a clean.error that throws withholds the error', () => {
    const { cleaner, logger } = cleanerWith({
      input: maskCard,
      error: () => {
        throw new Error('no');
      },
    });
    const input = { user: 'alice', card: secretCard };
    expect(cleaner.error(declined(input), input)).toBe('[clean failed]');
    expect(logger.lines[0]).toMatchObject({ level: 'warn', context: { errorName: 'Error', migration: 'payments' } });
  });

  it('without the input (undefined), masks nothing and never runs clean.input', () => {
    let ran = 0;
    const { cleaner, logger } = cleanerWith({
      input: (input) => {
        ran += 1;
        return maskCard(input);
      },
    });
    expect(cleaner.error(new Error('card 4111-1111-SECRET declined'), undefined)).toEqual({ name: 'Error', message: 'card 4111-1111-SECRET declined' });
    expect(ran).toBe(0);
    expect(logger.lines).toEqual([]);
  });

  it('without clean.input, the message is never masked, even against an input whose getters answer anew on each read', () => {
    let reads = 0;
    const input = {
      user: 'alice',
      get card() {
        reads += 1;
        return `card-${1000 + reads}`;
      },
    };
    const { cleaner } = cleanerWith({ output: (o) => o });
    expect(cleaner.error(new Error('card-1001 and card-1002 declined'), input)).toEqual({ name: 'Error', message: 'card-1001 and card-1002 declined' });
    expect(reads).toBe(0);
  });

  it('an input clean.input fails on masks every value of the input in the message', () => {
    const { cleaner } = cleanerWith({
      input: () => {
        throw new Error('no');
      },
    });
    const input = { user: 'alice-1', card: secretCard };
    expect(cleaner.error(declined(input), input)).toMatchObject({ message: 'card [redacted] declined for [redacted]' });
  });

  it('a thrown non-error is summarised by its type and text', () => {
    const { cleaner } = cleanerWith({ input: maskCard });
    const input = { user: 'alice', card: secretCard };
    expect(cleaner.error(`declined ${secretCard}`, input)).toEqual({ name: 'string', message: 'declined [redacted]' });
  });
});

describe('isThenable', () => {
  it('is true only for objects and functions with a callable then', () => {
    expect(isThenable(Promise.resolve(1))).toBe(true);
    expect(isThenable({ then: () => undefined })).toBe(true);
    expect(isThenable(Object.assign(() => undefined, { then: () => undefined }))).toBe(true);
    expect(isThenable({ then: 'no' })).toBe(false);
    expect(isThenable({})).toBe(false);
    expect(isThenable(() => undefined)).toBe(false);
    expect(isThenable(null)).toBe(false);
    expect(isThenable(undefined)).toBe(false);
    expect(isThenable('then')).toBe(false);
    expect(isThenable(42)).toBe(false);
  });

  it('never throws: a then getter that throws or a revoked Proxy is not a thenable', () => {
    const getter = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('no');
      },
    });
    expect(isThenable(getter)).toBe(false);
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    expect(isThenable(revocable.proxy)).toBe(false);
  });
});
