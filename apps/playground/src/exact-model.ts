/**
 * The trained model's exact version (spec 1, Heaviside) as csq's packed file (.csqp), written
 * with `@csq/loader/export` (what `csq export` uses), and the plain tfjs model that file loads
 * into. The exporter reads weights synchronously: run it on the cpu or wasm backend.
 */
import { decodePackedModel, modelFromDecoded } from '@csq/loader';
import { exportPackedModel } from '@csq/loader/export';
import type * as tf from '@tensorflow/tfjs';

/** The packed file of `model`'s exact version, with `meta` in its manifest. */
export function encodeExactModel(
  model: tf.LayersModel,
  meta: Record<string, unknown> = {},
): Promise<Uint8Array> {
  return exportPackedModel(model, { meta });
}

/** The plain tfjs model a packed file holds (exactly what @csq/loader gives a user). */
export function loadExactModel(bytes: Uint8Array): Promise<tf.LayersModel> {
  return modelFromDecoded(decodePackedModel(bytes));
}
