// csq's kernel pool on tfjs-backend-wasm's threaded build (2 threads): the same backend with
// csq's kernels on 1 thread and split across 2 gives identical results where the parts write
// disjoint outputs, and results within 1e-5 of cpu everywhere; memory growth, a failing or
// stalled worker, and shutdown.
import { CsqError } from '@csq/core';
import { rng, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectRelClose, rand, valuesOn } from '../../test/compare.js';
import { nodeKernelWorkerSpawner } from '../node/kernel-workers.js';
import {
  configureKernelPool,
  enableWasmThreads,
  kernelPoolState,
  kernelThreads,
  runKernelParts,
  setKernelWorkerSpawner,
  shutdownKernelPool,
} from '../node.js';
import { simdFor, type WasmBackendInternals } from './simd.js';

type Shape4 = [number, number, number, number];

function memory(): WebAssembly.Memory {
  const b = tf.backend() as unknown as {
    wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  };
  return (b.wasm.asm?.memory ?? b.wasm.wasmMemory)!;
}

/** Runs `f` on wasm with csq's kernels on `threads` threads (the pool's workers ready). */
async function onThreads(threads: number, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await useBackend('wasm');
  configureKernelPool({ threads });
  if (threads > 1) {
    // the first pooled kernel starts the workers (its parts run here meanwhile)
    tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.ones([1 << 17]))
        .dataSync(),
    );
    await vi.waitFor(() => expect(kernelPoolState()?.ready).toBe(threads - 1), {
      timeout: 20_000,
    });
  }
  return tf.tidy(() => f().map((t) => t.dataSync() as Float32Array));
}

/** The conv gradients (filter, strided input) and a training batch norm's forward/gradients. */
function workload(seed: number, x: Shape4, filter: Shape4, strides: number, pad: 'same' | 'valid') {
  return () => {
    const xs = rand(x, seed) as tf.Tensor4D;
    const w = rand(filter, seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(xs, w, strides, pad);
    const dy = rand(y.shape, seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), dy)),
    )([xs, w]);
    const axes = [0, 1, 2];
    const gamma = tf.add(rand([filter[3]], seed + 3), 1.5);
    const beta = rand([filter[3]], seed + 4);
    const bn = (yy: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(yy, axes);
      return tf.sum(tf.mul(tf.batchNorm(yy, mean, variance, b, g, 1e-3), dy));
    };
    const { value, grads } = tf.valueAndGrads(bn)([y, gamma, beta]);
    return [dx!, dw!, value, ...grads];
  };
}

// outputs of `workload`: dx, dw, bn loss, then d(bn)/dy, dgamma, dbeta (reductions: 1e-5)
const EXACT = [0, 1]; // conv gradients: split over disjoint outputs

beforeAll(async () => {
  configureKernelPool({ partThreshold: 0 }); // split every kernel, however small
  const setup = enableWasmThreads({ threads: 2 });
  await useBackend('wasm');
  expect(await setup.ready).toEqual({ threads: 2, threaded: true, reason: '' });
});

afterAll(async () => {
  configureKernelPool({ threads: null, timeoutMs: 60_000, partThreshold: 1 });
  setKernelWorkerSpawner(nodeKernelWorkerSpawner);
  shutdownKernelPool();
  await useBackend('cpu');
});

describe('csq kernels split across the threaded build', () => {
  it('follows the wasm thread count; 1 thread starts no pool', async () => {
    await useBackend('wasm');
    configureKernelPool({ threads: null });
    expect(kernelThreads(tf.backend())).toBe(2);
    shutdownKernelPool();
    configureKernelPool({ threads: 1 });
    tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.ones([1 << 17]))
        .dataSync(),
    );
    expect(kernelPoolState()).toBeNull();
    expect(() => configureKernelPool({ threads: 0 })).toThrow(CsqError);
  });

  // random shapes: batch, size, channels (output channels multiples of 8 for the SIMD filter
  // gradient), strides 1 and 2, same/valid padding, square kernels 1 and 3 (tfjs-backend-wasm
  // 4.22's own forward Conv2D returns zeros for a 3x1 filter with stride 2 and 'same' padding,
  // e.g. x [3,7,6,1] filter [3,1,1,24]: outside csq's kernels)
  const r = rng(1707);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const cases = Array.from({ length: 8 }, (_, i) => {
    const k = pick([1, 3]);
    const x: Shape4 = [pick([2, 3, 8]), pick([7, 8, 11]), pick([6, 9]), pick([1, 3, 4, 8])];
    const filter: Shape4 = [k, k, x[3], pick([8, 16, 24])];
    return {
      x,
      filter,
      strides: i === 0 ? 2 : pick([1, 2]),
      pad: pick(['same', 'valid'] as const),
    };
  });
  cases.push({ x: [16, 16, 16, 16], filter: [3, 3, 16, 32], strides: 2, pad: 'same' });

  for (const [i, c] of cases.entries()) {
    it(`2 threads = 1 thread, and cpu: x [${c.x}] filter [${c.filter}] stride ${c.strides} ${c.pad}`, async () => {
      const f = workload(40 + 10 * i, c.x, c.filter, c.strides, c.pad);
      const one = await onThreads(1, f);
      const before = kernelPoolState()?.workerParts ?? 0;
      const two = await onThreads(2, f);
      const cpu = await valuesOn('cpu', f);
      expect(kernelPoolState()!.workerParts).toBeGreaterThan(before); // the worker did parts
      for (let j = 0; j < one.length; j++) {
        if (EXACT.includes(j)) expect(two[j]).toEqual(one[j]);
        else expectRelClose(two[j]!, one[j]!, 1e-5);
        expectRelClose(two[j]!, cpu[j]!, 1e-5);
      }
    });
  }

  it("the layers' fused batch-norm training kernels: 2 threads = 1 thread (1e-5)", async () => {
    for (const [i, shape] of [
      [8, 9, 7, 16],
      [3, 5, 5, 5],
      [130, 12],
      [64, 33, 3],
    ].entries()) {
      const ch = shape[shape.length - 1]!;
      const f = () => {
        const x = tf.add(tf.mul(rand(shape, 60 + i), 3), 1);
        const scale = tf.add(rand([ch], 61 + i), 1.5);
        const offset = rand([ch], 62 + i);
        const dy = rand(shape, 63 + i);
        const [y, mean, variance] = tf
          .engine()
          .runKernel(
            'CsqBatchNormTraining',
            { x, scale, offset },
            { varianceEpsilon: 1e-3 },
          ) as tf.Tensor[];
        const grads = tf
          .engine()
          .runKernel(
            'CsqBatchNormTrainingGrad',
            { dy, x, scale, mean: mean!, variance: variance! },
            { varianceEpsilon: 1e-3 },
          ) as tf.Tensor[];
        return [y!, mean!, variance!, ...grads];
      };
      const before = kernelPoolState()?.workerParts ?? 0;
      const one = await onThreads(1, f);
      const two = await onThreads(2, f);
      expect(kernelPoolState()!.workerParts).toBeGreaterThan(before);
      expect(two.length).toBe(6);
      for (let j = 0; j < one.length; j++) expectRelClose(two[j]!, one[j]!, 1e-5);
    }
  });

  it('stays correct after the shared memory grows', async () => {
    const f = workload(7, [16, 12, 12, 8], [3, 3, 8, 16], 1, 'same');
    const one = await onThreads(1, f);
    const two = await onThreads(2, f);
    const bytes = memory().buffer.byteLength;
    // a tensor larger than the free heap makes the backend grow its memory
    const big = tf.zeros([Math.ceil((bytes + (64 << 20)) / 4)]);
    expect(memory().buffer.byteLength).toBeGreaterThan(bytes);
    const after = await onThreads(2, f);
    big.dispose();
    for (const j of EXACT) {
      expect(after[j]).toEqual(one[j]);
      expect(two[j]).toEqual(one[j]);
    }
    for (let j = 0; j < one.length; j++) expectRelClose(after[j]!, one[j]!, 1e-5);
  });

  it('a part that traps in a worker is a CsqError, and the pool keeps serving', async () => {
    await onThreads(2, () => []);
    const b = tf.backend() as unknown as WasmBackendInternals;
    const simd = simdFor(b)!;
    const out = tf.zeros([8]);
    const p = (b.dataIdMap.get(out.dataId) as { memoryOffset: number }).memoryOffset;
    // part 0 (here) is fine; part 1 (the worker) writes past the end of the memory
    const parts = [
      [p, p, p, 4, 2],
      [p, p, memory().buffer.byteLength - 4, 8, 2],
    ];
    expect(() => runKernelParts(b, simd, 'mul_scaled', parts)).toThrow(
      /mul_scaled failed in worker 1/,
    );
    expect(kernelPoolState()!.failed).toBe('');
    out.dispose();
    const f = workload(9, [8, 8, 8, 4], [3, 3, 4, 16], 1, 'same');
    expect((await onThreads(2, f))[1]).toEqual((await onThreads(1, f))[1]);
  });

  it('a stalled worker is a CsqError after the bounded wait, then kernels run here', async () => {
    shutdownKernelPool();
    // workers that take their job and never finish it
    setKernelWorkerSpawner((source, onFailure) =>
      nodeKernelWorkerSpawner(
        source.replace('f.apply(null', 'Atomics.wait(ctl, base + 15, 0); f.apply(null'),
        onFailure,
      ),
    );
    await onThreads(2, () => []).catch(() => {}); // the warm-up kernel itself stalls
    configureKernelPool({ timeoutMs: 300 });
    const b = tf.backend();
    const f = () =>
      tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(rand([1 << 17], 3)));
    let err: unknown;
    const t0 = Date.now();
    try {
      f().dispose();
    } catch (e) {
      err = e;
    }
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(err).toBeInstanceOf(CsqError);
    expect((err as CsqError).code).toBe('CSQ_WASM_POOL_FAILED');
    expect(String(err)).toMatch(/did not finish its part of mul_scaled within 300 ms/);
    expect(kernelPoolState()!.failed).toBe('shut down');
    // later kernels run on the calling thread and stay correct
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.fill([1 << 17], 3)));
    expect(g.dataSync()[5]).toBe(6);
    g.dispose();
    expect(kernelThreads(b)).toBe(2);
    setKernelWorkerSpawner(nodeKernelWorkerSpawner);
    configureKernelPool({ timeoutMs: 60_000 });
  });

  it('shuts down and restarts on demand', async () => {
    shutdownKernelPool();
    expect(kernelPoolState()).toBeNull();
    const f = workload(11, [8, 8, 8, 8], [3, 3, 8, 16], 1, 'same');
    const two = await onThreads(2, f);
    expect(kernelPoolState()).toMatchObject({ workers: 1, ready: 1, failed: '' });
    shutdownKernelPool();
    expect(kernelPoolState()).toBeNull();
    const one = await onThreads(1, f);
    for (const j of EXACT) expect(two[j]).toEqual(one[j]);
  });
});
