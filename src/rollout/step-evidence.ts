import type { MigrationConfig } from '../config/migration-config.js';
import { sameConfig } from '../config/migration-config.js';
import { phases } from '../config/phases.js';
import { newShare, phaseOf } from '../core/routing.js';
import type { RouteEvent, SettledEvent } from '../core/events.js';
import type { MigrationStats } from '../core/stats.js';
import type { RoutingKey } from '../hashing/hasher.js';
import { LatencyHistogram } from '../observe/latency-histogram.js';
import type { ArmEvidence, ControlEvidence, StepEvidence } from './judge.js';
import type { Counts } from './sequential.js';

/**
 * What the step recorder needs of a glue (a MigrationGlue, or FleetStats
 * over one). `route` events, when the source has them, feed the
 * sample-ratio check.
 */
export interface EvidenceSource {
  stats(): MigrationStats;
  on(event: 'settled', listener: (event: SettledEvent) => void): () => void;
}

type LooseOn = (event: string, listener: (event: unknown) => void) => (() => void) | undefined;

/** Old's figures given by the user instead of measured. */
export interface BaselineFigures {
  readonly calls: number;
  readonly errorRate: number;
  readonly p95: number;
}

/** Distinct keys remembered per step for the sample-ratio check: enough for a tight test, bounded memory. */
const MAX_KEYS = 50_000;

interface Totals {
  readonly old: Counts;
  readonly new: Counts;
  readonly compared: number;
  readonly valueMismatches: number;
  readonly shadowErrors: number;
}

/** The running totals of `stats`, each a finite count whatever `stats()` returned (garbage counts as 0). */
function totalsOf(stats: MigrationStats): Totals {
  const read = (get: () => unknown): number => {
    try {
      const value = get();
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
    } catch {
      return 0;
    }
  };
  return {
    old: { trials: read(() => stats.old.calls), events: read(() => stats.old.errors) },
    new: { trials: read(() => stats.new.calls), events: read(() => stats.new.errors) },
    compared: read(() => stats.shadow.compared),
    valueMismatches: read(() => stats.shadow.mismatchesByKind.value),
    shadowErrors: read(() => stats.shadow.errors),
  };
}

/** Never below 0: a source whose totals went down (a restart) counts from there. */
function since(now: number, start: number): number {
  return now > start ? now - start : 0;
}

/**
 * Collects the evidence of the step in force, from the moment its config
 * was set: counts as differences of the glue's running totals (so a
 * FleetStats source gives the whole fleet's), latencies and routed keys
 * from the glue's events. A new step starts from zero: figures of an
 * earlier phase never judge the next one. Old's figures from steps in which
 * new served nothing (preparation, shadow) become the baseline.
 */
export class StepRecorder {
  readonly #given: BaselineFigures | undefined;
  readonly #unsubscribe: (() => void)[];
  #config: MigrationConfig;
  #since: number;
  #start: Totals;
  #latency = { old: new LatencyHistogram(), new: new LatencyHistogram() };
  #keys = { old: new Set<RoutingKey>(), new: new Set<RoutingKey>() };
  /** Old's figures while new served nothing, gathered across such steps. */
  #baseline = { calls: 0, errors: 0, latency: new LatencyHistogram() };

  constructor(source: EvidenceSource, since: number, baseline?: BaselineFigures) {
    this.#given = baseline;
    const stats = source.stats();
    const config: unknown = stats?.config;
    this.#config = typeof config === 'object' && config !== null ? (config as MigrationConfig) : phases.preparation();
    this.#since = since;
    this.#start = totalsOf(stats);
    this.#unsubscribe = [source.on('settled', (event) => this.#onSettled(event))];
    try {
      const off = (source.on as LooseOn).call(source, 'route', (event) => this.#onRoute(event as RouteEvent));
      if (typeof off === 'function') this.#unsubscribe.push(off);
    } catch {
      // a source without route events: no sample-ratio check
    }
  }

  /** When the step in force began (clock ms). */
  get since(): number {
    return this.#since;
  }

  /** The config of the step in force. */
  get config(): MigrationConfig {
    return this.#config;
  }

  /**
   * Starts a new step when `config` routes differently from the one in
   * force. Old's figures of a step in which new served nothing are kept as
   * the baseline. Returns whether a new step began.
   */
  startStep(config: MigrationConfig, at: number, stats: MigrationStats, force = false): boolean {
    if (!force && sameConfig(config, this.#config)) return false;
    this.#keepBaseline(stats);
    this.#config = config;
    this.#since = at;
    this.#start = totalsOf(stats);
    this.#latency = { old: new LatencyHistogram(), new: new LatencyHistogram() };
    this.#keys = { old: new Set(), new: new Set() };
    return true;
  }

  /** The evidence of the step in force. */
  evidence(stats: MigrationStats, minSamples: number): StepEvidence {
    const now = totalsOf(stats);
    const config = this.#config;
    const phase = phaseOf(config);
    const oldArm: ArmEvidence = {
      calls: since(now.old.trials, this.#start.old.trials),
      errors: since(now.old.events, this.#start.old.events),
      latency: this.#latency.old,
    };
    const newArm: ArmEvidence = {
      calls: since(now.new.trials, this.#start.new.trials),
      errors: since(now.new.events, this.#start.new.events),
      latency: this.#latency.new,
    };
    const live: ControlEvidence | undefined =
      phase === 'canary' && oldArm.calls >= minSamples ? { source: 'live', ...oldArm } : undefined;
    return {
      phase,
      percentage: newShare(config),
      new: newArm,
      control: live ?? this.#baselineControl(phase === 'shadow' || phase === 'preparation' ? oldArm : undefined),
      shadow: {
        compared: since(now.compared, this.#start.compared),
        valueMismatches: since(now.valueMismatches, this.#start.valueMismatches),
        newErrors: since(now.shadowErrors, this.#start.shadowErrors),
      },
      oldInShadow: { trials: oldArm.calls, events: oldArm.errors },
      noise: undefined,
      keys: { old: this.#keys.old.size, new: this.#keys.new.size },
    };
  }

  /** Stops listening to the glue. */
  close(): void {
    for (const off of this.#unsubscribe) off();
  }

  #baselineControl(current: ArmEvidence | undefined): ControlEvidence | undefined {
    const calls = this.#baseline.calls + (current?.calls ?? 0);
    if (calls > 0) {
      const latency = new LatencyHistogram();
      latency.add(this.#baseline.latency);
      if (current?.latency !== undefined) latency.add(current.latency);
      return { source: 'baseline', calls, errors: this.#baseline.errors + (current?.errors ?? 0), latency };
    }
    if (this.#given !== undefined) {
      const { calls: given, errorRate, p95 } = this.#given;
      return { source: 'baseline', calls: given, errors: Math.round(errorRate * given), p95 };
    }
    return undefined;
  }

  #keepBaseline(stats: MigrationStats): void {
    const phase = phaseOf(this.#config);
    if (phase !== 'preparation' && phase !== 'shadow') return;
    const now = totalsOf(stats);
    this.#baseline.calls += since(now.old.trials, this.#start.old.trials);
    this.#baseline.errors += since(now.old.events, this.#start.old.events);
    this.#baseline.latency.add(this.#latency.old);
  }

  #onSettled(event: SettledEvent): void {
    if (typeof event !== 'object' || event === null) return;
    const arm = event.arm;
    if (arm !== 'old' && arm !== 'new') return;
    // FleetStats announces a fresh read of the fleet's figures as a keyless 0 ms call: not a latency.
    if (event.key === undefined && event.durationMs === 0) return;
    this.#latency[arm].record(event.durationMs);
  }

  #onRoute(event: RouteEvent): void {
    if (typeof event !== 'object' || event === null || event.reason !== 'bucket' || event.key === undefined) return;
    if (event.arm !== 'old' && event.arm !== 'new') return;
    const keys = this.#keys;
    if (keys.old.size + keys.new.size >= MAX_KEYS) return;
    const id = keyIdOf(event.key);
    if (keys.old.has(id) || keys.new.has(id)) return;
    keys[event.arm].add(id);
  }
}

/** Longer keys are remembered by their start and length: 50,000 huge keys must not pin their whole text. */
const MAX_KEY_CHARS = 64;

/** What the sample-ratio check remembers of a key: itself when short, a bounded stand-in when long. */
function keyIdOf(key: RoutingKey): RoutingKey {
  if (typeof key !== 'string' || key.length <= MAX_KEY_CHARS) return key;
  // split/join copies: a slice alone may keep the whole key alive.
  return `${key.slice(0, MAX_KEY_CHARS)}…${key.length}:${key.slice(-MAX_KEY_CHARS)}`.split('').join('');
}
