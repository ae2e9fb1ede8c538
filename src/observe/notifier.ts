import { InvalidOptionError, describeValue } from '../errors.js';
import { field } from '../option-schema.js';
import type { Logger } from './logger.js';

/** Something a human should hear about: a rollback, a ramp step, an approval request, completion. */
export interface Notification {
  readonly kind: 'rollback' | 'step' | 'approval' | 'blocked' | 'complete' | 'resume';
  readonly migration: string;
  readonly message: string;
  readonly at: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Where notifications go: a function, or an object with `notify`. May be async; its errors are logged. */
export type Notifier = ((notification: Notification) => void | Promise<void>) | { notify(notification: Notification): void | Promise<void> };

/** Sends to a Notifier; never throws or rejects (failures are logged), and settles within its timeout. */
export type NotifyFn = (notification: Notification) => Promise<void>;

/** How long the library waits for a notifier before carrying on without it, in ms of real time. */
export const defaultNotifierTimeoutMs = 10_000;

/**
 * Checks a Notifier once and normalises it into a function that never
 * throws, never rejects, and settles within `timeoutMs`: a notifier that
 * throws, rejects or has not settled by then is logged (`error`) and the
 * wait ends (a later failure is still logged). The timer keeps the process alive
 * until then, so a script awaiting a rollback does not exit before it.
 * @throws InvalidOptionError naming `option` when `notifier` is neither a function nor `{ notify(n) }`.
 */
export function toNotify(notifier: Notifier | undefined, logger: Logger, timeoutMs = defaultNotifierTimeoutMs, option = 'notifier'): NotifyFn {
  if (notifier === undefined) return async () => {};
  const send = toSend(notifier, option);
  return (notification) =>
    new Promise<void>((resolve) => {
      const context = { migration: notification.migration, notification: notification.kind };
      const timer = setTimeout(() => {
        logger.error({ ...context, timeoutMs }, `notifier did not settle within ${timeoutMs} ms; carrying on without it`);
        resolve();
      }, timeoutMs);
      const settle = (err?: unknown, failed = false) => {
        clearTimeout(timer);
        if (failed) logger.error({ ...context, err }, 'notifier failed');
        resolve();
      };
      let result: unknown;
      try {
        result = send(notification);
      } catch (err) {
        settle(err, true);
        return;
      }
      // Promise.resolve also adopts a thenable, and turns a `then` getter that throws into a rejection.
      Promise.resolve(result).then(
        () => settle(),
        (err: unknown) => settle(err, true),
      );
    });
}

/** The `notifier` option of an options schema (see option-schema.ts): a function or `{ notify(n) }`, kept as given. Normalise it with toNotify. */
export function notifierOption() {
  return field<Notifier>((value) => sendOf(value) !== undefined, 'a function or an object with a notify(notification) method').optional();
}

function sendOf(notifier: unknown): ((notification: Notification) => unknown) | undefined {
  if (typeof notifier === 'function') return notifier as (notification: Notification) => unknown;
  if (typeof notifier === 'object' && notifier !== null) {
    let notify: unknown;
    try {
      notify = (notifier as { notify?: unknown }).notify;
    } catch {
      notify = undefined;
    }
    if (typeof notify === 'function') return (notification) => notify.call(notifier, notification) as unknown;
  }
  return undefined;
}

function toSend(notifier: unknown, option: string): (notification: Notification) => unknown {
  const send = sendOf(notifier);
  if (send !== undefined) return send;
  throw new InvalidOptionError(option, `must be a function or an object with a notify(notification) method, got ${describeValue(notifier)}`);
}
