import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnistEmbedded } from '@csq/data/node';
import { mnistCnn } from '@csq/layers';
import type { TrainConfigInput } from '@csq/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import './index.js';
import { trainNode } from './train-node.js';

const root = mkdtempSync(join(tmpdir(), 'csq-train-node-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config: TrainConfigInput = {
  epochs: 2,
  batchSize: 32,
  lr: 0.05,
  limitTrain: 128,
  evalBatchSize: 250,
  seed: 3,
  csq: { ticket: 1, budget: { targetBits: 2, lambda: 0.05 } },
};

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
});
