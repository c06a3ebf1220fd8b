import { CsqError, codesToWeights } from '@csq/core';
import { expectClose, TEST_BACKENDS, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePackedModel } from './decode.js';
import { encodePackedModel } from './encode.js';
import type { PackedWeightInput } from './format.js';
import { loadPackedModel } from './load.js';
import { packedSizeReport } from './size.js';
import {
  maxAbsDiff,
  predict,
  quantizeModel,
  RESIDUAL_PLANS,
  randomizeWeights,
  residualModel,
  SEQUENTIAL_PLANS,
  sequentialModel,
  setWeights,
} from './test-models.js';

const cases = [
  {
    name: 'sequential conv + bn + dense',
    build: sequentialModel,
    plans: SEQUENTIAL_PLANS,
    inShape: [8, 8, 2],
  },
  {
    name: 'functional residual block',
    build: residualModel,
    plans: RESIDUAL_PLANS,
    inShape: [6, 6, 3],
  },
];

describe.each(TEST_BACKENDS)('loadPackedModel on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(cases)(
    '$name: same predictions as the model given the dequantized weights',
    async (c) => {
      const source = c.build();
      randomizeWeights(source, 11);
      const { inputs, dequantized } = quantizeModel(source, c.plans);
      expect(inputs.filter((w) => w.kind === 'codes')).toHaveLength(Object.keys(c.plans).length);
      const bytes = encodePackedModel({
        topology: source.toJSON(null, false) as object,
        weights: inputs,
        meta: { test: c.name },
      });

      // The reference: a model of the same topology holding the dequantized weights.
      const reference = c.build();
      setWeights(reference, dequantized);
      const loaded = await loadPackedModel(bytes);
      expect(loaded.weights.map((w) => w.originalName)).toEqual(
        reference.weights.map((w) => w.originalName),
      );
      for (let i = 0; i < loaded.weights.length; i++) {
        // bit-identical: float32 copied, codes dequantized exactly as codesToWeights
        expect(Array.from(loaded.weights[i]!.read().dataSync())).toEqual(
          Array.from(dequantized[i]!),
        );
      }
      const batch = 4;
      const x = uniform(batch * c.inShape.reduce((a, b) => a * b, 1), -1, 1, 5);
      const want = predict(reference, x, [batch, ...c.inShape]);
      const got = predict(loaded, x, [batch, ...c.inShape]);
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5);
      // and the quantization mattered: the float model predicts something else
      expect(maxAbsDiff(predict(source, x, [batch, ...c.inShape]), want)).toBeGreaterThan(1e-4);
      for (const m of [source, reference, loaded]) m.dispose();
    },
  );
});

describe('decoded weights and size', () => {
  beforeAll(() => useBackend('cpu'));

  it('decodes codes exactly as codesToWeights and keeps codes, bits, scale, positions', () => {
    const model = residualModel();
    randomizeWeights(model, 2);
    const { inputs } = quantizeModel(model, RESIDUAL_PLANS);
    const decoded = decodePackedModel(
      encodePackedModel({
        topology: model.toJSON(null, false) as object,
        weights: inputs,
        meta: { a: 1 },
      }),
    );
    expect(decoded.meta).toEqual({ a: 1 });
    expect(decoded.topology).toEqual(model.toJSON(null, false));
    expect(decoded.weights.map((w) => w.name)).toEqual(inputs.map((w) => w.name));
    inputs.forEach((w, i) => {
      const d = decoded.weights[i]!;
      expect(d.shape).toEqual(w.shape);
      if (w.kind === 'codes') {
        expect(d.encoding).toBe('codes');
        expect(Array.from(d.codes!)).toEqual(Array.from(w.codes));
        expect(d.positions).toEqual(w.positions);
        expect(d.bits).toBe(w.bits);
        expect(d.scale).toBe(w.scale);
        expect(Array.from(d.values)).toEqual(Array.from(codesToWeights(w.codes, w.scale, w.bits)));
      } else {
        expect(d.encoding).toBe('float32');
        expect(Array.from(d.values)).toEqual(Array.from(w.values));
      }
    });
    model.dispose();
  });

  it('packs weights within sum of ceil(width * params / 8) plus small codebooks', () => {
    const model = residualModel();
    randomizeWeights(model, 4);
    const { inputs } = quantizeModel(model, RESIDUAL_PLANS);
    const bytes = encodePackedModel({
      topology: model.toJSON(null, false) as object,
      weights: inputs,
    });
    const r = packedSizeReport(bytes);
    // Independent count: distinct codes per layer -> width -> bytes.
    let indexBytes = 0;
    let codebookBytes = 0;
    let floats = 0;
    let layers = 0;
    for (const w of inputs) {
      if (w.kind === 'float32') {
        floats += w.values.length;
        continue;
      }
      const levels = new Set(Array.from(w.codes)).size;
      const width = levels <= 1 ? 0 : Math.ceil(Math.log2(levels));
      // signed digits (spec 1): at most 3^b integers for b selected positions, and never more
      // than the 2 * reach + 1 integers of -reach..reach
      const b = w.positions.length;
      const reach = w.positions.reduce((a, i) => a + 2 ** (w.bits - 1 - i), 0);
      expect(levels).toBeLessThanOrEqual(Math.min(3 ** b, 2 * reach + 1));
      indexBytes += Math.ceil((width * w.codes.length) / 8);
      codebookBytes += Math.ceil((levels * (w.bits + 1)) / 8);
      layers++;
    }
    expect(r.indexBoundBytes).toBe(indexBytes);
    expect(r.codesBytes).toBe(indexBytes + codebookBytes);
    expect(r.float32TensorBytes).toBe(4 * floats);
    expect(r.packedWeightBytes).toBe(r.codesBytes + r.float32TensorBytes);
    expect(r.codebookBytes).toBe(codebookBytes);
    // the "small headers": a codebook of at most 3^b levels at N + 1 bits (at most 17 bytes here)
    expect(r.codebookBytes).toBeLessThanOrEqual(17 * layers);
    expect(r.fileBytes).toBe(32 + r.manifestBytes + r.packedWeightBytes);
    expect(r.float32ModelBytes).toBe(4 * (r.quantizedParams + r.floatParams));
    expect(r.uint8ModelBytes).toBe(r.quantizedParams + r.floatParams);
    // 4-bit indices or fewer here: the indices take at most half of tfjs's uint8 bytes
    expect(r.indexBoundBytes).toBeLessThanOrEqual(r.quantizedParams / 2);
    model.dispose();
  });

  it('stores a layer pruned to zero bits in a one-byte codebook and no indices', () => {
    const w: PackedWeightInput = {
      name: 'k',
      shape: [3, 4],
      kind: 'codes',
      codes: new Int32Array(12),
      bits: 8,
      scale: 0.5,
      positions: [],
    };
    const topology = { class_name: 'Sequential', config: { layers: [] } };
    const bytes = encodePackedModel({ topology, weights: [w] });
    const r = packedSizeReport(bytes);
    expect(r.tensors[0]).toMatchObject({ levelCount: 1, indexWidth: 0, bytes: 2, selectedBits: 0 });
    expectClose(decodePackedModel(bytes).weights[0]!.values, new Float32Array(12), 0);
  });
});

describe('loadPackedModel checks the weights against the topology', () => {
  beforeAll(() => useBackend('cpu'));

  function packed(mutate: (w: PackedWeightInput[]) => PackedWeightInput[], topology?: object) {
    const model = sequentialModel();
    randomizeWeights(model, 9);
    const { inputs } = quantizeModel(model, SEQUENTIAL_PLANS);
    const bytes = encodePackedModel({
      topology: topology ?? (model.toJSON(null, false) as object),
      weights: mutate(inputs),
    });
    model.dispose();
    return bytes;
  }

  async function loadError(bytes: Uint8Array, opts = {}): Promise<CsqError> {
    const err = await loadPackedModel(bytes, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CsqError);
    return err as CsqError;
  }

  it('refuses a missing tensor', async () => {
    const e = await loadError(packed((w) => w.slice(0, -1)));
    expect(e.code).toBe('CSQ_PACKED_MISMATCH');
    expect(e.message).toMatch(/topology has 9 weight tensors, the file 8/);
  });

  it('refuses a wrong shape, naming both tensors', async () => {
    const other = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, name: 'fc' })],
    });
    const e = await loadError(packed((w) => w, other.toJSON(null, false) as object));
    expect(e.code).toBe('CSQ_PACKED_MISMATCH');
    other.dispose();
  });

  it('refuses same-shape tensors in the wrong order unless checkNames is false', async () => {
    // swap batch norm's gamma and beta (both shape [4])
    const swap = (w: PackedWeightInput[]) => {
      const out = [...w];
      const g = out.findIndex((x) => x.name === 'bn1/gamma');
      const b = out.findIndex((x) => x.name === 'bn1/beta');
      [out[g], out[b]] = [out[b]!, out[g]!];
      return out;
    };
    const bytes = packed(swap);
    const e = await loadError(bytes);
    expect(e.code).toBe('CSQ_PACKED_MISMATCH');
    expect(e.message).toContain(
      '"bn1/beta" but the model\'s weight at that position is "bn1/gamma"',
    );
    const m = await loadPackedModel(bytes, { checkNames: false });
    expect(m.weights).toHaveLength(9);
    m.dispose();
  });

  it('explains a topology tfjs cannot build (e.g. an unconverted CSQ layer)', async () => {
    const topology = {
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'CsqConv2D', config: { name: 'c' } }] },
    };
    const e = await loadError(packed(() => [], topology));
    expect(e.code).toBe('CSQ_PACKED_TOPOLOGY');
    expect(e.message).toMatch(/CsqConv2D/);
    expect(e.message).toMatch(/registerClass/);
  });
});
