/**
 * metrics.jsonl: one JSON line per epoch of the CSQ model or of the float baseline. One parser
 * for every reader: a torn last line (a run killed while writing it) is dropped and reported;
 * damage anywhere else is a CsqError naming the file and the line.
 */
import { CsqError } from '@csq/core/base';
import type { ModelKind } from './files.js';

/** One line of metrics.jsonl as the trainer writes it (accuracies are fractions in [0, 1]). */
export interface MetricsLine {
  model: ModelKind;
  /** 0-based global epoch index (people see `epoch + 1`). */
  epoch: number;
  /** Epochs of the whole run. */
  epochs: number;
  /** Round of the rounds schedule (the final run is round `rounds`). */
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

/**
 * A metrics line as read from a file: `model` and `epoch` always, every other field when the
 * writer gave it (numbers that JSON wrote as `null`, i.e. NaN, are dropped).
 */
export type MetricsRecord = Pick<MetricsLine, 'model' | 'epoch'> &
  Partial<Omit<MetricsLine, 'model' | 'epoch'>>;

/** What {@link readMetrics} found. */
export interface MetricsRead {
  lines: MetricsRecord[];
  /** The last line, when it was cut short (dropped from `lines`): its 1-based number and text. */
  torn?: { line: number; text: string };
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

function damaged(message: string): CsqError {
  return new CsqError(
    'CSQ_BAD_METRICS',
    `${message} Every line must be one JSON object as the csq trainer writes it; restore the file ` +
      'or delete the damaged line.',
  );
}

/** Checks one parsed line; returns the record, or throws naming `where`. */
function checkLine(v: unknown, where: string): MetricsRecord {
  if (!isObject(v)) throw damaged(`${where} is not a JSON object.`);
  const model = v.model;
  if (model !== 'csq' && model !== 'float') {
    throw damaged(`${where}: "model" must be "csq" or "float", got ${JSON.stringify(model)}.`);
  }
  const epoch = v.epoch;
  if (!Number.isInteger(epoch) || (epoch as number) < 0) {
    throw damaged(`${where}: "epoch" must be an integer >= 0, got ${JSON.stringify(epoch)}.`);
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
      throw damaged(`${where}: "${k}" must be a number, got ${JSON.stringify(x)}.`);
    }
  }
  const lb = v.layerBits;
  if (lb !== undefined && lb !== null) {
    if (!isObject(lb) || Object.values(lb).some((b) => typeof b !== 'number')) {
      throw damaged(`${where}: "layerBits" must map layer names to bit counts.`);
    }
  }
  return line as MetricsRecord;
}

/**
 * Parses metrics.jsonl text (blank lines skipped). A last line that is not complete JSON is
 * dropped and returned as `torn`; any other bad line throws CSQ_BAD_METRICS naming `file` and
 * the line number.
 */
export function readMetrics(text: string, file = 'metrics.jsonl'): MetricsRead {
  const rows = text.split(/\r?\n/);
  let lastNonBlank = rows.length - 1;
  while (lastNonBlank >= 0 && rows[lastNonBlank]!.trim() === '') lastNonBlank--;
  const out: MetricsRead = { lines: [] };
  rows.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      if (i === lastNonBlank) {
        out.torn = { line: i + 1, text: raw };
        return;
      }
      throw damaged(`${file} line ${i + 1} is not JSON (${(e as Error).message}).`);
    }
    out.lines.push(checkLine(v, `${file} line ${i + 1}`));
  });
  return out;
}

/**
 * The lines of metrics.jsonl text as the trainer writes them (a torn last line dropped, every
 * field that is present checked; see {@link readMetrics}, which types lines from other writers
 * as records whose fields may be missing).
 */
export function parseMetrics(text: string, file = 'metrics.jsonl'): MetricsLine[] {
  return readMetrics(text, file).lines as MetricsLine[];
}

/** metrics.jsonl text of `lines`, one JSON object per line. */
export function formatMetrics(lines: readonly MetricsRecord[]): string {
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}
