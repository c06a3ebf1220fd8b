import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeRun, writeFakeRun } from './fake-run.js';
import { parseMetricsJsonl, parseSummary } from './run-data.js';
import { charts, polylines } from './svg-parse.js';
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

function parseError(f: () => unknown): CsqError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CsqError);
    return e as CsqError;
  }
  throw new Error('no error');
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
    expect(e.code).toBe('CSQ_REPORT_MALFORMED');
    expect(e.message).toContain(
      `${join(dir, 'metrics.jsonl')} line 7: "loss" must be a number, got "oops"`,
    );
  });
});

describe('parseMetricsJsonl and parseSummary', () => {
  const good = fakeRun().metrics.map((m) => JSON.stringify(m));

  it('parses every line, skips blank ones and turns null (NaN) into a gap', () => {
    const text = `${good[0]}\n\n${good[1]!.replace(/"loss":[^,]+/, '"loss":null')}\r\n`;
    const lines = parseMetricsJsonl(text);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.loss).toBeTypeOf('number');
    expect('loss' in lines[1]!).toBe(false);
  });

  it.each([
    [
      'a cut-off last line',
      `${good[0]}\n{"model":"csq","ep`,
      /line 2 is not JSON.*last line.*Delete that line/,
    ],
    [
      'a broken middle line',
      `${good[0]}\n{oops\n${good[1]}`,
      /line 2 is not JSON.*one JSON object/,
    ],
    ['a non-object', '[1,2]', /line 1 is not a JSON object/],
    [
      'an unknown model',
      '{"model":"fp","epoch":0}',
      /line 1: "model" must be "csq" or "float", got "fp"/,
    ],
    ['a negative epoch', '{"model":"csq","epoch":-1}', /"epoch" must be an integer >= 0/],
    ['bad layerBits', '{"model":"csq","epoch":0,"layerBits":[1]}', /"layerBits" must map/],
    ['no lines', '\n\n', /has no epochs yet/],
  ])('refuses %s', (_, text, message) => {
    const e = parseError(() => parseMetricsJsonl(text, 'run/metrics.jsonl'));
    expect(e.code).toBe('CSQ_REPORT_MALFORMED');
    expect(e.message).toMatch(/^run\/metrics\.jsonl/);
    expect(e.message).toMatch(message);
  });

  it.each([
    ['not JSON', '{', /summary\.json is not JSON/],
    ['no layers', '{}', /"layers" must be a list/],
    ['a bad layer', '{"layers":[{"name":"a","bits":"2","params":3}]}', /layers\[0\] must be/],
    [
      'a bad number',
      '{"layers":[],"exactAccuracy":"high"}',
      /"exactAccuracy" must be a number or null/,
    ],
    ['bad avgBits', '{"layers":[],"avgBits":2}', /"avgBits" must be/],
  ])('refuses a summary with %s', (_, text, message) => {
    const e = parseError(() => parseSummary(text));
    expect(e.code).toBe('CSQ_REPORT_MALFORMED');
    expect(e.message).toMatch(message);
  });

  it('accepts nulls in the summary (a run without a float baseline)', () => {
    const s = parseSummary('{"layers":[],"floatAccuracy":null}');
    expect(s.floatAccuracy).toBeNull();
  });
});
