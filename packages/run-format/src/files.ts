/**
 * The names of the files of a run directory. Everything that reads or writes a run uses these.
 *
 * ```
 * RUN/config.json          the run's settings (RunConfig), written when the run starts
 * RUN/metrics.jsonl        one MetricsLine per epoch, CSQ model and float baseline
 * RUN/checkpoint/csq.ckpt  the last checkpoint of the CSQ model (float.ckpt: the baseline)
 * RUN/model/               the trained CSQ model (tfjs LayersModel files), written at the end
 * RUN/summary.json         the RunSummary, written at the end
 * ```
 */

/** Which model of a run a file belongs to: the CSQ model or its float baseline. */
export type ModelKind = 'csq' | 'float';

/** File and folder names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  /** Folder of the trained CSQ model (model.json + weights.bin). */
  model: 'model',
  report: 'report.html',
} as const;

/** The checkpoint file of one model of the run, e.g. `checkpoint/csq.ckpt`. */
export function checkpointName(kind: ModelKind): string {
  return `checkpoint/${kind}.ckpt`;
}
