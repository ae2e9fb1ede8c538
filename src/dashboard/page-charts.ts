// The page's charts, as plain browser JavaScript run inside the page
// script's scope (it uses its state, $, time, pct, rate and ms): SVG built
// with createElementNS, every number an attribute, every label textContent.

/** The chart functions of the page script: renderCharts() draws the three charts from the journal and the status history. */
export const chartScript = String.raw`
  function percentagePoints() {
    var points = [];
    var entries = state.journal ? state.journal.entries : [];
    entries.forEach(function (e) {
      if (e.kind === 'rollback') points.push({ at: e.at, value: 0, kind: 'rollback' });
      else if ((e.kind === 'step' || e.kind === 'phase') && typeof e.percentage === 'number') {
        var shadow = e.kind === 'phase' && e.phase !== 'canary' && e.phase !== 'full';
        points.push({ at: e.at, value: shadow ? 0 : e.percentage, kind: e.kind });
      }
    });
    var last = null;
    state.history.forEach(function (h) {
      var kind = h.phase === 'rolled-back' ? 'rollback' : 'sample';
      if (last && last.percentage === h.percentage && last.phase === h.phase) return;
      points.push({ at: h.at, value: h.percentage, kind: kind });
      last = h;
    });
    points.sort(function (a, b) { return a.at - b.at; });
    return points;
  }

  function armSeries(figure) {
    var old = [], fresh = [];
    var entries = state.journal ? state.journal.entries : [];
    entries.forEach(function (e) {
      if (e.kind !== 'metrics' || !e.data) return;
      if (e.data.old.calls > 0) old.push({ at: e.at, value: e.data.old[figure] });
      if (e.data.new.calls > 0) fresh.push({ at: e.at, value: e.data.new[figure] });
    });
    state.history.forEach(function (h) {
      if (h.old && h.old.calls > 0) old.push({ at: h.at, value: h.old[figure] });
      if (h.new && h.new.calls > 0) fresh.push({ at: h.at, value: h.new[figure] });
    });
    var byTime = function (a, b) { return a.at - b.at; };
    return [{ cls: 'old', points: old.sort(byTime) }, { cls: 'new', points: fresh.sort(byTime) }];
  }

  function renderCharts() {
    var steps = percentagePoints();
    if (steps.length) steps.push({ at: Math.max(Date.now(), steps[steps.length - 1].at), value: steps[steps.length - 1].value, kind: 'now' });
    drawChart($('chart-percentage'), [{ cls: 'pct', points: steps, step: true }], 100, pct);
    var errors = armSeries('errorRate');
    var latency = armSeries('p95');
    var any = errors[0].points.length + errors[1].points.length > 0;
    $('no-figures').hidden = any;
    drawChart($('chart-error-rate'), errors, null, rate);
    drawChart($('chart-p95'), latency, null, ms);
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(svgNs, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(root, series, fixedMax, format) {
    root.textContent = '';
    var box = root.viewBox.baseVal, w = box.width, h = box.height, left = 46, top = 8, bottom = 18;
    var all = [];
    series.forEach(function (s) { all = all.concat(s.points); });
    if (!all.length) { root.appendChild(svg('text', { x: left, y: h / 2 }, 'no points yet')); return; }
    var t0 = Math.min.apply(null, all.map(function (p) { return p.at; }));
    var t1 = Math.max.apply(null, all.map(function (p) { return p.at; }));
    var max = fixedMax || Math.max.apply(null, all.map(function (p) { return p.value; })) * 1.15 || 1;
    var x = function (t) { return left + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - left - 8); };
    var y = function (v) { return top + (1 - Math.min(v, max) / max) * (h - top - bottom); };
    root.appendChild(svg('line', { x1: left, y1: y(0), x2: w - 8, y2: y(0), 'class': 'axis' }));
    root.appendChild(svg('line', { x1: left, y1: y(max), x2: w - 8, y2: y(max), 'class': 'axis' }));
    root.appendChild(svg('text', { x: 2, y: y(max) + 4 }, format(max)));
    root.appendChild(svg('text', { x: 2, y: y(0) }, format(0)));
    root.appendChild(svg('text', { x: left, y: h - 3 }, time(t0)));
    root.appendChild(svg('text', { x: w - 8, y: h - 3, 'text-anchor': 'end' }, time(t1)));
    series.forEach(function (s) {
      if (!s.points.length) return;
      var d = '';
      s.points.forEach(function (p, i) {
        var px = x(p.at).toFixed(1), py = y(p.value).toFixed(1);
        if (i === 0) d += 'M' + px + ' ' + py;
        else if (s.step) d += 'H' + px + 'V' + py;
        else d += 'L' + px + ' ' + py;
      });
      root.appendChild(svg('path', { d: d, 'class': 'line ' + s.cls, 'data-series': s.cls }));
      s.points.forEach(function (p) {
        if (p.kind === 'now' || p.kind === 'sample' && s.step || !s.step && s.points.length > 40) return;
        var dot = svg('circle', { cx: x(p.at).toFixed(1), cy: y(p.value).toFixed(1), r: s.step ? 3.5 : 2, 'class': p.kind === 'rollback' ? 'rollback' : 'step', 'data-kind': p.kind || 'point' });
        dot.appendChild(svg('title', {}, time(p.at) + ': ' + format(p.value)));
        root.appendChild(dot);
      });
    });
  }

`;
