import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumAvailable, launchChromium, type Page } from '@csq/test-utils/browser';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeRun } from '../test/fake-run.js';
import { writeReport } from './write.js';

const hasChromium = chromiumAvailable('@csq/report', 'browser screenshot test');

interface ChartBox {
  id: string;
  /** The plot area in page pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** Stroke colours of the polylines and fill colour of the bars, by series id. */
  colors: Record<string, string>;
}

const hexRgb = (c: string): [number, number, number] => {
  const m = c.match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i);
  if (!m) throw new Error(`not a #rrggbb colour: ${c}`);
  return [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16)];
};

/** Pixel counts inside a chart's plot area: not white, and close to each series colour. */
function countPixels(
  png: PNG,
  chart: ChartBox,
): { nonWhite: number; area: number; byColor: Record<string, number> } {
  const inset = 2; // skip the plot frame
  const x0 = Math.ceil(chart.box.x) + inset;
  const y0 = Math.ceil(chart.box.y) + inset;
  const x1 = Math.floor(chart.box.x + chart.box.width) - inset;
  const y1 = Math.floor(chart.box.y + chart.box.height) - inset;
  const targets = Object.entries(chart.colors).map(([k, c]) => [k, hexRgb(c)] as const);
  const byColor: Record<string, number> = Object.fromEntries(targets.map(([k]) => [k, 0]));
  let nonWhite = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 4;
      const r = png.data[i]!;
      const g = png.data[i + 1]!;
      const b = png.data[i + 2]!;
      if (r < 235 || g < 235 || b < 235) nonWhite++;
      for (const [k, [tr, tg, tb]] of targets) {
        if (Math.hypot(r - tr, g - tg, b - tb) <= 40) byColor[k]!++;
      }
    }
  }
  return { nonWhite, area: (x1 - x0) * (y1 - y0), byColor };
}

async function measure(page: Page): Promise<{ charts: ChartBox[]; png: PNG }> {
  const charts = (await page.evaluate(() =>
    Array.from(document.querySelectorAll('svg.chart')).map((svg) => {
      const r = svg.querySelector('rect.plot-area')!.getBoundingClientRect();
      const colors: Record<string, string> = {};
      for (const p of Array.from(svg.querySelectorAll('polyline.series'))) {
        colors[p.getAttribute('data-series')!] = p.getAttribute('stroke')!;
      }
      const bar = svg.querySelector('rect.bar');
      if (bar) colors['bars'] = bar.getAttribute('fill')!;
      return {
        id: svg.id,
        box: {
          x: r.left + window.scrollX,
          y: r.top + window.scrollY,
          width: r.width,
          height: r.height,
        },
        colors,
      };
    }),
  )) as ChartBox[];
  const png = PNG.sync.read(await page.screenshot({ fullPage: true, type: 'png' }));
  return { charts, png };
}

describe.skipIf(!hasChromium)('the report in headless chromium', () => {
  const root = mkdtempSync(join(tmpdir(), 'csq-report-browser-'));
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let reportUrl = '';

  beforeAll(async () => {
    const runDir = join(root, 'run');
    writeFakeRun(runDir);
    reportUrl = pathToFileURL(await writeReport(runDir)).href;
    browser = await launchChromium({
      viewport: { width: 1200, height: 900 },
      deviceScaleFactor: 1,
    });
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('renders every chart: ink in each plot area, in each series colour', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(reportUrl);
    const { charts, png } = await measure(page);
    expect(errors).toEqual([]);
    expect(charts.map((c) => c.id).sort()).toEqual(
      ['accuracy', 'avg-bits', 'beta', 'budget-r', 'layer-bits', 'loss'].sort(),
    );
    for (const chart of charts) {
      expect(chart.box.width, chart.id).toBeGreaterThan(300);
      expect(chart.box.height, chart.id).toBeGreaterThan(150);
      const c = countPixels(png, chart);
      console.log(
        `${chart.id}: ${c.nonWhite} of ${c.area} plot pixels inked; by series ${JSON.stringify(c.byColor)}`,
      );
      // grid lines alone are lighter than the threshold: this is data
      expect(c.nonWhite, chart.id).toBeGreaterThan(0.01 * c.area);
      for (const [series, n] of Object.entries(c.byColor)) {
        expect(n, `${chart.id}/${series}`).toBeGreaterThan(series === 'bars' ? 0.05 * c.area : 40);
      }
    }
  });

  it('the same measurement finds nothing when the data marks are hidden (the check can fail)', async () => {
    await page.goto(reportUrl);
    await page.addStyleTag({ content: 'svg .series, svg .bar, svg .dot { visibility: hidden }' });
    const { charts, png } = await measure(page);
    for (const chart of charts) {
      const c = countPixels(png, chart);
      for (const [series, n] of Object.entries(c.byColor)) {
        // only the dashed reference and marker lines can share a colour with a hidden series
        expect(n, `${chart.id}/${series}`).toBeLessThan(series === 'bars' ? 0.01 * c.area : 1000);
      }
      if (chart.id === 'beta' || chart.id === 'loss') {
        expect(Math.max(...Object.values(c.byColor)), chart.id).toBeLessThan(5);
      }
    }
  });
});
