import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { type AppResult, resultRow, runAppCaptured } from '@csq/bench';
import { tempDir, writeCifar10Dataset } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { CIFAR_APP } from '../src/app-spec.js';

const root = tempDir('csq-app-cifar-smoke-');
const data = join(root, 'cifar10');
// the real on-disk format: 5 training batches of 8 records and a test batch of 20 (3073 bytes each)
writeCifar10Dataset(data, { perBatch: 8, test: 20 });
const runs = join(root, 'runs');
const smoke = ['--smoke', '--data', data, '--runs', runs, '--backend', 'wasm', '--quiet'];

const RESNET20_LAYERS = [
  'conv1',
  ...[1, 2, 3].flatMap((s) =>
    [0, 1, 2].flatMap((b) => [`layer${s}.${b}.conv1`, `layer${s}.${b}.conv2`]),
  ),
  'fc',
];

describe('--smoke: cifar-n8t2 on CIFAR-10 binary files, CSQ and the float baseline', () => {
  const resultPath = join(runs, 'results', 'cifar-n8t2-smoke-0.json');

  it('trains both models a few steps and writes the result record and the table row', async () => {
    const r = await runAppCaptured(CIFAR_APP, ['--recipe', 'cifar-n8t2', ...smoke]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(resultPath, 'utf8')) as AppResult;
    const runDir = join(runs, 'cifar-n8t2-smoke-0');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(result).toMatchObject({
      format: 'csq-app-result',
      app: 'cifar10-resnet20',
      job: 'cifar-n8t2-smoke-0',
      recipe: 'cifar-n8t2',
      seed: 0,
      smoke: true,
      model: 'resnet20',
      data: `cifar10:${data}`,
      bits: 8,
      actBits: 0,
      targetBits: 2,
      budget: 'slots',
      backend: 'wasm',
      // two epochs each: one search epoch, one ticket epoch (the recipe keeps its distance)
      epochs: { csq: 2, float: 2, planned: 2 },
      runDir,
    });
    // the numbers are the run's own (summary.json of csq train)
    expect(result.accuracy).toEqual({
      float: summary.floatAccuracy,
      soft: summary.softAccuracy,
      exact: summary.exactAccuracy,
    });
    for (const a of Object.values(result.accuracy)) {
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(1);
    }
    expect(result.layers.map((l) => l.name)).toEqual(RESNET20_LAYERS);
    expect(result.layers.every((l) => l.maxBits === 8 && l.bits >= 0 && l.bits <= 8)).toBe(true);
    // average bits in both counts, from the per-layer bits (spec 3)
    const params = result.layers.reduce((s, l) => s + l.params, 0);
    expect(params).toBe(268_336); // ResNet-20 kernels without the two 1x1 shortcuts
    expect(result.avgBits.params).toBeCloseTo(
      result.layers.reduce((s, l) => s + l.bits * l.params, 0) / params,
      10,
    );
    expect(result.avgBits.slots).toBeCloseTo(
      result.layers.reduce((s, l) => s + l.bits, 0) / result.layers.length,
      10,
    );
    expect(result.compression.model).toBeCloseTo(
      result.compression.float32Bytes / result.compression.sizeBytes,
      10,
    );
    // the smoke settings are listed as changes from the recipe
    expect(result.changes).toMatchObject({
      epochs: { recipe: 600, run: 2 },
      limitTrain: { recipe: 0, run: 32 },
      batch: { recipe: 256, run: 16 },
    });
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['temperature', true],
      ['ticket phase', true],
      ['masks frozen in the ticket phase', true],
      ['beta set on the network', true],
    ]);
    expect(result.trainSeconds.csq).toBeGreaterThan(0);
    expect(result.trainSeconds.float).toBeGreaterThan(0);
    expect(result.machine).toMatchObject({ node: process.version, backend: 'wasm' });
    expect(result.machine!.backendDetail).toMatch(/^wasm \(tfjs 4\.22\.0/);
    expect(result.machine!.cores).toBeGreaterThan(0);
    // the row is printed and in the app's table (never the repository's results/)
    const row = resultRow(result);
    expect(row).toContain('| cifar-n8t2-smoke-0 | 2 | 2 / 2 |');
    expect(row).toContain('SMOKE, batch 16, epochs 2');
    expect(r.out).toContain(row);
    const table = readFileSync(join(runs, 'results', 'cifar10-resnet20.md'), 'utf8');
    expect(table).toContain(row);
    expect(table).toContain(
      `- cifar-n8t2-smoke-0: conv1 ${result.layers[0]!.bits}, layer1.0.conv1`,
    );
  }, 120_000);

  it('the same command again skips the finished job and keeps its record', async () => {
    const before = statSync(resultPath).mtimeMs;
    const r = await runAppCaptured(CIFAR_APP, ['--recipe', 'cifar-n8t2', ...smoke]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cifar-n8t2-smoke-0 is finished .*; skipped/);
    expect(statSync(resultPath).mtimeMs).toBe(before);
  });
});

describe('--download', () => {
  it('fetches CIFAR-10 and checks its md5: a mirror serving the wrong file fails, keeping nothing', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.from('not the CIFAR-10 archive'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    process.env.CSQ_DOWNLOAD_BASE_URL = `http://127.0.0.1:${port}/`;
    const dir = join(root, 'download');
    try {
      const r = await runAppCaptured(CIFAR_APP, [
        '--recipe',
        'cifar-n8t2',
        '--download',
        '--data',
        dir,
        '--runs',
        join(root, 'runs-dl'),
        '--results',
        join(root, 'results-dl'),
        '--quiet',
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/md5/i);
      expect(r.err).toMatch(/cifar-n8t2-0 failed/);
      expect(existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : []).toEqual([]);
      expect(existsSync(join(root, 'results-dl', 'cifar-n8t2-0.json'))).toBe(false);
    } finally {
      delete process.env.CSQ_DOWNLOAD_BASE_URL;
      server.close();
    }
  }, 60_000);
});
