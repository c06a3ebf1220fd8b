import { expectClose, TEST_BACKENDS, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SgdMomentum } from './optimizer.js';

describe.each(TEST_BACKENDS)('SGD momentum + weight decay (PyTorch semantics) on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('matches a hand-computed sequence', () => {
    // w0 = 1, g = 2 (constant), lr 0.1, momentum 0.9, wd 0.5
    // step 1: d = 2 + 0.5*1 = 2.5; buf = 2.5; w = 1 - 0.25 = 0.75
    // step 2: d = 2 + 0.375 = 2.375; buf = 0.9*2.5 + 2.375 = 4.625; w = 0.75 - 0.4625 = 0.2875
    const w = tf.variable(tf.tensor1d([1]));
    const opt = new SgdMomentum(0.9, 0.5);
    const g = tf.tensor1d([2]);
    opt.step([w], [g], 0.1);
    expectClose(w.dataSync(), [0.75], 1e-6);
    opt.step([w], [g], 0.1);
    expectClose(w.dataSync(), [0.2875], 1e-6);
    expectClose(opt.getState([w])[0]!.dataSync(), [4.625], 1e-6);
    // a missing gradient leaves the variable alone (no decay)
    opt.step([w], [undefined], 0.1);
    expectClose(w.dataSync(), [0.2875], 1e-6);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('state round-trips and restores the same trajectory', () => {
    const run = (restoreAfter: number) => {
      const w = tf.tidy(() => tf.variable(tf.tensor1d([1, -2])));
      let opt = new SgdMomentum(0.9, 1e-2);
      for (let i = 0; i < 4; i++) {
        if (i === restoreAfter) {
          const saved = opt
            .getState([w])
            .map((s) => (s ? tf.tensor(s.dataSync(), s.shape) : undefined));
          opt.dispose();
          opt = new SgdMomentum(0.9, 1e-2);
          opt.setState([w], saved);
          tf.dispose(saved.filter((s): s is tf.Tensor => !!s));
        }
        const g = tf.tidy(() => tf.mul(w, 3));
        opt.step([w], [g], 0.05);
        g.dispose();
      }
      const out = Array.from(w.dataSync());
      opt.dispose();
      w.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    expect(run(2)).toEqual(run(-1));
    expect(tf.memory().numTensors).toBe(before);
  });
});
