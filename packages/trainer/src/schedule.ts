/**
 * Per-epoch schedules of the loop: learning rate (linear warm-up, then one cosine cycle to 0,
 * spec 6), and where an epoch sits in the CSQ schedule (spec 2).
 */
import { betaForEpoch, betaForRoundEpoch } from '@csq/core';
import type { TrainConfig } from '@csq/run-format';

/**
 * Learning rate of 0-based epoch `e` of an `epochs`-long cycle: lr (e+1)/W for e < W, then
 * lr * (1 + cos(pi (e - W) / (epochs - W))) / 2.
 */
export function learningRate(
  e: number,
  cfg: Pick<TrainConfig, 'lr' | 'warmupEpochs' | 'epochs'>,
): number {
  const W = cfg.warmupEpochs;
  if (e < W) return (cfg.lr * (e + 1)) / W;
  return (cfg.lr * (1 + Math.cos((Math.PI * (e - W)) / (cfg.epochs - W)))) / 2;
}

/** Where a global epoch index sits in the schedule. */
export interface EpochPlan {
  /** Global 0-based epoch index over the whole run. */
  epoch: number;
  /** Epoch within its cycle (round or the whole run), drives lr and beta. */
  cycleEpoch: number;
  /** Round index (rounds form; the final run is round `rounds`). 0 in the epoch form. */
  round: number;
  /** Temperature for this epoch (1 for a float run). */
  beta: number;
  /** Hard, frozen masks. */
  ticket: boolean;
  lr: number;
  phase: 'search' | 'ticket' | 'float';
}

/** The plan of global epoch `epoch` for this config. */
export function planEpoch(epoch: number, cfg: TrainConfig): EpochPlan {
  const csq = cfg.csq;
  if (!csq) {
    return {
      epoch,
      cycleEpoch: epoch,
      round: 0,
      beta: 1,
      ticket: false,
      lr: learningRate(epoch, cfg),
      phase: 'float',
    };
  }
  if (csq.schedule === 'epoch') {
    const ticket = epoch >= csq.ticket;
    return {
      epoch,
      cycleEpoch: epoch,
      round: 0,
      beta: betaForEpoch(epoch, { ticket: csq.ticket, finalTemp: csq.finalTemp }),
      ticket,
      lr: learningRate(epoch, cfg),
      phase: ticket ? 'ticket' : 'search',
    };
  }
  const round = Math.floor(epoch / cfg.epochs);
  const cycleEpoch = epoch % cfg.epochs;
  const final = round >= csq.rounds;
  return {
    epoch,
    cycleEpoch,
    round,
    // the final run keeps the hardest temperature of a round for the soft bit planes
    beta: final
      ? csq.finalTemp
      : betaForRoundEpoch(cycleEpoch, { epochsPerRound: cfg.epochs, finalTemp: csq.finalTemp }),
    ticket: final,
    lr: learningRate(cycleEpoch, cfg),
    phase: final ? 'ticket' : 'search',
  };
}
