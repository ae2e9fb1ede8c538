import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { DashboardOperator } from './live-state.js';

// The state changes the page may ask for, each a POST of a small JSON body.

/** The largest request body read, in bytes. */
export const maxBodyBytes = 16 * 1024;

const text = (max: number) => z.string().trim().max(max);
const by = text(100).optional();

const schemas = {
  approve: z.strictObject({ by, comment: text(1_000).optional() }),
  pause: z.strictObject({ by, reason: text(1_000).optional() }),
  resume: z.strictObject({ by }),
  rollback: z.strictObject({ by, reason: text(1_000).min(1, 'a rollback needs a reason') }),
};

/** The name of an action the page may post to `/api/<name>`. */
export type ActionName = keyof typeof schemas;

/** True when `name` is an action. */
export function isAction(name: string): name is ActionName {
  return Object.hasOwn(schemas, name);
}

/** A request the server refuses, with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body of at most maxBodyBytes. @throws HttpError 413, 415 or 400. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'send the body as application/json');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw new HttpError(413, `the body is larger than ${maxBodyBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new HttpError(413, `the body is larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

/**
 * Checks `body` for action `name` and runs it on `operator`; resolves with
 * what the page is told. `by` defaults to "dashboard".
 * @throws HttpError 400 on a bad body; whatever the operator throws.
 */
export async function runAction(operator: DashboardOperator, name: ActionName, body: unknown): Promise<Record<string, unknown>> {
  const parsed = schemas[name].safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    throw new HttpError(400, `${where}${issue?.message ?? 'invalid body'}`);
  }
  const value = parsed.data as { by?: string; comment?: string; reason?: string };
  const who = value.by === undefined || value.by === '' ? 'dashboard' : value.by;
  const optional = (key: 'comment' | 'reason') => (value[key] === undefined || value[key] === '' ? {} : { [key]: value[key] });
  switch (name) {
    case 'approve':
      await operator.approve({ by: who, ...optional('comment') });
      return { ok: true };
    case 'pause':
      await operator.pause({ by: who, ...optional('reason') });
      return { ok: true };
    case 'resume':
      await operator.resume({ by: who });
      return { ok: true };
    case 'rollback': {
      const { storedMs } = await operator.rollback(value.reason as string, who);
      return { ok: true, storedMs };
    }
  }
}
