/**
 * The contract every CSQ-aware layer implements (CsqConv2D, CsqDense, CsqDepthwiseConv2D and
 * users' own layers), read by the controller, the budget, the trainer and the exporter.
 */
import type { LayerVariable } from '@tensorflow/tfjs-layers';

/** Which selection rule counts a bit: m >= 0 while training softly, m > 0 in the exact model (spec 2). */
export type CsqPhase = 'continuous' | 'exact';

/** Model-wide CSQ state a layer reads in call(): temperature, ticket phase, exact mode (spec 1, 2). */
export interface CsqState {
  /** Temperature beta of the sigmoids (spec 1); > 0. */
  beta: number;
  /** Ticket phase (spec 2): mask gates are H(m) and the masks are frozen (no gradient). */
  ticket: boolean;
  /** Exact mode: forward with the Heaviside weights of spec 1 (evaluation, export). */
  exact: boolean;
}

/** The default state of a fresh layer: beta 1, search phase, soft weights. */
export const DEFAULT_CSQ_STATE: Readonly<CsqState> = Object.freeze({
  beta: 1,
  ticket: false,
  exact: false,
});

/** The exact (Heaviside) model of one layer's kernel, for export (spec 1). */
export interface ExactKernel {
  /** One signed integer per weight in [-(2^N - 1), 2^N - 1]; weight = scale * code / (2^N - 1). */
  codes: Int32Array;
  /** Selected bit positions (0 = MSB), ascending. */
  positions: number[];
  /** The layer scale s. */
  scale: number;
  /** N, the layer's starting bit width. */
  bits: number;
  /** Shape of the kernel (without the bit axis). */
  kernelShape: number[];
}

/** Implemented by CsqConv2D, CsqDense, CsqDepthwiseConv2D and by users' own CSQ-aware layers. */
export interface CsqQuantLayer {
  readonly isCsqLayer: true;
  readonly name: string;
  /** N of this layer (spec 1). */
  readonly bits: number;
  /** Counted by the budget (spec 5); default true. */
  readonly counted: boolean;
  /** Floor of the selected bits the budget keeps (default 1; see @csq/core `BitBounds`). */
  readonly minBits?: number | undefined;
  /** Ceiling of the selected bits the budget allows (default N). */
  readonly maxBits?: number | undefined;
  /** Mask logits m, shape [bits], trainable (a tfjs LayerVariable). */
  readonly maskVariable: LayerVariable;
  /** Everything trainable that is NOT the mask (p, n, scale, bias...): what a rewind restores. */
  nonMaskVariables(): LayerVariable[];
  /** |W_l|: number of quantized weights (kernel only). */
  paramCount(): number;
  /** Multiply-accumulates per example, known once built with a known input shape. */
  macs(): number | undefined;
  /** Selected bits b_l (spec 2). Without a phase: 'exact' in ticket or exact mode, else 'continuous'. */
  selectedBits(phase?: CsqPhase): number;
  /** Exact model of the kernel (spec 1 Heaviside): for export. */
  exactKernel(): ExactKernel;
  /**
   * Optional: the exact digits d_i = H(p_i) - H(n_i) of every weight at every position, bit
   * axis last (`[w * bits + i]`). With it the budget's trim cuts the positions that damage the
   * kernel least (@csq/core `kernelDamage`); without it, the lowest mask logits.
   */
  exactDigits?(): Int8Array;
  /** Set by the controller; read in call(). */
  setCsqState(state: CsqState): void;
}

/** True for any object implementing the CsqQuantLayer contract. */
export function isCsqLayer(layer: unknown): layer is CsqQuantLayer {
  return (
    typeof layer === 'object' &&
    layer !== null &&
    (layer as { isCsqLayer?: unknown }).isCsqLayer === true
  );
}
