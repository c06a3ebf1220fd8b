import { CsqController } from '@csq/layers';
import { checkpointName, parseMetrics, type TrainConfigInput } from '@csq/run-format';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyData, tinyModel, weightValues } from '../test/fixtures.js';
import { MemoryRunStore } from './store.js';
import { train } from './train.js';

const csqConfig = (over: TrainConfigInput = {}): TrainConfigInput => ({
  epochs: 4,
  batchSize: 16,
  lr: 0.05,
  warmupEpochs: 1,
  seed: 7,
  evalBatchSize: 24,
  exactEval: 'epoch',
  csq: { ticket: 3, budget: { mode: 'slots', targetBits: 2, lambda: 0.5 } },
  ...over,
});

beforeAll(() => useBackend('cpu'));

describe('the CSQ loop', () => {
  it('trains, records every epoch, prunes toward the budget, freezes masks in the ticket phase, keeps memory flat', async () => {
    const model = tinyModel();
    const controller = new CsqController(model);
    const store = new MemoryRunStore();
    const masksAt: number[][] = [];
    const tensorsAtEpochEnd: number[] = [];
    const result = await train({
      model,
      data: tinyData(96, 48),
      config: csqConfig({
        epochs: 8,
        lr: 0.1,
        csq: { ticket: 6, budget: { mode: 'slots', targetBits: 2, lambda: 0.5 } },
      }),
      store,
      callbacks: {
        onEpochEnd: () => {
          masksAt.push(controller.maskVariables().flatMap((v) => Array.from(v.read().dataSync())));
          tensorsAtEpochEnd.push(tf.memory().numTensors);
        },
      },
    });
    expect(result.stopped).toBe(false);
    expect(result.history).toHaveLength(8);
    const lines = parseMetrics((await store.readText('metrics.jsonl'))!);
    expect(lines).toEqual(result.history);
    for (const l of lines) {
      for (const k of [
        'loss',
        'ce',
        'penalty',
        'trainAccuracy',
        'softAccuracy',
        'exactAccuracy',
        'beta',
        'R',
        'targetR',
        'avgBitsSlots',
        'avgBitsParams',
        'lr',
        'seconds',
      ]) {
        expect(
          Number.isFinite((l as unknown as Record<string, number>)[k]),
          `${k} of epoch ${l.epoch}`,
        ).toBe(true);
      }
      expect(Object.keys(l.layerBits!)).toEqual(['conv', 'fc']);
    }
    expect(lines.map((l) => l.phase)).toEqual([...new Array(6).fill('search'), 'ticket', 'ticket']);
    expect(lines[0]!.beta).toBe(1);
    expect(lines[6]!.beta).toBeCloseTo(200, 6);
    // the budget term holds the 4-bit layers near the 2-bit target (R_T = 0.5); without it this
    // run ends at R = 0.875
    expect(lines[7]!.targetR).toBe(0.5);
    expect(Math.abs(lines[7]!.R! - 0.5)).toBeLessThanOrEqual(0.125);
    // ticket epochs: masks did not move; the search epochs did move them
    expect(masksAt[7]).toEqual(masksAt[5]);
    expect(masksAt[6]).toEqual(masksAt[5]);
    expect(masksAt[4]).not.toEqual(masksAt[3]);
    // no tensors leak from epoch to epoch
    expect(tensorsAtEpochEnd[7]).toBe(tensorsAtEpochEnd[1]);
    // it learned (3 classes: chance is 1/3), soft and exact
    expect(result.softAccuracy).toBeGreaterThan(0.8);
    expect(result.exactAccuracy).toBeGreaterThan(0.8);
    expect(result.exactAccuracy).toBe(lines[7]!.exactAccuracy);
    expect(result.report?.layers.map((l) => l.name)).toEqual(['conv', 'fc']);
  }, 120_000);

  it.each([
    [1, 'search'],
    [2, 'ticket'],
  ])(
    'stops on abort in epoch %i (%s phase) with a checkpoint and resumes to exactly the uninterrupted result',
    async (stopEpoch) => {
      const cfg = csqConfig({
        epochs: 3,
        csq: { ticket: 2, budget: { targetBits: 2, lambda: 0.2 } },
      });
      const straight = tinyModel();
      const refStore = new MemoryRunStore();
      const ref = await train({ model: straight, data: tinyData(), config: cfg, store: refStore });

      const store = new MemoryRunStore();
      const abort = new AbortController();
      const first = tinyModel();
      const stopped = await train({
        model: first,
        data: tinyData(),
        config: cfg,
        store,
        signal: abort.signal,
        callbacks: {
          onBatchEnd: (l) => void (l.epoch === stopEpoch && l.batch === 1 && abort.abort()),
        },
      });
      expect(stopped.stopped).toBe(true);
      expect(stopped.history).toHaveLength(stopEpoch);
      expect(await store.readBytes(checkpointName('csq'))).toBeDefined();

      const second = tinyModel({ seed: 99 }); // different init: the checkpoint must overwrite it
      const resumed = await train({
        model: second,
        data: tinyData(),
        config: cfg,
        store,
        resume: true,
      });
      expect(resumed.history.map((l) => l.loss)).toEqual(ref.history.map((l) => l.loss));
      expect(resumed.history.map((l) => l.softAccuracy)).toEqual(
        ref.history.map((l) => l.softAccuracy),
      );
      expect(weightValues(second)).toEqual(weightValues(straight));
      const noTime = (t: string | undefined) => t!.replace(/"seconds":[0-9.e-]+/g, '"seconds":0');
      expect(noTime(await store.readText('metrics.jsonl'))).toBe(
        noTime(await refStore.readText('metrics.jsonl')),
      );
    },
    120_000,
  );

  it('refuses to resume with other settings, or without a checkpoint', async () => {
    const store = new MemoryRunStore();
    await train({
      model: tinyModel(),
      data: tinyData(24, 6),
      config: csqConfig({ epochs: 2, csq: { ticket: 1 } }),
      store,
    });
    await expect(
      train({
        model: tinyModel(),
        data: tinyData(24, 6),
        config: csqConfig({ epochs: 2, lr: 0.2, csq: { ticket: 1 } }),
        store,
        resume: true,
      }),
    ).rejects.toThrow(/started with lr = 0.05, but now lr = 0.2/);
    await expect(
      train({
        model: tinyModel(),
        data: tinyData(24, 6),
        config: csqConfig(),
        store: new MemoryRunStore(),
        resume: true,
      }),
    ).rejects.toThrow(/no checkpoint checkpoint\/csq.ckpt in memory/);
    await expect(
      train({ model: tinyModel({ quantized: false }), data: tinyData(24, 6), config: csqConfig() }),
    ).rejects.toThrow(/no CSQ layers/);
    await expect(
      train({ model: tinyModel(), data: tinyData(24, 6), config: { epochs: 1 } }),
    ).rejects.toThrow(/no csq section/);
  }, 120_000);

  it('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const store = new MemoryRunStore();
    let epochsSaved = -1;
    const run = train({
      model: tinyModel(),
      data: tinyData(),
      config: csqConfig({ epochs: 3, warmupEpochs: 0, lr: 1e30, csq: { ticket: 2 } }),
      store,
      callbacks: {
        onEpochEnd: (l) => {
          epochsSaved = l.epoch;
        },
      },
    });
    await expect(run).rejects.toThrow(
      /the loss became (NaN|Infinity|-Infinity) at epoch \d+, batch \d+.*Lower the learning rate/s,
    );
    // whatever completed before the failure is still a valid checkpoint
    const ck = await store.readBytes(checkpointName('csq'));
    if (epochsSaved >= 0) expect(ck).toBeDefined();
    else expect(ck).toBeUndefined();
  }, 120_000);

  it('rounds: mask reset between rounds, final run from the rewound bit planes and float weights', async () => {
    const model = tinyModel();
    const controller = new CsqController(model);
    const masks = new Set(controller.maskVariables().map((v) => v.read()));
    const snapshots = new Map<number, Float32Array[]>();
    const maskSnap = new Map<number, number[]>();
    const maskEnd = new Map<number, number[]>();
    let lastLayerBits: number[] = [];
    const maskValues = () =>
      controller.maskVariables().flatMap((v) => Array.from(v.read().dataSync()));
    const nonMask = () =>
      model.weights
        .filter((w) => !masks.has(w.read()))
        .map((w) => w.read().dataSync() as Float32Array);
    await train({
      model,
      data: tinyData(24, 6),
      config: csqConfig({
        epochs: 2,
        warmupEpochs: 0,
        csq: {
          schedule: 'rounds',
          rounds: 2,
          rewindEpoch: 1,
          budget: { targetBits: 2, lambda: 0.5 },
        },
      }),
      callbacks: {
        onEpochBegin: (e) => {
          snapshots.set(e, nonMask());
          maskSnap.set(e, maskValues());
        },
        onEpochEnd: (l) => {
          maskEnd.set(l.epoch, maskValues());
          lastLayerBits = Object.values(l.layerBits ?? {});
        },
      },
    });
    // epoch 1 (round 0) is the rewind point; epoch 4 starts the final run from it
    expect(snapshots.get(4)).toEqual(snapshots.get(1));
    expect(snapshots.get(3)).not.toEqual(snapshots.get(1));
    // between search rounds the masks are capped at s0 = 0 (a cap that changed something) ...
    expect(maskEnd.get(1)!.some((m) => m > 0)).toBe(true);
    for (const m of maskSnap.get(2)!) expect(m).toBeLessThanOrEqual(0);
    // ... but the final run keeps the last round's masks, since its hard masks H(m) need m > 0
    expect(maskSnap.get(4)).toEqual(maskEnd.get(3));
    expect(lastLayerBits.some((b) => b > 0)).toBe(true);
  }, 120_000);

  it('trains a float baseline with the same schedule', async () => {
    const store = new MemoryRunStore();
    const r = await train({
      model: tinyModel({ quantized: false }),
      data: tinyData(),
      config: { ...csqConfig(), csq: false },
      store,
    });
    expect(r.kind).toBe('float');
    expect(
      r.history.every(
        (l) => l.model === 'float' && l.floatAccuracy !== undefined && l.beta === undefined,
      ),
    ).toBe(true);
    expect(r.exactAccuracy).toBe(r.softAccuracy);
    expect(r.softAccuracy).toBeGreaterThan(0.5);
    expect(await store.readBytes(checkpointName('float'))).toBeDefined();
  }, 120_000);

  it('plugins see the state; onTicketBegin runs once, before the first batch of the ticket phase', async () => {
    const seen: [number, number, number, boolean][] = [];
    const store = new MemoryRunStore();
    // a torn last line, as a killed baseline can leave it, is dropped (and said) on the next write
    await store.writeText('metrics.jsonl', '{"model":"float","epoch":0,"epo');
    const logs: string[] = [];
    await train({
      model: tinyModel(),
      data: tinyData(24, 6),
      config: csqConfig({ epochs: 3, csq: { ticket: 2 } }),
      store,
      log: (m) => logs.push(m),
      plugins: [
        {
          onTicketBegin: (s, plan) =>
            void seen.push([s.epoch, s.batch, s.history.length, plan.ticket]),
        },
      ],
    });
    expect(seen).toEqual([[2, 0, 2, true]]);
    expect(logs.some((l) => /dropped the torn last line 1 of metrics.jsonl/.test(l))).toBe(true);
    expect(parseMetrics((await store.readText('metrics.jsonl'))!).map((l) => l.model)).toEqual([
      'csq',
      'csq',
      'csq',
    ]);
  }, 120_000);
});
