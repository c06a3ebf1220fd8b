/**
 * The exact model (spec 1, Heaviside) out of a trained CSQ model: as a plain tfjs model with
 * dequantized weights, and as the packed mixed-precision file (docs/packed-format.md) in which
 * each quantized kernel is stored as integer codes at its own bit width.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsqError, codesToWeights } from '@csq/core';
import { CsqController, type CsqLayer, isCsqLayer } from '@csq/layers';
import { fileSystemIO } from '@csq/layers/node';
import {
  encodePackedModel,
  formatPackedSizeReport,
  type PackedWeightInput,
  packedSizeReport,
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
  // activation quantizers (spec 4) become @csq/loader's forward-only twin
  CsqActQuant: { className: 'CsqActQuantize', keys: ['act_bits'] },
  CsqDepthwiseConv2D: {
    className: 'DepthwiseConv2D',
    keys: [
      'kernel_size',
      'depth_multiplier',
      'strides',
      'padding',
      'data_format',
      'dilation_rate',
      'activation',
      'use_bias',
    ],
  },
};
const COMMON_KEYS = ['name', 'trainable', 'dtype', 'batch_input_shape'];

/** Rewrites a topology's CSQ layers into plain tfjs layers, recursively (nested models). */
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
      `layer class ${cls} has no equivalent the packed format can hold; csq export knows CsqConv2D, ` +
        'CsqDense, CsqDepthwiseConv2D and CsqActQuant. Save the CSQ model itself instead (model.save).',
    );
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plainTopology(v)]));
}

/** Every layer of a model, nested models included, by name. */
function layersByName(model: tf.LayersModel): Map<string, tf.layers.Layer> {
  const out = new Map<string, tf.layers.Layer>();
  const visit = (l: tf.layers.Layer) => {
    out.set(l.name, l);
    const inner = (l as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(inner)) inner.forEach(visit);
  };
  model.layers.forEach(visit);
  return out;
}

/** The exact model as a plain tfjs model, and its weights ready for the packed format. */
export async function toExactPlainModel(model: tf.LayersModel): Promise<{
  plain: tf.LayersModel;
  weights: PackedWeightInput[];
}> {
  const topology = plainTopology(model.toJSON(null, false));
  registerCsqActQuantize(); // activation quantizers become @csq/loader's CsqActQuantize
  const plain = await tf.models.modelFromJSON({
    modelTopology: topology as tf.io.ModelJSON['modelTopology'],
  });
  const source = layersByName(model);
  // which plain layer owns each weight, and at which index
  const owner = new Map<tf.LayerVariable, { layer: tf.layers.Layer; index: number }>();
  for (const layer of layersByName(plain).values()) {
    for (const [index, w] of layer.weights.entries()) owner.set(w, { layer, index });
  }
  const weights: PackedWeightInput[] = [];
  const values: tf.Tensor[] = [];
  for (const w of plain.weights) {
    const o = owner.get(w);
    const src = o && source.get(o.layer.name);
    if (!o || !src)
      throw new CsqError(
        'CSQ_EXPORT_INTERNAL',
        `no source layer for plain weight ${w.originalName}`,
      );
    const shape = w.shape as number[];
    if (isCsqLayer(src)) {
      const csq = src as unknown as CsqLayer;
      if (o.index === 0) {
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
        values.push(tf.tensor(codesToWeights(k.codes, k.scale, k.bits), shape));
      } else {
        const bias = csq.biasTensor();
        if (!bias)
          throw new CsqError(
            'CSQ_EXPORT_INTERNAL',
            `layer ${csq.name} has no bias but its plain twin does`,
          );
        const data = bias.dataSync() as Float32Array;
        weights.push({ name: w.originalName, shape, kind: 'float32', values: data.slice() });
        values.push(tf.tensor(data, shape));
        bias.dispose();
      }
    } else {
      const data = src.weights[o.index]!.read().dataSync() as Float32Array;
      weights.push({ name: w.originalName, shape, kind: 'float32', values: data.slice() });
      values.push(tf.tensor(data, shape));
    }
  }
  plain.setWeights(values);
  tf.dispose(values);
  return { plain, weights };
}

/** The packed file of a trained CSQ model's exact version (with `meta` carried in the manifest). */
export async function exportPackedModel(
  model: tf.LayersModel,
  meta: Record<string, unknown> = {},
): Promise<{
  bytes: Uint8Array;
  plain: tf.LayersModel;
}> {
  const controller = new CsqController(model);
  const { plain, weights } = await toExactPlainModel(model);
  const bytes = encodePackedModel({
    topology: plain.toJSON(null, false) as object,
    weights,
    meta: { generator: 'csq', layerBits: controller.layerBits('exact'), ...meta },
  });
  return { bytes, plain };
}

/** Writes DIR/model.csqp (and DIR/tfjs/ with --format tfjs); returns the size report text. */
export async function exportRun(
  model: tf.LayersModel,
  outDir: string,
  opts: { format: 'packed' | 'tfjs'; meta?: Record<string, unknown> },
): Promise<string> {
  const { bytes, plain } = await exportPackedModel(model, opts.meta);
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'model.csqp');
  await writeFile(file, bytes);
  const lines = [
    `packed exact model written to ${file}`,
    formatPackedSizeReport(packedSizeReport(bytes)),
  ];
  if (opts.format === 'tfjs') {
    const dir = join(outDir, 'tfjs');
    await plain.save(fileSystemIO(dir));
    lines.push(`standard tfjs LayersModel (exact dequantized float32 weights) written to ${dir}`);
  }
  return `${lines.join('\n')}\n`;
}
