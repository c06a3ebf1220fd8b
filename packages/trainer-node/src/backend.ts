/**
 * Backend selection in Node: tfjs-node-gpu, then WebGPU on a hardware adapter (through the
 * optional `@csq/trainer-webgpu`), then tfjs-node, wasm, cpu (or the one asked for), saying in
 * one line which one was taken and why each faster one was not, with the full reasons beside.
 */
import { createRequire } from 'node:module';
import { isCsqWasmKernel, registerWasmTrainingKernels } from '@csq/backend-wasm-kernels';
import { enableWasmThreads, resolveWasmThreads } from '@csq/backend-wasm-kernels/node';
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import {
  installHint,
  NODE_BACKENDS,
  type NodeBackendName,
  PACKAGE,
  TFJS_NAME,
} from './backend-hints.js';

export { installHint, NODE_BACKENDS, type NodeBackendName } from './backend-hints.js';

/** What {@link selectBackend} accepts: a backend, or 'auto' for the fastest one present. */
export type BackendChoice = NodeBackendName | 'auto';

/** One backend that selectBackend tried, and why it was or was not taken. */
export interface BackendAttempt {
  name: NodeBackendName;
  ok: boolean;
  /** The full reason, with what to install or set. */
  reason: string;
  /** A few words for the one-line message, e.g. "not installed", "no Vulkan driver (ICD)". */
  short: string;
}

/** The outcome of {@link selectBackend}. */
export interface BackendSelection {
  /** The backend now active. */
  name: NodeBackendName;
  /** The tfjs backend name behind it ('tensorflow', 'webgpu', 'wasm' or 'cpu'). */
  tfjsBackend: string;
  /** Every backend tried, in order, the chosen one last. */
  tried: BackendAttempt[];
  /** One line for logs: what was taken and, in a few words, why the faster ones were not. */
  message: string;
  /** The same, one line per backend tried, with the full reasons and fixes. */
  details: string;
}

/**
 * Makes a backend's package importable and its tfjs backend registered; throws if it cannot.
 * It may return what it set up: `detail` describes it (e.g. the GPU adapter), `release` frees it
 * when the backend is only probed or fails to start. A thrown error's `short` string property,
 * when present, is used as the few-word reason.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a loader that sets nothing up returns nothing.
export type BackendLoader = () => Promise<LoadedBackend | undefined | void>;

/** What a {@link BackendLoader} may return. */
export interface LoadedBackend {
  detail?: string;
  release?: () => void;
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** 'auto' (default) or one backend; an explicit one that is unavailable throws. */
  backend?: BackendChoice | string;
  /**
   * Let WebGPU run on a software adapter (SwiftShader, lavapipe: WebGPU on the CPU, 10 to 100
   * times slower than wasm). Default: with backend 'webgpu', CSQ_WEBGPU_ALLOW_SOFTWARE=1 in the
   * environment; with 'auto', false (the automatic choice never takes a software adapter).
   */
  allowSoftwareAdapter?: boolean;
  /**
   * Threads for the wasm backend (1 = the single-thread build). Default: `CSQ_WASM_THREADS`, else
   * `os.availableParallelism()`; an earlier `enableWasmThreads({ threads })` is kept when unset.
   * Fixed once wasm has started in this thread.
   */
  threads?: number;
  /** Replaces the package loaders (for tests and custom setups). */
  loaders?: Partial<Record<NodeBackendName, BackendLoader>>;
}

/** True when `err` says that `pkg` itself (not something inside it) cannot be found. */
export function isNotInstalledError(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    [`'${pkg}'`, `"${pkg}"`, `'${pkg}/package.json'`].some((q) => message.includes(q))
  );
}

/** Loads an optional native package: resolves it first, so "not installed" is told apart. */
function nativeLoader(pkg: string): BackendLoader {
  return async () => {
    createRequire(import.meta.url).resolve(pkg); // throws MODULE_NOT_FOUND when absent
    await import(/* @vite-ignore */ pkg);
  };
}

/** The part of `@csq/trainer-webgpu/node` this package uses (typed here: an optional peer). */
interface WebGpuEntry {
  loadNodeWebGpuBackend(opts: { allowSoftware?: boolean }): Promise<{
    summary: string;
    dispose(): void;
  }>;
}

const WEBGPU_ENTRY = '@csq/trainer-webgpu/node';

/**
 * The WebGPU loader: `@csq/trainer-webgpu` (an optional peer, the only package that names the
 * tfjs WebGPU backend and Dawn) sets the backend up on a hardware adapter, or refuses and says
 * why in a few words (no Vulkan loader or driver, software adapter only, no Dawn).
 */
export function webGpuLoader(allowSoftware?: boolean): BackendLoader {
  return async () => {
    createRequire(import.meta.url).resolve('@csq/trainer-webgpu/package.json');
    const entry = (await import(/* @vite-ignore */ WEBGPU_ENTRY)) as WebGpuEntry;
    const session = await entry.loadNodeWebGpuBackend(
      allowSoftware === undefined ? {} : { allowSoftware },
    );
    return {
      detail: session.summary.replace(/^webgpu \(node\): /, 'WebGPU (Dawn) on '),
      release: () => session.dispose(),
    };
  };
}

function defaultLoaders(opts: SelectBackendOptions): Record<NodeBackendName, BackendLoader> {
  return {
    'tfjs-node-gpu': nativeLoader('@tensorflow/tfjs-node-gpu'),
    // 'auto' never takes a software adapter unless told so in code; an explicit 'webgpu' also
    // takes it with CSQ_WEBGPU_ALLOW_SOFTWARE=1 (the loader's default)
    webgpu: webGpuLoader(
      opts.allowSoftwareAdapter ?? (opts.backend === 'webgpu' ? undefined : false),
    ),
    'tfjs-node': nativeLoader('@tensorflow/tfjs-node'),
    wasm: async () => {
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels();
      // --threads, else CSQ_WASM_THREADS or every core; keeps an earlier enableWasmThreads({ threads })
      enableWasmThreads(opts.threads !== undefined ? { threads: opts.threads } : {});
    },
    cpu: async () => {},
  };
}

function firstLines(message: string, n = 3): string {
  return message.split('\n').slice(0, n).join(' ').trim();
}

function clip(text: string, max = 72): string {
  const one = text.split('\n')[0]!.trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

function isNodeBackend(name: string): name is NodeBackendName {
  return (NODE_BACKENDS as readonly string[]).includes(name);
}

type Attempt = BackendAttempt & { release?: () => void; cpuOnly?: boolean };

/** Loads and activates one backend; returns the attempt (never throws). */
async function attempt(
  name: NodeBackendName,
  loader: BackendLoader,
  activate: boolean,
): Promise<Attempt> {
  const pkg = PACKAGE[name];
  let loaded: LoadedBackend | undefined;
  try {
    loaded = (await loader()) ?? undefined;
  } catch (err) {
    if (isNotInstalledError(err, pkg)) {
      const reason = `not installed; to use it: ${installHint(name)}`;
      return { name, ok: false, reason, short: 'not installed' };
    }
    const msg = firstLines(err instanceof Error ? err.message : String(err));
    const given = (err as { short?: unknown } | null)?.short;
    const short = typeof given === 'string' ? given : `failed to load: ${clip(msg, 56)}`;
    const reason =
      typeof given === 'string' ? msg : `${pkg} is installed but failed to load: ${msg}`;
    return { name, ok: false, reason, short };
  }
  const release = loaded?.release;
  const fail = (reason: string, short: string): Attempt => {
    release?.();
    return { name, ok: false, reason, short };
  };
  const tfjsName = TFJS_NAME[name];
  if (tf.findBackendFactory(tfjsName) == null) {
    return fail(
      `${pkg} loaded but registered no "${tfjsName}" backend with this copy of ` +
        `@tensorflow/tfjs; install matching versions (all @tensorflow/* at ${tf.version.tfjs}).`,
      'registered no backend (version mismatch?)',
    );
  }
  if (!activate) {
    release?.();
    return { name, ok: true, reason: 'available', short: 'available' };
  }
  let ok = false;
  let why = '';
  try {
    ok = await tf.setBackend(tfjsName);
    await tf.ready();
  } catch (err) {
    why = `: ${firstLines(err instanceof Error ? err.message : String(err))}`;
  }
  if (!ok) return fail(`${pkg} loaded but failed to initialise${why}`, 'failed to initialise');
  if (
    name === 'tfjs-node-gpu' &&
    (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === false
  ) {
    return {
      name,
      ok: true,
      cpuOnly: true,
      reason:
        'loaded, but TensorFlow sees no CUDA GPU and runs on the CPU: tfjs-node-gpu 4.22 needs ' +
        'libcudart.so.11.0 (CUDA 11.2) and cuDNN 8.1 on the library path and an NVIDIA driver ' +
        '>= 450 (csq doctor lists the CUDA libraries found)',
      short: 'no CUDA GPU (CUDA 11.2/cuDNN 8.1 libraries?)',
    };
  }
  return { name, ok: true, reason: loaded?.detail ?? describeActive(name), short: '' };
}

function describeActive(name: NodeBackendName): string {
  if (name === 'tfjs-node-gpu') return 'native TensorFlow with CUDA';
  if (name === 'tfjs-node') return 'native TensorFlow on the CPU';
  if (name === 'webgpu') return 'WebGPU';
  if (name === 'wasm') return 'WebAssembly (XNNPACK) with the csq training kernels';
  return 'plain JavaScript (slowest)';
}

function summarise(name: NodeBackendName, tried: BackendAttempt[]): BackendSelection {
  const chosen = tried[tried.length - 1]!;
  const skipped = tried.filter((t) => t !== chosen).map((t) => `${t.name} (${t.short})`);
  const message =
    `using ${name} (${chosen.reason})` +
    (skipped.length ? `; not used: ${skipped.join(', ')}` : '');
  const details = tried
    .map((t) => `${t === chosen ? 'using   ' : 'not used'} ${t.name}: ${t.reason}`)
    .join('\n');
  return { name, tfjsBackend: TFJS_NAME[name], tried, message, details };
}

/**
 * Picks and activates the tfjs backend to train on: with 'auto' (default) the first that works
 * of tfjs-node-gpu (on a CUDA GPU), WebGPU (on a hardware adapter), tfjs-node, wasm, cpu;
 * otherwise exactly the one asked for, throwing a CsqError (CSQ_UNKNOWN_BACKEND /
 * CSQ_BACKEND_UNAVAILABLE) that lists what is available and how to get the one asked for.
 * Returns the backend taken and why each one before it was not (`message`: one line;
 * `details`: the full reasons and fixes).
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendSelection> {
  const choice = opts.backend ?? 'auto';
  if (opts.threads !== undefined) resolveWasmThreads({ threads: opts.threads }); // a bad count throws
  const loaders = { ...defaultLoaders(opts), ...opts.loaders };
  if (choice !== 'auto' && !isNodeBackend(choice)) {
    throw new CsqError(
      'CSQ_UNKNOWN_BACKEND',
      `unknown backend "${choice}"; choose one of auto, ${NODE_BACKENDS.join(', ')}.`,
    );
  }
  const order: NodeBackendName[] = choice === 'auto' ? [...NODE_BACKENDS] : [choice];
  const tried: BackendAttempt[] = [];
  // tfjs-node-gpu without a CUDA GPU is TensorFlow on the CPU: kept for the tfjs-node slot
  let cpuTensorflow: Attempt | undefined;
  for (const name of order) {
    if (name === 'tfjs-node' && cpuTensorflow) {
      await tf.setBackend('tensorflow');
      tried.push({
        name: 'tfjs-node-gpu',
        ok: true,
        reason: 'native TensorFlow on the CPU (tfjs-node-gpu found no CUDA GPU)',
        short: '',
      });
      return summarise('tfjs-node-gpu', tried);
    }
    const { release: _r, cpuOnly, ...result } = await attempt(name, loaders[name], true);
    if (cpuOnly && choice === 'auto') {
      cpuTensorflow = { ...result, ok: false };
      tried.push(cpuTensorflow);
      continue;
    }
    tried.push(result);
    if (result.ok) return summarise(name, tried);
  }
  if (choice === 'auto') {
    throw new CsqError(
      'CSQ_BACKEND_UNAVAILABLE',
      `no tfjs backend could be started: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}.`,
    );
  }
  // explicit choice failed: say what would work here and how to get the one asked for
  const before = tf.getBackend();
  const available: NodeBackendName[] = [];
  for (const name of NODE_BACKENDS) {
    if (name === choice) continue;
    if ((await attempt(name, loaders[name], false)).ok) available.push(name);
  }
  if (before && tf.getBackend() !== before) await tf.setBackend(before);
  const first = tried[0]!;
  const fix =
    first.short === 'not installed'
      ? `To get ${choice}: ${installHint(choice)}; or pass backend: 'auto'.`
      : "Fix what is named above, or pass backend: 'auto'.";
  throw new CsqError(
    'CSQ_BACKEND_UNAVAILABLE',
    `backend "${choice}" is not available: ${first.reason.replace(/\.$/, '')}. ` +
      `Available here: ${available.length ? available.join(', ') : 'none'}. ${fix}`,
  );
}

/** What {@link describeBackend} reports. */
export interface BackendDescription {
  /** The active tfjs backend ('tensorflow', 'wasm', 'cpu', ...). */
  name: string;
  /** @tensorflow/tfjs version. */
  tfjsVersion: string;
  /** For 'tensorflow': whether the GPU package is loaded and TensorFlow uses a GPU. */
  native?: { gpuPackage: boolean; usingGpu: boolean };
  /** For 'wasm': SIMD and threads in use, and whether the csq training kernels are registered. */
  wasm?: { simd: boolean; threads: boolean; threadsCount: number; trainingKernels: boolean };
  /** One line for logs. */
  text: string;
}

/** Describes the active backend for logs (name, wasm SIMD/threads, native GPU use). */
export async function describeBackend(): Promise<BackendDescription> {
  await tf.ready();
  const name = tf.getBackend();
  const out: BackendDescription = { name, tfjsVersion: tf.version.tfjs, text: '' };
  if (name === 'wasm') {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    out.wasm = {
      simd,
      threads,
      threadsCount: threads ? getThreadsCount() : 1,
      trainingKernels: isCsqWasmKernel('Conv2DBackpropFilter'),
    };
    out.text =
      `wasm (tfjs ${out.tfjsVersion}; SIMD ${simd ? 'on' : 'off'}; threads ` +
      `${threads ? out.wasm.threadsCount : 'off'}; csq training kernels ` +
      `${out.wasm.trainingKernels ? 'registered' : 'MISSING'})`;
  } else if (name === 'tensorflow') {
    const b = tf.backend() as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean };
    out.native = { gpuPackage: Boolean(b.isGPUPackage), usingGpu: Boolean(b.isUsingGpuDevice) };
    out.text =
      `tensorflow (${out.native.gpuPackage ? 'tfjs-node-gpu' : 'tfjs-node'}, tfjs ` +
      `${out.tfjsVersion}; ${out.native.usingGpu ? 'on a CUDA GPU' : 'on the CPU'})`;
  } else if (name === 'webgpu') {
    const b = tf.backend() as { adapterInfo?: { vendor?: string; architecture?: string } };
    const a = [b.adapterInfo?.vendor, b.adapterInfo?.architecture].filter(Boolean).join(' ');
    out.text = `webgpu (tfjs ${out.tfjsVersion}; Dawn${a ? `, ${a}` : ''})`;
  } else {
    out.text = `${name} (tfjs ${out.tfjsVersion})`;
  }
  return out;
}
