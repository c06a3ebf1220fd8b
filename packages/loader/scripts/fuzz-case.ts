// Reproduces one fuzz case: tsx --conditions=@csq/source scripts/fuzz-case.ts CASE [SEED]
import * as tf from '@tensorflow/tfjs';
import { decodePackedModel } from '../src/decode.ts';
import { encodePackedModel } from '../src/encode.ts';
import { mutate } from '../src/fuzz-mutate.ts';
import { sections } from '../src/test-files.ts';
import {
  quantizeModel,
  RESIDUAL_PLANS,
  randomizeWeights,
  residualModel,
  SEQUENTIAL_PLANS,
  sequentialModel,
} from '../src/test-models.ts';

await tf.setBackend('cpu');
const files: Uint8Array[] = [];
for (const [build, plans] of [
  [sequentialModel, SEQUENTIAL_PLANS],
  [residualModel, RESIDUAL_PLANS],
] as const) {
  const model = build();
  randomizeWeights(model, 3);
  const { inputs } = quantizeModel(model, plans);
  for (const formatVersion of [1, 2] as const)
    files.push(
      encodePackedModel(
        { topology: model.toJSON(null, false) as object, weights: inputs },
        { formatVersion },
      ),
    );
}
const i = Number(process.argv[2]);
const file = files[i % files.length]!;
const { bytes, what } = mutate(file, Number(process.argv[3] ?? 1), i);
console.log(what);
const a = JSON.parse(sections(file).json),
  b = JSON.parse(sections(bytes).json);
const diff = (x: unknown, y: unknown, path: string) => {
  if (JSON.stringify(x) === JSON.stringify(y)) return;
  if (
    x &&
    y &&
    typeof x === 'object' &&
    typeof y === 'object' &&
    Array.isArray(x) === Array.isArray(y)
  ) {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
      diff((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
  } else
    console.log(path, JSON.stringify(x)?.slice(0, 200), '->', JSON.stringify(y)?.slice(0, 200));
};
diff(a, b, '');
try {
  const d0 = decodePackedModel(file),
    d1 = decodePackedModel(bytes);
  d1.weights.forEach((w, k) => {
    const o = d0.weights[k]!;
    for (let j = 0; j < w.values.length; j++)
      if (w.values[j] !== o.values[j]) console.log(w.name, j, o.values[j], '->', w.values[j]);
  });
} catch (e) {
  console.log('decode', (e as Error).message);
}
