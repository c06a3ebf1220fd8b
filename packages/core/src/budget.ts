/**
 * Spec 3: budget arithmetic for the sign-switching regularizer, in the four counting modes.
 */
import { assertFinite, CsqError } from './errors.js';
import { fullStorageBits, storageBits } from './storage.js';

/**
 * How model size is counted. `slots`: every (layer, bit) slot weighs the same (the authors'
 * code). `params`: slots weighted by the layer's parameter count (the paper's model size).
 * `bops`: weighted by MACs x activation bits (bit-operations). `storage`: the bits per weight
 * the packed file (format v1) spends on the layer's indices, sign included (see `storageBits`),
 * weighted by the parameter count: "2 bits" means about 2 bits per quantized weight on disk.
 */
export type BudgetMode = 'slots' | 'params' | 'bops' | 'storage';

/** The budget modes, for validation and help texts. */
export const BUDGET_MODES: readonly BudgetMode[] = ['slots', 'params', 'bops', 'storage'];

/** Default per-layer floor: a counted layer keeps at least 1 selected bit unless asked. */
export const DEFAULT_MIN_BITS = 1;

/**
 * Per-layer bounds on the selected bits b_l (config `budget.layers[name]`, quantizeModel
 * options): the regularizer, the trim and the reports respect them.
 */
export interface BitBounds {
  /** Floor of b_l (default 1; 0 lets the layer lose every bit). */
  minBits?: number;
  /** Ceiling of b_l (default N). */
  maxBits?: number;
}

/** Whether the budget is enforced when the search ends: `trim` or `off` (config `budget.enforce`). */
export type BudgetEnforce = 'trim' | 'off';

/** The enforcement settings, for validation and help texts. */
export const BUDGET_ENFORCE: readonly BudgetEnforce[] = ['trim', 'off'];

/** What the budget needs to know of one quantized, counted layer. */
export interface BudgetLayer {
  name: string;
  /** Starting (largest) bit width N of the layer. */
  maxBits: number;
  /** Selected bits b_l now. */
  bits: number;
  /** Number of quantized weights |W_l|. */
  params: number;
  /** Multiply-accumulates per example (needed for `bops`). */
  macs?: number;
  /** Activation bits feeding the layer (0 or absent: full precision, counted as 32). */
  actBits?: number;
  /** The selected positions (0 = MSB), ascending; `bits` of them. Needed for `storage`. */
  positions?: readonly number[];
  /** Bounds on `bits` (default floor 1, ceiling `maxBits`). */
  bounds?: BitBounds;
}

/** Everything a report or the regularizer needs, for one set of layers. */
export interface BudgetStats {
  mode: BudgetMode;
  /** R of spec 3 in the chosen mode. */
  ratio: number;
  /** R_T = targetBits / N (N the mode-weighted mean of the layers' maxBits). */
  targetRatio: number;
  /** The signed regularizer coefficient R - R_T (positive: prune bits; negative: grow them). */
  coefficient: number;
  /** Mean selected bits per layer (the `slots` count). */
  avgBitsSlots: number;
  /** Model size in bits / number of quantized weights (the `params` count). */
  avgBitsParams: number;
  /** Size of the quantized weights in bits: sum_l |W_l| b_l. */
  sizeBits: number;
  /** 32 / avgBitsParams (Infinity when every bit is pruned). */
  compressionRatio: number;
  /** sum_l MACs_l b_l a_l (0 when MACs are unknown). */
  bops: number;
  /** Number of quantized weights. */
  params: number;
  /** The average bits in the mode's own counting, comparable to the target: R x N. */
  reachedBits: number;
  /** Bits per quantized weight on disk (format v1 indices; needs every layer's positions). */
  avgBitsStorage?: number;
}

function validate(layers: readonly BudgetLayer[]): void {
  if (layers.length === 0) {
    throw new CsqError(
      'CSQ_NO_LAYERS',
      'the budget has no quantized layers to count; quantize at least one Conv2D/Dense layer.',
    );
  }
  for (const l of layers) {
    if (!Number.isInteger(l.maxBits) || l.maxBits < 1) {
      throw new CsqError(
        'CSQ_BAD_BITS',
        `layer "${l.name}": maxBits must be a positive integer, got ${l.maxBits}.`,
      );
    }
    if (!Number.isInteger(l.bits) || l.bits < 0 || l.bits > l.maxBits) {
      throw new CsqError(
        'CSQ_BAD_BITS',
        `layer "${l.name}": bits must be an integer in 0..${l.maxBits}, got ${l.bits}.`,
      );
    }
    if (!(l.params > 0)) {
      throw new CsqError(
        'CSQ_BAD_PARAMS',
        `layer "${l.name}": params must be positive, got ${l.params}.`,
      );
    }
    if (l.positions !== undefined && l.positions.length !== l.bits) {
      throw new CsqError(
        'CSQ_BAD_POSITIONS',
        `layer "${l.name}": ${l.positions.length} positions given for ${l.bits} selected bits.`,
      );
    }
    resolveBounds(l);
  }
}

/**
 * The bounds of a layer with defaults filled in: floor `DEFAULT_MIN_BITS` (capped at N),
 * ceiling N. Throws a CsqError for bounds outside 0..N or a floor above the ceiling.
 */
export function resolveBounds(layer: {
  name: string;
  maxBits: number;
  bounds?: BitBounds;
}): Required<BitBounds> {
  const n = layer.maxBits;
  const minBits = layer.bounds?.minBits ?? Math.min(DEFAULT_MIN_BITS, n);
  const maxBits = layer.bounds?.maxBits ?? n;
  for (const [key, v] of [
    ['minBits', minBits],
    ['maxBits', maxBits],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > n) {
      throw new CsqError(
        'CSQ_BAD_BOUNDS',
        `layer "${layer.name}": ${key} must be an integer in 0..${n} (its N), got ${String(v)}.`,
      );
    }
  }
  if (minBits > maxBits) {
    throw new CsqError(
      'CSQ_BAD_BOUNDS',
      `layer "${layer.name}": minBits ${minBits} is above maxBits ${maxBits}; make the floor at ` +
        'most the ceiling.',
    );
  }
  return { minBits, maxBits };
}

function positionsOf(layer: BudgetLayer): readonly number[] {
  if (layer.positions === undefined) {
    throw new CsqError(
      'CSQ_NO_POSITIONS',
      `layer "${layer.name}" has no selected positions, which budget mode "storage" needs ` +
        '(the bits on disk depend on which positions are selected); pass `positions`, or use ' +
        'a BudgetRegularizer, which does.',
    );
  }
  return layer.positions;
}

/**
 * The size count c_l of a layer in a mode, per unit of its weight: b_l (slots, params, bops)
 * or its storage bits (storage). `full` gives the count with all N positions selected.
 */
export function layerCount(layer: BudgetLayer, mode: BudgetMode, full = false): number {
  if (mode !== 'storage') return full ? layer.maxBits : layer.bits;
  if (full) return fullStorageBits(layer.maxBits, layer.params);
  return storageBits(positionsOf(layer), layer.maxBits, layer.params);
}

/** The activation bits a_l used for BOPs (full precision counts as 32). */
export function bopsActBits(layer: BudgetLayer): number {
  return layer.actBits && layer.actBits > 0 ? layer.actBits : 32;
}

/** Per-layer size weight of a mode: 1, |W_l| (params, storage), or MACs_l a_l. */
export function layerWeight(layer: BudgetLayer, mode: BudgetMode): number {
  if (mode === 'slots') return 1;
  if (mode === 'params' || mode === 'storage') return layer.params;
  if (layer.macs === undefined || !(layer.macs > 0)) {
    throw new CsqError(
      'CSQ_NO_MACS',
      `layer "${layer.name}" has no MAC count, which budget mode "bops" needs; build the model ` +
        '(call it once on an input) before counting, or use mode "slots" or "params".',
    );
  }
  return layer.macs * bopsActBits(layer);
}

/**
 * Spec 3: weight of each layer's mask sum in the regularizer. `slots`: 1 each. `params`,
 * `storage` and `bops`: |W_l| (or MACs_l a_l) normalised to mean 1, so lambda keeps the same scale in all
 * modes (with equal-sized layers every mode gives the same weights).
 */
export function penaltyWeights(layers: readonly BudgetLayer[], mode: BudgetMode): Float64Array {
  validate(layers);
  const raw = layers.map((l) => layerWeight(l, mode));
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  return Float64Array.from(raw, (r) => r / mean);
}

/**
 * Spec 3: R, R_T, the signed coefficient and the size figures, for `targetBits` average bits.
 * R = sum_l w_l c_l / sum_l w_l C_l with the mode's layer weights w_l and counts c_l (b_l, or
 * the storage bits), C_l the count with all N_l positions; R_T = targetBits / N with N the
 * same weighted mean of C_l (equal to the global N when all layers share it).
 */
export function budgetStats(
  layers: readonly BudgetLayer[],
  opts: { mode?: BudgetMode; targetBits: number },
): BudgetStats {
  const mode = opts.mode ?? 'slots';
  assertMode(mode);
  validate(layers);
  assertFinite(opts.targetBits, 'targetBits', { positive: true });
  let num = 0;
  let den = 0;
  let wsum = 0;
  let params = 0;
  let sizeBits = 0;
  let slotBits = 0;
  let bops = 0;
  let diskBits: number | undefined = 0;
  for (const l of layers) {
    const w = layerWeight(l, mode);
    num += w * layerCount(l, mode);
    den += w * layerCount(l, mode, true);
    wsum += w;
    params += l.params;
    sizeBits += l.params * l.bits;
    slotBits += l.bits;
    if (l.macs !== undefined && l.macs > 0) bops += l.macs * l.bits * bopsActBits(l);
    if (diskBits !== undefined && l.positions !== undefined) {
      diskBits += l.params * storageBits(l.positions, l.maxBits, l.params);
    } else diskBits = undefined;
  }
  const refBits = den / wsum;
  if (opts.targetBits > refBits) {
    throw new CsqError(
      'CSQ_BAD_TARGET',
      `targetBits ${opts.targetBits} is above the starting precision N = ${refBits} (counted ` +
        `in mode "${mode}"); choose a target below N (for example 2 with N = 8).`,
    );
  }
  const ratio = num / den;
  const targetRatio = opts.targetBits / refBits;
  const avgBitsParams = sizeBits / params;
  return {
    mode,
    ratio,
    targetRatio,
    coefficient: ratio - targetRatio,
    avgBitsSlots: slotBits / layers.length,
    avgBitsParams,
    sizeBits,
    compressionRatio: avgBitsParams > 0 ? 32 / avgBitsParams : Number.POSITIVE_INFINITY,
    bops,
    params,
    reachedBits: ratio * refBits,
    ...(diskBits !== undefined ? { avgBitsStorage: diskBits / params } : {}),
  };
}

/** Throws a CsqError unless `mode` is one of BUDGET_MODES. */
export function assertMode(mode: unknown): asserts mode is BudgetMode {
  if (!BUDGET_MODES.includes(mode as BudgetMode)) {
    throw new CsqError(
      'CSQ_BAD_MODE',
      `budget mode must be one of ${BUDGET_MODES.join(', ')}, got "${String(mode)}".`,
    );
  }
}

/** MACs of a 2-D convolution per example: outH * outW * outC * kH * kW * inC / groups. */
export function convMacs(args: {
  outHeight: number;
  outWidth: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  inChannels: number;
  groups?: number;
}): number {
  const g = args.groups ?? 1;
  return (
    (args.outHeight *
      args.outWidth *
      args.outChannels *
      args.kernelHeight *
      args.kernelWidth *
      args.inChannels) /
    g
  );
}

/** MACs of a dense layer per example: inUnits * outUnits. */
export function denseMacs(inUnits: number, outUnits: number): number {
  return inUnits * outUnits;
}
