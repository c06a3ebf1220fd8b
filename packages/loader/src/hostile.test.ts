/**
 * Files that are hostile or broken but carry valid checksums (issue #16, point 1): every one
 * must end in a typed CsqError that names the tensor or layer, before anything large is
 * allocated and without handing tfjs-layers a graph it would loop on forever.
 */
import { CsqError } from '@csq/core';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePackedModel } from './decode.js';
import { encodePackedModel } from './encode.js';
import { loadPackedModel } from './load.js';
import { assemble, sections, withManifest } from './test-files.js';
import {
  quantizeModel,
  RESIDUAL_PLANS,
  randomizeWeights,
  residualModel,
  sequentialModel,
} from './test-models.js';

type Json = Record<string, unknown>;

beforeAll(() => useBackend('cpu'));

function residualFile(version: 1 | 2 = 2): Uint8Array {
  const model = residualModel();
  randomizeWeights(model, 1);
  const { inputs } = quantizeModel(model, RESIDUAL_PLANS);
  const bytes = encodePackedModel(
    { topology: model.toJSON(null, false) as object, weights: inputs },
    { formatVersion: version },
  );
  model.dispose();
  return bytes;
}

/** A dense 2 -> 2 model whose kernel is one codes tensor (levelCount 1: every code 0). */
function denseFile(kernelShape = [2, 2], version: 1 | 2 = 2): Uint8Array {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [2], units: 2, name: 'fc' })],
  });
  const topology = model.toJSON(null, false) as object;
  model.dispose();
  const small = encodePackedModel(
    {
      topology,
      weights: [
        {
          name: 'fc/kernel',
          shape: [2, 2],
          kind: 'codes',
          codes: [0, 0, 0, 0],
          bits: 2,
          scale: 1,
          positions: [0],
        },
        { name: 'fc/bias', shape: [2], kind: 'float32', values: [0.5, -0.5] },
      ],
    },
    { formatVersion: version },
  );
  // the declared shape of the kernel changes nothing in its bytes: 1 level, 0 index bits
  return withManifest(small, (m) => {
    ((m['weights'] as Json[])[0] as Json)['shape'] = kernelShape;
  });
}

async function loadError(bytes: Uint8Array, opts = {}): Promise<CsqError> {
  try {
    const m = await loadPackedModel(bytes, opts);
    m.dispose();
  } catch (e) {
    expect(e).toBeInstanceOf(CsqError);
    return e as CsqError;
  }
  throw new Error('loadPackedModel accepted a hostile file');
}

/** The functional topology's layers of the residual file, for editing. */
const layersOf = (m: Json) => ((m['topology'] as Json)['config'] as Json)['layers'] as Json[];
const layerNamed = (m: Json, name: string) => layersOf(m).find((l) => l['name'] === name)!;

describe.each([1, 2] as const)('hostile files with valid checksums (format v%i)', (version) => {
  it('a codes tensor declaring 10^10 weights in 2 bytes is refused by the default limit', async () => {
    const bytes = denseFile([100_000, 100_000], version);
    expect(bytes.length).toBeLessThan(2000);
    const e = await loadError(bytes);
    expect(e.code).toBe('CSQ_PACKED_LIMIT');
    expect(e.message).toMatch(/weights\[0\] \("fc\/kernel"\).*10000000000 values.*maxElements/);
    expect(() => decodePackedModel(bytes)).toThrow(/maxElements/);
  });

  it('a declared shape that is not the topology is refused before any tensor is decoded', async () => {
    // 2^32 weights: decoding would need a 16 GiB buffer (a RangeError, or the OOM killer)
    const bytes = denseFile([65_536, 65_536], version);
    const e = await loadError(bytes, { maxElements: 2 ** 40, maxBytes: 2 ** 45 });
    expect(e.code).toBe('CSQ_PACKED_MISMATCH');
    expect(e.message).toMatch(
      /"fc\/kernel" has shape \[65536, 65536\].*"fc\/kernel" has shape \[2, 2\]/,
    );
  });

  it('a topology that needs more weights than the file holds is refused while it is built', async () => {
    const bytes = withManifest(denseFile([2, 2], version), (m) => {
      const fc = (((m['topology'] as Json)['config'] as Json)['layers'] as Json[])[0]!;
      (fc['config'] as Json)['units'] = 50_000_000;
    });
    const e = await loadError(bytes);
    expect(e.code).toBe('CSQ_PACKED_MISMATCH');
    expect(e.message).toMatch(/layer "fc" needs a weight of shape \[2, 50000000\]/);
  });

  it.each([
    [
      'a call of a layer that is not in the model',
      (m: Json) => {
        layerNamed(m, 'block_conv_b')['inbound_nodes'] = [[['ghost', 0, 0, {}]]];
      },
      /layer "block_conv_b" call 0: it refers to layer "ghost", which is not in the model/,
    ],
    [
      'a cycle',
      (m: Json) => {
        layerNamed(m, 'block_conv_a')['inbound_nodes'] = [[['block_bn_b', 0, 0, {}]]];
      },
      /cycle through/,
    ],
    [
      'a call that never happens',
      (m: Json) => {
        layerNamed(m, 'block_bn_a')['inbound_nodes'] = [[['block_conv_a', 3, 0, {}]]];
      },
      /call 3 of layer "block_conv_a", which has 1 call/,
    ],
    [
      'an empty call',
      (m: Json) => {
        layerNamed(m, 'block_bn_a')['inbound_nodes'] = [[]];
      },
      /layer "block_bn_a" call 0: a call is not a non-empty list/,
    ],
    [
      'an output that is not in the model',
      (m: Json) => {
        ((m['topology'] as Json)['config'] as Json)['output_layers'] = [['toString', 0, 0]];
      },
      /output_layers: it refers to layer "toString"/,
    ],
    [
      'two layers with one name',
      (m: Json) => {
        layerNamed(m, 'block_bn_a')['name'] = 'block_conv_a';
      },
      /two layers are named "block_conv_a"/,
    ],
    [
      'an unknown dtype',
      (m: Json) => {
        (layerNamed(m, 'block_conv_a')['config'] as Json)['dtype'] = 'float64';
      },
      /"block_conv_a".*dtype "float64" is not one packed models use/,
    ],
    [
      'a batch_input_shape of 10^9',
      (m: Json) => {
        (layerNamed(m, 'image')['config'] as Json)['batch_input_shape'] = [null, 1e9, 6, 3];
      },
      /"image".*batch_input_shape\[1\] = 1000000000/,
    ],
    [
      'a batch_input_shape too large as a whole',
      (m: Json) => {
        (layerNamed(m, 'image')['config'] as Json)['batch_input_shape'] = [null, 1e5, 1e5, 3];
      },
      /"image".*one input example 30000000000 values/,
    ],
  ])('%s is a typed topology error, never an endless loop', async (_, edit, message) => {
    const e = await loadError(withManifest(residualFile(version), edit));
    expect(e.code).toBe('CSQ_PACKED_TOPOLOGY');
    expect(e.message).toMatch(message);
  });

  it('a non-finite float32 value in the payload is refused, naming the tensor', async () => {
    const good = residualFile(version);
    const s = sections(good);
    const m = JSON.parse(s.json) as Json;
    const entries = m['weights'] as Json[];
    const k = entries.findIndex((e) => e['name'] === 'block_bn_a/gamma');
    const payload = Uint8Array.from(s.payload);
    new DataView(payload.buffer).setFloat32(entries[k]!['offset'] as number, Number.NaN, true);
    const bad = withManifest(good, () => {}, payload);
    const e = await loadError(bad);
    expect(e.code).toBe('CSQ_PACKED_MANIFEST');
    expect(e.message).toMatch(/"block_bn_a\/gamma"\) value 0 is NaN/);
  });

  it('maxElements and maxBytes bound a legitimate file too, and are themselves checked', async () => {
    const good = residualFile(version);
    const e = await loadError(good, { maxElements: 100 });
    expect(e.code).toBe('CSQ_PACKED_LIMIT');
    expect(e.message).toMatch(/pass a larger maxElements/);
    expect((await loadError(good, { maxBytes: 1000 })).code).toBe('CSQ_PACKED_LIMIT');
    expect((await loadError(good, { maxElements: -1 })).code).toBe('CSQ_BAD_OPTION');
    (await loadPackedModel(good, { maxElements: 5000, maxBytes: 40_000 })).dispose();
  });
});

describe('the loaded model', () => {
  it("serializes as the stored topology (the build's guard is invisible)", async () => {
    const model = sequentialModel();
    const bytes = encodePackedModel({
      topology: model.toJSON(null, false) as object,
      weights: quantizeModel(model, {}).inputs,
    });
    const loaded = await loadPackedModel(bytes);
    expect(loaded.toJSON(null, false)).toEqual(model.toJSON(null, false));
    for (const m of [model, loaded]) m.dispose();
  });

  it('an invalid act_bits of an activation quantizer is a typed error', async () => {
    const topology = {
      class_name: 'Model',
      config: {
        name: 'q',
        layers: [
          {
            name: 'x',
            class_name: 'InputLayer',
            config: { batch_input_shape: [null, 2], dtype: 'float32', sparse: false, name: 'x' },
            inbound_nodes: [],
          },
          {
            name: 'aq',
            class_name: 'CsqActQuantize',
            config: { act_bits: 1e9, name: 'aq', trainable: false },
            inbound_nodes: [[['x', 0, 0, {}]]],
          },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['aq', 0, 0]],
      },
    };
    const bytes = assemble(
      1,
      new TextEncoder().encode(JSON.stringify({ format: 'csq-packed', topology, weights: [] })),
      new Uint8Array(0),
    );
    const e = await loadError(bytes);
    expect(e.code).toBe('CSQ_PACKED_TOPOLOGY');
    expect(e.message).toMatch(/actBits must be 0/);
  });
});
