/**
 * The live charts (Chart.js): loss, accuracy, temperature, R against its target, and the
 * per-layer bits chart (one floating bar per selected bit position of each layer). Points are
 * buffered and drawn at most a few times a second, so the page never stalls.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Title,
  Tooltip,
} from 'chart.js';
import type { LayerBitsView } from './messages.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Title,
  Tooltip,
);

type Point = { x: number; y: number };
type LineSpec = {
  label: string;
  color: string;
  points?: boolean;
  dash?: number[];
  /** Marker radius on a line (default 0: none). */
  marker?: number;
};

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** A line chart over the training step, its series named by `series`. */
export class LineChart {
  readonly chart: Chart<'line', Point[]>;
  private dirty = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    title: string,
    series: LineSpec[],
    opts: { yLog?: boolean; yMin?: number; yMax?: number } = {},
  ) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: {
        datasets: series.map((s) => ({
          label: s.label,
          data: [] as Point[],
          borderColor: s.color,
          backgroundColor: s.color,
          borderWidth: s.points ? 0 : 1.5,
          pointRadius: s.points ? 3.5 : (s.marker ?? 0),
          showLine: !s.points,
          ...(s.dash ? { borderDash: s.dash } : {}),
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        plugins: {
          title: { display: true, text: title },
          legend: { labels: { boxWidth: 12 } },
        },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'step' }, min: 0 },
          y: {
            type: opts.yLog ? 'logarithmic' : 'linear',
            ...(opts.yMin !== undefined ? { min: opts.yMin } : {}),
            ...(opts.yMax !== undefined ? { max: opts.yMax } : {}),
          },
        },
      },
    });
  }

  /** Appends a point to series `i` (drawn at the next flush). */
  push(i: number, x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    this.chart.data.datasets[i]!.data.push({ x, y });
    this.dirty = true;
  }

  /** Points received so far, per series. */
  counts(): number[] {
    return this.chart.data.datasets.map((d) => d.data.length);
  }

  /** Redraws when points arrived since the last flush. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.chart.update('none');
    this.canvas.dataset.points = String(this.counts().reduce((a, b) => a + b, 0));
  }
}

/** Bars of each layer's selected bit positions: position i selected = a bar from i to i + 1. */
export class BitsChart {
  readonly chart: Chart<'bar', ([number, number] | null)[], string>;
  private pending: LayerBitsView[] | undefined;
  /** Updates received (each one a full set of layers). */
  updates = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private title: string,
  ) {
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: title },
          legend: { display: false },
          tooltip: {
            callbacks: { label: (c) => `bit position ${c.datasetIndex}` },
          },
        },
        scales: {
          x: { title: { display: true, text: 'layer' } },
          y: {
            min: 0,
            title: { display: true, text: 'bit position (0 = least significant)' },
            ticks: { stepSize: 1 },
          },
        },
      },
    });
  }

  /** Shows `layers` at the next flush. */
  set(layers: LayerBitsView[], caption?: string): void {
    this.pending = layers;
    this.updates++;
    if (caption) this.title = caption;
  }

  flush(): void {
    const layers = this.pending;
    if (!layers) return;
    this.pending = undefined;
    const n = Math.max(1, ...layers.map((l) => l.maxBits));
    const datasets: ChartDataset<'bar', ([number, number] | null)[]>[] = [];
    for (let i = 0; i < n; i++) {
      const on = `hsl(${210 - (150 * i) / Math.max(1, n - 1)}, 65%, 50%)`;
      datasets.push({
        label: `bit ${i}`,
        // every position a layer has gets a bar: coloured when selected, pale when pruned
        data: layers.map((l) => (i < l.maxBits ? [i + 0.08, i + 0.92] : null)),
        backgroundColor: layers.map((l) => (l.positions.includes(i) ? on : '#eeeeee')),
        grouped: false,
        barPercentage: 0.6,
        categoryPercentage: 1,
      });
    }
    this.chart.data.labels = layers.map((l) => `${l.name} (${l.positions.length}/${l.maxBits})`);
    this.chart.data.datasets = datasets;
    this.chart.options.scales!.y!.max = n;
    this.chart.options.plugins!.title!.text = this.title;
    this.chart.update('none');
    this.canvas.dataset.points = String(this.updates);
    this.canvas.dataset.bits = JSON.stringify(layers.map((l) => l.positions.length));
  }
}

/** The page's charts. */
export interface PageCharts {
  loss: LineChart;
  accuracy: LineChart;
  temperature: LineChart;
  budget: LineChart;
  bits: BitsChart;
}

/** Creates the charts in their canvases. */
export function createCharts(get: (id: string) => HTMLCanvasElement): PageCharts {
  return {
    loss: new LineChart(get('chart-loss'), 'Loss', [
      { label: 'step loss', color: COLORS[0]! },
      { label: 'epoch loss', color: COLORS[1]!, points: true },
    ]),
    accuracy: new LineChart(
      get('chart-accuracy'),
      'Accuracy',
      [
        { label: 'train (soft, this epoch)', color: COLORS[0]! },
        { label: 'held-out soft (epoch)', color: COLORS[2]!, points: true },
        { label: 'held-out exact (epoch)', color: COLORS[3]!, points: true },
        { label: 'soft, 256 held-out', color: COLORS[2]!, dash: [5, 3], marker: 2 },
        { label: 'exact, 256 held-out', color: COLORS[3]!, dash: [5, 3], marker: 2 },
      ],
      { yMin: 0, yMax: 1 },
    ),
    temperature: new LineChart(
      get('chart-temperature'),
      'Temperature beta',
      [{ label: 'beta', color: COLORS[4]! }],
      { yLog: true },
    ),
    budget: new LineChart(
      get('chart-budget'),
      'Budget R against its target',
      [
        { label: 'R', color: COLORS[0]! },
        { label: 'target R_T', color: COLORS[1]!, dash: [6, 4] },
      ],
      { yMin: 0, yMax: 1 },
    ),
    bits: new BitsChart(get('chart-bits'), 'Selected bits per layer'),
  };
}
