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

/** Points drawn per series at most: longer series are downsampled, keeping each bucket's lowest and highest point. */
export const maxDrawnPoints = 1_000;

/** Width in px of the columns markers are merged into: one marker per kind and colour per column. */
const markerColumnPx = 4;

/** Longest label or tooltip text drawn, in characters. */
const maxLabel = 300;

/**
 * Renders a line chart as inline SVG: no script, no external resource, so it
 * reads in any browser with JavaScript off. Each series is a `<g
 * data-series data-points>` (`data-points`: the points given) with one
 * `<circle>` per point drawn: at most `maxDrawnPoints`, a longer series
 * being downsampled so that spikes survive. Markers closer than a few
 * pixels are merged. Points that are not finite numbers are left out. Time
 * and memory are linear in the number of points and markers.
 */
export function lineChart(chart: LineChart): string {
  const series = chart.series.map((s) => ({ ...s, given: s.points.length, points: finitePoints(s.points) }));
  const markers = (chart.markers ?? []).filter((m) => Number.isFinite(m.x));
  const thresholds = (chart.thresholds ?? []).filter((t) => Number.isFinite(t.y));
  const [x0, x1] = chart.xDomain ?? xRange(series, markers);
  const yTop = chart.yMax ?? yTopOf(series, thresholds);
  const sx = (x: number) => pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number) => height - pad.bottom - (Math.max(0, Math.min(y, yTop)) / yTop) * (height - pad.top - pad.bottom);
  const formatY = safeFormat(chart.formatY);
  const formatX = safeFormat(chart.formatX);
  const parts: string[] = [];
  parts.push(
    `<svg id="${escapeHtml(chart.id)}" class="chart" role="img" aria-label="${escapeHtml(chart.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeHtml(chart.title)}</title>`,
  );
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const y = sy(yTop * fraction);
    parts.push(
      `<line class="grid" x1="${pad.left}" x2="${width - pad.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`,
      `<text x="${pad.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(formatY(yTop * fraction))}</text>`,
    );
  }
  if (Number.isFinite(x0) && Number.isFinite(x1)) {
    for (const fraction of [0, 0.5, 1]) {
      const x = x0 + (x1 - x0) * fraction;
      parts.push(
        `<text x="${sx(x).toFixed(1)}" y="${height - 8}" text-anchor="${fraction === 0 ? 'start' : fraction === 1 ? 'end' : 'middle'}" font-size="11" fill="#555">${escapeHtml(formatX(x))}</text>`,
      );
    }
  }
  for (const threshold of thresholds) {
    const y = sy(threshold.y).toFixed(1);
    parts.push(
      `<g class="threshold"><line x1="${pad.left}" x2="${width - pad.right}" y1="${y}" y2="${y}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
      `<text x="${width - pad.right}" y="${Number(y) - 4}" text-anchor="end" font-size="11" fill="#c0392b">${escapeHtml(clip(threshold.label))}</text></g>`,
    );
  }
  for (const marker of mergeMarkers(markers, sx)) {
    const x = sx(marker.x).toFixed(1);
    parts.push(
      `<g class="marker" data-kind="${escapeHtml(marker.kind)}"><line x1="${x}" x2="${x}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="${marker.color}" stroke-width="1.5" opacity="0.7"/>`,
      `<title>${escapeHtml(marker.label)}</title></g>`,
    );
  }
  for (const s of series) {
    const drawn = downsample(s.points, maxDrawnPoints);
    const coords: string[] = [];
    for (let i = 0; i < drawn.length; i++) {
      const p = drawn[i] as Point;
      const next = drawn[i + 1];
      coords.push(`${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
      if (s.step && next !== undefined) coords.push(`${sx(next.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    }
    parts.push(
      `<g class="series" data-series="${escapeHtml(s.id)}" data-points="${s.given}"${drawn.length < s.given ? ` data-drawn="${drawn.length}"` : ''}>`,
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${coords.join(' ')}"/>`,
    );
    for (const p of drawn) {
      parts.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeHtml(clip(`${s.label}: ${formatY(p.y)} at ${formatX(p.x)}`))}</title></circle>`,
      );
    }
    parts.push('</g>');
  }
  parts.push('</svg>');
  const legend = series
    .map((s) => `<span class="key"><span class="swatch" style="background:${s.color}"></span>${escapeHtml(clip(s.label))}</span>`)
    .join(' ');
  return `<figure class="chart-box"><figcaption>${escapeHtml(chart.title)}</figcaption>${parts.join('')}<div class="legend">${legend}</div></figure>`;
}

type Point = { readonly x: number; readonly y: number };

function finitePoints(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) if (Number.isFinite(p.x) && Number.isFinite(p.y)) out.push(p);
  return out;
}

/** The data's x range, by a loop: spreading a long array into Math.min overflows the stack. */
function xRange(series: readonly { points: readonly Point[] }[], markers: readonly ChartMarker[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const see = (x: number) => {
    if (x < min) min = x;
    if (x > max) max = x;
  };
  for (const s of series) for (const p of s.points) see(p.x);
  for (const m of markers) see(m.x);
  return min <= max ? [min, max] : [0, 1];
}

function yTopOf(series: readonly { points: readonly Point[] }[], thresholds: readonly ChartThreshold[]): number {
  let max = 0;
  for (const s of series) for (const p of s.points) if (p.y > max) max = p.y;
  for (const t of thresholds) if (t.y > max) max = t.y;
  const top = max * 1.1;
  return Number.isFinite(top) && top > 0 ? top : max > 0 && Number.isFinite(max) ? max : 1;
}

/**
 * At most about `max` points, in order: the series is cut into buckets of
 * consecutive points and each bucket keeps its first, lowest, highest and
 * last point, so a spike (or a step's edges) survive. Linear.
 */
export function downsample(points: readonly Point[], max: number): readonly Point[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 4));
  const size = Math.ceil(points.length / buckets);
  const out: Point[] = [];
  for (let start = 0; start < points.length; start += size) {
    const end = Math.min(points.length, start + size);
    let low = start;
    let high = start;
    for (let i = start + 1; i < end; i++) {
      if ((points[i] as Point).y < (points[low] as Point).y) low = i;
      if ((points[i] as Point).y > (points[high] as Point).y) high = i;
    }
    const keep = [...new Set([start, low, high, end - 1])].sort((a, b) => a - b);
    for (const i of keep) out.push(points[i] as Point);
  }
  return out;
}

/** One marker per kind and colour per few pixels; a merged one says how many it stands for. */
function mergeMarkers(markers: readonly ChartMarker[], sx: (x: number) => number): ChartMarker[] {
  const merged = new Map<string, { marker: ChartMarker; count: number }>();
  for (const marker of markers) {
    const column = Math.round(sx(marker.x) / markerColumnPx);
    const key = `${marker.kind}\u0000${marker.color}\u0000${column}`;
    const seen = merged.get(key);
    if (seen === undefined) merged.set(key, { marker, count: 1 });
    else seen.count += 1;
  }
  return [...merged.values()].map(({ marker, count }) => ({
    ...marker,
    label: clip(count === 1 ? marker.label : `${marker.label} (and ${count - 1} more ${marker.kind} marks here)`),
  }));
}

function clip(text: string): string {
  return text.length > maxLabel ? `${text.slice(0, maxLabel)}…` : text;
}

/** A formatter that never throws into the page. */
function safeFormat(format: (value: number) => string): (value: number) => string {
  return (value) => {
    try {
      return String(format(value));
    } catch {
      return '';
    }
  };
}
