import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { CsqController } from '@csq/layers';
import { fileSystemIO } from '@csq/layers/node';
import { loadPackedModel, packedSizeReport } from '@csq/loader';
import { writeCifar10Dataset, writeIdxDataset, writeImageFolder } from '@csq/test-utils/data-files';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { openRunDir } from '../src/run-dir.js';
import { loadRunData } from '../src/run-model.js';
import { csq, QUICK, tempDir } from './helpers.js';

const root = tempDir('csq-cli-train-');
const strip = (p: string) => readFileSync(p, 'utf8').replace(/"seconds":[0-9.e+-]+/g, '');

describe('csq train on the embedded MNIST digits, then eval, info, export and report', () => {
  const out = join(root, 'quick');

  it('trains the CSQ model and the float baseline and writes the summary', async () => {
    // long enough for a non-trivial exact model (its masks must leave 0, as H(0) = 0)
    const r = await csq([
      'train',
      ...QUICK,
      '--epochs',
      '3',
      '--limit-train',
      '1024',
      '--batch',
      '64',
      '--baseline',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const k of [
      'recipe',
      'backend',
      'epochs',
      'floatAccuracy',
      'softAccuracy',
      'exactAccuracy',
      'avgBits',
      'sizeBytes',
      'layers',
      'wallSeconds',
    ]) {
      expect(summary, k).toHaveProperty(k);
    }
    expect(summary).toMatchObject({ recipe: 'quickstart', backend: 'wasm', epochs: 3 });
    expect(Object.keys(summary.avgBits)).toEqual(['slots', 'params']);
    expect(summary.layers.map((l: { name: string }) => l.name)).toEqual([
      'conv1',
      'conv2',
      'conv3',
      'dense',
    ]);
    // the summary's numbers agree with its own layers
    const params = summary.layers.reduce((n: number, l: { params: number }) => n + l.params, 0);
    const bits = summary.layers.reduce(
      (n: number, l: { bits: number; params: number }) => n + l.bits * l.params,
      0,
    );
    expect(summary.avgBits.params).toBeCloseTo(bits / params, 10);
    expect(summary.avgBits.slots).toBeCloseTo(
      summary.layers.reduce((n: number, l: { bits: number }) => n + l.bits, 0) / 4,
      10,
    );
    expect(typeof summary.floatAccuracy).toBe('number');
    // the table printed the same numbers
    expect(r.out).toContain(`exact accuracy      ${(100 * summary.exactAccuracy).toFixed(2)}%`);
    // the paper's count labelled as such, the packed size, target / reached / trim
    expect(r.out).toContain("size, paper's count");
    expect(r.out).toContain(`packed file         `);
    expect(r.out).toContain(`(${summary.packedBytes} bytes, what csq export writes)`);
    expect(r.out).toMatch(/budget {14}slots: target 2 bits, reached \d/);
    expect(r.out).toMatch(/budget enforcement {2}(trimmed|nothing to trim)/);
    expect(summary.trim).toMatchObject({ enforce: 'trim', targetBits: 2, met: true });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.model === 'csq')).toHaveLength(3);
    expect(lines.filter((l) => l.model === 'float')).toHaveLength(3);
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);
  }, 300_000);

  it('refuses to overwrite a run without --resume, changing nothing', async () => {
    const before = statSync(join(out, 'config.json')).mtimeMs;
    const r = await csq(['train', ...QUICK, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /already holds a run; pass --resume to continue it, or choose another --out \(nothing was changed\)/,
    );
    expect(statSync(join(out, 'config.json')).mtimeMs).toBe(before);
  });

  it('csq eval and csq info report the saved model', async () => {
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const e = await csq(['eval', out, '--json', '--backend', 'wasm']);
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.out.slice(e.out.indexOf('{')));
    expect(ev.exactAccuracy).toBe(summary.exactAccuracy);
    expect(ev.softAccuracy).toBe(summary.softAccuracy);
    const i = await csq(['info', out]);
    expect(i.code).toBe(0);
    expect(i.out).toMatch(/CSQ 3 epochs done, float baseline 3 \(finished\)/);
    expect(i.out).toContain(
      summary.layers.map((l: { name: string; bits: number }) => `${l.name}:${l.bits}`).join(' '),
    );
  }, 120_000);

  it('csq export: packed file within its size bound, loads to the exact model (<= 1e-5) ', async () => {
    const exp = join(root, 'export');
    const r = await csq(['export', out, '--out', exp, '--format', 'tfjs']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/float32 model .*\ntfjs uint8 /);
    const bytes = new Uint8Array(readFileSync(join(exp, 'model.csqp')));
    // summary.json's packedBytes is the length of the file csq export wrote
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(bytes.length).toBe(summary.packedBytes);
    const size = packedSizeReport(bytes);
    // indices at ceil(log2 levels) bits per weight, plus codebooks: the fixed-width bound
    expect(size.codesBytes).toBeLessThanOrEqual(
      1.02 * size.indexBoundBytes + size.codebookBytes + 64,
    );
    expect(size.fileBytes).toBeLessThan(size.float32ModelBytes / 4);

    await tf.setBackend('wasm');
    const csqModel = await tf.loadLayersModel(fileSystemIO(join(out, 'model')));
    new CsqController(csqModel).setExact(true);
    const packed = await loadPackedModel(join(exp, 'model.csqp'));
    const plainTfjs = await tf.loadLayersModel(fileSystemIO(join(exp, 'tfjs')));
    expect(packed.layers.some((l) => l.getClassName().startsWith('Csq'))).toBe(false);
    const run = openRunDir(out, 'test');
    const data = await loadRunData(run.config);
    const { images } = await data.test.read(Array.from({ length: 500 }, (_, i) => i));
    const x = tf.tidy(() =>
      tf.sub(
        tf.div(tf.tensor4d(images, [500, 28, 28, 1], 'float32'), 255 * data.std[0]!),
        data.mean[0]! / data.std[0]!,
      ),
    );
    const a = csqModel.predict(x) as tf.Tensor;
    const b = packed.predict(x) as tf.Tensor;
    const c = plainTfjs.predict(x) as tf.Tensor;
    // the comparison means something only if the exact model's logits vary
    expect(new Set(Array.from(a.dataSync(), (v) => v.toFixed(3))).size).toBeGreaterThan(100);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThanOrEqual(1e-5);
    expect(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0]).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, a, b, c]);
  }, 120_000);

  it('csq report writes an HTML page with the charts', async () => {
    const r = await csq(['report', out]);
    expect(r.code).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('conv2');
  });
});

describe('csq export of activation-quantized networks (spec 4)', () => {
  it.each([
    [2, 'PACT'],
    [4, 'ReLU6'],
  ])(
    'ResNet-20 with %i-bit activations (%s): the packed model predicts what the exact model does',
    async (actBits) => {
      const cifar = join(root, `cifar-act${actBits}`);
      writeCifar10Dataset(cifar, { perBatch: 8, test: 16 });
      const out = join(root, `act${actBits}`);
      const r = await csq([
        'train',
        '--recipe',
        'cifar-n6t3a4',
        '--data',
        `cifar10:${cifar}`,
        '--epochs',
        '2',
        '--batch',
        '20',
        '--act-bits',
        String(actBits),
        '--backend',
        'wasm',
        '--quiet',
        '--out',
        out,
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      // two epochs leave most mask logits near 0 (H(0) = 0): select the four most significant
      // bits of every layer so the exact model, and so the export, has real work to do
      await tf.setBackend('wasm');
      const saved = await tf.loadLayersModel(fileSystemIO(join(out, 'model')));
      for (const v of new CsqController(saved).maskVariables()) {
        v.write(tf.tensor1d(Array.from({ length: v.shape[0]! }, (_, i) => (i < 4 ? 1 : -1))));
      }
      await saved.save(fileSystemIO(join(out, 'model')));
      const exp = join(root, `act${actBits}-export`);
      expect((await csq(['export', out, '--out', exp])).code).toBe(0);
      await tf.setBackend('wasm');
      const csqModel = await tf.loadLayersModel(fileSystemIO(join(out, 'model')));
      new CsqController(csqModel).setExact(true);
      const packed = await loadPackedModel(join(exp, 'model.csqp'));
      const quantizers = packed.layers.filter((l) => l.getClassName() === 'CsqActQuantize');
      expect(quantizers.length).toBe(18); // one after each ReLU inside the 9 residual blocks
      const x = tf.randomUniform([8, 32, 32, 3], -2, 2, 'float32', 5);
      const a = csqModel.predict(x) as tf.Tensor;
      const b = packed.predict(x) as tf.Tensor;
      // the weights matter: logits differ from class to class and from image to image
      expect(new Set(Array.from(a.dataSync(), (v) => v.toFixed(3))).size).toBeGreaterThan(10);
      // 20 layers deep, float32 rounding of the dequantized weights grows with the logits' size
      const scale = Math.max(1, tf.max(tf.abs(a)).dataSync()[0]!);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThanOrEqual(1e-5 * scale);
      tf.dispose([x, a, b]);
    },
    180_000,
  );
});

describe('csq train accepts each data source', () => {
  it('idx:DIR (gzipped), cifar10:DIR and imagefolder:DIR', async () => {
    const idx = join(root, 'idx');
    writeIdxDataset(idx, { train: 40, test: 20, gzip: true });
    const cifar = join(root, 'cifar');
    writeCifar10Dataset(cifar, { perBatch: 8, test: 10 });
    const folder = join(root, 'folder');
    await writeImageFolder(folder, { classes: ['cat', 'dog'], train: 6, val: 3 });
    const base = [
      '--recipe',
      'quickstart',
      '--epochs',
      '1',
      '--batch',
      '16',
      '--backend',
      'wasm',
      '--quiet',
    ];
    for (const [spec, extra, shape] of [
      [`idx:${idx}`, [], '28x28x1, 10 classes'],
      [`cifar10:${cifar}`, [], '32x32x3, 10 classes'],
      [`imagefolder:${folder}`, ['--image-size', '32', '--workers', '1'], '32x32x3, 2 classes'],
    ] as const) {
      const out = join(root, `src-${spec.split(':')[0]}`);
      const r = await csq(['train', ...base, '--data', spec, ...extra, '--out', out]);
      expect(r.err, spec).toBe('');
      expect(r.code, spec).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary.epochs).toBe(1);
      const info = await csq(['info', out]);
      expect(info.out).toContain(spec);
      expect(shape).toBeTruthy();
    }
  }, 300_000);

  it('bad data specs and files name what is wrong', async () => {
    const base = [
      'train',
      '--recipe',
      'quickstart',
      '--epochs',
      '1',
      '--backend',
      'wasm',
      '--quiet',
    ];
    const unknown = await csq([...base, '--data', 'svhn:/x', '--out', join(root, 'bad1')]);
    expect(unknown.err).toMatch(/svhn/);
    expect(unknown.err).toMatch(/idx:DIR/);
    const missing = await csq([
      ...base,
      '--data',
      `idx:${join(root, 'nowhere')}`,
      '--out',
      join(root, 'bad2'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nowhere/);
  });

  it('--download verifies checksums (a mirror serving wrong files fails cleanly, keeps nothing)', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.from('not mnist at all'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = join(root, 'dl');
    process.env.CSQ_DOWNLOAD_BASE_URL = `http://127.0.0.1:${port}/`;
    try {
      const r = await csq([
        'train',
        '--recipe',
        'quickstart',
        '--epochs',
        '1',
        '--data',
        `idx:${dir}`,
        '--download',
        '--quiet',
        '--out',
        join(root, 'dl-run'),
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/md5|checksum/i);
      expect(existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : []).toEqual([]);
    } finally {
      delete process.env.CSQ_DOWNLOAD_BASE_URL;
      server.close();
    }
  }, 60_000);
});

describe('csq train --resume', () => {
  it('Ctrl-C stops with a checkpoint (exit 130); --resume ends where an uninterrupted run ends', async () => {
    const args = ['train', ...QUICK, '--epochs', '3', '--limit-train', '64'];
    const straight = join(root, 'straight');
    expect((await csq([...args, '--out', straight])).code).toBe(0);

    const out = join(root, 'interrupted');
    let sent = false;
    const first = await csq([...args.filter((a) => a !== '--quiet'), '--out', out], {
      onOut: (t) => {
        if (!sent && t.includes('epoch 1/3')) {
          sent = true;
          process.emit('SIGINT');
        }
      },
    });
    expect(first.code).toBe(130);
    expect(first.err).toMatch(/Continue with: csq train --out .* --resume/);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);

    const resumed = await csq(['train', '--out', out, '--resume', '--quiet']);
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    expect(strip(join(out, 'metrics.jsonl'))).toBe(strip(join(straight, 'metrics.jsonl')));
    const a = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(straight, 'summary.json'), 'utf8'));
    expect({ ...a, wallSeconds: 0 }).toEqual({ ...b, wallSeconds: 0 });
  }, 300_000);
});
