/**
 * The trained model's exact version (spec 1, Heaviside) as csq's packed file (.csqp), and the
 * plain tfjs model that file loads into. Follows `csq export` (packages/cli/src/export.ts),
 * which is Node-only today: @csq/loader has the encoder but not the CSQ-to-plain conversion.
 * Reads weights with synchronous reads, so run it on the cpu or wasm backend.
 */
import { CsqError } from '@csq/core';
import { CsqController, type CsqLayer, isCsqLayer } from '@csq/layers';
import {
  decodePackedModel,
  encodePackedModel,
  modelFromDecoded,
  type PackedWeightInput,
  registerCsqActQuantize,
} from '@csq/loader';
import * as tf from '@tensorflow/tfjs';

type Json = Record<string, unknown>;

/** CSQ classes and the plain tfjs class (and config keys) each becomes. */
const PLAIN: Record<string, { className: string; keys: string[] }> = {
  CsqConv2D: {
    className: 'Conv2D',
    keys: [
      'filters',
      'kernel_size',
      'strides',
      'padding',
      'data_format',
      'dilation_rate',
      'activation',
      'use_bias',
    ],
  },
  CsqDense: { className: 'Dense', keys: ['units', 'activation', 'use_bias'] },
  CsqActQuant: { className: 'CsqActQuantize', keys: ['act_bits'] },
};
const COMMON_KEYS = ['name', 'trainable', 'dtype', 'batch_input_shape'];

function plainTopology(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(plainTopology);
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  const cls = obj.class_name;
  if (typeof cls === 'string' && cls in PLAIN && obj.config && typeof obj.config === 'object') {
    const spec = PLAIN[cls]!;
    const cfg = obj.config as Json;
    const config: Json = {};
    for (const k of [...COMMON_KEYS, ...spec.keys]) if (cfg[k] !== undefined) config[k] = cfg[k];
    return { ...obj, class_name: spec.className, config };
  }
  if (typeof cls === 'string' && cls.startsWith('Csq')) {
    throw new CsqError(
      'CSQ_EXPORT_UNSUPPORTED',
      `layer class ${cls} has no plain equivalent in the packed format.`,
    );
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plainTopology(v)]));
}

/** The packed file of `model`'s exact version, with `meta` in its manifest. */
export async function encodeExactModel(
  model: tf.LayersModel,
  meta: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const topology = plainTopology(model.toJSON(null, false));
  registerCsqActQuantize();
  const plain = await tf.models.modelFromJSON({
    modelTopology: topology as tf.io.ModelJSON['modelTopology'],
  });
  const source = new Map(model.layers.map((l) => [l.name, l]));
  const weights: PackedWeightInput[] = [];
  for (const layer of plain.layers) {
    const src = source.get(layer.name);
    if (!src)
      throw new CsqError('CSQ_EXPORT_INTERNAL', `no source layer for plain layer ${layer.name}`);
    for (const [index, w] of layer.weights.entries()) {
      const shape = w.shape as number[];
      if (!isCsqLayer(src)) {
        const values = src.weights[index]!.read().dataSync() as Float32Array;
        weights.push({ name: w.originalName, shape, kind: 'float32', values: values.slice() });
        continue;
      }
      const csq = src as unknown as CsqLayer;
      if (index === 0) {
        const k = csq.exactKernel();
        weights.push({
          name: w.originalName,
          shape,
          kind: 'codes',
          codes: k.codes,
          bits: k.bits,
          scale: k.scale,
          positions: k.positions,
        });
      } else {
        const bias = csq.biasTensor();
        if (!bias)
          throw new CsqError('CSQ_EXPORT_INTERNAL', `layer ${csq.name} has no bias to export`);
        const values = (bias.dataSync() as Float32Array).slice();
        bias.dispose();
        weights.push({ name: w.originalName, shape, kind: 'float32', values });
      }
    }
  }
  // the plain model's weights in model.weights order (the order the format expects)
  const byName = new Map(weights.map((w) => [w.name, w]));
  const ordered = plain.weights.map((w) => byName.get(w.originalName)!);
  const plainTopologyJson = plain.toJSON(null, false) as object;
  plain.dispose();
  return encodePackedModel({
    topology: plainTopologyJson,
    weights: ordered,
    meta: {
      generator: 'csq playground',
      layerBits: new CsqController(model).layerBits('exact'),
      ...meta,
    },
  });
}

/** The plain tfjs model a packed file holds (exactly what @csq/loader gives a user). */
export function loadExactModel(bytes: Uint8Array): Promise<tf.LayersModel> {
  return modelFromDecoded(decodePackedModel(bytes));
}
