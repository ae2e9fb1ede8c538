import { describe, expect, expectTypeOf, it } from 'vitest';
import { InMemoryConfigStore, MigrationGlue, phases, silentLogger } from '../../src/index.js';
import type { FallbackEvent, MigrationConfig, MismatchEvent, RouteEvent } from '../../src/index.js';
import { fakeService, glueEventNames, recordEvents } from '../../src/testing/index.js';
import type { RecordedEvent } from '../../src/testing/index.js';

type Input = { userId: string };

function makeGlue(config: MigrationConfig | InMemoryConfigStore, newOutput = 'new') {
  return new MigrationGlue<Input, string>({
    name: 'checkout',
    oldService: fakeService<Input, string>({ output: ['old'] }),
    newService: fakeService<Input, string>({ output: [newOutput], failOn: (input) => input.userId === 'broken' }),
    config,
    logger: silentLogger,
  });
}

describe('recordEvents', () => {
  it('records every event by name and in one ordered list', async () => {
    const store = new InMemoryConfigStore(phases.shadow());
    const glue = makeGlue(store, 'different');
    const seen = recordEvents(glue);
    await glue.process({ userId: 'a' });
    await glue.drain();
    await store.save(phases.canary(100));
    await glue.process({ userId: 'broken' });
    await glue.rollback('too many errors');
    expect(seen.events.route.map((e) => e.reason)).toEqual(['shadow', 'full']);
    expect(seen.events.mismatch).toHaveLength(1);
    expect(seen.events.mismatch[0]?.comparison.diff).toEqual([{ path: '', kind: 'changed', old: 'old', new: 'different' }]);
    expect(seen.events.fallback.map((e) => e.input)).toEqual([{ userId: 'broken' }]);
    expect(seen.events.settled.map((e) => `${e.arm}:${e.ok}`)).toEqual(['old:true', 'new:false', 'old:true']);
    expect(seen.events.configChange.map((e) => e.after.newSystemEnabled)).toEqual([true, false]);
    expect(seen.events.rollback[0]?.reason).toBe('too many errors');
    expect(seen.all.map((e) => e.name)).toEqual([
      'route',
      'settled',
      'mismatch',
      'configChange',
      'route',
      'settled',
      'fallback',
      'settled',
      'rollback',
      'configChange',
    ]);
    expect(seen.count('settled')).toBe(3);
    expect(seen.count()).toBe(10);
    expect(Object.keys(seen.events).sort()).toEqual([...glueEventNames].sort());
  });

  it('clear empties the arrays in place and keeps recording', async () => {
    const glue = makeGlue(phases.preparation());
    const seen = recordEvents(glue);
    const routes = seen.events.route;
    await glue.process({ userId: 'a' });
    seen.clear();
    expect(routes).toEqual([]);
    expect(seen.count()).toBe(0);
    await glue.process({ userId: 'b' });
    expect(routes).toHaveLength(1);
    expect(seen.all).toHaveLength(2);
  });

  it('stop unsubscribes, keeps what was recorded, and can be called twice', async () => {
    const glue = makeGlue(phases.preparation());
    const seen = recordEvents(glue);
    await glue.process({ userId: 'a' });
    seen.stop();
    seen.stop();
    await glue.process({ userId: 'b' });
    expect(seen.count('route')).toBe(1);
  });

  it('two recorders on one glue see the same events', async () => {
    const glue = makeGlue(phases.full());
    const first = recordEvents(glue);
    const second = recordEvents(glue);
    await glue.process({ userId: 'a' });
    expect(first.all).toEqual(second.all);
  });

  it('types each payload from the glue event map', () => {
    const seen = recordEvents(makeGlue(phases.preparation()));
    expectTypeOf(seen.events.route).toEqualTypeOf<readonly RouteEvent[]>();
    expectTypeOf(seen.events.fallback).toEqualTypeOf<readonly FallbackEvent<Input>[]>();
    expectTypeOf(seen.events.mismatch).toEqualTypeOf<readonly MismatchEvent<Input, string>[]>();
    const narrow = (event: RecordedEvent<Input, string>) => (event.name === 'fallback' ? event.payload.input : undefined);
    expectTypeOf(narrow).returns.toEqualTypeOf<Input | undefined>();
  });

  it('refuses something that is not a glue', () => {
    expect(() => recordEvents({} as never)).toThrow(/option `glue` must be a MigrationGlue, got an object/);
  });
});
