import type { Command } from './cli-args.js';
import { parse, storeOptions, storeUrl } from './cli-args.js';
import { openOperator } from './operator.js';
import { printableJson, statusLines } from './status-text.js';

/** Usage of `watch`. */
export const watchUsage = `Usage: migration-glue watch [--store URL] [--json] [--refresh MS]
A live view of the migration, redrawn when the store changes (Redis pub/sub
or the file watcher) and every --refresh ms (default 5000) for the clocks and
fleet figures. Stops on Ctrl-C. On a terminal the screen is redrawn; otherwise
(or with --json) one view is printed per change.

Options:
  --store URL    file:PATH or redis://host:port?key=KEY (default: $MIGRATION_GLUE_STORE)
  --json         one JSON status per line
  --refresh MS   redraw at least this often (default 5000)
  -h, --help     this help`;

const clearScreen = '\u001b[2J\u001b[H';

/** `watch`: redraws the status on each change until `io.signal` aborts; resolves 0 then. */
export const watch: Command = async (args, io) => {
  const { values } = parse(args, { ...storeOptions, refresh: { type: 'string' } }, { min: 0, max: 0, form: 'watch [--store URL]' });
  if (values.help === true) {
    io.out(watchUsage);
    return 0;
  }
  const refreshMs = values.refresh === undefined ? 5_000 : Number(values.refresh);
  if (!Number.isInteger(refreshMs) || refreshMs < 100 || refreshMs > 3_600_000) {
    const { UsageError } = await import('./cli-args.js');
    throw new UsageError(`--refresh must be a whole number of ms from 100 to 3600000, got ${JSON.stringify(values.refresh)}`);
  }
  const operator = await openOperator(storeUrl(values.store, io), { cwd: io.cwd });
  const signal = io.signal;
  let last = '';
  let drawing = Promise.resolve();
  let again = false;
  let busy = false;
  const draw = () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    drawing = (async () => {
      do {
        again = false;
        const status = await operator.status();
        const text = values.json === true ? printableJson(JSON.stringify(status)) : statusLines(status).join('\n');
        // Off a terminal a view is printed only when it changed, so a log is not flooded.
        if (io.isTTY === true) io.out(`${clearScreen}${text}\n\n(watching; Ctrl-C to stop)`);
        else if (text !== last) io.out(values.json === true ? text : `${text}\n`);
        last = text;
      } while (again && signal?.aborted !== true);
    })()
      .catch((err: unknown) => io.err(`migration-glue watch: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        busy = false;
      });
  };
  const stop = operator.subscribe(draw);
  const timer = setInterval(draw, refreshMs);
  try {
    draw();
    await new Promise<void>((resolve) => {
      if (signal === undefined) return; // without a signal, watch runs until the process ends
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    clearInterval(timer);
    stop();
    await drawing;
    await operator.close();
  }
  return 0;
};
