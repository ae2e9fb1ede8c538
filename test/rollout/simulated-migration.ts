import { InMemoryConfigStore, MigrationGlue, MigrationJournal, RampController, RollbackGuard, phases } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { recordingLogger } from '../helpers.js';

const day = 24 * 60 * 60 * 1000;

/** Runs a short simulated migration (shadow, ramp, a rollback at 25 %, resume, full) and returns its journal and glue. */
export async function simulatedMigration() {
  const clock = new ManualClock({ start: Date.UTC(2026, 0, 5) });
  const store = new InMemoryConfigStore(phases.shadow());
  const state = { bad: false, n: 0 };
  const glue = new MigrationGlue<{ userId: string }, number>({
    name: 'pricing',
    clock,
    config: store,
    logger: recordingLogger(),
    oldService: async () => {
      clock.advance(4);
      return 1;
    },
    newService: async () => {
      clock.advance(3);
      if (state.bad && state.n++ % 4 === 0) throw new Error('bad release');
      return 1;
    },
  });
  const journal = new MigrationJournal({ clock });
  journal.attach(glue);
  // Limits loose enough that a few hundred calls on new show a step healthy: the judge itself is tested in rollback-guard.test.ts.
  const guard = new RollbackGuard(glue, { minSamples: 20, maxErrorRate: 0.05, maxErrorRateOverBaseline: 0.05, maxMismatchRate: 0.01 }, { clock, logger: recordingLogger() });
  guard.watch();
  const ramp = new RampController({ store, guard, journal, clock, logger: recordingLogger(), name: 'pricing', approve: () => true });
  journal.record('backfill', { data: { copied: 0, total: 3000 } });
  for (const copied of [1000, 2000, 3000]) {
    clock.advance(60_000);
    journal.record('backfill', { data: { copied, total: 3000 } });
  }
  let snapshots = 0;
  let released = false;
  for (let d = 0; d < 80 && ramp.status().blockedBy !== 'done'; d++) {
    if (store.current().newSystemPercentage === 25 && !released) {
      released = true;
      state.bad = true;
    }
    // Traffic until the judge has made up its mind about the step in force (or the day's cap).
    for (let round = 0; round < 20 && (round === 0 || guard.check().verdict === 'inconclusive'); round++) {
      for (let i = 0; i < 2_500; i++) await glue.process({ userId: `u${i}` }).catch(() => undefined);
      await glue.drain();
    }
    journal.snapshot(glue);
    snapshots += 1;
    if (ramp.status().blockedBy === 'rolledBack') {
      journal.issue('release 2.3.1 <script>alert(1)</script> failed a shard', { resolution: 'fixed in 2.3.2', owner: 'search team' });
      state.bad = false;
      await ramp.resume();
    }
    await ramp.tick();
    clock.advance(day);
  }
  return { journal, glue, snapshots, ramp };
}
