import os from 'node:os';
import { CsqError } from '@csq/core';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRelClose, rand, valuesOn } from '../../test/compare.js';
import { cifarResNet, lossAndGrads, seedWeights } from '../../test/nets.js';
import { isCsqWasmKernel } from '../index.js';
import { enableWasmThreads, MAX_WASM_THREADS, resolveWasmThreads } from '../node.js';
import { simdFor } from '../wasm/simd.js';

afterAll(() => useBackend('cpu'));

describe('resolveWasmThreads', () => {
  it('takes the option, then CSQ_WASM_THREADS, then os.availableParallelism()', () => {
    expect(resolveWasmThreads({ threads: 3, env: { CSQ_WASM_THREADS: '1' } })).toEqual({
      threads: 3,
      source: 'option',
    });
    expect(resolveWasmThreads({ env: { CSQ_WASM_THREADS: ' 2 ' } })).toEqual({
      threads: 2,
      source: 'env',
    });
    const d = resolveWasmThreads({ env: {} });
    expect(d.source).toBe('default');
    expect(d.threads).toBe(Math.min(MAX_WASM_THREADS, os.availableParallelism()));
    expect(resolveWasmThreads({ threads: 64 }).threads).toBe(MAX_WASM_THREADS);
  });
  it('rejects counts that are not whole numbers >= 1 with CSQ_BAD_WASM_THREADS', () => {
    for (const bad of ['0', '-2', '1.5', 'two', '2x']) {
      const f = () => resolveWasmThreads({ env: { CSQ_WASM_THREADS: bad } });
      expect(f).toThrow(CsqError);
      expect(f).toThrow(/CSQ_WASM_THREADS must be a whole number/);
    }
    for (const bad of [0, -1, 2.5, Number.NaN]) {
      expect(() => resolveWasmThreads({ threads: bad })).toThrow(/threads must be a whole number/);
    }
  });
});

type Internals = {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
};
function memoryOf(): WebAssembly.Memory {
  const b = tf.backend() as unknown as Internals;
  return (b.wasm.asm?.memory ?? b.wasm.wasmMemory)!;
}

const cores = os.cpus().length;
// tfjs-backend-wasm's own factory, as registered when it loaded
const wasmFactory = tf.findBackendFactory('wasm')!;

/** Disposes the running wasm backend and registers tfjs-backend-wasm's factory again. */
async function restartWasm(): Promise<void> {
  await useBackend('cpu');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', wasmFactory, 2);
}

function labels(n: number): tf.Tensor {
  return tf.oneHot(
    tf.tensor1d(
      Array.from({ length: n }, (_, i) => (i * 7) % 10),
      'int32',
    ),
    10,
  );
}

describe('the threaded wasm build in Node', () => {
  // one ResNet-8 training step on wasm, the same seeded weights and batch on every build (built
  // on cpu each time: a removed backend takes its tensors with it)
  const step = async () => {
    await useBackend('cpu');
    const model = cifarResNet({ blocks: 1, width: 8, inputShape: [16, 16, 3] });
    seedWeights(model, 500);
    const x = rand([4, 16, 16, 3], 21);
    const y = labels(4);
    await useBackend('wasm');
    const out = lossAndGrads(model, x, y);
    tf.dispose([x, y]);
    model.dispose();
    return out;
  };
  let single: ReturnType<typeof lossAndGrads>;

  it('CSQ_WASM_THREADS=1 keeps the single-thread build', async () => {
    const setup = enableWasmThreads({ env: { CSQ_WASM_THREADS: '1' } });
    expect(setup).toMatchObject({ requested: 1, source: 'env', threaded: false });
    expect(setup.reason).toMatch(/1 thread/);
    await useBackend('wasm');
    expect(await setup.ready).toEqual({ threads: 1, threaded: false, reason: setup.reason });
    expect(memoryOf().buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(getThreadsCount()).toBe(1);
    single = await step();
  });

  it('falls back to the single-thread build, saying why, when the threads do not start', async () => {
    await restartWasm();
    const told: string[] = [];
    const setup = enableWasmThreads({ threads: 2, timeoutMs: 1, onFallback: (r) => told.push(r) });
    expect(setup.threaded).toBe(true); // not known before the backend starts
    await useBackend('wasm');
    const ready = await setup.ready;
    expect(ready.threaded).toBe(false);
    expect(ready.reason).toMatch(/did not start within 1 ms/);
    expect(setup.reason).toBe(ready.reason);
    expect(told).toEqual([ready.reason]);
    expect(os.cpus().length).toBe(cores);
    expect(memoryOf().buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(tf.tidy(() => tf.add(tf.ones([3]), 1).dataSync()[0])).toBe(2);
  });

  it('runs XNNPACK on 2 threads with csq SIMD kernels on its shared memory', async () => {
    await restartWasm();
    const setup = enableWasmThreads({ threads: 2 });
    expect(enableWasmThreads()).toBe(setup); // a later call without a count keeps it
    await useBackend('wasm');
    expect(enableWasmThreads({ threads: 1 })).toBe(setup); // too late to change: says what runs
    expect(await setup.ready).toEqual({ threads: 2, threaded: true, reason: '' });
    expect(getThreadsCount()).toBe(2);
    expect(os.cpus().length).toBe(cores); // widened only while the backend started
    expect(memoryOf().buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(simdFor(tf.backend())).not.toBeNull();
    expect(isCsqWasmKernel('Conv2DBackpropFilter')).toBe(true);
  });

  it('kernels match cpu on the threaded build', async () => {
    const xs = rand([3, 9, 11, 5], 3);
    const dy = rand([3, 5, 6, 16], 4);
    const w = rand([3, 3, 5, 16], 5);
    const f = () =>
      [
        tf.conv2d(xs as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
        tf.conv2d(xs as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), // forward twice: XNNPACK reuse
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), dy)),
        )([xs, w]),
      ].flat();
    const expected = await valuesOn('cpu', f);
    const actual = await valuesOn('wasm', f);
    for (let i = 0; i < expected.length; i++) expectRelClose(actual[i]!, expected[i]!, 1e-5);
  });

  it('a ResNet-8 training step gives the single-thread loss and gradients (1e-5 relative)', async () => {
    const threaded = await step();
    expect(getThreadsCount()).toBe(2);
    expectRelClose([threaded.loss], [single.loss], 1e-5);
    expect(threaded.grads.length).toBe(single.grads.length);
    for (let i = 0; i < single.grads.length; i++)
      expectRelClose(threaded.grads[i]!, single.grads[i]!, 1e-5);
  });
});
