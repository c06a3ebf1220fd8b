/**
 * @csq/trainer-webgpu: CSQ training on the TensorFlow.js WebGPU backend. This universal entry
 * is what browser bundles import: it uses `navigator.gpu` and never imports the Node-only
 * `webgpu` package (Node programs import `@csq/trainer-webgpu/node`).
 */
import type { GpuLike } from './gpu-types.js';
import { type InitWebGpuOptions, initWebGpuWith, type WebGpuSession } from './init.js';
import {
  type TrainOnWebGpuOptions,
  trainOnWebGpuWith,
  type WebGpuTrainResult,
} from './train-webgpu.js';

export type {
  GpuAdapterInfoLike,
  GpuAdapterLike,
  GpuDeviceLike,
  GpuLike,
} from './gpu-types.js';
export {
  activeWebGpuSession,
  adapterSummary,
  describeAdapter,
  type InitWebGpuOptions,
  initWebGpuWith,
  type RuntimeHints,
  syncReadProblem,
  WEBGPU_BACKEND,
  type WebGpuAdapterReport,
  type WebGpuSession,
} from './init.js';
export {
  type TrainOnWebGpuOptions,
  trainOnWebGpuWith,
  type WebGpuTrainResult,
} from './train-webgpu.js';

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof window === 'undefined';
}

function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/** True when this JavaScript context exposes `navigator.gpu` (it may still have no adapter). */
export function hasWebGpu(): boolean {
  return navigatorGpu() !== undefined;
}

function noGpuMessage(): string {
  if (isNode()) {
    return (
      'navigator.gpu is undefined: Node has no WebGPU of its own. Import initWebGpu from ' +
      '"@csq/trainer-webgpu/node" (it uses the "webgpu" package, npm install webgpu), or ' +
      'train on wasm or cpu with @csq/trainer-node.'
    );
  }
  if ((globalThis as { isSecureContext?: boolean }).isSecureContext === false) {
    return (
      'navigator.gpu is undefined because this page is not a secure context: browsers expose ' +
      'WebGPU only on https:// pages and on http://localhost. Serve the page over https or ' +
      'from localhost.'
    );
  }
  return (
    'this browser has no WebGPU (navigator.gpu is undefined). Use a browser with WebGPU ' +
    '(Chrome or Edge 113+ on Windows, macOS or ChromeOS; recent Safari or Firefox), enable it ' +
    'in the browser flags, or train on the wasm or cpu backend instead.'
  );
}

function noAdapterMessage(): string {
  return (
    'The browser exposes WebGPU but has no usable GPU for it (blocklisted driver, disabled ' +
    'hardware acceleration, or a headless browser). In Chrome, chrome://gpu tells why; on ' +
    'Linux and in headless Chrome start it with --enable-unsafe-webgpu (it then offers its ' +
    'SwiftShader software adapter). Otherwise train on the wasm or cpu backend.'
  );
}

/**
 * Browser: sets up the tfjs WebGPU backend on `navigator.gpu` and makes it the active backend.
 * Throws a CsqError `CSQ_NO_WEBGPU` (no `navigator.gpu`), `CSQ_NO_GPU_ADAPTER` (no adapter),
 * `CSQ_WEBGPU_DEVICE_FAILED` or `CSQ_WEBGPU_BACKEND_FAILED`, each saying what to do.
 */
export function initWebGpu(opts: InitWebGpuOptions = {}): Promise<WebGpuSession> {
  return initWebGpuWith(navigatorGpu(), opts, {
    runtime: isNode() ? 'node' : 'browser',
    noGpu: noGpuMessage(),
    noAdapter: noAdapterMessage,
  });
}

/**
 * Browser: trains with @csq/trainer's loop (`train`) on WebGPU. Sets WebGPU up with
 * `initWebGpu(opts.webgpu)` unless a session is already live (then reuses it), and returns the
 * loop's result plus the session, which stays up: the trained model's weights live on it.
 * Build the model after `initWebGpu()` to create its weights on the GPU directly.
 */
export function trainOnWebGpu(opts: TrainOnWebGpuOptions): Promise<WebGpuTrainResult> {
  return trainOnWebGpuWith(initWebGpu, opts);
}
