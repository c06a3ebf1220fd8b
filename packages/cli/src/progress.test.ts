import type { MetricsLine } from '@csq/run-format';
import { describe, expect, it } from 'vitest';
import { progressCallbacks } from './progress.js';

const line: MetricsLine = {
  model: 'csq',
  epoch: 0,
  epochs: 2,
  phase: 'search',
  lr: 0.05,
  beta: 1,
  loss: 0.5,
  ce: 0.5,
  trainAccuracy: 0.9,
  softAccuracy: 0.91,
  R: 0.5,
  targetR: 0.25,
  avgBitsSlots: 4,
  seconds: 3,
};

function drive(isTTY: boolean): string {
  let out = '';
  const cb = progressCallbacks({
    write: (t) => {
      out += t;
    },
    isTTY,
  });
  cb.onEpochBegin?.(0, {
    epoch: 0,
    cycleEpoch: 0,
    round: 0,
    beta: 1,
    ticket: false,
    lr: 0.05,
    phase: 'search',
  });
  for (let b = 0; b < 4; b++)
    cb.onBatchEnd?.({
      epoch: 0,
      batch: b,
      batches: 4,
      loss: 1 - b / 10,
      ce: 1,
      penalty: 0,
      accuracy: 0.5,
    });
  cb.onEpochEnd?.(line);
  return out;
}

describe('progress output', () => {
  it('on a terminal: a redrawn bar with ETA, then the epoch line', () => {
    const out = drive(true);
    expect(out.match(/\r\x1b\[2K/g)?.length).toBeGreaterThanOrEqual(5);
    expect(out).toContain('[=======================>] 4/4');
    expect(out).toMatch(/ETA \d+s/);
    // the bar is cleared, then the epoch's line is printed
    expect(out).toMatch(
      /ETA \d+s\r\x1b\[2K\[csq\] epoch 1\/2 \| search [^\r]* soft 91\.00%[^\r]*\n$/,
    );
  });

  it('not a terminal: one plain line per epoch, no control characters', () => {
    const out = drive(false);
    expect(out).not.toMatch(/[\r\x1b]/);
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out).toMatch(
      /^\[csq\] epoch 1\/2 \| search \| lr 0\.0500 \| loss 0\.5000 .* R 0\.500 \(target 0\.250\)/,
    );
  });
});
