import { describe, expect, it } from 'vitest';
import { MigrationGlue, glueService, phases } from '../../src/index.js';
import type { MigrationConfig, MigrationGlueOptions } from '../../src/index.js';
import { recordEvents } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

// A service's error message may quote its input ("card 4111... declined").
// With a clean hook set, an error leaves the glue as a { name, message, code? }
// copy whose message has every value clean.input masked masked too, or as
// clean.error shows it.

type Input = { userId: string; card: string };
type Output = { total: number };

const secret = '4111-1111-SECRET';
const declined = (input: Input) => new TypeError(`card ${input.card} declined`);

/** Every value as a log sink or a listener would see it: errors with their name, message and stack. */
function dump(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack, cause: v.cause } : v));
}

function glueWith(config: MigrationConfig, options: Partial<MigrationGlueOptions<Input, Output>>) {
  const logger = recordingLogger();
  const glue = new MigrationGlue<Input, Output>({
    name: 'payments',
    oldService: async () => ({ total: 10 }),
    newService: async (input) => {
      throw declined(input);
    },
    config,
    logger,
    ...options,
  });
  const events = recordEvents(glue).events;
  return { glue, logger, events };
}

const cleanCard = { input: (input: Input) => ({ ...input, card: '***' }) };

describe('errors shown with shadow.clean set', () => {
  it('masks in the message of a failed shadow call what clean.input masked, in the mismatch, shadowError, logs and stats', async () => {
    const { glue, logger, events } = glueWith(phases.shadow(), { shadow: { clean: cleanCard } });
    await glue.process({ userId: 'u1', card: secret });
    await glue.drain();
    expect(events.mismatch).toHaveLength(1);
    expect(events.shadowError).toHaveLength(1);
    expect(dump({ events, lines: logger.lines, stats: glue.stats() })).not.toContain('SECRET');
    expect(events.mismatch[0]?.new).toEqual({ ok: false, error: { name: 'TypeError', message: 'card [redacted] declined' } });
    expect(events.shadowError[0]?.error).toEqual({ name: 'TypeError', message: 'card [redacted] declined' });
    expect(dump(logger.lines)).toContain('card [redacted] declined');
    expect(events.mismatch[0]?.comparison.diff[0]?.kind).toBe('error');
  });

  it('shows what clean.error returns, computed from the masked { name, message, code } copy', async () => {
    const seen: unknown[] = [];
    const error = (e: { name: string; message: string }) => {
      seen.push(e);
      return { name: e.name, message: e.message.replace(/card \S+/, 'card ***') };
    };
    const { glue, logger, events } = glueWith(phases.shadow(), {
      newService: async (input) => {
        throw Object.assign(declined(input), { code: 'E_DECLINED', request: { auth: 'Bearer SECRET' } });
      },
      shadow: { clean: { ...cleanCard, error } },
    });
    await glue.process({ userId: 'u1', card: secret });
    await glue.drain();
    expect(dump({ events, lines: logger.lines })).not.toContain('SECRET');
    expect(events.mismatch[0]?.new).toEqual({ ok: false, error: { name: 'TypeError', message: 'card *** declined' } });
    expect(dump(logger.lines)).toContain('card *** declined');
    expect(seen).toContainEqual({ name: 'TypeError', message: 'card [redacted] declined', code: 'E_DECLINED' });
    expect(seen.every((e) => !(e instanceof Error))).toBe(true);
  });

  it('a clean.error that throws or answers a promise withholds the error', async () => {
    for (const error of [
      () => {
        throw new Error(`hook saw ${secret}`);
      },
      async () => ({ name: 'x', message: 'late' }),
    ]) {
      const { glue, logger, events } = glueWith(phases.shadow(), { shadow: { clean: { error } } });
      await glue.process({ userId: 'u1', card: 'visible' });
      await glue.drain();
      expect(events.mismatch[0]?.new).toEqual({ ok: false, error: '[clean failed]' });
      expect(events.shadowError[0]?.error).toBe('[clean failed]');
      const everything = dump({ events, lines: logger.lines });
      expect(everything).not.toContain('declined');
      expect(everything).not.toContain('SECRET');
    }
  });

  it('cleans the error of a canary fallback, in its event and its log line', async () => {
    const { glue, logger, events } = glueWith(phases.canary(100), { shadow: { clean: cleanCard } });
    await expect(glue.process({ userId: 'u1', card: secret })).resolves.toEqual({ total: 10 });
    expect(events.fallback).toHaveLength(1);
    expect(events.fallback[0]?.error).toEqual({ name: 'TypeError', message: 'card [redacted] declined' });
    expect(dump({ events, lines: logger.lines })).not.toContain('SECRET');
  });

  it('cleans the error of a routingKey that throws, in the missing-key log line', async () => {
    const { glue, logger } = glueWith(phases.canary(50), {
      newService: async () => ({ total: 10 }),
      routingKey: (input) => {
        throw new Error(`no key in ${input.card}`);
      },
      shadow: { clean: cleanCard },
    });
    await glue.process({ userId: 'u1', card: secret });
    expect(logger.lines.some((line) => line.message?.startsWith('call without a routing key'))).toBe(true);
    expect(dump(logger.lines)).not.toContain('SECRET');
  });

  it('without any clean hook, errors are shown as they are: the same error object reaches the listener', async () => {
    const { glue, events } = glueWith(phases.canary(100), {});
    await glue.process({ userId: 'u1', card: secret });
    const shown = events.fallback[0]?.error;
    expect(shown).toBeInstanceOf(TypeError);
    expect((shown as Error).message).toBe(`card ${secret} declined`);
  });

  it('masks values at any depth and of any type the hook changed or dropped, and a hook that throws masks every value', async () => {
    type Deep = { userId: string; card: string; payer?: { iban: string; tries: number } };
    const run = async (input: (i: Deep) => Deep) => {
      const logger = recordingLogger();
      const glue = new MigrationGlue<Deep, Output>({
        name: 'deep',
        oldService: async () => ({ total: 1 }),
        newService: async (i) => {
          throw new Error(`iban ${i.payer?.iban} after ${i.payer?.tries} tries for ${i.userId}`);
        },
        config: phases.canary(100),
        logger,
        shadow: { clean: { input } },
      });
      const events = recordEvents(glue).events;
      await glue.process({ userId: 'user-7', card: secret, payer: { iban: 'DE89-SECRET', tries: 31337 } });
      return (events.fallback[0]?.error as { message: string }).message;
    };
    expect(await run(({ payer, ...rest }) => ({ ...rest, payer: payer === undefined ? undefined : { ...payer, iban: 'x', tries: 0 } }))).toBe(
      'iban [redacted] after [redacted] tries for user-7',
    );
    expect(await run(({ payer: _payer, ...rest }) => rest)).toBe('iban [redacted] after [redacted] tries for user-7');
    expect(
      await run(() => {
        throw new Error('hook broke');
      }),
    ).toBe('iban [redacted] after [redacted] tries for [redacted]');
  });

  it('keeps the message of the glue\'s own shadow timeout, which quotes nothing of the input', async () => {
    const { glue, events } = glueWith(phases.shadow(), {
      newService: () => new Promise<Output>(() => undefined),
      shadow: { clean: cleanCard, timeoutMs: 1 },
    });
    await glue.process({ userId: 'u1', card: secret });
    await glue.drain();
    expect(events.shadowError.map((e) => e.reason)).toEqual(['timeout']);
    expect((events.shadowError[0]?.error as Error).message).toMatch(/timed out after 1 ms waiting for new/);
  });
});

describe('a glued service with shadow.clean', () => {
  it('logs a failed secondary write by the same clean rules, and hands onSecondaryFailure the error itself', async () => {
    const logger = recordingLogger();
    const failures: unknown[] = [];
    type Accounts = { deposit(card: string, amount: number): Promise<string> };
    const accounts = glueService<Accounts>({
      name: 'accounts',
      oldService: { deposit: async () => 'ok' },
      newService: {
        deposit: async (card) => {
          throw new Error(`card ${card} refused`);
        },
      },
      policies: { deposit: 'dualWrite' },
      config: phases.canary(10),
      logger,
      shadow: { clean: { input: (args) => args.map((arg) => (typeof arg === 'string' ? '***' : arg)) } },
      onSecondaryFailure: (failure) => void failures.push(failure.error),
    });
    await expect(accounts.deposit(secret, 5)).resolves.toBe('ok');
    const line = logger.lines.find((l) => l.message?.startsWith('secondary write failed'));
    expect(line?.context).toMatchObject({ err: { name: 'Error', message: 'card [redacted] refused' } });
    expect(dump(logger.lines)).not.toContain('SECRET');
    expect((failures[0] as Error).message).toBe(`card ${secret} refused`);
    await accounts.migration.close();
  });
});
