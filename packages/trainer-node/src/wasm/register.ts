/**
 * Registers the wasm kernels that training needs and tfjs-backend-wasm 4.22 lacks or runs
 * slowly. Every kernel is composed from wasm's own kernels (see conv-backprop.ts, mat-mul.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropInput,
} from './conv-backprop.js';
import { untransposedMatMul } from './mat-mul.js';
import { poolingMean, poolingSum } from './reduce.js';
import { broadcastTile } from './tile.js';

/** Marks our kernel functions, so registering twice (even from two copies) changes nothing. */
const MARK = Symbol.for('@csq/trainer-node/wasm-kernel');

type Marked = tf.KernelFunc & { [MARK]?: true };

/** wasm's own kernels that a registration replaced (for benchmarks). */
const replaced = new Map<string, tf.KernelConfig>();

interface KernelSpec {
  name: string;
  /** Why we register it: 'missing' (wasm has none) or 'faster' (wasm's is slow). */
  reason: 'missing' | 'faster';
  /** Builds our kernel from wasm's own one (if any); undefined when it cannot. */
  make(original: tf.KernelFunc | undefined): tf.KernelFunc | undefined;
}

/** The kernels this package provides for the wasm backend, with why. */
export const WASM_TRAINING_KERNELS: readonly KernelSpec[] = [
  { name: 'Conv2DBackpropFilter', reason: 'missing', make: () => conv2DBackpropFilter },
  { name: 'Conv2DBackpropInput', reason: 'faster', make: () => conv2DBackpropInput },
  {
    name: 'DepthwiseConv2dNativeBackpropFilter',
    reason: 'missing',
    make: () => depthwiseConv2dNativeBackpropFilter,
  },
  {
    name: 'DepthwiseConv2dNativeBackpropInput',
    reason: 'missing',
    make: () => depthwiseConv2dNativeBackpropInput,
  },
  {
    name: 'BatchMatMul',
    reason: 'faster',
    make: (original) => original && untransposedMatMul(original),
  },
  {
    name: '_FusedMatMul',
    reason: 'faster',
    make: (original) => original && untransposedMatMul(original),
  },
  { name: 'Tile', reason: 'faster', make: (original) => original && broadcastTile(original) },
  { name: 'Sum', reason: 'faster', make: (original) => original && poolingSum(original) },
  { name: 'Mean', reason: 'faster', make: (original) => original && poolingMean(original) },
];

/**
 * Registers this package's training kernels for the 'wasm' backend (Conv2DBackpropFilter,
 * a fast Conv2DBackpropInput, depthwise backprop, fast transposed matmuls). Idempotent; a
 * replaced kernel keeps wasm's setupFunc/disposeFunc. Returns the kernel names registered by
 * this call (empty when already done).
 */
export function registerWasmTrainingKernels(): string[] {
  const done: string[] = [];
  for (const spec of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(spec.name, 'wasm');
    if ((existing?.kernelFunc as Marked | undefined)?.[MARK]) continue;
    const kernelFunc: Marked | undefined = spec.make(existing?.kernelFunc);
    if (kernelFunc == null) continue; // a wrapper with nothing to wrap (wasm not imported)
    kernelFunc[MARK] = true;
    const config: tf.KernelConfig = { kernelName: spec.name, backendName: 'wasm', kernelFunc };
    if (existing?.setupFunc) config.setupFunc = existing.setupFunc;
    if (existing?.disposeFunc) config.disposeFunc = existing.disposeFunc;
    if (existing) {
      replaced.set(spec.name, existing);
      tf.unregisterKernel(spec.name, 'wasm');
    }
    tf.registerKernel(config);
    done.push(spec.name);
  }
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
