/**
 * Spec 3: the budget-aware, sign-switching regularizer as an object you add to a loss (custom
 * loops) or hand to model.fit as a callback.
 */
import {
  assertFinite,
  type BudgetLayer,
  type BudgetMode,
  type BudgetStats,
  budgetPenaltyTensor,
  budgetStats,
  CsqError,
  penaltyWeights,
  selectedBits,
} from '@csq/core';
import { CsqController, type CsqPhase, type CsqQuantLayer } from '@csq/layers';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Options of the regularizer. */
export interface BudgetOptions {
  /** How size is counted (spec 3): 'slots' (default, the authors' code), 'params', or 'bops'. */
  mode?: BudgetMode;
  /** Target average bits per weight (R_T = targetBits / N). */
  targetBits: number;
  /** lambda of spec 3, e.g. 0.01 (CIFAR N=8 target 2) or 0.001. */
  lambda: number;
  /** Which CSQ layers the budget counts; default: those with `counted` true (spec 5). */
  include?: (layer: CsqQuantLayer) => boolean;
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
}

/** Stats plus the settings and every counted layer. */
export interface BudgetReport extends BudgetStats {
  targetBits: number;
  lambda: number;
  /** The selection rule the bits were counted with. */
  phase: CsqPhase;
  layers: BudgetLayerReport[];
}

/** Options of `BudgetRegularizer.callback`. */
export interface BudgetCallbackOptions {
  /** Sets beta at the start of each epoch (0-based), e.g. `(e) => betaForEpoch(e, { ticket: 30 })`. */
  beta?: (epoch: number) => number;
  /** From this epoch on (0-based) the ticket phase holds: hard, frozen masks and no penalty. */
  ticketEpoch?: number;
}

/** A CsqController, also one from another copy of @csq/layers (ESM and CJS side by side). */
function isController(x: unknown): x is CsqController {
  if (x instanceof CsqController) return true;
  const c = x as Partial<CsqController>;
  return (
    typeof c?.setBeta === 'function' &&
    typeof c.maskVariables === 'function' &&
    Array.isArray(c.layers) &&
    typeof (x as { predict?: unknown }).predict !== 'function'
  );
}

function variableOf(v: tfl.LayerVariable): tf.Variable {
  return v.read() as tf.Variable;
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
 * L = CE + lambda (R - R_T) sum_l w_l sum_i sigma(beta m_{l,i}) (spec 3). R is counted from the
 * current masks without gradient; above the target the term prunes bits, below it grows them.
 * The layer weights w_l are 1 (`slots`), |W_l| (`params`) or MACs_l a_l (`bops`), normalised to
 * mean 1.
 */
export class BudgetRegularizer {
  readonly controller: CsqController;
  /** The counted layers, in model order. */
  readonly layers: CsqQuantLayer[];
  readonly mode: BudgetMode;
  readonly targetBits: number;
  readonly lambda: number;
  private weightsCache: Float64Array | undefined;
  private cache: { ids: unknown[]; stats: BudgetStats; masks: Float32Array } | undefined;
  private attached: { layer: tfl.layers.Layer; fn: () => tf.Scalar }[] = [];

  constructor(modelOrController: tfl.LayersModel | CsqController, opts: BudgetOptions) {
    this.controller = isController(modelOrController)
      ? modelOrController
      : new CsqController(modelOrController);
    this.mode = opts.mode ?? 'slots';
    assertFinite(opts.targetBits, 'targetBits', { positive: true });
    assertFinite(opts.lambda, 'lambda');
    if (opts.lambda < 0) {
      throw new CsqError('CSQ_BAD_NUMBER', `lambda must be >= 0, got ${opts.lambda}; e.g. 0.01.`);
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
    // Fail early on a bad mode or target, with every bit selected.
    budgetStats(this.budgetLayers(this.layers.map((l) => l.bits)), {
      mode: this.mode,
      targetBits: this.targetBits,
    });
  }

  private budgetLayers(bits: number[]): BudgetLayer[] {
    return this.layers.map((l, i) => {
      const macs = l.macs();
      return {
        name: l.name,
        maxBits: l.bits,
        bits: bits[i]!,
        params: l.paramCount(),
        ...(macs !== undefined ? { macs } : {}),
        actBits: inputActBits(l),
      };
    });
  }

  /** Per-layer weights w_l of the penalty sum (spec 3). */
  penaltyWeights(): Float64Array {
    if (!this.weightsCache) {
      this.weightsCache = penaltyWeights(
        this.budgetLayers(this.layers.map((l) => l.bits)),
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

  private statsFrom(masks: Float32Array, phase: CsqPhase): BudgetStats {
    let offset = 0;
    const bits = this.layers.map((l) => {
      const b = selectedBits(masks.subarray(offset, offset + l.bits), phase);
      offset += l.bits;
      return b;
    });
    return budgetStats(this.budgetLayers(bits), { mode: this.mode, targetBits: this.targetBits });
  }

  private concatMasks(): tf.Tensor {
    return tf.tidy(() =>
      tf.concat(this.layers.map((l) => tf.reshape(l.maskVariable.read(), [-1]))),
    );
  }

  private defaultPhase(): CsqPhase {
    return this.controller.ticket || this.controller.exact ? 'exact' : 'continuous';
  }

  /**
   * R, R_T, the signed coefficient and the sizes now. Without a phase: 'exact' counting in the
   * ticket phase or exact mode, else 'continuous' (m >= 0 counts as selected).
   */
  stats(phase: CsqPhase = this.defaultPhase()): BudgetStats {
    if (phase === 'continuous') return this.searchStats();
    const ids = this.maskIds();
    if (this.cache?.ids.every((id, i) => id === ids[i]))
      return this.statsFrom(this.cache.masks, phase);
    const t = this.concatMasks();
    const masks = t.dataSync() as Float32Array;
    t.dispose();
    return this.statsFrom(masks, phase);
  }

  /** The search-phase stats, recounted only when a mask variable changed since last time. */
  private searchStats(): BudgetStats {
    const ids = this.maskIds();
    if (this.cache?.ids.every((id, i) => id === ids[i])) return this.cache.stats;
    const t = this.concatMasks();
    const masks = t.dataSync() as Float32Array;
    t.dispose();
    const stats = this.statsFrom(masks, 'continuous');
    this.cache = { ids, stats, masks };
    return stats;
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
    const stats = this.statsFrom(masks, 'continuous');
    this.cache = { ids, stats, masks };
    return stats;
  }

  /**
   * lambda (R - R_T) sum_l w_l sum_i sigma(beta m_{l,i}) as a scalar tensor, differentiable in the
   * masks (call it inside the loss closure); R from the current masks, without gradient; 0 in
   * the ticket phase.
   */
  penalty(): tf.Scalar {
    if (this.controller.ticket || this.lambda === 0) return tf.scalar(0);
    const { coefficient } = this.searchStats();
    return budgetPenaltyTensor(
      this.layers.map((l) => l.maskVariable.read()),
      this.penaltyWeights(),
      this.controller.beta,
      this.lambda * coefficient,
    );
  }

  /** Layer l's share of the penalty (what model.fit adds per layer). */
  private layerPenalty(index: number): tf.Scalar {
    if (this.controller.ticket || this.lambda === 0) return tf.scalar(0);
    const { coefficient } = this.searchStats();
    const layer = this.layers[index]!;
    return budgetPenaltyTensor(
      [layer.maskVariable.read()],
      [this.penaltyWeights()[index]!],
      this.controller.beta,
      this.lambda * coefficient,
    );
  }

  /** Stats, the settings, and every counted layer's bits, params and MACs. */
  report(phase: CsqPhase = this.defaultPhase()): BudgetReport {
    const stats = this.stats(phase);
    const ids = this.maskIds();
    const cached = this.cache?.ids.every((id, i) => id === ids[i]) ? this.cache.masks : undefined;
    let offset = 0;
    const bits = this.layers.map((l) => {
      if (!cached) return l.selectedBits(phase);
      const b = selectedBits(cached.subarray(offset, offset + l.bits), phase);
      offset += l.bits;
      return b;
    });
    return {
      ...stats,
      targetBits: this.targetBits,
      lambda: this.lambda,
      phase,
      layers: this.budgetLayers(bits).map((l) => ({
        name: l.name,
        bits: l.bits,
        maxBits: l.maxBits,
        params: l.params,
        ...(l.macs !== undefined ? { macs: l.macs } : {}),
        actBits: l.actBits ?? 0,
      })),
    };
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
   * before every batch, optionally sets beta per epoch and enters the ticket phase.
   */
  callback(opts: BudgetCallbackOptions = {}): tfl.CustomCallback {
    const { beta, ticketEpoch } = opts;
    return new tfl.CustomCallback({
      onTrainBegin: async () => {
        this.attach();
      },
      onEpochBegin: async (epoch: number) => {
        if (beta) this.controller.setBeta(beta(epoch));
        if (ticketEpoch !== undefined) this.controller.setTicket(epoch >= ticketEpoch);
      },
      onBatchBegin: async () => {
        if (!this.controller.ticket) await this.refresh();
      },
      onTrainEnd: async () => {
        this.detach();
      },
    });
  }
}
