/** One event read from a Server-Sent Events stream. */
export interface StreamEvent {
  readonly event: string;
  readonly data: string;
}

/** Reads a dashboard's event stream over fetch: `next(name)` resolves with the next event of that name; `ended` when the server ends it. */
export async function openStream(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  if (res.body === null) throw new Error(`no body (status ${res.status})`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const events: StreamEvent[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  let done = false;
  const ended = (async () => {
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data });
        }
        for (const wake of waiters.splice(0)) wake();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      for (const wake of waiters.splice(0)) wake();
    }
  })();
  let read = 0;
  return {
    status: res.status,
    headers: res.headers,
    events,
    ended,
    /** The next unread event named `name` (skipping others); rejects when the stream ends first. */
    async next(name: string): Promise<StreamEvent> {
      for (;;) {
        while (read < events.length) {
          const event = events[read++] as StreamEvent;
          if (event.event === name) return event;
        }
        if (done) throw new Error(`the stream ended before a ${name} event`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: () => controller.abort(),
  };
}
