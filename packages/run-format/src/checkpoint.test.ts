import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';

describe('checkpoint file', () => {
  const tensors = [
    { name: 'a', shape: [2, 2], values: Float32Array.from([1, 2, 3, 4]) },
    { name: 'b', shape: [3], values: Float32Array.from([-0.5, 1e-8, 7]) },
  ];

  it('round-trips header and tensors exactly', () => {
    const bytes = encodeCheckpoint({ epoch: 3, note: 'x' }, tensors);
    const back = decodeCheckpoint<{ epoch: number; note: string }>(bytes, 'test');
    expect(back.header).toEqual({ epoch: 3, note: 'x' });
    expect(back.tensors.get('a')).toEqual({ shape: [2, 2], values: tensors[0]!.values });
    expect(back.tensors.get('b')).toEqual({ shape: [3], values: tensors[1]!.values });
  });

  it('detects any corruption, truncation or foreign file with a clear message', () => {
    const bytes = encodeCheckpoint({ epoch: 1 }, tensors);
    for (const pos of [0, 10, 20, bytes.length - 10, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[pos] = bad[pos]! ^ 0x40;
      expect(() => decodeCheckpoint(bad, 'run/ck')).toThrow(/checkpoint run\/ck is unusable/);
    }
    expect(() => decodeCheckpoint(bytes.slice(0, bytes.length - 5), 'ck')).toThrow(
      /checksum mismatch|unusable/,
    );
    expect(() =>
      decodeCheckpoint(
        new TextEncoder().encode('{"hello": 1, "this is": "not a checkpoint"}'),
        'ck',
      ),
    ).toThrow(/bad magic/);
  });
});
