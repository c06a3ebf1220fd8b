/**
 * Budget enforcement as a plugin of the loop (`csq.budget.enforce`): when a search ends (the
 * ticket epoch, or the end of each search round of the rounds schedule, before its mask reset),
 * `trimToBudget` turns the least important selected bits off until the target is met in the
 * budget's own counting, within the layers' bounds; the ticket phase then fine-tunes the
 * trimmed network. With 'off' only the layers' floors and ceilings are enforced, and the report
 * says how far the search ended from its target.
 */
import { formatTrimReport, trimToBudget } from '@csq/budget';
import type { TrainerPlugin, TrainingState } from './types.js';

function enforce(s: TrainingState, where: string): void {
  if (!s.budget || !s.cfg.csq) return;
  const mode = s.cfg.csq.budget.enforce;
  const report = trimToBudget(s.budget, { boundsOnly: mode !== 'trim' });
  s.trims.push(report);
  const miss =
    mode === 'trim' || report.reachedAfter <= report.targetBits
      ? ''
      : ` (enforce off: ${(report.reachedAfter - report.targetBits).toFixed(3)} bits over the target)`;
  s.log(`${where}: ${formatTrimReport(report)}${miss}`);
}

/** The enforcement plugin (does nothing for a float run). */
export function budgetEnforcement(): TrainerPlugin {
  return {
    onEpochBegin: (s, plan) => {
      const csq = s.cfg.csq;
      // the end of search round plan.round - 1, before the rounds plugin resets the masks (the
      // final run's start is a ticket start, handled by onTicketBegin)
      if (
        csq?.schedule === 'rounds' &&
        plan.cycleEpoch === 0 &&
        plan.round > 0 &&
        plan.round < csq.rounds
      )
        enforce(s, `end of round ${plan.round}`);
    },
    onTicketBegin: (s) => enforce(s, `epoch ${s.epoch + 1}, ticket phase`),
  };
}
