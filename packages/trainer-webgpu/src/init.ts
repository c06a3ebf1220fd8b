/**
 * Backend setup shared by the browser and the Node entry: from a `GPU` object (a browser's
 * `navigator.gpu`, or Dawn's through the `webgpu` package) to the tfjs `webgpu` backend, with
 * a report of the adapter and a CsqError for every way it can fail.
 */
import { CsqError } from '@csq/core';
// The union package registers every gradient (tfjs-core alone registers none): training needs them.
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { GpuAdapterInfoLike, GpuAdapterLike, GpuDeviceLike, GpuLike } from './gpu-types.js';

/** The tfjs backend name this package sets up (the WebGPU kernels are registered under it). */
export const WEBGPU_BACKEND = 'webgpu';

/** Options of `initWebGpu` (browser and Node). */
export interface InitWebGpuOptions {
  /** Adapter preference passed to `requestAdapter` (default 'high-performance', as tfjs). */
  powerPreference?: 'low-power' | 'high-performance';
  /** Ask for the browser's software fallback adapter (e.g. SwiftShader). Default false. */
  forceFallbackAdapter?: boolean;
  /**
   * tfjs' `WEBGPU_CPU_FORWARD` flag: run ops on the CPU when every input is small and still on
   * the CPU. tfjs' default (true) is kept unless set; tests set false so every op runs on the GPU.
   */
  cpuForward?: boolean;
  /** Make `webgpu` the active tfjs backend (default true). */
  setBackend?: boolean;
}

/** What the adapter says about itself, plus the limits that bound tensor sizes. */
export interface WebGpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The browser's (or Dawn's) fallback adapter, typically a CPU implementation. */
  isFallbackAdapter: boolean;
  /** A CPU implementation (SwiftShader, llvmpipe/lavapipe, WARP): expect it to be slow. */
  software: boolean;
  features: string[];
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
}

/** A live WebGPU backend set up by `initWebGpu`. */
export interface WebGpuSession {
  /** Always 'webgpu': pass it to `tf.setBackend` to come back after using another backend. */
  backend: typeof WEBGPU_BACKEND;
  runtime: 'browser' | 'node';
  adapter: WebGpuAdapterReport;
  /** One line for logs, e.g. "webgpu (node): google swiftshader, software fallback adapter". */
  summary: string;
  /**
   * Why `dataSync()` / `arraySync()` of GPU data throw CsqError CSQ_WEBGPU_SYNC_READ here (Node;
   * a browser's software fallback adapter), or undefined where they work.
   */
  syncReadProblem?: string;
  /**
   * Removes the tfjs backend (its tensors are freed) and destroys the device. In Node this also
   * drops `navigator.gpu`, which otherwise keeps the process alive.
   */
  dispose(): void;
}

/** Messages for the runtime-specific failures (the browser and Node fix them differently). */
export interface RuntimeHints {
  runtime: 'browser' | 'node';
  /** Why there is no `GPU` object and how to get one. */
  noGpu: string;
  /** Why `requestAdapter` may have found nothing and what to try. */
  noAdapter: () => string;
  /** Called after dispose and after a failed init (Node releases `navigator.gpu`). */
  release?: () => void;
  /**
   * Why a synchronous read (`dataSync()`, `arraySync()`) of GPU data cannot work here and what
   * to do instead; used where tfjs' synchronous path (OffscreenCanvas) is missing, as in Node.
   */
  syncRead?: string;
}

const LIMITS_TO_REQUEST = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

function text(x: unknown): string {
  return typeof x === 'string' ? x : '';
}

function limitOf(adapter: GpuAdapterLike, name: string): number {
  const v = adapter.limits?.[name];
  return typeof v === 'number' ? v : 0;
}

/** The adapter report of `adapter` (reads `info`, falling back to `requestAdapterInfo()`). */
export async function describeAdapter(adapter: GpuAdapterLike): Promise<WebGpuAdapterReport> {
  let info: GpuAdapterInfoLike | undefined = adapter.info;
  if (!info && typeof adapter.requestAdapterInfo === 'function') {
    info = await adapter.requestAdapterInfo().catch(() => undefined);
  }
  const vendor = text(info?.vendor);
  const architecture = text(info?.architecture);
  const device = text(info?.device);
  const description = text(info?.description);
  const isFallbackAdapter = Boolean(info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const names = `${vendor} ${architecture} ${device} ${description}`;
  return {
    vendor,
    architecture,
    device,
    description,
    isFallbackAdapter,
    software: isFallbackAdapter || SOFTWARE_NAMES.test(names),
    features: [...adapter.features].sort(),
    limits: {
      maxBufferSize: limitOf(adapter, 'maxBufferSize'),
      maxStorageBufferBindingSize: limitOf(adapter, 'maxStorageBufferBindingSize'),
      maxComputeWorkgroupStorageSize: limitOf(adapter, 'maxComputeWorkgroupStorageSize'),
      maxComputeInvocationsPerWorkgroup: limitOf(adapter, 'maxComputeInvocationsPerWorkgroup'),
    },
  };
}

/** One log line for an adapter report. */
export function adapterSummary(report: WebGpuAdapterReport, runtime: string): string {
  const name =
    [report.vendor, report.architecture, report.device, report.description]
      .filter((s) => s.length > 0)
      .join(' ') || 'unnamed adapter';
  const kind = report.isFallbackAdapter
    ? ', software fallback adapter'
    : report.software
      ? ', software adapter'
      : '';
  return `webgpu (${runtime}): ${name}${kind}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let current: { device: GpuDeviceLike; release?: () => void; session?: WebGpuSession } | undefined;

/** The live session set up by the last `initWebGpu` (undefined before it, or after dispose). */
export function activeWebGpuSession(): WebGpuSession | undefined {
  return current?.session;
}

/** The part of tfjs' WebGPU backend that a synchronous read goes through. */
interface SyncReadable {
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values?: unknown; dtype?: string } | undefined };
}

const SYNC_READ_NO_CANVAS =
  'tensor.dataSync() / arraySync() of a tensor held by the GPU needs a synchronous GPU read, ' +
  'which this runtime cannot do (tfjs reads WebGPU buffers synchronously only through ' +
  'OffscreenCanvas). Read it with `await tensor.data()` / `await tensor.array()` instead.';

const SYNC_READ_FALLBACK =
  "tensor.dataSync() / arraySync() of a tensor held by the GPU does not work on the browser's " +
  'software fallback adapter: tfjs reads WebGPU data synchronously through an OffscreenCanvas, ' +
  'which on SwiftShader returns zeros and loses the device (measured in Chromium 156). Read it ' +
  'with `await tensor.data()` / `await tensor.array()`, use a browser with a hardware GPU, or ' +
  'train on the wasm or cpu backend.';

/**
 * Why a synchronous read of GPU data cannot work on this runtime and adapter, or undefined where
 * tfjs' synchronous read (through OffscreenCanvas) works.
 */
export function syncReadProblem(
  report: Pick<WebGpuAdapterReport, 'isFallbackAdapter'>,
  hints: Pick<RuntimeHints, 'runtime' | 'syncRead'>,
): string | undefined {
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined') {
    return hints.syncRead ?? SYNC_READ_NO_CANVAS;
  }
  if (hints.runtime === 'browser' && report.isFallbackAdapter) return SYNC_READ_FALLBACK;
  return undefined;
}

/**
 * Makes a synchronous read of GPU-only data throw CsqError CSQ_WEBGPU_SYNC_READ with `message`
 * (instead of tfjs' "OffscreenCanvas is not defined" in Node, or zeros and a lost device on a
 * software fallback adapter). Data already on the CPU is still returned.
 */
function guardSyncReads(backend: SyncReadable, message: string): void {
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (data?.values != null || data?.dtype === 'string') return readSync(dataId);
    throw new CsqError('CSQ_WEBGPU_SYNC_READ', message);
  };
}

function releaseCurrent(): void {
  const prev = current;
  current = undefined;
  if (!prev) return;
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  try {
    prev.device.destroy();
  } catch {
    // A device that is already lost or destroyed has nothing left to free.
  }
  prev.release?.();
}

/**
 * Sets up the tfjs WebGPU backend on `gpu` (a browser's `navigator.gpu` or Dawn's GPU object):
 * requests an adapter and a device with the adapter's full buffer limits, registers the
 * backend under 'webgpu' (replacing an earlier one) and, by default, makes it the active
 * backend. Entry points call this with their runtime's hints; users call `initWebGpu`.
 */
export async function initWebGpuWith(
  gpu: GpuLike | undefined,
  opts: InitWebGpuOptions,
  hints: RuntimeHints,
): Promise<WebGpuSession> {
  const fail = (code: string, msg: string): never => {
    hints.release?.();
    throw new CsqError(code, msg);
  };
  if (!gpu || typeof gpu.requestAdapter !== 'function') fail('CSQ_NO_WEBGPU', hints.noGpu);
  const webgpu = gpu as GpuLike;

  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await webgpu.requestAdapter({
      powerPreference: opts.powerPreference ?? 'high-performance',
      ...(opts.forceFallbackAdapter ? { forceFallbackAdapter: true } : {}),
    });
  } catch (e) {
    fail(
      'CSQ_NO_GPU_ADAPTER',
      `requesting a WebGPU adapter failed (${message(e)}). ${hints.noAdapter()}`,
    );
  }
  if (!adapter) {
    return fail('CSQ_NO_GPU_ADAPTER', `WebGPU found no adapter. ${hints.noAdapter()}`);
  }

  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) =>
    adapter.features.has(f),
  );
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_TO_REQUEST) {
    const v = limitOf(adapter, name);
    if (v > 0) requiredLimits[name] = v;
  }
  let device: GpuDeviceLike | undefined;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    fail(
      'CSQ_WEBGPU_DEVICE_FAILED',
      `the WebGPU adapter refused to create a device (${message(e)}). Close other tabs or ` +
        'programs using the GPU and retry, or train on another backend (wasm or cpu).',
    );
  }
  const gpuDevice = device as GpuDeviceLike;
  const report = await describeAdapter(adapter);

  // One WebGPU backend at a time: a second init replaces the first (and frees its device).
  releaseCurrent();
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
  current = { device: gpuDevice, ...(hints.release ? { release: hints.release } : {}) };
  const mine = current;
  gpuDevice.lost?.then((info) => {
    if (current === mine && info?.reason !== 'destroyed') {
      console.warn(
        `csq: the WebGPU device was lost (${info?.message ?? 'no reason given'}); ` +
          'call initWebGpu() again to continue on a new device.',
      );
    }
  });
  const adapterInfo = adapter.info;
  const syncProblem = syncReadProblem(report, hints);
  tf.registerBackend(
    WEBGPU_BACKEND,
    () => {
      // biome-ignore lint/suspicious/noExplicitAny: tfjs types the device with @webgpu/types globals.
      const backend = new WebGPUBackend(gpuDevice as any, adapterInfo as any);
      if (syncProblem) guardSyncReads(backend as unknown as SyncReadable, syncProblem);
      return backend;
    },
    3,
  );
  if (opts.cpuForward !== undefined) tf.env().set('WEBGPU_CPU_FORWARD', opts.cpuForward);

  if (opts.setBackend ?? true) {
    let ok = false;
    let why = '';
    try {
      ok = await tf.setBackend(WEBGPU_BACKEND);
    } catch (e) {
      why = ` (${message(e)})`;
    }
    if (!ok) {
      releaseCurrent();
      throw new CsqError(
        'CSQ_WEBGPU_BACKEND_FAILED',
        `tfjs could not start its WebGPU backend on ${adapterSummary(report, hints.runtime)}${why}. ` +
          'Check that @tensorflow/tfjs-backend-webgpu and @tensorflow/tfjs are both 4.22.x ' +
          '(one copy each), or train on another backend (wasm or cpu).',
      );
    }
    await tf.ready();
  }

  const session: WebGpuSession = {
    backend: WEBGPU_BACKEND,
    runtime: hints.runtime,
    adapter: report,
    summary: adapterSummary(report, hints.runtime),
    ...(syncProblem ? { syncReadProblem: syncProblem } : {}),
    dispose: () => {
      if (current === mine) releaseCurrent();
    },
  };
  mine.session = session;
  return session;
}
