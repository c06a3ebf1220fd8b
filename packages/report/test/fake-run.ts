/**
 * Test fixture: a realistic run directory as the csq trainer writes it (contracts
 * "Run directory"): a float baseline, then a CSQ run with N = 8, target 2 bits, ticket at 25.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { betaForEpoch } from '@csq/core';
import type { MetricsLine, SummaryRecord } from '@csq/run-format';

/** ResNet-20-like layer names and parameter counts. */
export const FAKE_LAYERS: Array<{ name: string; params: number }> = [
  { name: 'stem', params: 432 },
  ...[1, 2, 3].flatMap((stage) =>
    [0, 1, 2].flatMap((block) =>
      ['a', 'b'].map((c) => ({
        name: `stage${stage}_block${block}_conv_${c}`,
        params:
          stage === 1
            ? 2304
            : block === 0 && c === 'a'
              ? 4608 * (stage - 1)
              : 9216 * 4 ** (stage - 2),
      })),
    ),
  ),
  { name: 'fc', params: 640 },
];

export interface FakeRun {
  metrics: MetricsLine[];
  summary: SummaryRecord;
  epochs: number;
  floatEpochs: number;
  ticket: number;
}

/** Builds the metrics and summary of a fake run (deterministic). */
export function fakeRun(
  opts: { epochs?: number; floatEpochs?: number; ticket?: number } = {},
): FakeRun {
  const epochs = opts.epochs ?? 30;
  const floatEpochs = opts.floatEpochs ?? 10;
  const ticket = opts.ticket ?? 25;
  const bits = 8;
  const targetBits = 2;
  const metrics: MetricsLine[] = [];
  for (let e = 0; e < floatEpochs; e++) {
    const acc = 0.9 - 0.5 * Math.exp(-e / 3);
    metrics.push({
      model: 'float',
      epoch: e,
      epochs: floatEpochs,
      phase: 'float',
      lr: 0.1,
      loss: 2 * Math.exp(-e / 4) + 0.2,
      ce: 2 * Math.exp(-e / 4) + 0.2,
      trainAccuracy: acc + 0.02,
      floatAccuracy: acc,
      seconds: 3.5,
    });
  }
  const total = FAKE_LAYERS.reduce((a, l) => a + l.params, 0);
  for (let e = 0; e < epochs; e++) {
    const progress = Math.min(1, e / ticket);
    const R = 1 - (0.75 * (1 - Math.exp(-5 * progress))) / (1 - Math.exp(-5));
    const avgBitsSlots = bits * R;
    const layerBits: Record<string, number> = {};
    let sizeBits = 0;
    FAKE_LAYERS.forEach((l, i) => {
      const b = Math.max(1, Math.min(bits, Math.round(avgBitsSlots + ((i % 3) - 1))));
      layerBits[l.name] = b;
      sizeBits += b * l.params;
    });
    const acc = 0.85 - 0.5 * Math.exp(-e / 6);
    const line: MetricsLine = {
      model: 'csq',
      epoch: e,
      epochs,
      phase: e >= ticket ? 'ticket' : 'search',
      lr: 0.1 * 0.5 * (1 + Math.cos((Math.PI * e) / epochs)),
      beta: betaForEpoch(Math.min(e, ticket), { ticket }),
      loss: 2.2 * Math.exp(-e / 5) + 0.3 + 0.05 * (R - 0.25),
      ce: 2.2 * Math.exp(-e / 5) + 0.3,
      penalty: 0.05 * (R - 0.25),
      trainAccuracy: acc + 0.03,
      softAccuracy: acc,
      R,
      targetR: targetBits / bits,
      avgBitsSlots,
      avgBitsParams: sizeBits / total,
      layerBits,
      seconds: 7.25,
    };
    // the exact model is evaluated every 5 epochs and at the end
    if (e % 5 === 4 || e === epochs - 1) line.exactAccuracy = acc - 0.02;
    metrics.push(line);
  }
  const last = metrics[metrics.length - 1]!;
  const summary: SummaryRecord = {
    recipe: 'cifar-n8t2-smoke',
    backend: 'wasm',
    epochs,
    floatAccuracy: metrics[floatEpochs - 1]!.floatAccuracy!,
    softAccuracy: last.softAccuracy!,
    exactAccuracy: last.exactAccuracy!,
    avgBits: { slots: last.avgBitsSlots!, params: last.avgBitsParams! },
    sizeBytes: Math.ceil((last.avgBitsParams! * total) / 8),
    layers: FAKE_LAYERS.map((l) => ({
      name: l.name,
      bits: last.layerBits![l.name]!,
      params: l.params,
    })),
    wallSeconds: 7.25 * epochs + 3.5 * floatEpochs,
    targetBits,
    budget: 'slots',
    bits,
  };
  return { metrics, summary, epochs, floatEpochs, ticket };
}

/** Writes a fake run's metrics.jsonl and summary.json into `dir`. */
export function writeFakeRun(dir: string, run: FakeRun = fakeRun()): FakeRun {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    `${run.metrics.map((m) => JSON.stringify(m)).join('\n')}\n`,
  );
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(run.summary, null, 2));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ recipe: run.summary.recipe }));
  return run;
}
