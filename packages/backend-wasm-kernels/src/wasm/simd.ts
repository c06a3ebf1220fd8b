/**
 * csq's SIMD module (kernels.wat), instantiated on the wasm backend's own memory so that its
 * functions read and write tensors in place: the unshared variant for tfjs-backend-wasm's plain
 * and SIMD builds, the shared one for its threaded build (a cross-origin isolated page). One
 * instance per backend memory; `simdFor` returns null (and the kernels take their paths composed
 * from wasm's own kernels) when the module cannot link to that memory or before an asynchronous
 * compile has finished. In the threaded build, pool.ts runs parts of a kernel on workers that
 * instantiate the same module against the same shared memory.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-binary.js';

/** The functions of kernels.wat (pointers are byte offsets into the backend's memory). */
export interface SimdExports {
  bn_forward(
    x: number,
    y: number,
    rows: number,
    ch: number,
    mean: number,
    k: number,
    beta: number,
  ): void;
  bn_backward(
    x: number,
    dy: number,
    dx: number,
    rows: number,
    ch: number,
    mean: number,
    k: number,
    accDy: number,
    accDyXm: number,
    totDy: number,
    totDyXm: number,
  ): void;
  broadcast_rows(src: number, dst: number, rows: number, ch: number): void;
  mul_scaled(a: number, b: number, out: number, n: number, s: number): void;
  sgd_momentum(
    v: number,
    g: number,
    b: number,
    vOut: number,
    bOut: number,
    n: number,
    lr: number,
    mu: number,
    wd: number,
  ): void;
  max_pool_grad(x: number, dy: number, dx: number, n: number, ch: number, geo: number): void;
  max_pool_grad_2x2(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    ch: number,
    oh: number,
    ow: number,
  ): void;
  conv_filter_grad(x: number, dy: number, dw: number, geo: number): void;
  /** conv_filter_grad for output channels [co0, co1) only (multiples of 8). */
  conv_filter_grad_range(
    x: number,
    dy: number,
    dw: number,
    geo: number,
    co0: number,
    co1: number,
  ): void;
  phase_scatter(src: number, dst: number, geo: number): void;
  soft_weight(
    p: number,
    n: number,
    c: number,
    w: number,
    rows: number,
    bits: number,
    beta: number,
    spOut: number,
    snOut: number,
  ): void;
  /** The gradient from the forward's sp = sigma(beta p), sn = sigma(beta n). */
  soft_weight_grad(
    sp: number,
    sn: number,
    c: number,
    dw: number,
    dp: number,
    dn: number,
    rows: number,
    bits: number,
    beta: number,
    acc: number,
    tot: number,
  ): void;
  bn_sums(
    x: number,
    dy: number,
    rows: number,
    ch: number,
    shift: number,
    acc1: number,
    acc2: number,
    tot1: number,
    tot2: number,
  ): void;
  bn_train_dx(
    x: number,
    dy: number,
    dx: number,
    rows: number,
    ch: number,
    mean: number,
    a: number,
    b: number,
    e: number,
  ): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmBackendInternals {
  wasm: {
    HEAPU8: Uint8Array;
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

let enabled = true;
const compiled: { plain: WebAssembly.Module | null; shared: WebAssembly.Module | null } = {
  plain: null,
  shared: null,
};
const compiling: { plain: Promise<void> | null; shared: Promise<void> | null } = {
  plain: null,
  shared: null,
};
const instances = new WeakMap<WebAssembly.Memory, SimdExports | null>();

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const out = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The compiled module: synchronous where allowed, otherwise compiled in the background. */
function module(variant: 'plain' | 'shared'): WebAssembly.Module | null {
  if (compiled[variant] != null || compiling[variant] != null) return compiled[variant];
  const b = bytes(variant === 'plain' ? KERNELS_WASM_BASE64 : KERNELS_SHARED_WASM_BASE64);
  try {
    compiled[variant] = new WebAssembly.Module(b);
  } catch {
    // browsers refuse synchronous compiles of large modules on the main thread
    compiling[variant] = WebAssembly.compile(b).then(
      (m) => {
        compiled[variant] = m;
      },
      () => {}, // an engine without wasm threads: no shared variant, composed paths instead
    );
  }
  return compiled[variant];
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** Resolves when the SIMD module (both variants) is compiled (immediately in Node). */
export async function simdReady(): Promise<void> {
  module('plain');
  module('shared');
  await Promise.all([compiling.plain, compiling.shared]);
}

function memoryOf(backend: WasmBackendInternals): WebAssembly.Memory | undefined {
  return backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
}

/** The wasm backend's WebAssembly.Memory (shared in the threaded build), if it has one. */
export const backendMemory = memoryOf;

/** The compiled shared-memory variant of the kernels module (for the kernel pool's workers). */
export function sharedKernelsModule(): WebAssembly.Module | null {
  return module('shared');
}

/**
 * The backend memory's current buffer. Read from the memory itself, not from `HEAPU8`: in the
 * threaded build a growth replaces the SharedArrayBuffer and `HEAPU8` is only refreshed lazily.
 */
function heapBuffer(backend: WasmBackendInternals): ArrayBufferLike {
  return memoryOf(backend)?.buffer ?? backend.wasm.HEAPU8.buffer;
}

/**
 * Turns csq's SIMD kernels on or off (on by default); off, every kernel takes its path composed
 * from wasm's own kernels (for benchmarks: see useStockWasmKernels).
 */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** The SIMD functions bound to this wasm backend's memory, or null when unavailable or off. */
export function simdFor(backend: unknown): SimdExports | null {
  if (!enabled) return null;
  const b = backend as WasmBackendInternals;
  const memory = memoryOf(b);
  if (memory == null) return null;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  const mod = module(isShared(memory) ? 'shared' : 'plain');
  if (mod == null) return null;
  let exports: SimdExports | null = null;
  try {
    exports = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as SimdExports;
  } catch {
    exports = null; // a memory this module cannot import (e.g. a larger maximum)
  }
  instances.set(memory, exports);
  return exports;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function ptr(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data == null) throw new Error('tensor data is not on the wasm backend');
  return data.memoryOffset;
}

/**
 * Scratch memory from the backend's allocator: `alloc` returns byte offsets (16-byte aligned by
 * malloc), `free` releases all of them. Views must be taken after the last alloc (growth
 * replaces the buffer).
 */
export class Scratch {
  private readonly ptrs: number[] = [];
  constructor(private readonly backend: WasmBackendInternals) {}

  alloc(bytes: number): number {
    const p = this.backend.wasm._malloc(Math.max(16, bytes)) >>> 0;
    this.ptrs.push(p);
    return p;
  }

  f32(p: number, n: number): Float32Array {
    return new Float32Array(heapBuffer(this.backend), p, n);
  }

  f64(p: number, n: number): Float64Array {
    return new Float64Array(heapBuffer(this.backend), p, n);
  }

  i32(p: number, n: number): Int32Array {
    return new Int32Array(heapBuffer(this.backend), p, n);
  }

  free(): void {
    for (const p of this.ptrs) this.backend.wasm._free(p);
    this.ptrs.length = 0;
  }
}

/** A float32 view of a tensor's data in the backend's memory. */
export function f32View(backend: WasmBackendInternals, t: tf.TensorInfo): Float32Array {
  let n = 1;
  for (const d of t.shape) n *= d;
  return new Float32Array(heapBuffer(backend), ptr(backend, t), n);
}
