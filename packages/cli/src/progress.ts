/**
 * Progress output of `csq train`: a bar with ETA per epoch on a terminal, plain lines otherwise.
 * Epochs are shown 1-based ("epoch 1/8"), as everywhere people read them.
 */
import type { MetricsLine } from '@csq/run-format';
import type { BatchLogs, TrainerCallbacks } from '@csq/trainer-node';

/** Where progress goes. */
export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * One human-readable line per epoch. `soft` is the accuracy of the model as trained (sigmoid
 * gates at temperature beta); `exact` is the accuracy of the quantized model that export ships
 * (hard gates); exact stays near chance until the masks harden toward the ticket phase.
 */
export function formatLine(l: MetricsLine): string {
  const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);
  const parts = [
    `[${l.model}] epoch ${l.epoch + 1}/${l.epochs}`,
    l.phase,
    `lr ${l.lr.toPrecision(3)}`,
    `loss ${l.loss.toFixed(4)}`,
    `train ${pct(l.trainAccuracy)}`,
  ];
  if (l.model === 'float') parts.push(`test ${pct(l.floatAccuracy)}`);
  else {
    parts.push(`beta ${l.beta?.toPrecision(4)}`, `soft ${pct(l.softAccuracy)}`);
    if (l.exactAccuracy !== undefined) parts.push(`exact ${pct(l.exactAccuracy)}`);
    parts.push(
      `R ${l.R?.toFixed(3)} (target ${l.targetR?.toFixed(3)})`,
      `avg bits ${l.avgBitsSlots?.toFixed(2)}`,
    );
  }
  parts.push(`${l.seconds.toFixed(1)} s`);
  return parts.join(' | ');
}

/** Trainer callbacks that draw the bar (TTY) or print one line per epoch (not a TTY). */
export function progressCallbacks(
  sink: ProgressSink,
  opts: { quiet?: boolean; label?: string } = {},
): TrainerCallbacks {
  let epochStart = 0;
  let firstBatch = 0;
  let barShown = false;
  const clear = () => {
    if (barShown) sink.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    onEpochBegin: () => {
      epochStart = performance.now();
      firstBatch = -1;
    },
    onBatchEnd: (l: BatchLogs) => {
      if (opts.quiet || !sink.isTTY) return;
      if (firstBatch < 0) firstBatch = l.batch;
      const done = l.batch - firstBatch + 1;
      const elapsed = (performance.now() - epochStart) / 1000;
      const eta = (elapsed / done) * (l.batches - l.batch - 1);
      const width = 24;
      const filled = Math.round(((l.batch + 1) / l.batches) * width);
      const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
      sink.write(
        `\r\x1b[2K${opts.label ?? ''}epoch ${l.epoch + 1} [${bar}] ${l.batch + 1}/${l.batches} ` +
          `loss ${l.loss.toFixed(4)} acc ${(100 * l.accuracy).toFixed(1)}% ETA ${duration(eta)}`,
      );
      barShown = true;
    },
    onEpochEnd: (line: MetricsLine) => {
      clear();
      if (!opts.quiet) sink.write(`${formatLine(line)}\n`);
    },
    onTrainEnd: () => clear(),
  };
}
