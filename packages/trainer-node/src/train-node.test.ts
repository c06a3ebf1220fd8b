import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnistEmbedded } from '@csq/data/node';
import { mnistCnn } from '@csq/layers';
import { exportPackedModel } from '@csq/loader/export';
import { resolveTrainConfig, runConfigFromTrain } from '@csq/run-format';
import type { TrainConfigInput } from '@csq/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import './index.js';
import { trainNode } from './train-node.js';

const root = mkdtempSync(join(tmpdir(), 'csq-train-node-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = {
  epochs: 2,
  batchSize: 32,
  lr: 0.05,
  limitTrain: 128,
  evalBatchSize: 250,
  seed: 3,
  csq: { ticket: 1, budget: { targetBits: 2, lambda: 0.05 } },
} satisfies TrainConfigInput;

describe('trainNode on wasm with real MNIST digits', () => {
  it('Ctrl-C saves a checkpoint; --resume ends exactly where an uninterrupted run does', async () => {
    const data = await loadMnistEmbedded();
    const small = { ...data, test: { ...data.test, count: 250 } };
    const quiet = () => {};
    const straight = await trainNode({
      model: () => mnistCnn({ seed: 5 }),
      data: small,
      config,
      out: join(root, 'straight'),
      backend: 'wasm',
      log: quiet,
    });
    expect(straight.backend.name).toBe('wasm');
    expect(straight.stopped).toBe(false);
    // result.model is the trained network; the run directory is complete
    expect(straight.model.predict).toBeTypeOf('function');
    expect(straight.report.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'conv3', 'dense']);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint/csq.ckpt', 'model/model.json']) {
      expect(existsSync(join(root, 'straight', f)), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(root, 'straight', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      epochs: 2,
      exactAccuracy: straight.exactAccuracy,
      floatAccuracy: null,
      backend: 'wasm',
      bits: 8,
      // mnist-cnn: 23,824 kernel weights, 4 x 112 batch-norm values, 10 biases
      float32Bytes: 4 * 24282,
    });
    expect(JSON.parse(JSON.stringify(straight.summary))).toEqual(summary);
    // the packed size is the exporter's own file length; the trim states target and reached
    expect(summary.packedBytes).toBe((await exportPackedModel(straight.model)).length);
    expect(summary.trim).toMatchObject({ enforce: 'trim', targetBits: 2, met: true, missedBy: 0 });
    expect(summary.reachedBits).toBeLessThanOrEqual(2);
    // the same call again without resume refuses to overwrite the run
    await expect(
      trainNode({
        model: () => mnistCnn({ seed: 5 }),
        data: small,
        config,
        out: join(root, 'straight'),
        backend: straight.backend,
        log: quiet,
      }),
    ).rejects.toThrow(/already holds a run; pass --resume/);

    const out = join(root, 'interrupted');
    const first = await trainNode({
      model: () => mnistCnn({ seed: 5 }),
      data: small,
      config,
      out,
      backend: 'wasm',
      log: quiet,
      callbacks: {
        onBatchEnd: (l) => {
          if (l.epoch === 0 && l.batch === 1) process.emit('SIGINT');
        },
      },
    });
    expect(first.stopped).toBe(true);
    expect(first.history).toHaveLength(0);
    expect(readFileSync(join(out, 'checkpoint', 'csq.ckpt')).length).toBeGreaterThan(1000);

    const resumed = await trainNode({
      model: () => mnistCnn({ seed: 123 }),
      data: small,
      config,
      out,
      resume: true,
      backend: 'wasm',
      log: quiet,
    });
    expect(resumed.history.map((l) => [l.loss, l.softAccuracy, l.exactAccuracy, l.R])).toEqual(
      straight.history.map((l) => [l.loss, l.softAccuracy, l.exactAccuracy, l.R]),
    );
    const strip = (p: string) => readFileSync(p, 'utf8').replace(/"seconds":[0-9.e+-]+/g, '');
    expect(strip(join(out, 'metrics.jsonl'))).toBe(strip(join(root, 'straight', 'metrics.jsonl')));
    expect(
      readFileSync(join(out, 'model', 'weights.bin')).equals(
        readFileSync(join(root, 'straight', 'model', 'weights.bin')),
      ),
    ).toBe(true);
  }, 300_000);

  it('refuses a run config that disagrees with the training config (config.json tells the truth)', async () => {
    const data = await loadMnistEmbedded();
    const out = join(root, 'disagree');
    await expect(
      trainNode({
        model: () => mnistCnn({ seed: 5 }),
        data,
        config,
        out,
        backend: 'cpu',
        log: () => {},
        run: { ...runConfigFromTrain(resolveTrainConfig(config)), epochs: 3 },
      }),
    ).rejects.toThrow(/run has epochs = 3 while config has epochs = 2/);
    expect(existsSync(join(out, 'config.json'))).toBe(false);
  });
});
