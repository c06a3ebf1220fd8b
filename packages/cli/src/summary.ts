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

/** Target, reached and the trim (or by how much an `enforce: off` run missed its target). */
function budgetLines(s: RunSummary): string[] {
  const t = s.trim;
  const reached = s.reachedBits ?? t?.reachedAfter;
  const lines: string[] = [];
  if (reached !== undefined)
    lines.push(
      `  budget              ${s.budget}: target ${s.targetBits} bits, reached ${reached.toFixed(3)}` +
        (reached <= s.targetBits + 1e-9
          ? ''
          : `: missed by ${(reached - s.targetBits).toFixed(3)} bits`),
    );
  if (t) {
    const what =
      t.enforce === 'trim'
        ? t.trimmed.length > 0
          ? `trimmed ${t.trimmed.length} bit position${t.trimmed.length > 1 ? 's' : ''} (${t.reachedBefore.toFixed(3)} -> ${t.reachedAfter.toFixed(3)}): ` +
            t.trimmed.map((a) => `${a.layer}[${a.position}]`).join(', ')
          : 'nothing to trim'
        : `off: the search's result kept (${t.reachedBefore.toFixed(3)} bits at its end)`;
    lines.push(`  budget enforcement  ${what}`);
  }
  return lines;
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
    ...budgetLines(s),
    `  size, paper's count ${kib(s.sizeBytes)} exact model vs ${kib(s.float32Bytes)} float32: ${s.compression.toFixed(2)}x smaller` +
      (s.weightCompression && Number.isFinite(s.weightCompression)
        ? ` (quantized weights ${s.weightCompression.toFixed(1)}x)`
        : ''),
    ...(s.packedBytes !== undefined
      ? [
          `  packed file         ${kib(s.packedBytes)} (${s.packedBytes} bytes, what csq export writes)`,
        ]
      : []),
    `  backend, epochs     ${s.backend}, ${s.epochs}`,
    `  wall time           ${s.wallSeconds.toFixed(1)} s`,
    '',
  ];
  return lines.join('\n');
}
