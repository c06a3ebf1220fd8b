/**
 * The end-of-run summary: per-layer bits and parameters, accuracies, average bits in both
 * counts, size and compression; written to OUT/summary.json and printed as a table.
 */
import type { BudgetReport } from '@csq/budget';
import type { LayerSummary, RunSummary } from '@csq/trainer';
import type * as tf from '@tensorflow/tfjs';

/** Number of inference parameters of a model (every weight, trainable or not). */
export function countParams(model: tf.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

/**
 * Builds summary.json. `floatParams` is the parameter count of the same network in float
 * (what float32 storage would hold); the exact model stores its counted kernels at their
 * selected bits and everything else (batch norm, float shortcuts, biases) as float32.
 */
export function buildSummary(args: {
  recipe: string;
  backend: string;
  epochs: number;
  floatAccuracy: number | null;
  softAccuracy: number;
  exactAccuracy: number;
  report: BudgetReport;
  floatParams: number;
  wallSeconds: number;
  bits: number;
  actBits: number;
  finalBeta: number;
}): RunSummary & { actBits: number; finalBeta: number; weightCompression: number } {
  const r = args.report;
  const quantBytes = r.sizeBits / 8;
  const otherParams = Math.max(0, args.floatParams - r.params);
  const sizeBytes = Math.ceil(quantBytes + 4 * otherParams);
  const float32Bytes = 4 * args.floatParams;
  const layers: LayerSummary[] = r.layers.map((l) => ({
    name: l.name,
    bits: l.bits,
    params: l.params,
    maxBits: l.maxBits,
  }));
  return {
    recipe: args.recipe,
    backend: args.backend,
    epochs: args.epochs,
    floatAccuracy: args.floatAccuracy,
    softAccuracy: args.softAccuracy,
    exactAccuracy: args.exactAccuracy,
    avgBits: { slots: r.avgBitsSlots, params: r.avgBitsParams },
    sizeBytes,
    float32Bytes,
    compression: float32Bytes / sizeBytes,
    weightCompression: r.compressionRatio,
    layers,
    wallSeconds: args.wallSeconds,
    targetBits: r.targetBits,
    budget: r.mode,
    bits: args.bits,
    actBits: args.actBits,
    finalBeta: args.finalBeta,
  };
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(2)}%`;
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The summary as the table `csq train` prints. */
export function formatSummary(s: RunSummary & { weightCompression?: number }): string {
  const nameWidth = Math.max(5, ...s.layers.map((l) => l.name.length));
  const rows = [
    `${'layer'.padEnd(nameWidth)}  bits  ${'params'.padStart(9)}`,
    `${'-'.repeat(nameWidth)}  ----  ${'-'.repeat(9)}`,
    ...s.layers.map(
      (l) =>
        `${l.name.padEnd(nameWidth)}  ${String(l.bits).padStart(4)}  ${String(l.params).padStart(9)}`,
    ),
  ];
  const lines = [
    '',
    `Per-layer precision (${s.recipe}, N = ${s.bits}, target ${s.targetBits} bits, budget ${s.budget}):`,
    ...rows.map((r) => `  ${r}`),
    '',
    `  float accuracy      ${pct(s.floatAccuracy)}`,
    `  soft accuracy       ${pct(s.softAccuracy)}`,
    `  exact accuracy      ${pct(s.exactAccuracy)}`,
    `  average bits        ${s.avgBits.slots.toFixed(3)} per layer (slots), ${s.avgBits.params.toFixed(3)} per weight (params)`,
    `  size                ${kib(s.sizeBytes)} exact model vs ${kib(s.float32Bytes)} float32: ${s.compression.toFixed(2)}x smaller` +
      (s.weightCompression && Number.isFinite(s.weightCompression)
        ? ` (quantized weights ${s.weightCompression.toFixed(1)}x)`
        : ''),
    `  backend, epochs     ${s.backend}, ${s.epochs}`,
    `  wall time           ${s.wallSeconds.toFixed(1)} s`,
    '',
  ];
  return lines.join('\n');
}
