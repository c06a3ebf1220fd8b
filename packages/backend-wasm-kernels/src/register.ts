/**
 * Registers the wasm kernels that training needs and tfjs-backend-wasm 4.22 lacks or runs
 * slowly. One kernel per file under kernels/; this module only lists and registers them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { claimGradient, releaseGradient } from './gradients/claim.js';
import { fusedBatchNormGradConfig } from './gradients/fused-batch-norm-grad.js';
import { meanGradConfig } from './gradients/mean-grad.js';
import { squareGradConfig } from './gradients/square-grad.js';
import type { WasmKernelSpec } from './kernel-spec.js';
import { batchMatMulSpec } from './kernels/batch-mat-mul.js';
import { batchNormTrainingSpec } from './kernels/batch-norm-training.js';
import { batchNormTrainingGradSpec } from './kernels/batch-norm-training-grad.js';
import { broadcastRowsSpec } from './kernels/broadcast-rows.js';
import { castSpec } from './kernels/cast.js';
import { conv2DBackpropFilterSpec } from './kernels/conv2d-backprop-filter.js';
import { conv2DBackpropInputSpec } from './kernels/conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterSpec } from './kernels/depthwise-conv2d-native-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputSpec } from './kernels/depthwise-conv2d-native-backprop-input.js';
import { fusedBatchNormSpec } from './kernels/fused-batch-norm.js';
import { fusedBatchNormGradSpec } from './kernels/fused-batch-norm-grad.js';
import { fusedMatMulSpec } from './kernels/fused-mat-mul.js';
import { identitySpec } from './kernels/identity.js';
import { maxPoolGradSpec } from './kernels/max-pool-grad.js';
import { meanSpec } from './kernels/mean.js';
import { mulScaledSpec } from './kernels/mul-scaled.js';
import { sgdMomentumSpec } from './kernels/sgd-momentum.js';
import { softWeightGradSpec, softWeightSpec } from './kernels/soft-weight.js';
import { squareSpec } from './kernels/square.js';
import { sumSpec } from './kernels/sum.js';
import { tileSpec } from './kernels/tile.js';
import { setSimdKernelsEnabled } from './wasm/simd.js';

/** Marks our kernel functions, so registering twice (even from two copies) changes nothing. */
const MARK = Symbol.for('@csq/backend-wasm-kernels/kernel');

type Marked = tf.KernelFunc & { [MARK]?: true };

/** wasm's own kernels that a registration replaced (for benchmarks). */
const replaced = new Map<string, tf.KernelConfig>();

/** The kernels this package provides for the wasm backend, with why. */
export const WASM_TRAINING_KERNELS: readonly WasmKernelSpec[] = [
  conv2DBackpropFilterSpec,
  conv2DBackpropInputSpec,
  depthwiseConv2dNativeBackpropFilterSpec,
  depthwiseConv2dNativeBackpropInputSpec,
  batchMatMulSpec,
  fusedMatMulSpec,
  tileSpec,
  sumSpec,
  meanSpec,
  fusedBatchNormSpec,
  fusedBatchNormGradSpec,
  batchNormTrainingSpec,
  batchNormTrainingGradSpec,
  softWeightSpec,
  softWeightGradSpec,
  sgdMomentumSpec,
  broadcastRowsSpec,
  mulScaledSpec,
  squareSpec,
  maxPoolGradSpec,
  identitySpec,
  castSpec,
];

/** The tfjs-core gradients csq replaces with fused ones on wasm (tfjs-core's elsewhere). */
export const WASM_TRAINING_GRADIENTS: readonly tf.GradConfig[] = [
  fusedBatchNormGradConfig,
  meanGradConfig,
  squareGradConfig,
];

/**
 * Registers this package's training kernels for the 'wasm' backend (WASM_TRAINING_KERNELS)
 * and claims its fused gradients (WASM_TRAINING_GRADIENTS). Idempotent; a replaced kernel keeps
 * wasm's setupFunc/disposeFunc. Returns the kernel names registered by this call (empty when
 * already done).
 */
export function registerWasmTrainingKernels(): string[] {
  const done: string[] = [];
  for (const spec of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(spec.kernelName, 'wasm');
    if ((existing?.kernelFunc as Marked | undefined)?.[MARK]) continue;
    const kernelFunc: Marked | undefined = spec.make(existing?.kernelFunc);
    if (kernelFunc == null) continue; // a wrapper with nothing to wrap (wasm not imported)
    kernelFunc[MARK] = true;
    const config: tf.KernelConfig = {
      kernelName: spec.kernelName,
      backendName: 'wasm',
      kernelFunc,
    };
    if (existing?.setupFunc) config.setupFunc = existing.setupFunc;
    if (existing?.disposeFunc) config.disposeFunc = existing.disposeFunc;
    if (existing) {
      replaced.set(spec.kernelName, existing);
      tf.unregisterKernel(spec.kernelName, 'wasm');
    }
    tf.registerKernel(config);
    done.push(spec.kernelName);
  }
  for (const g of WASM_TRAINING_GRADIENTS) claimGradient(g);
  setSimdKernelsEnabled(true);
  return done;
}

/** True when `name` on the 'wasm' backend is this package's kernel. */
export function isCsqWasmKernel(name: string): boolean {
  return Boolean((tf.getKernel(name, 'wasm')?.kernelFunc as Marked | undefined)?.[MARK]);
}

/** wasm's own kernel that `name` replaced, if this module replaced one (for benchmarks). */
export function replacedWasmKernel(name: string): tf.KernelConfig | undefined {
  return replaced.get(name);
}

/**
 * Ops that look up a csq kernel by name (the fused batch norm of @csq/layers, the soft weight of
 * @csq/core, the optimizer step of @csq/trainer) and take tfjs's
 * composed path without it: unregistered on the stock path.
 */
const LOOKED_UP: readonly string[] = [
  batchNormTrainingSpec.kernelName,
  batchNormTrainingGradSpec.kernelName,
  softWeightSpec.kernelName,
  softWeightGradSpec.kernelName,
  sgdMomentumSpec.kernelName,
];

/**
 * tfjs's stock wasm path, for benchmarks: puts back wasm's own kernels and tfjs-core's gradients
 * wherever csq replaced them and turns csq's SIMD module off, keeping only csq's kernels for what
 * wasm lacks (then composed from wasm's own kernels); the kernels that ops look up by name are
 * removed, so those ops take tfjs's own path. `registerWasmTrainingKernels()` undoes it.
 */
export function useStockWasmKernels(): void {
  for (const name of LOOKED_UP) {
    if (isCsqWasmKernel(name)) tf.unregisterKernel(name, 'wasm');
  }
  for (const spec of WASM_TRAINING_KERNELS) {
    const own = replaced.get(spec.kernelName);
    if (own == null || !isCsqWasmKernel(spec.kernelName)) continue;
    tf.unregisterKernel(spec.kernelName, 'wasm');
    tf.registerKernel(own);
  }
  for (const g of WASM_TRAINING_GRADIENTS) releaseGradient(g.kernelName);
  setSimdKernelsEnabled(false);
}
