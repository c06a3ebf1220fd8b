/**
 * Spec 2: the temperature schedules, the ticket phase and the round-to-round mask reset.
 */
import { assertFinite, CsqError } from './errors.js';

/** Default final temperature of the paper's recipes. */
export const FINAL_TEMP = 200;

function assertEpoch(epoch: number, what = 'epoch'): void {
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new CsqError(
      'CSQ_BAD_EPOCH',
      `${what} must be a non-negative integer, got ${String(epoch)}.`,
    );
  }
}

/**
 * Spec 2, per-epoch form (the authors' CIFAR script): beta_e = finalTemp^(e / ticket), so beta
 * is 1 at epoch 0 and passes finalTemp at the ticket epoch (it keeps growing after it).
 */
export function betaForEpoch(epoch: number, opts: { ticket: number; finalTemp?: number }): number {
  assertEpoch(epoch);
  const finalTemp = opts.finalTemp ?? FINAL_TEMP;
  assertFinite(finalTemp, 'finalTemp', { positive: true });
  if (!(opts.ticket > 0)) {
    throw new CsqError(
      'CSQ_BAD_TICKET',
      `ticket must be a positive epoch number, got ${String(opts.ticket)}.`,
    );
  }
  return finalTemp ** (epoch / opts.ticket);
}

/**
 * Spec 2, rounds form (Continuous Sparsification and the ImageNet script): within a round of E
 * epochs beta grows by finalTemp^(1/(E-1)) per epoch from 1, reaching finalTemp at the last
 * epoch of the round; it is reset to 1 when the next round starts.
 */
export function betaForRoundEpoch(
  epochInRound: number,
  opts: { epochsPerRound: number; finalTemp?: number },
): number {
  assertEpoch(epochInRound, 'epochInRound');
  const { epochsPerRound } = opts;
  if (!Number.isInteger(epochsPerRound) || epochsPerRound < 1) {
    throw new CsqError(
      'CSQ_BAD_EPOCH',
      `epochsPerRound must be a positive integer, got ${String(epochsPerRound)}.`,
    );
  }
  if (epochInRound >= epochsPerRound) {
    throw new CsqError(
      'CSQ_BAD_EPOCH',
      `epochInRound ${epochInRound} is outside a round of ${epochsPerRound} epochs (0..${epochsPerRound - 1}).`,
    );
  }
  const finalTemp = opts.finalTemp ?? FINAL_TEMP;
  assertFinite(finalTemp, 'finalTemp', { positive: true });
  if (epochsPerRound === 1) return 1;
  return finalTemp ** (epochInRound / (epochsPerRound - 1));
}

/** Spec 2: the ticket phase (hard, frozen masks) starts at epoch `ticket`. */
export function isTicketPhase(epoch: number, ticket: number): boolean {
  return epoch >= ticket;
}

/**
 * Spec 2, between rounds: m <- min(beta * m, s0) with the round's final beta, after which beta
 * restarts at 1. Returns a new array.
 */
export function resetMaskForRound(m: ArrayLike<number>, beta: number, s0 = 0): Float32Array {
  assertFinite(beta, 'beta', { positive: true });
  assertFinite(s0, 's0');
  const out = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = Math.min(beta * m[i]!, s0);
  return out;
}

/**
 * Bit positions selected by mask logits. During the continuous phase a bit counts as selected
 * when sigma(beta m) >= 0.5, i.e. m >= 0 (spec 2); in the exact model when H(m) = 1, i.e. m > 0.
 */
export function selectedPositions(
  m: ArrayLike<number>,
  phase: 'continuous' | 'exact' = 'continuous',
): number[] {
  const out: number[] = [];
  for (let i = 0; i < m.length; i++) {
    const v = m[i]!;
    if (phase === 'exact' ? v > 0 : v >= 0) out.push(i);
  }
  return out;
}

/** Layer precision b_l: the number of selected positions (see `selectedPositions`). */
export function selectedBits(
  m: ArrayLike<number>,
  phase: 'continuous' | 'exact' = 'continuous',
): number {
  return selectedPositions(m, phase).length;
}
