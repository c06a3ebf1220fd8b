import { expectClose } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import {
  betaForEpoch,
  betaForRoundEpoch,
  isTicketPhase,
  resetMaskForRound,
  selectedBits,
  selectedPositions,
} from './schedule.js';

describe('spec 2 temperature schedules', () => {
  it('per-epoch form: 200^(e / ticket)', () => {
    expect(betaForEpoch(0, { ticket: 10 })).toBe(1);
    expectClose(betaForEpoch(10, { ticket: 10 }), 200, 1e-12);
    expectClose(betaForEpoch(5, { ticket: 10 }), Math.sqrt(200), 1e-12);
    expectClose(betaForEpoch(12, { ticket: 10 }), 200 ** 1.2, 1e-12);
    expectClose(betaForEpoch(3, { ticket: 6, finalTemp: 64 }), 8, 1e-12);
    expect(() => betaForEpoch(1, { ticket: 0 })).toThrow(/ticket/);
    expect(() => betaForEpoch(-1, { ticket: 3 })).toThrow(/non-negative/);
  });

  it('rounds form: grows by finalTemp^(1/(E-1)) per epoch, 1 at the start of the round', () => {
    const E = 5;
    const betas = Array.from({ length: E }, (_, e) => betaForRoundEpoch(e, { epochsPerRound: E }));
    expect(betas[0]).toBe(1);
    expectClose(betas[E - 1]!, 200, 1e-12);
    for (let e = 1; e < E; e++) expectClose(betas[e]! / betas[e - 1]!, 200 ** (1 / (E - 1)), 1e-12);
    expect(() => betaForRoundEpoch(5, { epochsPerRound: 5 })).toThrow(/outside a round/);
  });

  it('ticket phase starts at the ticket epoch', () => {
    expect(isTicketPhase(4, 5)).toBe(false);
    expect(isTicketPhase(5, 5)).toBe(true);
  });

  it('mask reset between rounds: min(beta m, s0)', () => {
    expectClose(resetMaskForRound([0.5, -0.1, 0, 0.001], 100), [0, -10, 0, 0], 1e-6);
    expectClose(resetMaskForRound([0.5, -0.1], 2, 0.3), [0.3, -0.2], 1e-6);
  });

  it('counts selected bits: m >= 0 while continuous, m > 0 in the exact model', () => {
    expect(selectedPositions([0.2, -1, 0, 3])).toEqual([0, 2, 3]);
    expect(selectedPositions([0.2, -1, 0, 3], 'exact')).toEqual([0, 3]);
    expect(selectedBits([-1, -2])).toBe(0);
  });
});
