// The web page's script: load the packed model and classify the digits. Bundle it with
// `npm run build` (esbuild) into public/page.bundle.js, which public/index.html loads.
import { loadPackedModel } from '@csq/loader';
import * as tf from '@tensorflow/tfjs';

const out = document.getElementById('out');
try {
  await tf.ready(); // webgl where the browser has it, else cpu
  // A URL (or bytes, or a File); the result is a plain tf.LayersModel.
  const model = await loadPackedModel('model.csqp');
  const digits = await (await fetch('digits.json')).json();
  const x = tf.tensor4d(
    Float32Array.from(digits.pixels, (v) => (v / 255 - digits.mean) / digits.std),
    [digits.count, 28, 28, 1],
  );
  const classes = Array.from(tf.argMax(model.predict(x), -1).dataSync());
  const same = classes.every((c, i) => c === digits.nodeClasses[i]);
  out.textContent = `page predicts: ${classes.join(' ')}\nlabels:        ${digits.labels.join(' ')}\nsame as Node: ${same}`;
  document.body.dataset.classes = classes.join(',');
  document.body.dataset.backend = tf.getBackend();
} catch (err) {
  out.textContent = `error: ${err.message}`;
  document.body.dataset.error = String(err.message);
}
