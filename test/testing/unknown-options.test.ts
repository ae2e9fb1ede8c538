import { describe, expect, it } from 'vitest';
import { MigrationGlue, phases, silentLogger } from '../../src/index.js';
import { InMemoryRepository, ManualClock, fakeService, replayMigration, simulateTraffic } from '../../src/testing/index.js';

// Every options object of the kit is strict: an unknown option is an
// ERR_INVALID_OPTION naming it and, when one is close, the name meant.

function caught(make: () => unknown): { code?: string; option?: string; message: string } {
  try {
    make();
  } catch (err) {
    return err as { code?: string; option?: string; message: string };
  }
  throw new Error('expected a throw');
}

const day = 86_400_000;
const steady = { from: 0, to: day, callsPerMinute: 10, old: {}, new: {} };

describe('unknown options of the testing kit', () => {
  it('replayMigration refuses a misspelt option and suggests the right one', async () => {
    await expect(replayMigration({ traffic: [steady], tickEveryMS: 1000 } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      option: 'tickEveryMS',
      message: expect.stringMatching(/not an option of replayMigration; did you mean `tickEveryMs`\?/),
    });
  });

  it('replayMigration refuses a misspelt criterion under its own name', async () => {
    await expect(replayMigration({ traffic: [steady], criteria: { minSample: 5 } } as never)).rejects.toMatchObject({
      option: 'criteria.minSample',
      message: expect.stringMatching(/did you mean `criteria\.minSamples`\?/),
    });
  });

  it('replayMigration still explains the renamed maxCallsPerWindow', async () => {
    await expect(replayMigration({ traffic: [steady], maxCallsPerWindow: 5 } as never)).rejects.toThrow(/replaced by maxCallsPerStep/);
  });

  it('fakeService and setScript refuse a misspelt script field', () => {
    const err = caught(() => fakeService({ output: [1], failrate: 0.5 } as never));
    expect(err).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'failrate' });
    expect(err.message).toMatch(/did you mean `failRate`\?/);
    const fake = fakeService({ output: [1] });
    expect(caught(() => fake.setScript({ output: [1], latencyMs: 5 } as never)).message).toMatch(/did you mean `latency`\?/);
  });

  it('InMemoryRepository, ManualClock and simulateTraffic refuse misspelt options', () => {
    expect(caught(() => new InMemoryRepository({ keyOf: (x: { id: string }) => x.id, bulkinsert: false } as never)).message).toMatch(
      /did you mean `bulkInsert`\?/,
    );
    expect(caught(() => new ManualClock({ autoadvance: false } as never)).message).toMatch(/did you mean `autoAdvance`\?/);
  });

  it('simulateTraffic refuses a misspelt option before making any call', async () => {
    let calls = 0;
    const glue = new MigrationGlue<{ userId: string }, number>({
      name: 'sim',
      oldService: async () => ++calls,
      newService: async () => ++calls,
      config: phases.preparation(),
      logger: silentLogger,
    });
    await expect(simulateTraffic(glue, { keys: 3, concurency: 2 } as never)).rejects.toMatchObject({
      option: 'concurency',
      message: expect.stringMatching(/did you mean `concurrency`\?/),
    });
    expect(calls).toBe(0);
    await glue.close();
  });

  it('ManualClock still resolves its defaults and a Date start', () => {
    expect(new ManualClock({ start: new Date(5) }).now()).toBe(5);
    expect(caught(() => new ManualClock({ start: Number.NaN })).option).toBe('start');
  });
});
