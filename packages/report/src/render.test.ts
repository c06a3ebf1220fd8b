import type { MetricsRecord as MetricsLine } from '@csq/run-format';
import { expectClose } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import { fakeRun } from '../test/fake-run.js';
import { bars, charts, polylines, toPixel } from '../test/svg-parse.js';
import { renderReport } from './render.js';

const run = fakeRun();
const html = renderReport({ metrics: run.metrics, summary: run.summary });
const byId = charts(html);
const csqLines = run.metrics.filter((m) => m.model === 'csq');
const floatLines = run.metrics.filter((m) => m.model === 'float');

/** Checks that a polyline holds exactly the points (x, key) of `lines` mapped by the chart's scales. */
function expectSeries(
  chartId: string,
  seriesId: string,
  lines: MetricsLine[],
  key: keyof MetricsLine,
) {
  const chart = byId.get(chartId)!;
  const pts = polylines(chart).get(seriesId);
  expect(pts, `${chartId}/${seriesId}`).toBeDefined();
  const data = lines.filter((l) => typeof l[key] === 'number');
  expect(pts!.length, `${chartId}/${seriesId} points`).toBe(data.length);
  const want = data.flatMap((l) => toPixel(chart, l.epoch + 1, l[key] as number));
  // coordinates are written with 2 decimals
  expectClose(pts!.flat(), want, { atol: 0.006, rtol: 0 });
  // and every point lies inside the plot area
  for (const [x, y] of pts!) {
    expect(x).toBeGreaterThanOrEqual(chart.plot.left - 0.01);
    expect(x).toBeLessThanOrEqual(chart.plot.left + chart.plot.width + 0.01);
    expect(y).toBeGreaterThanOrEqual(chart.plot.top - 0.01);
    expect(y).toBeLessThanOrEqual(chart.plot.top + chart.plot.height + 0.01);
  }
}

describe('renderReport', () => {
  it('is one self-contained HTML page: no scripts, no external resources', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).toContain('<title>csq report: cifar-n8t2-smoke</title>');
  });

  it('has the six charts', () => {
    expect([...byId.keys()].sort()).toEqual(
      ['accuracy', 'avg-bits', 'beta', 'budget-r', 'layer-bits', 'loss'].sort(),
    );
  });

  it('draws one bar per layer with its bits and parameter count, heights to scale', () => {
    const chart = byId.get('layer-bits')!;
    const b = bars(chart);
    expect(b).toHaveLength(run.summary.layers.length);
    expect(chart.yDomain).toEqual([0, 8]); // N = 8
    run.summary.layers.forEach((l, i) => {
      const bar = b[i]!;
      expect(bar['data-layer']).toBe(l.name);
      expect(Number(bar['data-bits'])).toBe(l.bits);
      expect(Number(bar['data-params'])).toBe(l.params);
      const h = (l.bits / 8) * chart.plot.height;
      expectClose(Number(bar['height']), h, { atol: 0.006, rtol: 0 });
      expectClose(Number(bar['y']) + Number(bar['height']), chart.plot.top + chart.plot.height, {
        atol: 0.011,
        rtol: 0,
      });
      // bars left to right in layer order, inside the plot
      if (i > 0) expect(Number(bar['x'])).toBeGreaterThan(Number(b[i - 1]!['x']));
    });
    // parameter counts are printed with the bars, e.g. "36.9k params"
    expect(chart.body).toContain('36.9k params');
    expect(chart.body).toContain('432 params');
    // the target as a reference line at 2 bits
    expect(chart.body).toMatch(/data-reference="target 2 bits" data-value="2"/);
  });

  it('draws one polyline point per epoch, mapped by the chart scales', () => {
    expectSeries('avg-bits', 'avgBitsSlots', csqLines, 'avgBitsSlots');
    expectSeries('avg-bits', 'avgBitsParams', csqLines, 'avgBitsParams');
    expectSeries('budget-r', 'R', csqLines, 'R');
    expectSeries('budget-r', 'targetR', csqLines, 'targetR');
    expectSeries('loss', 'loss', csqLines, 'loss');
    expectSeries('loss', 'ce', csqLines, 'ce');
    expectSeries('loss', 'floatLoss', floatLines, 'loss');
    expectSeries('accuracy', 'trainAccuracy', csqLines, 'trainAccuracy');
    expectSeries('accuracy', 'softAccuracy', csqLines, 'softAccuracy');
    expectSeries('accuracy', 'exactAccuracy', csqLines, 'exactAccuracy');
    expectSeries('accuracy', 'floatAccuracy', floatLines, 'floatAccuracy');
    expectSeries('beta', 'beta', csqLines, 'beta');
    expect(polylines(byId.get('avg-bits')!).get('avgBitsSlots')).toHaveLength(run.epochs);
    // exact accuracy is evaluated every 5 epochs: fewer points, still at the right epochs
    expect(polylines(byId.get('accuracy')!).get('exactAccuracy')).toHaveLength(6);
  });

  it('uses a log10 axis of whole decades for beta', () => {
    const chart = byId.get('beta')!;
    expect(chart.yScale).toBe('log');
    expect(chart.yDomain).toEqual([1, 1000]); // beta from 1 to 200
    const pts = polylines(chart).get('beta')!;
    // beta = 200^(e/25) is a straight line on a log axis until the ticket epoch
    const slope = (i: number) => (pts[i + 1]![1] - pts[i]![1]) / (pts[i + 1]![0] - pts[i]![0]);
    expectClose(slope(3), slope(17), 1e-3);
    // hand-computed: beta = 1 sits on the bottom edge, beta = 200 at log10(200)/3 of the height
    expectClose(pts[0]![1], chart.plot.top + chart.plot.height, { atol: 0.006, rtol: 0 });
    const y200 = chart.plot.top + chart.plot.height * (1 - Math.log10(200) / 3);
    expectClose(pts[run.ticket]![1], y200, { atol: 0.006, rtol: 0 });
  });

  it('accuracy runs 0..100% and the target is drawn on the average-bits chart', () => {
    expect(byId.get('accuracy')!.yDomain).toEqual([0, 1]);
    // the 60% tick sits 40% of the plot height below its top
    const acc = byId.get('accuracy')!;
    const y60 = acc.plot.top + 0.4 * acc.plot.height;
    expect(acc.body).toContain(`y="${y60}" dy="0.32em" text-anchor="end">60%<`);
    expect(byId.get('avg-bits')!.body).toMatch(/data-reference="target 2" data-value="2"/);
  });

  it('marks the ticket epoch on the epoch charts', () => {
    for (const id of ['avg-bits', 'loss', 'accuracy', 'beta']) {
      const chart = byId.get(id)!;
      const m = chart.body.match(/<line class="marker" data-marker="ticket" x1="([\d.]+)"/);
      expect(m, id).not.toBeNull();
      expectClose(Number(m![1]), toPixel(chart, run.ticket + 1, 1)[0], { atol: 0.006, rtol: 0 });
    }
  });

  it('summarises the run', () => {
    expect(html).toContain('<th scope="row">exact accuracy</th>');
    expect(html).toMatch(/compression vs float32<\/th><td>\d+\.\dx/);
    expect(html).toContain('<th scope="row">ticket from epoch</th><td>26</td>');
  });

  it('escapes names and title', () => {
    const summary = { ...run.summary, layers: [{ name: '<b>x&"y"</b>', bits: 3, params: 10 }] };
    const out = renderReport({
      metrics: run.metrics,
      summary,
      title: 'a <script>alert(1)</script>',
    });
    expect(out).not.toContain('<b>x');
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;b&gt;x&amp;&quot;y&quot;&lt;/b&gt;');
  });

  it('a float-only run says what is missing instead of drawing empty charts', () => {
    const { summary } = run;
    const out = renderReport({ metrics: floatLines, summary: { ...summary, layers: [] } });
    const c = charts(out);
    expect([...c.keys()].sort()).toEqual(['accuracy', 'loss']);
    expect(out).toContain('has no average bits');
    expect(out).toContain('has no beta');
    expect(polylines(c.get('accuracy')!).get('floatAccuracy')).toHaveLength(run.floatEpochs);
  });

  it('with rounds, epochs are laid out in training order and round starts are marked', () => {
    const lines: MetricsLine[] = [];
    for (let round = 0; round < 3; round++) {
      for (let epoch = 0; epoch < 4; epoch++) {
        lines.push({
          model: 'csq',
          round,
          epoch,
          beta: 1 + epoch * 10,
          loss: 1 / (1 + epoch),
          phase: 'search',
        });
      }
    }
    // a resumed run repeats an epoch: the last line wins
    lines.push({ model: 'csq', round: 1, epoch: 2, beta: 21, loss: 0.125, phase: 'search' });
    const out = renderReport({ metrics: lines, summary: { layers: [] } });
    const chart = charts(out).get('loss')!;
    const pts = polylines(chart).get('loss')!;
    expect(pts).toHaveLength(12);
    // counted from 1, as people count epochs
    expect(chart.xDomain[0]).toBeLessThanOrEqual(1);
    expect(chart.xDomain[1]).toBeGreaterThanOrEqual(12);
    expectClose(pts[6]!, toPixel(chart, 7, 0.125), { atol: 0.006, rtol: 0 });
    expect(chart.body.match(/data-marker="round \d"/g)).toEqual([
      'data-marker="round 1"',
      'data-marker="round 2"',
    ]);
    expect(out).toContain('epoch (all rounds, in order)');
  });
});
