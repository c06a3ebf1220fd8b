import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_BACKENDS, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistCnn, resnet20 } from './builders.js';
import { CsqController } from './controller.js';
import { quantizeModel } from './convert.js';
import { CsqConv2D } from './csq-conv2d.js';
import { CsqDepthwiseConv2D } from './csq-depthwise-conv2d.js';
import type { CsqLayer } from './csq-layer.js';
import { fileSystemIO } from './file-system-io.js';

const root = mkdtempSync(join(tmpdir(), 'csq-layers-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Moves every mask away from 0 so soft, ticket and exact outputs all differ. */
function randomizeMasks(model: tf.LayersModel, seed: number) {
  const ctl = new CsqController(model);
  ctl.layers.forEach((l, i) => {
    l.maskVariable.write(tf.tensor1d(uniform(l.bits, -0.5, 1.5, seed + i)));
  });
  return ctl;
}

function outputs(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
}

describe.each(TEST_BACKENDS)('save and load on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('mnist-cnn round-trips through fileSystemIO with identical outputs in every mode and state', async () => {
    const model = mnistCnn({ bits: 6, seed: 2 });
    const ctl = randomizeMasks(model, 3);
    ctl.setBeta(7.5);
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1);
    const soft = outputs(model, x);
    const dir = join(root, `mnist-${backend}`);
    await model.save(fileSystemIO(dir));
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    const lctl = new CsqController(loaded);
    expect(lctl.beta).toBe(7.5); // the state the model was saved in
    expect(outputs(loaded, x)).toEqual(soft);
    for (const [name, set] of [
      ['ticket', (c: CsqController) => c.setTicket(true)],
      ['exact', (c: CsqController) => c.setExact(true)],
    ] as const) {
      set(ctl);
      set(lctl);
      expect(outputs(loaded, x), name).toEqual(outputs(model, x));
    }
    expect(lctl.layerBits()).toEqual(ctl.layerBits());
    const conv = loaded.getLayer('conv2') as CsqConv2D;
    expect(conv).toBeInstanceOf(CsqConv2D);
    expect([conv.bits, conv.counted, conv.init, conv.seed, conv.useBias]).toEqual([
      6,
      true,
      'scratch',
      expect.any(Number),
      false,
    ]);
    expect(conv.maskVariable.trainable).toBe(false); // ticket phase survives the trip
  });

  it('a ticket-phase model saved and loaded keeps its frozen masks; resnet20 with PACT alpha round-trips', async () => {
    const model = resnet20({ bits: 4, actBits: 2, seed: 4, widthMultiplier: 0.5 });
    randomizeMasks(model, 11);
    const alpha = model.getLayer('layer1.0.relu1').getWeights()[0]!;
    expect(alpha.dataSync()[0]).toBe(10);
    model.getLayer('layer1.0.relu1').setWeights([tf.tensor1d([0.8])]);
    new CsqController(model).setTicket(true);
    const dir = join(root, `r20-${backend}`);
    await model.save(fileSystemIO(dir));
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    expect(new CsqController(loaded).ticket).toBe(true);
    expect(loaded.getLayer('layer1.0.relu1').getWeights()[0]!.dataSync()[0]).toBeCloseTo(0.8, 7);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 2);
    expect(outputs(loaded, x)).toEqual(outputs(model, x));
  });

  it('a converted functional model (depthwise, nested, residual) loads through standard tfjs io', async () => {
    const input = tf.input({ shape: [5, 5, 2] });
    const a = tf.layers
      .depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same' })
      .apply(input);
    const b = tf.layers
      .conv2d({ name: 'pw', filters: 4, kernelSize: 1, biasInitializer: 'ones' })
      .apply(a);
    const s = tf.layers.add().apply([a, b] as tf.SymbolicTensor[]);
    const f = tf.layers.flatten().apply(s);
    const out = tf.layers.dense({ name: 'fc', units: 3, activation: 'softmax' }).apply(f);
    const q = quantizeModel(tf.model({ inputs: input, outputs: out as tf.SymbolicTensor }), {
      bits: 5,
    });
    randomizeMasks(q, 21).setBeta(3);
    let saved: tf.io.ModelArtifacts | undefined;
    await q.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.getLayer('dw')).toBeInstanceOf(CsqDepthwiseConv2D);
    expect((loaded.getLayer('dw') as CsqLayer).init).toBe('convert');
    const x = tf.randomNormal([3, 5, 5, 2], 0, 1, 'float32', 3);
    expect(outputs(loaded, x)).toEqual(outputs(q, x));
    const w0 = q.getWeights().map((w) => Array.from(w.dataSync()));
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(w0);
  });
});

describe('fileSystemIO errors', () => {
  it('says what is missing or corrupt', async () => {
    await expect(tf.loadLayersModel(fileSystemIO(join(root, 'nothing-here')))).rejects.toThrow(
      /cannot read model file .*model\.json/,
    );
    const bad = join(root, 'bad');
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    await m.save(fileSystemIO(bad));
    writeFileSync(join(bad, 'model.json'), '{"modelTopology": ');
    await expect(tf.loadLayersModel(fileSystemIO(bad))).rejects.toThrow(/not valid JSON/);
    const json = {
      modelTopology: {},
      weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }],
    };
    writeFileSync(join(bad, 'model.json'), JSON.stringify(json));
    await expect(fileSystemIO(bad).load!()).rejects.toThrow(/outside the model directory/);
  });
});
