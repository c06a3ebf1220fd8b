/**
 * Spec 3: the budget-aware, sign-switching regularizer as an object you add to a loss (custom
 * loops) or hand to model.fit as a callback.
 */
import {
  assertFinite,
  assertMode,
  type BitBounds,
  BUDGET_ENFORCE,
  type BudgetEnforce,
  type BudgetLayer,
  type BudgetMode,
  type BudgetStats,
  budgetPenaltyTensor,
  budgetStats,
  CsqError,
  layerCount,
  penaltyWeights,
  selectedPositions,
} from '@csq/core';
import { CsqController, type CsqPhase, type CsqQuantLayer } from '@csq/layers';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BudgetCallbackOptions, budgetCallback } from './budget-callback.js';
import {
  type BudgetOptions,
  type BudgetReport,
  boundedCoefficients,
  checkFloors,
  inputActBits,
  isController,
  layerBounds,
} from './budget-options.js';
import { installFitCallbacks } from './fit-callbacks.js';

/** Positions 0..b-1: every bit of a layer selected (the counting before any mask is read). */
function allPositions(bits: number): number[] {
  return Array.from({ length: bits }, (_, i) => i);
}

/**
 * L = CE + lambda (R - R_T) sum_l w_l sum_i sigma(beta m_{l,i}) (spec 3). R is counted from the
 * current masks without gradient; above the target the term prunes bits, below it grows them.
 * The layer weights w_l are 1 (`slots`), |W_l| (`params`, `storage`) or MACs_l a_l (`bops`),
 * normalised to mean 1. Per-layer bounds (`layers`, default floor 1 bit) change a layer's sign:
 * a layer at its floor is not pruned, one at its ceiling not grown, and a layer outside its
 * bounds is pushed back inside whatever the global sign.
 */
export class BudgetRegularizer {
  readonly controller: CsqController;
  /** The counted layers, in model order. */
  readonly layers: CsqQuantLayer[];
  readonly mode: BudgetMode;
  readonly targetBits: number;
  readonly lambda: number;
  readonly enforce: BudgetEnforce;
  /** The bounds of each counted layer (floor 1 and ceiling N unless set), in layer order. */
  readonly bounds: Required<BitBounds>[];
  private weightsCache: Float64Array | undefined;
  private cache:
    | { ids: unknown[]; stats: BudgetStats; masks: Float32Array; positions: number[][] }
    | undefined;
  private attached: { layer: tfl.layers.Layer; fn: () => tf.Scalar }[] = [];

  constructor(modelOrController: tfl.LayersModel | CsqController, opts: BudgetOptions) {
    this.controller = isController(modelOrController)
      ? modelOrController
      : new CsqController(modelOrController);
    this.mode = opts.mode ?? 'slots';
    assertMode(this.mode);
    assertFinite(opts.targetBits, 'targetBits', { positive: true });
    assertFinite(opts.lambda, 'lambda');
    if (opts.lambda < 0) {
      throw new CsqError('CSQ_BAD_NUMBER', `lambda must be >= 0, got ${opts.lambda}; e.g. 0.01.`);
    }
    this.enforce = opts.enforce ?? 'off';
    if (!BUDGET_ENFORCE.includes(this.enforce)) {
      throw new CsqError(
        'CSQ_BAD_ENFORCE',
        `budget enforce must be "trim" or "off", got "${String(opts.enforce)}".`,
      );
    }
    this.targetBits = opts.targetBits;
    this.lambda = opts.lambda;
    const include = opts.include ?? ((l: CsqQuantLayer) => l.counted);
    this.layers = this.controller.layers.filter(include);
    if (this.layers.length === 0) {
      throw new CsqError(
        'CSQ_NO_LAYERS',
        'the budget found no counted CSQ layers in the model; build it with CSQ layers (e.g. ' +
          'quantizeModel or a builder) or widen `include`.',
      );
    }
    this.bounds = layerBounds(this.layers, opts.layers);
    // `model.fit(x, y, { callbacks: [budget.callback(), ...] })` reads model.fit before the
    // callback exists, so the callback-list fix goes on the model now.
    installFitCallbacks((this.controller as { model?: unknown }).model);
    // Fail early on a bad mode or target, with every bit selected, and on floors above it.
    budgetStats(this.budgetLayers(this.layers.map((l) => allPositions(l.bits))), {
      mode: this.mode,
      targetBits: this.targetBits,
    });
    checkFloors(
      this.budgetLayers(this.bounds.map((b) => allPositions(b.minBits))),
      this.mode,
      this.targetBits,
    );
  }

  private budgetLayers(positions: number[][]): BudgetLayer[] {
    return this.layers.map((l, i) => {
      const macs = l.macs();
      return {
        name: l.name,
        maxBits: l.bits,
        bits: positions[i]!.length,
        positions: positions[i]!,
        params: l.paramCount(),
        ...(macs !== undefined ? { macs } : {}),
        actBits: inputActBits(l),
        bounds: this.bounds[i]!,
      };
    });
  }

  /** Per-layer weights w_l of the penalty sum (spec 3). */
  penaltyWeights(): Float64Array {
    if (!this.weightsCache) {
      this.weightsCache = penaltyWeights(
        this.budgetLayers(this.layers.map((l) => allPositions(l.bits))),
        this.mode,
      );
    }
    return this.weightsCache;
  }

  private maskIds(): unknown[] {
    return this.layers.map(
      (l) => (variableOf(l.maskVariable) as unknown as { dataId: unknown }).dataId,
    );
  }

  private positionsFrom(masks: Float32Array, phase: CsqPhase): number[][] {
    let offset = 0;
    return this.layers.map((l) => {
      const p = selectedPositions(masks.subarray(offset, offset + l.bits), phase);
      offset += l.bits;
      return p;
    });
  }

  private statsFrom(positions: number[][]): BudgetStats {
    return budgetStats(this.budgetLayers(positions), {
      mode: this.mode,
      targetBits: this.targetBits,
    });
  }

  private concatMasks(): tf.Tensor {
    return tf.tidy(() =>
      tf.concat(this.layers.map((l) => tf.reshape(l.maskVariable.read(), [-1]))),
    );
  }

  private defaultPhase(): CsqPhase {
    return this.controller.ticket || this.controller.exact ? 'exact' : 'continuous';
  }

  /** The current mask logits of every counted layer, concatenated (cached per mask version). */
  private currentMasks(): Float32Array {
    const ids = this.maskIds();
    if (this.cache?.ids.every((id, i) => id === ids[i])) return this.cache.masks;
    const t = this.concatMasks();
    const masks = t.dataSync() as Float32Array;
    t.dispose();
    this.remember(ids, masks);
    return masks;
  }

  private remember(ids: unknown[], masks: Float32Array): BudgetStats {
    const positions = this.positionsFrom(masks, 'continuous');
    const stats = this.statsFrom(positions);
    this.cache = { ids, stats, masks, positions };
    return stats;
  }

  /**
   * R, R_T, the signed coefficient and the sizes now. Without a phase: 'exact' counting in the
   * ticket phase or exact mode, else 'continuous' (m >= 0 counts as selected).
   */
  stats(phase: CsqPhase = this.defaultPhase()): BudgetStats {
    const masks = this.currentMasks();
    if (phase === 'continuous') return this.cache!.stats;
    return this.statsFrom(this.positionsFrom(masks, phase));
  }

  /** Selected positions of every counted layer under a phase's rule, in layer order. */
  positions(phase: CsqPhase = this.defaultPhase()): number[][] {
    const masks = this.currentMasks();
    return phase === 'continuous' ? this.cache!.positions : this.positionsFrom(masks, phase);
  }

  /** The mask logits of each counted layer (copies), in layer order. */
  maskLogits(): Float32Array[] {
    const masks = this.currentMasks();
    let offset = 0;
    return this.layers.map((l) => {
      const m = masks.slice(offset, offset + l.bits);
      offset += l.bits;
      return m;
    });
  }

  /**
   * Counts the masks with an asynchronous download (no blocking read on GPU backends), so the
   * next `penalty()` needs no synchronous read. model.fit's callback does this every batch.
   */
  async refresh(): Promise<BudgetStats> {
    const ids = this.maskIds();
    const t = this.concatMasks();
    const masks = (await t.data()) as Float32Array;
    t.dispose();
    return this.remember(ids, masks);
  }

  /**
   * Each layer's signed coefficient: the global R - R_T, except that a layer at its floor is
   * not pruned, one at its ceiling not grown, and one outside its bounds is pushed back
   * ((b - bound) / N, or the global coefficient when that pushes the same way harder).
   */
  layerCoefficients(): Float64Array {
    this.currentMasks();
    const { stats, positions } = this.cache!;
    return boundedCoefficients(
      stats.coefficient,
      this.layers.map((l, k) => ({ bits: positions[k]!.length, n: l.bits, ...this.bounds[k]! })),
    );
  }

  /**
   * lambda sum_l c_l w_l sum_i sigma(beta m_{l,i}) as a scalar tensor, differentiable in the
   * masks (call it inside the loss closure); c_l = R - R_T from the current masks, without
   * gradient, within the layer's bounds (`layerCoefficients`); 0 in the ticket phase.
   */
  penalty(): tf.Scalar {
    if (this.controller.ticket || this.lambda === 0) return tf.scalar(0);
    const c = this.layerCoefficients();
    const w = this.penaltyWeights();
    return budgetPenaltyTensor(
      this.layers.map((l) => l.maskVariable.read()),
      Float64Array.from(w, (x, k) => x * c[k]!),
      this.controller.beta,
      this.lambda,
    );
  }

  /** Layer l's share of the penalty (what model.fit adds per layer). */
  private layerPenalty(index: number): tf.Scalar {
    if (this.controller.ticket || this.lambda === 0) return tf.scalar(0);
    const c = this.layerCoefficients()[index]!;
    const layer = this.layers[index]!;
    return budgetPenaltyTensor(
      [layer.maskVariable.read()],
      [this.penaltyWeights()[index]! * c],
      this.controller.beta,
      this.lambda,
    );
  }

  /** Stats, the settings, and every counted layer's bits, positions, bounds, params and MACs. */
  report(phase: CsqPhase = this.defaultPhase()): BudgetReport {
    const positions = this.positions(phase);
    const stats = this.statsFrom(positions);
    return {
      ...stats,
      targetBits: this.targetBits,
      lambda: this.lambda,
      enforce: this.enforce,
      phase,
      layers: this.budgetLayers(positions).map((l) => ({
        name: l.name,
        bits: l.bits,
        maxBits: l.maxBits,
        params: l.params,
        ...(l.macs !== undefined ? { macs: l.macs } : {}),
        actBits: l.actBits ?? 0,
        positions: [...l.positions!],
        storageBits: layerCount(l, 'storage'),
        bounds: { ...this.bounds[this.layers.findIndex((x) => x.name === l.name)]! },
      })),
    };
  }

  /** Forgets the counted masks (after writing mask variables in place). */
  invalidate(): void {
    this.cache = undefined;
  }
  /**
   * Adds the penalty to the model's losses, one term per counted layer (tf.layers' `addLoss`),
   * so `model.fit` minimises CE + penalty. `callback()` attaches on train begin and detaches
   * on train end; call it yourself only when not using the callback.
   */
  attach(): void {
    if (this.attached.length > 0) return;
    this.layers.forEach((l, i) => {
      const layer = l as unknown as tfl.layers.Layer;
      if (typeof layer.addLoss !== 'function') {
        throw new CsqError(
          'CSQ_NOT_A_LAYER',
          `counted layer "${l.name}" is not a tf.layers Layer, so model.fit cannot add its ` +
            'penalty; call penalty() in a custom training loop instead.',
        );
      }
      const fn = () => this.layerPenalty(i);
      layer.addLoss(fn);
      this.attached.push({ layer, fn });
    });
  }

  /** Removes what `attach` added. */
  detach(): void {
    for (const { layer, fn } of this.attached) {
      const losses = layer.losses as unknown[];
      const at = losses.indexOf(fn);
      if (at >= 0) losses.splice(at, 1);
    }
    this.attached = [];
  }

  /** True while the penalty is part of the model's losses. */
  get isAttached(): boolean {
    return this.attached.length > 0;
  }

  /**
   * A model.fit callback: adds the penalty to the loss for the run, counts R asynchronously
   * before every batch, optionally sets beta per epoch, trims to the budget (`enforce: 'trim'`)
   * and enters the ticket phase at `ticketEpoch`, and warns when a whole epoch above the target
   * moves no bit. It mixes with plain `{ onEpochEnd }` objects and tf.Callback instances in
   * either order (see `budgetCallback`).
   */
  callback(opts: BudgetCallbackOptions = {}): tfl.CustomCallback {
    return budgetCallback(this, opts);
  }
}

function variableOf(v: tfl.LayerVariable): tf.Variable {
  return v.read() as tf.Variable;
}

export {
  type BudgetLayerReport,
  type BudgetOptions,
  type BudgetReport,
  inputActBits,
} from './budget-options.js';
