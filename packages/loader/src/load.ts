/**
 * `loadPackedModel`: a packed file in, a plain tf.LayersModel out (topology from the manifest,
 * dequantized weights set). Needs only tfjs-core and tfjs-layers; no csq layer classes.
 * Order: every check that needs no allocation first (file, manifest, sizes against the limits,
 * csq's own topology check), then the build (guarded: no weight past the file's total), then
 * shapes and names against the model, then one tensor at a time decoded and set.
 */
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import { type LayersModel, models } from '@tensorflow/tfjs-layers';
import { registerCsqActQuantize } from './act-quant.js';
import { decodeWeight, type PackedHeader, readPackedManifest } from './decode.js';
import { type DecodedPackedModel, type PackedManifest, shapeSize } from './format.js';
import { buildGuarded } from './guard-init.js';
import { type PackedLimits, resolveLimits } from './limits.js';
import { type PackedSource, type ReadSourceOptions, readPackedSource } from './source.js';
import { checkTopology } from './topology-check.js';

/** Options of `loadPackedModel`. */
export interface LoadPackedOptions extends ReadSourceOptions, PackedLimits {
  /**
   * Check that each stored tensor's name is the name tfjs gives the weight at that position
   * (default true). Catches tensors written in the wrong order that happen to share a shape
   * (batch norm's gamma, beta, mean and variance).
   */
  checkNames?: boolean;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

type Stored = { name: string; shape: number[] };

/**
 * Weight values the build may allocate: the file's total with some room (so that a topology
 * that differs a little from the file still builds and gets the precise count/shape message),
 * never past maxElements.
 */
const buildBudget = (total: number, limits: Required<PackedLimits>) =>
  Math.min(2 * total + 4096, limits.maxElements);

/** Builds the model of a checked topology; at most `maxElements` weight values allocated. */
async function buildModel(
  topology: Record<string, unknown>,
  maxElements: number,
  limits: Required<PackedLimits>,
): Promise<LayersModel> {
  checkTopology(topology, limits);
  try {
    // the one csq layer a packed model may hold (activation quantizers)
    registerCsqActQuantize();
    return await buildGuarded(topology, maxElements, (guarded) =>
      models.modelFromJSON({ modelTopology: guarded } as never),
    );
  } catch (e) {
    if (e instanceof CsqError && e.code === 'CSQ_PACKED_MISMATCH') throw e;
    throw new CsqError(
      'CSQ_PACKED_TOPOLOGY',
      `tfjs-layers could not build the packed model's topology: ${(e as Error).message}. Packed ` +
        'files hold plain tfjs layers (csq export converts CSQ layers); a custom layer class must be ' +
        'registered with tf.serialization.registerClass before loading.',
    );
  }
}

/** Checks count, shapes and names of the model's weights against the stored ones. */
function checkFit(model: LayersModel, stored: Stored[], checkNames: boolean): void {
  const vars = model.weights;
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
    if (checkNames && v.originalName !== w.name) {
      fail(
        `tensor ${i} is named "${w.name}" but the model's weight at that position is ` +
          `"${v.originalName}" (pass { checkNames: false } to load by position only).`,
      );
    }
  }
}

/** An error while setting the weights (a constraint of the topology failing) as a CsqError. */
function setError(e: unknown): CsqError {
  if (e instanceof CsqError) return e;
  return new CsqError(
    'CSQ_PACKED_TOPOLOGY',
    `tfjs-layers could not set the packed model's weights: ${(e as Error).message}. A constraint ` +
      'or layer in the topology is broken; export the model again with `csq export`.',
  );
}

function checkVariance(values: Float32Array, name: string, i: number): void {
  const k = values.findIndex((v) => !(v >= 0));
  if (k >= 0) {
    throw new CsqError(
      'CSQ_PACKED_VALUE',
      `packed model weights[${i}] ("${name}") value ${k} is ${values[k]}: a batch norm's moving ` +
        'variance is never negative (the model would predict NaN). The file is damaged or was ' +
        'edited; export it again with `csq export`.',
    );
  }
}

/** Builds the tfjs model of a decoded packed file and sets its weights. */
export async function modelFromDecoded(
  decoded: DecodedPackedModel,
  opts: Pick<LoadPackedOptions, 'checkNames' | 'maxElements' | 'maxBytes'> = {},
): Promise<LayersModel> {
  const limits = resolveLimits(opts);
  const total = decoded.weights.reduce((a, w) => a + shapeSize(w.shape), 0);
  const model = await buildModel(decoded.topology, buildBudget(total, limits), limits);
  checkFit(model, decoded.weights, opts.checkNames !== false);
  for (const i of varianceIndices(model)) {
    const w = decoded.weights[i]!;
    try {
      checkVariance(w.values, w.name, i);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  const tensors = decoded.weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } catch (e) {
    model.dispose();
    throw setError(e);
  } finally {
    tf.dispose(tensors);
  }
  return model;
}

/** Indices (in model.weights) of every batch norm's moving variance, which must be >= 0. */
function varianceIndices(model: LayersModel): Set<number> {
  const index = new Map(model.weights.map((v, i) => [v, i] as const));
  const out = new Set<number>();
  const visit = (l: LayersModel['layers'][number]) => {
    const inner = (l as unknown as { layers?: LayersModel['layers'] }).layers;
    if (Array.isArray(inner)) inner.forEach(visit);
    if (l.getClassName() !== 'BatchNormalization') return;
    for (const w of l.weights) {
      const i = index.get(w);
      if (i !== undefined && w.originalName.endsWith('/moving_variance')) out.add(i);
    }
  };
  model.layers.forEach(visit);
  return out;
}

/** The model of a checked file: built, fitted, then each tensor decoded and set in turn. */
async function modelFromFile(
  bytes: Uint8Array,
  header: PackedHeader,
  manifest: PackedManifest,
  opts: LoadPackedOptions,
): Promise<LayersModel> {
  const limits = resolveLimits(opts);
  const total = manifest.weights.reduce((a, w) => a + shapeSize(w.shape), 0);
  const model = await buildModel(manifest.topology, buildBudget(total, limits), limits);
  checkFit(model, manifest.weights, opts.checkNames !== false);
  const variances = varianceIndices(model);
  try {
    model.weights.forEach((v, i) => {
      const w = decodeWeight(bytes, header, manifest.weights[i]!, i);
      if (variances.has(i)) checkVariance(w.values, w.name, i);
      const t = tf.tensor(w.values, w.shape, 'float32');
      try {
        v.write(t);
      } finally {
        t.dispose();
      }
    });
  } catch (e) {
    model.dispose();
    throw setError(e);
  }
  return model;
}

/**
 * Loads a packed csq model (docs/packed-format.md, versions 1 and 2) as a plain
 * `tf.LayersModel`: `source` is a URL (string or URL, fetched), an ArrayBuffer or Uint8Array,
 * or in Node a file path. Validates the whole file (magic, version, lengths, CRC-32s, manifest,
 * sizes against `maxElements`/`maxBytes`, the topology's graph, shapes against the topology)
 * before it allocates the weights, and throws a CsqError (codes CSQ_PACKED_*) that says what is
 * wrong.
 */
export async function loadPackedModel(
  source: PackedSource,
  opts: LoadPackedOptions = {},
): Promise<LayersModel> {
  const bytes = await readPackedSource(source, opts);
  const { header, manifest } = readPackedManifest(bytes, opts);
  return modelFromFile(bytes, header, manifest, opts);
}
