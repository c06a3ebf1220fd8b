import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsqController, mnistCnn } from '@csq/layers';
import { expectClose, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePackedModel } from './decode.js';
import { exportPackedModel, packedModelByteLength, toExactPlainModel } from './export.js';
import { loadPackedModel } from './load.js';
import { predict } from './test-models.js';

beforeAll(() => useBackend('cpu'));

/** A small quickstart CNN with masks set: conv1 2 bits, conv2 1 bit, conv3 3 bits, dense 2. */
function trainedLike(): tf.LayersModel {
  const model = mnistCnn({ inputShape: [8, 8, 1], seed: 4 });
  const masks: Record<string, number[]> = {
    conv1: [3, 2, -3, -3, -3, -3, -3, -3],
    conv2: [3, -3, -3, -3, -3, -3, -3, -3],
    conv3: [3, -2, 3, 3, -3, -3, -3, -3],
    dense: [-3, 2, 2, -3, -3, -3, -3, -3],
  };
  const controller = new CsqController(model);
  for (const v of controller.maskVariables()) {
    const layer = v.originalName.split('/')[0]!;
    v.write(tf.tensor(masks[layer]!, v.shape as number[]));
  }
  return model;
}

describe('exportPackedModel (@csq/loader/export)', () => {
  it('writes a file that loads to the exact CSQ model (spec 1) and carries the bits per layer', async () => {
    const model = trainedLike();
    const x = uniform(2 * 64, 0, 1, 3);
    const controller = new CsqController(model);
    controller.setExact(true);
    const want = predict(model, x, [2, 8, 8, 1]);
    for (const formatVersion of [1, 2] as const) {
      const opts = { formatVersion, meta: { recipe: 'test' } };
      const bytes = await exportPackedModel(model, opts);
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)).toBe(formatVersion);
      const loaded = await loadPackedModel(bytes);
      expectClose(predict(loaded, x, [2, 8, 8, 1]), want, 1e-5);
      const d = decodePackedModel(bytes);
      expect(d.meta).toEqual({
        generator: 'csq',
        layerBits: { conv1: 2, conv2: 1, conv3: 3, dense: 2 },
        recipe: 'test',
      });
      expect(d.weights.filter((w) => w.encoding === 'codes').map((w) => w.positions)).toEqual([
        [0, 1],
        [0],
        [0, 2, 3],
        [1, 2],
      ]);
      expect(await packedModelByteLength(model, opts)).toBe(bytes.length);
      loaded.dispose();
    }
    const { plain, weights } = await toExactPlainModel(model);
    expect(plain.layers.map((l) => l.getClassName())).toContain('Conv2D');
    expect(weights).toHaveLength(plain.weights.length);
    expectClose(predict(plain, x, [2, 8, 8, 1]), want, 1e-5);
    plain.dispose();
    model.dispose();
  });

  it('the load entry never imports @csq/layers or the export entry (browsers ship only it)', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(here, file), 'utf8');
      for (const [, spec] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^@csq\/(layers|budget|trainer)/);
        if (spec!.startsWith('./')) visit(spec!.slice(2).replace(/\.js$/, '.ts'));
      }
    };
    visit('index.ts');
    expect(seen.has('load.ts') && seen.has('decode.ts')).toBe(true);
    expect(seen.has('export.ts')).toBe(false);
  });
});
