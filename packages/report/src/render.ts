/**
 * `renderReport`: a run's metrics and summary as one self-contained HTML page with inline SVG
 * charts (no scripts, no external resources): per-layer bit widths, average bits and the budget
 * ratio R against their targets (spec 3), loss and accuracy (soft, exact, float), and the
 * temperature beta (spec 2) on a log scale.
 */
import type { MetricsRecord, SummaryRecord } from '@csq/run-format';
import { barChart, emptyChart, escapeXml, extent, lineChart, type Series } from './svg.js';

/** What `renderReport` draws. */
export interface ReportInput {
  metrics: MetricsRecord[];
  summary: SummaryRecord;
  /** Page title (default: "csq report: <recipe>"). */
  title?: string;
}

/** Colours of the series (colour-blind friendly, Tableau 10). */
export const COLORS = {
  bars: '#4e79a7',
  slots: '#4e79a7',
  params: '#f28e2b',
  target: '#e15759',
  R: '#76b7b2',
  loss: '#4e79a7',
  ce: '#59a14f',
  floatLoss: '#b07aa1',
  train: '#9c755f',
  soft: '#f28e2b',
  exact: '#4e79a7',
  float: '#b07aa1',
  beta: '#edc948',
} as const;

/** Metrics of one model, one line per (round, epoch) (the last one wins), in training order. */
export function seriesLines(metrics: MetricsRecord[], model: 'csq' | 'float'): MetricsRecord[] {
  const byKey = new Map<string, MetricsRecord>();
  for (const m of metrics) if (m.model === model) byKey.set(`${m.round ?? 0}:${m.epoch}`, m);
  return [...byKey.values()].sort((a, b) => (a.round ?? 0) - (b.round ?? 0) || a.epoch - b.epoch);
}

/**
 * The x coordinate of each line: its epoch counted from 1 (as the console and `csq info` count
 * them), or its position in training order, from 1, when the run has rounds.
 */
export function xValues(lines: MetricsRecord[]): number[] {
  const rounds = lines.some((l) => l.round !== undefined && l.round > 0);
  return lines.map((l, i) => (rounds ? i + 1 : l.epoch + 1));
}

type NumericKey = {
  [K in keyof MetricsRecord]-?: MetricsRecord[K] extends number | undefined ? K : never;
}[keyof MetricsRecord];

function points(lines: MetricsRecord[], xs: number[], key: NumericKey): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  lines.forEach((l, i) => {
    const v = l[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push([xs[i]!, v]);
  });
  return out;
}

const pct = (v: number) => `${Math.round(v * 1000) / 10}%`;

/** Parameter counts the short way: 432, 36.9k, 1.2M. */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${Math.round(s * 10) / 10} s`;
}

function summaryTable(s: SummaryRecord, csq: MetricsRecord[]): string {
  const rows: Array<[string, string]> = [];
  const add = (k: string, v: unknown, f: (x: never) => string = String) => {
    if (v !== undefined && v !== null && v !== '') rows.push([k, f(v as never)]);
  };
  add('recipe', s.recipe);
  add('backend', s.backend);
  add('epochs', s.epochs);
  add('starting bits N', s.bits);
  add('target bits', s.targetBits);
  add(
    'budget',
    s.budget === undefined || s.budget === null
      ? undefined
      : typeof s.budget === 'object'
        ? JSON.stringify(s.budget)
        : String(s.budget),
  );
  add('average bits (slots)', s.avgBits?.slots, (v: number) => v.toFixed(3));
  add('average bits (params)', s.avgBits?.params, (v: number) => v.toFixed(3));
  add('compression vs float32', s.avgBits?.params, (v: number) =>
    v > 0 ? `${(32 / v).toFixed(1)}x` : '-',
  );
  add('model size', s.sizeBytes, formatBytes);
  add('float accuracy', s.floatAccuracy, pct);
  add('soft accuracy', s.softAccuracy, pct);
  add('exact accuracy', s.exactAccuracy, pct);
  add('wall time', s.wallSeconds, formatSeconds);
  const ticket = csq.find((l) => l.phase === 'ticket');
  if (ticket) add('ticket from epoch', ticket.epoch + 1);
  const body = rows
    .map(([k, v]) => `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`)
    .join('');
  return `<table class="summary">${body}</table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fff;margin:24px auto;max-width:1000px;padding:0 16px}
h1{font-size:22px;margin:0 0 12px}
.summary{border-collapse:collapse;margin:0 0 20px}
.summary th{text-align:left;font-weight:600;padding:3px 16px 3px 0;color:#444}
.summary td{padding:3px 0;font-variant-numeric:tabular-nums}
.chart-figure{margin:0 0 28px}
figcaption{font-weight:600;font-size:16px;margin:0 0 6px}
.scroll{overflow-x:auto}
svg.chart{display:block;font-size:11px}
svg .grid{stroke:#eee}
svg .tick-mark{stroke:#999}
svg .tick,svg .bar-label,svg .bar-note{fill:#555}
svg .bar-value{fill:#222;font-weight:600}
svg .axis-title{fill:#333;font-size:12px}
svg .marker{stroke:#888;stroke-dasharray:3 3}
svg .marker-label{fill:#666}
svg .reference{stroke-dasharray:6 4;stroke-width:1.5}
.legend{list-style:none;padding:0;margin:4px 0 0 64px;display:flex;flex-wrap:wrap;gap:4px 18px}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:22px;border-top:3px solid}
.swatch.dashed{border-top-style:dashed}
.empty{color:#777;font-style:italic}
footer{color:#777;font-size:12px;margin-top:24px}
`;

/** Renders the report of a run as a self-contained HTML string (inline SVG, no scripts). */
export function renderReport(input: ReportInput): string {
  const { metrics, summary } = input;
  const title = input.title ?? `csq report: ${summary.recipe ?? 'run'}`;
  const csq = seriesLines(metrics, 'csq');
  const flt = seriesLines(metrics, 'float');
  const xs = xValues(csq);
  const fx = xValues(flt);
  const rounds = csq.some((l) => l.round !== undefined && l.round > 0);
  const xLabel = rounds ? 'epoch (all rounds, in order)' : 'epoch';

  // Vertical markers: the first ticket epoch and each round start.
  const vLines: Array<{ x: number; label: string }> = [];
  const ticketAt = csq.findIndex((l) => l.phase === 'ticket');
  if (ticketAt >= 0) vLines.push({ x: xs[ticketAt]!, label: 'ticket' });
  csq.forEach((l, i) => {
    if (i > 0 && (l.round ?? 0) !== (csq[i - 1]!.round ?? 0))
      vLines.push({ x: xs[i]!, label: `round ${l.round}` });
  });

  const charts: string[] = [];

  // 1. Per-layer bit widths (spec 2: b_l = number of selected positions).
  const layers = summary.layers;
  const n = summary.bits ?? undefined;
  const maxBits = Math.max(1, n ?? 0, extent(layers.map((l) => l.bits))[1]);
  const totalParams = layers.reduce((a, l) => a + l.params, 0);
  charts.push(
    layers.length === 0
      ? emptyChart('layer-bits', 'Bits per layer', 'summary.json lists no quantized layers.')
      : barChart({
          id: 'layer-bits',
          title: `Bits per layer (${layers.length} layers, ${formatCount(totalParams)} quantized weights)`,
          yLabel: 'selected bits',
          color: COLORS.bars,
          yMax: maxBits,
          bars: layers.map((l) => ({
            label: l.name,
            value: l.bits,
            note: `${formatCount(l.params)} params`,
            data: { layer: l.name, bits: l.bits, params: l.params },
          })),
          hLines:
            typeof summary.targetBits === 'number'
              ? [
                  {
                    y: summary.targetBits,
                    label: `target ${summary.targetBits} bits`,
                    color: COLORS.target,
                  },
                ]
              : [],
        }),
  );

  // 2. Average bits over epochs against the target (spec 3: both counts).
  const avgSeries: Series[] = [
    {
      id: 'avgBitsSlots',
      label: 'average bits (slots)',
      color: COLORS.slots,
      points: points(csq, xs, 'avgBitsSlots'),
    },
    {
      id: 'avgBitsParams',
      label: 'average bits (params)',
      color: COLORS.params,
      points: points(csq, xs, 'avgBitsParams'),
    },
  ];
  const target =
    typeof summary.targetBits === 'number'
      ? summary.targetBits
      : csq.find((l) => l.targetR !== undefined) && n
        ? csq.find((l) => l.targetR !== undefined)!.targetR! * n
        : undefined;
  charts.push(
    avgSeries.some((s) => s.points.length > 0)
      ? lineChart({
          id: 'avg-bits',
          title: 'Average bits per weight',
          xLabel,
          yLabel: 'bits',
          series: avgSeries,
          hLines:
            target !== undefined
              ? [{ y: target, label: `target ${target}`, color: COLORS.target }]
              : [],
          vLines,
        })
      : emptyChart(
          'avg-bits',
          'Average bits per weight',
          'metrics.jsonl has no average bits (a float-only run).',
        ),
  );

  // 3. The budget ratio R against R_T (spec 3).
  const rSeries: Series[] = [
    { id: 'R', label: 'R (selected / total slots)', color: COLORS.R, points: points(csq, xs, 'R') },
    {
      id: 'targetR',
      label: 'target R_T',
      color: COLORS.target,
      points: points(csq, xs, 'targetR'),
      dashed: true,
    },
  ];
  charts.push(
    rSeries[0]!.points.length > 0
      ? lineChart({
          id: 'budget-r',
          title: 'Budget ratio R against the target',
          xLabel,
          yLabel: 'R',
          series: rSeries,
          yDomain: [0, Math.max(1, extent(rSeries.flatMap((s) => s.points.map((p) => p[1])))[1])],
          vLines,
        })
      : emptyChart('budget-r', 'Budget ratio R against the target', 'metrics.jsonl has no R.'),
  );

  // 4. Loss.
  const lossSeries: Series[] = [
    {
      id: 'loss',
      label: 'CSQ loss (CE + budget)',
      color: COLORS.loss,
      points: points(csq, xs, 'loss'),
    },
    {
      id: 'ce',
      label: 'CSQ cross-entropy',
      color: COLORS.ce,
      points: points(csq, xs, 'ce'),
      dashed: true,
    },
    {
      id: 'floatLoss',
      label: 'float baseline loss',
      color: COLORS.floatLoss,
      points: points(flt, fx, 'loss'),
    },
  ];
  charts.push(
    lineChart({
      id: 'loss',
      title: 'Training loss',
      xLabel,
      yLabel: 'loss',
      series: lossSeries,
      vLines,
    }),
  );

  // 5. Accuracy: train, soft (continuous weights), exact (Heaviside weights, spec 1), float.
  const floatAcc = points(flt, fx, 'floatAccuracy');
  const accSeries: Series[] = [
    {
      id: 'trainAccuracy',
      label: 'CSQ train',
      color: COLORS.train,
      points: points(csq, xs, 'trainAccuracy'),
      dashed: true,
    },
    {
      id: 'softAccuracy',
      label: 'CSQ soft (test)',
      color: COLORS.soft,
      points: points(csq, xs, 'softAccuracy'),
    },
    {
      id: 'exactAccuracy',
      label: 'CSQ exact (test)',
      color: COLORS.exact,
      points: points(csq, xs, 'exactAccuracy'),
    },
    {
      id: 'floatAccuracy',
      label: 'float baseline (test)',
      color: COLORS.float,
      points: floatAcc.length > 0 ? floatAcc : points(csq, xs, 'floatAccuracy'),
    },
  ];
  charts.push(
    lineChart({
      id: 'accuracy',
      title: 'Accuracy',
      xLabel,
      yLabel: 'accuracy',
      series: accSeries,
      yDomain: [0, 1],
      yFormat: pct,
      vLines,
    }),
  );

  // 6. Temperature beta (spec 2), log scale.
  const betaPts = points(csq, xs, 'beta').filter((p) => p[1] > 0);
  charts.push(
    betaPts.length > 0
      ? lineChart({
          id: 'beta',
          title: 'Temperature beta (log scale)',
          xLabel,
          yLabel: 'beta',
          yScale: 'log',
          series: [{ id: 'beta', label: 'beta', color: COLORS.beta, points: betaPts }],
          vLines,
        })
      : emptyChart('beta', 'Temperature beta (log scale)', 'metrics.jsonl has no beta.'),
  );

  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeXml(title)}</h1>${summaryTable(summary, csq)}${charts.join('')}` +
    `<footer>${csq.length} CSQ epochs${flt.length ? `, ${flt.length} float-baseline epochs` : ''}. Generated by @csq/report.</footer>` +
    '</body></html>\n'
  );
}
