/**
 * The regularizer's options, reports and the small helpers it shares with the trim: bounds of
 * the counted layers, the floors' feasibility, activation bits for BOPs.
 */
import {
  type BitBounds,
  type BudgetEnforce,
  type BudgetLayer,
  type BudgetMode,
  type BudgetStats,
  CsqError,
  layerCount,
  layerWeight,
  minStorageBits,
  resolveBounds,
} from '@csq/core';
import { CsqController, type CsqPhase, type CsqQuantLayer } from '@csq/layers';

/** Options of the regularizer (the `budget` section of a training config). */
export interface BudgetOptions {
  /**
   * How size is counted (spec 3): 'slots' (default, the authors' code), 'params' (the paper's
   * model size), 'bops', or 'storage' (bits per weight in the packed file, sign included).
   */
  mode?: BudgetMode;
  /** Target average bits per weight (R_T = targetBits / N). */
  targetBits: number;
  /** lambda of spec 3, e.g. 0.01 (CIFAR N=8 target 2) or 0.001. */
  lambda: number;
  /** Which CSQ layers the budget counts; default: those with `counted` true (spec 5). */
  include?: (layer: CsqQuantLayer) => boolean;
  /**
   * Per-layer bounds by layer name (config `budget.layers`), over the layers' own `minBits` /
   * `maxBits`. Default floor 1 bit: a counted layer keeps a bit unless given `minBits: 0`.
   */
  layers?: Record<string, BitBounds>;
  /**
   * Enforcement when the search ends (config `budget.enforce`): 'trim' turns the least
   * important bits off until the target is met (`trimToBudget`; the callback does it at
   * `ticketEpoch`), 'off' (default) keeps what the regularizer reached.
   */
  enforce?: BudgetEnforce;
}

/** One counted layer in a report. */
export interface BudgetLayerReport {
  name: string;
  /** Selected bits b_l. */
  bits: number;
  /** Starting bits N_l. */
  maxBits: number;
  /** Quantized weights |W_l|. */
  params: number;
  /** MACs per example, when known. */
  macs?: number;
  /** Activation bits feeding the layer (0 = full precision), as counted for BOPs. */
  actBits: number;
  /** Selected positions (0 = MSB). */
  positions: number[];
  /** Bits per weight of its indices in the packed file (format v1, sign included). */
  storageBits: number;
  /** The bounds the budget keeps `bits` in (floor 1 and ceiling N unless set). */
  bounds: Required<BitBounds>;
}

/** Stats plus the settings and every counted layer. */
export interface BudgetReport extends BudgetStats {
  targetBits: number;
  lambda: number;
  enforce: BudgetEnforce;
  /** The selection rule the bits were counted with. */
  phase: CsqPhase;
  layers: BudgetLayerReport[];
}

/** A CsqController, also one from another copy of @csq/layers (ESM and CJS side by side). */
export function isController(x: unknown): x is CsqController {
  if (x instanceof CsqController) return true;
  const c = x as Partial<CsqController>;
  return (
    typeof c?.setBeta === 'function' &&
    typeof c.maskVariables === 'function' &&
    Array.isArray(c.layers) &&
    typeof (x as { predict?: unknown }).predict !== 'function'
  );
}

/**
 * Activation bits feeding a layer: the `actBits` of a CsqActQuant (or any layer with an
 * `actBits` property) right before it in the graph, else 0 (full precision, 32 for BOPs).
 */
export function inputActBits(layer: CsqQuantLayer): number {
  const own = (layer as { inputActBits?: number }).inputActBits;
  if (typeof own === 'number') return own;
  const nodes = (layer as unknown as { inboundNodes?: { inboundLayers?: unknown[] }[] })
    .inboundNodes;
  const prev = nodes?.[0]?.inboundLayers?.[0] as { actBits?: unknown } | undefined;
  return typeof prev?.actBits === 'number' ? prev.actBits : 0;
}

/**
 * The bounds of each counted layer: its own `minBits` / `maxBits`, overridden by `byName`
 * (config `budget.layers`); default floor 1, ceiling N. Unknown names are a CsqError.
 */
export function layerBounds(
  layers: readonly CsqQuantLayer[],
  byName: Record<string, BitBounds> = {},
): Required<BitBounds>[] {
  const names = layers.map((l) => l.name);
  for (const name of Object.keys(byName)) {
    if (!names.includes(name)) {
      throw new CsqError(
        'CSQ_UNKNOWN_LAYER',
        `budget bounds name layer "${name}", which is not a counted CSQ layer; the counted ` +
          `layers are: ${names.join(', ')}.`,
      );
    }
  }
  return layers.map((l) =>
    resolveBounds({
      name: l.name,
      maxBits: l.bits,
      bounds: {
        ...(l.minBits !== undefined ? { minBits: l.minBits } : {}),
        ...(l.maxBits !== undefined ? { maxBits: l.maxBits } : {}),
        ...byName[l.name],
      },
    }),
  );
}

/**
 * Throws CSQ_BUDGET_INFEASIBLE when the layers at their floors (`floors`: each layer with
 * `bits` = its minBits) already exceed the target in the mode's counting (in `storage`, with
 * the most compact, contiguous positions).
 */
export function checkFloors(floors: BudgetLayer[], mode: BudgetMode, targetBits: number): void {
  let num = 0;
  let den = 0;
  for (const l of floors) {
    const w = layerWeight(l, mode);
    const c =
      mode === 'storage' ? minStorageBits(l.bits, l.maxBits, l.params) : layerCount(l, mode);
    num += w * c;
    den += w;
  }
  const floorBits = num / den;
  if (floorBits > targetBits + 1e-9) {
    throw new CsqError(
      'CSQ_BUDGET_INFEASIBLE',
      `the per-layer floors (minBits) alone need ${floorBits.toFixed(3)} average bits in mode ` +
        `"${mode}", above targetBits ${targetBits}; raise targetBits or lower some minBits ` +
        '(0 lets a layer lose every bit).',
    );
  }
}

/**
 * Each layer's signed coefficient from the global c = R - R_T: 0 at the floor when pruning and
 * at the ceiling when growing; below the floor min(c, -(minBits - b) / N), above the ceiling
 * max(c, (b - maxBits) / N); else c.
 */
export function boundedCoefficients(
  c: number,
  layers: readonly { bits: number; n: number; minBits: number; maxBits: number }[],
): Float64Array {
  return Float64Array.from(layers, ({ bits: b, n, minBits, maxBits }) => {
    if (b < minBits) return Math.min(c, -(minBits - b) / n);
    if (b > maxBits) return Math.max(c, (b - maxBits) / n);
    if (b === minBits && c > 0) return 0;
    if (b === maxBits && c < 0) return 0;
    return c;
  });
}
