import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileRunStore } from './run-store.js';

const root = mkdtempSync(join(tmpdir(), 'csq-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('FileRunStore', () => {
  it('writes whole files atomically into nested folders and reads them back', async () => {
    const store = fileRunStore(join(root, 'run1'));
    expect(await store.readText('missing.txt')).toBeUndefined();
    await store.writeText('a/b.json', '{"x":1}');
    await store.writeBytes('checkpoint/csq.ckpt', Uint8Array.from([1, 2, 3]));
    await store.appendText('log.txt', 'one\n');
    await store.appendText('log.txt', 'two\n');
    expect(await store.readText('a/b.json')).toBe('{"x":1}');
    expect(Array.from((await store.readBytes('checkpoint/csq.ckpt'))!)).toEqual([1, 2, 3]);
    expect(await store.readText('log.txt')).toBe('one\ntwo\n');
    // no temp files left behind
    expect(readdirSync(join(root, 'run1', 'checkpoint'))).toEqual(['csq.ckpt']);
    await expect(store.writeText('../escape.txt', 'x')).rejects.toThrow(/inside the run directory/);
  });

  it('updateText is atomic across concurrent writers (lock file)', async () => {
    const a = fileRunStore(join(root, 'run2'));
    const b = fileRunStore(join(root, 'run2'));
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? a : b).updateText('metrics.jsonl', (old) => `${old ?? ''}${i}\n`),
      ),
    );
    const lines = (await a.readText('metrics.jsonl'))!
      .trim()
      .split('\n')
      .map(Number)
      .sort((x, y) => x - y);
    expect(lines).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(existsSync(join(root, 'run2', 'metrics.jsonl.lock'))).toBe(false);
  });

  it('says clearly when the run directory cannot be written', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(fileRunStore(file).writeText('config.json', '{}')).rejects.toThrow();
  });
});
