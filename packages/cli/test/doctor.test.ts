import { describe, expect, it } from 'vitest';
import { csq } from './helpers.js';

// The report itself is tested in @csq/trainer-node (doctor.test.ts, loaders faked); here the
// command: its text, JSON, exit status and flags, on this machine.
describe('csq doctor', () => {
  it('prints one line per backend and what csq trains on here; exit 0 when one works', async () => {
    const r = await csq(['doctor']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^csq doctor: Node v\d+/);
    for (const name of ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']) {
      expect(r.out).toMatch(new RegExp(`^  (yes|no ) {2}${name} +\\S`, 'm'));
    }
    expect(r.out).toMatch(/^ {2}yes {2}cpu {12}plain JavaScript \(slowest\)$/m);
    expect(r.out).toMatch(/^csq trains on \S+ here \(--backend auto\)/m);
  });

  it('--json gives the structured report; --require-gpu fails without a GPU backend', async () => {
    const r = await csq(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.backends.map((b: { name: string }) => b.name)).toEqual([
      'tfjs-node-gpu',
      'webgpu',
      'tfjs-node',
      'wasm',
      'cpu',
    ]);
    expect(report.ok).toBe(true);
    const strict = await csq(['doctor', '--require-gpu']);
    expect(strict.code).toBe(report.gpu ? 0 : 1);
    if (!report.gpu) expect(strict.err).toContain('no GPU backend works here (--require-gpu)');
  });

  it('--verbose lists passing checks too; an unknown flag is a CSQ_BAD_FLAG naming the valid ones', async () => {
    const v = await csq(['doctor', '--verbose']);
    expect(v.out).toMatch(/ok {2}loads: @tensorflow\/tfjs 4\.22\.0/);
    const bad = await csq(['doctor', '--gpu']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^csq doctor: .*--gpu.*Valid flags for csq doctor: --verbose, --json/);
  });
});
