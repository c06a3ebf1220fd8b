/**
 * Test helper: pulls charts, bars and polylines out of the report HTML with plain
 * regular expressions (the report's markup is generated, regular and attribute-quoted).
 */

export interface ParsedChart {
  id: string;
  xDomain: [number, number];
  yDomain: [number, number];
  yScale: 'linear' | 'log';
  plot: { left: number; top: number; width: number; height: number };
  body: string;
}

export function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const pair = (s: string): [number, number] => {
  const [a, b] = s.split(' ').map(Number);
  return [a!, b!];
};

/** Every <svg class="chart"> of the page by id. */
export function charts(html: string): Map<string, ParsedChart> {
  const out = new Map<string, ParsedChart>();
  for (const m of html.matchAll(/<svg class="chart"([^>]*)>([\s\S]*?)<\/svg>/g)) {
    const a = attrs(m[1]!);
    const [left, top, width, height] = a['data-plot']!.split(' ').map(Number);
    out.set(a['id']!, {
      id: a['id']!,
      xDomain: pair(a['data-x-domain']!),
      yDomain: pair(a['data-y-domain']!),
      yScale: a['data-y-scale'] as 'linear' | 'log',
      plot: { left: left!, top: top!, width: width!, height: height! },
      body: m[2]!,
    });
  }
  return out;
}

/** Polylines of a chart by data-series, as pixel points. */
export function polylines(chart: ParsedChart): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const m of chart.body.matchAll(/<polyline ([^>]*)>/g)) {
    const a = attrs(m[1]!);
    out.set(
      a['data-series']!,
      a['points']!.split(' ').map((p) => pair(p.replace(',', ' '))),
    );
  }
  return out;
}

/** Bars of a chart: their attributes (data-*, x, y, width, height). */
export function bars(chart: ParsedChart): Array<Record<string, string>> {
  return [...chart.body.matchAll(/<rect class="bar"([^>]*)>/g)].map((m) => attrs(m[1]!));
}

/** Expected pixel of a data point (the report's scales, recomputed from its declared domains). */
export function toPixel(chart: ParsedChart, x: number, y: number): [number, number] {
  const { plot, xDomain, yDomain, yScale } = chart;
  const px = plot.left + ((x - xDomain[0]) / (xDomain[1] - xDomain[0])) * plot.width;
  const f = yScale === 'log' ? Math.log10 : (v: number) => v;
  const py =
    plot.top + plot.height * (1 - (f(y) - f(yDomain[0])) / (f(yDomain[1]) - f(yDomain[0])));
  return [px, py];
}
