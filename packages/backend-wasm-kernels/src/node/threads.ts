/**
 * tfjs-backend-wasm's threaded build in Node. tfjs-backend-wasm 4.22 turns it off there
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false when `IS_NODE`, tfjs issue 3830): its pthread workers
 * are started from a blob: URL, which `worker_threads` cannot load, and its worker evaluates the
 * bundled factory's source, which does not run outside the bundle. {@link enableWasmThreads}
 * wraps the registered 'wasm' backend factory so that, when the backend initialises, it:
 * - sets the flag, and installs a `Worker` global backed by `worker_threads` that starts the
 *   emscripten worker script of the package's `wasm-out/` (which has its own Node adapter:
 *   `self`, `postMessage`, `importScripts`) and loads the unbundled factory from `wasm-out/`;
 * - asks for the thread count with `setThreadsCount`, lifting the build's cap of half the
 *   logical cores (it reads `os.cpus()`, which is widened for the duration of the init);
 * - falls back to the single-thread build, saying why, when a worker fails or the init stalls.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { resolveWasmThreads, type WasmThreadsOptions } from './thread-count.js';

/** What {@link enableWasmThreads} arranged (final once the wasm backend has initialised). */
export interface WasmThreadsSetup {
  /** Threads asked for (option, `CSQ_WASM_THREADS`, or `os.availableParallelism()`). */
  requested: number;
  /** Where `requested` came from. */
  source: 'option' | 'env' | 'default';
  /** True when the threaded build runs (or will run, before the backend initialises). */
  threaded: boolean;
  /** Why the threaded build is not used (empty when it is). */
  reason: string;
  /** Resolves after the wasm backend initialised: the thread count in use, and the outcome. */
  ready: Promise<{ threads: number; threaded: boolean; reason: string }>;
}

const require_ = createRequire(import.meta.url);
const WASM_PRIORITY = 2; // tfjs-backend-wasm registers 'wasm' with priority 2
const WRAPPED = Symbol.for('csq.wasmThreadsFactory');

/** The emscripten worker script and unbundled factory of the installed tfjs-backend-wasm. */
function wasmOut(): { workerSource: string; factoryPath: string } {
  const dir = path.dirname(require_.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const factoryPath = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require_(
    path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };
  // the template literal holds real newlines inside JS strings (tfjs escapes them the same way)
  const workerSource =
    `${wasmWorkerContents.replace(/\n/g, '\\n')};\n` +
    `global.importScripts = function () { global.WasmBackendModuleThreadedSimd = require(${JSON.stringify(factoryPath)}); };`;
  return { workerSource, factoryPath };
}

/** Why this process cannot run the threaded build, or '' when it can (cheap checks). */
function threadsUnsupported(): string {
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this engine has no shared WebAssembly memory (wasm threads)';
  }
  return '';
}

/** Workers started for the threaded build, and a hook that reports their failures. */
const started = new Set<NodeWorker>();
let onWorkerFailure: ((why: string) => void) | null = null;
/** The latest setup (returned again to calls that do not ask for a count). */
let pending: WasmThreadsSetup | null = null;

function installWorkerGlobal(workerSource: string): void {
  class PthreadWorker extends NodeWorker {
    constructor() {
      super(workerSource, { eval: true });
      this.unref(); // the pool's idle workers must not keep the process alive
      started.add(this);
      this.once('error', (e) => onWorkerFailure?.(`a pthread worker failed: ${String(e)}`));
      this.once('exit', () => started.delete(this));
    }
    // emscripten refs a worker while its pthread runs, and XNNPACK's pool threads run for good:
    // that would keep the process alive forever. Kernels wait for their threads synchronously,
    // so unreferenced workers lose nothing.
    override ref(): void {}
    // the bundled factory's source (a Blob) does not run in a worker: the script loads wasm-out's
    override postMessage(msg: unknown, transfer?: readonly never[]): void {
      const m = msg as { cmd?: string; urlOrBlob?: unknown } | null;
      const out =
        m?.cmd === 'load' && typeof m.urlOrBlob !== 'string' ? { ...m, urlOrBlob: 'csq' } : msg;
      super.postMessage(out, transfer);
    }
  }
  // emscripten assigns `global.Worker = worker_threads.Worker` when its factory runs: keep ours
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => {},
  });
}

/**
 * Makes `os.cpus()` report `2 * threads` cores (the build uses half of them) until the returned
 * function is called.
 */
function widenCores(threads: number): () => void {
  const cpus = os.cpus;
  const real = cpus.call(os);
  const one = real[0] ?? {
    model: 'cpu',
    speed: 0,
    times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 },
  };
  os.cpus = () =>
    Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i] ?? one);
  return () => {
    os.cpus = cpus;
  };
}

type Factory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** Whether the 'wasm' backend has started (not tf.findBackend: that starts it). */
function wasmStarted(): boolean {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm != null;
}

function restoreFactory(): void {
  const current = tf.findBackendFactory('wasm');
  const original = current && (current as unknown as Record<symbol, Factory>)[WRAPPED];
  if (original && !wasmStarted()) {
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', original, WASM_PRIORITY);
  }
}

/**
 * Turns tfjs-backend-wasm's threaded build on for this Node process, before the 'wasm' backend
 * initialises (call it, then `tf.setBackend('wasm')`). Threads: `options.threads`, else
 * `CSQ_WASM_THREADS`, else `os.availableParallelism()`; 1 keeps the single-thread build. Never
 * throws for an environment that cannot run threads: the result says why and the backend starts
 * single-threaded (a bad thread count throws CsqError CSQ_BAD_WASM_THREADS).
 */
export function enableWasmThreads(options: WasmThreadsOptions = {}): WasmThreadsSetup {
  const explicit = options.threads !== undefined || options.env !== undefined;
  // a later call without a count (e.g. the backend loader) keeps what an earlier one arranged
  if (pending && (wasmStarted() || !explicit)) return pending;
  const { threads: requested, source } = resolveWasmThreads(options);
  const single = (reason: string): WasmThreadsSetup => {
    pending = {
      requested,
      source,
      threaded: false,
      reason,
      ready: Promise.resolve({ threads: 1, threaded: false, reason }),
    };
    return pending;
  };
  if (requested === 1) {
    restoreFactory(); // undo an earlier enableWasmThreads, if the backend has not started yet
    return single(`1 thread asked for (${source})`);
  }
  const unsupported = threadsUnsupported();
  if (unsupported) return single(unsupported);
  const current = tf.findBackendFactory('wasm') as Factory | null;
  if (current == null)
    return single('the wasm backend is not registered (import @tensorflow/tfjs-backend-wasm)');
  if (wasmStarted()) return single('the wasm backend was already initialised');
  const original = ((current as unknown as Record<symbol, Factory>)[WRAPPED] ?? current) as Factory;
  let source_: { workerSource: string; factoryPath: string };
  try {
    source_ = wasmOut();
  } catch (e) {
    return single(`tfjs-backend-wasm's wasm-out/ threaded files are missing: ${String(e)}`);
  }
  const timeoutMs = options.timeoutMs ?? 120_000;
  let settle!: (r: { threads: number; threaded: boolean; reason: string }) => void;
  const ready = new Promise<{ threads: number; threaded: boolean; reason: string }>((r) => {
    settle = r;
  });
  const setup: WasmThreadsSetup = { requested, source, threaded: true, reason: '', ready };
  const warn =
    options.onFallback ?? ((why: string) => console.warn(`csq: wasm runs single-threaded: ${why}`));

  const fallBack = async (why: string): Promise<tf.KernelBackend> => {
    for (const w of started) void w.terminate();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setup.threaded = false;
    setup.reason = why;
    warn(why);
    const backend = await original();
    settle({ threads: 1, threaded: false, reason: why });
    return backend;
  };

  const wrapped: Factory = async () => {
    installWorkerGlobal(source_.workerSource);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    setThreadsCount(requested);
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<string>((resolve) => {
      onWorkerFailure = resolve;
      timer = setTimeout(
        () => resolve(`the threaded build did not start within ${timeoutMs} ms`),
        timeoutMs,
      );
      timer.unref();
    });
    const restoreCores = widenCores(requested);
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(original)
          .then(
            (b) => ({ b }),
            (e: unknown) => ({ e }),
          ),
        failed.then((why) => ({ why })),
      ]);
      restoreCores(); // the threaded start is over (or abandoned)
      if ('why' in outcome) return await fallBack(outcome.why);
      if ('e' in outcome)
        return await fallBack(`the threaded build failed to start: ${String(outcome.e)}`);
      const threads = (
        outcome.b as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }
      ).wasm.tfjs.getThreadsCount();
      settle({ threads, threaded: true, reason: '' });
      return outcome.b;
    } finally {
      restoreCores();
      clearTimeout(timer);
      onWorkerFailure = null;
    }
  };
  (wrapped as unknown as Record<symbol, Factory>)[WRAPPED] = original;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', wrapped, WASM_PRIORITY);
  pending = setup;
  return setup;
}

export { resolveWasmThreads, type WasmThreadsOptions };
