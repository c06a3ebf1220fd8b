import { CsqError } from '@csq/core/base';
import { describe, expect, it } from 'vitest';
import { formatMetrics, type MetricsLine, parseMetrics, readMetrics } from './metrics.js';

const line = (epoch: number): MetricsLine => ({
  model: 'csq',
  epoch,
  epochs: 3,
  phase: 'search',
  lr: 0.1,
  beta: 1,
  loss: 1.5 - epoch / 10,
  ce: 1.4,
  trainAccuracy: 0.5,
  layerBits: { conv: 4 },
  seconds: 2,
});
const good = [line(0), line(1), line(2)].map((l) => JSON.stringify(l));

function thrown(f: () => unknown): CsqError {
  try {
    f();
  } catch (e) {
    return e as CsqError;
  }
  throw new Error('did not throw');
}

describe('metrics.jsonl', () => {
  it('round-trips the lines the trainer writes', () => {
    const lines = [line(0), line(1)];
    expect(parseMetrics(formatMetrics(lines))).toEqual(lines);
  });

  it('skips blank lines and turns null (NaN) into an absent field', () => {
    const text = `${good[0]}\n\n${good[1]!.replace(/"loss":[^,]+/, '"loss":null')}\r\n`;
    const lines = parseMetrics(text);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.loss).toBeCloseTo(1.5, 12);
    expect('loss' in lines[1]!).toBe(false);
  });

  it('drops a torn last line (a run killed while writing it) and reports it', () => {
    const torn = good[2]!.slice(0, 25);
    const read = readMetrics(`${good[0]}\n${good[1]}\n${torn}`);
    expect(read.lines.map((l) => l.epoch)).toEqual([0, 1]);
    expect(read.torn).toEqual({ line: 3, text: torn });
    // trailing blank lines do not hide it
    expect(readMetrics(`${good[0]}\n${torn}\n\n`).torn?.line).toBe(2);
    expect(readMetrics(formatMetrics([line(0)])).torn).toBeUndefined();
  });

  it.each([
    ['a broken middle line', `${good[0]}\n{oops\n${good[1]}`, /line 2 is not JSON/],
    ['a non-object', '[1,2]', /line 1 is not a JSON object/],
    [
      'an unknown model',
      '{"model":"fp","epoch":0}',
      /line 1: "model" must be "csq" or "float", got "fp"/,
    ],
    ['a negative epoch', '{"model":"csq","epoch":-1}', /"epoch" must be an integer >= 0/],
    [
      'a string loss',
      `${good[0]!.replace('"loss":', '"loss":"oops","x":')}`,
      /"loss" must be a number, got "oops"/,
    ],
    ['bad layerBits', '{"model":"csq","epoch":0,"layerBits":[1]}', /"layerBits" must map/],
  ])('refuses %s, naming the file and line', (_, text, message) => {
    const e = thrown(() => parseMetrics(text, 'run/metrics.jsonl'));
    expect(e).toBeInstanceOf(CsqError);
    expect(e.code).toBe('CSQ_BAD_METRICS');
    expect(e.message).toMatch(/^run\/metrics\.jsonl line \d/);
    expect(e.message).toMatch(message);
  });
});
