/**
 * Tiny models and a synthetic image set for the loop's tests (cpu backend, seconds per run).
 */
import { arraySource, type ImageSource } from '@csq/data';
import { CsqConv2D, CsqDense } from '@csq/layers';
import * as tf from '@tensorflow/tfjs';

/** 8x8x1 images of 3 classes: a bright horizontal, vertical or diagonal bar, plus noise. */
export function syntheticSource(count: number, seed: number): ImageSource {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const images = new Uint8Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    labels[i] = label;
    const at = 1 + Math.floor(rand() * 6);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const on = label === 0 ? y === at : label === 1 ? x === at : x === y;
        images[i * 64 + y * 8 + x] = Math.min(255, Math.floor((on ? 200 : 20) + rand() * 50));
      }
    }
  }
  return arraySource({ images, labels, count, height: 8, width: 8, channels: 1, numClasses: 3 });
}

/** The data of a tiny run. */
export function tinyData(train = 48, test = 24) {
  return {
    train: syntheticSource(train, 1),
    test: syntheticSource(test, 2),
    mean: [0.3],
    std: [0.3],
  };
}

/** conv 3x3 (4 filters) -> BN -> ReLU -> GAP -> dense 3; CSQ layers unless `quantized` false. */
export function tinyModel(
  opts: { quantized?: boolean; seed?: number; bits?: number } = {},
): tf.LayersModel {
  const seed = opts.seed ?? 3;
  const bits = opts.bits ?? 4;
  const input = tf.input({ shape: [8, 8, 1] });
  const conv =
    opts.quantized === false
      ? tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: tf.initializers.heNormal({ seed }),
          name: 'conv',
        })
      : new CsqConv2D({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          bits,
          seed,
          name: 'conv',
        });
  let x = conv.apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const dense =
    opts.quantized === false
      ? tf.layers.dense({
          units: 3,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
          name: 'fc',
        })
      : new CsqDense({ units: 3, bits, seed: seed + 1, name: 'fc' });
  const out = dense.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Every weight's values, in model order. */
export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync() as Float32Array);
}
