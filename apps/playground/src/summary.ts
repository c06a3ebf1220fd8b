/**
 * The end-of-run summary of `csq train` (packages/cli/src/summary.ts), for the page: per-layer
 * bits and parameters, accuracies, average bits both ways, size and compression.
 */
import type { BudgetReport } from '@csq/budget';
import type { RunSummary } from '@csq/trainer';
import type * as tf from '@tensorflow/tfjs';

/** The page's summary: `csq train`'s summary.json fields. */
export type PageSummary = RunSummary & { weightCompression: number; finalBeta: number };

/** Number of inference parameters of a model (every weight, trainable or not). */
export function countParams(model: tf.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

/**
 * The summary as `csq train` computes it: the exact model stores each counted kernel at its
 * selected bits and everything else (batch norm, biases) as float32; `floatParams` is the
 * network's parameter count in float.
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
  const r = args.report;
  const otherParams = Math.max(0, args.floatParams - r.params);
  const sizeBytes = Math.ceil(r.sizeBits / 8 + 4 * otherParams);
  const float32Bytes = 4 * args.floatParams;
  return {
    recipe: 'playground',
    backend: args.backend,
    epochs: args.epochs,
    floatAccuracy: null,
    softAccuracy: args.softAccuracy,
    exactAccuracy: args.exactAccuracy,
    avgBits: { slots: r.avgBitsSlots, params: r.avgBitsParams },
    sizeBytes,
    float32Bytes,
    compression: float32Bytes / sizeBytes,
    weightCompression: r.compressionRatio,
    layers: r.layers.map((l) => ({
      name: l.name,
      bits: l.bits,
      params: l.params,
      maxBits: l.maxBits,
    })),
    wallSeconds: args.wallSeconds,
    targetBits: r.targetBits,
    budget: r.mode,
    bits: args.bits,
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
    [
      'size',
      `${kib(s.sizeBytes)} exact model vs ${kib(s.float32Bytes)} float32: ${s.compression.toFixed(2)}x smaller` +
        (Number.isFinite(s.weightCompression)
          ? ` (quantized weights ${s.weightCompression.toFixed(1)}x)`
          : ''),
    ],
    ['backend, epochs', `${s.backend}, ${s.epochs}`],
    ['wall time', `${s.wallSeconds.toFixed(1)} s`],
  ];
}
