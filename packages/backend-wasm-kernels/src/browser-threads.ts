/**
 * tfjs-backend-wasm's threaded build in a browser page or worker, under a bundler. The page must
 * be cross-origin isolated (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`). tfjs 4.22 then takes the threaded build by
 * itself, but two things stop it from working in a bundled app:
 * - its pthread workers evaluate `wasmFactoryThreadedSimd.toString()`, the bundled factory's
 *   source, which does not run outside the bundle once minified ("e is not defined" in every
 *   pthread): {@link enableBrowserWasmThreads} has them load the unbundled factory script
 *   (`@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js`, served as a
 *   plain file: `factoryUrl`) instead;
 * - the build caps its threads at half of `navigator.hardwareConcurrency`: it is widened for the
 *   duration of the start, and the count asked for with `setThreadsCount`.
 */
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

/** What {@link enableBrowserWasmThreads} arranged. */
export interface BrowserWasmThreads {
  /** True when the threaded build will start (the page is isolated and has shared memory). */
  threaded: boolean;
  /** Threads asked for. */
  threads: number;
  /** Why not threaded ('' when threaded). */
  reason: string;
}

const WASM_PRIORITY = 2; // tfjs-backend-wasm registers 'wasm' with priority 2
const WRAPPED = Symbol.for('csq.browserWasmThreadsFactory');
type Factory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

function wasmStarted(): boolean {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm != null;
}

/** Why this page or worker cannot run the threaded build, or ''. */
function unsupported(): string {
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated)
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  if (typeof Worker === 'undefined') return 'this context cannot start workers';
  return '';
}

let workerPatched = false;
/** pthread workers load `factoryUrl` where tfjs would hand them the bundled factory's source. */
function patchWorker(factoryUrl: string): void {
  if (workerPatched) return;
  workerPatched = true;
  const Original = globalThis.Worker;
  class PthreadAwareWorker extends Original {
    override postMessage(message: unknown, options?: unknown): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      const out =
        m?.cmd === 'load' && typeof m.urlOrBlob !== 'string'
          ? { ...m, urlOrBlob: factoryUrl }
          : message;
      (super.postMessage as (a: unknown, b?: unknown) => void)(out, options);
    }
  }
  globalThis.Worker = PthreadAwareWorker;
}

/**
 * Turns on tfjs-backend-wasm's threaded build in a browser (call before the 'wasm' backend
 * starts). `factoryUrl`: where the page serves tfjs-backend-wasm's
 * `wasm-out/tfjs-backend-wasm-threaded-simd.js` unchanged (e.g. Vite:
 * `import factoryUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url'`).
 * `threads` defaults to `navigator.hardwareConcurrency` (at most 8). Returns what will run and,
 * when not threaded, why (the backend then starts single-threaded as tfjs would).
 */
export function enableBrowserWasmThreads(opts: {
  factoryUrl: string;
  threads?: number;
}): BrowserWasmThreads {
  const cores = Math.max(1, Math.min(8, globalThis.navigator?.hardwareConcurrency ?? 1));
  const threads = Math.max(1, Math.min(8, Math.floor(opts.threads ?? cores)));
  const why = unsupported() || (wasmStarted() ? 'the wasm backend was already initialised' : '');
  if (why || threads === 1) {
    return { threaded: false, threads: 1, reason: why || '1 thread asked for' };
  }
  const current = tf.findBackendFactory('wasm') as Factory | null;
  if (current == null) {
    return {
      threaded: false,
      threads: 1,
      reason: 'the wasm backend is not registered (import @tensorflow/tfjs-backend-wasm)',
    };
  }
  const original = ((current as unknown as Record<symbol, Factory>)[WRAPPED] ?? current) as Factory;
  const wrapped: Factory = async () => {
    patchWorker(opts.factoryUrl);
    setThreadsCount(threads);
    const nav = globalThis.navigator as Navigator;
    // the build takes half the logical cores: report twice the count while it starts
    Object.defineProperty(nav, 'hardwareConcurrency', {
      configurable: true,
      get: () => 2 * threads,
    });
    try {
      return await original();
    } finally {
      delete (nav as unknown as Record<string, unknown>).hardwareConcurrency;
    }
  };
  (wrapped as unknown as Record<symbol, Factory>)[WRAPPED] = original;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', wrapped, WASM_PRIORITY);
  return { threaded: true, threads, reason: '' };
}
