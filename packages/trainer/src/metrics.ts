/**
 * The run directory's records: one `metrics.jsonl` line per epoch and the final summary.
 */

/** One line of metrics.jsonl (accuracies are fractions in [0, 1]). */
export interface MetricsLine {
  model: 'csq' | 'float';
  epoch: number;
  epochs: number;
  round?: number;
  phase: 'search' | 'ticket' | 'float';
  lr: number;
  beta?: number;
  loss: number;
  ce: number;
  penalty?: number;
  trainAccuracy: number;
  softAccuracy?: number;
  exactAccuracy?: number;
  floatAccuracy?: number;
  R?: number;
  targetR?: number;
  avgBitsSlots?: number;
  avgBitsParams?: number;
  layerBits?: Record<string, number>;
  seconds: number;
}

/** Per-layer line of a summary. */
export interface LayerSummary {
  name: string;
  bits: number;
  params: number;
  maxBits?: number;
}

/** summary.json. */
export interface RunSummary {
  recipe: string;
  backend: string;
  epochs: number;
  floatAccuracy: number | null;
  softAccuracy: number;
  exactAccuracy: number;
  avgBits: { slots: number; params: number };
  sizeBytes: number;
  float32Bytes: number;
  compression: number;
  layers: LayerSummary[];
  wallSeconds: number;
  targetBits: number;
  budget: string;
  bits: number;
}

/** Parses metrics.jsonl text (blank lines ignored). */
export function parseMetrics(text: string): MetricsLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MetricsLine);
}
