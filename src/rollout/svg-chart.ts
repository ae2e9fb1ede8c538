/** One line of a chart: points in data units, drawn as a polyline with a dot per point. */
export interface ChartSeries {
  readonly id: string;
  readonly label: string;
  readonly color: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** Draw as steps (the value holds until the next point), e.g. a percentage. */
  readonly step?: boolean;
  readonly dashed?: boolean;
}

/** A vertical mark at a moment: a ramp step, an approval, a rollback. */
export interface ChartMarker {
  readonly x: number;
  readonly kind: string;
  readonly label: string;
  readonly color: string;
}

/** A horizontal limit, e.g. the rollback criterion. */
export interface ChartThreshold {
  readonly y: number;
  readonly label: string;
}

/** What `lineChart` draws. */
export interface LineChart {
  readonly id: string;
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly markers?: readonly ChartMarker[];
  readonly thresholds?: readonly ChartThreshold[];
  readonly formatY: (y: number) => string;
  readonly formatX: (x: number) => string;
  /** The x range; defaults to the data's. */
  readonly xDomain?: readonly [number, number];
  /** The top of the y axis; defaults to the data's maximum (and the thresholds'). */
  readonly yMax?: number;
}

const width = 760;
const height = 220;
const pad = { left: 56, right: 16, top: 12, bottom: 28 };

/** Escapes text for HTML and SVG content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Renders a line chart as inline SVG: no script, no external resource, so it
 * reads in any browser with JavaScript off. Each series is a `<g
 * data-series>` with one `<circle>` per point, which is what tests count.
 */
export function lineChart(chart: LineChart): string {
  const xs = chart.series.flatMap((s) => s.points.map((p) => p.x)).concat((chart.markers ?? []).map((m) => m.x));
  const [x0, x1] = chart.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  const ys = chart.series.flatMap((s) => s.points.map((p) => p.y)).concat((chart.thresholds ?? []).map((t) => t.y));
  const yTop = chart.yMax ?? (Math.max(0, ...ys) * 1.1 || 1);
  const sx = (x: number) => pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number) => height - pad.bottom - (Math.min(y, yTop) / yTop) * (height - pad.top - pad.bottom);
  const parts: string[] = [];
  parts.push(
    `<svg id="${escapeHtml(chart.id)}" class="chart" role="img" aria-label="${escapeHtml(chart.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeHtml(chart.title)}</title>`,
  );
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const y = sy(yTop * fraction);
    parts.push(
      `<line class="grid" x1="${pad.left}" x2="${width - pad.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`,
      `<text x="${pad.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(chart.formatY(yTop * fraction))}</text>`,
    );
  }
  if (Number.isFinite(x0) && Number.isFinite(x1)) {
    for (const fraction of [0, 0.5, 1]) {
      const x = x0 + (x1 - x0) * fraction;
      parts.push(
        `<text x="${sx(x).toFixed(1)}" y="${height - 8}" text-anchor="${fraction === 0 ? 'start' : fraction === 1 ? 'end' : 'middle'}" font-size="11" fill="#555">${escapeHtml(chart.formatX(x))}</text>`,
      );
    }
  }
  for (const threshold of chart.thresholds ?? []) {
    const y = sy(threshold.y).toFixed(1);
    parts.push(
      `<g class="threshold"><line x1="${pad.left}" x2="${width - pad.right}" y1="${y}" y2="${y}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
      `<text x="${width - pad.right}" y="${Number(y) - 4}" text-anchor="end" font-size="11" fill="#c0392b">${escapeHtml(threshold.label)}</text></g>`,
    );
  }
  for (const marker of chart.markers ?? []) {
    const x = sx(marker.x).toFixed(1);
    parts.push(
      `<g class="marker" data-kind="${escapeHtml(marker.kind)}"><line x1="${x}" x2="${x}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="${marker.color}" stroke-width="1.5" opacity="0.7"/>`,
      `<title>${escapeHtml(marker.label)}</title></g>`,
    );
  }
  for (const series of chart.series) {
    const coords: string[] = [];
    series.points.forEach((p, i) => {
      const next = series.points[i + 1];
      coords.push(`${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
      if (series.step && next !== undefined) coords.push(`${sx(next.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    });
    parts.push(
      `<g class="series" data-series="${escapeHtml(series.id)}" data-points="${series.points.length}">`,
      `<polyline fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ''} points="${coords.join(' ')}"/>`,
      ...series.points.map(
        (p) =>
          `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="${series.color}"><title>${escapeHtml(`${series.label}: ${chart.formatY(p.y)} at ${chart.formatX(p.x)}`)}</title></circle>`,
      ),
      '</g>',
    );
  }
  parts.push('</svg>');
  const legend = chart.series
    .map((s) => `<span class="key"><span class="swatch" style="background:${s.color}"></span>${escapeHtml(s.label)}</span>`)
    .join(' ');
  return `<figure class="chart-box"><figcaption>${escapeHtml(chart.title)}</figcaption>${parts.join('')}<div class="legend">${legend}</div></figure>`;
}
