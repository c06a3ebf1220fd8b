/**
 * The end-of-run summary of `csq train` (@csq/run-format's buildSummary), for the page: per-layer
 * bits and parameters, accuracies, average bits both ways, size and compression.
 */
import type { BudgetReport } from '@csq/budget';
import { buildSummary as buildRunSummary, type RunSummary } from '@csq/run-format';
import type * as tf from '@tensorflow/tfjs';

/** The page's summary: `csq train`'s summary.json fields. */
export type PageSummary = RunSummary & { weightCompression: number; finalBeta: number };

/** Number of inference parameters of a model (every weight, trainable or not). */
export function countParams(model: tf.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

/**
 * The summary as `csq train` computes it (@csq/run-format's `buildSummary`, the one that writes
 * summary.json): the exact model stores each counted kernel at its selected bits and everything
 * else (batch norm, biases) as float32; `floatParams` is the network's parameter count in float.
 */
export function buildSummary(args: {
  backend: string;
  epochs: number;
  softAccuracy: number;
  exactAccuracy: number;
  report: BudgetReport;
  floatParams: number;
  wallSeconds: number;
  bits: number;
  finalBeta: number;
}): PageSummary {
  const { actBits: _, ...summary } = buildRunSummary({
    ...args,
    recipe: 'playground',
    floatAccuracy: null,
  });
  return {
    ...summary,
    weightCompression: args.report.compressionRatio,
    finalBeta: args.finalBeta,
  };
}

/** A fraction as a percentage with two decimals ('-' when unknown). */
export function pct(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(2)}%`;
}

/** Bytes as KiB or MiB. */
export function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The summary's rows below the per-layer table, as [label, value] pairs (as `csq train` prints). */
export function summaryRows(s: PageSummary): [string, string][] {
  return [
    ['soft accuracy', pct(s.softAccuracy)],
    ['exact accuracy', pct(s.exactAccuracy)],
    [
      'average bits',
      `${s.avgBits.slots.toFixed(3)} per layer (slots), ${s.avgBits.params.toFixed(3)} per weight (params)`,
    ],
    ...(s.reachedBits === undefined
      ? []
      : ([
          [
            'budget',
            `${s.budget}: target ${s.targetBits} bits, reached ${s.reachedBits.toFixed(3)}` +
              (s.reachedBits <= s.targetBits + 1e-9
                ? ''
                : `: missed by ${(s.reachedBits - s.targetBits).toFixed(3)} bits`),
          ],
        ] as [string, string][])),
    [
      "size, paper's count",
      `${kib(s.sizeBytes)} exact model vs ${kib(s.float32Bytes)} float32: ${s.compression.toFixed(2)}x smaller` +
        (Number.isFinite(s.weightCompression)
          ? ` (quantized weights ${s.weightCompression.toFixed(1)}x)`
          : ''),
    ],
    ['backend, epochs', `${s.backend}, ${s.epochs}`],
    ['wall time', `${s.wallSeconds.toFixed(1)} s`],
  ];
}
