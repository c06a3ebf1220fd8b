/**
 * Minimal inline-SVG charts (no scripts, no external resources): line charts on a linear or a
 * log10 y axis, and bar charts. Every chart carries its scales as data attributes
 * (`data-x-domain`, `data-y-domain`, `data-y-scale`, `data-plot`) so that what it draws can be
 * checked against the data.
 */

/** Escapes text for HTML/SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A number as a short SVG coordinate (2 decimals, no trailing zeros). */
export function num(x: number): string {
  const r = Math.round(x * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Chart size and margins (pixels). */
export const LAYOUT = { width: 720, height: 300, left: 64, right: 16, top: 16, bottom: 44 };

/** A plot area: where data is drawn inside the svg. */
export interface Plot {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Ticks at 1, 2 or 5 times a power of ten covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => raw <= s) ?? 10 * mag;
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9) * step;
  for (let t = first; t <= hi + step * 1e-9; t += step) out.push(Math.round(t / step) * step);
  return out;
}

/** Expands [lo, hi] outward to multiples of its nice tick step (and to a non-empty range). */
export function niceDomain(lo: number, hi: number, target = 5): [number, number] {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => raw <= s) ?? 10 * mag;
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** A log10 domain: whole decades around [lo, hi] (lo > 0). */
export function logDomain(lo: number, hi: number): [number, number] {
  const a = Math.floor(Math.log10(lo));
  let b = Math.ceil(Math.log10(hi));
  if (b === a) b = a + 1;
  return [10 ** a, 10 ** b];
}

/** Maps data to pixels inside a plot. */
export interface Scales {
  x: (v: number) => number;
  y: (v: number) => number;
}

/** Linear x and linear or log10 y scales of a plot (y grows upward). */
export function makeScales(
  plot: Plot,
  xDomain: [number, number],
  yDomain: [number, number],
  yScale: 'linear' | 'log',
): Scales {
  const [x0, x1] = xDomain;
  const [y0, y1] = yScale === 'log' ? [Math.log10(yDomain[0]), Math.log10(yDomain[1])] : yDomain;
  const t = (v: number) => (yScale === 'log' ? Math.log10(v) : v);
  return {
    x: (v) => plot.left + ((v - x0) / (x1 - x0)) * plot.width,
    y: (v) => plot.top + plot.height - ((t(v) - y0) / (y1 - y0)) * plot.height,
  };
}

/** One line of a line chart. */
export interface Series {
  id: string;
  label: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

/** A line chart. */
export interface LineChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  yScale?: 'linear' | 'log';
  /** Fixed y domain (linear charts); default: nice domain around the data and `hLines`. */
  yDomain?: [number, number];
  yFormat?: (v: number) => string;
  /** Horizontal reference lines (a target). */
  hLines?: Array<{ y: number; label: string; color: string }>;
  /** Vertical markers (ticket epoch, round starts). */
  vLines?: Array<{ x: number; label: string }>;
}

function axisTitle(plot: Plot, xLabel: string, yLabel: string): string {
  const cx = plot.left + plot.width / 2;
  const cy = plot.top + plot.height / 2;
  return (
    `<text class="axis-title" x="${num(cx)}" y="${num(LAYOUT.height - 6)}" text-anchor="middle">${escapeXml(xLabel)}</text>` +
    `<text class="axis-title" transform="translate(14 ${num(cy)}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`
  );
}

function legend(series: Array<{ label: string; color: string; dashed?: boolean }>): string {
  if (series.length === 0) return '';
  const items = series
    .map(
      (s) =>
        `<li><span class="swatch${s.dashed ? ' dashed' : ''}" style="border-color:${s.color}"></span>${escapeXml(s.label)}</li>`,
    )
    .join('');
  return `<ul class="legend">${items}</ul>`;
}

const defaultFormat = (v: number) => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Math.round(v * 1e6) / 1e6);
};

/** [min, max] of `values` ([Infinity, -Infinity] when empty), without spreading them. */
export function extent(values: readonly number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Most points a chart series draws; longer series are downsampled. */
export const MAX_SERIES_POINTS = 2000;

/**
 * At most `max` points of a series, in order: the series is cut into `max / 2` buckets and each
 * keeps its lowest and highest point (so spikes stay visible), first and last points always kept.
 */
export function downsample(
  points: ReadonlyArray<[number, number]>,
  max = MAX_SERIES_POINTS,
): Array<[number, number]> {
  if (points.length <= max) return points.slice();
  const buckets = Math.max(1, Math.floor(max / 2));
  const out: Array<[number, number]> = [];
  const size = points.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(points.length, Math.floor((b + 1) * size));
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (points[i]![1] < points[lo]![1]) lo = i;
      if (points[i]![1] > points[hi]![1]) hi = i;
    }
    for (const i of lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)]) out.push(points[i]!);
  }
  if (out[0] !== points[0]) out.unshift(points[0]!);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]!);
  return out;
}

/** Renders a line chart as a <figure> holding an inline <svg>. */
export function lineChart(spec: LineChartSpec): string {
  const yScale = spec.yScale ?? 'linear';
  const series = spec.series
    .filter((s) => s.points.length > 0)
    .map((s) => ({ ...s, points: downsample(s.points) }));
  const fmt = spec.yFormat ?? defaultFormat;
  const plot: Plot = {
    left: LAYOUT.left,
    top: LAYOUT.top,
    width: LAYOUT.width - LAYOUT.left - LAYOUT.right,
    height: LAYOUT.height - LAYOUT.top - LAYOUT.bottom,
  };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  for (const h of spec.hLines ?? []) ys.push(h.y);
  // loops, not Math.min(...xs): a spread of a million values overflows the stack
  let xDomain: [number, number] = extent(xs);
  if (xDomain[1] === xDomain[0]) xDomain = [xDomain[0] - 1, xDomain[1] + 1];
  let yDomain: [number, number];
  if (yScale === 'log') {
    yDomain = logDomain(...extent(ys.filter((v) => v > 0)));
  } else {
    yDomain = spec.yDomain ?? niceDomain(...extent(ys));
  }
  const sc = makeScales(plot, xDomain, yDomain, yScale);
  const parts: string[] = [];
  parts.push(
    `<rect class="plot-area" x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="#fff" stroke="#ccc"/>`,
  );
  // y grid and ticks
  const yTicks =
    yScale === 'log'
      ? logTicks(yDomain)
      : niceTicks(yDomain[0], yDomain[1]).filter((t) => t >= yDomain[0] && t <= yDomain[1]);
  for (const t of yTicks) {
    const y = num(sc.y(t));
    parts.push(
      `<line class="grid" x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}"/>` +
        `<text class="tick" x="${plot.left - 6}" y="${y}" dy="0.32em" text-anchor="end">${escapeXml(fmt(t))}</text>`,
    );
  }
  const xTicks = niceTicks(xDomain[0], xDomain[1], 8).filter(
    (t) => t >= xDomain[0] && t <= xDomain[1] && Number.isInteger(t),
  );
  for (const t of xTicks) {
    const x = num(sc.x(t));
    parts.push(
      `<line class="tick-mark" x1="${x}" x2="${x}" y1="${plot.top + plot.height}" y2="${plot.top + plot.height + 4}"/>` +
        `<text class="tick" x="${x}" y="${plot.top + plot.height + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const v of spec.vLines ?? []) {
    if (v.x < xDomain[0] || v.x > xDomain[1]) continue;
    const x = num(sc.x(v.x));
    parts.push(
      `<line class="marker" data-marker="${escapeXml(v.label)}" x1="${x}" x2="${x}" y1="${plot.top}" y2="${plot.top + plot.height}"/>` +
        `<text class="marker-label" x="${x}" dx="3" y="${plot.top + 11}">${escapeXml(v.label)}</text>`,
    );
  }
  for (const h of spec.hLines ?? []) {
    const y = num(sc.y(h.y));
    parts.push(
      `<line class="reference" data-reference="${escapeXml(h.label)}" data-value="${h.y}" x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}" stroke="${h.color}"/>` +
        `<text class="reference-label" x="${plot.left + plot.width - 4}" y="${y}" dy="-0.4em" text-anchor="end" fill="${h.color}">${escapeXml(h.label)}</text>`,
    );
  }
  for (const s of series) {
    const pts = s.points.map(([x, y]) => `${num(sc.x(x))},${num(sc.y(y))}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(
      `<polyline class="series" data-series="${escapeXml(s.id)}" points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}><title>${escapeXml(s.label)}</title></polyline>`,
    );
    if (s.points.length === 1) {
      const [x, y] = s.points[0]!;
      parts.push(
        `<circle class="dot" cx="${num(sc.x(x))}" cy="${num(sc.y(y))}" r="3" fill="${s.color}"/>`,
      );
    }
  }
  parts.push(axisTitle(plot, spec.xLabel, spec.yLabel));
  const svg =
    `<svg class="chart" id="${escapeXml(spec.id)}" role="img" aria-label="${escapeXml(spec.title)}" ` +
    `width="${LAYOUT.width}" height="${LAYOUT.height}" viewBox="0 0 ${LAYOUT.width} ${LAYOUT.height}" ` +
    `data-x-domain="${xDomain[0]} ${xDomain[1]}" data-y-domain="${yDomain[0]} ${yDomain[1]}" ` +
    `data-y-scale="${yScale}" data-plot="${plot.left} ${plot.top} ${plot.width} ${plot.height}">` +
    parts.join('') +
    '</svg>';
  return figure(
    spec.id,
    spec.title,
    svg +
      legend([
        ...series,
        ...(spec.hLines ?? []).map((h) => ({ label: h.label, color: h.color, dashed: true })),
      ]),
  );
}

function logTicks([lo, hi]: [number, number]): number[] {
  const out: number[] = [];
  const decades = Math.round(Math.log10(hi / lo));
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) {
    out.push(10 ** e);
    if (decades <= 2 && e < Math.round(Math.log10(hi))) out.push(2 * 10 ** e, 5 * 10 ** e);
  }
  return out.sort((a, b) => a - b);
}

/** One bar of a bar chart. */
export interface Bar {
  label: string;
  value: number;
  /** Shown under the label (e.g. a parameter count). */
  note?: string;
  data?: Record<string, string | number>;
}

/** A bar chart (one bar per item, e.g. one per layer). */
export interface BarChartSpec {
  id: string;
  title: string;
  yLabel: string;
  bars: Bar[];
  color: string;
  yMax: number;
  hLines?: Array<{ y: number; label: string; color: string }>;
}

/** Renders a bar chart as a <figure> holding an inline <svg>; wide enough for every bar. */
export function barChart(spec: BarChartSpec): string {
  const n = spec.bars.length;
  const rotate = n > 8;
  const slot = Math.max(rotate ? 18 : 40, Math.min(80, 640 / Math.max(n, 1)));
  // rotated labels (-60 degrees) run down and to the left of their bar: make room for the longest
  const labelPx = Math.max(
    0,
    ...spec.bars.map((b) => 6.2 * (b.label.length + (b.note ? b.note.length + 3 : 0))),
  );
  const bottom = rotate ? Math.ceil(24 + 0.87 * labelPx) : 56;
  const left = rotate
    ? Math.max(LAYOUT.left, Math.ceil(0.5 * labelPx - slot / 2 + 8))
    : LAYOUT.left;
  const width = Math.max(LAYOUT.width, left + LAYOUT.right + slot * n);
  const height = LAYOUT.height - LAYOUT.bottom + bottom;
  const plot: Plot = {
    left,
    top: LAYOUT.top + 8,
    width: slot * n,
    height: height - LAYOUT.top - 8 - bottom,
  };
  const yDomain: [number, number] = [0, spec.yMax];
  const sc = makeScales(plot, [0, Math.max(n, 1)], yDomain, 'linear');
  const parts: string[] = [
    `<rect class="plot-area" x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="#fff" stroke="#ccc"/>`,
  ];
  for (const t of niceTicks(0, spec.yMax, Math.min(8, spec.yMax)).filter((t) => t <= spec.yMax)) {
    const y = num(sc.y(t));
    parts.push(
      `<line class="grid" x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}"/>` +
        `<text class="tick" x="${plot.left - 6}" y="${y}" dy="0.32em" text-anchor="end">${t}</text>`,
    );
  }
  const barWidth = slot * 0.7;
  spec.bars.forEach((b, i) => {
    const x = plot.left + slot * i + (slot - barWidth) / 2;
    const y = sc.y(b.value);
    const h = plot.top + plot.height - y;
    const cx = num(x + barWidth / 2);
    const data = Object.entries(b.data ?? {})
      .map(([k, v]) => ` data-${k}="${escapeXml(String(v))}"`)
      .join('');
    const labelY = plot.top + plot.height + 14;
    const label = rotate
      ? `<text class="bar-label" transform="translate(${cx} ${labelY}) rotate(-60)" text-anchor="end">${escapeXml(b.label)}${b.note ? ` (${escapeXml(b.note)})` : ''}</text>`
      : `<text class="bar-label" x="${cx}" y="${labelY}" text-anchor="middle">${escapeXml(b.label)}</text>` +
        (b.note
          ? `<text class="bar-note" x="${cx}" y="${labelY + 14}" text-anchor="middle">${escapeXml(b.note)}</text>`
          : '');
    parts.push(
      `<g class="bar-group"><rect class="bar"${data} x="${num(x)}" y="${num(y)}" width="${num(barWidth)}" height="${num(h)}" fill="${spec.color}">` +
        `<title>${escapeXml(b.label)}: ${b.value} bits${b.note ? `, ${escapeXml(b.note)}` : ''}</title></rect>` +
        `<text class="bar-value" x="${cx}" y="${num(y - 4)}" text-anchor="middle">${b.value}</text>${label}</g>`,
    );
  });
  for (const h of spec.hLines ?? []) {
    // no text label here (it would sit on the bars): the legend names the line
    const y = num(sc.y(h.y));
    parts.push(
      `<line class="reference" data-reference="${escapeXml(h.label)}" data-value="${h.y}" x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}" stroke="${h.color}"/>`,
    );
  }
  parts.push(
    `<text class="axis-title" transform="translate(${plot.left - 46} ${num(plot.top + plot.height / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );
  const svg =
    `<svg class="chart" id="${escapeXml(spec.id)}" role="img" aria-label="${escapeXml(spec.title)}" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `data-x-domain="0 ${Math.max(n, 1)}" data-y-domain="0 ${spec.yMax}" data-y-scale="linear" ` +
    `data-plot="${plot.left} ${plot.top} ${plot.width} ${plot.height}">${parts.join('')}</svg>`;
  return figure(
    spec.id,
    spec.title,
    svg + legend((spec.hLines ?? []).map((h) => ({ ...h, dashed: true }))),
  );
}

/** A chart with nothing to draw: says so instead of an empty frame. */
export function emptyChart(id: string, title: string, why: string): string {
  return figure(id, title, `<p class="empty">${escapeXml(why)}</p>`);
}

function figure(id: string, title: string, body: string): string {
  return `<figure class="chart-figure" data-chart="${escapeXml(id)}"><figcaption>${escapeXml(title)}</figcaption><div class="scroll">${body}</div></figure>`;
}
