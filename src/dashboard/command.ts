import path from 'node:path';
import { parseArgs } from 'node:util';
import { openOperator } from '../cli/operator.js';
import { StoreUrlError, describeLocation, parseStoreUrl } from '../cli/store-url.js';
import type { CliIo } from '../cli/run-cli.js';
import { messageOf } from '../cli/cli-args.js';
import type { Dashboard } from './server.js';
import { defaultDashboardPort, startDashboard } from './server.js';

const usage = `Usage: migration-glue dashboard --store URL [--port N] [--host H] [--token T] [--journal FILE]

Serves a live web page of the migration: where it stands, the ramp, each
arm's figures, the journal, and Approve, Pause, Resume and Rollback.

Options:
  --store URL      file:PATH or redis://host:port?key=KEY (default: $MIGRATION_GLUE_STORE)
  --port N         the port to listen on (default: ${defaultDashboardPort}; 0 picks a free one)
  --host H         the interface to listen on (default: 127.0.0.1, this machine only)
  --token T        the token every request must carry, at least 16 characters
                   (default: $MIGRATION_GLUE_TOKEN, else a random one, printed)
  --journal FILE   the migration's journal (JSON lines), shown as a feed
  -h, --help       show this help

Open the printed URL once: its ?token= is traded for a cookie. Scripts send
Authorization: Bearer TOKEN. Stop with Ctrl-C.

Exit codes: 0 stopped, 1 failed (store or port unavailable), 2 usage mistake.`;

/** A mistake in the command line. */
class UsageError extends Error {}

/**
 * `migration-glue dashboard`: opens the store, serves the dashboard and
 * resolves with the exit code once stopped (SIGINT, SIGTERM or `signal`):
 * 0 stopped, 1 failed (the store or the port cannot be had), 2 a usage
 * mistake. Rejects only when `io` itself throws (the dashboard is closed first).
 * Stopped by `options.signal`, else `io.signal`, else SIGINT or SIGTERM.
 * Reads MIGRATION_GLUE_STORE and MIGRATION_GLUE_TOKEN from `io.env` (default process.env).
 */
export async function dashboardCommand(args: readonly string[], io: CliIo, options: { readonly signal?: AbortSignal } = {}): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args, io.env ?? process.env);
  } catch (err) {
    io.err(`migration-glue dashboard: ${messageOf(err)}\n\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    io.out(usage);
    return 0;
  }
  let operator: Awaited<ReturnType<typeof openOperator>> | undefined;
  let dashboard: Dashboard | undefined;
  try {
    operator = await openOperator(parsed.store, { cwd: io.cwd });
    dashboard = await startDashboard({
      operator,
      port: parsed.port,
      host: parsed.host,
      ...(parsed.token === undefined ? {} : { token: parsed.token }),
      ...(parsed.journal === undefined ? {} : { journal: path.resolve(io.cwd, parsed.journal) }),
    });
  } catch (err) {
    await operator?.close().catch(() => undefined);
    const usageMistake = err instanceof StoreUrlError;
    io.err(`migration-glue dashboard: ${messageOf(err)}${usageMistake ? `\n\n${usage}` : ''}`);
    return usageMistake ? 2 : 1;
  }
  try {
    const url = parsed.token === undefined ? `${dashboard.url}?token=${encodeURIComponent(dashboard.token)}` : dashboard.url;
    // The store as status shows it: no credentials, no query parameter but key and fleet.
    io.out(`dashboard of ${describeLocation(parseStoreUrl(parsed.store, io.cwd))} at ${url}`);
    if (parsed.token === undefined) io.out(`token (generated): ${dashboard.token}`);
    if (!isLoopback(parsed.host)) {
      io.err(
        `migration-glue dashboard: listening on ${parsed.host}: anyone who can reach it and holds the token can steer the migration; the token crosses the network in clear unless TLS is put in front`,
      );
    }
    await stopped(options.signal ?? io.signal);
  } finally {
    await dashboard.close();
    await operator.close().catch(() => undefined);
  }
  return 0;
}

function parse(args: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        store: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        journal: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
  const v = parsed.values;
  if (v.help === true) return 'help' as const;
  const store = v.store ?? env.MIGRATION_GLUE_STORE;
  if (store === undefined || store === '') throw new UsageError('--store URL is required (or MIGRATION_GLUE_STORE)');
  const port = v.port === undefined ? defaultDashboardPort : Number(v.port);
  if (!/^\d+$/.test(v.port ?? '0') || !Number.isSafeInteger(port) || port > 65_535) throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(v.port)}`);
  const host = v.host ?? '127.0.0.1';
  if (host === '') throw new UsageError('--host needs a value');
  const token = v.token ?? (env.MIGRATION_GLUE_TOKEN === '' ? undefined : env.MIGRATION_GLUE_TOKEN);
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) throw new UsageError('the token must be at least 16 characters, without spaces');
  if (v.journal === '') throw new UsageError('--journal needs a file');
  return { store, port, host, token, journal: v.journal };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Resolves when `signal` aborts; without a signal, on SIGINT or SIGTERM. */
function stopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal !== undefined) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
