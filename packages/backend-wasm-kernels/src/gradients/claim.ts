/**
 * csq's gradients replace three of tfjs-core's (FusedBatchNorm, Mean, Square) with fused ones on
 * the wasm backend and call tfjs-core's own everywhere else. tfjs keeps one global gradient
 * registry and looks a gradient up when an op runs, so a gradient is claimed on import and
 * claimed again by the forward kernel each time it runs: loading `@tensorflow/tfjs` (which
 * registers every gradient) after this package cannot undo it.
 */
import * as tf from '@tensorflow/tfjs-core';

const MARK = Symbol.for('@csq/backend-wasm-kernels/gradient');

type Marked = tf.GradConfig & { [MARK]?: true };

/** The gradient each claim replaced (tfjs-core's), by kernel name. */
const originals = new Map<string, tf.GradConfig>();

/** tfjs-core's gradient for `kernelName` that csq's replaced, if any. */
export function originalGradient(kernelName: string): tf.GradConfig | undefined {
  return (
    originals.get(kernelName) ??
    (isCsqGradient(kernelName) ? undefined : tf.getGradient(kernelName))
  );
}

/** True when the registered gradient of `kernelName` is csq's. */
export function isCsqGradient(kernelName: string): boolean {
  return Boolean((tf.getGradient(kernelName) as Marked | undefined)?.[MARK]);
}

/** Registers `config` unless it (or another copy of csq's) is registered already. */
export function claimGradient(config: tf.GradConfig): void {
  const current = tf.getGradient(config.kernelName) as Marked | undefined;
  if (current === config) return;
  if (current != null && !current[MARK]) originals.set(config.kernelName, current);
  (config as Marked)[MARK] = true;
  tf.registerGradient(config);
}

/** Calls tfjs-core's gradient (the fallback off wasm or for shapes csq's does not cover). */
export function fallbackGradient(
  kernelName: string,
  dy: tf.Tensor | tf.Tensor[],
  saved: tf.Tensor[],
  attrs: tf.NamedAttrMap,
): ReturnType<tf.GradConfig['gradFunc']> {
  const original = originals.get(kernelName);
  if (original == null) {
    throw new Error(
      `no gradient for ${kernelName} besides csq's: import @tensorflow/tfjs (or ` +
        `@tensorflow/tfjs-core/dist/register_all_gradients) to register tfjs-core's gradients`,
    );
  }
  return original.gradFunc(dy, saved, attrs);
}

/** Wraps a forward kernel so that each run first claims `config` (see the module comment). */
export function claiming(config: tf.GradConfig, kernel: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    claimGradient(config);
    return kernel(args);
  };
}

/** Puts tfjs-core's gradient back where csq's is registered (for benchmarks). */
export function releaseGradient(kernelName: string): void {
  const original = originals.get(kernelName);
  if (original != null && isCsqGradient(kernelName)) tf.registerGradient(original);
}
