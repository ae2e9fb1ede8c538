/**
 * Inputs and trivial services shared by every scenario: the glue and its
 * peers call the very same functions on the very same inputs.
 */

/** A request as an application would route it: `userId` is the routing key. */
export interface Input {
  readonly userId: string;
  readonly amount: number;
  readonly currency: string;
}

/** What both services answer. Equal for old and new, so shadow compares and matches. */
export interface Output {
  readonly userId: string;
  readonly total: number;
  readonly currency: string;
}

/** A power of two, so `i & INPUT_MASK` cycles through the inputs without a modulo. */
export const INPUT_COUNT = 1024;
export const INPUT_MASK = INPUT_COUNT - 1;

/** 1,024 distinct inputs (distinct routing keys, so canary hashes spread over the buckets). */
export const inputs: readonly Input[] = Array.from({ length: INPUT_COUNT }, (_, i) => ({
  userId: `user-${(i * 7919).toString(36)}-${i}`,
  amount: i,
  currency: i % 2 === 0 ? 'EUR' : 'USD',
}));

/** The system being retired: a trivial async service. */
export async function oldService(input: Input): Promise<Output> {
  return { userId: input.userId, total: input.amount * 2, currency: input.currency };
}

/** The system replacing it: a different function, the same answers. */
export async function newService(input: Input): Promise<Output> {
  return { userId: input.userId, total: input.amount + input.amount, currency: input.currency };
}

/** A service that takes about `ms` milliseconds, through a real timer. */
export function timedService(ms: number): (input: Input) => Promise<Output> {
  return (input) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms, { userId: input.userId, total: input.amount * 2, currency: input.currency });
    });
}

/** A new service that never answers: its shadow calls stay in flight until the shadow timeout. */
export function neverSettles(): Promise<Output> {
  return new Promise<Output>(() => {});
}

/** Where benchmarks put results so the optimiser cannot drop the work. */
export const sink: { value: unknown } = { value: undefined };
