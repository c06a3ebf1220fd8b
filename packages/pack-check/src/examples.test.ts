/**
 * The programs a user copies run from a project that installs only the published tarballs (and
 * their declared peers): the three `examples/` (train from scratch, convert and search, export
 * and load in a web page) and the README code. One install serves every check.
 *
 * The README blocks are type-checked under `tsc --strict` with `module: nodenext` against the
 * installed packages; the root README's "Using csq from code" program also runs, with its
 * schedule shortened (8 epochs on 8000 digits take minutes on a busy 2-core machine); with
 * CSQ_SLOW=1 it runs exactly as written.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumAvailable, launchChromium, serveFiles } from '@csq/test-utils/browser';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAll, repoDir, run } from './packing.js';
import { readmePrograms } from './readme-blocks.js';

const work = mkdtempSync(join(tmpdir(), 'csq-examples-'));
const project = join(work, 'project');
const EXAMPLES = ['train-from-scratch', 'convert-and-search', 'web-page'];
const node = (file: string, dir: string, args: string[] = []) =>
  run(process.execPath, [file, ...args], join(project, dir), 600_000);

beforeAll(() => {
  const tarballs = packAll(join(work, 'tarballs'));
  cpSync(join(repoDir, 'examples'), project, {
    recursive: true,
    filter: (src) => !/node_modules|[/\\]runs$|page\.bundle\.js|model\.csqp|digits\.json/.test(src),
  });
  // the examples' own package.json name versions not on the registry yet: one project installs
  // the tarballs and the peers the packages declare (tfjs, its wasm backend)
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'csq-examples', private: true, type: 'module' }),
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...tarballs.values(),
      '@tensorflow/tfjs@4.22.0',
      '@tensorflow/tfjs-backend-wasm@4.22.0',
    ],
    project,
    900_000,
  );
}, 1_200_000); // installs on a busy machine take minutes

afterAll(() => rm(work, { recursive: true, force: true }), 600_000);

/** The number after `label` in `out` (e.g. "exact accuracy: 91.2 %"). */
function number(out: string, label: string): number {
  const m = out.match(new RegExp(`^${label}: ([0-9.]+)`, 'm'));
  if (!m) throw new Error(`no "${label}:" line in:\n${out}`);
  return Number(m[1]);
}

describe('the examples, from a project with only the packed packages', () => {
  it.each(EXAMPLES)('%s declares every package it imports in its package.json', (name) => {
    const dir = join(repoDir, 'examples', name);
    const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const declared = new Set(Object.keys({ ...m.dependencies, ...m.devDependencies }));
    const imported = new Set<string>();
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs'))) {
      for (const [, spec] of readFileSync(join(dir, f), 'utf8').matchAll(/from '([^'.][^']*)'/g)) {
        if (spec!.startsWith('node:')) continue;
        imported.add(
          spec!
            .split('/')
            .slice(0, spec!.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
    expect(imported.size).toBeGreaterThan(1);
    expect([...imported].filter((p) => !declared.has(p))).toEqual([]);
  });

  it('importing @csq/trainer-node registers the wasm training kernels (no other import)', () => {
    const probe = (withTrainer: boolean) =>
      `import * as tf from '@tensorflow/tfjs';\nimport '@tensorflow/tfjs-backend-wasm';\n${
        withTrainer ? "import '@csq/trainer-node';\n" : ''
      }console.log(Boolean(tf.getKernel('Conv2DBackpropFilter', 'wasm')));\n`;
    writeFileSync(join(project, 'kernels-without.mjs'), probe(false));
    writeFileSync(join(project, 'kernels-with.mjs'), probe(true));
    // tfjs-backend-wasm 4.22 alone lacks the kernel, so the check can fail
    expect(node('kernels-without.mjs', '.').trim().split('\n').pop()).toBe('false');
    expect(node('kernels-with.mjs', '.').trim().split('\n').pop()).toBe('true');
  }, 120_000);

  it('train-from-scratch trains, reports accuracies and bits, writes a complete run dir', () => {
    const out = node('train.mjs', 'train-from-scratch');
    const soft = number(out, 'soft accuracy');
    const exact = number(out, 'exact accuracy');
    const bits = number(out, 'average bits');
    // 3 short epochs on 2048 digits: far above chance (10 %), bits pushed below the 8 it starts at
    expect(soft).toBeGreaterThan(50);
    expect(exact).toBeGreaterThan(30);
    expect(exact).toBeLessThanOrEqual(100);
    expect(bits).toBeGreaterThanOrEqual(1);
    expect(bits).toBeLessThan(8);
    expect(out).toMatch(/^ {2}conv1: \d of 8 bits, \d+ weights$/m);
    const runDir = join(project, 'train-from-scratch', 'runs', 'from-scratch');
    for (const f of ['config.json', 'metrics.jsonl', 'summary.json', 'model/model.json'])
      expect(existsSync(join(runDir, f)), f).toBe(true);
  }, 900_000);

  it('convert-and-search converts a trained float model and moves its bits toward the budget', () => {
    const out = node('convert.mjs', 'convert-and-search');
    const before = out.match(/^bits before the search: (.*)$/m)?.[1];
    const after = out.match(/^bits after the search: (.*)$/m)?.[1];
    expect(before).toMatch(/conv1: 8, conv2: 8, dense: 8/);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const floatAcc = number(out, 'float accuracy');
    const bits = number(out, 'average bits');
    expect(floatAcc).toBeGreaterThan(85); // chance is 10 %; measured 92.6-94.4 over 8 runs
    // the budget is met (enforce: 'trim'), every layer kept a bit
    expect(bits).toBeLessThanOrEqual(2);
    expect(bits).toBeGreaterThanOrEqual(1);
    // the exact 2-bit model keeps most of the float accuracy (measured 89.8-92.8 %, at most 3.6
    // points below float, over 8 runs; fit shuffles unseeded, so the band is wider)
    expect(number(out, 'exact accuracy')).toBeGreaterThan(floatAcc - 10);
  }, 900_000);

  it('web-page exports the trained model, and the page predicts what Node predicts', async () => {
    const out = node('export.mjs', 'web-page', ['../train-from-scratch/runs/from-scratch']);
    expect(out).toMatch(/^model\.csqp: \d+ bytes$/m);
    const dir = join(project, 'web-page');
    const digits = JSON.parse(readFileSync(join(dir, 'public', 'digits.json'), 'utf8')) as {
      nodeClasses: number[];
    };
    expect(digits.nodeClasses).toHaveLength(16);
    if (!chromiumAvailable('pack-check', 'the web-page example in a browser')) return;
    // what `npm run build` does, resolving from the project's node_modules
    await build({
      entryPoints: [join(dir, 'page.mjs')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      outfile: join(dir, 'public', 'page.bundle.js'),
      absWorkingDir: dir,
      logLevel: 'error',
    });
    const files: Record<string, [string, Uint8Array]> = {};
    const types: Record<string, string> = {
      html: 'text/html',
      js: 'text/javascript',
      json: 'application/json',
      csqp: 'application/octet-stream',
    };
    for (const f of readdirSync(join(dir, 'public'))) {
      const type = types[f.split('.').pop()!] ?? 'application/octet-stream';
      files[`/${f}`] = [type, readFileSync(join(dir, 'public', f))];
    }
    files['/'] = files['/index.html']!;
    const server = await serveFiles(files);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(server.url);
      await page.waitForFunction(
        () => document.body.dataset.classes || document.body.dataset.error,
        undefined,
        { timeout: 180_000 },
      );
      const state = await page.evaluate(() => ({ ...document.body.dataset }));
      expect(state.error, errors.join('\n')).toBeUndefined();
      expect(state.classes).toBe(digits.nodeClasses.join(','));
      expect(await page.textContent('#out')).toContain('same as Node: true');
    } finally {
      await browser.close();
      await server.close();
    }
  }, 900_000);
});

describe('README code, against the packed packages', () => {
  const programs = readmePrograms(repoDir);

  it('finds the programs (root "Using csq from code", trainer-node, layers, budget)', () => {
    const sources = programs.map((p) => p.source);
    expect(sources).toEqual(
      expect.arrayContaining([
        'README.md',
        'packages/trainer-node/README.md',
        'packages/layers/README.md',
        'packages/budget/README.md',
      ]),
    );
  });

  it('type-checks under tsc --strict, module nodenext', () => {
    const files = programs.map((p, i) => {
      const file = `readme-${i}.${p.lang === 'ts' ? 'mts' : 'mjs'}`;
      writeFileSync(join(project, file), p.code);
      return file;
    });
    const tsc = join(repoDir, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      run(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--allowJs',
          '--checkJs',
          '--skipLibCheck',
          '--target',
          'es2022',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--types',
          'node',
          '--typeRoots',
          join(repoDir, 'node_modules', '@types'),
          ...files,
        ],
        project,
      );
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      // name the README each failing file came from
      programs.forEach((p, i) => {
        output = output.replaceAll(`readme-${i}.`, `${p.source}#${p.index}.`);
      });
    }
    expect(output).toBe('');
  }, 300_000);

  it('the root README program runs as written (schedule shortened unless CSQ_SLOW=1)', () => {
    const root = programs.find((p) => p.source === 'README.md' && p.code.includes('trainNode'));
    expect(root).toBeDefined();
    let code = root!.code;
    if (!process.env.CSQ_SLOW) {
      const short = code
        .replace('epochs: 8,', 'epochs: 2, limitTrain: 1024,')
        .replace('ticket: 6', 'ticket: 1');
      expect(short).not.toBe(code);
      code = short;
    }
    writeFileSync(join(project, 'readme-root.mjs'), code);
    const out = node('readme-root.mjs', '.');
    expect(out).toMatch(/csq: using \S+/);
    expect(existsSync(join(project, 'runs', 'my-run', 'summary.json'))).toBe(true);
  }, 900_000);
});
