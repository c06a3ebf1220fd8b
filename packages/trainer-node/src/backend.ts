/**
 * Backend selection in Node: tfjs-node-gpu, then tfjs-node, then wasm, then cpu (or the one
 * asked for), saying which one was taken and why each faster one was not.
 */
import { createRequire } from 'node:module';
import { isCsqWasmKernel, registerWasmTrainingKernels } from '@csq/backend-wasm-kernels';
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** The backends csq can train on in Node, fastest first. */
export const NODE_BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
/** One of {@link NODE_BACKENDS}. */
export type NodeBackendName = (typeof NODE_BACKENDS)[number];
/** What {@link selectBackend} accepts: a backend, or 'auto' for the fastest one present. */
export type BackendChoice = NodeBackendName | 'auto';

/** One backend that selectBackend tried, and why it was or was not taken. */
export interface BackendAttempt {
  name: NodeBackendName;
  ok: boolean;
  reason: string;
}

/** The outcome of {@link selectBackend}. */
export interface BackendSelection {
  /** The backend now active. */
  name: NodeBackendName;
  /** The tfjs backend name behind it ('tensorflow', 'wasm' or 'cpu'). */
  tfjsBackend: string;
  /** Every backend tried, in order, the chosen one last. */
  tried: BackendAttempt[];
  /** Every detail: what was taken, and why each faster one was not (with how to get it). */
  message: string;
  /** One short line: what was taken, and the names of the faster ones not used. */
  summary: string;
}

/** Makes a backend's package importable and registered; throws if it cannot. */
export type BackendLoader = () => Promise<void>;

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** 'auto' (default) or one backend; an explicit one that is unavailable throws. */
  backend?: BackendChoice | string;
  /** Replaces the package loaders (for tests and custom setups). */
  loaders?: Partial<Record<NodeBackendName, BackendLoader>>;
}

const TFJS_NAME: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': 'tensorflow',
  'tfjs-node': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const PACKAGE: Record<NodeBackendName, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

/** How to get each backend, for messages. */
export function installHint(name: NodeBackendName): string {
  const v = tf.version.tfjs;
  switch (name) {
    case 'tfjs-node-gpu':
      return (
        `npm install @tensorflow/tfjs-node-gpu@${v} (Linux x86-64 or Windows with an NVIDIA GPU, ` +
        'driver >= 450, CUDA 11.2 and cuDNN 8.1 on the library path; its install script downloads ' +
        'libtensorflow 2.9.1 with GPU support)'
      );
    case 'tfjs-node':
      return (
        `npm install @tensorflow/tfjs-node@${v} (prebuilt for Linux x86-64/arm64, macOS and ` +
        'Windows; its install script downloads libtensorflow 2.9.1)'
      );
    case 'wasm':
      return `npm install @tensorflow/tfjs-backend-wasm@${v}`;
    case 'cpu':
      return `npm install @tensorflow/tfjs@${v}`;
  }
}

/** True when `err` says that `pkg` itself (not something inside it) cannot be found. */
export function isNotInstalledError(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    (message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`))
  );
}

/** Loads an optional native package: resolves it first, so "not installed" is told apart. */
function nativeLoader(pkg: string): BackendLoader {
  return async () => {
    createRequire(import.meta.url).resolve(pkg); // throws MODULE_NOT_FOUND when absent
    await import(/* @vite-ignore */ pkg);
  };
}

const DEFAULT_LOADERS: Record<NodeBackendName, BackendLoader> = {
  'tfjs-node-gpu': nativeLoader('@tensorflow/tfjs-node-gpu'),
  'tfjs-node': nativeLoader('@tensorflow/tfjs-node'),
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
  },
  cpu: async () => {},
};

function firstLines(message: string, n = 3): string {
  return message.split('\n').slice(0, n).join(' ').trim();
}

function isNodeBackend(name: string): name is NodeBackendName {
  return (NODE_BACKENDS as readonly string[]).includes(name);
}

/** Loads and activates one backend; returns the attempt (never throws). */
async function attempt(
  name: NodeBackendName,
  loader: BackendLoader,
  activate: boolean,
): Promise<BackendAttempt> {
  const pkg = PACKAGE[name];
  try {
    await loader();
  } catch (err) {
    if (isNotInstalledError(err, pkg)) {
      return { name, ok: false, reason: `not installed; to use it: ${installHint(name)}` };
    }
    const msg = firstLines(err instanceof Error ? err.message : String(err));
    return { name, ok: false, reason: `${pkg} is installed but failed to load: ${msg}` };
  }
  const tfjsName = TFJS_NAME[name];
  if (tf.findBackendFactory(tfjsName) == null) {
    return {
      name,
      ok: false,
      reason:
        `${pkg} loaded but registered no "${tfjsName}" backend with this copy of ` +
        `@tensorflow/tfjs; install matching versions (all @tensorflow/* at ${tf.version.tfjs}).`,
    };
  }
  if (!activate) return { name, ok: true, reason: 'available' };
  let ok = false;
  let why = '';
  try {
    ok = await tf.setBackend(tfjsName);
    await tf.ready();
  } catch (err) {
    why = `: ${firstLines(err instanceof Error ? err.message : String(err))}`;
  }
  if (!ok) return { name, ok: false, reason: `${pkg} loaded but failed to initialise${why}` };
  return { name, ok: true, reason: describeActive(name) };
}

function describeActive(name: NodeBackendName): string {
  if (name === 'tfjs-node-gpu') {
    const b = tf.backend() as { isUsingGpuDevice?: boolean };
    return b.isUsingGpuDevice === false
      ? 'loaded, but TensorFlow sees no CUDA GPU and runs on the CPU (check the driver, CUDA 11.2 and cuDNN 8.1)'
      : 'native TensorFlow with CUDA';
  }
  if (name === 'tfjs-node') return 'native TensorFlow on the CPU';
  if (name === 'wasm') return 'WebAssembly (XNNPACK) with the csq training kernels';
  return 'plain JavaScript (slowest)';
}

function summarise(name: NodeBackendName, tried: BackendAttempt[]): string {
  const skipped = tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason}`);
  const chosen = tried.find((t) => t.ok && t.name === name);
  return (
    `using ${name} (${chosen?.reason ?? 'selected'})` +
    (skipped.length ? `; not used: ${skipped.join('; ')}` : '')
  );
}

function shortSummary(name: NodeBackendName, tried: BackendAttempt[]): string {
  const chosen = tried.find((t) => t.ok && t.name === name);
  const missing = tried.filter((t) => !t.ok && t.reason.startsWith('not installed'));
  const failed = tried.filter((t) => !t.ok && !t.reason.startsWith('not installed'));
  const notes = [
    ...(missing.length ? [`${missing.map((t) => t.name).join(', ')} not installed`] : []),
    ...(failed.length ? [`${failed.map((t) => t.name).join(', ')} failed to start`] : []),
  ];
  return `backend ${name} (${chosen?.reason ?? 'selected'})${notes.length ? `; ${notes.join('; ')}` : ''}`;
}

/**
 * Picks and activates the tfjs backend to train on: with 'auto' (default) the first that works
 * of tfjs-node-gpu, tfjs-node, wasm, cpu; otherwise exactly the one asked for, throwing a
 * CsqError (CSQ_UNKNOWN_BACKEND / CSQ_BACKEND_UNAVAILABLE) that lists what is available and how
 * to get the one asked for. Returns the backend taken and why each one before it was not.
 */
export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendSelection> {
  const choice = opts.backend ?? 'auto';
  const loaders = { ...DEFAULT_LOADERS, ...opts.loaders };
  if (choice !== 'auto' && !isNodeBackend(choice)) {
    const webgpu = /webgpu/i.test(choice) ? ' For WebGPU use @csq/trainer-webgpu.' : '';
    throw new CsqError(
      'CSQ_UNKNOWN_BACKEND',
      `unknown backend "${choice}"; choose one of auto, ${NODE_BACKENDS.join(', ')}.${webgpu}`,
    );
  }
  const order: NodeBackendName[] = choice === 'auto' ? [...NODE_BACKENDS] : [choice];
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    const result = await attempt(name, loaders[name], true);
    tried.push(result);
    if (result.ok)
      return {
        name,
        tfjsBackend: TFJS_NAME[name],
        tried,
        message: summarise(name, tried),
        summary: shortSummary(name, tried),
      };
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
  throw new CsqError(
    'CSQ_BACKEND_UNAVAILABLE',
    `backend "${choice}" is not available: ${tried[0]!.reason}. ` +
      `Available here: ${available.length ? available.join(', ') : 'none'}. ` +
      `To get ${choice}: ${installHint(choice)}; or pass backend: 'auto'.`,
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
  } else {
    out.text = `${name} (tfjs ${out.tfjsVersion})`;
  }
  return out;
}
