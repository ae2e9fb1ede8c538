import type { IncomingMessage, ServerResponse } from 'node:http';

/** The most a stream may hold unsent before its client is dropped, bytes. */
export const maxBufferedBytes = 1024 * 1024;

/**
 * The open Server-Sent Events streams of the dashboard: each gets every
 * event broadcast after it joined, a comment now and then so that proxies
 * keep it open, and its end when the hub closes. At most `maxClients`
 * streams at once; a further one is refused with 503. A client that does
 * not read what it is sent is dropped (its connection destroyed) once more
 * than `maxBufferedBytes` wait for it, so that it cannot grow the server's
 * memory; a browser's EventSource then reconnects and gets a fresh snapshot.
 */
export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #maxClients: number;
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(options: { readonly maxClients?: number; readonly heartbeatMs?: number; readonly maxBufferedBytes?: number } = {}) {
    this.#maxClients = options.maxClients ?? 32;
    this.#maxBuffered = options.maxBufferedBytes ?? maxBufferedBytes;
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
  }

  /** How many streams are open. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * Opens a stream on `res` and sends it `first` events (the state now);
   * false (and a 503) when the hub is closed or full.
   */
  open(req: IncomingMessage, res: ServerResponse, first: readonly (readonly [string, unknown])[]): boolean {
    if (this.#closed || this.#clients.size >= this.#maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' }).end('too many dashboard streams\n');
      return false;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    for (const [event, data] of first) res.write(frame(event, data));
    this.#clients.add(res);
    const forget = () => this.#clients.delete(res);
    req.once('close', forget);
    res.once('close', forget);
    return true;
  }

  /** Sends `data` as event `event` to every open stream. */
  broadcast(event: string, data: unknown): void {
    if (this.#clients.size > 0) this.#write(frame(event, data));
  }

  /** Ends every stream and refuses new ones. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #write(text: string): void {
    for (const res of this.#clients) {
      if (res.writableEnded || res.destroyed) {
        this.#clients.delete(res);
        continue;
      }
      res.write(text);
      if (res.writableLength > this.#maxBuffered) {
        // A client this far behind would only fall further behind: drop it rather than hold its backlog.
        this.#clients.delete(res);
        res.destroy();
      }
    }
  }
}

/** One SSE frame; `data` as JSON with `<`, `>` and `&` escaped, on one line. */
export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${safeJson(data)}\n\n`;
}

/**
 * JSON with the characters that HTML gives meaning to (`<`, `>`, `&`) and the
 * line separators escaped: safe in an SSE data line and inside a page.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value ?? null)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
