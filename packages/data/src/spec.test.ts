import { CsqError } from '@csq/core';
import { describe, expect, it } from 'vitest';
import { formatDataSpec, parseDataSpec } from './spec.js';

describe('parseDataSpec', () => {
  it('parses every form', () => {
    expect(parseDataSpec(undefined)).toEqual({ kind: 'mnist' });
    expect(parseDataSpec('')).toEqual({ kind: 'mnist' });
    expect(parseDataSpec(' MNIST ')).toEqual({ kind: 'mnist' });
    expect(parseDataSpec('idx:/data/fashion')).toEqual({ kind: 'idx', dir: '/data/fashion' });
    expect(parseDataSpec('cifar10:./c10')).toEqual({ kind: 'cifar10', dir: './c10' });
    expect(parseDataSpec('imagefolder:/d/img:net')).toEqual({
      kind: 'imagefolder',
      dir: '/d/img:net',
    });
  });

  it('round-trips through formatDataSpec', () => {
    for (const s of ['mnist', 'idx:a/b', 'cifar10:c', 'imagefolder:/x']) {
      expect(formatDataSpec(parseDataSpec(s))).toBe(s);
    }
  });

  it('rejects unknown schemes and missing dirs, listing the valid forms', () => {
    for (const bad of ['cifar100:/x', 'imagenet', 'idx:', 'cifar10', 'imagefolder:  ']) {
      let error: unknown;
      try {
        parseDataSpec(bad);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CsqError);
      expect((error as CsqError).code).toBe('CSQ_DATA_BAD_SPEC');
      for (const form of ['mnist', 'idx:DIR', 'cifar10:DIR', 'imagefolder:DIR']) {
        expect((error as Error).message).toContain(form);
      }
    }
  });
});
