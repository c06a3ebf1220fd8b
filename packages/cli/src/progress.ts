/**
 * Progress output of `csq train`: a bar with ETA per epoch on a terminal, plain lines otherwise.
 */
import { type BatchLogs, formatLine, type MetricsLine, type TrainerCallbacks } from '@csq/trainer';

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
