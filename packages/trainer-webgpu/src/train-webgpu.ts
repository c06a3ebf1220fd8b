/**
 * `trainOnWebGpu`: @csq/trainer's backend-agnostic loop (`train`), on the WebGPU backend. Thin
 * on purpose: the numbers are the loop's own, the same as on cpu, wasm or tfjs-node.
 */
import { CsqError } from '@csq/core';
import { type TrainOptions, type TrainResult, train } from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';
import {
  activeWebGpuSession,
  type InitWebGpuOptions,
  WEBGPU_BACKEND,
  type WebGpuSession,
} from './init.js';

/** Options of `trainOnWebGpu`: those of @csq/trainer's `train`, plus the WebGPU setup. */
export interface TrainOnWebGpuOptions<Init extends InitWebGpuOptions = InitWebGpuOptions>
  extends TrainOptions {
  /**
   * Passed to `initWebGpu` when no WebGPU session is live yet. A live one (from an earlier
   * `initWebGpu` or `trainOnWebGpu`) is reused as it is: setting up a new one would free every
   * tensor of the old one, the model's weights included.
   */
  webgpu?: Init;
}

/** What `trainOnWebGpu` returns: `train`'s result and the WebGPU session it ran on. */
export interface WebGpuTrainResult extends TrainResult {
  /**
   * The live session. It stays up after training (the trained model's weights live on it):
   * `webgpu.dispose()` once the model is no longer needed frees the device.
   */
  webgpu: WebGpuSession;
}

/**
 * Makes WebGPU the active backend (reusing a live session, else `init(opts.webgpu)`), logs the
 * adapter through `opts.log`, and runs @csq/trainer's `train` on it. Throws CsqError
 * CSQ_WEBGPU_BACKEND_FAILED when a live session's backend cannot be made active again, and
 * whatever `init` and `train` throw.
 */
export async function trainOnWebGpuWith<Init extends InitWebGpuOptions>(
  init: (opts: Init) => Promise<WebGpuSession>,
  opts: TrainOnWebGpuOptions<Init>,
): Promise<WebGpuTrainResult> {
  const { webgpu: initOpts, ...trainOpts } = opts;
  let session = activeWebGpuSession();
  if (!session) session = await init(initOpts ?? ({} as Init));
  else if (tf.getBackend() !== WEBGPU_BACKEND && !(await tf.setBackend(WEBGPU_BACKEND))) {
    throw new CsqError(
      'CSQ_WEBGPU_BACKEND_FAILED',
      `tfjs could not switch back to the WebGPU backend of the live session (${session.summary}); ` +
        'dispose it and call initWebGpu() again, or train on another backend (wasm or cpu).',
    );
  }
  trainOpts.log?.(`training on ${session.summary}`);
  const result = await train(trainOpts);
  return { ...result, webgpu: session };
}
