// #16: hostile inputs and unlucky runs each end in one line and exit code 2, never a trace.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { V0_1_0 } from '@csq/test-utils/fixtures';
import { beforeAll, describe, expect, it } from 'vitest';
import { flagsToOverrides } from '../src/args.js';
import { recipe, resolveRunConfig } from '../src/config.js';
import { csq, QUICK, tempDir } from './helpers.js';

const dir = tempDir('csq-cli-hostile-');
const oneLine = (r: { code: number; err: string }, re: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(re);
  expect(r.err).not.toMatch(/\n\s+at /);
};

describe('commands and flags', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'csq %s is an unknown command (own-property lookup)',
    async (name) => {
      const r = await csq([name]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`unknown command "${name}"`);
    },
  );

  it.each(['0x10', '0b11', '0o7', 'Infinity', '1_0', ' 1', '1e', '+-1', ''])(
    'numbers are decimal only: --lr %j is refused',
    (v) => {
      expect(() => flagsToOverrides({ lr: v })).toThrow(/--lr expects a number/);
    },
  );

  it('decimal forms are accepted as written', () => {
    expect(flagsToOverrides({ lr: '1e-3', lambda: '.25', 'target-bits': '+2', seed: '7' })).toEqual(
      {
        lr: 0.001,
        lambda: 0.25,
        targetBits: 2,
        seed: 7,
      },
    );
    expect(() => flagsToOverrides({ epochs: '1.5' })).toThrow(/--epochs expects an integer/);
  });

  it('--lr 0x10 on the command line: one line, exit 2', async () => {
    oneLine(
      await csq(['train', '--recipe', 'quickstart', '--lr', '0x10']),
      /--lr expects a number, got "0x10"/,
    );
  });

  it('--out "" is an error (it used to write into the working directory)', async () => {
    oneLine(await csq(['train', '--recipe', 'quickstart', '--out', '']), /--out is empty/);
    oneLine(await csq(['export', V0_1_0.runDir, '--out', '']), /needs --out DIR/);
    oneLine(await csq(['report', V0_1_0.runDir, '--out', '']), /--out is empty/);
  });

  it('--config DIR: one line naming the folder', async () => {
    oneLine(await csq(['train', '--config', dir]), /is a directory; pass the path of a JSON file/);
  });

  it('"__proto__" and "constructor" in a config file are unknown keys and nothing is applied', async () => {
    const file = join(dir, 'proto.json');
    writeFileSync(file, '{"recipe": "quickstart", "__proto__": {"lr": 5}}');
    oneLine(await csq(['train', '--config', file]), /unknown key "__proto__".*nothing was applied/);
    writeFileSync(file, '{"recipe": "quickstart", "constructor": {"lr": 5}}');
    oneLine(await csq(['train', '--config', file]), /unknown key "constructor"/);
    const parsed = JSON.parse('{"__proto__": {"lr": 5}}');
    expect(() =>
      resolveRunConfig([
        { source: 'recipe quickstart', config: recipe('quickstart') },
        { source: 'f.json', config: parsed },
      ]),
    ).toThrow(/f\.json: unknown key "__proto__"/);
    expect(({} as { lr?: number }).lr).toBeUndefined(); // no prototype was touched
  });
});

describe('run directories', () => {
  it('--resume with an invalid config.json: one line', async () => {
    const run = join(dir, 'bad-config');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'config.json'), '{"model": "mnist-cnn", ');
    oneLine(await csq(['train', '--out', run, '--resume']), /config\.json" is not valid JSON/);
  });

  it('--out where a file is in the way (an unwritable location): one line', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    oneLine(
      await csq(['train', ...QUICK, '--out', join(file, 'run')]),
      /cannot create the run directory/,
    );
  });

  it('a run directory another live process holds is refused, naming the process', async () => {
    const run = join(dir, 'held');
    mkdirSync(run, { recursive: true });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(
        join(run, 'run.lock'),
        JSON.stringify({ pid: other.pid, host: hostname(), started: new Date().toISOString() }),
      );
      oneLine(
        await csq(['train', ...QUICK, '--out', run]),
        new RegExp(`in use by process ${other.pid}`),
      );
      expect(existsSync(join(run, 'config.json'))).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('--batch 4096 on wasm: the memory error and its advice, and the same command fails the same way', async () => {
    const run = join(dir, 'too-big');
    const args = [
      'train',
      '--recipe',
      'quickstart',
      '--batch',
      '4096',
      '--backend',
      'wasm',
      '--out',
      run,
    ];
    const first = await csq(args);
    oneLine(
      first,
      /needs about 4\.\d\d GiB.*4 GiB.*--batch.*--width-multiplier.*tfjs-node.*WebGPU/,
    );
    expect(existsSync(run)).toBe(false);
    oneLine(await csq(args), /needs about 4\.\d\d GiB/); // before: CSQ_RUN_EXISTS
  }, 60_000);
});

describe('export and report', () => {
  const run = join(dir, 'finished');
  beforeAll(() => cpSync(V0_1_0.runDir, run, { recursive: true }));

  it('csq export --out FILE (a file where a folder belongs): one line', async () => {
    const file = join(dir, 'export-file');
    writeFileSync(file, 'x');
    oneLine(await csq(['export', run, '--out', file]), /is a file, not a folder/);
  });

  it('csq report --out into a missing folder: one line', async () => {
    oneLine(
      await csq(['report', run, '--out', join(dir, 'no', 'such', 'report.html')]),
      /folder .* does not exist/,
    );
  });

  it('a summary with a string where a number belongs: one line', async () => {
    const bad = join(dir, 'bad-summary');
    cpSync(run, bad, { recursive: true });
    const s = JSON.parse(readFileSync(join(bad, 'summary.json'), 'utf8'));
    s.avgBits.slots = 'many';
    writeFileSync(join(bad, 'summary.json'), JSON.stringify(s));
    oneLine(await csq(['report', bad]), /"avgBits" must be \{ "slots": number/);
    s.avgBits.slots = 1;
    s.compression = '3x';
    writeFileSync(join(bad, 'summary.json'), JSON.stringify(s));
    oneLine(await csq(['report', bad]), /"compression" must be a number/);
  });

  // the 200k lines in the suite; a million (65 s here) with CSQ_SLOW=1
  const lines = process.env.CSQ_SLOW === '1' ? 1_000_000 : 200_000;
  it(`csq report over ${lines} metric lines draws downsampled charts (no stack overflow)`, async () => {
    const big = join(dir, 'million');
    cpSync(run, big, { recursive: true });
    const [first] = readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n');
    const line = JSON.parse(first!);
    const n = lines;
    const parts: string[] = [];
    for (let e = 0; e < n; e++) {
      line.epoch = e;
      line.epochs = n;
      line.loss = 2 + Math.sin(e / 1000);
      parts.push(JSON.stringify(line));
    }
    writeFileSync(join(big, 'metrics.jsonl'), `${parts.join('\n')}\n`);
    parts.length = 0;
    const r = await csq(['report', big]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const html = readFileSync(join(big, 'report.html'), 'utf8');
    const polylines = [...html.matchAll(/<polyline[^>]*points="([^"]*)"/g)];
    expect(polylines.length).toBeGreaterThan(0);
    for (const [, pts] of polylines) expect(pts!.split(' ').length).toBeLessThanOrEqual(2002);
    expect(statSync(join(big, 'report.html')).size).toBeLessThan(2_000_000);
  }, 300_000);
});

describe('resume', () => {
  const run = join(dir, 'resume');
  beforeAll(async () => {
    const r = await csq(['train', ...QUICK, '--out', run, '--quiet']);
    expect(r.code).toBe(0);
  }, 120_000);

  it('resuming a finished run is a no-op that says so (model untouched), and a backend change is a warning', async () => {
    const weights = readFileSync(join(run, 'model', 'weights.bin'));
    const modelJson = readFileSync(join(run, 'model', 'model.json'), 'utf8');
    const summary = readFileSync(join(run, 'summary.json'), 'utf8');
    const r = await csq(['train', '--out', run, '--resume', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/has already finished all 2 epochs; nothing to do/);
    expect(r.out).toMatch(/warning: .* was trained on backend wasm and continues on cpu/);
    expect(readFileSync(join(run, 'model', 'weights.bin')).equals(weights)).toBe(true);
    expect(readFileSync(join(run, 'model', 'model.json'), 'utf8')).toBe(modelJson);
    expect(readFileSync(join(run, 'summary.json'), 'utf8')).toBe(summary);
  }, 60_000);

  it('--resume with the checkpoint gone is an error (nothing overwritten) unless --restart is given', async () => {
    rmSync(join(run, 'checkpoint'), { recursive: true, force: true });
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
    // before: printed "(resuming)", trained from epoch 0 and overwrote metrics, model and summary
    oneLine(await csq(['train', '--out', run, '--resume']), /has no checkpoint.*--restart/);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    oneLine(
      await csq(['train', ...QUICK, '--out', run, '--restart']),
      /--restart goes with --resume/,
    );
    const again = await csq(['train', '--out', run, '--resume', '--restart', '--backend', 'wasm']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/no checkpoint to resume from; starting over \(--restart\)/);
    expect(again.out).not.toMatch(/\(resuming\)/);
    expect(existsSync(join(run, 'checkpoint', 'csq.ckpt'))).toBe(true);
    expect(existsSync(join(run, 'run.lock'))).toBe(false);
  }, 120_000);
});
