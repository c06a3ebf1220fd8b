import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import '../index.js';

afterAll(() => useBackend('cpu'));

describe('Identity and same-dtype Cast share data on wasm (as on cpu)', () => {
  it('clone and cast share the memory, keep the values, and free it with the last holder', async () => {
    await useBackend('wasm');
    const before = tf.memory().numBytes;
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const c = tf.clone(x);
    const f = tf.cast(x, 'float32');
    const i = tf.cast(x, 'int32'); // a real cast: new data
    const backend = tf.backend() as unknown as { getMemoryOffset(id: object): number };
    expect(backend.getMemoryOffset(c.dataId)).toBe(backend.getMemoryOffset(x.dataId));
    expect(backend.getMemoryOffset(f.dataId)).toBe(backend.getMemoryOffset(x.dataId));
    expect(backend.getMemoryOffset(i.dataId)).not.toBe(backend.getMemoryOffset(x.dataId));
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(f.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(i.dataSync())).toEqual([1, 2, 3, 4]);
    expect(i.dtype).toBe('int32');
    tf.dispose([c, f, i]);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('a variable assigned from a clone keeps its own values when the clone source changes', async () => {
    await useBackend('wasm');
    const v = tf.variable(tf.tensor([1, 2]));
    const saved = tf.clone(v);
    v.assign(tf.tensor([5, 6]));
    expect(Array.from(saved.dataSync())).toEqual([1, 2]);
    expect(Array.from(v.dataSync())).toEqual([5, 6]);
    tf.dispose([v, saved]);
  });
});
