/**
 * The published packages this check packs and installs, each with a tiny program run from Node
 * ESM and from CJS in a fresh project. A new package adds an entry here (and a devDependency on
 * itself in this package's package.json so turbo builds it first).
 */
export interface PackedPackage {
  name: string;
  /** Folder under packages/. */
  dir: string;
  /** Extra packages the smoke program needs beyond the declared peers (none for most). */
  extra?: string[];
  /** Body of an ES module; must throw (or exit non-zero) on failure and print "ok". */
  esm: string;
  /** Body of a CommonJS program; same contract. */
  cjs: string;
}

// @csq/loader: write a packed model, load it back from a file path (the dynamic node:fs import
// of the built package) and from bytes, and predict; export a CSQ model through the
// @csq/loader/export entry and load it; @csq/report: render and write a report.
const loaderCheck = (loader: string, tf: string, tfl: string, exp: string, layers: string) => `
(async () => {
  await ${tf}.setBackend('cpu');
  const model = ${tfl}.sequential({ layers: [${tfl}.layers.dense({ inputShape: [2], units: 2, name: 'fc' })] });
  const bytes = ${loader}.encodePackedModel({
    topology: model.toJSON(null, false),
    weights: [
      { name: 'fc/kernel', shape: [2, 2], kind: 'codes', codes: [1, -3, 0, 2], bits: 2, scale: 3, positions: [0, 1] },
      { name: 'fc/bias', shape: [2], kind: 'float32', values: [0.5, -0.5] },
    ],
  });
  const file = path.join(os.tmpdir(), 'csq-pack-check-' + process.pid + '.csqp');
  fs.writeFileSync(file, bytes);
  for (const source of [file, bytes]) {
    const loaded = await ${loader}.loadPackedModel(source);
    const y = loaded.predict(${tf}.tensor2d([[1, 1]])).dataSync();
    // kernel = 3 * code / (2^2 - 1) = code: y = [1 + 0 + 0.5, -3 + 2 - 0.5]
    if (Math.abs(y[0] - 1.5) > 1e-6 || Math.abs(y[1] + 1.5) > 1e-6) throw new Error('predict ' + y);
  }
  fs.rmSync(file);
  bytes[bytes.length - 1] ^= 1;
  let code = '';
  try { ${loader}.decodePackedModel(bytes); } catch (e) { code = e.code; }
  if (code !== 'CSQ_PACKED_CHECKSUM') throw new Error('corruption not detected: ' + code);
  const csq = ${layers}.mnistCnn({ bits: 4, seed: 1, inputShape: [8, 8, 1] });
  const packed = await ${exp}.exportPackedModel(csq);
  if ((await ${exp}.packedModelByteLength(csq)) !== packed.length) throw new Error('packedModelByteLength');
  const exported = await ${loader}.loadPackedModel(packed);
  const z = exported.predict(${tf}.ones([1, 8, 8, 1])).dataSync();
  if (z.length !== 10 || !z.every(Number.isFinite)) throw new Error('exported model ' + z);
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

const reportCheck = (report: string) => `
(async () => {
  const metrics = [
    { model: 'csq', epoch: 0, loss: 1, ce: 1, beta: 1, R: 1, targetR: 0.25, avgBitsSlots: 8, softAccuracy: 0.5 },
    { model: 'csq', epoch: 1, loss: 0.5, ce: 0.4, beta: 14, R: 0.5, targetR: 0.25, avgBitsSlots: 4, softAccuracy: 0.7 },
  ];
  const summary = { recipe: 'check', layers: [{ name: 'conv', bits: 2, params: 10 }], targetBits: 2, bits: 8 };
  const html = ${report}.renderReport({ metrics, summary });
  for (const id of ['layer-bits', 'avg-bits', 'budget-r', 'loss', 'accuracy', 'beta']) {
    if (!html.includes('<svg class="chart" id="' + id + '"')) throw new Error('chart ' + id + ' missing');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csq-report-check-'));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), metrics.map((m) => JSON.stringify(m)).join('\\n'));
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary));
  const out = await ${report}.writeReport(dir);
  if (!fs.readFileSync(out, 'utf8').includes('id="beta"')) throw new Error('writeReport');
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

const nodeImports =
  "import * as fs from 'node:fs';\nimport * as os from 'node:os';\nimport * as path from 'node:path';\n";
const nodeRequires =
  "const fs = require('node:fs');\nconst os = require('node:os');\nconst path = require('node:path');\n";

const coreCheck = (core: string) => `
const w = new Float32Array([0.5, -1, 0.25, 0]);
const planes = ${core}.initBitPlanes(w, 3);
const exact = ${core}.exactWeight({ ...planes, m: [1, 1, 1], bits: 3 });
const want = [4 / 7, -1, 2 / 7, 0];
for (let i = 0; i < 4; i++) if (Math.abs(exact[i] - want[i]) > 1e-6) throw new Error('exactWeight ' + exact);
if (typeof ${core}.softWeightTensor !== 'function') throw new Error('softWeightTensor missing');
const bytes = ${core}.packBits([5, 3], 3);
if (bytes.length !== 1 || bytes[0] !== 0b10101100) throw new Error('packBits');
console.log('ok');
`;

// @csq/layers: build mnist-cnn, drive it with the controller, save and load it through the
// Node file handler of @csq/layers/node with identical outputs (cpu backend, tfjs-core only).
const layersCheck = (layers: string, lnode: string, tf: string, tfl: string) => `
(async () => {
  await ${tf}.setBackend('cpu');
  const model = ${layers}.mnistCnn({ bits: 4, seed: 1 });
  const ctl = new ${layers}.CsqController(model);
  if (ctl.layers.map((l) => l.name).join() !== 'conv1,conv2,conv3,dense') throw new Error('layers');
  ctl.setBeta(5);
  const x = ${tf}.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1);
  const a = model.predict(x).dataSync();
  if (a.length !== 20 || !a.every(Number.isFinite)) throw new Error('predict ' + a);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csq-layers-check-'));
  await model.save(${lnode}.fileSystemIO(dir));
  const loaded = await ${tfl}.loadLayersModel(${lnode}.fileSystemIO(dir));
  if (!(loaded.getLayer('conv1') instanceof ${layers}.CsqConv2D)) throw new Error('class');
  const b = loaded.predict(x).dataSync();
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error('loaded output ' + i);
  const q = ${layers}.quantizeModel(${tfl}.sequential({ layers: [${tfl}.layers.dense({ units: 2, inputShape: [3] })] }), { bits: 3 });
  if (q.layers[0].getClassName() !== 'CsqDense') throw new Error('quantizeModel');
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/budget: the regularizer on a CSQ model: counts, penalty, report, model.fit callback.
const budgetCheck = (budget: string, layers: string, tf: string) => `
(async () => {
  await ${tf}.setBackend('cpu');
  const model = ${layers}.mnistCnn({ bits: 4, seed: 1 });
  const b = new ${budget}.BudgetRegularizer(model, { targetBits: 2, lambda: 0.1, mode: 'params' });
  const s = b.stats();
  if (s.ratio !== 1 || Math.abs(s.targetRatio - 0.5) > 1e-12) throw new Error('stats ' + JSON.stringify(s));
  const p = b.penalty().dataSync()[0];
  if (!(p > 0)) throw new Error('penalty ' + p);
  const r = b.report();
  if (r.layers.length !== 4 || r.layers[0].params !== 144) throw new Error('report');
  if (typeof b.callback().onBatchBegin !== 'function') throw new Error('callback');
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/data: the universal entry, the embedded MNIST split, and an image decoded by the worker
// pool from the installed package (checks that dist/ finds worker/decode-worker.cjs). sharp is an
// optional peer, so it is not installed here at first: an image folder must then fail with the
// typed error and its install command; the check then installs sharp as that error says and
// runs itself again.
const dataCheck = (data: string, node: string) => `
const order = ${data}.shuffledIndices(10, 1, 0);
if ([...order].sort((a, b) => a - b).join() !== '0,1,2,3,4,5,6,7,8,9') throw new Error('shuffle');
const norm = ${data}.normalize(new Uint8Array([255]), [0.5], [0.5]);
if (Math.abs(norm[0] - 1) > 1e-6) throw new Error('normalize ' + norm[0]);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const cp = require('node:child_process');
(async () => {
  const mnist = await ${node}.loadData('mnist');
  if (mnist.train.count !== 8000 || mnist.test.count !== 2000) throw new Error('mnist split');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csq-data-check-'));
  fs.mkdirSync(path.join(dir, 'a'));
  // a 2x2 grey (128) PNG
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADklEQVQImWNoAAMGCAUAKg4GAeLeQoEAAAAASUVORK5CYII=', 'base64');
  fs.writeFileSync(path.join(dir, 'a', 'x.png'), png);
  if (!fs.existsSync(path.join(process.cwd(), 'node_modules', 'sharp', 'package.json'))) {
    let err;
    try { await ${node}.imageFolderSource(dir, { size: 2, workers: 1 }); } catch (e) { err = e; }
    if (!err || err.code !== 'CSQ_DATA_MISSING_PACKAGE') throw new Error('without sharp: ' + (err && err.message));
    const range = require('@csq/data/package.json').peerDependencies.sharp;
    if (!err.message.includes('npm install sharp@"' + range + '"')) throw new Error('advice: ' + err.message);
    cp.execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'sharp@' + range], { stdio: 'ignore' });
    // Node's ES module resolver remembers the failed lookup: decode in a fresh process
    cp.execFileSync(process.execPath, [process.argv[1]], { stdio: 'inherit' });
    return;
  }
  const src = await ${node}.imageFolderSource(dir, { size: 2, workers: 1, resizeRatio: 1 });
  const { images } = await src.read([0]);
  await src.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (images.length !== 12 || images.some((v) => v !== 128)) throw new Error('decode ' + images);
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/trainer-webgpu: both entries load in Node; the universal initWebGpu (and trainOnWebGpu)
// finds no navigator.gpu and points to /node; the /node one, without the optional peer webgpu,
// says so.
const webgpuCheck = (wg: string, node: string) => `
(async () => {
  if (${wg}.WEBGPU_BACKEND !== 'webgpu' || ${node}.WEBGPU_BACKEND !== 'webgpu') throw new Error('backend name');
  if (${wg}.hasWebGpu()) throw new Error('hasWebGpu() in Node without a GPU object');
  const codeOf = async (f) => { try { await f(); } catch (e) { return e.code; } return 'no error'; };
  const universal = await codeOf(() => ${wg}.initWebGpu());
  if (universal !== 'CSQ_NO_WEBGPU') throw new Error('universal initWebGpu: ' + universal);
  const viaNode = await codeOf(() => ${node}.initWebGpu());
  if (viaNode !== 'CSQ_NO_WEBGPU_PACKAGE') throw new Error('node initWebGpu: ' + viaNode);
  // trainOnWebGpu (@csq/trainer's loop on WebGPU) sets WebGPU up first: the same errors
  const trainUniversal = await codeOf(() => ${wg}.trainOnWebGpu({}));
  if (trainUniversal !== 'CSQ_NO_WEBGPU') throw new Error('universal trainOnWebGpu: ' + trainUniversal);
  const trainNode = await codeOf(() => ${node}.trainOnWebGpu({}));
  if (trainNode !== 'CSQ_NO_WEBGPU_PACKAGE') throw new Error('node trainOnWebGpu: ' + trainNode);
  if (typeof ${node}.swiftShaderEnv !== 'function') throw new Error('swiftShaderEnv missing');
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/trainer-node: importing it registers the wasm training kernels; without tfjs-node(-gpu)
// (optional peers, not installed here) auto selection lands on wasm and says why; a conv
// gradient (Conv2DBackpropFilter, missing from tfjs-backend-wasm 4.22) then runs on wasm.
const trainerNodeCheck = (tn: string, tf: string) => `
(async () => {
  if (!${tn}.isCsqWasmKernel('Conv2DBackpropFilter')) throw new Error('kernels not registered on import');
  const sel = await ${tn}.selectBackend();
  if (sel.name !== 'wasm' || ${tf}.getBackend() !== 'wasm') throw new Error('selected ' + sel.message);
  if (!/^not installed; to use it: npm install @tensorflow\\/tfjs-node-gpu@/.test(sel.tried[0].reason)) throw new Error(sel.tried[0].reason);
  const x = ${tf}.ones([1, 4, 4, 1]);
  const dw = ${tf}.grad((w) => ${tf}.sum(${tf}.conv2d(x, w, 1, 'same')))(${tf}.ones([3, 3, 1, 1]));
  const want = [9, 12, 9, 12, 16, 12, 9, 12, 9];
  const got = Array.from(dw.dataSync());
  if (got.some((v, i) => v !== want[i])) throw new Error('conv filter gradient ' + got);
  const d = await ${tn}.describeBackend();
  if (!d.wasm || !d.wasm.trainingKernels) throw new Error('describeBackend ' + d.text);
  let code = 'no error';
  try { await ${tn}.selectBackend({ backend: 'tfjs-node' }); } catch (e) { code = e.code; }
  if (code !== 'CSQ_BACKEND_UNAVAILABLE') throw new Error('explicit tfjs-node: ' + code);
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/trainer: two epochs of the real loop on a tiny CSQ model and in-memory images (cpu).
const trainerCheck = (trainer: string, layers: string, data: string, tf: string) => `
(async () => {
  await ${tf}.setBackend('cpu');
  const n = 24;
  const images = new Uint8Array(n * 64).map((_, i) => (i * 37) % 256);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const src = ${data}.arraySource({ images, labels, count: n, height: 8, width: 8, channels: 1, numClasses: 2 });
  const input = ${tf}.input({ shape: [8, 8, 1] });
  let x = new ${layers}.CsqConv2D({ filters: 2, kernelSize: 3, bits: 4, seed: 1, name: 'c' }).apply(input);
  x = ${tf}.layers.globalAveragePooling2d({}).apply(x);
  const out = new ${layers}.CsqDense({ units: 2, bits: 4, seed: 2, name: 'd' }).apply(x);
  const model = ${tf}.model({ inputs: input, outputs: out });
  const r = await ${trainer}.train({
    model,
    data: { train: src, test: src, mean: [0.5], std: [0.25] },
    config: { epochs: 2, batchSize: 8, lr: 0.05, csq: { ticket: 1, budget: { targetBits: 2, lambda: 0.1 } } },
  });
  if (r.history.length !== 2 || !Number.isFinite(r.exactAccuracy)) throw new Error('train ' + JSON.stringify(r.history));
  if (r.report.layers.map((l) => l.name).join() !== 'c,d') throw new Error('report');
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/cli: the installed csq command trains one epoch on the embedded digits.
const cliCheck = (prelude: string) => `${prelude}
const { spawnSync } = cp;
const bin = path.join(process.cwd(), 'node_modules', '.bin', 'csq');
const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
if (help.status !== 0 || !help.stdout.includes('csq train --recipe NAME')) throw new Error('help: ' + help.stderr);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'csq-cli-check-'));
const r = spawnSync(bin, ['train', '--recipe', 'quickstart', '--epochs', '1', '--limit-train', '32', '--batch', '16', '--backend', 'wasm', '--out', out, '--quiet'], { encoding: 'utf8' });
if (r.status !== 0) throw new Error('train: ' + r.stderr + r.stdout);
const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
if (s.recipe !== 'quickstart' || s.layers.length !== 4) throw new Error('summary');
fs.rmSync(out, { recursive: true, force: true });
console.log('ok');
`;

// @csq/backend-wasm-kernels: registered on import; its Conv2DBackpropFilter (which wasm lacks)
// gives the hand-computed 1x1 filter gradient sum(x * dy) = 1 + 2 + 3 + 4.
const wasmKernelsCheck = (k: string, tf: string) => `
(async () => {
  if (!${k}.isCsqWasmKernel('Conv2DBackpropFilter')) throw new Error('not registered on import');
  if (${k}.registerWasmTrainingKernels().length !== 0) throw new Error('registered twice');
  await ${tf}.setBackend('wasm');
  const x = ${tf}.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const dy = ${tf}.ones([1, 2, 2, 1]);
  const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 1, 1] };
  const dw = ${tf}.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs).dataSync();
  if (dw.length !== 1 || Math.abs(dw[0] - 10) > 1e-6) throw new Error('dW ' + dw);
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

// @csq/run-format: a metrics file with a torn last line, a config, a checkpoint round trip.
const runFormatCheck = (rf: string) => `
const line = { model: 'csq', epoch: 0, epochs: 1, phase: 'search', lr: 0.1, loss: 1, ce: 1, trainAccuracy: 0.5, seconds: 1 };
const read = ${rf}.readMetrics(JSON.stringify(line) + '\\n{"model":"cs');
if (read.lines.length !== 1 || !read.torn || read.torn.line !== 2) throw new Error('readMetrics ' + JSON.stringify(read));
const cfg = ${rf}.resolveTrainConfig({ epochs: 8, csq: {} });
if (cfg.csq.ticket !== ${rf}.defaultTicket(8) || cfg.csq.ticket !== 6) throw new Error('ticket');
const bytes = ${rf}.encodeCheckpoint({ epoch: 3 }, [{ name: 'w0', shape: [2], values: new Float32Array([1, 2]) }]);
const back = ${rf}.decodeCheckpoint(bytes, 'check');
if (back.header.epoch !== 3 || back.tensors.get('w0').values[1] !== 2) throw new Error('checkpoint');
if (${rf}.checkpointName('csq') !== 'checkpoint/csq.ckpt') throw new Error('checkpointName');
console.log('ok');
`;

export const PACKAGES: PackedPackage[] = [
  {
    name: '@csq/run-format',
    dir: 'run-format',
    esm: `import * as rf from '@csq/run-format';\n${runFormatCheck('rf')}`,
    cjs: `const rf = require('@csq/run-format');\n${runFormatCheck('rf')}`,
  },
  {
    name: '@csq/trainer',
    dir: 'trainer',
    extra: ['@tensorflow/tfjs@4.22.0'],
    esm:
      `import * as trainer from '@csq/trainer';\nimport * as layers from '@csq/layers';\n` +
      `import * as data from '@csq/data';\nimport * as tf from '@tensorflow/tfjs';\n` +
      trainerCheck('trainer', 'layers', 'data', 'tf'),
    cjs:
      `const trainer = require('@csq/trainer');\nconst layers = require('@csq/layers');\n` +
      `const data = require('@csq/data');\nconst tf = require('@tensorflow/tfjs');\n` +
      trainerCheck('trainer', 'layers', 'data', 'tf'),
  },
  {
    name: '@csq/cli',
    dir: 'cli',
    esm: cliCheck(`import cp from 'node:child_process';\n${nodeImports}`),
    cjs: cliCheck(`const cp = require('node:child_process');\n${nodeRequires}`),
  },
  {
    name: '@csq/loader',
    dir: 'loader',
    extra: ['@tensorflow/tfjs-backend-cpu@4.22.0'],
    esm:
      `import * as loader from '@csq/loader';\nimport * as tf from '@tensorflow/tfjs-core';\n` +
      `import '@tensorflow/tfjs-backend-cpu';\nimport * as tfl from '@tensorflow/tfjs-layers';\n` +
      `import * as exp from '@csq/loader/export';\nimport * as layers from '@csq/layers';\n` +
      nodeImports +
      loaderCheck('loader', 'tf', 'tfl', 'exp', 'layers'),
    cjs:
      `const loader = require('@csq/loader');\nconst tf = require('@tensorflow/tfjs-core');\n` +
      `require('@tensorflow/tfjs-backend-cpu');\nconst tfl = require('@tensorflow/tfjs-layers');\n` +
      `const exp = require('@csq/loader/export');\nconst layers = require('@csq/layers');\n` +
      nodeRequires +
      loaderCheck('loader', 'tf', 'tfl', 'exp', 'layers'),
  },
  {
    name: '@csq/report',
    dir: 'report',
    esm: `import * as report from '@csq/report';\n${nodeImports}${reportCheck('report')}`,
    cjs: `const report = require('@csq/report');\n${nodeRequires}${reportCheck('report')}`,
  },
  {
    name: '@csq/core',
    dir: 'core',
    esm: `import * as core from '@csq/core';\n${coreCheck('core')}`,
    cjs: `const core = require('@csq/core');\n${coreCheck('core')}`,
  },
  {
    name: '@csq/layers',
    dir: 'layers',
    extra: ['@tensorflow/tfjs-backend-cpu@4.22.0'],
    esm:
      `import * as layers from '@csq/layers';\nimport * as lnode from '@csq/layers/node';\n` +
      `import * as tf from '@tensorflow/tfjs-core';\nimport '@tensorflow/tfjs-backend-cpu';\n` +
      `import * as tfl from '@tensorflow/tfjs-layers';\n${nodeImports}${layersCheck('layers', 'lnode', 'tf', 'tfl')}`,
    cjs:
      `const layers = require('@csq/layers');\nconst lnode = require('@csq/layers/node');\n` +
      `const tf = require('@tensorflow/tfjs-core');\nrequire('@tensorflow/tfjs-backend-cpu');\n` +
      `const tfl = require('@tensorflow/tfjs-layers');\n${nodeRequires}${layersCheck('layers', 'lnode', 'tf', 'tfl')}`,
  },
  {
    name: '@csq/budget',
    dir: 'budget',
    extra: ['@tensorflow/tfjs-backend-cpu@4.22.0'],
    esm:
      `import * as budget from '@csq/budget';\nimport * as layers from '@csq/layers';\n` +
      `import * as tf from '@tensorflow/tfjs-core';\nimport '@tensorflow/tfjs-backend-cpu';\n` +
      budgetCheck('budget', 'layers', 'tf'),
    cjs:
      `const budget = require('@csq/budget');\nconst layers = require('@csq/layers');\n` +
      `const tf = require('@tensorflow/tfjs-core');\nrequire('@tensorflow/tfjs-backend-cpu');\n` +
      budgetCheck('budget', 'layers', 'tf'),
  },
  {
    name: '@csq/data',
    dir: 'data',
    esm:
      `import * as data from '@csq/data';\nimport * as node from '@csq/data/node';\n` +
      `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n` +
      dataCheck('data', 'node'),
    cjs: `const data = require('@csq/data');\nconst node = require('@csq/data/node');\n${dataCheck('data', 'node')}`,
  },
  {
    name: '@csq/trainer-webgpu',
    dir: 'trainer-webgpu',
    esm:
      `import * as wg from '@csq/trainer-webgpu';\nimport * as wgn from '@csq/trainer-webgpu/node';\n` +
      webgpuCheck('wg', 'wgn'),
    cjs:
      `const wg = require('@csq/trainer-webgpu');\nconst wgn = require('@csq/trainer-webgpu/node');\n` +
      webgpuCheck('wg', 'wgn'),
  },
  {
    name: '@csq/trainer-node',
    dir: 'trainer-node',
    esm:
      `import * as tn from '@csq/trainer-node';\nimport * as tf from '@tensorflow/tfjs';\n` +
      trainerNodeCheck('tn', 'tf'),
    cjs:
      `const tn = require('@csq/trainer-node');\nconst tf = require('@tensorflow/tfjs');\n` +
      trainerNodeCheck('tn', 'tf'),
  },
  {
    name: '@csq/backend-wasm-kernels',
    dir: 'backend-wasm-kernels',
    // ESM: the ./node entry turns on the threaded build (2 threads) before the same check
    esm:
      `import * as k from '@csq/backend-wasm-kernels/node';\nimport * as tf from '@tensorflow/tfjs-core';\n` +
      `const threads = k.enableWasmThreads({ threads: 2 });\n` +
      wasmKernelsCheck('k', 'tf').replace(
        "console.log('ok');",
        "const r = await threads.ready;\n  if (!r.threaded || r.threads !== 2) throw new Error('threads ' + JSON.stringify(r));\n  console.log('ok');",
      ),
    cjs:
      `const k = require('@csq/backend-wasm-kernels');\nconst tf = require('@tensorflow/tfjs-core');\n` +
      wasmKernelsCheck('k', 'tf'),
  },
];
