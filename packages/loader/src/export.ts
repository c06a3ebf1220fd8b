/**
 * `@csq/loader/export`: a trained CSQ model (from @csq/layers) to the packed file of its exact
 * model (spec 1, Heaviside). Kept out of the load entry so that browsers loading a model never
 * ship csq's layer classes; this entry imports @csq/layers.
 */
import { CsqError, codesToWeights } from '@csq/core';
import { CsqController, type CsqLayer, isCsqLayer } from '@csq/layers';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerCsqActQuantize } from './act-quant.js';
import { encodePackedModel, type PackedFormatVersion } from './encode.js';
import type { PackedWeightInput } from './format.js';
import { plainTopology } from './plain-topology.js';

/** Options of `exportPackedModel` and `packedModelByteLength`. */
export interface ExportPackedOptions {
  /** Free-form JSON carried in the manifest (recipe, accuracy...); csq adds generator and layerBits. */
  meta?: Record<string, unknown>;
  /** Format version to write: 2 (default: compressed manifest, entropy-coded codes) or 1. */
  formatVersion?: PackedFormatVersion;
}

/** Every layer of a model, nested models included, by name. */
function layersByName(model: tfl.LayersModel): Map<string, tfl.layers.Layer> {
  const out = new Map<string, tfl.layers.Layer>();
  const visit = (l: tfl.layers.Layer) => {
    out.set(l.name, l);
    const inner = (l as unknown as { layers?: tfl.layers.Layer[] }).layers;
    if (Array.isArray(inner)) inner.forEach(visit);
  };
  model.layers.forEach(visit);
  return out;
}

const internal = (message: string) => new CsqError('CSQ_EXPORT_INTERNAL', message);

/**
 * The exact model (spec 1) of a CSQ model as a plain tfjs model (dequantized weights set) and
 * its weights as packed-format inputs: quantized kernels as integer codes, the rest float32.
 * The caller disposes `plain`.
 */
export async function toExactPlainModel(model: tfl.LayersModel): Promise<{
  plain: tfl.LayersModel;
  weights: PackedWeightInput[];
}> {
  const topology = plainTopology(model.toJSON(null, false));
  registerCsqActQuantize(); // activation quantizers become @csq/loader's CsqActQuantize
  const plain = await tfl.models.modelFromJSON({
    modelTopology: topology as tf.io.ModelJSON['modelTopology'],
  });
  const source = layersByName(model);
  // which plain layer owns each weight, and at which index
  const owner = new Map<tfl.LayerVariable, { layer: tfl.layers.Layer; index: number }>();
  for (const layer of layersByName(plain).values()) {
    for (const [index, w] of layer.weights.entries()) owner.set(w, { layer, index });
  }
  const weights: PackedWeightInput[] = [];
  const values: tf.Tensor[] = [];
  try {
    for (const w of plain.weights) {
      const o = owner.get(w);
      const src = o && source.get(o.layer.name);
      if (!o || !src) throw internal(`no source layer for plain weight ${w.originalName}`);
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
          if (!bias) throw internal(`layer ${csq.name} has no bias but its plain twin does`);
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
  } catch (e) {
    plain.dispose();
    throw e;
  } finally {
    tf.dispose(values);
  }
  return { plain, weights };
}

/**
 * The packed file (docs/packed-format.md) of a CSQ model's exact version: quantized kernels as
 * integer codes at their own precision, everything else float32, `meta` in the manifest (with
 * `generator: 'csq'` and the exact per-layer bits). Write the bytes to a `.csqp` file and load it
 * anywhere with `loadPackedModel` from `@csq/loader`.
 */
export async function exportPackedModel(
  model: tfl.LayersModel,
  opts: ExportPackedOptions = {},
): Promise<Uint8Array> {
  const { plain, weights } = await toExactPlainModel(model);
  try {
    return encodeExact(model, plain, weights, opts);
  } finally {
    plain.dispose();
  }
}

/** Encodes the output of `toExactPlainModel` (the CLI uses it to keep the plain model too). */
export function encodeExact(
  model: tfl.LayersModel,
  plain: tfl.LayersModel,
  weights: PackedWeightInput[],
  opts: ExportPackedOptions = {},
): Uint8Array {
  const controller = new CsqController(model);
  return encodePackedModel(
    {
      topology: plain.toJSON(null, false) as object,
      weights,
      meta: { generator: 'csq', layerBits: controller.layerBits('exact'), ...opts.meta },
    },
    { formatVersion: opts.formatVersion },
  );
}

/**
 * Length in bytes of the file `exportPackedModel(model, opts)` would write, computed by the same
 * encoder (so a summary's `packedBytes` equals the exported file's size).
 */
export async function packedModelByteLength(
  model: tfl.LayersModel,
  opts: ExportPackedOptions = {},
): Promise<number> {
  return (await exportPackedModel(model, opts)).length;
}
