/**
 * The extension example of packages/layers/README.md ("Your own CSQ-aware layer"), verbatim:
 * a CSQ Conv1D built on CsqLayer, checked against the core reference, the controller, the
 * budget and save/load.
 */
import { exactWeight, softWeight } from '@csq/core';
import { CsqController, CsqLayer, type CsqLayerArgs } from '@csq/layers';
import { expectClose, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BudgetRegularizer } from './budget-regularizer.js';

// --- README example start ---
interface CsqConv1DArgs extends CsqLayerArgs {
  filters: number;
  kernelSize: number;
}

/** A 1-D convolution (stride 1, 'valid') whose kernel [k, inChannels, filters] is CSQ bit planes. */
class CsqConv1D extends CsqLayer {
  static className = 'CsqConv1D';
  readonly filters: number;
  readonly kernelSize: number;

  constructor(args: CsqConv1DArgs) {
    super(args, { kernelInitializer: 'glorotUniform' });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
  }

  /** The kernel shape (without the bit axis) for an input [batch, steps, channels]. */
  protected kernelShapeFor(inputShape: tf.Shape): number[] {
    return [this.kernelSize, inputShape[2]!, this.filters];
  }

  /** The operation, given the kernel CSQ computed for the current beta / ticket / exact state. */
  protected forward(x: tf.Tensor, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
    const y = tf.conv1d(x as tf.Tensor3D, kernel as tf.Tensor3D, 1, 'valid');
    return bias ? tf.add(y, bias) : y;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = inputShape as tf.Shape;
    return [s[0]!, s[1] == null ? null : s[1] - this.kernelSize + 1, this.filters];
  }

  /** MACs per example, for the 'bops' budget. */
  protected override macsFor(s: tf.Shape): number | undefined {
    return s[1] == null
      ? undefined
      : (s[1] - this.kernelSize + 1) * this.kernelSize * s[2]! * this.filters;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize };
  }
}
tf.serialization.registerClass(CsqConv1D);
// --- README example end ---

describe('a user CSQ layer built on CsqLayer (README example)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  function model() {
    const input = tf.input({ shape: [10, 3] });
    const h = new CsqConv1D({ name: 'conv1d', filters: 4, kernelSize: 3, bits: 4, seed: 1 }).apply(
      input,
    );
    const f = tf.layers.flatten().apply(h);
    const out = tf.layers.dense({ units: 2 }).apply(f);
    return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  }

  it('computes tf.conv1d with the spec 1 kernel, follows the controller and is counted by the budget', async () => {
    const m = model();
    const layer = m.getLayer('conv1d') as CsqConv1D;
    const ctl = new CsqController(m);
    expect(ctl.layers).toEqual([layer]);
    const count = 3 * 3 * 4;
    const planes = {
      p: uniform(count * 4, -1, 1, 1),
      n: uniform(count * 4, -1, 1, 2),
      m: [0.5, -0.2, 1, 0.1],
      scale: 0.7,
    };
    const k = layer.csqKernel;
    k.p.write(tf.tensor(planes.p, [3, 3, 4, 4]));
    k.n.write(tf.tensor(planes.n, [3, 3, 4, 4]));
    k.mask.write(tf.tensor1d(planes.m));
    k.scale.write(tf.tensor1d([planes.scale]));
    const x = tf.randomNormal([2, 10, 3], 0, 1, 'float32', 5);
    ctl.setBeta(3);
    const soft = softWeight({ ...planes, beta: 3, bits: 4 });
    const y = layer.apply(x) as tf.Tensor;
    const bias = layer.biasTensor()!;
    expectClose(
      y.dataSync(),
      tf
        .add(tf.conv1d(x as tf.Tensor3D, tf.tensor3d(soft, [3, 3, 4]), 1, 'valid'), bias)
        .dataSync(),
      {
        rtol: 1e-5,
        atol: 1e-5,
      },
    );
    ctl.setExact(true);
    const exact = exactWeight({ ...planes, bits: 4 });
    expectClose(
      (layer.apply(x) as tf.Tensor).dataSync(),
      tf
        .add(tf.conv1d(x as tf.Tensor3D, tf.tensor3d(exact, [3, 3, 4]), 1, 'valid'), bias)
        .dataSync(),
      {
        rtol: 1e-5,
        atol: 1e-5,
      },
    );
    expect(ctl.layerBits()).toEqual({ conv1d: 3 });
    ctl.setExact(false);
    const budget = new BudgetRegularizer(m, { mode: 'bops', targetBits: 1, lambda: 1 });
    expect(budget.report().layers).toEqual([
      {
        name: 'conv1d',
        bits: 3,
        maxBits: 4,
        params: 36,
        macs: 8 * 36,
        actBits: 0,
        positions: [0, 2, 3],
        storageBits: 5, // place values 8, 2, 1 with signed digits: 21 codes
        bounds: { minBits: 1, maxBits: 4 },
      },
    ]);
    // the penalty reaches the user layer's mask (above the target: prune)
    const before = Array.from(layer.maskVariable.read().dataSync());
    tf.train.sgd(1).minimize(() => budget.penalty());
    const after = Array.from(layer.maskVariable.read().dataSync());
    for (let i = 0; i < after.length; i++) expect(after[i]).toBeLessThan(before[i]!);
    // and it saves and loads like the built-in layers
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.getLayer('conv1d')).toBeInstanceOf(CsqConv1D);
    expectClose(
      (loaded.predict(x) as tf.Tensor).dataSync(),
      (m.predict(x) as tf.Tensor).dataSync(),
      0,
    );
  });
});
