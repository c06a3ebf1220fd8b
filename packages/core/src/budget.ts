/**
 * Spec 3: budget arithmetic for the sign-switching regularizer, in the three counting modes.
 */
import { assertFinite, CsqError } from './errors.js';

/**
 * How model size is counted. `slots`: every (layer, bit) slot weighs the same (the authors'
 * code). `params`: slots weighted by the layer's parameter count (real model size). `bops`:
 * weighted by MACs x activation bits (bit-operations).
 */
export type BudgetMode = 'slots' | 'params' | 'bops';

/** The budget modes, for validation and help texts. */
export const BUDGET_MODES: readonly BudgetMode[] = ['slots', 'params', 'bops'];

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
  }
}

/** The activation bits a_l used for BOPs (full precision counts as 32). */
export function bopsActBits(layer: BudgetLayer): number {
  return layer.actBits && layer.actBits > 0 ? layer.actBits : 32;
}

/** Per-layer size weight of a mode: 1, |W_l|, or MACs_l a_l. */
function rawWeight(layer: BudgetLayer, mode: BudgetMode): number {
  if (mode === 'slots') return 1;
  if (mode === 'params') return layer.params;
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
 * Spec 3: weight of each layer's mask sum in the regularizer. `slots`: 1 each. `params` and
 * `bops`: |W_l| (or MACs_l a_l) normalised to mean 1, so lambda keeps the same scale in all
 * modes (with equal-sized layers every mode gives the same weights).
 */
export function penaltyWeights(layers: readonly BudgetLayer[], mode: BudgetMode): Float64Array {
  validate(layers);
  const raw = layers.map((l) => rawWeight(l, mode));
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  return Float64Array.from(raw, (r) => r / mean);
}

/**
 * Spec 3: R, R_T, the signed coefficient and the size figures, for `targetBits` average bits.
 * R = sum_l w_l b_l / sum_l w_l N_l with the mode's layer weights w_l; R_T = targetBits / N
 * with N the same weighted mean of N_l (equal to the global N when all layers share it).
 */
export function budgetStats(
  layers: readonly BudgetLayer[],
  opts: { mode?: BudgetMode; targetBits: number },
): BudgetStats {
  const mode = opts.mode ?? 'slots';
  if (!BUDGET_MODES.includes(mode)) {
    throw new CsqError(
      'CSQ_BAD_MODE',
      `budget mode must be one of ${BUDGET_MODES.join(', ')}, got "${String(mode)}".`,
    );
  }
  validate(layers);
  assertFinite(opts.targetBits, 'targetBits', { positive: true });
  let num = 0;
  let den = 0;
  let wsum = 0;
  let params = 0;
  let sizeBits = 0;
  let slotBits = 0;
  let bops = 0;
  for (const l of layers) {
    const w = rawWeight(l, mode);
    num += w * l.bits;
    den += w * l.maxBits;
    wsum += w;
    params += l.params;
    sizeBits += l.params * l.bits;
    slotBits += l.bits;
    if (l.macs !== undefined && l.macs > 0) bops += l.macs * l.bits * bopsActBits(l);
  }
  const refBits = den / wsum;
  if (opts.targetBits > refBits) {
    throw new CsqError(
      'CSQ_BAD_TARGET',
      `targetBits ${opts.targetBits} is above the starting precision N = ${refBits}; ` +
        'choose a target below N (for example 2 with N = 8).',
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
  };
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
