import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CsqError } from '@csq/core';
import {
  cifarPixel,
  cifarRecords,
  idxBytes,
  idxImages,
  idxPixel,
  tempDir,
} from '@csq/test-utils/data-files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCifar10 } from './cifar10.js';
import { DATASET_MD5, download } from './download.js';
import { loadIdx } from './idx.js';
import { loadData } from './load-data.js';
import { readAll } from './source.js';

const root = tempDir('csq-download-');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** What the local server serves, by URL path; and the paths it was asked for. */
const served = new Map<string, Uint8Array>();
const requests: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = served.get(req.url ?? '');
    if (!body) {
      res.writeHead(404, 'Not Found').end('no such file');
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

// MNIST in the real formats: 6 train and 4 test images of 28x28, gzipped
const MNIST: Record<string, Uint8Array> = {
  'train-images-idx3-ubyte.gz': gzipSync(idxImages(6, 28, 28)),
  'train-labels-idx1-ubyte.gz': gzipSync(idxBytes([6], [5, 0, 4, 1, 9, 2])),
  't10k-images-idx3-ubyte.gz': gzipSync(idxImages(4, 28, 28)),
  't10k-labels-idx1-ubyte.gz': gzipSync(idxBytes([4], [7, 2, 1, 0])),
};
for (const [name, bytes] of Object.entries(MNIST)) served.set(`/mnist/${name}`, bytes);
const MNIST_MD5 = Object.fromEntries(Object.entries(MNIST).map(([k, v]) => [k, md5(v)]));

function cifarTarball(): Uint8Array {
  const src = join(root, 'cifar-src');
  const sub = join(src, 'cifar-10-batches-bin');
  mkdirSync(sub, { recursive: true });
  for (let i = 1; i <= 5; i++)
    writeFileSync(join(sub, `data_batch_${i}.bin`), cifarRecords([i, 0], 2 * i));
  writeFileSync(join(sub, 'test_batch.bin'), cifarRecords([9], 50));
  writeFileSync(join(sub, 'batches.meta.txt'), 'airplane\nautomobile\n');
  return execFileSync('tar', ['-czf', '-', '-C', src, 'cifar-10-batches-bin']);
}

function leftovers(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

async function rejection(p: Promise<unknown>): Promise<CsqError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CsqError);
    return err as CsqError;
  }
  throw new Error('expected a rejection');
}

describe('download', () => {
  it('knows the published checksums', () => {
    expect(DATASET_MD5['train-images-idx3-ubyte.gz']).toBe('f68b3c2dcbeaaa9fbdd348bbdeb94873');
    expect(DATASET_MD5['t10k-labels-idx1-ubyte.gz']).toBe('ec29112dd5afa0611ce80d1b7f02629c');
    expect(DATASET_MD5['cifar-10-binary.tar.gz']).toBe('c32a1d4ab5d03f1284b67883e8d87530');
  });

  it('fetches MNIST, verifies it, and skips valid files the second time', async () => {
    const dir = join(root, 'mnist');
    const progress: string[] = [];
    const first = await download({
      dataset: 'mnist',
      dir,
      baseUrl: `${base}/mnist`,
      checksums: MNIST_MD5,
      onProgress: (p) => progress.push(p.file),
    });
    expect(first.downloaded.sort()).toEqual(Object.keys(MNIST).sort());
    expect(new Set(progress)).toEqual(new Set(Object.keys(MNIST)));
    expect(leftovers(dir).sort()).toEqual(Object.keys(MNIST).sort());
    const splits = loadIdx(dir);
    const train = await readAll(splits.train);
    expect(Array.from(train.labels)).toEqual([5, 0, 4, 1, 9, 2]);
    expect(train.images[3 * 784 + 100]).toBe(idxPixel(3, 100));
    expect(splits.test.count).toBe(4);

    const before = requests.length;
    const second = await download({
      dataset: 'mnist',
      dir,
      baseUrl: `${base}/mnist/`,
      checksums: MNIST_MD5,
    });
    expect(second.downloaded).toEqual([]);
    expect(second.skipped.length).toBe(4);
    expect(requests.length).toBe(before);
  });

  it('removes temporary files a killed download left behind, and only those of dead processes', async () => {
    const dir = join(root, 'mnist-stale');
    mkdirSync(join(dir, 'cifar-10-batches-bin'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
    const stale = [
      `train-images-idx3-ubyte.gz.part-${dead}-0a1b2c3d`,
      `cifar-10-batches-bin${sep}data_batch_1.bin.part-${dead}-3`,
    ];
    const mine = `t10k-labels-idx1-ubyte.gz.part-${process.pid}-ffffffff`; // a live process's
    for (const f of [...stale, mine]) writeFileSync(join(dir, f), 'partial');
    await download({ dataset: 'mnist', dir, baseUrl: `${base}/mnist`, checksums: MNIST_MD5 });
    for (const f of stale) expect(existsSync(join(dir, f)), f).toBe(false);
    expect(existsSync(join(dir, mine))).toBe(true);
  });

  it('a checksum mismatch fails clearly and leaves no file', async () => {
    const dir = join(root, 'mnist-bad-md5');
    const e = await rejection(
      download({
        dataset: 'mnist',
        dir,
        baseUrl: `${base}/mnist`,
        checksums: { ...MNIST_MD5, 'train-images-idx3-ubyte.gz': '0'.repeat(32) },
      }),
    );
    expect(e.code).toBe('CSQ_DOWNLOAD_CHECKSUM');
    expect(e.message).toMatch(
      /train-images-idx3-ubyte\.gz: md5 [0-9a-f]{32} .*does not match the published 0{32}/,
    );
    expect(leftovers(dir)).toEqual([]);
  });

  it('with the real published checksums, the test files are refused', async () => {
    const dir = join(root, 'mnist-real-md5');
    const e = await rejection(download({ dataset: 'mnist', dir, baseUrl: `${base}/mnist` }));
    expect(e.code).toBe('CSQ_DOWNLOAD_CHECKSUM');
    expect(e.message).toContain('f68b3c2dcbeaaa9fbdd348bbdeb94873');
    expect(leftovers(dir)).toEqual([]);
  });

  it('an HTTP 404 fails clearly and leaves no file', async () => {
    const dir = join(root, 'mnist-404');
    const e = await rejection(
      download({ dataset: 'mnist', dir, baseUrl: `${base}/nowhere`, checksums: MNIST_MD5 }),
    );
    expect(e.code).toBe('CSQ_DOWNLOAD_HTTP');
    expect(e.message).toMatch(/nowhere\/train-images-idx3-ubyte\.gz failed: HTTP 404 Not Found/);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a network error fails clearly', async () => {
    const dir = join(root, 'mnist-offline');
    const e = await rejection(
      download({
        dataset: 'mnist',
        dir,
        checksums: MNIST_MD5,
        fetchImpl: () => Promise.reject(new Error('getaddrinfo ENOTFOUND')),
      }),
    );
    expect(e.code).toBe('CSQ_DOWNLOAD_FAILED');
    expect(e.message).toMatch(/ENOTFOUND; check the network/);
    expect(leftovers(dir)).toEqual([]);
  });

  it('fetches and extracts CIFAR-10, then skips it', async () => {
    const tarball = cifarTarball();
    served.set('/kriz/cifar-10-binary.tar.gz', tarball);
    const checksums = { 'cifar-10-binary.tar.gz': md5(tarball) };
    const dir = join(root, 'cifar');
    const first = await download({ dataset: 'cifar10', dir, baseUrl: `${base}/kriz/`, checksums });
    expect(first.downloaded).toEqual(['cifar-10-binary.tar.gz']);
    expect(first.dir).toBe(join(dir, 'cifar-10-batches-bin'));
    expect(existsSync(join(dir, 'cifar-10-binary.tar.gz'))).toBe(false); // archive removed
    const splits = loadCifar10(dir);
    const train = await readAll(splits.train);
    expect(Array.from(train.labels)).toEqual([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
    expect(train.images[(10 * 32 + 3) * 3 + 2]).toBe(cifarPixel(2, 2, 323));
    expect((await readAll(splits.test)).labels[0]).toBe(9);
    const before = requests.length;
    const second = await download({ dataset: 'cifar10', dir, baseUrl: `${base}/kriz/`, checksums });
    expect(second.skipped).toEqual(['cifar-10-binary.tar.gz']);
    expect(requests.length).toBe(before);
  });

  it('a corrupt CIFAR-10 archive (right checksum, not a tar.gz) is reported', async () => {
    const junk = Buffer.from('not a gzip file at all');
    served.set('/junk/cifar-10-binary.tar.gz', junk);
    const dir = join(root, 'cifar-junk');
    const e = await rejection(
      download({
        dataset: 'cifar10',
        dir,
        baseUrl: `${base}/junk`,
        checksums: { 'cifar-10-binary.tar.gz': md5(junk) },
      }),
    );
    expect(e.code).toBe('CSQ_DATA_CORRUPT_ARCHIVE');
    expect(e.message).toContain('cifar-10-binary.tar.gz');
  });

  it('rejects unknown data sets', async () => {
    const e = await rejection(download({ dataset: 'imagenet' as 'mnist', dir: join(root, 'x') }));
    expect(e.code).toBe('CSQ_DOWNLOAD_DATASET');
  });
});

describe('loadData with download', () => {
  it('idx:DIR --download fetches MNIST then loads it', async () => {
    const dir = join(root, 'via-load-data');
    const splits = await loadData(`idx:${dir}`, {
      download: { baseUrl: `${base}/mnist`, checksums: MNIST_MD5 },
    });
    expect(splits.train.count).toBe(6);
    expect(splits.name).toBe(`idx:${dir}`);
  });
});
