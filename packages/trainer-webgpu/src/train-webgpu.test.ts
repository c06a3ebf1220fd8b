import { arraySource } from '@csq/data';
import { CsqDense } from '@csq/layers';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GpuAdapterLike } from './gpu-types.js';
import { activeWebGpuSession, initWebGpuWith, type WebGpuSession } from './init.js';
import { trainOnWebGpuWith } from './train-webgpu.js';

function tinyRun(log: (m: string) => void) {
  const images = Uint8Array.from({ length: 8 * 4 }, (_, i) => (i * 37) % 256);
  const source = arraySource({
    images,
    labels: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]),
    count: 8,
    height: 2,
    width: 2,
    channels: 1,
    numClasses: 2,
  });
  const input = tf.input({ shape: [2, 2, 1] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const out = new CsqDense({ units: 2, bits: 2, seed: 1, name: 'fc' }).apply(flat);
  const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  return {
    model,
    data: { train: source, test: source, mean: [0.5], std: [0.25] },
    config: { epochs: 1, batchSize: 4, lr: 0.1, csq: { ticket: 1 } },
    log,
  };
}

function fakeSession(summary: string): WebGpuSession {
  return {
    backend: 'webgpu',
    runtime: 'node',
    adapter: {} as WebGpuSession['adapter'],
    summary,
    dispose: vi.fn(),
  };
}

afterEach(() => activeWebGpuSession()?.dispose());

describe('trainOnWebGpuWith (the plumbing of trainOnWebGpu; the GPU runs are in node/browser tests)', () => {
  it('without a live session: sets one up with opts.webgpu, logs it, runs the loop, returns it', async () => {
    await useBackend('cpu');
    const session = fakeSession('webgpu (node): fake');
    const init = vi.fn(async () => session); // stands in for initWebGpu; training stays on cpu
    const logs: string[] = [];
    const opts = { ...tinyRun((m) => logs.push(m)), webgpu: { cpuForward: false } };
    const model = opts.model;
    const result = await trainOnWebGpuWith(init, opts);
    expect(init).toHaveBeenCalledExactlyOnceWith({ cpuForward: false });
    expect(logs[0]).toBe('training on webgpu (node): fake');
    expect(result.webgpu).toBe(session);
    expect(result.history).toHaveLength(1);
    expect(result.history[0]!.model).toBe('csq');
    expect(session.dispose).not.toHaveBeenCalled(); // the model's weights live on it
    model.dispose();
  });

  it('with a live session: reuses it (a new one would free its tensors), or says it cannot', async () => {
    await useBackend('cpu');
    // A live session whose backend cannot start in Node (no navigator.gpu for tfjs' WebGPUBackend)
    const adapter: GpuAdapterLike = {
      features: new Set(),
      limits: {},
      info: { vendor: 'acme', architecture: 'x', device: '', description: '' },
      requestDevice: async () => ({ destroy: vi.fn() }),
    };
    const live = await initWebGpuWith(
      { requestAdapter: async () => adapter },
      { setBackend: false },
      { runtime: 'node', noGpu: '', noAdapter: () => '' },
    );
    expect(activeWebGpuSession()).toBe(live);
    const init = vi.fn(async () => fakeSession('second'));
    const run = tinyRun(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(trainOnWebGpuWith(init, run)).rejects.toMatchObject({
      code: 'CSQ_WEBGPU_BACKEND_FAILED',
      message: expect.stringContaining('acme x'),
    });
    warn.mockRestore();
    expect(init).not.toHaveBeenCalled();
    run.model.dispose();
  });
});
