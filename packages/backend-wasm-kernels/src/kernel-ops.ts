/**
 * A tiny op layer over the wasm backend's own kernels, for kernels composed from them. Each call
 * runs the kernel function registered for 'wasm' directly on TensorInfos (no engine, no tape),
 * and every intermediate is freed by `dispose()` unless it was handed out with `keep()`.
 */
import * as tf from '@tensorflow/tfjs-core';

type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;

/** The part of the wasm backend a composed kernel needs. */
export interface WasmLikeBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Explicit padding in the `[[0, 0], [top, bottom], [left, right], [0, 0]]` form of tfjs. */
export type Paddings = [number, number][];

/** Runs wasm kernels on TensorInfos and frees the intermediates afterwards. */
export class KernelOps {
  private readonly temps: TensorInfo[] = [];

  constructor(
    readonly backend: WasmLikeBackend,
    private readonly backendName = 'wasm',
  ) {}

  /** Runs kernel `name` of this backend; the result is freed by `dispose()` unless kept. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs = {}): TensorInfo {
    const config = tf.getKernel(name, this.backendName);
    if (config == null) {
      throw new Error(`the ${this.backendName} backend has no "${name}" kernel`);
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`kernel "${name}" returned several outputs`);
    this.temps.push(out);
    return out;
  }

  /** Takes `t` out of the list of intermediates, so the caller owns it. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.temps.lastIndexOf(t);
    if (i >= 0) this.temps.splice(i, 1);
    return t;
  }

  /** Frees every intermediate not kept. */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; `paddings` has one [before, after] pair per axis (all >= 0). */
  pad(x: TensorInfo, paddings: Paddings): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /**
   * Crops (negative amounts) and zero-pads (positive amounts) each axis in one go:
   * `amounts[axis] = [before, after]`. Returns `x` itself when nothing changes.
   */
  padOrCrop(x: TensorInfo, amounts: Paddings): TensorInfo {
    const begin = amounts.map(([b]) => Math.max(0, -b));
    const size = x.shape.map((n, i) => n - begin[i]! - Math.max(0, -amounts[i]![1]));
    let out = x;
    if (begin.some((b) => b > 0) || size.some((s, i) => s !== x.shape[i])) {
      out = this.slice(out, begin, size);
    }
    const pads = amounts.map(([b, a]) => [Math.max(0, b), Math.max(0, a)] as [number, number]);
    if (pads.some(([b, a]) => b > 0 || a > 0)) out = this.pad(out, pads);
    return out;
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: 'valid' | Paddings,
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides, dilations, pad: pad as Attrs[string], dataFormat: 'NHWC' },
    );
  }

  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: 'valid' | Paddings,
  ): TensorInfo {
    return this.run(
      'DepthwiseConv2dNative',
      { x, filter },
      { strides, dilations, pad: pad as Attrs[string], dataFormat: 'NHWC' },
    );
  }

  /**
   * Inserts `s - 1` zeros after every element along the two spatial axes of an NHWC tensor:
   * [N, H, W, C] -> [N, H * sh, W * sw, C] (the trailing zeros included), from reshapes and a pad.
   */
  zeroInsert(x: TensorInfo, sh: number, sw: number): TensorInfo {
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    let out = x;
    if (sw > 1) {
      out = this.reshape(out, [n * h, w, 1, c]);
      out = this.pad(out, [
        [0, 0],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
    }
    if (sh > 1) {
      out = this.reshape(out, [n, h, 1, w * sw * c]);
      out = this.pad(out, [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
      ]);
    }
    return this.reshape(out, [n, h * sh, w * sw, c]);
  }
}
