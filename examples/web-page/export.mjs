// Export a trained CSQ model to one packed .csqp file (each weight stored at its own bit width)
// for a web page, with a few test digits and Node's predictions to compare the page with.
//
//   node export.mjs ../train-from-scratch/runs/from-scratch   # a run dir trainNode / csq train wrote
//
// Writes public/model.csqp and public/digits.json. Then: npm run build; serve public/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadData } from '@csq/data/node';
import { fileSystemIO } from '@csq/layers/node'; // importing @csq/layers registers the CSQ layers
import { loadPackedModel } from '@csq/loader';
import { exportPackedModel } from '@csq/loader/export';
import * as tf from '@tensorflow/tfjs';

const runDir = process.argv[2] ?? '../train-from-scratch/runs/from-scratch';

// The trained CSQ model, as the run directory holds it (model.json + weights.bin).
const csq = await tf.loadLayersModel(fileSystemIO(join(runDir, 'model')));

// The packed file holds the exact model: each layer's selected bits, nothing more.
const bytes = await exportPackedModel(csq, { meta: { source: runDir } });
mkdirSync('public', { recursive: true });
writeFileSync('public/model.csqp', bytes);
console.log(`model.csqp: ${bytes.length} bytes`);

// 16 test digits as raw pixels, the normalisation the model was trained with, and the classes
// the packed model predicts in Node: the page must predict the same.
const data = await loadData('mnist');
const count = 16;
const { images, labels } = await data.test.read(Array.from({ length: count }, (_, i) => i));
const model = await loadPackedModel(bytes); // a plain tf.LayersModel
const x = tf.tensor4d(
  Float32Array.from(images, (v) => (v / 255 - data.mean[0]) / data.std[0]),
  [count, 28, 28, 1],
);
const nodeClasses = Array.from(tf.argMax(model.predict(x), -1).dataSync());
writeFileSync(
  'public/digits.json',
  JSON.stringify({
    count,
    mean: data.mean[0],
    std: data.std[0],
    pixels: Array.from(images),
    labels: Array.from(labels),
    nodeClasses,
  }),
);
console.log(`node predicts: ${nodeClasses.join(' ')}`);
