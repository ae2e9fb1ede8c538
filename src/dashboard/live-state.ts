import { settleWithin } from '../bounded.js';
import type { Operator, OperatorArmFigures, OperatorStatus } from '../cli/operator-types.js';
import type { JournalFeed, JournalView } from './journal-feed.js';
import { messageOf } from '../cli/cli-args.js';

/**
 * What the dashboard needs of an operator (`openOperator`'s `Operator`):
 * the status, the four commands the page offers, and a signal when the
 * store changes.
 */
export type DashboardOperator = Pick<Operator, 'status' | 'approve' | 'pause' | 'resume' | 'rollback' | 'subscribe'>;

/** One arm's figures at a point in time (rates are fractions, latencies ms). */
export interface ArmPoint {
  readonly calls: number;
  readonly errorRate: number;
  readonly p95: number;
}

/** One point of the page's charts, taken when the status was read. */
export interface StatusSample {
  readonly at: number;
  readonly phase: string;
  readonly percentage: number;
  readonly old?: ArmPoint;
  readonly new?: ArmPoint;
  readonly shadow?: { readonly compared: number; readonly mismatchRate: number };
}

/** What a page is sent when it connects. */
export interface Snapshot {
  readonly status: OperatorStatus | null;
  readonly problem?: string;
  readonly history: readonly StatusSample[];
  readonly journal?: JournalView;
}

const maxSamples = 1_000;

/**
 * Keeps the status, its history and the journal, refreshed when the store
 * says it changed and every `pollMs` (fleet figures change without the
 * store), and tells `publish` what changed. One status read at a time; a
 * change during a read causes one more read after it. A read the store does
 * not answer within `timeoutMs` is given up (and reported as the problem),
 * so that later refreshes still run; its late answer is dropped.
 */
export class LiveState {
  readonly #operator: DashboardOperator;
  readonly #feed: JournalFeed | undefined;
  readonly #publish: (event: string, data: unknown) => void;
  readonly #history: StatusSample[] = [];
  readonly #unsubscribe: () => void;
  readonly #timer: NodeJS.Timeout;
  readonly #timeoutMs: number;
  #status: OperatorStatus | null = null;
  #statusJson = '';
  #problem: string | undefined;
  #journal: JournalView | undefined;
  #journalJson = '';
  /** The read under way, and the one queued to follow it (shared by every call made meanwhile). */
  #reading: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #closed = false;

  constructor(options: {
    readonly operator: DashboardOperator;
    readonly feed?: JournalFeed;
    readonly pollMs: number;
    /** How long a status read may take before it is given up, ms. */
    readonly timeoutMs: number;
    readonly publish: (event: string, data: unknown) => void;
  }) {
    this.#operator = options.operator;
    this.#feed = options.feed;
    this.#publish = options.publish;
    this.#timeoutMs = options.timeoutMs;
    this.#unsubscribe = this.#operator.subscribe(() => void this.refresh());
    this.#timer = setInterval(() => void this.refresh(), options.pollMs);
    this.#timer.unref();
  }

  /** The state now, for a page that connects. */
  snapshot(): Snapshot {
    return { status: this.#status, problem: this.#problem, history: [...this.#history], journal: this.#journal };
  }

  /**
   * Reads the status and the journal again; resolves when the read that
   * covers this call is done: the one that starts now, or, during a read,
   * the one queued after it (a read started before the call may have missed
   * its change). Each read waits at most `timeoutMs` for the store, so a
   * store that keeps failing to answer while polls keep coming delays a call
   * by two reads at most. Never rejects.
   */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#queued !== undefined) return this.#queued;
    if (this.#reading === undefined) return this.#start();
    const queued = this.#reading.then(() => {
      if (this.#queued === queued) this.#queued = undefined;
      return this.#closed ? undefined : this.#start();
    });
    this.#queued = queued;
    return queued;
  }

  #start(): Promise<void> {
    const reading: Promise<void> = this.#read()
      .catch(() => undefined)
      .finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
    this.#reading = reading;
    return reading;
  }

  /** Stops listening to the store and polling. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#timer);
  }

  async #read(): Promise<void> {
    const settled = await settleWithin(() => this.#operator.status(), this.#timeoutMs);
    try {
      if (settled.status === 'timeout') throw new Error(`no answer within ${this.#timeoutMs} ms`);
      if (settled.status === 'error') throw settled.error;
      const json = JSON.stringify(settled.value ?? null);
      if (this.#problem !== undefined) {
        this.#problem = undefined;
        this.#publish('problem', { problem: null });
      }
      if (json !== this.#statusJson) {
        this.#status = JSON.parse(json) as OperatorStatus;
        this.#statusJson = json;
        const sample = sampleOf(this.#status, Date.now());
        this.#remember(sample);
        this.#publish('status', { status: this.#status, sample });
      }
    } catch (err) {
      const problem = `cannot read the store: ${messageOf(err)}`;
      if (problem !== this.#problem) {
        this.#problem = problem;
        this.#publish('problem', { problem });
      }
    }
    // The journal goes out only when it changed: every stream would otherwise get all of it on each refresh.
    const journal = this.#feed?.read();
    if (journal === undefined) return;
    let json: string | undefined;
    try {
      json = JSON.stringify(journal);
    } catch {
      // not comparable: sent as it is
    }
    if (json !== undefined && json === this.#journalJson) return;
    this.#journal = journal;
    this.#journalJson = json ?? '';
    this.#publish('journal', journal);
  }

  #remember(sample: StatusSample): void {
    this.#history.push(sample);
    if (this.#history.length > maxSamples) this.#history.splice(0, this.#history.length - maxSamples);
  }
}

/** The chart point a status gives: its phase, percentage and, where known, the fleet's figures. */
export function sampleOf(status: OperatorStatus, at: number): StatusSample {
  const fleet = status.fleet;
  if (fleet === undefined) return { at, phase: status.phase, percentage: status.percentage };
  const arm = (a: OperatorArmFigures): ArmPoint => ({
    calls: figure(a.calls),
    errorRate: figure(a.errorRate),
    p95: figure(a.p95),
  });
  return {
    at,
    phase: status.phase,
    percentage: status.percentage,
    old: arm(fleet.old),
    new: arm(fleet.new),
    shadow: { compared: figure(fleet.shadow.compared), mismatchRate: figure(fleet.shadow.mismatchRate) },
  };
}

function figure(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
