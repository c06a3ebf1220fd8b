/**
 * summary.json: the result of a finished run (per-layer bits, accuracies, size), written once
 * at the end of training, and its reader.
 */
import { CsqError } from '@csq/core/base';

/** Per-layer line of a summary. */
export interface LayerSummary {
  name: string;
  bits: number;
  /** Weights counted by the budget (the layer's kernel). */
  params: number;
  /** N, the layer's starting bit width. */
  maxBits?: number;
}

/** summary.json as csq writes it. */
export interface RunSummary {
  /** The recipe's name, or the run directory's name for runs without one. */
  recipe: string;
  backend: string;
  /** Epochs trained. */
  epochs: number;
  /** Test accuracy of the float baseline, null when none was trained. */
  floatAccuracy: number | null;
  softAccuracy: number;
  exactAccuracy: number;
  avgBits: { slots: number; params: number };
  /**
   * The paper's count of the exact model's bytes: counted kernels at their selected bit
   * positions, everything else float32 (CSQ digits are signed, so the file needs more).
   */
  sizeBytes: number;
  /** Length of the packed file `csq export` writes for this model (by the exporter's encoder). */
  packedBytes?: number;
  /** Bytes of the same network in float32. */
  float32Bytes: number;
  /** float32Bytes / sizeBytes. */
  compression: number;
  /** Compression of the counted kernels alone (32 / average bits per weight). */
  weightCompression?: number;
  layers: LayerSummary[];
  wallSeconds: number;
  targetBits: number;
  /** How size is counted: slots, params, bops or storage. */
  budget: string;
  /** Average bits reached at the end, in the budget's own counting (compare with targetBits). */
  reachedBits?: number;
  /** Budget enforcement at the end of the search: what was trimmed, or by how much it missed. */
  trim?: SummaryTrim;
  /** N, the starting (largest) bit width. */
  bits: number;
  actBits?: number;
  /** The temperature beta at the end of training. */
  finalBeta?: number;
}

/** One position a trim turned off or on. */
export interface SummaryTrimAction {
  layer: string;
  /** Bit position (0 = MSB). */
  position: number;
  /** Its mask logit before the change. */
  logit: number;
}

/** summary.json's account of budget enforcement (`budget.enforce`). */
export interface SummaryTrim {
  /** 'trim': bits were turned off until the target was met; 'off': the search's result kept. */
  enforce: string;
  targetBits: number;
  /** Average bits in the budget's counting when the search ended, before any trim. */
  reachedBefore: number;
  /** ... after the trim (equal to reachedBefore with nothing to trim). */
  reachedAfter: number;
  /** True when reachedAfter <= targetBits. */
  met: boolean;
  /** How far above the target the run ended (0 when met): the miss of an 'off' run. */
  missedBy: number;
  /** Positions turned off, and positions turned on to bring a layer up to its floor. */
  trimmed: SummaryTrimAction[];
  raised: SummaryTrimAction[];
}

/**
 * summary.json as read: `layers` always; the other fields when present (older or hand-written
 * summaries may lack some, and write `null` for what they do not know).
 */
export interface SummaryRecord {
  recipe?: string;
  backend?: string;
  epochs?: number;
  floatAccuracy?: number | null;
  softAccuracy?: number | null;
  exactAccuracy?: number | null;
  avgBits?: { slots?: number | null; params?: number | null };
  sizeBytes?: number | null;
  packedBytes?: number | null;
  reachedBits?: number | null;
  trim?: SummaryTrim;
  float32Bytes?: number | null;
  compression?: number | null;
  layers: LayerSummary[];
  wallSeconds?: number | null;
  targetBits?: number | null;
  budget?: unknown;
  bits?: number | null;
  actBits?: number | null;
  finalBeta?: number | null;
}

/** What {@link buildSummary} needs from the budget report (`@csq/budget`'s BudgetReport fits). */
export interface SummaryBudget {
  mode: string;
  targetBits: number;
  /** Counted weights, and their size in bits at the selected widths. */
  params: number;
  sizeBits: number;
  avgBitsSlots: number;
  avgBitsParams: number;
  compressionRatio: number;
  /** Average bits reached in the mode's counting. */
  reachedBits?: number;
  layers: readonly { name: string; bits: number; params: number; maxBits: number }[];
}

/**
 * Builds summary.json. `floatParams` is the parameter count of the same network in float (what
 * float32 storage would hold); the exact model stores its counted kernels at their selected
 * bits and everything else (batch norm, float shortcuts, biases) as float32.
 */
export function buildSummary(args: {
  recipe: string;
  backend: string;
  epochs: number;
  floatAccuracy: number | null;
  softAccuracy: number;
  exactAccuracy: number;
  report: SummaryBudget;
  floatParams: number;
  wallSeconds: number;
  bits: number;
  actBits?: number;
  finalBeta?: number;
  /** Length of the packed file (`packedModelByteLength` of `@csq/loader/export`). */
  packedBytes?: number;
  /** The last trim of the run (`trimToBudget`'s report fits). */
  trim?: Omit<SummaryTrim, 'missedBy' | 'enforce'> & { enforce?: string };
  /** Enforcement setting, for a run whose trim report is not known (a resumed run). */
  enforce?: string;
}): RunSummary {
  const r = args.report;
  const otherParams = Math.max(0, args.floatParams - r.params);
  const sizeBytes = Math.ceil(r.sizeBits / 8 + 4 * otherParams);
  const float32Bytes = 4 * args.floatParams;
  return {
    recipe: args.recipe,
    backend: args.backend,
    epochs: args.epochs,
    floatAccuracy: args.floatAccuracy,
    softAccuracy: args.softAccuracy,
    exactAccuracy: args.exactAccuracy,
    avgBits: { slots: r.avgBitsSlots, params: r.avgBitsParams },
    sizeBytes,
    ...(args.packedBytes !== undefined ? { packedBytes: args.packedBytes } : {}),
    float32Bytes,
    compression: float32Bytes / sizeBytes,
    weightCompression: r.compressionRatio,
    layers: r.layers.map((l) => ({
      name: l.name,
      bits: l.bits,
      params: l.params,
      maxBits: l.maxBits,
    })),
    wallSeconds: args.wallSeconds,
    targetBits: r.targetBits,
    budget: r.mode,
    ...(r.reachedBits !== undefined ? { reachedBits: r.reachedBits } : {}),
    ...(args.trim ? { trim: summaryTrim(args.trim, args.enforce) } : {}),
    bits: args.bits,
    ...(args.actBits !== undefined ? { actBits: args.actBits } : {}),
    ...(args.finalBeta !== undefined ? { finalBeta: args.finalBeta } : {}),
  };
}

function summaryTrim(
  t: Omit<SummaryTrim, 'missedBy' | 'enforce'> & { enforce?: string },
  enforce: string | undefined,
): SummaryTrim {
  const action = (a: SummaryTrimAction) => ({
    layer: a.layer,
    position: a.position,
    logit: a.logit,
  });
  return {
    enforce: t.enforce ?? enforce ?? 'trim',
    targetBits: t.targetBits,
    reachedBefore: t.reachedBefore,
    reachedAfter: t.reachedAfter,
    met: t.reachedAfter <= t.targetBits + 1e-9,
    missedBy: Math.max(0, t.reachedAfter - t.targetBits),
    trimmed: t.trimmed.map(action),
    raised: t.raised.map(action),
  };
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x);

function malformed(message: string): CsqError {
  return new CsqError('CSQ_BAD_SUMMARY', message);
}

/** Parses summary.json; throws CSQ_BAD_SUMMARY naming `file` and the field that is wrong. */
export function parseSummary(text: string, file = 'summary.json'): SummaryRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw malformed(
      `${file} is not JSON (${(e as Error).message}); it is written at the end of training: ` +
        'rerun the training or restore the file.',
    );
  }
  if (!isObject(v)) throw malformed(`${file} is not a JSON object.`);
  const layers = v.layers;
  if (!Array.isArray(layers)) {
    throw malformed(`${file}: "layers" must be a list of { name, bits, params }.`);
  }
  layers.forEach((l, i) => {
    if (
      !isObject(l) ||
      typeof l.name !== 'string' ||
      typeof l.bits !== 'number' ||
      !Number.isFinite(l.bits) ||
      typeof l.params !== 'number' ||
      !Number.isFinite(l.params)
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
    'packedBytes',
    'reachedBits',
    'float32Bytes',
    'compression',
    'wallSeconds',
    'targetBits',
    'bits',
    'actBits',
    'finalBeta',
  ]) {
    const x = v[k];
    if (x !== undefined && x !== null && (typeof x !== 'number' || !Number.isFinite(x))) {
      throw malformed(`${file}: "${k}" must be a number or null, got ${JSON.stringify(x)}.`);
    }
  }
  if (v.trim !== undefined && v.trim !== null && !isObject(v.trim)) {
    throw malformed(
      `${file}: "trim" must be an object { enforce, targetBits, reachedAfter, ... }.`,
    );
  }
  const avg = v.avgBits;
  const finiteOrMissing = (x: unknown) =>
    x === undefined || x === null || (typeof x === 'number' && Number.isFinite(x));
  if (
    avg !== undefined &&
    avg !== null &&
    (!isObject(avg) || !finiteOrMissing(avg.slots) || !finiteOrMissing(avg.params))
  ) {
    throw malformed(
      `${file}: "avgBits" must be { "slots": number, "params": number }, got ${JSON.stringify(avg)}.`,
    );
  }
  for (const k of ['weightCompression', 'sizeBytes']) {
    if (!finiteOrMissing(v[k]))
      throw malformed(`${file}: "${k}" must be a number, got ${JSON.stringify(v[k])}.`);
  }
  layers.forEach((l, i) => {
    if (!finiteOrMissing((l as Record<string, unknown>).maxBits))
      throw malformed(`${file}: layers[${i}].maxBits must be a number, got ${JSON.stringify(l)}.`);
  });
  for (const k of ['recipe', 'backend', 'budget']) {
    if (v[k] !== undefined && v[k] !== null && typeof v[k] !== 'string')
      throw malformed(`${file}: "${k}" must be a string, got ${JSON.stringify(v[k])}.`);
  }
  return v as unknown as SummaryRecord;
}
