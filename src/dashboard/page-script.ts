import { chartScript } from './page-charts.js';

// The page's script, as plain browser JavaScript. Every value from the store
// or the journal reaches the DOM through textContent (or an SVG attribute
// holding a number), never as HTML.

/** The script the page runs. */
export const pageScript = String.raw`
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var svgNs = 'http://www.w3.org/2000/svg';
  var state = { status: null, history: [], journal: null, problem: null, updates: 0 };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function setText(id, text) { $(id).textContent = text === undefined || text === null || text === '' ? '–' : String(text); }
  function time(ms) { return typeof ms === 'number' && isFinite(ms) && ms > 0 ? new Date(ms).toLocaleString() : ''; }
  function pct(n) { return typeof n === 'number' && isFinite(n) ? (Math.round(n * 100) / 100) + ' %' : '–'; }
  function rate(n) { return typeof n === 'number' && isFinite(n) ? (Math.round(n * 10000) / 100) + ' %' : '–'; }
  function ms(n) { return typeof n === 'number' && isFinite(n) ? Math.round(n) + ' ms' : '–'; }
  function safeClass(text) { return String(text).replace(/[^a-z-]/g, ''); }

  function render() {
    var s = state.status;
    var problem = $('problem');
    problem.textContent = state.problem || '';
    problem.className = state.problem ? 'shown' : '';
    if (s) renderStatus(s);
    renderCharts();
    renderFingerprints(s);
    renderJournal();
    state.updates += 1;
    document.body.setAttribute('data-updates', String(state.updates));
  }

  function renderStatus(s) {
    var ramp = s.ramp || {};
    setText('store', s.store);
    setText('percentage', pct(s.percentage));
    var phase = $('phase');
    phase.textContent = s.phase;
    phase.className = 'phase phase-' + safeClass(s.phase);
    document.body.setAttribute('data-phase', safeClass(s.phase));
    var progress = s.progress;
    var step = progress ? progress.taken + ' of ' + progress.steps + (progress.next !== undefined ? ' (next: ' + pct(progress.next) + ')' : '')
      : (ramp.step >= 0 ? 'step ' + (ramp.step + 1) : 'no ramp step yet');
    setText('step', step);
    $('progress-bar').firstElementChild.style.width = (progress && progress.steps > 0 ? Math.min(100, 100 * progress.taken / progress.steps) : s.percentage) + '%';
    setText('since', time(ramp.since));
    setText('next-at', time(ramp.nextAt));
    setText('blocked-by', ramp.blockedBy ? ramp.blockedBy + (ramp.reasons && ramp.reasons.length ? ': ' + ramp.reasons.join('; ') : '') : 'nothing');
    var verdict = s.verdict || ramp.verdict;
    setText('verdict', verdict ? verdict.verdict + (verdict.reasons.length ? ': ' + verdict.reasons.join('; ') : '') : '');
    setText('paused', ramp.paused ? 'by ' + ramp.paused.by + ' at ' + time(ramp.paused.at) + (ramp.paused.reason ? ': ' + ramp.paused.reason : '') : 'no');
    var rb = ramp.lastRollback;
    setText('last-rollback', rb ? 'from ' + pct(rb.percentage) + ' by ' + rb.by + ' at ' + time(rb.at) + ': ' + rb.reason : 'none');

    var approval = $('approval');
    approval.textContent = '';
    var pending = ramp.pendingApproval;
    // An approval counts for the step in force when it was given after that step was taken.
    var given = pending && (ramp.approvals || []).filter(function (a) {
      return a.percentage === pending.percentage && a.revision > ramp.stepRevision;
    }).pop();
    if (pending) {
      var box = el('div', 'pending');
      box.appendChild(el('strong', '', 'Waiting for approval: ' + pct(pending.percentage)));
      box.appendChild(el('div', 'none', 'step ' + (pending.step + 1) + ', asked at ' + time(pending.requestedAt)));
      if (given) box.appendChild(el('div', 'approved', 'Approved by ' + given.by + ' at ' + time(given.at) + ': the ramp takes the step at its next tick.'));
      approval.appendChild(box);
    } else {
      approval.appendChild(el('p', 'none', 'No approval pending.'));
    }
    $('approve').disabled = !pending || !!given;
    $('pause').disabled = !!ramp.paused;
    $('resume').disabled = !ramp.paused && s.phase !== 'rolled-back';

    var list = $('approvals');
    list.textContent = '';
    var approvals = (ramp.approvals || []).slice(-5).reverse();
    list.className = approvals.length ? '' : 'none';
    if (!approvals.length) list.appendChild(el('li', '', 'none yet'));
    approvals.forEach(function (a) {
      list.appendChild(el('li', '', pct(a.percentage) + ' by ' + a.by + ' at ' + time(a.at) + (a.comment ? ': ' + a.comment : '')));
    });
  }

${chartScript}
  function renderFingerprints(s) {
    var body = $('fingerprints');
    body.textContent = '';
    var shadow = s && s.fleet ? s.fleet.shadow : null;
    if (!shadow) { setText('shadow-summary', 'No shadow figures: they come from a Redis store with FleetStats publishing.'); return; }
    setText('shadow-summary', shadow.compared + ' compared in the window, ' + shadow.mismatched + ' mismatched (' + rate(shadow.mismatchRate) + '); the most frequent fingerprints, counted since the start:');
    shadow.fingerprints.forEach(function (f) {
      var row = el('tr');
      var code = el('td');
      code.appendChild(el('code', '', f.fingerprint));
      row.appendChild(code);
      row.appendChild(el('td', '', f.description));
      row.appendChild(el('td', 'count', f.count));
      body.appendChild(row);
    });
  }

  function summary(e) {
    var parts = [];
    if (e.migration) parts.push(e.migration);
    if (e.kind === 'approval') parts.push((e.approved ? 'approved ' : 'refused ') + pct(e.percentage));
    else if (e.phase) parts.push(e.phase + (e.phase === 'canary' ? ' ' + pct(e.percentage) : ''));
    else if (typeof e.percentage === 'number') parts.push(pct(e.percentage));
    ['reason', 'item', 'issue', 'resolution', 'owner', 'message'].forEach(function (k) { if (e[k]) parts.push(e[k]); });
        return parts.join(' · ');
  }

  function renderJournal() {
    var list = $('journal');
    var journal = state.journal;
    list.textContent = '';
    if (!journal) return;
    var shown = journal.entries.filter(function (e) { return e.kind !== 'metrics'; });
    var drawn = journal.entries.length - shown.length;
    setText('journal-note', journal.problem || (shown.length + ' latest entries' + (drawn ? ' (and ' + drawn + ' metrics snapshots, drawn in the charts)' : '') +
      (journal.skipped ? '; ' + journal.skipped + ' unreadable lines skipped' : '')));
    shown.reverse().forEach(function (e) {
      var item = el('li');
      item.appendChild(el('span', 'kind kind-' + safeClass(e.kind), e.kind));
      item.appendChild(el('time', '', time(e.at)));
      item.appendChild(el('span', 'what', summary(e)));
      list.appendChild(item);
    });
  }

  function say(text, isError) {
    var message = $('message');
    message.textContent = text;
    message.className = isError ? 'error' : '';
  }

  function post(name, body) {
    var by = $('by').value.trim();
    if (by) { body.by = by; try { localStorage.setItem('migration-glue-by', by); } catch (e) { /* private mode */ } }
    return fetch('/api/' + name, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-migration-glue-csrf': csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (answer) {
        if (!res.ok) throw new Error(answer.error || ('HTTP ' + res.status));
        return answer;
      });
    });
  }

  function action(button, name, body, done) {
    button.disabled = true;
    say(name + '…', false);
    post(name, body).then(function (answer) { say(done(answer), false); }, function (err) { say(name + ' failed: ' + err.message, true); })
      .then(function () { button.disabled = false; render(); });
  }

  $('approve').addEventListener('click', function () {
    var comment = $('approve-comment').value.trim();
    action($('approve'), 'approve', comment ? { comment: comment } : {}, function () { $('approve-comment').value = ''; return 'Approved.'; });
  });
  $('pause').addEventListener('click', function () {
    var reason = $('pause-reason').value.trim();
    action($('pause'), 'pause', reason ? { reason: reason } : {}, function () { $('pause-reason').value = ''; return 'Paused.'; });
  });
  $('resume').addEventListener('click', function () { action($('resume'), 'resume', {}, function () { return 'Resumed.'; }); });
  $('rollback').addEventListener('click', function () { $('rollback-form').hidden = false; $('rollback-reason').focus(); });
  $('rollback-cancel').addEventListener('click', function () { $('rollback-form').hidden = true; });
  $('rollback-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var reason = $('rollback-reason').value.trim();
    if (!reason) { say('A rollback needs a reason.', true); return; }
    action($('rollback-confirm'), 'rollback', { reason: reason }, function (answer) {
      $('rollback-reason').value = '';
      $('rollback-form').hidden = true;
      return 'Rolled back; stored in ' + Math.round(answer.storedMs) + ' ms.';
    });
  });
  try { $('by').value = localStorage.getItem('migration-glue-by') || ''; } catch (e) { /* private mode */ }

  var source = new EventSource('/events');
  function on(name, handler) {
    source.addEventListener(name, function (event) { handler(JSON.parse(event.data)); render(); });
  }
  on('snapshot', function (d) { state.status = d.status; state.history = d.history || []; state.journal = d.journal || null; state.problem = d.problem || null; });
  on('status', function (d) {
    state.status = d.status;
    if (d.sample) { state.history.push(d.sample); if (state.history.length > 1000) state.history.shift(); }
  });
  on('journal', function (d) { state.journal = d; });
  on('problem', function (d) { state.problem = d.problem; });
  source.addEventListener('open', function () { $('live').textContent = 'live'; $('live').className = 'live on'; });
  source.addEventListener('error', function () {
    // EventSource retries by itself, except after an answer such as 401 (the dashboard restarted with another token).
    var closed = source.readyState === 2;
    $('live').textContent = closed ? 'disconnected' : 'reconnecting…';
    $('live').className = 'live';
    if (closed) { state.problem = 'The dashboard stopped answering: open it again with ?token=TOKEN.'; render(); }
  });
})();
`;
