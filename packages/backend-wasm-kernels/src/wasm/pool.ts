/**
 * A small worker pool that splits csq's own SIMD kernels across threads when tfjs-backend-wasm
 * runs its threaded build (its memory is a shared WebAssembly.Memory). Each worker instantiates
 * csq's kernels module against that same memory; the calling thread writes the arguments of a
 * kernel's parts (pointers and sizes only, never views) into a SharedArrayBuffer, wakes the
 * workers with Atomics.notify, runs its own parts, and waits for theirs (Atomics.wait in Node and
 * in workers; a bounded spin on a browser's main thread, which may not block).
 *
 * Generic: {@link runKernelParts} runs any export of kernels.wat over a list of argument lists,
 * so a kernel only decides how to split its work into disjoint parts. Pool size = the wasm
 * thread count (`getThreadsCount()`), or {@link configureKernelPool}'s `threads`; with 1 thread,
 * an unshared memory, or no way to start workers, every part runs on the calling thread (exactly
 * the single-thread path). Workers never keep a process alive (Node: unref) and a failed or stuck
 * worker becomes CsqError CSQ_WASM_POOL_FAILED after a bounded wait (the pool is then shut down
 * and later kernels run on the calling thread).
 */
import { CsqError } from '@csq/core';
import { MAX_ARGS, MAX_PARTS, SLOT, SLOT_INTS, WORKER_SOURCE } from './pool-worker.js';
import {
  backendMemory,
  type SimdExports,
  sharedKernelsModule,
  type WasmBackendInternals,
} from './simd.js';

/** What the pool needs from a started worker. */
export interface KernelWorkerHandle {
  /** Sends the init message (module, memory, shared buffers: structured clone). */
  postMessage(message: unknown): void;
  /** Ends the worker (however far it got). */
  terminate(): void;
}

/**
 * Starts one worker running `source` (which defines `csqKernelWorker(init)`), which must call
 * `csqKernelWorker` with the first message it receives; `onFailure` is told when the worker
 * errors or exits.
 */
export type KernelWorkerSpawner = (
  source: string,
  onFailure: (why: string) => void,
) => KernelWorkerHandle;

/** Options of {@link configureKernelPool}. */
export interface KernelPoolOptions {
  /**
   * Threads for csq's kernels, the calling one included (1 = no pool); `null` (default) follows
   * the wasm backend's thread count.
   */
  threads?: number | null;
  /** How long the calling thread waits for a worker's part before CSQ_WASM_POOL_FAILED (ms). */
  timeoutMs?: number;
  /**
   * Factor on each kernel's minimum work per part (default 1; 0 splits every kernel, however
   * small: for tests).
   */
  partThreshold?: number;
}

const settings: { threads: number | null; timeoutMs: number; partThreshold: number } = {
  threads: null,
  timeoutMs: 60_000,
  partThreshold: 1,
};

/** Starts workers in browsers: Web Workers from a Blob URL, when the page is cross-origin isolated. */
const browserSpawner: KernelWorkerSpawner = (source, onFailure) => {
  const g = globalThis as unknown as {
    Worker: new (url: string, options?: { name?: string }) => Worker;
  };
  const text = `${source}\nself.addEventListener('message', (e) => csqKernelWorker(e.data), { once: true });`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
  const w = new g.Worker(url, { name: 'csq-kernels' });
  w.addEventListener('error', (e) => onFailure(`a kernel worker failed: ${e.message}`));
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => {
      w.terminate();
      URL.revokeObjectURL(url);
    },
  };
};

let spawner: KernelWorkerSpawner | null = null;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return p?.versions?.node != null;
}

/** The spawner to use: the one set (Node's, by `@csq/backend-wasm-kernels/node`), else a browser's. */
function currentSpawner(): KernelWorkerSpawner | null {
  if (spawner) return spawner;
  if (isNode()) return null;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (g.crossOriginIsolated === true && typeof g.Worker === 'function') return browserSpawner;
  return null;
}

/** Sets how kernel workers are started (Node: `@csq/backend-wasm-kernels/node` sets one). */
export function setKernelWorkerSpawner(s: KernelWorkerSpawner | null): void {
  spawner = s;
}

/**
 * Sets csq's kernel thread count and wait bound (for tests and benchmarks; by default the pool
 * follows the wasm backend's thread count). Throws CsqError CSQ_BAD_WASM_THREADS for a count
 * that is not a whole number >= 1.
 */
export function configureKernelPool(options: KernelPoolOptions): void {
  if (options.threads !== undefined) {
    const t = options.threads;
    if (t !== null && (!Number.isInteger(t) || t < 1)) {
      throw new CsqError(
        'CSQ_BAD_WASM_THREADS',
        `configureKernelPool: threads must be a whole number >= 1 (1 = csq's kernels on the calling thread) or null (follow the wasm backend), got ${JSON.stringify(t)}.`,
      );
    }
    settings.threads = t;
  }
  if (options.timeoutMs !== undefined) settings.timeoutMs = options.timeoutMs;
  if (options.partThreshold !== undefined) settings.partThreshold = options.partThreshold;
}

/** Whether Atomics.wait may block this thread (not on a browser's main thread). */
let canBlock: boolean | null = null;
function blockingAllowed(probe: Int32Array): boolean {
  if (canBlock == null) {
    try {
      Atomics.wait(probe, 0, 1, 0); // returns 'not-equal' where allowed, throws where not
      canBlock = true;
    } catch {
      canBlock = false;
    }
  }
  return canBlock;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Workers serving one backend memory. */
class KernelPool {
  readonly ctl: Int32Array;
  readonly args: Float64Array;
  readonly names: string[];
  readonly workers: KernelWorkerHandle[] = [];
  private readonly seq: number[];
  failed = '';
  /** Parts run by workers so far (for tests). */
  workerParts = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    readonly size: number,
    spawn: KernelWorkerSpawner,
  ) {
    this.ctl = new Int32Array(new SharedArrayBuffer(size * SLOT_INTS * 4));
    this.args = new Float64Array(new SharedArrayBuffer(MAX_PARTS * MAX_ARGS * 8));
    this.names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    this.seq = new Array<number>(size).fill(0);
    for (let slot = 0; slot < size; slot++) {
      const w = spawn(WORKER_SOURCE, (why) => {
        this.failed ||= why;
      });
      this.workers.push(w);
      w.postMessage({
        module,
        memory,
        ctl: this.ctl.buffer,
        args: this.args.buffer,
        names: this.names,
        slot,
      });
    }
  }

  /** Slots of the workers that are instantiated and healthy. */
  readySlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.size; s++) {
      if (Atomics.load(this.ctl, s * SLOT_INTS + SLOT.ready) === 1) out.push(s);
    }
    return out;
  }

  /** Runs export `name` once per argument list in `parts`, the calling thread taking part 0. */
  run(simd: SimdExports, name: string, parts: readonly (readonly number[])[]): void {
    const fnIndex = this.names.indexOf(name);
    const f = (simd as unknown as Record<string, (...a: number[]) => void>)[name];
    if (fnIndex < 0 || f == null) {
      throw new CsqError('CSQ_WASM_POOL_FAILED', `csq's kernels module has no export "${name}".`);
    }
    if (parts.length > MAX_PARTS) {
      throw new CsqError(
        'CSQ_WASM_POOL_FAILED',
        `runKernelParts: at most ${MAX_PARTS} parts per run, got ${parts.length}; split into fewer, larger parts.`,
      );
    }
    const used = this.readySlots().slice(0, parts.length - 1);
    const stride = used.length + 1;
    const nargs = parts[0]!.length;
    if (used.length > 0) {
      for (let p = 0; p < parts.length; p++) {
        const a = parts[p]!;
        if (a.length !== nargs || nargs > MAX_ARGS) {
          throw new CsqError(
            'CSQ_WASM_POOL_FAILED',
            `runKernelParts(${name}): every part needs the same number of arguments (at most ${MAX_ARGS}).`,
          );
        }
        this.args.set(a, p * MAX_ARGS);
      }
      used.forEach((slot, i) => {
        const base = slot * SLOT_INTS;
        this.ctl[base + SLOT.fn] = fnIndex;
        this.ctl[base + SLOT.first] = i + 1;
        this.ctl[base + SLOT.stride] = stride;
        this.ctl[base + SLOT.parts] = parts.length;
        this.ctl[base + SLOT.nargs] = nargs;
        this.seq[slot] = (this.seq[slot]! + 1) | 0 || 1;
        Atomics.store(this.ctl, base + SLOT.seq, this.seq[slot]!);
        Atomics.notify(this.ctl, base + SLOT.seq);
      });
    }
    this.workerParts += parts.length - Math.ceil(parts.length / stride);
    try {
      for (let p = 0; p < parts.length; p += stride) f(...parts[p]!);
    } finally {
      if (used.length > 0) this.wait(name, used);
    }
  }

  /** Waits (bounded) for the workers in `slots` to finish their parts of `name`. */
  private wait(name: string, slots: number[]): void {
    const deadline = now() + settings.timeoutMs;
    const block = blockingAllowed(this.ctl);
    for (const slot of slots) {
      const i = slot * SLOT_INTS + SLOT.done;
      const want = this.seq[slot]!;
      for (;;) {
        const cur = Atomics.load(this.ctl, i);
        if (cur === want) break;
        if (this.failed || now() > deadline) {
          const why =
            this.failed ||
            `csq kernel worker ${slot + 1} did not finish its part of ${name} within ${settings.timeoutMs} ms`;
          this.shutdown();
          throw new CsqError(
            'CSQ_WASM_POOL_FAILED',
            `${why}; csq's kernels now run on the calling thread. If this repeats, run single-threaded (CSQ_WASM_THREADS=1 or --threads 1) or raise the bound with configureKernelPool({ timeoutMs }).`,
          );
        }
        if (block) Atomics.wait(this.ctl, i, cur, 20);
      }
    }
    for (const slot of slots) {
      const e = slot * SLOT_INTS + SLOT.error;
      if (this.ctl[e] !== 0) {
        this.ctl[e] = 0;
        throw new CsqError(
          'CSQ_WASM_POOL_FAILED',
          `csq's kernel ${name} failed in worker ${slot + 1} (a WebAssembly trap: an argument points outside the backend's memory). This is a bug in csq; run single-threaded (CSQ_WASM_THREADS=1) to get the error on the calling thread.`,
        );
      }
    }
  }

  /** Stops and ends every worker (idempotent). */
  shutdown(): void {
    if (this.failed === 'shut down') return;
    this.failed ||= 'shut down';
    for (let slot = 0; slot < this.size; slot++) {
      const base = slot * SLOT_INTS;
      Atomics.store(this.ctl, base + SLOT.stop, 1);
      Atomics.add(this.ctl, base + SLOT.seq, 1);
      Atomics.notify(this.ctl, base + SLOT.seq);
    }
    for (const w of this.workers) w.terminate();
    this.failed = 'shut down';
  }
}

/** The one pool (tfjs has one wasm backend at a time; a new memory replaces the pool). */
let current: KernelPool | null = null;

/** Threads csq's kernels may use on this backend (1 = the calling thread only). */
export function kernelThreads(backend: unknown): number {
  const memory = backendMemory(backend as WasmBackendInternals);
  if (
    memory == null ||
    typeof SharedArrayBuffer === 'undefined' ||
    !(memory.buffer instanceof SharedArrayBuffer)
  ) {
    return 1;
  }
  if (settings.threads != null) return settings.threads;
  const tfjs = (backend as { wasm?: { tfjs?: { getThreadsCount?: () => number } } }).wasm?.tfjs;
  return Math.max(1, tfjs?.getThreadsCount?.() ?? 1);
}

/** The pool for this backend, started on first use, or null (1 thread, no workers possible). */
function poolFor(backend: unknown): KernelPool | null {
  const threads = kernelThreads(backend);
  if (threads <= 1) return null;
  const memory = backendMemory(backend as WasmBackendInternals)!;
  if (current && current.memory === memory && current.size === threads - 1) {
    if (current.failed === '' || current.failed === 'shut down') {
      return current.failed ? null : current;
    }
    const why = current.failed; // a worker died between kernels
    current.shutdown();
    throw new CsqError(
      'CSQ_WASM_POOL_FAILED',
      `${why}; csq's kernels now run on the calling thread. If this repeats, run single-threaded (CSQ_WASM_THREADS=1 or --threads 1).`,
    );
  }
  const spawn = currentSpawner();
  const module = sharedKernelsModule();
  if (spawn == null || module == null) return null;
  current?.shutdown();
  current = new KernelPool(memory, module, threads - 1, spawn);
  return current;
}

/**
 * Runs `simd[name](...parts[i])` for every part, split across csq's kernel threads when the
 * backend runs the threaded build (the calling thread runs its share and waits for the rest);
 * on the calling thread alone otherwise. Parts must write disjoint memory and take only
 * pointers and numbers. Throws CsqError CSQ_WASM_POOL_FAILED when a worker fails or stalls.
 */
export function runKernelParts(
  backend: unknown,
  simd: SimdExports,
  name: keyof SimdExports & string,
  parts: readonly (readonly number[])[],
): void {
  if (parts.length === 0) return;
  const pool = parts.length > 1 ? poolFor(backend) : null;
  if (pool == null || pool.readySlots().length === 0) {
    const f = simd[name] as unknown as (...a: number[]) => void;
    for (const p of parts) f(...p);
    return;
  }
  pool.run(simd, name, parts);
}

/**
 * How many parts to split `work` units into on this backend: at most the kernel thread count,
 * at least `minPerPart` units each, and at least 1.
 */
export function partCount(backend: unknown, work: number, minPerPart: number): number {
  const t = kernelThreads(backend);
  if (t <= 1) return 1;
  const byWork = Math.floor(work / (minPerPart * settings.partThreshold));
  return Math.max(1, Math.min(t, byWork, MAX_PARTS));
}

/**
 * Below this many elements per thread, an element-wise (memory-bound) kernel stays on one
 * thread. Set high: on 2 idle cores, batch norm forward/backward, mul_scaled and phase_scatter
 * over 2 M elements took 0.76-0.96x as long split across 2 threads as on one (one core already
 * moves ~25 GB/s; bench/pool.mjs), so they split only for tensors beyond that (and always with
 * configureKernelPool({ partThreshold: 0 }), as the tests do).
 */
export const MIN_ELEMENTS_PER_PART = 1 << 23;

/** [start, end) ranges splitting [0, n) into `parts` near-equal pieces, starts multiples of `align`. */
export function splitRange(n: number, parts: number, align = 1): [number, number][] {
  const units = Math.ceil(n / align);
  const k = Math.max(1, Math.min(parts, units));
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const a = Math.min(n, Math.floor((units * i) / k) * align);
    const b = Math.min(n, Math.floor((units * (i + 1)) / k) * align);
    if (b > a) out.push([a, b]);
  }
  return out;
}

/** Ends csq's kernel workers (a later threaded kernel starts new ones). */
export function shutdownKernelPool(): void {
  current?.shutdown();
  current = null;
}

/** The kernel pool's state (for tests): workers started and ready, or null without a pool. */
export function kernelPoolState(): {
  workers: number;
  ready: number;
  failed: string;
  workerParts: number;
} | null {
  if (current == null) return null;
  return {
    workers: current.size,
    ready: current.readySlots().length,
    failed: current.failed,
    workerParts: current.workerParts,
  };
}
