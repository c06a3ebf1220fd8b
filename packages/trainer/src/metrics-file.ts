/**
 * metrics.jsonl as a plugin: after every epoch the file holds this model's history and the
 * other model's lines (a float baseline trained beside the CSQ run writes the same file).
 */
import { formatMetrics, RUN_FILES, readMetrics } from '@csq/run-format';
import type { TrainerPlugin } from './types.js';

/** The metrics-file plugin. */
export function metricsFile(): TrainerPlugin {
  return {
    onEpochEnd: (s) =>
      s.store.updateText(RUN_FILES.metrics, (old) => {
        const read = readMetrics(old ?? '', `${s.store.location}/${RUN_FILES.metrics}`);
        if (read.torn) {
          s.log(
            `dropped the torn last line ${read.torn.line} of ${RUN_FILES.metrics} ` +
              '(a run stopped while writing it); this epoch rewrites it',
          );
        }
        const others = read.lines.filter((l) => l.model !== s.kind);
        return formatMetrics([...others, ...s.history]);
      }),
  };
}
