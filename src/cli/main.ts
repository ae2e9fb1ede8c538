#!/usr/bin/env node
import { runCli } from './run-cli.js';

// A reader that goes away (`| head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    process.exitCode = err.code === 'EPIPE' ? (process.exitCode ?? 0) : 1;
  });
}

// Ctrl-C stops a long-running command (watch, dashboard) cleanly; a second one ends the process.
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  });
}

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    cwd: process.cwd(),
    env: process.env,
    signal: stop.signal,
    isTTY: process.stdout.isTTY === true,
  });
} catch (err) {
  process.stderr.write(`migration-glue: ${err instanceof Error ? err.message : 'failed'}\n`);
  process.exitCode = 1;
}
