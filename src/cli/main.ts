#!/usr/bin/env node
import { runCli } from './run-cli.js';

// A reader that goes away (`| head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    process.exitCode = err.code === 'EPIPE' ? (process.exitCode ?? 0) : 1;
  });
}

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    cwd: process.cwd(),
  });
} catch (err) {
  process.stderr.write(`migration-glue: ${err instanceof Error ? err.message : 'failed'}\n`);
  process.exitCode = 1;
}
