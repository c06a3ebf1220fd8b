/**
 * The trainable state of one CSQ kernel (spec 1): bit planes p and n, mask logits m, scale s,
 * and the tensor that turns them into the kernel. Every CSQ layer holds one; a user's own
 * CSQ-aware layer can hold one too (see the README's extension example).
 */
import {
  assertBits,
  assertFinite,
  CsqError,
  exactCodes,
  exactWeightTensor,
  initBitPlaneLogits,
  initBitPlanes,
  initMask,
  resetMaskForRound,
  selectedBits,
  softWeightTensor,
} from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';
import type { CsqPhase, CsqState, ExactKernel } from './types.js';

/** How a kernel's planes start (spec 1). */
export type CsqInit = 'scratch' | 'convert';

/** Adds one weight to the owning layer (a bound `layer.addWeight`). */
export type AddWeight = (
  name: string,
  shape: number[],
  dtype: 'float32',
  initializer: Initializer,
) => LayerVariable;

/** Options of a CSQ kernel. */
export interface CsqKernelOptions {
  /** N, the starting bit width (spec 1). */
  bits: number;
  /**
   * 'scratch' (default): the authors' initialisation, digits 0/1 and every mask logit s0.
   * 'convert': digits become logits +-initLogit and masks +initLogit, so the exact weight is the
   * N-bit quantisation of the float kernel and the soft one approaches it as beta grows.
   */
  init?: CsqInit;
  /** The logit magnitude a of the 'convert' initialisation (default 6). */
  initLogit?: number;
  /**
   * Initial mask logit of the 'convert' initialisation (default `initLogit`). A moderate value
   * (quantizeModel uses 1) keeps the budget's gradient beta sigma'(beta m) alive, so the search
   * can prune and grow bits; any positive value leaves the exact model unchanged.
   */
  maskLogit?: number;
  /** Initial mask logit of the 'scratch' initialisation (spec 1, default 0). */
  s0?: number;
  /**
   * Selected positions at the start of a 'convert' initialisation: the `startBits` most
   * significant ones (mask +maskLogit), the others off (-maskLogit). Default: all N.
   */
  startBits?: number;
}

/** Returns an initializer that hands over a ready tensor (tfjs disposes it after use). */
export function tensorInitializer(make: () => tf.Tensor): Initializer {
  return { apply: () => make() } as unknown as Initializer;
}

/** Planes, mask and scale of spec 1 for a float kernel under an initialisation. */
export function kernelPlanes(
  w: ArrayLike<number>,
  opts: Required<CsqKernelOptions>,
): { p: Float32Array; n: Float32Array; m: Float32Array; scale: number } {
  if (opts.init === 'convert') {
    const planes = initBitPlaneLogits(w, opts.bits, opts.initLogit);
    const m = Float32Array.from({ length: opts.bits }, (_, i) =>
      i < opts.startBits ? opts.maskLogit : -opts.maskLogit,
    );
    return { ...planes, m };
  }
  const planes = initBitPlanes(w, opts.bits);
  return { ...planes, m: initMask(opts.bits, opts.s0) };
}

function checkInit(init: string): asserts init is CsqInit {
  if (init !== 'scratch' && init !== 'convert') {
    throw new CsqError(
      'CSQ_BAD_INIT',
      `init must be "scratch" (train from scratch) or "convert" (start from trained float ` +
        `weights), got "${String(init)}".`,
    );
  }
}

/** The four trainable tensors of spec 1 behind one kernel, and the kernel they compute. */
export class CsqKernel {
  readonly bits: number;
  readonly init: CsqInit;
  readonly initLogit: number;
  readonly maskLogit: number;
  readonly s0: number;
  readonly startBits: number;
  private shape: number[] | undefined;
  private vars:
    | { p: LayerVariable; n: LayerVariable; m: LayerVariable; scale: LayerVariable }
    | undefined;

  constructor(opts: CsqKernelOptions) {
    assertBits(opts.bits);
    this.bits = opts.bits;
    const init = opts.init ?? 'scratch';
    checkInit(init);
    this.init = init;
    this.initLogit = opts.initLogit ?? 6;
    assertFinite(this.initLogit, 'initLogit', { positive: true });
    this.maskLogit = opts.maskLogit ?? this.initLogit;
    assertFinite(this.maskLogit, 'maskLogit', { positive: true });
    this.s0 = opts.s0 ?? 0;
    assertFinite(this.s0, 's0');
    this.startBits = opts.startBits ?? this.bits;
    if (!Number.isInteger(this.startBits) || this.startBits < 0 || this.startBits > this.bits) {
      throw new CsqError(
        'CSQ_BAD_BITS',
        `startBits must be an integer in 0..${this.bits}, got ${String(opts.startBits)}.`,
      );
    }
  }

  /** Shape of the kernel without the bit axis (after build). */
  get kernelShape(): number[] {
    return [...this.built().shape];
  }

  /** True once `build` has run. */
  get isBuilt(): boolean {
    return this.vars !== undefined;
  }

  /**
   * Adds p, n ([...kernelShape, bits]), mask logits m ([bits]) and scale ([1]) to the owning layer
   * through `addWeight`, initialised (spec 1) from a float kernel drawn with `floatInit`. With
   * `skipInit` (tfjs loading weights right after) the float draw is skipped.
   */
  build(
    addWeight: AddWeight,
    kernelShape: number[],
    floatInit: Initializer,
    skipInit = false,
  ): void {
    if (this.vars) throw new CsqError('CSQ_ALREADY_BUILT', 'this CSQ kernel is already built.');
    this.shape = [...kernelShape];
    const planeShape = [...kernelShape, this.bits];
    let planes: ReturnType<typeof kernelPlanes> | undefined;
    if (!skipInit) {
      const w = tf.tidy(() => floatInit.apply(kernelShape, 'float32'));
      const data = w.dataSync();
      w.dispose();
      planes = kernelPlanes(data, this.options());
    }
    const make = (values: () => Float32Array, shape: number[]) =>
      tensorInitializer(() => (planes ? tf.tensor(values(), shape, 'float32') : tf.zeros(shape)));
    this.vars = {
      p: addWeight(
        'kernel_p',
        planeShape,
        'float32',
        make(() => planes!.p, planeShape),
      ),
      n: addWeight(
        'kernel_n',
        planeShape,
        'float32',
        make(() => planes!.n, planeShape),
      ),
      m: addWeight(
        'kernel_mask',
        [this.bits],
        'float32',
        make(() => planes!.m, [this.bits]),
      ),
      scale: addWeight(
        'kernel_scale',
        [1],
        'float32',
        make(() => Float32Array.of(planes!.scale), [1]),
      ),
    };
  }

  private options(): Required<CsqKernelOptions> {
    return {
      bits: this.bits,
      init: this.init,
      initLogit: this.initLogit,
      maskLogit: this.maskLogit,
      s0: this.s0,
      startBits: this.startBits,
    };
  }

  private built() {
    if (!this.vars || !this.shape) {
      throw new CsqError(
        'CSQ_NOT_BUILT',
        'this CSQ layer has no weights yet: build it first (apply it to an input or add it to a model).',
      );
    }
    return { ...this.vars, shape: this.shape };
  }

  /** Bit planes p. */
  get p(): LayerVariable {
    return this.built().p;
  }
  /** Bit planes n. */
  get n(): LayerVariable {
    return this.built().n;
  }
  /** Mask logits m. */
  get mask(): LayerVariable {
    return this.built().m;
  }
  /** Scale s. */
  get scale(): LayerVariable {
    return this.built().scale;
  }

  /** Number of weights of the kernel, |W_l|. */
  paramCount(): number {
    return this.built().shape.reduce((a, b) => a * b, 1);
  }

  /**
   * The kernel for the current state, with few ops and no data download: spec 1 soft weight at
   * `state.beta` (hard H(m) gates in the ticket phase, which pass no gradient to m), or the exact
   * Heaviside weight in exact mode.
   */
  compute(state: CsqState): tf.Tensor {
    const { p, n, m, scale } = this.built();
    const args = { p: p.read(), n: n.read(), m: m.read(), scale: scale.read(), bits: this.bits };
    if (state.exact) return exactWeightTensor(args);
    return softWeightTensor({ ...args, beta: state.beta, hardMask: state.ticket });
  }

  /** Replaces p, n, m and s by the initialisation (`init`, default this kernel's) of a float kernel. */
  setFromFloat(w: tf.Tensor | ArrayLike<number>, init: CsqInit = this.init): void {
    checkInit(init);
    const { p, n, m, scale, shape } = this.built();
    const data = w instanceof tf.Tensor ? w.dataSync() : w;
    const count = shape.reduce((a, b) => a * b, 1);
    if (data.length !== count) {
      throw new CsqError(
        'CSQ_BAD_SHAPE',
        `float kernel has ${data.length} values but the layer's kernel [${shape}] holds ${count}.`,
      );
    }
    const planes = kernelPlanes(data, { ...this.options(), init });
    const planeShape = [...shape, this.bits];
    tf.tidy(() => {
      p.write(tf.tensor(planes.p, planeShape));
      n.write(tf.tensor(planes.n, planeShape));
      m.write(tf.tensor(planes.m, [this.bits]));
      scale.write(tf.tensor([planes.scale], [1]));
    });
  }

  /** Current mask logits. */
  maskValues(): Float32Array {
    return this.built().m.read().dataSync() as Float32Array;
  }

  /** Selected bits b_l (spec 2) under a phase's rule. */
  selectedBits(phase: CsqPhase): number {
    return selectedBits(this.maskValues(), phase);
  }

  /** Spec 2 round reset of this kernel's mask: m <- min(beta m, s0). */
  resetMask(beta: number, s0 = 0): void {
    const m = this.built().m;
    const next = resetMaskForRound(this.maskValues(), beta, s0);
    tf.tidy(() => {
      m.write(tf.tensor(next, [this.bits]));
    });
  }

  /** Exact digits H(p_i) - H(n_i) per weight and position, bit axis last. */
  exactDigits(): Int8Array {
    const { p, n } = this.built();
    const pv = p.read().dataSync();
    const nv = n.read().dataSync();
    const d = new Int8Array(pv.length);
    for (let j = 0; j < pv.length; j++) d[j] = (pv[j]! > 0 ? 1 : 0) - (nv[j]! > 0 ? 1 : 0);
    return d;
  }

  /** The exact model of the kernel as integer codes (spec 1). */
  exactKernel(): ExactKernel {
    const { p, n, m, scale, shape } = this.built();
    const { codes, positions } = exactCodes({
      p: p.read().dataSync(),
      n: n.read().dataSync(),
      m: m.read().dataSync(),
      bits: this.bits,
    });
    return {
      codes,
      positions,
      scale: scale.read().dataSync()[0]!,
      bits: this.bits,
      kernelShape: [...shape],
    };
  }
}
