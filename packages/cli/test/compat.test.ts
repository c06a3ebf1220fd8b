/**
 * Files written by csq 0.1.0 (checked in, see @csq/test-utils/fixtures) still work: the run
 * directory with `csq info`, `eval`, `report`, `export` and `--resume`, and the exported .csqp
 * with `loadPackedModel`, predicting what 0.1.0 predicted.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnistEmbedded } from '@csq/data/node';
import { loadPackedModel } from '@csq/loader';
import { expectClose } from '@csq/test-utils';
import { V0_1_0 } from '@csq/test-utils/fixtures';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { csq, tempDir } from './helpers.js';

const root = tempDir('csq-compat-');
const run = join(root, 'run');
const oldSummary = JSON.parse(readFileSync(join(V0_1_0.runDir, 'summary.json'), 'utf8'));
const expected = JSON.parse(readFileSync(V0_1_0.packedLogits, 'utf8')) as {
  testIndices: number[];
  mean: number[];
  std: number[];
  logits: number[];
};

/** The fixture's test images, normalised as 0.1.0 did. */
async function inputs(): Promise<tf.Tensor4D> {
  const data = await loadMnistEmbedded();
  const { images } = await data.test.read(expected.testIndices);
  const n = expected.testIndices.length;
  return tf.tidy(() =>
    tf.sub(
      tf.div(tf.tensor4d(images, [n, 28, 28, 1], 'float32'), 255 * expected.std[0]!),
      expected.mean[0]! / expected.std[0]!,
    ),
  ) as tf.Tensor4D;
}

async function predictPacked(file: string): Promise<number[]> {
  await tf.setBackend('cpu');
  const model = await loadPackedModel(new Uint8Array(readFileSync(file)));
  const x = await inputs();
  const y = model.predict(x) as tf.Tensor;
  const values = Array.from(await y.data());
  tf.dispose([x, y]);
  return values;
}

beforeAll(() => cpSync(V0_1_0.runDir, run, { recursive: true }));

describe('a run directory and a .csqp written by csq 0.1.0', () => {
  it('loadPackedModel reads the old .csqp and predicts what 0.1.0 predicted', async () => {
    const logits = await predictPacked(V0_1_0.packedModel);
    // the exact model is not trivial: logits differ from class to class
    expect(new Set(logits.map((v) => v.toFixed(1))).size).toBeGreaterThan(20);
    expectClose(logits, expected.logits, { rtol: 1e-5, atol: 1e-3 });
  });

  it('csq info and csq report read it (epochs counted from 1)', async () => {
    const i = await csq(['info', run]);
    expect(i.err).toBe('');
    expect(i.out).toContain('ticket phase from epoch 2');
    expect(i.out).toContain('CSQ 2 epochs done (finished)');
    expect(i.out).toContain('conv1:1 conv2:1 conv3:1 dense:1');
    const r = await csq(['report', run]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(run, 'report.html'), 'utf8')).toContain(
      '<th scope="row">ticket from epoch</th><td>2</td>',
    );
  });

  it('csq eval gives the accuracies 0.1.0 recorded', async () => {
    const e = await csq(['eval', run, '--json', '--backend', 'wasm']);
    expect(e.err).toBe('');
    const ev = JSON.parse(e.out.slice(e.out.indexOf('{')));
    expect(ev.softAccuracy).toBe(oldSummary.softAccuracy);
    expect(ev.exactAccuracy).toBe(oldSummary.exactAccuracy);
  }, 120_000);

  it('--resume loads the old checkpoint: the finished run ends with the same model and summary', async () => {
    const r = await csq(['train', '--out', run, '--resume', '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // the checkpoint restored every weight exactly: the model saved again is the old one
    expect(
      readFileSync(join(run, 'model', 'weights.bin')).equals(
        readFileSync(join(V0_1_0.runDir, 'model', 'weights.bin')),
      ),
    ).toBe(true);
    // resuming a finished run changes nothing (issue 16): summary.json stays 0.1.0's
    expect(readFileSync(join(run, 'summary.json'), 'utf8')).toBe(
      readFileSync(join(V0_1_0.runDir, 'summary.json'), 'utf8'),
    );
  }, 120_000);

  it('csq export of it writes a .csqp that predicts what 0.1.0 exported', async () => {
    const out = join(root, 'export');
    const r = await csq(['export', run, '--out', out]);
    expect(r.err).toBe('');
    expectClose(await predictPacked(join(out, 'model.csqp')), expected.logits, {
      rtol: 1e-5,
      atol: 1e-3,
    });
  }, 120_000);
});
