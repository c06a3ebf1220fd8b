/**
 * The run directory's files as the trainer writes them (contracts: metrics.jsonl, one JSON line
 * per epoch; summary.json at the end), parsed and checked with errors that name file and line.
 */
import { CsqError } from '@csq/core';

/** One line of metrics.jsonl (one epoch of the CSQ model or of the float baseline). */
export interface MetricsLine {
  model: 'csq' | 'float';
  /** 0-based epoch (within its round when `round` is set). */
  epoch: number;
  epochs?: number;
  round?: number;
  phase?: 'search' | 'ticket' | 'float' | string;
  lr?: number;
  beta?: number;
  loss?: number;
  ce?: number;
  penalty?: number;
  /** Accuracies are fractions in [0, 1]. */
  trainAccuracy?: number;
  softAccuracy?: number;
  exactAccuracy?: number;
  floatAccuracy?: number;
  R?: number;
  targetR?: number;
  avgBitsSlots?: number;
  avgBitsParams?: number;
  layerBits?: Record<string, number>;
  seconds?: number;
}

/** summary.json of a finished run. */
export interface RunSummary {
  recipe?: string;
  backend?: string;
  epochs?: number;
  floatAccuracy?: number | null;
  softAccuracy?: number | null;
  exactAccuracy?: number | null;
  avgBits?: { slots?: number | null; params?: number | null };
  sizeBytes?: number | null;
  layers: Array<{ name: string; bits: number; params: number }>;
  wallSeconds?: number | null;
  targetBits?: number | null;
  budget?: unknown;
  /** N, the starting bit width. */
  bits?: number | null;
}

const NUMERIC_FIELDS = [
  'epochs',
  'round',
  'lr',
  'beta',
  'loss',
  'ce',
  'penalty',
  'trainAccuracy',
  'softAccuracy',
  'exactAccuracy',
  'floatAccuracy',
  'R',
  'targetR',
  'avgBitsSlots',
  'avgBitsParams',
  'seconds',
] as const;

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x);

function malformed(message: string): CsqError {
  return new CsqError('CSQ_REPORT_MALFORMED', message);
}

/**
 * Parses metrics.jsonl. Blank lines are skipped; a numeric field that is `null` (how JSON writes
 * NaN) is dropped, i.e. drawn as a gap. Throws a CsqError naming `file` and the line otherwise.
 */
export function parseMetricsJsonl(text: string, file = 'metrics.jsonl'): MetricsLine[] {
  const out: MetricsLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const where = `${file} line ${i + 1}`;
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      const last = i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === '');
      throw malformed(
        `${where} is not JSON (${(e as Error).message})` +
          (last
            ? '; it is the last line: was the run stopped while writing it? Delete that line and try again.'
            : '; every line must be one JSON object as the csq trainer writes it.'),
      );
    }
    if (!isObject(v)) throw malformed(`${where} is not a JSON object.`);
    const model = v['model'];
    if (model !== 'csq' && model !== 'float') {
      throw malformed(`${where}: "model" must be "csq" or "float", got ${JSON.stringify(model)}.`);
    }
    const epoch = v['epoch'];
    if (!Number.isInteger(epoch) || (epoch as number) < 0) {
      throw malformed(`${where}: "epoch" must be an integer >= 0, got ${JSON.stringify(epoch)}.`);
    }
    const line: Record<string, unknown> = { ...v };
    for (const k of NUMERIC_FIELDS) {
      const x = v[k];
      if (x === undefined) continue;
      if (x === null) {
        delete line[k];
        continue;
      }
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw malformed(`${where}: "${k}" must be a number, got ${JSON.stringify(x)}.`);
      }
    }
    const lb = v['layerBits'];
    if (lb !== undefined && lb !== null) {
      if (!isObject(lb) || Object.values(lb).some((b) => typeof b !== 'number')) {
        throw malformed(`${where}: "layerBits" must map layer names to bit counts.`);
      }
    }
    out.push(line as unknown as MetricsLine);
  });
  if (out.length === 0) {
    throw malformed(`${file} has no epochs yet; train for at least one epoch first.`);
  }
  return out;
}

/** Parses summary.json; throws a CsqError naming `file` and the field that is wrong. */
export function parseSummary(text: string, file = 'summary.json'): RunSummary {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw malformed(
      `${file} is not JSON (${(e as Error).message}); it is written at the end of \`csq train\`: ` +
        'rerun the training or restore the file.',
    );
  }
  if (!isObject(v)) throw malformed(`${file} is not a JSON object.`);
  const layers = v['layers'];
  if (!Array.isArray(layers)) {
    throw malformed(`${file}: "layers" must be a list of { name, bits, params }.`);
  }
  layers.forEach((l, i) => {
    if (
      !isObject(l) ||
      typeof l['name'] !== 'string' ||
      typeof l['bits'] !== 'number' ||
      !Number.isFinite(l['bits']) ||
      typeof l['params'] !== 'number' ||
      !Number.isFinite(l['params'])
    ) {
      throw malformed(
        `${file}: layers[${i}] must be { "name": string, "bits": number, "params": number }, got ` +
          `${JSON.stringify(l)}.`,
      );
    }
  });
  for (const k of [
    'epochs',
    'floatAccuracy',
    'softAccuracy',
    'exactAccuracy',
    'sizeBytes',
    'wallSeconds',
    'targetBits',
    'bits',
  ]) {
    const x = v[k];
    if (x !== undefined && x !== null && (typeof x !== 'number' || !Number.isFinite(x))) {
      throw malformed(`${file}: "${k}" must be a number or null, got ${JSON.stringify(x)}.`);
    }
  }
  const avg = v['avgBits'];
  if (avg !== undefined && avg !== null && !isObject(avg)) {
    throw malformed(`${file}: "avgBits" must be { "slots": number, "params": number }.`);
  }
  return v as unknown as RunSummary;
}
