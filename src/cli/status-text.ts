import type { OperatorArmFigures, OperatorStatus } from './operator-types.js';

// How `status` and `watch` show a migration on a terminal or in a log.

const percent = (rate: number) => `${(rate * 100).toFixed(2)} %`;

/**
 * One line of `text` safe to print on a terminal: every C0 or C1 control
 * character ("\n", ESC, BEL, "\r", "\t", DEL, CSI, ...) becomes a visible
 * `\u001b`, so text from the store (a rollback reason, a name) cannot clear
 * the screen, set the title, write the clipboard, overwrite a line or add one.
 */
export function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * JSON text safe to print: `printable` line by line. JSON.stringify escapes
 * the C0 characters inside strings but not DEL and C1; outside strings it
 * writes only its own newlines. The escapes it adds read back as the same
 * characters.
 */
export function printableJson(json: string): string {
  return json.split('\n').map(printable).join('\n');
}

/** A time as UTC text; epoch-like values only (a controller on a test clock shows raw ms). */
export function timeText(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 946_684_800_000) return `${ms} ms`;
  const text = new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const delta = ms - now;
  const rel = Math.abs(delta) < 60_000 ? 'now' : delta > 0 ? `in ${durationText(delta)}` : `${durationText(-delta)} ago`;
  return `${text} (${rel})`;
}

/** A duration in the largest sensible unit: 3 d 4 h, 5 min, 12 s. */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `[#####-----] 3/7 steps, 10 %` along the plan; plain text, `width` cells. */
export function progressBar(status: OperatorStatus, width = 28): string {
  const progress = status.progress;
  if (progress === undefined || progress.steps === 0) return `${status.percentage} % on new (no ramp plan stored)`;
  const filled = Math.round((progress.taken / progress.steps) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${progress.taken}/${progress.steps} steps, ${status.percentage} % on new${progress.next === undefined ? '' : `, next ${progress.next} %`}`;
}

function arm(name: string, figures: OperatorArmFigures): string {
  return `  ${name.padEnd(4)} ${String(figures.calls).padStart(8)} calls  errors ${percent(figures.errorRate).padStart(8)}  p95 ${figures.p95.toFixed(1)} ms`;
}

/** The lines `status` prints (and `watch` refreshes), control characters made visible (`printable`). */
export function statusLines(status: OperatorStatus, now = Date.now()): string[] {
  const { ramp, config } = status;
  const lines = [
    `store: ${status.store}`,
    `phase: ${status.phase}${status.phase === 'canary' ? ` ${status.percentage} %` : ''}`,
    `config: new ${config.newSystemEnabled ? 'enabled' : 'disabled'}, ${config.newSystemPercentage} %${config.shadowMode ? ', shadowed (old serves)' : ''}, fallback ${config.fallbackEnabled ? 'on' : 'off'}`,
    `ramp: ${progressBar(status)}`,
    `step: ${ramp.step >= 0 ? `${ramp.step + 1}${ramp.plan === undefined ? '' : `/${ramp.plan.length}`}` : 'before the first step'}, since ${timeText(ramp.since, now)}`,
    `next step: ${timeText(ramp.nextAt, now)}`,
    `blocked by: ${ramp.blockedBy ?? 'nothing'}${ramp.reasons !== undefined && ramp.reasons.length > 0 ? ` (${ramp.reasons.join('; ')})` : ''}`,
  ];
  if (ramp.pendingApproval !== undefined) {
    lines.push(`waiting: approval of ${ramp.pendingApproval.percentage} %, asked ${timeText(ramp.pendingApproval.requestedAt, now)}`);
  }
  if (ramp.paused !== undefined) lines.push(`paused: by ${ramp.paused.by} ${timeText(ramp.paused.at, now)}${ramp.paused.reason === undefined ? '' : `: ${ramp.paused.reason}`}`);
  const last = ramp.approvals.at(-1);
  if (last !== undefined) lines.push(`approved: ${last.percentage} % by ${last.by} ${timeText(last.at, now)}${last.comment === undefined ? '' : `: ${last.comment}`}`);
  if (ramp.lastRollback !== undefined) {
    const r = ramp.lastRollback;
    lines.push(`rollback: at ${r.percentage} % by ${r.by} ${timeText(r.at, now)}: ${r.reason}`);
  }
  if (status.verdict !== undefined) {
    lines.push(`verdict: ${status.verdict.verdict}${status.verdict.reasons.length > 0 ? ` (${status.verdict.reasons.join('; ')})` : ''}`);
  }
  if (status.fleet !== undefined) {
    const f = status.fleet;
    lines.push(`fleet: ${f.instances} instance(s), last ${durationText(f.windowMs)}`, arm('old', f.old), arm('new', f.new));
    if (f.shadow.compared > 0) lines.push(`  shadow ${f.shadow.compared} compared, ${f.shadow.mismatched} mismatched (${percent(f.shadow.mismatchRate)})`);
  }
  return lines.map(printable);
}
