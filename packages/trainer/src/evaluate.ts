/**
 * Accuracy of a model on an image source, in batches, with no tensor left behind.
 */
import type { ImageSource } from '@csq/data';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { makeBatch, type Preprocess } from './batches.js';

/** Top-1 accuracy (fraction) of `model` on all of `source`, forward in inference mode. */
export async function evaluateAccuracy(
  model: tfl.LayersModel,
  source: ImageSource,
  opts: { batchSize: number; preprocess: Preprocess; limit?: number },
): Promise<number> {
  const count = opts.limit ? Math.min(opts.limit, source.count) : source.count;
  let correct = 0;
  for (let start = 0; start < count; start += opts.batchSize) {
    const n = Math.min(opts.batchSize, count - start);
    const indices = Array.from({ length: n }, (_, i) => start + i);
    const batch = await makeBatch(source, indices, {
      train: false,
      seed: 0,
      preprocess: opts.preprocess,
    });
    const hits = tf.tidy(() => {
      const logits = model.apply(batch.x, { training: false }) as tf.Tensor;
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), batch.labels), 'int32'));
    });
    correct += (await hits.data())[0]!;
    tf.dispose([hits, batch.x, batch.labels]);
  }
  return count > 0 ? correct / count : 0;
}
