import type { Redis } from 'ioredis';
import type { Logger } from '../observe/logger.js';

/** What a ConfigChannel tells its store. */
export interface ConfigChannelHandlers {
  /** A record published on the channel. */
  readonly message: (raw: string) => void;
  /** The subscription's connection dropped (once per outage). */
  readonly lost: () => void;
  /** The connection is back and resubscribed (once per outage). */
  readonly back: () => void;
}

/**
 * The pub/sub side of a RedisConfigStore: a duplicate connection subscribed
 * to the store's channel, telling the store about messages, a lost
 * connection and its return. Commands on it wait for a reconnect however
 * long it takes, so the subscription is never dropped; `active()` bounds
 * the first wait by the caller's own client.
 */
export class ConfigChannel {
  /** Settles once the subscription is active (rejections are the store's to handle). */
  readonly subscribed: Promise<unknown>;
  readonly #sub: Redis;
  readonly #detach: () => void;
  #lost = false;
  #closed = false;

  constructor(redis: Redis, channel: string, logger: Logger, key: string, handlers: ConfigChannelHandlers) {
    this.#sub = redis.duplicate({ maxRetriesPerRequest: null });
    const onMessage = (from: string, message: string) => {
      if (from === channel) handlers.message(message);
    };
    const onClose = () => {
      if (this.#closed || this.#lost) return;
      this.#lost = true;
      handlers.lost();
    };
    const onReady = () => {
      if (this.#closed || !this.#lost) return;
      this.#lost = false;
      handlers.back();
    };
    const onError = (err: unknown) => logger.debug({ err, key }, 'redis config subscriber error');
    this.#sub.on('message', onMessage);
    this.#sub.on('close', onClose);
    this.#sub.on('ready', onReady);
    this.#sub.on('error', onError);
    this.#detach = () => {
      this.#sub.off('message', onMessage);
      this.#sub.off('close', onClose);
      this.#sub.off('ready', onReady);
    };
    this.subscribed = this.#sub.subscribe(channel);
    this.subscribed.catch(() => {});
  }

  /**
   * Resolves once the subscription is active. Rejects when `probe` (a command
   * on the caller's client, which gives up within its retry limit) rejects: it
   * runs now, and again each time the subscriber's connection fails before then.
   */
  active(probe: () => Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let probing = false;
      const run = () => {
        if (probing) return;
        probing = true;
        probe().then(
          () => {
            probing = false;
          },
          (err: unknown) => {
            this.#sub.off('close', run);
            reject(err as Error);
          },
        );
      };
      this.#sub.on('close', run);
      this.subscribed.then(
        () => {
          this.#sub.off('close', run);
          resolve();
        },
        (err: unknown) => {
          this.#sub.off('close', run);
          reject(err as Error);
        },
      );
      run();
    });
  }

  /** Resolves once the connection answers: after a reconnect, the resubscription sent before it is active then. */
  ping(): Promise<unknown> {
    return this.#sub.ping();
  }

  /** Stops listening and closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    // QUIT waits in the offline queue of a connection that is not up, for as long as Redis is away.
    if (this.#sub.status !== 'ready') {
      this.#sub.disconnect();
      return;
    }
    try {
      await this.#sub.quit();
    } catch {
      this.#sub.disconnect();
    }
  }
}
