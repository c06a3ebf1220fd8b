import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { main } from '../src/main.js';

/** Runs the csq command in-process and captures what it prints. */
export async function csq(
  args: string[],
  opts: { tty?: boolean; onOut?: (text: string) => void } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: {
      write: (t) => {
        out += t;
        opts.onOut?.(t);
      },
      isTTY: opts.tty ?? false,
    },
    err: {
      write: (t) => {
        err += t;
      },
      isTTY: false,
    },
  });
  return { code, out, err };
}

/** A temporary folder removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Flags of a quick quickstart run (2 epochs over a few real digits). */
export const QUICK = [
  '--recipe',
  'quickstart',
  '--epochs',
  '2',
  '--limit-train',
  '96',
  '--batch',
  '32',
  '--backend',
  'wasm',
  '--quiet',
];
