import { CsqController } from '@csq/layers';
import type { TrainConfigInput } from '@csq/run-format';
import { useBackend } from '@csq/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyData, tinyModel } from '../test/fixtures.js';
import { train } from './train.js';

// no budget pressure (lambda 0) and a 1-bit target: the search keeps the 4-bit layers above it
const config = (
  budget: NonNullable<Exclude<TrainConfigInput['csq'], false | undefined>>['budget'],
  over: TrainConfigInput = {},
): TrainConfigInput => ({
  epochs: 3,
  batchSize: 16,
  lr: 0.05,
  seed: 7,
  evalBatchSize: 24,
  csq: { ticket: 2, budget: { mode: 'params', targetBits: 1, lambda: 0, ...budget } },
  ...over,
});

beforeAll(() => useBackend('cpu'));

describe('budget enforcement (csq.budget.enforce)', () => {
  it("'off' misses the target and says by how much; 'trim' ends at or under it, fine-tuned", async () => {
    const logs: string[] = [];
    const off = await train({
      model: tinyModel(),
      data: tinyData(48, 24),
      config: config({ enforce: 'off' }),
      log: (m) => logs.push(m),
    });
    expect(off.report!.avgBitsParams).toBeGreaterThan(1);
    expect(off.trim).toMatchObject({ targetBits: 1, trimmed: [] });
    expect(off.trim!.reachedAfter).toBeCloseTo(off.report!.reachedBits, 9);
    expect(logs.some((l) => /ticket phase: csq budget trim .*bits over the target/.test(l))).toBe(
      true,
    );

    logs.length = 0;
    const model = tinyModel();
    const trimmed = await train({
      model,
      data: tinyData(48, 24),
      config: config({ enforce: 'trim' }),
      log: (m) => logs.push(m),
    });
    expect(trimmed.trim!.reachedBefore).toBeGreaterThan(1);
    expect(trimmed.trim!.trimmed.length).toBeGreaterThan(0);
    expect(trimmed.trim!.reachedAfter).toBeLessThanOrEqual(1);
    // the end of training: the exact model is at or under the target, the ticket epoch ran on it
    expect(trimmed.report!.reachedBits).toBeLessThanOrEqual(1 + 1e-9);
    expect(trimmed.report!.avgBitsParams).toBeLessThanOrEqual(1 + 1e-9);
    expect(trimmed.history.at(-1)!.phase).toBe('ticket');
    expect(new CsqController(model).layerBits('exact')).toEqual(
      Object.fromEntries(trimmed.report!.layers.map((l) => [l.name, l.bits])),
    );
    expect(
      logs.some((l) => /ticket phase: csq budget trim \(params\).*trimmed [1-9]/.test(l)),
    ).toBe(true);
  });

  it('per-layer bounds from the config hold after the trim (minBits 2 on conv)', async () => {
    const r = await train({
      model: tinyModel(),
      data: tinyData(48, 24),
      config: config({ enforce: 'trim', targetBits: 2, layers: { conv: { minBits: 2 } } }),
    });
    const conv = r.report!.layers.find((l) => l.name === 'conv')!;
    expect(conv.bits).toBeGreaterThanOrEqual(2);
    expect(conv.bounds.minBits).toBe(2);
    expect(r.report!.reachedBits).toBeLessThanOrEqual(2 + 1e-9);
  });
});
