import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** Where the CLI writes and what it reads from its surroundings; injectable so tests can run it in process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** The environment (MIGRATION_GLUE_STORE). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops a long-running command (`watch`, `dashboard`) cleanly. @default SIGINT and SIGTERM, in main.ts */
  readonly signal?: AbortSignal;
  /** Whether `out` is a terminal: colours, progress bars and screen refreshes only then. @default false */
  readonly isTTY?: boolean;
}

/** A mistake in the command line: exit 2, with the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command: resolves with its exit code. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options most commands share. */
export const storeOptions = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  by: { type: 'string' },
} as const satisfies Options;

/**
 * Parses a command's arguments with node:util's parseArgs (strict: an
 * unknown option or a missing value is a UsageError). `--help` is always known.
 */
export function parse<O extends Options>(args: readonly string[], options: O, positionals: { min: number; max: number; form: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
  const values = parsed.values as { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean };
  if (values.help !== true && (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max || parsed.positionals.some((p) => p === ''))) {
    throw new UsageError(`expected: migration-glue ${positionals.form}`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '') throw new UsageError(`--${name} needs a value`);
  }
  return { values, positionals: parsed.positionals };
}

/** The store URL: `--store`, else MIGRATION_GLUE_STORE. @throws UsageError when neither is given. */
export function storeUrl(given: string | undefined, io: CliIo): string {
  const url = given ?? (io.env ?? process.env).MIGRATION_GLUE_STORE;
  if (url === undefined || url === '') throw new UsageError('no store given: pass --store URL (file:PATH or redis://host:port?key=KEY) or set MIGRATION_GLUE_STORE');
  return url;
}

/** An error's message on one line, at most `max` characters, never its stack; never throws. */
export function messageOf(err: unknown, max = 1_000): string {
  try {
    const message = err instanceof Error ? String(err.message) : String(err);
    // Cut before collapsing: the collapse backtracks over a run of spaces, quadratic in a huge message.
    return message.slice(0, 2 * max).replace(/\s*\n\s*/g, ' ').slice(0, max);
  } catch {
    return 'an unreadable error';
  }
}
