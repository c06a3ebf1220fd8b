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

export const PACKAGES: PackedPackage[] = [
  {
    name: '@csq/core',
    dir: 'core',
    esm: `import * as core from '@csq/core';\n${coreCheck('core')}`,
    cjs: `const core = require('@csq/core');\n${coreCheck('core')}`,
  },
];
