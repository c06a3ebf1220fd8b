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

// @csq/data: the universal entry, the embedded MNIST split, and an image decoded by the worker
// pool from the installed package (checks that dist/ finds worker/decode-worker.cjs)
const dataCheck = (data: string, node: string) => `
const order = ${data}.shuffledIndices(10, 1, 0);
if ([...order].sort((a, b) => a - b).join() !== '0,1,2,3,4,5,6,7,8,9') throw new Error('shuffle');
const norm = ${data}.normalize(new Uint8Array([255]), [0.5], [0.5]);
if (Math.abs(norm[0] - 1) > 1e-6) throw new Error('normalize ' + norm[0]);
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
(async () => {
  const mnist = await ${node}.loadData('mnist');
  if (mnist.train.count !== 8000 || mnist.test.count !== 2000) throw new Error('mnist split');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csq-data-check-'));
  fs.mkdirSync(path.join(dir, 'a'));
  // a 2x2 grey (128) PNG; sharp itself comes in as a dependency of @csq/data
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADklEQVQImWNoAAMGCAUAKg4GAeLeQoEAAAAASUVORK5CYII=', 'base64');
  fs.writeFileSync(path.join(dir, 'a', 'x.png'), png);
  const src = await ${node}.imageFolderSource(dir, { size: 2, workers: 1, resizeRatio: 1 });
  const { images } = await src.read([0]);
  await src.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (images.length !== 12 || images.some((v) => v !== 128)) throw new Error('decode ' + images);
  console.log('ok');
})().catch((err) => { console.error(err); process.exit(1); });
`;

export const PACKAGES: PackedPackage[] = [
  {
    name: '@csq/core',
    dir: 'core',
    esm: `import * as core from '@csq/core';\n${coreCheck('core')}`,
    cjs: `const core = require('@csq/core');\n${coreCheck('core')}`,
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
];
