/**
 * The end-of-run summary as the table `csq train` prints (summary.json itself is built by
 * @csq/run-format's buildSummary and written by trainNode).
 */
import type { RunSummary } from '@csq/run-format';

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(2)}%`;
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The summary as the table `csq train` prints. */
export function formatSummary(s: RunSummary): string {
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
