import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arraySource } from '@csq/data';
import { mnistCnn } from '@csq/layers';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './index.js';
import {
  ACTIVATION_BYTES,
  estimateTrainingMemory,
  guardMemory,
  isWasmAbort,
  TRAINABLE_BYTES,
} from './memory.js';
import { trainNode } from './train-node.js';

const root = mkdtempSync(join(tmpdir(), 'csq-memory-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu'); // the shape tests; trainNode picks wasm itself
});

describe('estimateTrainingMemory', () => {
  it('counts trainable values and per-sample activations from shapes (hand-computed)', () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const e = estimateTrainingMemory(m, 10);
    // dense 4*3+3, bn gamma+beta 3+3, dense 3*2+2; bn moving mean/var 3+3
    expect(e.trainable).toBe(15 + 6 + 8);
    expect(e.nonTrainable).toBe(6);
    expect(e.activationsPerSample).toBe(3 + 3 + 2);
    expect(e.bytes).toBe(TRAINABLE_BYTES * 29 + 4 * 6 + ACTIVATION_BYTES * 8 * 10);
    m.dispose();
  });
});

describe('the wasm memory guard', () => {
  it('recognizes wasm aborts and turns one in a step into CSQ_OUT_OF_MEMORY with the ways out', async () => {
    expect(isWasmAbort(new WebAssembly.RuntimeError('memory access out of bounds'))).toBe(true);
    expect(isWasmAbort(new Error('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isWasmAbort(new Error('shapes do not match'))).toBe(false);
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    const run = guardMemory(
      async () => {
        throw new WebAssembly.RuntimeError('memory access out of bounds');
      },
      { model: m, batch: 8, backend: 'wasm' },
    );
    await expect(run).rejects.toMatchObject({ code: 'CSQ_OUT_OF_MEMORY' });
    await expect(run).rejects.toThrow(/--batch.*--width-multiplier.*tfjs-node.*WebGPU/s);
    // other backends: the error passes through as it is
    await expect(
      guardMemory(
        async () => {
          throw new Error('memory access out of bounds');
        },
        { model: m, batch: 8, backend: 'cpu' },
      ),
    ).rejects.not.toMatchObject({ code: 'CSQ_OUT_OF_MEMORY' });
    m.dispose();
  });

  it('batch 4096 on the quickstart network stops before the first step, leaves no run behind, and says so again', async () => {
    const n = 8;
    const images = new Uint8Array(n * 28 * 28).fill(7);
    const labels = new Int32Array(n).map((_, i) => i % 10);
    const set = arraySource({
      images,
      labels,
      count: n,
      height: 28,
      width: 28,
      channels: 1,
      numClasses: 10,
    });
    const out = join(root, 'too-big');
    const attempt = () =>
      trainNode({
        model: () => mnistCnn({ seed: 1 }),
        data: { train: set, test: set, mean: [0.13], std: [0.31] },
        config: { epochs: 1, batchSize: 4096, csq: { ticket: 1 } },
        out,
        backend: 'wasm',
        log: () => {},
        handleInterrupt: false,
      });
    const heap = () =>
      (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const first = attempt();
    await expect(first).rejects.toMatchObject({ code: 'CSQ_OUT_OF_MEMORY' });
    await expect(first).rejects.toThrow(/about 4\.\d\d GiB.*batch 4096.*4 GiB/);
    await expect(first).rejects.toThrow(
      /--batch \(about \d+ or less fits\).*--width-multiplier.*tfjs-node.*WebGPU/,
    );
    // before: config.json stayed, and the same command was refused as an existing run
    expect(existsSync(out)).toBe(false);
    const before = heap();
    await expect(attempt()).rejects.toMatchObject({ code: 'CSQ_OUT_OF_MEMORY' });
    expect(heap() - before).toBeLessThan(64 * 1024 ** 2); // nothing batch-sized was allocated
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
