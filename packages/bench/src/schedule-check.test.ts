import { describe, expect, it } from 'vitest';
import { recipeConfig } from './job.js';
import { checkSchedule, type TicketTrim } from './schedule-check.js';
import type { MetricsLine, RunConfig } from './train-job.js';

const bitsA = { conv1: 8, fc: 5 };
const bitsB = { conv1: 6, fc: 3 };

function line(epoch: number, extra: Partial<MetricsLine>): MetricsLine {
  return {
    model: 'csq',
    epoch,
    epochs: 0,
    phase: 'search',
    lr: 0.1,
    loss: 1,
    ce: 1,
    trainAccuracy: 0.5,
    seconds: 1,
    ...extra,
  };
}

/** A rounds run as the spec wants it: 2 rounds of 3 epochs, then a 3-epoch final run. */
function roundsRun(finalBits: Record<string, number>): MetricsLine[] {
  const out: MetricsLine[] = [];
  const betas = [1, Math.sqrt(200), 200]; // 200^(c/2) by hand
  for (let e = 0; e < 9; e++) {
    const round = Math.floor(e / 3);
    const final = round === 2;
    out.push(
      line(e, {
        round,
        phase: final ? 'ticket' : 'search',
        beta: final ? 200 : betas[e % 3]!,
        layerBits: final ? finalBits : e === 5 ? bitsB : bitsA,
      }),
    );
  }
  return out;
}

const roundsCfg = {
  ...recipeConfig('imagenet-r50'),
  epochs: 3,
  rounds: 2,
  rewindEpoch: 1,
} as RunConfig;

describe('checkSchedule: rounds form (spec 2, imagenet-r50)', () => {
  it('passes a run that restarts beta every round and keeps the last round bits in the final run', () => {
    const checks = checkSchedule(roundsCfg, roundsRun(bitsB), 200);
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['epochs and rounds', true],
      ['temperature restarts every round', true],
      ['final run with hard masks', true],
      ['final run keeps the bits of the last search round', true],
      ['masks frozen in the final run', true],
      ['beta set on the network', true],
    ]);
  });

  it('flags a final run whose masks were reset (every layer at 0 bits)', () => {
    const checks = checkSchedule(roundsCfg, roundsRun({ conv1: 0, fc: 0 }), 200);
    const bad = checks.filter((c) => !c.ok);
    expect(bad.map((c) => c.name)).toEqual(['final run keeps the bits of the last search round']);
    expect(bad[0]!.detail).toBe(
      'the last search round ended with 2 layers, 9 bits in all, the final run started with 2 layers, 0 bits in all',
    );
  });

  it('counts the ticket enforcement: a layer raised to its floor is expected, an unexplained one is not', () => {
    const last = roundsRun(bitsB).at(-1)!.layerBits!;
    const raisedRun = roundsRun({ ...last, fc: (last.fc ?? 0) + 1 });
    const raised = { trimmed: [], raised: [{ layer: 'fc' }] };
    const kept = (trim?: TicketTrim) =>
      checkSchedule(roundsCfg, raisedRun, 200, trim).find((c) =>
        c.name.startsWith('final run keeps'),
      )!;
    expect(kept(raised).ok).toBe(true);
    expect(kept(undefined).ok).toBe(false);
    // a trim report that does not explain the change does not excuse it
    const other = kept({ trimmed: [{ layer: 'conv1' }], raised: [] });
    expect(other.ok).toBe(false);
    expect(other.detail).toMatch(/after the ticket's budget enforcement/);
  });

  it('flags a temperature that never anneals, a missing final run and beta not on the network', () => {
    const run = roundsRun(bitsB)
      .slice(0, 6)
      .map((l) => ({ ...l, beta: 1 }));
    const checks = checkSchedule(roundsCfg, run, 7);
    const bad = Object.fromEntries(checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
    expect(Object.keys(bad)).toEqual([
      'epochs and rounds',
      'temperature restarts every round',
      'beta set on the network',
    ]);
    expect(bad['epochs and rounds']).toBe('6 epochs, expected 2 x 3 + 3 = 9');
    expect(bad['temperature restarts every round']).toMatch(
      /^round 0 epoch 1: beta 1, expected 14\.142135/,
    );
    expect(bad['beta set on the network']).toBe(
      "the layers hold beta 7, the schedule's last epoch had 1",
    );
  });
});

describe('checkSchedule: epoch form (spec 2, CIFAR and imagenet-r18)', () => {
  const cfg = { ...recipeConfig('cifar-n8t2'), epochs: 4, ticket: 2 } as RunConfig;
  // beta_e = 200^(e/2): 1, 14.14.., 200, 2828.4..
  const run = [0, 1, 2, 3].map((e) =>
    line(e, {
      beta: 200 ** (e / 2),
      phase: e >= 2 ? 'ticket' : 'search',
      layerBits: e >= 2 ? bitsB : bitsA,
    }),
  );

  it('passes the spec schedule', () => {
    const checks = checkSchedule(cfg, run, 200 ** 1.5);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.map((c) => c.name)).toEqual([
      'temperature',
      'ticket phase',
      'masks frozen in the ticket phase',
      'beta set on the network',
    ]);
  });

  it('flags masks that move in the ticket phase and a late ticket', () => {
    const moved = run.map((l) =>
      l.epoch === 3 ? { ...l, layerBits: bitsA, phase: 'search' as const } : l,
    );
    const bad = checkSchedule(cfg, moved, 200 ** 1.5).filter((c) => !c.ok);
    expect(bad.map((c) => c.detail)).toEqual([
      'epoch 3: phase search, expected ticket',
      'epoch 3: bits changed in the ticket phase',
    ]);
  });

  it('ignores float-baseline lines and reports a run without CSQ epochs', () => {
    const float = run.map((l) => ({ ...l, model: 'float' as const }));
    expect(checkSchedule(cfg, [...float, ...run], 200 ** 1.5).every((c) => c.ok)).toBe(true);
    expect(checkSchedule(cfg, float, 1)).toEqual([
      { name: 'metrics', ok: false, detail: 'no CSQ epochs logged' },
    ]);
  });
});
