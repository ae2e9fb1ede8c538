import { pageScript } from './page-script.js';

// The dashboard's single page: inline CSS and JS (allowed by a per-response
// nonce, nothing else), no request to anywhere but this server. It holds no
// data from the store: the script fills it in from the event stream, always
// as text (textContent), never as HTML.

const css = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --muted: #5d6878; --line: #dde2ea; --old: #4f6d9a; --new: #d9822b;
  --ok: #2e8540; --bad: #c0392b; --warn: #b7791f; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #1d2430; color: #fff; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .store { color: #b8c2d3; font-family: ui-monospace, monospace; font-size: 12px; }
header .live { margin-left: auto; font-size: 12px; padding: 2px 10px; border-radius: 10px; background: #3b4658; }
header .live.on { background: var(--ok); }
main { display: grid; grid-template-columns: 1fr; gap: 16px; padding: 16px 24px 32px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
h2.spaced { margin-top: 14px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 10px; }
.big { display: flex; align-items: baseline; gap: 12px; margin-bottom: 8px; }
.percentage { font-size: 40px; font-weight: 700; }
.phase { font-weight: 600; padding: 2px 10px; border-radius: 12px; background: #e8ecf2; }
.phase-canary { background: #fdebd3; color: #8a4b08; } .phase-full { background: #d7f0dd; color: #1e5e2c; }
.phase-shadow { background: #e3e0f7; color: #46367f; } .phase-rolled-back { background: #f9d6d2; color: #8e2115; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
.bar { height: 8px; background: #e8ecf2; border-radius: 4px; overflow: hidden; margin: 6px 0 12px; }
.bar > div { height: 100%; background: var(--new); width: 0; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #b9c2cf; background: #fff; cursor: pointer; }
button:disabled { opacity: .45; cursor: default; }
button.primary { background: var(--ok); border-color: var(--ok); color: #fff; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
input, textarea { font: inherit; padding: 6px 8px; border: 1px solid #b9c2cf; border-radius: 6px; width: 100%; }
.row { display: flex; gap: 8px; align-items: center; margin-top: 8px; } .row input { flex: 1; }
.pending { border-left: 4px solid var(--warn); background: #fff8e6; padding: 8px 10px; margin-bottom: 8px; }
.none { color: var(--muted); } .approved { color: var(--ok); font-weight: 600; margin-top: 4px; }
#message { min-height: 1.4em; margin-top: 10px; font-size: 13px; } #message.error { color: var(--bad); }
svg { width: 100%; height: 170px; display: block; } svg text { font-size: 10px; fill: var(--muted); }
svg .axis { stroke: var(--line); } svg .line { fill: none; stroke-width: 2; }
svg .old { stroke: var(--old); } svg .new { stroke: var(--new); } svg .pct { stroke: #2b6cb0; }
svg circle.rollback { fill: var(--bad); } svg circle.step { fill: #2b6cb0; }
.legend span { margin-right: 12px; font-size: 12px; } .legend .o { color: var(--old); } .legend .n { color: var(--new); }
table { width: 100%; border-collapse: collapse; font-size: 13px; } td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); }
td.count { text-align: right; font-variant-numeric: tabular-nums; } td code { overflow-wrap: anywhere; }
#journal { list-style: none; margin: 0; padding: 0; max-height: 420px; overflow: auto; }
#journal li { padding: 6px 0; border-bottom: 1px solid var(--line); display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; align-items: baseline; }
#journal .what { grid-column: 1 / -1; overflow-wrap: anywhere; }
#journal .kind { font-weight: 600; } #journal .kind-rollback { color: var(--bad); } #journal time { color: var(--muted); font-size: 12px; }
@media (min-width: 1100px) {
  main { grid-template-columns: 1fr 1fr 1fr; grid-template-areas: "where steer journal" "timeline timeline journal" "errors latency journal" "mismatches mismatches journal"; align-items: start; }
  #where { grid-area: where; } #steer { grid-area: steer; } #timeline { grid-area: timeline; } #errors { grid-area: errors; }
  #latency { grid-area: latency; } #mismatches { grid-area: mismatches; } #journal-section { grid-area: journal; align-self: stretch; }
  #journal { max-height: 1100px; }
}
#problem { display: none; background: #f9d6d2; color: #8e2115; padding: 8px 24px; } #problem.shown { display: block; }
`;

/** Escapes text for an HTML attribute or element. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page, with its script and style allowed by `nonce` and the CSRF token its requests carry. */
export function renderPage(options: { readonly nonce: string; readonly csrfToken: string }): string {
  const nonce = escapeHtml(options.nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(options.csrfToken)}">
<link rel="icon" href="data:,">
<title>migration-glue dashboard</title>
<style nonce="${nonce}">${css}</style>
</head>
<body>
<header><h1>migration-glue</h1><span class="store" id="store"></span><span class="live" id="live">connecting…</span></header>
<div id="problem" role="alert"></div>
<main>
<section id="where">
  <h2>Where it stands</h2>
  <div class="big"><span class="percentage" id="percentage">–</span><span class="phase" id="phase">–</span></div>
  <div class="bar" id="progress-bar" title="progress along the ramp's plan"><div></div></div>
  <dl>
    <dt>Step</dt><dd id="step">–</dd>
    <dt>Since</dt><dd id="since">–</dd>
    <dt>Next step at</dt><dd id="next-at">–</dd>
    <dt>Blocked by</dt><dd id="blocked-by">–</dd>
    <dt>Verdict</dt><dd id="verdict">–</dd>
    <dt>Paused</dt><dd id="paused">–</dd>
    <dt>Last rollback</dt><dd id="last-rollback">–</dd>
  </dl>
</section>
<section id="steer">
  <h2>Steer</h2>
  <div id="approval"></div>
  <textarea id="approve-comment" rows="2" placeholder="Comment for the approval (optional)" maxlength="1000"></textarea>
  <div class="row"><button class="primary" id="approve" disabled>Approve</button>
    <input id="by" placeholder="Your name (recorded with what you do)" maxlength="100"></div>
  <div class="row"><input id="pause-reason" placeholder="Why pause (optional)" maxlength="1000">
    <button id="pause">Pause</button><button id="resume">Resume</button></div>
  <div class="row"><button class="danger" id="rollback">Roll back…</button></div>
  <form id="rollback-form" hidden>
    <div class="row"><input id="rollback-reason" placeholder="Reason for the rollback (required)" maxlength="1000" required>
      <button type="submit" class="danger" id="rollback-confirm">Roll back now</button><button type="button" id="rollback-cancel">Cancel</button></div>
  </form>
  <div id="message" role="status"></div>
  <h2 class="spaced">Approvals</h2>
  <ul id="approvals" class="none"></ul>
</section>
<section id="timeline">
  <h2>Percentage over time</h2>
  <svg id="chart-percentage" viewBox="0 0 700 170" preserveAspectRatio="none" role="img" aria-label="percentage on new over time"></svg>
</section>
<section id="errors">
  <h2>Error rate</h2><div class="legend"><span class="o">■ old</span><span class="n">■ new</span></div>
  <svg id="chart-error-rate" viewBox="0 0 440 170" preserveAspectRatio="none" role="img" aria-label="error rate of each arm"></svg>
  <p class="none" id="no-figures">No fleet figures yet: they come from a Redis store with FleetStats publishing, or from metrics entries in the journal.</p>
</section>
<section id="latency">
  <h2>P95 latency</h2><div class="legend"><span class="o">■ old</span><span class="n">■ new</span></div>
  <svg id="chart-p95" viewBox="0 0 440 170" preserveAspectRatio="none" role="img" aria-label="p95 latency of each arm"></svg>
</section>
<section id="mismatches">
  <h2>Shadow mismatches by fingerprint</h2>
  <p id="shadow-summary" class="none">No shadow figures.</p>
  <table><thead><tr><th>Fingerprint</th><th>What differs</th><th>Count</th></tr></thead><tbody id="fingerprints"></tbody></table>
</section>
<section id="journal-section">
  <h2>Journal</h2>
  <p id="journal-note" class="none">No journal given (--journal FILE).</p>
  <ul id="journal"></ul>
</section>
</main>
<script nonce="${nonce}">${pageScript}</script>
</body>
</html>
`;
}
