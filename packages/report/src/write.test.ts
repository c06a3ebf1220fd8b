import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFakeRun } from '../test/fake-run.js';
import { charts, polylines } from '../test/svg-parse.js';
import { writeReport } from './write.js';

const root = mkdtempSync(join(tmpdir(), 'csq-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function reportError(p: Promise<unknown>): Promise<CsqError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CsqError);
  return e as CsqError;
}

describe('writeReport', () => {
  it('reads a run directory and writes report.html beside it, or where asked', async () => {
    const dir = join(root, 'run-a');
    const run = writeFakeRun(dir);
    const out = await writeReport(dir);
    expect(out).toBe(join(dir, 'report.html'));
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>csq report: cifar-n8t2-smoke (run-a)</title>');
    expect(polylines(charts(html).get('loss')!).get('loss')).toHaveLength(run.epochs);
    const custom = join(root, 'elsewhere.html');
    expect(await writeReport(dir, custom)).toBe(custom);
    expect(existsSync(custom)).toBe(true);
  });

  it('names the missing file and says what a run directory is', async () => {
    const dir = join(root, 'run-missing');
    writeFakeRun(dir);
    rmSync(join(dir, 'summary.json'));
    const e = await reportError(writeReport(dir));
    expect(e.code).toBe('CSQ_REPORT_MISSING');
    expect(e.message).toContain(join(dir, 'summary.json'));
    expect(e.message).toMatch(/not a finished csq run directory/);
    const e2 = await reportError(writeReport(join(root, 'no-such-run')));
    expect(e2.message).toContain('metrics.jsonl not found');
  });

  it('names the file and line of a malformed metrics line', async () => {
    const dir = join(root, 'run-bad');
    const run = writeFakeRun(dir);
    const lines = run.metrics.map((m) => JSON.stringify(m));
    lines[6] = lines[6]!.replace('"loss":', '"loss":"oops","x":');
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n'));
    const e = await reportError(writeReport(dir));
    expect(e.code).toBe('CSQ_BAD_METRICS');
    expect(e.message).toContain(
      `${join(dir, 'metrics.jsonl')} line 7: "loss" must be a number, got "oops"`,
    );
  });

  it('leaves out a torn last metrics line (a run killed while writing it)', async () => {
    const dir = join(root, 'run-torn');
    const run = writeFakeRun(dir);
    const text = run.metrics.map((m) => JSON.stringify(m)).join('\n');
    writeFileSync(join(dir, 'metrics.jsonl'), `${text}\n{"model":"csq","epoch":30,"lo`);
    const html = readFileSync(await writeReport(dir), 'utf8');
    expect(polylines(charts(html).get('loss')!).get('loss')).toHaveLength(run.epochs);
  });
});
