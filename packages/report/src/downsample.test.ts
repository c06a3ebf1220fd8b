import { describe, expect, it } from 'vitest';
import { downsample, extent, lineChart } from './svg.js';

describe('charts over very long series', () => {
  it('extent has no argument-count limit', () => {
    const xs = Array.from({ length: 1_000_000 }, (_, i) => 499_999 - i);
    expect(extent(xs)).toEqual([-500_000, 499_999]);
    expect(extent([3, -2, 5])).toEqual([-2, 5]);
  });

  it('downsample keeps first, last, each bucket’s lowest and highest point, in order', () => {
    const pts: Array<[number, number]> = Array.from({ length: 10 }, (_, i) => [i, i % 3]);
    // 2 buckets of 5: [0..4] y = 0,1,2,0,1 -> lo at 0, hi at 2; [5..9] y = 2,0,1,2,0 -> lo 6, hi 5
    expect(downsample(pts, 4)).toEqual([
      [0, 0],
      [2, 2],
      [5, 2],
      [6, 0],
      [9, 0],
    ]);
    expect(downsample(pts, 20)).toEqual(pts);
  });

  it('a line chart of 1M points draws at most 2000 of them, spike included', () => {
    const points: Array<[number, number]> = Array.from({ length: 1_000_000 }, (_, i) => [i, 1]);
    points[123_456] = [123_456, 50];
    const svg = lineChart({
      id: 'c',
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ id: 's', label: 's', color: '#000', points }],
    });
    const drawn = /points="([^"]*)"/.exec(svg)![1]!.split(' ');
    expect(drawn.length).toBeLessThanOrEqual(2002);
    expect(svg).toMatch(/data-y-domain="0 50"/);
  });
});
