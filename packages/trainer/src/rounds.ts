/**
 * The rounds schedule of spec 2 as a plugin (ImageNet recipes): the rewind point is saved at
 * epoch `rewindEpoch` of round 0; between search rounds the masks are reset
 * (m <- min(beta m, s0), beta restarts at 1); the final run starts from hard masks with the bit
 * planes and float weights rewound and a fresh optimizer.
 */
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainerPlugin } from './types.js';

/** The rounds plugin (does nothing for the epoch schedule). */
export function roundsSchedule(): TrainerPlugin {
  return {
    onEpochBegin: async (s, plan) => {
      const csq = s.cfg.csq;
      if (csq?.schedule !== 'rounds') return;
      if (plan.round === 0 && plan.cycleEpoch === csq.rewindEpoch) {
        const rewind: Float32Array[] = [];
        for (const v of s.weights)
          rewind.push(
            s.masks.has(v) ? new Float32Array(0) : ((await v.data()) as Float32Array).slice(),
          );
        s.rewind = rewind;
        s.log(`rewind point saved at epoch ${s.epoch + 1}`);
      }
      if (plan.round === 0 || plan.cycleEpoch !== 0) return;
      // Not before the final run: its hard masks H(m) keep the bits the last round selected
      // (m > 0), which a reset to s0 = 0 would all turn off.
      if (plan.round < csq.rounds) s.controller.resetMasks(csq.finalTemp, csq.s0);
      if (plan.round === csq.rounds) {
        const rewind = s.rewind;
        if (!rewind) throw new CsqError('CSQ_INTERNAL', 'no rewind point was saved in round 0');
        s.weights.forEach((v, i) => {
          if (!s.masks.has(v)) v.assign(tf.tensor(rewind[i]!, v.shape));
        });
        s.optimizer.reset();
        s.log('final run: masks hardened, weights rewound');
      }
    },
  };
}
