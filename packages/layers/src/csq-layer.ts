/**
 * The base class of every CSQ layer: one CsqKernel (planes, mask, scale; spec 1), an optional
 * quantized bias (spec 5), the model-wide state set by the controller, and the CsqQuantLayer
 * contract. Subclasses say how the kernel is shaped and used (conv, dense, depthwise, or a
 * user's own operation).
 */
import { assertFinite, CsqError, resolveBounds } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { type ActivationFn, resolveActivation } from './activations.js';
import { CsqBias } from './csq-bias.js';
import { type AddWeight, type CsqInit, CsqKernel } from './csq-kernel.js';
import {
  type InitializerSpec,
  resolveInitializer,
  serializeInitializerSpec,
} from './initializers.js';
import {
  type CsqPhase,
  type CsqQuantLayer,
  type CsqState,
  DEFAULT_CSQ_STATE,
  type ExactKernel,
} from './types.js';

/** Options every CSQ layer accepts (besides tf.layers' own: name, inputShape, trainable...). */
export interface CsqLayerArgs extends LayerArgs {
  /** N, the starting bit width (spec 1); default 8. */
  bits?: number;
  /** Counted by the budget (spec 5); default true. */
  counted?: boolean;
  /** 'scratch' (default; the authors' initialisation) or 'convert' (logits +-initLogit). */
  init?: CsqInit;
  /** Logit magnitude of the 'convert' initialisation; default 6. */
  initLogit?: number;
  /** Initial mask logit of the 'convert' initialisation; default `initLogit`. */
  maskLogit?: number;
  /** Floor of the selected bits for the budget (default 1; 0 lets the layer lose every bit). */
  minBits?: number;
  /**
   * Ceiling of the selected bits for the budget (default N). A 'convert' initialisation starts
   * with the `maxBits` most significant positions selected.
   */
  maxBits?: number;
  /** Initial mask logit of the 'scratch' initialisation; default 0. */
  s0?: number;
  /** Seed of the float kernel (and bias) initializer: the same seed gives the same planes. */
  seed?: number | null;
  /** Float initializer the planes are derived from (spec 1); default per layer type. */
  kernelInitializer?: InitializerSpec;
  /** Add a bias; default true. */
  useBias?: boolean;
  /** Float bias initializer; default 'zeros'. */
  biasInitializer?: InitializerSpec;
  /** Quantize the bias to N bits (spec 5, round-and-clip, straight-through); default true. */
  quantizeBias?: boolean;
  /** A tf.layers activation name applied to the output; default 'linear'. */
  activation?: string | null;
  /** Initial CSQ state (saved models carry the state they were saved in). */
  csqState?: Partial<CsqState>;
}

/** Extracts the one shape of a single-input layer. */
export function singleShape(shape: tfl.Shape | tfl.Shape[]): tfl.Shape {
  if (Array.isArray(shape[0])) {
    const list = shape as tfl.Shape[];
    if (list.length !== 1) {
      throw new CsqError('CSQ_BAD_INPUT', `a CSQ layer takes one input, got ${list.length}.`);
    }
    return list[0]!;
  }
  return shape as tfl.Shape;
}

function singleTensor(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(x)) {
    if (x.length !== 1)
      throw new CsqError('CSQ_BAD_INPUT', `a CSQ layer takes one input, got ${x.length}.`);
    return x[0]!;
  }
  return x;
}

function checkState(state: CsqState): void {
  assertFinite(state.beta, 'beta', { positive: true });
}

/**
 * Abstract base of CSQ layers (CsqConv2D, CsqDense, CsqDepthwiseConv2D, and users' own). A
 * subclass implements `kernelShapeFor`, `forward`, `computeOutputShape`, and optionally
 * `biasUnits` and `macsFor`; it gets the planes, mask, quantized bias, controller state,
 * serialization of these options and the whole CsqQuantLayer contract from here.
 */
export abstract class CsqLayer extends tfl.layers.Layer implements CsqQuantLayer {
  readonly isCsqLayer = true as const;
  readonly bits: number;
  readonly counted: boolean;
  readonly minBits: number | undefined;
  readonly maxBits: number | undefined;
  readonly seed: number | undefined;
  readonly useBias: boolean;
  readonly quantizeBias: boolean;
  readonly activationName: string;
  /** The planes, mask and scale of this layer's kernel. */
  readonly csqKernel: CsqKernel;
  /** The (quantized) bias, when `useBias`. */
  readonly csqBias: CsqBias | undefined;
  protected readonly kernelInitializerSpec: InitializerSpec;
  protected readonly biasInitializerSpec: InitializerSpec;
  private readonly activationFn: ActivationFn;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private state: CsqState;
  private builtInputShape: tfl.Shape | undefined;

  constructor(args: CsqLayerArgs, defaults: { kernelInitializer: InitializerSpec }) {
    super(args);
    this.bits = args.bits ?? 8;
    this.counted = args.counted ?? true;
    this.minBits = args.minBits ?? undefined;
    this.maxBits = args.maxBits ?? undefined;
    resolveBounds({
      name: args.name ?? 'a CSQ layer',
      maxBits: this.bits,
      bounds: {
        ...(this.minBits !== undefined ? { minBits: this.minBits } : {}),
        ...(this.maxBits !== undefined ? { maxBits: this.maxBits } : {}),
      },
    });
    this.seed = args.seed ?? undefined;
    this.csqKernel = new CsqKernel({
      bits: this.bits,
      init: args.init ?? 'scratch',
      initLogit: args.initLogit ?? 6,
      ...(args.maskLogit !== undefined ? { maskLogit: args.maskLogit } : {}),
      s0: args.s0 ?? 0,
      ...(this.maxBits !== undefined ? { startBits: this.maxBits } : {}),
    });
    this.useBias = args.useBias ?? true;
    this.quantizeBias = args.quantizeBias ?? true;
    this.csqBias = this.useBias ? new CsqBias(this.bits, this.quantizeBias) : undefined;
    this.kernelInitializerSpec = args.kernelInitializer ?? defaults.kernelInitializer;
    this.biasInitializerSpec = args.biasInitializer ?? 'zeros';
    this.kernelInit = resolveInitializer(this.kernelInitializerSpec, this.seed);
    this.biasInit = resolveInitializer(
      this.biasInitializerSpec,
      this.seed === undefined ? undefined : this.seed + 1,
    );
    this.activationName = args.activation ?? 'linear';
    this.activationFn = resolveActivation(this.activationName);
    this.state = { ...DEFAULT_CSQ_STATE, ...(args.csqState ?? {}) };
    checkState(this.state);
    this.supportsMasking = false;
  }

  /** The kernel shape (without the bit axis) for an input shape. */
  protected abstract kernelShapeFor(inputShape: tfl.Shape): number[];

  /** The layer's operation with a ready kernel (and bias, when used). */
  protected abstract forward(
    x: tf.Tensor,
    kernel: tf.Tensor,
    bias: tf.Tensor | undefined,
  ): tf.Tensor;

  /** Number of bias units for an input shape (default: the kernel's last dimension). */
  protected biasUnits(inputShape: tfl.Shape): number {
    return this.kernelShapeFor(inputShape).at(-1)!;
  }

  /** MACs per example for an input shape, undefined when a needed dimension is unknown. */
  protected macsFor(_inputShape: tfl.Shape): number | undefined {
    return undefined;
  }

  /** The initialisation of this layer's planes ('scratch' or 'convert'). */
  get init(): CsqInit {
    return this.csqKernel.init;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape);
    this.builtInputShape = [...shape];
    // tfjs sets this while loading a saved model: the weights come from the file right after.
    const skipInit =
      (this as unknown as { fastWeightInitDuringBuild?: boolean }).fastWeightInitDuringBuild ===
      true;
    const add: AddWeight = (name, s, dtype, init) =>
      this.addWeight(name, s, dtype, init, undefined, true);
    this.csqKernel.build(add, this.kernelShapeFor(shape), this.kernelInit, skipInit);
    this.csqBias?.build(add, this.biasUnits(shape), this.biasInit, skipInit);
    this.applyTrainability();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const kernel = this.csqKernel.compute(this.state);
      const bias = this.csqBias?.compute();
      const y = this.forward(x, kernel, bias);
      return this.activationFn ? this.activationFn(y) : y;
    });
  }

  /** The kernel tensor as call() computes it now (soft, ticket or exact, per the state). */
  kernelTensor(): tf.Tensor {
    return this.csqKernel.compute(this.state);
  }

  /** The bias tensor as call() uses it (quantized per spec 5), or undefined without a bias. */
  biasTensor(): tf.Tensor | undefined {
    return this.csqBias?.compute();
  }

  get maskVariable(): tfl.LayerVariable {
    return this.csqKernel.mask;
  }

  nonMaskVariables(): tfl.LayerVariable[] {
    const k = this.csqKernel;
    return [k.p, k.n, k.scale, ...(this.csqBias?.variables() ?? [])];
  }

  paramCount(): number {
    return this.csqKernel.paramCount();
  }

  macs(): number | undefined {
    return this.builtInputShape ? this.macsFor(this.builtInputShape) : undefined;
  }

  /** The input shape the layer was built with (batch dimension included). */
  get builtShape(): tfl.Shape | undefined {
    return this.builtInputShape ? [...this.builtInputShape] : undefined;
  }

  selectedBits(phase?: CsqPhase): number {
    return this.csqKernel.selectedBits(phase ?? this.defaultPhase());
  }

  /** The selection rule the layer computes with now: 'exact' in ticket or exact mode. */
  defaultPhase(): CsqPhase {
    return this.state.ticket || this.state.exact ? 'exact' : 'continuous';
  }

  exactKernel(): ExactKernel {
    return this.csqKernel.exactKernel();
  }

  exactDigits(): Int8Array {
    return this.csqKernel.exactDigits();
  }

  /** The CSQ state call() reads (a copy). */
  get csqState(): CsqState {
    return { ...this.state };
  }

  setCsqState(state: Partial<CsqState>): void {
    const next = { ...this.state, ...state };
    checkState(next);
    this.state = next;
    this.applyTrainability();
  }

  /** In the ticket phase the masks are frozen: no gradient, no optimizer update (spec 2). */
  private applyTrainability(): void {
    if (this.csqKernel.isBuilt) this.csqKernel.mask.trainable = !this.state.ticket;
  }

  /** Re-initialises the planes (and bias) from a float kernel, e.g. a trained model's (spec 1). */
  setFloatWeights(
    kernel: tf.Tensor | ArrayLike<number>,
    bias?: tf.Tensor | ArrayLike<number>,
    init?: CsqInit,
  ): void {
    this.csqKernel.setFromFloat(kernel, init);
    if (bias !== undefined) {
      if (!this.csqBias) {
        throw new CsqError(
          'CSQ_NO_BIAS',
          `layer "${this.name}" has no bias (useBias: false); pass no bias.`,
        );
      }
      this.csqBias.setFromFloat(bias);
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      bits: this.bits,
      counted: this.counted,
      init: this.csqKernel.init,
      initLogit: this.csqKernel.initLogit,
      maskLogit: this.csqKernel.maskLogit,
      s0: this.csqKernel.s0,
      ...(this.minBits !== undefined ? { minBits: this.minBits } : {}),
      ...(this.maxBits !== undefined ? { maxBits: this.maxBits } : {}),
      seed: this.seed ?? null,
      kernelInitializer: serializeInitializerSpec(this.kernelInitializerSpec),
      useBias: this.useBias,
      biasInitializer: serializeInitializerSpec(this.biasInitializerSpec),
      quantizeBias: this.quantizeBias,
      activation: this.activationName,
      csqState: { ...this.state },
    };
    return { ...super.getConfig(), ...config };
  }
}
