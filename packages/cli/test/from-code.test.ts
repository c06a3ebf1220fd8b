/**
 * A run made from code with trainNode is a complete run directory: every csq command and
 * @csq/report accept it (issue: "csq from code").
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnistEmbedded } from '@csq/data/node';
import { mnistCnn } from '@csq/layers';
import { writeReport } from '@csq/report';
import { trainNode } from '@csq/trainer-node';
import { describe, expect, it } from 'vitest';
import { csq, tempDir } from './helpers.js';

const root = tempDir('csq-from-code-');

describe('a run trained with trainNode from code', () => {
  it('csq info, eval, export and report accept it', async () => {
    const data = await loadMnistEmbedded();
    const out = join(root, 'run');
    const result = await trainNode({
      model: () => mnistCnn({ bits: 2, seed: 1 }),
      data: { ...data, test: { ...data.test, count: 200 } },
      config: {
        epochs: 1,
        batchSize: 32,
        lr: 0.05,
        limitTrain: 64,
        csq: { ticket: 1, budget: { targetBits: 1, lambda: 0.05 } },
      },
      out,
      backend: 'wasm',
      log: () => {},
    });
    expect(result.report.layers).toHaveLength(4);
    for (const f of ['config.json', 'metrics.jsonl', 'summary.json', 'model/model.json'])
      expect(existsSync(join(out, f)), f).toBe(true);

    const info = await csq(['info', out]);
    expect(info.err).toBe('');
    expect(info.out).toContain('a model trained from code');
    expect(info.out).toContain('CSQ 1 epochs done (finished)');

    // the data was given in code: eval says how to name it, then evaluates with it
    const noData = await csq(['eval', out]);
    expect(noData.code).toBe(2);
    expect(noData.err).toMatch(/trained from code.*pass --data SPEC/);
    const ev = await csq(['eval', out, '--data', 'mnist', '--backend', 'wasm', '--json']);
    expect(ev.err).toBe('');
    expect(JSON.parse(ev.out.slice(ev.out.indexOf('{'))).testImages).toBe(2000);

    const exp = await csq(['export', out, '--out', join(root, 'export')]);
    expect(exp.err).toBe('');
    expect(existsSync(join(root, 'export', 'model.csqp'))).toBe(true);

    const rep = await csq(['report', out]);
    expect(rep.code).toBe(0);
    const html = readFileSync(await writeReport(out, join(root, 'r.html')), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4);
  }, 240_000);
});
