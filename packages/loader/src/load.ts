/**
 * `loadPackedModel`: a packed file in, a plain tf.LayersModel out (topology from the manifest,
 * dequantized weights set). Needs only tfjs-core and tfjs-layers; no csq layer classes.
 */
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import { type LayersModel, models } from '@tensorflow/tfjs-layers';
import { registerCsqActQuantize } from './act-quant.js';
import { decodePackedModel } from './decode.js';
import type { DecodedPackedModel } from './format.js';
import { type PackedSource, type ReadSourceOptions, readPackedSource } from './source.js';

/** Options of `loadPackedModel`. */
export interface LoadPackedOptions extends ReadSourceOptions {
  /**
   * Check that each stored tensor's name is the name tfjs gives the weight at that position
   * (default true). Catches tensors written in the wrong order that happen to share a shape
   * (batch norm's gamma, beta, mean and variance).
   */
  checkNames?: boolean;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Builds the tfjs model of a decoded packed file and sets its weights. */
export async function modelFromDecoded(
  decoded: DecodedPackedModel,
  opts: Pick<LoadPackedOptions, 'checkNames'> = {},
): Promise<LayersModel> {
  let model: LayersModel;
  try {
    // the one csq layer a packed model may hold (activation quantizers)
    registerCsqActQuantize();
    model = await models.modelFromJSON({ modelTopology: decoded.topology } as never);
  } catch (e) {
    throw new CsqError(
      'CSQ_PACKED_TOPOLOGY',
      `tfjs-layers could not build the packed model's topology: ${(e as Error).message}. Packed ` +
        'files hold plain tfjs layers (csq export converts CSQ layers); a custom layer class must be ' +
        'registered with tf.serialization.registerClass before loading.',
    );
  }
  const vars = model.weights;
  const stored = decoded.weights;
  const fail = (message: string): never => {
    model.dispose();
    throw new CsqError(
      'CSQ_PACKED_MISMATCH',
      `packed model weights do not fit its topology: ${message} The exporter wrote them in the ` +
        "wrong order or for another model; weights must follow model.getWeights()'s order.",
    );
  };
  if (vars.length !== stored.length) {
    fail(`the topology has ${vars.length} weight tensors, the file ${stored.length}.`);
  }
  for (let i = 0; i < vars.length; i++) {
    const v = vars[i]!;
    const w = stored[i]!;
    if (!sameShape(v.shape as number[], w.shape)) {
      fail(
        `tensor ${i} "${w.name}" has shape [${w.shape.join(', ')}] but the model's weight ` +
          `"${v.originalName}" has shape [${v.shape.join(', ')}].`,
      );
    }
    if (opts.checkNames !== false && v.originalName !== w.name) {
      fail(
        `tensor ${i} is named "${w.name}" but the model's weight at that position is ` +
          `"${v.originalName}" (pass { checkNames: false } to load by position only).`,
      );
    }
  }
  const tensors = stored.map((w) => tf.tensor(w.values, w.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
  return model;
}

/**
 * Loads a packed csq model (docs/packed-format.md) as a plain `tf.LayersModel`: `source` is a URL
 * (string or URL, fetched), an ArrayBuffer or Uint8Array, or in Node a file path. Validates the
 * whole file (magic, version, lengths, CRC-32s, manifest, shapes against the topology) and throws
 * a CsqError (codes CSQ_PACKED_*) that says what is wrong.
 */
export async function loadPackedModel(
  source: PackedSource,
  opts: LoadPackedOptions = {},
): Promise<LayersModel> {
  const bytes = await readPackedSource(source, opts);
  return modelFromDecoded(decodePackedModel(bytes), opts);
}
