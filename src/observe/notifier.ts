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

/** Sends to a Notifier; never throws or rejects (failures are logged). */
export type NotifyFn = (notification: Notification) => Promise<void>;

/** Normalises a Notifier once into a function that never throws. */
export function toNotify(notifier: Notifier | undefined, logger: Logger): NotifyFn {
  if (notifier === undefined) return async () => {};
  const send = typeof notifier === 'function' ? notifier : notifier.notify.bind(notifier);
  return async (notification) => {
    try {
      await send(notification);
    } catch (err) {
      logger.error({ err, notification: notification.kind, migration: notification.migration }, 'notifier failed');
    }
  };
}
