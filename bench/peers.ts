/**
 * The peers the glue is measured against, set up on the same services and
 * inputs: tzientist's `experimentAsync`, Trello's `scientist` (async mode) and
 * LaunchDarkly's `createMigration` (offline, flags from its TestData source).
 * Every peer compares with fast-deep-equal, the shortcut the glue's default
 * comparator takes on equal outputs, so comparison costs the same everywhere.
 */
import ld from '@launchdarkly/node-server-sdk';
import type { LDClient, LDMigration, LDMigrationStage } from '@launchdarkly/node-server-sdk';
import fastDeepEqual from 'fast-deep-equal';
import Scientist from 'scientist';
import { experimentAsync } from 'tzientist';
import type { Input, Output } from './fixtures.js';
import { newService, oldService, sink } from './fixtures.js';

/** tzientist: runs control and candidate, waits for both, then publishes (our comparison runs in publish). */
export function tzientistShadow(): (input: Input) => Promise<Output> {
  return experimentAsync<[Input], Output>({
    name: 'bench',
    control: oldService,
    candidate: newService,
    options: {
      inParallel: true,
      publish: (results) => {
        sink.value = fastDeepEqual(results.controlResult, results.candidateResult);
      },
    },
  });
}

/**
 * scientist in async mode: the caller gets the control's promise; candidates
 * settle and are compared later, on bluebird's queue. `settled()` resolves once
 * every result so far has been published, so a batch can count that work.
 */
export function scientistShadow(): { readonly call: (input: Input) => Promise<Output>; settled(calls: number): Promise<void> } {
  const scientist = new Scientist();
  let results = 0;
  scientist.on('result', () => {
    results += 1;
  });
  scientist.on('error', (err: unknown) => {
    sink.value = err;
  });
  const call = (input: Input): Promise<Output> =>
    scientist.science<Promise<Output>>('bench', (experiment) => {
      experiment.async(true);
      experiment.use(() => oldService(input));
      experiment.try(() => newService(input));
      experiment.compare(fastDeepEqual);
    });
  return {
    call,
    async settled(calls: number): Promise<void> {
      while (results < calls) await new Promise<void>((resolve) => setImmediate(resolve));
      results = 0;
    },
  };
}

/** An offline LaunchDarkly client whose flags come from TestData: `mig-off` in stage off, `mig-shadow` in stage shadow. */
export async function launchDarkly(): Promise<{
  readonly client: LDClient;
  readonly off: (input: Input) => Promise<Output>;
  readonly shadow: (input: Input) => Promise<Output>;
}> {
  const td = new ld.integrations.TestData();
  await td.update(td.flag('mig-off').valueForAll('off'));
  await td.update(td.flag('mig-shadow').valueForAll('shadow'));
  const client = ld.init('sdk-bench-key', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: ld.basicLogger({ level: 'none' }),
  });
  await client.waitForInitialization({ timeout: 10 });
  const migration: LDMigration<Output, Output, Input, Input> = ld.createMigration<Output, Output, Input, Input>(client, {
    readOld: async (input) => ld.LDMigrationSuccess(await oldService(input as Input)),
    readNew: async (input) => ld.LDMigrationSuccess(await newService(input as Input)),
    writeOld: async (input) => ld.LDMigrationSuccess(await oldService(input as Input)),
    writeNew: async (input) => ld.LDMigrationSuccess(await newService(input as Input)),
    check: fastDeepEqual,
  });
  const read = async (flag: string, input: Input): Promise<Output> => {
    const result = await migration.read(flag, { kind: 'user', key: input.userId }, 'off' as LDMigrationStage, input);
    if (!result.success) throw result.error;
    return result.result;
  };
  return {
    client,
    off: (input) => read('mig-off', input),
    shadow: (input) => read('mig-shadow', input),
  };
}
